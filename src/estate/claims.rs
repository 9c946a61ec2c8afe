//! The claim half of the write path: staging a batch's claims against the
//! estate (the dry run), then committing what was staged.

use std::collections::HashMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::{Change, Estate, Validation};
use crate::asset::check_value;
use crate::ownership::{
    Added, Claim, ClaimStatus, ColumnAgreement, Conflict, Decision, Explanation, Field,
    FieldOwnership, FieldState, JournalEntry, Outcome, Provenance, Update, Value, View,
};
use crate::{Asset, ConfigurationItem, Error, ResourceId};

/// The estate's ownership state: the agreement, every field's claims, the
/// append-only journal and the conflict log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Ownership {
    #[serde(default)]
    pub(crate) agreement: ColumnAgreement,
    /// The claimed fields of each resource, sorted by resource id when
    /// serialised.
    #[serde(default, with = "sorted")]
    pub(crate) fields: HashMap<ResourceId, Vec<FieldState>>,
    #[serde(default)]
    pub(crate) journal: Vec<JournalEntry>,
    #[serde(default)]
    pub(crate) conflicts: Vec<Conflict>,
}

impl Eq for FieldState {}

impl Ownership {
    fn state(&self, id: &str, field: &Field) -> Option<&FieldState> {
        self.fields.get(id)?.iter().find(|s| &s.field == field)
    }

    /// Forgets the claims on one view of a removed record (the journal and
    /// the conflict log keep their history).
    pub(crate) fn forget(&mut self, id: &str, view: View) {
        if let Some(states) = self.fields.get_mut(id) {
            states.retain(|s| s.field.view() != view);
            if states.is_empty() {
                self.fields.remove(id);
            }
        }
    }

