//! The claim half of the write path: staging a batch's claims against the
//! estate (the dry run), then committing what was staged.

use std::collections::hash_map::Entry;

use serde::{Deserialize, Serialize};

use super::{Change, Estate, Validation};
use crate::asset::{self, check_value};
use crate::cmdb;
use crate::ownership::{
    Added, AssetField, Claim, ClaimStatus, ColumnAgreement, Conflict, Decision, Explanation, Field,
    FieldOwnership, FieldState, JournalEntry, Outcome, Provenance, Removal, StagedField,
    StagedView, Update, Value, View,
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
    pub(crate) fields: crate::hash::HashMap<ResourceId, Vec<FieldState>>,
    #[serde(default)]
    pub(crate) journal: Vec<JournalEntry>,
    #[serde(default)]
    pub(crate) conflicts: Vec<Conflict>,
    /// Every removed record with its claims, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) removals: Vec<Removal>,
}

impl Eq for FieldState {}

impl Ownership {
    pub(super) fn state(&self, id: &str, field: &Field) -> Option<&FieldState> {
        self.fields.get(id)?.iter().find(|s| &s.field == field)
    }

    /// Takes the claims on one view of a removed record out of the state,
    /// by field, then in replay order, each with its status; the removal
    /// log keeps them.
    pub(crate) fn forget(&mut self, id: &str, view: View) -> Vec<(Claim, ClaimStatus)> {
        let Some(states) = self.fields.get_mut(id) else {
            return Vec::new();
        };
        let (mut gone, kept): (Vec<_>, Vec<_>) = std::mem::take(states)
            .into_iter()
            .partition(|s| s.field.view() == view);
        if kept.is_empty() {
            self.fields.remove(id);
        } else {
            *states = kept;
        }
        gone.sort_by(|a, b| a.field.cmp(&b.field));
        gone.into_iter()
            .flat_map(|s| s.claims.into_iter().zip(s.statuses))
            .collect()
    }

    /// Whether the state is the default one, which a snapshot may leave
    /// out: no agreement, no claims, no history.
    pub(crate) fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

mod sorted {
    use std::collections::BTreeMap;

    use serde::{Deserializer, Serialize, Serializer};

    use crate::ResourceId;
    use crate::ownership::FieldState;

    pub(super) fn serialize<S: Serializer>(
        fields: &crate::hash::HashMap<ResourceId, Vec<FieldState>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        fields
            .iter()
            .collect::<BTreeMap<_, _>>()
            .serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<crate::hash::HashMap<ResourceId, Vec<FieldState>>, D::Error> {
        let fields: crate::hash::IndexMap<ResourceId, Vec<FieldState>> =
            crate::label::deserialize_unique_map(deserializer, "claimed resource", |_, _| Ok(()))?;
        Ok(fields.into_iter().collect())
    }
}

/// One resource's claimed fields as a batch leaves them. The records stay
/// where they are: fields are independent of one another, so a field's
/// current value is the record's until a claim touches it, and its staged
/// state after. A staged field is layered over the estate's state of the
/// field, which it only reads: staging a claim costs the same however many
/// claims the field already holds.
#[derive(Debug, Default)]
struct StagedResource {
    fields: Vec<StagedField>,
    /// Whether the batch changed the value of each of `fields`.
    changed: Vec<bool>,
    /// The last claim touching the resource, to place record-level problems.
    last: usize,
}

impl StagedResource {
    /// The staged state of `field` if the batch changed its value.
    fn changed(&self, field: &Field) -> Option<&StagedField> {
        self.fields
            .iter()
            .zip(&self.changed)
            .find(|(s, changed)| **changed && &s.field == field)
            .map(|(s, _)| s)
    }

