//! Checking a deserialised ownership state against the records, as strictly
//! as the write path checks what it writes: the claimed fields, the journal,
//! the conflict log and the removal log must be what some sequence of
//! writes could have left.

use std::collections::hash_map::Entry;

use super::Estate;
use super::claims::{Ownership, check_claim};
use crate::asset::{self, check_value};
use crate::cmdb;
use crate::hash::HashMap;
use crate::ownership::{Field, Update, Value, View};
use crate::{Error, ResourceId};

/// Checks that `value` may stand in `field` of record `id`: its type, a
/// required field is not empty, and the field's own rule (a label, a cost
/// that is not negative), as the builders check it.
pub(super) fn check_field_value(
    id: &ResourceId,
    field: &Field,
    value: Option<&Value>,
) -> Result<(), Error> {
    check_value(id, field, value)?;
    match field {
        Field::Asset(f) => asset::check_field(id, f, value),
        Field::Ci(f) => cmdb::check_field(id, f, value),
    }
}

fn invalid(part: impl Into<String>, reason: impl Into<String>) -> Error {
    Error::InvalidSnapshot {
        part: part.into(),
        reason: reason.into(),
    }
}

/// What the journal says of one field in the current life of its record
/// (since the record's last removal).
struct Track<'a> {
    /// How many times the record had been removed when the entries were
    /// written: a later removal ends this life.
    life: u32,
    first_old: Option<&'a Value>,
    last_new: Option<&'a Value>,
}

impl Ownership {
    /// Checks a deserialised ownership state against the records of
    /// `estate`; see [`check_fields`](Self::check_fields) and
    /// [`check_history`](Self::check_history).
    pub(crate) fn check(&self, estate: &Estate) -> Result<(), Error> {
        self.check_fields(estate)?;
        self.check_history(estate)
    }

