//! What the write path reports: decisions, the change journal, the conflict
//! log and explanations.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Claim, ClaimStatus, Field, Provenance, Reason, Source, Value, Verdict, View};
use crate::{Asset, ConfigurationItem, ResourceId};

/// What [`Estate::plan`](crate::Estate::plan) and
/// [`Estate::apply`](crate::Estate::apply) decided for one claim of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    position: usize,
    claim: Claim,
    outcome: Outcome,
    before: Option<Value>,
    after: Option<Value>,
}

/// The kind of a [`Decision`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// The policy accepted the claim.
    Accepted {
        /// Why.
        reason: Reason,
        /// The rule applied.
        rule: Arc<str>,
    },
    /// The policy rejected the claim; it is in the conflict log.
    Rejected {
        /// Why.
        reason: Reason,
        /// The rule applied.
        rule: Arc<str>,
    },
    /// The claim withdrew its source's claims on the field.
    Retracted,
    /// The same claim was already recorded: nothing changed.
    Duplicate,
}

impl Outcome {
    /// The outcome a policy's verdict gives.
    pub(crate) fn decided(verdict: &Verdict) -> Self {
        let (reason, rule) = (verdict.reason().clone(), Arc::clone(verdict.rule_label()));
        if verdict.accepted() {
            Self::Accepted { reason, rule }
        } else {
            Self::Rejected { reason, rule }
        }
    }
}

impl Decision {
    pub(crate) fn new(
        position: usize,
        claim: Claim,
        outcome: Outcome,
        before: Option<Value>,
        after: Option<Value>,
    ) -> Self {
        Self {
            position,
            claim,
            outcome,
            before,
            after,
        }
    }

    /// The claim's position in its batch (counting every change).
    #[must_use]
    pub fn position(&self) -> usize {
        self.position
    }

    /// The claim.
    #[must_use]
    pub fn claim(&self) -> &Claim {
        &self.claim
    }

    /// What was decided.
    #[must_use]
    pub fn outcome(&self) -> &Outcome {
        &self.outcome
    }

    /// Whether the policy accepted the claim.
    #[must_use]
    pub fn accepted(&self) -> bool {
        matches!(self.outcome, Outcome::Accepted { .. })
    }

    /// The field's value before the claim.
    #[must_use]
    pub fn before(&self) -> Option<&Value> {
        self.before.as_ref()
    }

    /// The field's value after the claim (the same as before when it was
    /// rejected or changed nothing).
    #[must_use]
    pub fn after(&self) -> Option<&Value> {
        self.after.as_ref()
    }

    /// Whether the claim changed the field's value.
    #[must_use]
    pub fn changed(&self) -> bool {
        self.before != self.after
    }
}

/// The decisions on a batch's claims, in batch order; returned alike by
/// [`Estate::plan`](crate::Estate::plan) (the dry run) and
/// [`Estate::apply`](crate::Estate::apply).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Report {
    decisions: Vec<Decision>,
}

impl Report {
    pub(crate) fn new(decisions: Vec<Decision>) -> Self {
        Self { decisions }
    }

    /// Every decision, in batch order.
    #[must_use]
    pub fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    /// The accepted claims.
    pub fn accepted(&self) -> impl Iterator<Item = &Decision> {
        self.decisions.iter().filter(|d| d.accepted())
    }

    /// The rejected claims.
    pub fn rejected(&self) -> impl Iterator<Item = &Decision> {
        self.decisions
            .iter()
            .filter(|d| matches!(d.outcome, Outcome::Rejected { .. }))
    }

    /// The decisions that changed a value.
    pub fn changes(&self) -> impl Iterator<Item = &Decision> {
        self.decisions.iter().filter(|d| d.changed())
    }
}

/// One immutable record of the change journal: a field's value changed.
///
/// The journal is append-only; its sequence numbers count from 1 without
/// gaps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    sequence: u64,
    resource: ResourceId,
    field: Field,
    old: Option<Value>,
    new: Option<Value>,
    source: Source,
    observed: DateTime<Utc>,
    rule: Arc<str>,
}