    /// Checks a deserialised ownership state against the records: every
    /// claimed field belongs to a record that exists, under the right id;
    /// every claim is of the field's type; the stored outcome is one its
    /// claims give (see [`FieldState::check`]); and the record holds that
    /// value.
    pub(crate) fn check(&self, estate: &Estate) -> Result<(), Error> {
        for (id, states) in &self.fields {
            for (n, state) in states.iter().enumerate() {
                let value = match &state.field {
                    Field::Asset(f) => estate
                        .assets
                        .0
                        .get(id.as_str())
                        .ok_or_else(|| Error::UnknownAsset(id.clone()))?
                        .field_value(f),
                    Field::Ci(f) => estate
                        .cmdb
                        .get(id)
                        .ok_or_else(|| Error::UnknownCi(id.clone()))?
                        .field_value(f),
                };
                let refuse = |why: &str| Error::InvalidField {
                    id: id.clone(),
                    field: state.field.to_string(),
                    reason: format!("the snapshot's claims do not match the record: {why}"),
                };
                if states[..n].iter().any(|s| s.field == state.field) {
                    return Err(refuse("the field is listed twice"));
                }
                if state
                    .claims
                    .iter()
                    .any(|c| c.resource() != id || c.field() != &state.field)
                {
                    return Err(refuse("a claim is of another resource or field"));
                }
                for claim in &state.claims {
                    if let Update::Set(v) = claim.update() {
                        check_value(id, &state.field, Some(v))?;
                    }
                }
                state.check().map_err(refuse)?;
                if value != state.value {
                    return Err(refuse("the record holds another value"));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.journal.is_empty() && self.conflicts.is_empty()
    }
}

mod sorted {
    use std::collections::{BTreeMap, HashMap};

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::ResourceId;
    use crate::ownership::FieldState;

    pub(super) fn serialize<S: Serializer>(
        fields: &HashMap<ResourceId, Vec<FieldState>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        fields
            .iter()
            .collect::<BTreeMap<_, _>>()
            .serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<HashMap<ResourceId, Vec<FieldState>>, D::Error> {
        Ok(
            BTreeMap::<ResourceId, Vec<FieldState>>::deserialize(deserializer)?
                .into_iter()
                .collect(),
        )
    }
}

/// One resource's records and claimed fields as a batch leaves them.
#[derive(Debug, Default)]
struct StagedResource {
    asset: Option<Asset>,
    ci: Option<ConfigurationItem>,
    fields: Vec<FieldState>,
    /// The last claim touching the resource, to place record-level problems.
    last: usize,
}

impl StagedResource {
    /// Loads the record of the field's view (from the batch's inserts or
    /// the estate) on first use, and returns the field's current value.
    fn load(
        &mut self,
        estate: &Estate,
        inserted: &Inserted<'_>,
        id: &ResourceId,
        field: &Field,
    ) -> Result<Option<Value>, Error> {
        Ok(match field {
            Field::Asset(f) => {
                if self.asset.is_none() {
                    let asset = inserted
                        .assets
                        .get(id.as_str())
                        .map(|a| (*a).clone())
                        .or_else(|| estate.assets.0.get(id.as_str()).cloned())
                        .ok_or_else(|| Error::UnknownAsset(id.clone()))?;
                    self.asset = Some(asset);
                }
                self.asset.as_ref().and_then(|a| a.field_value(f))
            }
            Field::Ci(f) => {
                if self.ci.is_none() {
                    let ci = inserted
                        .cis
                        .get(id.as_str())
                        .map(|c| (*c).clone())
                        .or_else(|| estate.cmdb.get(id).cloned())
                        .ok_or_else(|| Error::UnknownCi(id.clone()))?;
                    self.ci = Some(ci);
                }
                self.ci.as_ref().and_then(|c| c.field_value(f))
            }
        })
    }

    /// Writes a decided value into the staged record of the field's view.
    fn write(&mut self, field: &Field, value: Option<Value>) {
        match field {
            Field::Asset(f) => {
                if let Some(asset) = self.asset.as_mut() {
                    asset.set_field_value(f, value);
                }
            }
            Field::Ci(f) => {
                if let Some(ci) = self.ci.as_mut() {
                    ci.set_field_value(f, value);
                }
            }
        }
    }
}

/// A journal entry waiting for its sequence number: resource, field, old
/// and new value, and the provenance of the new value.
type PendingEntry = (ResourceId, Field, Option<Value>, Option<Value>, Provenance);

/// A batch's claims, decided but not yet written.
#[derive(Debug, Default)]
pub(crate) struct StagedClaims {
    resources: IndexMap<ResourceId, StagedResource>,
    decisions: Vec<Decision>,
    journal: Vec<PendingEntry>,
    conflicts: Vec<Conflict>,
}

impl StagedClaims {
    pub(crate) fn decisions(self) -> Vec<Decision> {
        self.decisions
    }
}

/// The records a batch inserts, by id, for claims on them.
struct Inserted<'a> {
    assets: HashMap<&'a str, &'a Asset>,
    cis: HashMap<&'a str, &'a ConfigurationItem>,
}

impl<'a> Inserted<'a> {
    fn new(changes: &'a [Change]) -> Self {
        let mut inserted = Self {
            assets: HashMap::new(),
            cis: HashMap::new(),
        };
        for change in changes {
            match change {
                Change::InsertAsset(a) => {
                    inserted.assets.insert(a.id().as_str(), a);
                }
                Change::InsertCi(c) => {
                    inserted.cis.insert(c.id().as_str(), c);
                }
                _ => {}
            }
        }
        inserted
    }
}

impl Estate {
    /// Decides every claim of `changes` against the estate as the batch's
    /// other changes leave it; problems go to `problems`.
    pub(super) fn stage_claims(
        &self,
        check: &Validation<'_>,
        changes: &[Change],
        policy: &dyn FieldOwnership,
        problems: &mut Vec<(usize, Error)>,
    ) -> StagedClaims {
        let mut staged = StagedClaims::default();
        let mut inserted = None;
        for (at, change) in changes.iter().enumerate() {
            let Change::Claim(claim) = change else {
                continue;
            };
            let inserted = inserted.get_or_insert_with(|| Inserted::new(changes));
            if let Err(problem) = self.stage_claim(check, inserted, &mut staged, at, claim, policy)
            {
                problems.push((at, problem));
            }
        }
        for resource in staged.resources.values_mut() {
            let checked = (
                resource.asset.take().map(Asset::checked).transpose(),
                resource
                    .ci
                    .take()
                    .map(ConfigurationItem::checked)
                    .transpose(),
            );
            match checked {
                (Ok(asset), Ok(ci)) => {
                    resource.asset = asset;
                    resource.ci = ci;
                }
                (Err(e), _) | (_, Err(e)) => problems.push((resource.last, e)),
            }
        }
        staged
    }

    fn stage_claim(
        &self,
        check: &Validation<'_>,
        inserted: &Inserted<'_>,
        staged: &mut StagedClaims,
        at: usize,
        claim: &Claim,
        policy: &dyn FieldOwnership,
    ) -> Result<(), Error> {
        let id = claim.resource();
        let field = claim.field();
        match claim.update() {
            Update::Set(value) => check_value(id, field, Some(value))?,
            Update::Clear => check_value(id, field, None)?,
            Update::Retract => {}
        }
        let (present, fresh) = match field.view() {
            View::Asset => (
                check.has_asset(id),
                inserted.assets.contains_key(id.as_str()),
            ),
            View::Ci => (check.has_ci(id), inserted.cis.contains_key(id.as_str())),
        };
        if !present {
            return Err(match field.view() {
                View::Asset => Error::UnknownAsset(id.clone()),
                View::Ci => Error::UnknownCi(id.clone()),
            });
        }
        let resource = staged.resources.entry(id.clone()).or_default();
        resource.last = at;
        let current = resource.load(self, inserted, id, field)?;
        let slot = if let Some(slot) = resource.fields.iter().position(|s| &s.field == field) {
            slot
        } else {
            let existing = if fresh {
                None
            } else {
                self.ownership.state(id.as_str(), field).cloned()
            };
            resource
                .fields
                .push(existing.unwrap_or_else(|| FieldState::new(field.clone(), current)));
            resource.fields.len() - 1
        };
        let state = &mut resource.fields[slot];
        let before = state.value.clone();
        let added = state.add(claim.clone(), policy);
        let after = state.value.clone();
        let (status, rejected_again) = match added {
            Added::Duplicate => (None, Vec::new()),
            Added::Decided {
                status,
                rejected_again,
            } => (Some(status), rejected_again),
        };
        // Claims that a late claim or a retraction made lose are logged
        // like any other rejected claim: nothing is dropped silently.
        for j in rejected_again {
            if let ClaimStatus::Rejected(v) = &state.statuses[j] {
                staged.conflicts.push(Conflict::new(
                    state.claims[j].clone(),
                    v.reason().clone(),
                    v.rule().to_owned(),
                    after.clone(),
                ));
            }
        }
        let outcome = match status {
            None => Outcome::Duplicate,
            Some(ClaimStatus::Accepted(v)) => Outcome::Accepted {
                reason: v.reason().clone(),
                rule: v.rule().to_owned(),
            },
            Some(ClaimStatus::Rejected(v)) => {
                staged.conflicts.push(Conflict::new(
                    claim.clone(),
                    v.reason().clone(),
                    v.rule().to_owned(),
                    after.clone(),
                ));
                Outcome::Rejected {
                    reason: v.reason().clone(),
                    rule: v.rule().to_owned(),
                }
            }
            Some(_) => Outcome::Retracted,
        };
        if before != after {
            let provenance = state.provenance.clone().unwrap_or_else(|| {
                Provenance::new(
                    claim.source().clone(),
                    claim.observed(),
                    "retraction".into(),
                )
            });
            resource.write(field, after.clone());
            staged.journal.push((
                id.clone(),
                field.clone(),
                before.clone(),
                after.clone(),
                provenance,
            ));
        }
        staged
            .decisions
            .push(Decision::new(at, claim.clone(), outcome, before, after));
        Ok(())
    }

    /// Writes what [`stage_claims`](Self::stage_claims) decided.
    pub(super) fn commit_claims(&mut self, staged: StagedClaims) -> Vec<Decision> {
        for (id, resource) in staged.resources {
            if let Some(asset) = resource.asset {
                if let Some(slot) = self.assets.0.get_mut(id.as_str()) {
                    *slot = asset;
                }
            }
            if let Some(ci) = resource.ci {
                self.cmdb.replace_item(ci);
            }
            let states = self.ownership.fields.entry(id).or_default();
            for state in resource.fields {
                match states.iter_mut().find(|s| s.field == state.field) {
                    Some(slot) => *slot = state,
                    None => states.push(state),
                }
            }
        }
        let journal = &mut self.ownership.journal;
        for (id, field, old, new, provenance) in staged.journal {
            let sequence = u64::try_from(journal.len()).unwrap_or(u64::MAX - 1) + 1;
            journal.push(JournalEntry::new(
                sequence,
                id,
                field,
                (old, new),
                &provenance,
            ));
        }
        self.ownership.conflicts.extend(staged.conflicts);
        staged.decisions
    }

    /// Why `field` of `resource` holds its value: the value, who set it,
    /// and every claim on it with what became of it.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownAsset`] or [`Error::UnknownCi`] if the resource has no
    /// record in the field's view.
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::ownership::{CiField, Field};
    /// use itam_cmdb::{sample, ResourceId};
    ///
    /// let estate = sample::estate();
    /// let id = ResourceId::new(sample::PAYMENT_VM)?;
    /// let why = estate.explain(&id, &Field::Ci(CiField::Status))?;
    /// assert!(why.provenance().is_none(), "no claim has touched it yet");
    /// assert!(why.to_string().starts_with("ci.status of `"));
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    pub fn explain(&self, resource: &ResourceId, field: &Field) -> Result<Explanation, Error> {
        let value = match field {
            Field::Asset(f) => self
                .assets
                .0
                .get(resource.as_str())
                .ok_or_else(|| Error::UnknownAsset(resource.clone()))?
                .field_value(f),
            Field::Ci(f) => self
                .cmdb
                .get(resource)
                .ok_or_else(|| Error::UnknownCi(resource.clone()))?
                .field_value(f),
        };
        let state = self.ownership.state(resource.as_str(), field);
        let claims = state
            .map(|s| {
                s.claims
                    .iter()
                    .cloned()
                    .zip(s.statuses.iter().cloned())
                    .collect()
            })
            .unwrap_or_default();
        Ok(Explanation::new(
            resource.clone(),
            field.clone(),
            value,
            state.and_then(|s| s.provenance.clone()),
            claims,
        ))
    }

    /// The change journal: every accepted change of a field's value, oldest
    /// first. Append-only.
    #[must_use]
    pub fn journal(&self) -> &[JournalEntry] {
        &self.ownership.journal
    }

    /// The conflict log: every rejected claim with the reason it lost,
    /// oldest first. Append-only.
    #[must_use]
    pub fn conflicts(&self) -> &[Conflict] {
        &self.ownership.conflicts
    }

    /// The column agreement that decides claims (see
    /// [`apply_with`](Self::apply_with) for another policy).
    #[must_use]
    pub fn agreement(&self) -> &ColumnAgreement {
        &self.ownership.agreement
    }

    /// Replaces the column agreement. Claims already decided keep their
    /// outcome; the new agreement decides the claims that come next (and a
    /// field's earlier claims when a late claim makes it decide them again).
    pub fn set_agreement(&mut self, agreement: ColumnAgreement) {
        self.ownership.agreement = agreement;
    }
}