    /// Every claimed field belongs to a record that exists, under the right
    /// id; its base value is one the record's rules allow; every claim is of
    /// the field's type; the stored outcome is one its claims give (see
    /// `FieldState::check`); and the record holds that value.
    fn check_fields(&self, estate: &Estate) -> Result<(), Error> {
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
                // A retraction of every claim writes the base value back:
                // it must be one the record may hold.
                check_field_value(id, &state.field, state.base.as_ref())?;
                if state
                    .claims
                    .iter()
                    .any(|c| c.resource() != id || c.field() != &state.field)
                {
                    return Err(refuse("a claim is of another resource or field"));
                }
                for claim in &state.claims {
                    check_claim(claim)?;
                }
                state.check().map_err(refuse)?;
                if value != state.value {
                    return Err(refuse("the record holds another value"));
                }
            }
        }
        Ok(())
    }

    /// The journal, the removal log and the conflict log hold together:
    /// sequence numbers count from 1 without gaps; every entry's values fit
    /// its field; each field's journal entries chain (each starts from the
    /// value the previous one left) from the base value of its claims to
    /// the value its record holds, life by life (a removal ends a record's
    /// life, and the removed record holds the values the journal gave it);
    /// every resource named exists, or was removed.
    ///
    /// # Complexity
    ///
    /// O(j + r + c + f) expected for j journal entries, r removals, c
    /// conflicts and f claimed fields.
    fn check_history(&self, estate: &Estate) -> Result<(), Error> {
        let total = self.check_removals()?;
        self.check_journal(estate, &total)?;
        self.check_conflicts(estate, &total)
    }

    /// The removal log counts from 1, in journal order, and each removal's
    /// claims are of its record and fit their statuses. Returns how many
    /// times each record was removed.
    fn check_removals(&self) -> Result<HashMap<(&str, View), u32>, Error> {
        let mut total: HashMap<(&str, View), u32> = HashMap::default();
        let mut after = 0;
        for (n, removal) in self.removals.iter().enumerate() {
            let part = || format!("removal {}", n + 1);
            if removal.sequence() != n as u64 + 1 {
                return Err(invalid(part(), "sequence numbers must count from 1"));
            }
            if removal.after() < after || removal.after() > self.journal.len() as u64 {
                return Err(invalid(part(), "its place in the journal is out of order"));
            }
            after = removal.after();
            let (id, view) = (removal.resource(), removal.view());
            for (claim, status) in removal.claims() {
                if claim.resource() != id || claim.field().view() != view {
                    return Err(invalid(part(), "a claim is of another record"));
                }
                check_claim(claim)?;
                if !status.fits(claim.update()) {
                    return Err(invalid(part(), "a claim's status does not fit its update"));
                }
            }
            *total.entry((id.as_str(), view)).or_default() += 1;
        }
        Ok(total)
    }

    /// The journal counts from 1, its values are of their fields' types, and each
    /// field's entries chain, life by life, from the base value of its
    /// claims to the record's value (see `check_history`).
    fn check_journal(
        &self,
        estate: &Estate,
        total: &HashMap<(&str, View), u32>,
    ) -> Result<(), Error> {
        // Removals so far of each record.
        let mut lives: HashMap<(&str, View), u32> = HashMap::default();

        let mut tracks: HashMap<(&str, &Field), Track<'_>> = HashMap::default();
        // The fields journalled in each record's current life.
        let mut journalled: HashMap<(&str, View), Vec<&Field>> = HashMap::default();
        let mut removals = self.removals.iter().peekable();
        for (n, entry) in self.journal.iter().enumerate() {
            // Removals placed before this entry end their record's life;
            // the removed record holds what the journal gave it.
            while let Some(removal) = removals.next_if(|r| r.after() <= n as u64) {
                end_life(removal, &mut lives, &mut journalled, &tracks)?;
            }
            let part = || format!("journal entry {}", n + 1);
            if entry.sequence() != n as u64 + 1 {
                return Err(invalid(part(), "sequence numbers must count from 1"));
            }
            let (id, field) = (entry.resource(), entry.field());
            // Only the type: within one batch the journal records every
            // decision, so a value a later claim of the batch replaced (an
            // empty owner, a negative cost) may stand in it though no
            // record ever held it.
            check_value(id, field, entry.old())?;
            check_value(id, field, entry.new_value())?;
            if entry.old() == entry.new_value() {
                return Err(invalid(part(), "it records no change"));
            }
            let key = (id.as_str(), field.view());
            let life = lives.get(&key).copied().unwrap_or(0);
            if life == total.get(&key).copied().unwrap_or(0) && !estate.holds(id, field.view()) {
                return Err(invalid(
                    part(),
                    format!(
                        "{} `{id}` does not exist and was never removed",
                        field.view()
                    ),
                ));
            }
            match tracks.entry((id.as_str(), field)) {
                Entry::Occupied(mut slot) if slot.get().life == life => {
                    let track = slot.get_mut();
                    if track.last_new != entry.old() {
                        return Err(invalid(
                            part(),
                            "its old value is not the value the previous change left",
                        ));
                    }
                    track.last_new = entry.new_value();
                }
                slot => {
                    journalled.entry(key).or_default().push(field);
                    let track = Track {
                        life,
                        first_old: entry.old(),
                        last_new: entry.new_value(),
                    };
                    match slot {
                        Entry::Occupied(mut slot) => *slot.get_mut() = track,
                        Entry::Vacant(slot) => {
                            slot.insert(track);
                        }
                    }
                }
            }
        }
        for removal in removals {
            end_life(removal, &mut lives, &mut journalled, &tracks)?;
        }

        // The current life of every journalled field ends in the record's
        // value, and starts from the base value of its claims.
        for ((id, field), track) in &tracks {
            let key = (*id, field.view());
            if track.life != lives.get(&key).copied().unwrap_or(0) {
                continue;
            }
            let state = self.state(id, field).ok_or_else(|| {
                invalid(
                    format!("journal of {field} of `{id}`"),
                    "the field changed but has no claims",
                )
            })?;
            if state.base.as_ref() != track.first_old || state.value.as_ref() != track.last_new {
                return Err(invalid(
                    format!("journal of {field} of `{id}`"),
                    "the changes do not lead from the claims' base value to the record's value",
                ));
            }
        }
        // A claimed value that differs from its base was journalled.
        for (id, states) in &self.fields {
            for state in states {
                let life = lives
                    .get(&(id.as_str(), state.field.view()))
                    .copied()
                    .unwrap_or(0);
                let journalled = tracks
                    .get(&(id.as_str(), &state.field))
                    .is_some_and(|track| track.life == life);
                if state.value != state.base && !journalled {
                    return Err(invalid(
                        format!("journal of {} of `{id}`", state.field),
                        "the claims changed the value but the journal has no change",
                    ));
                }
            }
        }

        Ok(())
    }

    /// Every conflict's claim is valid and not a retraction, its kept value
    /// fits the field, and its resource exists or was removed.
    fn check_conflicts(
        &self,
        estate: &Estate,
        total: &HashMap<(&str, View), u32>,
    ) -> Result<(), Error> {
        for (n, conflict) in self.conflicts.iter().enumerate() {
            let claim = conflict.claim();
            let (id, field) = (claim.resource(), claim.field());
            check_claim(claim)?;
            if matches!(claim.update(), Update::Retract) {
                return Err(invalid(
                    format!("conflict {}", n + 1),
                    "a retraction is never rejected",
                ));
            }
            check_value(id, field, conflict.kept())?;
            let removed = total.contains_key(&(id.as_str(), field.view()));
            if !removed && !estate.holds(id, field.view()) {
                return Err(invalid(
                    format!("conflict {}", n + 1),
                    format!(
                        "{} `{id}` does not exist and was never removed",
                        field.view()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Ends the life of the record `removal` took out: the removed record holds
/// the value the journal last gave each of its fields.
fn end_life<'a>(
    removal: &'a crate::ownership::Removal,
    lives: &mut HashMap<(&'a str, View), u32>,
    journalled: &mut HashMap<(&'a str, View), Vec<&'a Field>>,
    tracks: &HashMap<(&'a str, &'a Field), Track<'a>>,
) -> Result<(), Error> {
    let (id, view) = (removal.resource().as_str(), removal.view());
    for field in journalled.remove(&(id, view)).unwrap_or_default() {
        let track = &tracks[&(id, field)];
        let held = match (field, removal.asset(), removal.ci()) {
            (Field::Asset(f), Some(asset), _) => asset.field_value(f),
            (Field::Ci(f), _, Some(ci)) => ci.field_value(f),
            _ => continue,
        };
        if held.as_ref() != track.last_new {
            return Err(invalid(
                format!("removal {}", removal.sequence()),
                format!("the removed record's {field} is not the value the journal gave it"),
            ));
        }
    }
    *lives.entry((id, view)).or_default() += 1;
    Ok(())
}
