//! The claims of one field and the value they give, decided in a fixed
//! order so that the result never depends on arrival order.

use std::cmp::Ordering;
use std::sync::Arc;

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
    /// The claim was added and decided.
    Decided {
        /// The claim's position in replay order (its status is
        /// `statuses[at]`).
        at: usize,
        /// The indices (in replay order) of other claims that deciding
        /// again turned from not rejected into rejected: a late claim or a
        /// retraction can make a claim lose that had won.
        rejected_again: Vec<usize>,
    },
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
        // Claims mostly arrive in replay order: try the end first.
        let at = match self.claims.last() {
            None => 0,
            Some(last) if last.replay_order(&claim) == Ordering::Less => self.claims.len(),
            Some(_) => self
                .claims
                .partition_point(|c| c.replay_order(&claim) == Ordering::Less),
        };
        if self.claims[at..]
            .iter()
            .take_while(|c| c.replay_order(&claim) == Ordering::Equal)
            .any(|c| *c == claim)
        {
            return Added::Duplicate;
        }
        let last = at == self.claims.len();
        // Only a retraction or a claim decided before others can change
        // what became of earlier claims; keep their statuses to compare.
        let earlier =
            (!last || matches!(claim.update(), Update::Retract)).then(|| self.statuses.clone());
        self.claims.insert(at, claim);
        if last {
            self.statuses.push(ClaimStatus::Retraction);
            self.step(at, policy);
        } else {
            self.replay(policy);
        }
        let rejected_again = earlier
            .map(|earlier| {
                let shifted = |j: usize| if j < at { j } else { j + 1 };
                earlier
                    .iter()
                    .enumerate()
                    .filter(|(j, was)| {
                        !matches!(was, ClaimStatus::Rejected(_))
                            && matches!(self.statuses[shifted(*j)], ClaimStatus::Rejected(_))
                    })
                    .map(|(j, _)| shifted(j))
                    .collect()
            })
            .unwrap_or_default();
        Added::Decided { at, rejected_again }
    }

    /// Checks, without a policy, that the stored outcome is one deciding
    /// the stored claims could have given: claims in strict replay order,
    /// a status for each that fits its update, withdrawals only where the
    /// source retracted later, and the value and provenance those of the
    /// last accepted claim (or the base value when none was accepted).
    ///
    /// The verdicts themselves are taken as recorded: claims may have been
    /// decided under another policy ([`Estate::apply_with`]) or an earlier
    /// agreement, so they cannot be decided again on load.
    ///
    /// [`Estate::apply_with`]: crate::Estate::apply_with
    pub(crate) fn check(&self) -> Result<(), &'static str> {
        if self.statuses.len() != self.claims.len() {
            return Err("a claim has no status");
        }
        if self
            .claims
            .windows(2)
            .any(|w| w[0].replay_order(&w[1]) != Ordering::Less)
        {
            return Err("the claims are not in replay order");
        }
        let mut value = self.base.as_ref();
        let mut provenance = None;
        for (i, (claim, status)) in self.claims.iter().zip(&self.statuses).enumerate() {
            let retract = matches!(claim.update(), Update::Retract);
            match status {
                ClaimStatus::Retraction if retract => {}
                ClaimStatus::Withdrawn if !retract => {
                    let retracted = self.claims[i + 1..].iter().any(|later| {
                        later.source() == claim.source()
                            && matches!(later.update(), Update::Retract)
                    });
                    if !retracted {
                        return Err("a claim is withdrawn but its source never retracted");
                    }
                }
                ClaimStatus::Rejected(v) if !retract && !v.accepted() => {}
                ClaimStatus::Accepted(v) if !retract && v.accepted() => {
                    value = match claim.update() {
                        Update::Set(v) => Some(v),
                        _ => None,
                    };
                    provenance = Some((claim, v.rule()));
                }
                _ => return Err("a claim's status does not fit its update"),
            }
        }
        let derived = provenance.map(|(c, rule)| (c.source(), c.observed(), rule));
        let stored = self
            .provenance
            .as_ref()
            .map(|p| (p.source(), p.observed(), p.rule()));
        if value != self.value.as_ref() || derived != stored {
            return Err("the value is not the one its claims give");
        }
        Ok(())
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
                Arc::clone(verdict.rule_label()),
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
    fn a_late_claim_reports_the_claims_it_made_lose() {
        let policy = agreement();
        let mut state = FieldState::new(AssetField::Owner.into(), None);
        state.add(claim("discovery", "d", 2), &policy);
        let Added::Decided { at, rejected_again } = state.add(claim("finance", "f", 1), &policy)
        else {
            panic!("not a duplicate");
        };
        assert!(matches!(state.statuses[at], ClaimStatus::Accepted(_)));
        assert_eq!(rejected_again, [1], "discovery's claim, now second");
        // An appended claim that loses reports only itself.
        let Added::Decided { rejected_again, .. } = state.add(claim("discovery", "d3", 3), &policy)
        else {
            panic!("not a duplicate");
        };
        assert!(rejected_again.is_empty());
        assert_eq!(state.check(), Ok(()));
    }

    #[test]
    fn check_refuses_outcomes_the_claims_cannot_give() {
        let policy = agreement();
        let mut state = FieldState::new(AssetField::Owner.into(), Some(Value::text("old")));
        state.add(claim("discovery", "d", 1), &policy);
        state.add(claim("finance", "f", 2), &policy);
        assert_eq!(state.check(), Ok(()));

        let mut value = state.clone();
        value.value = Some(Value::text("x"));
        assert!(value.check().is_err());

        let mut order = state.clone();
        order.claims.swap(0, 1);
        assert_eq!(order.check(), Err("the claims are not in replay order"));

        let mut withdrawn = state.clone();
        withdrawn.statuses[0] = ClaimStatus::Withdrawn;
        assert!(withdrawn.check().is_err());

        let mut provenance = state.clone();
        provenance.provenance = None;
        assert!(provenance.check().is_err());

        let mut missing = state;
        missing.statuses.pop();
        assert_eq!(missing.check(), Err("a claim has no status"));
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