    /// Checks what the batch's claims may have broken in records that were
    /// valid before them, with the errors building the records would give:
    /// the rule of each changed field, in the order the builders check
    /// them, and the rule between an asset's dates when one of them changed.
    fn check(
        &self,
        estate: &Estate,
        inserted: &Inserted<'_>,
        id: &ResourceId,
    ) -> Result<(), Error> {
        for field in &asset::CHECKED_FIELDS {
            if let Some(state) = self.changed(&Field::Asset(field.clone())) {
                asset::check_field(id, field, state.value())?;
            }
        }
        let dates = asset::DATE_FIELDS.map(|f| (self.changed(&Field::Asset(f.clone())), f));
        if dates.iter().any(|(changed, _)| changed.is_some()) {
            let record = inserted.asset(estate, id.as_str());
            let [purchase, warranty, support] = dates.map(|(changed, f)| {
                let value = match changed {
                    Some(state) => state.value().cloned(),
                    None => record.and_then(|a| a.field_value(&f)),
                };
                match value {
                    Some(Value::Date(date)) => Some(date),
                    _ => None,
                }
            });
            asset::check_dates(id, (purchase, warranty, support))?;
        }
        for field in &cmdb::CHECKED_FIELDS {
            if let Some(state) = self.changed(&Field::Ci(field.clone())) {
                cmdb::check_field(id, field, state.value())?;
            }
        }
        Ok(())
    }
}

/// A batch's claims, decided but not yet written.
#[derive(Debug, Default)]
pub(crate) struct StagedClaims {
    resources: crate::hash::IndexMap<ResourceId, StagedResource>,
    decisions: Vec<Decision>,
    /// Numbered from the estate's journal on: staging is against one
    /// state of the estate, and committing appends them all.
    journal: Vec<JournalEntry>,
    conflicts: Vec<Conflict>,
    /// The position in `resources` of the resource the last claim touched:
    /// feeds send a resource's fields together, so this saves a lookup.
    recent: Option<usize>,
    /// Whether to stage the journal entries and conflicts (not for a dry
    /// run).
    history: bool,
}

impl StagedClaims {
    pub(crate) fn decisions(self) -> Vec<Decision> {
        self.decisions
    }
}

/// The records a batch inserts, by id, for claims on them.
struct Inserted<'a> {
    assets: crate::hash::HashMap<&'a str, &'a Asset>,
    cis: crate::hash::HashMap<&'a str, &'a ConfigurationItem>,
}

impl<'a> Inserted<'a> {
    fn new(changes: &'a [Change]) -> Self {
        let mut inserted = Self {
            assets: crate::hash::HashMap::default(),
            cis: crate::hash::HashMap::default(),
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

    /// The asset `id` as the batch's other changes leave it: the batch's
    /// own insert, or the register's.
    fn asset<'x>(&'x self, estate: &'x Estate, id: &str) -> Option<&'x Asset> {
        self.assets
            .get(id)
            .copied()
            .or_else(|| estate.assets.0.get(id))
    }

    /// The item `id` as the batch's other changes leave it.
    fn ci<'x>(&'x self, estate: &'x Estate, id: &str) -> Option<&'x ConfigurationItem> {
        self.cis.get(id).copied().or_else(|| estate.cmdb.get(id))
    }
}

/// The outcome of adding `claim` to `state`; every claim it left
/// rejected goes to the conflict log (when there is one: a dry run keeps
/// none), the claims a late claim or a retraction made lose included:
/// nothing is dropped silently.
fn log(
    mut conflicts: Option<&mut Vec<Conflict>>,
    claim: &Claim,
    state: StagedView<'_>,
    added: Added,
) -> Outcome {
    let Added::Decided { at, rejected_again } = added else {
        return Outcome::Duplicate;
    };
    let kept = state.value();
    if let Some(conflicts) = conflicts.as_deref_mut() {
        for j in rejected_again {
            if let ClaimStatus::Rejected(v) = state.status(j) {
                conflicts.push(Conflict::new(state.claim(j).clone(), v, kept.cloned()));
            }
        }
    }
    match state.status(at) {
        ClaimStatus::Accepted(v) => Outcome::decided(v),
        ClaimStatus::Rejected(v) => {
            if let Some(conflicts) = conflicts {
                conflicts.push(Conflict::new(claim.clone(), v, kept.cloned()));
            }
            Outcome::decided(v)
        }
        ClaimStatus::Withdrawn | ClaimStatus::Retraction => Outcome::Retracted,
    }
}

/// Checks what can be checked of a claim alone: the value's type, a clear
/// of a required field, a reactivation that is not one.
pub(super) fn check_claim(claim: &Claim) -> Result<(), Error> {
    let (id, field) = (claim.resource(), claim.field());
    match claim.update() {
        Update::Set(value) => check_value(id, field, Some(value))?,
        Update::Clear => check_value(id, field, None)?,
        Update::Retract => {}
    }
    if claim.is_malformed_reactivation() {
        return Err(Error::InvalidField {
            id: claim.resource().clone(),
            field: claim.field().to_string(),
            reason: "a reactivation sets the lifecycle to in use".to_owned(),
        });
    }
    Ok(())
}

/// Checks a change of an asset's lifecycle from `before` to `after` (the
/// journal's old and new values) against the transition table, or, when
/// `holder`, the claim that now holds the value, is a
/// [reactivation](Claim::reactivate), as a reactivation.
fn check_lifecycle(
    id: &ResourceId,
    holder: Option<&Claim>,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<(), Error> {
    let (Some(Value::Lifecycle(from)), Some(Value::Lifecycle(to))) = (before, after) else {
        return Ok(());
    };
    if from == to {
        return Ok(());
    }
    if holder.is_some_and(Claim::is_reactivation) {
        from.check_reactivation(*to, id)
    } else {
        from.check_transition(*to, id)
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
        history: bool,
        problems: &mut Vec<(usize, Error)>,
    ) -> StagedClaims {
        let mut staged = StagedClaims {
            history,
            ..StagedClaims::default()
        };
        staged.decisions.reserve(
            changes
                .iter()
                .filter(|c| matches!(c, Change::Claim(_)))
                .count(),
        );
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
        if let Some(inserted) = &inserted {
            for (id, resource) in &staged.resources {
                if let Err(e) = resource.check(self, inserted, id) {
                    problems.push((resource.last, e));
                }
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
        check_claim(claim)?;
        let StagedClaims {
            resources,
            decisions,
            journal,
            conflicts,
            recent,
            history,
        } = staged;
        let same = |i: &usize| resources.get_index(*i).is_some_and(|(key, _)| key == id);
        let i = match recent.filter(same) {
            Some(i) => i,
            None => match resources.get_index_of(id) {
                Some(i) => i,
                None => {
                    resources
                        .insert_full(id.clone(), StagedResource::default())
                        .0
                }
            },
        };
        *recent = Some(i);
        let resource = &mut resources[i];
        let slot = if let Some(slot) = resource.fields.iter().position(|s| &s.field == field) {
            slot
        } else {
            let state = self.field_state(check, inserted, id, field)?;
            resource.fields.push(state);
            resource.changed.push(false);
            resource.fields.len() - 1
        };
        resource.last = at;
        let state = &mut resource.fields[slot];
        // The estate's states of the resource, which a layered field reads.
        let stored = if state.is_layered() {
            self.ownership
                .fields
                .get(id.as_str())
                .map_or(&[][..], Vec::as_slice)
        } else {
            &[]
        };
        let before = state.value().cloned();
        // A lifecycle change must be one the transition table allows; keep
        // what undoes a refused claim.
        let lifecycle = matches!(field, Field::Asset(AssetField::Lifecycle));
        let (added, undo) = state.add(stored, claim.clone(), policy, lifecycle);
        if lifecycle {
            let view = state.view(stored);
            if let Err(e) = check_lifecycle(id, view.holder(), before.as_ref(), view.value()) {
                if let Some(undo) = undo {
                    state.undo(undo);
                }
                return Err(e);
            }
        }
        let view = state.view(stored);
        let outcome = log(history.then_some(conflicts), claim, view, added);
        let after = if view.value() == before.as_ref() {
            before.clone()
        } else {
            let after = view.value().cloned();
            resource.changed[slot] = true;
            if *history {
                // A value no claim holds any more (every claim withdrawn)
                // is the retraction's doing.
                let retraction;
                let provenance = if let Some(provenance) = view.provenance() {
                    provenance
                } else {
                    retraction = Provenance::new(
                        claim.source().clone(),
                        claim.observed(),
                        "retraction".into(),
                    );
                    &retraction
                };
                let sequence = self.ownership.journal.len() + journal.len() + 1;
                journal.push(JournalEntry::new(
                    u64::try_from(sequence).unwrap_or(u64::MAX),
                    id.clone(),
                    field.clone(),
                    (before.clone(), after.clone()),
                    provenance,
                ));
            }
            after
        };
        decisions.push(Decision::new(at, claim.clone(), outcome, before, after));
        Ok(())
    }

    /// The claimed state of a field the batch has not touched yet: the
    /// estate's (unless the batch inserts the record afresh), or a new one
    /// from the record's value, refusing a record that does not exist once
    /// the batch's other changes are applied.
    fn field_state(
        &self,
        check: &Validation<'_>,
        inserted: &Inserted<'_>,
        id: &ResourceId,
        field: &Field,
    ) -> Result<StagedField, Error> {
        let unknown = || match field.view() {
            View::Asset => Error::UnknownAsset(id.clone()),
            View::Ci => Error::UnknownCi(id.clone()),
        };
        match check.touched(id, field.view()) {
            Some(false) => return Err(unknown()),
            // Only an insert makes a record present: the batch's own.
            Some(true) => {}
            // The estate's record, if any, with its claims: staged over
            // them, not copied.
            None => {
                if let Some(states) = self.ownership.fields.get(id.as_str()) {
                    if let Some(at) = states.iter().position(|s| &s.field == field) {
                        return Ok(StagedField::over(states, at));
                    }
                }
            }
        }
        let current = match field {
            Field::Asset(f) => inserted
                .asset(self, id.as_str())
                .ok_or_else(unknown)?
                .field_value(f),
            Field::Ci(f) => inserted
                .ci(self, id.as_str())
                .ok_or_else(unknown)?
                .field_value(f),
        };
        Ok(StagedField::new(FieldState::new(field.clone(), current)))
    }

    /// Writes what [`stage_claims`](Self::stage_claims) decided.
    pub(super) fn commit_claims(&mut self, staged: StagedClaims) -> Vec<Decision> {
        self.ownership.fields.reserve(staged.resources.len());
        for (id, resource) in staged.resources {
            self.write_fields(&id, &resource);
            if resource.fields.is_empty() {
                continue;
            }
            match self.ownership.fields.entry(id) {
                // Collected in place: the staged list's memory is reused.
                Entry::Vacant(entry) => {
                    let states = resource.fields.into_iter();
                    entry.insert(states.filter_map(StagedField::into_own).collect());
                }
                Entry::Occupied(mut entry) => {
                    for state in resource.fields {
                        state.commit(entry.get_mut());
                    }
                }
            }
        }
        let journal = &mut self.ownership.journal;
        if journal.is_empty() {
            *journal = staged.journal;
        } else {
            journal.extend(staged.journal);
        }
        self.ownership.conflicts.extend(staged.conflicts);
        staged.decisions
    }

    /// Writes the values the batch changed into the records of `id`, in
    /// place.
    fn write_fields(&mut self, id: &ResourceId, resource: &StagedResource) {
        let changed = || {
            resource
                .fields
                .iter()
                .zip(&resource.changed)
                .filter(|(_, changed)| **changed)
                .map(|(state, _)| state)
        };
        let touches = |view| changed().any(|s| s.field.view() == view);
        if touches(View::Asset) {
            if let Some(record) = self.assets.0.get_mut(id.as_str()) {
                for state in changed() {
                    if let Field::Asset(f) = &state.field {
                        record.set_field_value(f, state.value().cloned());
                    }
                }
            }
        }
        if touches(View::Ci) {
            self.cmdb.update_item(id.as_str(), |record| {
                for state in changed() {
                    if let Field::Ci(f) = &state.field {
                        record.set_field_value(f, state.value().cloned());
                    }
                }
            });
        }
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
    ///
    /// # Complexity
    ///
    /// O(k) for the k claims on the field (they are copied into the explanation).
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
    ///
    /// # Complexity
    ///
    /// O(1).
    #[must_use]
    pub fn journal(&self) -> &[JournalEntry] {
        &self.ownership.journal
    }

    /// The removal log: every record removed from either register, as it
    /// was, with the claims its fields had, oldest first. Append-only; see
    /// [`Removal`].
    ///
    /// # Complexity
    ///
    /// O(1).
    #[must_use]
    pub fn removals(&self) -> &[Removal] {
        &self.ownership.removals
    }

    /// The conflict log: every rejected claim with the reason it lost,
    /// oldest first. Append-only.
    ///
    /// # Complexity
    ///
    /// O(1).
    #[must_use]
    pub fn conflicts(&self) -> &[Conflict] {
        &self.ownership.conflicts
    }

    /// The column agreement that decides claims (see
    /// [`apply_with`](Self::apply_with) for another policy).
    ///
    /// # Complexity
    ///
    /// O(1).
    #[must_use]
    pub fn agreement(&self) -> &ColumnAgreement {
        &self.ownership.agreement
    }

    /// Replaces the column agreement. Claims already decided keep their
    /// outcome; the new agreement decides the claims that come next (and a
    /// field's earlier claims when a late claim makes it decide them again).
    ///
    /// # Complexity
    ///
    /// O(1); claims already decided keep their outcome.
    pub fn set_agreement(&mut self, agreement: ColumnAgreement) {
        self.ownership.agreement = agreement;
    }
}