impl JournalEntry {
    pub(crate) fn new(
        sequence: u64,
        resource: ResourceId,
        field: Field,
        (old, new): (Option<Value>, Option<Value>),
        provenance: &Provenance,
    ) -> Self {
        Self {
            sequence,
            resource,
            field,
            old,
            new,
            source: provenance.source().clone(),
            observed: provenance.observed(),
            rule: Arc::clone(provenance.rule_label()),
        }
    }

    /// The entry's number, from 1.
    #[must_use]
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// The resource whose field changed.
    #[must_use]
    pub fn resource(&self) -> &ResourceId {
        &self.resource
    }

    /// The field that changed.
    #[must_use]
    pub fn field(&self) -> &Field {
        &self.field
    }

    /// The value before.
    #[must_use]
    pub fn old(&self) -> Option<&Value> {
        self.old.as_ref()
    }

    /// The value after.
    #[must_use]
    pub fn new_value(&self) -> Option<&Value> {
        self.new.as_ref()
    }

    /// The source whose claim now holds the field.
    #[must_use]
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// When that source observed the value.
    #[must_use]
    pub fn observed(&self) -> DateTime<Utc> {
        self.observed
    }

    /// The rule that accepted it.
    #[must_use]
    pub fn rule(&self) -> &str {
        &self.rule
    }
}

/// One record of the removal log: a record removed from one view, with
/// every claim its fields had. Removing a record never erases its history:
/// the journal keeps its field changes, the conflict log its rejected
/// claims, and this entry the record as it was and the claims that shaped
/// it.
///
/// The log is append-only; its sequence numbers count from 1 without gaps,
/// and [`after`](Self::after) places each removal in the journal.
///
/// # Example
///
/// ```
/// use itam_cmdb::{sample, ResourceId};
///
/// let mut estate = sample::estate();
/// let vm = ResourceId::new(sample::PAYMENT_VM)?;
/// let removed = estate.remove_asset(&vm)?;
/// let entry = estate.removals().last().expect("the removal is logged");
/// assert_eq!(entry.resource(), &vm);
/// assert_eq!(entry.asset(), Some(&removed));
/// assert_eq!(entry.after(), estate.journal().len() as u64);
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Removal {
    sequence: u64,
    after: u64,
    record: RemovedRecord,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    claims: Vec<(Claim, ClaimStatus)>,
}

/// The record a [`Removal`] took out of its register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RemovedRecord {
    /// An asset, removed from the asset register.
    Asset(Box<Asset>),
    /// A configuration item, removed from the CMDB (with its relationships).
    Ci(Box<ConfigurationItem>),
}

impl RemovedRecord {
    /// The record's id.
    #[must_use]
    pub fn id(&self) -> &ResourceId {
        match self {
            Self::Asset(asset) => asset.id(),
            Self::Ci(ci) => ci.id(),
        }
    }

    /// The view the record belonged to.
    #[must_use]
    pub fn view(&self) -> View {
        match self {
            Self::Asset(_) => View::Asset,
            Self::Ci(_) => View::Ci,
        }
    }
}

impl Removal {
    pub(crate) fn new(
        sequence: u64,
        after: u64,
        record: RemovedRecord,
        claims: Vec<(Claim, ClaimStatus)>,
    ) -> Self {
        Self {
            sequence,
            after,
            record,
            claims,
        }
    }

    /// The entry's number in the removal log, from 1.
    #[must_use]
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// How many journal entries were written before the removal: it came
    /// after journal entry `after` (0: before any) and before the next.
    #[must_use]
    pub fn after(&self) -> u64 {
        self.after
    }

    /// The removed record's id.
    #[must_use]
    pub fn resource(&self) -> &ResourceId {
        self.record.id()
    }

    /// The view the record was removed from.
    #[must_use]
    pub fn view(&self) -> View {
        self.record.view()
    }

    /// The removed record, as it was.
    #[must_use]
    pub fn record(&self) -> &RemovedRecord {
        &self.record
    }

