//! Comparing the two views of every resource that has both.

use chrono::{DateTime, Utc};

use super::{Batch, Estate};
use crate::ownership::{
    Claim, Field, FieldPair, Finding, ReconcileRules, Reconciliation, Report, Source, Update, View,
    status_agrees,
};
use crate::{Error, ResourceId};

impl Estate {
    /// Compares the two views of every resource that has both: each paired
    /// field of `rules`, and the asset's lifecycle against the CI's status
    /// (see [`status_agrees`]). Returns the findings and the claims that
    /// resolve the field mismatches by the rules' authority, observed at
    /// `as_of`; status mismatches are reported only.
    ///
    /// A resolving claim comes from the source that set the authoritative
    /// value (its [provenance](crate::ownership::Provenance)), or from the
    /// automated source `reconciliation` when no claim set it, so the
    /// estate's agreement judges it like any other claim.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use itam_cmdb::ownership::{Finding, ReconcileRules};
    /// use itam_cmdb::sample;
    ///
    /// let mut estate = sample::estate();
    /// let now = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap();
    /// let found = estate.reconcile(&ReconcileRules::standard(), now);
    /// // The reporting VM was retired in the CMDB while its asset is still in use.
    /// assert!(found.findings().iter().any(|f| matches!(f, Finding::StatusMismatch { resource, .. }
    ///     if resource.as_str() == sample::DECOMMISSIONED_VM)));
    /// estate.apply(found.into_resolution())?;
    /// let again = estate.reconcile(&ReconcileRules::standard(), now);
    /// assert!(again.findings().iter().all(|f| matches!(f, Finding::StatusMismatch { .. })));
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    ///
    /// # Complexity
    ///
    /// O(p · n) expected for p field pairs over the n resources in both views.
    #[must_use]
    pub fn reconcile(&self, rules: &ReconcileRules, as_of: DateTime<Utc>) -> Reconciliation {
        let mut findings = Vec::new();
        let mut batch = Batch::new();
        for asset in &self.assets {
            let Some(ci) = self.cmdb.get(asset.id()) else {
                continue;
            };
            let id = asset.id();
            for pair in rules.pairs() {
                let asset_value = asset.field_value(pair.asset());
                let ci_value = ci.field_value(pair.ci());
                if FieldPair::agree(asset_value.as_ref(), ci_value.as_ref()) {
                    continue;
                }
                let asset_field = Field::Asset(pair.asset().clone());
                let ci_field = Field::Ci(pair.ci().clone());
                let (from, authoritative, to) = match pair.authority() {
                    View::Asset => (asset_value.as_ref(), asset_field, ci_field),
                    View::Ci => (ci_value.as_ref(), ci_field, asset_field),
                };
                let update = match from.and_then(|v| pair.convert(v, to.view())) {
                    Some(value) => Update::Set(value),
                    None => Update::Clear,
                };
                let source = self.resolving_source(id, &authoritative);
                batch.claim(Claim::new(id.clone(), to, update, source, as_of));
                findings.push(Finding::Mismatch {
                    resource: id.clone(),
                    asset_field: pair.asset().clone(),
                    asset_value,
                    ci_field: pair.ci().clone(),
                    ci_value,
                    authority: pair.authority(),
                });
            }
            if !status_agrees(asset.lifecycle(), ci.status()) {
                findings.push(Finding::StatusMismatch {
                    resource: id.clone(),
                    lifecycle: asset.lifecycle(),
                    status: ci.status(),
                });
            }
        }
        Reconciliation::new(findings, batch)
    }

    /// [`reconcile`](Self::reconcile), then apply the resolution.
    ///
    /// # Errors
    ///
    /// As [`apply`](Self::apply); the estate is then unchanged.
    ///
    /// # Complexity
    ///
    /// O(p · n + a) for the reconcile, plus applying its resolution as [`apply`](Self::apply) does.
    pub fn resolve(
        &mut self,
        rules: &ReconcileRules,
        as_of: DateTime<Utc>,
    ) -> Result<Report, Error> {
        let reconciliation = self.reconcile(rules, as_of);
        self.apply(reconciliation.into_resolution())
    }

    fn resolving_source(&self, id: &ResourceId, field: &Field) -> Source {
        self.ownership
            .fields
            .get(id)
            .and_then(|states| states.iter().find(|s| &s.field == field))
            .and_then(|s| s.provenance.as_ref())
            .map_or_else(Source::reconciliation, |p| p.source().clone())
    }
}
