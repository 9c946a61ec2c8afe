//! The claims of one field and the value they give, decided in a fixed
//! order so that the result never depends on arrival order.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::{Claim, Current, Field, FieldOwnership, Provenance, Update, Value, Verdict};

/// What became of one claim the last time its field's claims were decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClaimStatus {
    /// The policy accepted it (a later claim may since have replaced it).
    Accepted(Verdict),
    /// The policy rejected it.
    Rejected(Verdict),
    /// Its source later retracted its claims on the field.
    Withdrawn,
    /// It is a retraction.
    Retraction,
}

/// One field's claims, the value the record held before the first of them,
/// and the decided outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FieldState {
    pub(crate) field: Field,
    /// The record's value before any claim touched the field.
    pub(crate) base: Option<Value>,
    /// Every claim received, in replay order, without duplicates.
    pub(crate) claims: Vec<Claim>,
    /// What became of each claim, in the same order.
    pub(crate) statuses: Vec<ClaimStatus>,
    pub(crate) value: Option<Value>,
    pub(crate) provenance: Option<Provenance>,
}

/// The effect of adding one claim to a field.
pub(crate) enum Added {
    /// The same claim was already there: nothing changed.
    Duplicate,
    /// The claim was added; its status after deciding.
    Decided(ClaimStatus),
}

impl FieldState {
    pub(crate) fn new(field: Field, base: Option<Value>) -> Self {
        Self {
            field,
            value: base.clone(),
            base,
            claims: Vec::new(),
            statuses: Vec::new(),
            provenance: None,
        }
    }

    /// Adds `claim` and decides it. A claim that sorts after every other is
    /// decided against the current state; any other is inserted in replay
    /// order and the field is decided again from its base value.
    pub(crate) fn add(&mut self, claim: Claim, policy: &dyn FieldOwnership) -> Added {
        let at = self
            .claims
            .partition_point(|c| c.replay_order(&claim) == Ordering::Less);
        if self.claims[at..]
            .iter()
            .take_while(|c| c.replay_order(&claim) == Ordering::Equal)
            .any(|c| *c == claim)
        {
            return Added::Duplicate;
        }
        self.claims.insert(at, claim);
        if at + 1 == self.claims.len() {
            self.statuses.push(ClaimStatus::Retraction);
            self.step(at, policy);
        } else {
            self.replay(policy);
        }
        Added::Decided(self.statuses[at].clone())
    }

    /// Decides every claim again, from the base value.
    pub(crate) fn replay(&mut self, policy: &dyn FieldOwnership) {
        self.value.clone_from(&self.base);
        self.provenance = None;
        self.statuses = vec![ClaimStatus::Retraction; self.claims.len()];
        for i in 0..self.claims.len() {
            self.step(i, policy);
        }
    }

    /// Decides claim `i` against the state the claims before it gave.
    fn step(&mut self, i: usize, policy: &dyn FieldOwnership) {
        let claim = &self.claims[i];
        if matches!(claim.update(), Update::Retract) {
            let source = claim.source().clone();
            let mut withdrew = false;
            for j in 0..i {
                let c = &self.claims[j];
                if c.source() == &source
                    && !matches!(
                        self.statuses[j],
                        ClaimStatus::Retraction | ClaimStatus::Withdrawn
                    )
                {
                    self.statuses[j] = ClaimStatus::Withdrawn;
                    withdrew = true;
                }
            }
            self.statuses[i] = ClaimStatus::Retraction;
            // As if the source had never claimed: its claims may have
            // decided the fate of later ones, so decide those again.
            if withdrew {
                self.refold(i, policy);
            }
            return;
        }
        let verdict = policy.decide(
            &self.field,
            Current {
                value: self.value.as_ref(),
                provenance: self.provenance.as_ref(),
            },
            claim,
        );
        if verdict.accepted() {
            self.value = match claim.update() {
                Update::Set(value) => Some(value.clone()),
                _ => None,
            };
            self.provenance = Some(Provenance::new(
                claim.source().clone(),
                claim.observed(),
                verdict.rule().to_owned(),
            ));
            self.statuses[i] = ClaimStatus::Accepted(verdict);
        } else {
            self.statuses[i] = ClaimStatus::Rejected(verdict);
        }
    }

    /// Decides the claims before `end` again from the base value, skipping
    /// withdrawn claims and retractions (their effect is the withdrawals).
    fn refold(&mut self, end: usize, policy: &dyn FieldOwnership) {
        self.value.clone_from(&self.base);
        self.provenance = None;
        for j in 0..end {
            if matches!(
                self.statuses[j],
                ClaimStatus::Withdrawn | ClaimStatus::Retraction
            ) {
                continue;
            }
            self.step(j, policy);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::ResourceId;
    use crate::ownership::{AssetField, ColumnAgreement, Rule, Source};

    fn claim(source: &str, value: &str, day: u32) -> Claim {
        Claim::set(
            ResourceId::new("a").unwrap(),
            AssetField::Owner,
            Value::text(value),
            Source::automated(source).unwrap(),
            Utc.with_ymd_and_hms(2026, 1, day, 0, 0, 0).unwrap(),
        )
    }

    fn agreement() -> ColumnAgreement {
        ColumnAgreement::new()
            .with(Rule::field(AssetField::Owner).sources(["finance", "discovery"]))
            .unwrap()
    }

    #[test]
    fn arrival_order_does_not_matter() {
        let policy = agreement();
        let claims = [
            claim("discovery", "d", 1),
            claim("finance", "f", 2),
            claim("discovery", "d2", 3),
        ];
        let mut forward = FieldState::new(AssetField::Owner.into(), None);
        let mut backward = forward.clone();
        for c in &claims {
            forward.add(c.clone(), &policy);
        }
        for c in claims.iter().rev() {
            backward.add(c.clone(), &policy);
        }
        assert_eq!(forward, backward);
        assert_eq!(forward.value, Some(Value::text("f")));
    }

    #[test]
    fn retracting_the_holder_falls_back_to_the_other_claims() {
        let policy = agreement();
        let mut state = FieldState::new(AssetField::Owner.into(), Some(Value::text("old")));
        state.add(claim("discovery", "d", 1), &policy);
        state.add(claim("finance", "f", 2), &policy);
        assert_eq!(state.value, Some(Value::text("f")));
        let retract = Claim::new(
            ResourceId::new("a").unwrap(),
            AssetField::Owner,
            Update::Retract,
            Source::automated("finance").unwrap(),
            Utc.with_ymd_and_hms(2026, 1, 3, 0, 0, 0).unwrap(),
        );
        state.add(retract, &policy);
        assert_eq!(state.value, Some(Value::text("d")));
        assert_eq!(state.statuses[1], ClaimStatus::Withdrawn);
        assert!(matches!(
            state.add(claim("discovery", "d", 1), &policy),
            Added::Duplicate
        ));
    }
}