    /// The removed asset, when the removal was of an asset.
    #[must_use]
    pub fn asset(&self) -> Option<&Asset> {
        match &self.record {
            RemovedRecord::Asset(asset) => Some(asset),
            RemovedRecord::Ci(_) => None,
        }
    }

    /// The removed configuration item, when the removal was of one.
    #[must_use]
    pub fn ci(&self) -> Option<&ConfigurationItem> {
        match &self.record {
            RemovedRecord::Ci(ci) => Some(ci),
            RemovedRecord::Asset(_) => None,
        }
    }

    /// Every claim the record's fields had when it was removed, with what
    /// became of it: by field, then in replay order.
    #[must_use]
    pub fn claims(&self) -> &[(Claim, ClaimStatus)] {
        &self.claims
    }
}

/// A rejected claim, kept with the reason it lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    claim: Claim,
    reason: Reason,
    rule: Arc<str>,
    /// The value that was kept.
    kept: Option<Value>,
}

impl Conflict {
    /// `claim`, rejected by `verdict`, and the value the field kept.
    pub(crate) fn new(claim: Claim, verdict: &Verdict, kept: Option<Value>) -> Self {
        Self {
            claim,
            reason: verdict.reason().clone(),
            rule: Arc::clone(verdict.rule_label()),
            kept,
        }
    }

    /// The rejected claim.
    #[must_use]
    pub fn claim(&self) -> &Claim {
        &self.claim
    }

    /// Why it lost.
    #[must_use]
    pub fn reason(&self) -> &Reason {
        &self.reason
    }

    /// The rule applied.
    #[must_use]
    pub fn rule(&self) -> &str {
        &self.rule
    }

    /// The value the field kept.
    #[must_use]
    pub fn kept(&self) -> Option<&Value> {
        self.kept.as_ref()
    }
}

/// Why a field holds its value: see [`Estate::explain`](crate::Estate::explain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    resource: ResourceId,
    field: Field,
    value: Option<Value>,
    provenance: Option<Provenance>,
    claims: Vec<(Claim, ClaimStatus)>,
}

impl Explanation {
    pub(crate) fn new(
        resource: ResourceId,
        field: Field,
        value: Option<Value>,
        provenance: Option<Provenance>,
        claims: Vec<(Claim, ClaimStatus)>,
    ) -> Self {
        Self {
            resource,
            field,
            value,
            provenance,
            claims,
        }
    }

    /// The resource.
    #[must_use]
    pub fn resource(&self) -> &ResourceId {
        &self.resource
    }

    /// The field.
    #[must_use]
    pub fn field(&self) -> &Field {
        &self.field
    }

    /// The current value.
    #[must_use]
    pub fn value(&self) -> Option<&Value> {
        self.value.as_ref()
    }

    /// Who set it; `None` when no claim did (it came with the record).
    #[must_use]
    pub fn provenance(&self) -> Option<&Provenance> {
        self.provenance.as_ref()
    }

    /// Every claim on the field, in the order they were decided, each with
    /// what became of it.
    #[must_use]
    pub fn claims(&self) -> &[(Claim, ClaimStatus)] {
        &self.claims
    }
}

impl std::fmt::Display for Explanation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = self
            .value
            .as_ref()
            .map_or_else(|| "(empty)".to_owned(), ToString::to_string);
        writeln!(f, "{} of `{}` is {value}", self.field, self.resource)?;
        match &self.provenance {
            Some(p) => writeln!(
                f,
                "  set by {} (observed {}) under rule {}",
                p.source(),
                p.observed(),
                p.rule()
            )?,
            None => writeln!(f, "  as recorded when the record was inserted")?,
        }
        for (claim, status) in &self.claims {
            let what = match status {
                ClaimStatus::Accepted(v) => format!("accepted: {}", v.reason()),
                ClaimStatus::Rejected(v) => format!("rejected: {}", v.reason()),
                ClaimStatus::Withdrawn => "withdrawn by its source".to_owned(),
                ClaimStatus::Retraction => "retraction".to_owned(),
            };
            writeln!(
                f,
                "  {} {} at {}: {what}",
                claim.source(),
                claim.update(),
                claim.observed()
            )?;
        }
        Ok(())
    }
}
