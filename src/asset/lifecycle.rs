//! The asset lifecycle vocabulary.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Error, ResourceId};

/// Where an asset is in its life, as the asset register records it.
///
/// The vocabulary follows ITAM practice: planned and on order, in stock or in
/// transit, in use (deployed), in maintenance, scheduled for retirement,
/// missing, retired. `Missing` and `Retired` carry a substate saying why.
///
/// Which changes of state are allowed is a table, documented and checked by
/// [`Lifecycle::check_transition`]; bringing a retired asset back is a
/// separate, explicit step, [`Lifecycle::check_reactivation`]. An asset
/// that is gone for good (disposed, sold, donated or returned at the end of
/// its lease) never leaves that state.
///
/// The estate enforces the table: a lifecycle claim that would make a move
/// the table does not allow fails its batch, and only a
/// [reactivation claim](crate::ownership::Claim::reactivate) brings a
/// retired asset back (see [`Estate::apply`](crate::Estate::apply)).
///
/// # Serde
///
/// Plain states are strings (`"in_use"`); states with a substate are
/// one-key maps (`{"retired": "disposed"}`).
///
/// # Example
///
/// ```
/// use itam_cmdb::{Lifecycle, RetirementReason};
///
/// let state = Lifecycle::Retired(RetirementReason::ReturnedEndOfLease);
/// assert!(state.is_retired());
/// assert!(!state.is_active());
/// assert_eq!(state.to_string(), "retired (returned at end of lease)");
/// assert!(Lifecycle::InUse.is_active());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Lifecycle {
    /// Budgeted or requested, not yet ordered.
    Planned,
    /// Ordered from a supplier, not yet received.
    OnOrder,
    /// Received and held in stock, not deployed.
    InStock,
    /// Being shipped between locations.
    InTransit,
    /// Deployed and in service. The default.
    #[default]
    InUse,
    /// Temporarily out of service for repair or maintenance.
    InMaintenance,
    /// Still in service, with a decision to retire it.
    ScheduledForRetirement,
    /// Cannot be found.
    Missing(MissingReason),
    /// Out of service for good.
    Retired(RetirementReason),
}

impl Lifecycle {
    /// Whether the asset is live in the estate and so expected to cost money
    /// and carry licences: in use, in maintenance, or scheduled for
    /// retirement.
    #[must_use]
    pub fn is_active(self) -> bool {
        matches!(
            self,
            Self::InUse | Self::InMaintenance | Self::ScheduledForRetirement
        )
    }

    /// Whether the asset is retired, whatever the reason.
    #[must_use]
    pub fn is_retired(self) -> bool {
        matches!(self, Self::Retired(_))
    }

    /// Whether the asset is gone for good: retired for a reason that is
    /// [final](RetirementReason::is_final). No transition, not even a
    /// reactivation, leaves such a state.
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::{Lifecycle, RetirementReason};
    ///
    /// assert!(Lifecycle::Retired(RetirementReason::Sold).is_final());
    /// assert!(!Lifecycle::Retired(RetirementReason::Decommissioned).is_final());
    /// assert!(!Lifecycle::InUse.is_final());
    /// ```
    #[must_use]
    pub fn is_final(self) -> bool {
        matches!(self, Self::Retired(reason) if reason.is_final())
    }

    /// Whether the transition table allows a move from `self` to `to`; see
    /// [`Lifecycle::check_transition`] for the table.
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::{Lifecycle, MissingReason};
    ///
    /// assert!(Lifecycle::InStock.can_transition_to(Lifecycle::InUse));
    /// assert!(Lifecycle::InUse.can_transition_to(Lifecycle::InUse));
    /// assert!(Lifecycle::InUse.can_transition_to(Lifecycle::Missing(MissingReason::Stolen)));
    /// assert!(!Lifecycle::Planned.can_transition_to(Lifecycle::InUse));
    /// ```
    #[must_use]
    pub fn can_transition_to(self, to: Self) -> bool {
        self == to || self.table_allows(to)
    }

    /// Checks a change of state from `self` to `to` of the asset `id`
    /// against the lifecycle transition table.
    ///
    /// # Transition table
    ///
    /// | from | may move to |
    /// |------|-------------|
    /// | planned | on order; in stock; retired (decommissioned), which is how a plan is cancelled |
    /// | on order | in stock; in transit; missing; retired |
    /// | in transit | in stock; in use; missing; retired |
    /// | in stock | in use; in maintenance; in transit; scheduled for retirement; missing; retired |
    /// | in use | in stock; in maintenance; scheduled for retirement; missing; retired |
    /// | in maintenance | in stock; in use; scheduled for retirement; missing; retired |
    /// | scheduled for retirement | in use (the asset is kept); missing; retired |
    /// | missing (any reason) | in stock (found); missing for another reason; retired |
    /// | retired (decommissioned) | retired for good (disposed, sold, donated, returned at end of lease); in use only by [reactivation](Lifecycle::check_reactivation) |
    /// | retired (disposed, sold, donated, returned at end of lease) | nothing: the asset is gone for good |
    ///
    /// "Missing" and "retired" without a reason mean any reason. In
    /// addition, every state may "move" to itself: a same-state transition
    /// is a no-op and always allowed, also for a state that is gone for good.
    ///
    /// Rules the table implies:
    ///
    /// * a planned asset has nothing physical yet, so it can neither go
    ///   missing nor be disposed of, sold, donated or returned;
    /// * a deployed asset (in use, in maintenance, scheduled for retirement)
    ///   is moved by returning it to stock first; only stock goes in transit;
    /// * a found asset comes back to stock, never straight into use;
    /// * a retired asset cannot go missing, and only a decommissioned one can
    ///   change its retirement reason, to its final disposition.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidTransition`], naming `id` and both states, if the
    /// table does not allow the move. In particular, retired to in use is
    /// refused here: use [`Lifecycle::check_reactivation`].
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::{Error, Lifecycle, ResourceId, RetirementReason};
    ///
    /// let id = ResourceId::new("SN-1")?;
    /// Lifecycle::InStock.check_transition(Lifecycle::InUse, &id)?;
    /// Lifecycle::InUse.check_transition(Lifecycle::InUse, &id)?;
    ///
    /// let disposed = Lifecycle::Retired(RetirementReason::Disposed);
    /// let err = disposed.check_transition(Lifecycle::InUse, &id).unwrap_err();
    /// assert!(matches!(err, Error::InvalidTransition { .. }));
    /// assert_eq!(
    ///     err.to_string(),
    ///     "invalid lifecycle transition of `SN-1` from retired (disposed) to in use",
    /// );
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    pub fn check_transition(self, to: Self, id: &ResourceId) -> Result<(), Error> {
        if self.can_transition_to(to) {
            Ok(())
        } else {
            Err(self.refuse(to, id))
        }
    }

    /// Whether `self` to `to` is a valid reactivation; see
    /// [`Lifecycle::check_reactivation`].
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::{Lifecycle, RetirementReason};
    ///
    /// let decommissioned = Lifecycle::Retired(RetirementReason::Decommissioned);
    /// assert!(decommissioned.can_reactivate_to(Lifecycle::InUse));
    /// assert!(!decommissioned.can_transition_to(Lifecycle::InUse));
    /// assert!(!Lifecycle::Retired(RetirementReason::Donated).can_reactivate_to(Lifecycle::InUse));
    /// ```
    #[must_use]
    pub fn can_reactivate_to(self, to: Self) -> bool {
        matches!((self, to), (Self::Retired(reason), Self::InUse) if !reason.is_final())
    }

    /// Checks an explicit reactivation of the asset `id`: bringing a
    /// retired asset back into use.
    ///
    /// The only reactivation is from retired (decommissioned) to in use. An
    /// asset that is gone for good (disposed, sold, donated, returned at the
    /// end of its lease) is never reactivated. Anything that is not a
    /// reactivation, including an ordinary transition the table allows, is
    /// refused here, so a caller cannot reactivate by mistake or hide an
    /// ordinary move behind this check.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidTransition`], naming `id` and both states, if the move
    /// is not a reactivation.
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::{Lifecycle, ResourceId, RetirementReason};
    ///
    /// let id = ResourceId::new("SN-2")?;
    /// let decommissioned = Lifecycle::Retired(RetirementReason::Decommissioned);
    /// decommissioned.check_reactivation(Lifecycle::InUse, &id)?;
    /// assert!(decommissioned.check_transition(Lifecycle::InUse, &id).is_err());
    ///
    /// let sold = Lifecycle::Retired(RetirementReason::Sold);
    /// assert!(sold.check_reactivation(Lifecycle::InUse, &id).is_err());
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    pub fn check_reactivation(self, to: Self, id: &ResourceId) -> Result<(), Error> {
        if self.can_reactivate_to(to) {
            Ok(())
        } else {
            Err(self.refuse(to, id))
        }
    }

    /// The table of [`Lifecycle::check_transition`], without the same-state
    /// no-op.
    fn table_allows(self, to: Self) -> bool {
        match (self, to) {
            (
                Self::Planned,
                Self::OnOrder | Self::InStock | Self::Retired(RetirementReason::Decommissioned),
            )
            | (Self::OnOrder, Self::InStock | Self::InTransit)
            | (Self::InTransit, Self::InStock | Self::InUse)
            | (
                Self::InStock,
                Self::InUse | Self::InMaintenance | Self::InTransit | Self::ScheduledForRetirement,
            )
            | (Self::InUse, Self::InStock | Self::InMaintenance | Self::ScheduledForRetirement)
            | (Self::InMaintenance, Self::InStock | Self::InUse | Self::ScheduledForRetirement)
            | (Self::ScheduledForRetirement, Self::InUse)
            | (Self::Missing(_), Self::InStock) => true,
            (Self::Retired(from), Self::Retired(reason)) => !from.is_final() && reason.is_final(),
            (Self::Planned | Self::Retired(_), _) => false,
            (_, Self::Missing(_) | Self::Retired(_)) => true,
            _ => false,
        }
    }

    fn refuse(self, to: Self, id: &ResourceId) -> Error {
        Error::InvalidTransition {
            id: id.clone(),
            from: self,
            to,
        }
    }
}

impl fmt::Display for Lifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Planned => f.pad("planned"),
            Self::OnOrder => f.pad("on order"),
            Self::InStock => f.pad("in stock"),
            Self::InTransit => f.pad("in transit"),
            Self::InUse => f.pad("in use"),
            Self::InMaintenance => f.pad("in maintenance"),
            Self::ScheduledForRetirement => f.pad("scheduled for retirement"),
            Self::Missing(reason) => write!(f, "missing ({reason})"),
            Self::Retired(reason) => write!(f, "retired ({reason})"),
        }
    }
}

/// Why an asset is [`Lifecycle::Missing`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MissingReason {
    /// Not found at its recorded location; the cause is not known.
    Unlocated,
    /// Reported lost.
    Lost,
    /// Reported stolen.
    Stolen,
}

impl fmt::Display for MissingReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::Unlocated => "unlocated",
            Self::Lost => "lost",
            Self::Stolen => "stolen",
        })
    }
}

/// Why an asset is [`Lifecycle::Retired`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RetirementReason {
    /// Taken out of service; not yet disposed of.
    Decommissioned,
    /// Destroyed, recycled or scrapped.
    Disposed,
    /// Sold.
    Sold,
    /// Given away.
    Donated,
    /// Returned to the lessor at the end of its lease.
    ReturnedEndOfLease,
}

impl RetirementReason {
    /// Whether the asset is gone for good: disposed of, sold, donated or
    /// returned to its lessor. Only [`RetirementReason::Decommissioned`] is
    /// not final: a decommissioned asset may still be disposed of, or be
    /// reactivated (see [`Lifecycle::check_reactivation`]).
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::RetirementReason;
    ///
    /// assert!(RetirementReason::Disposed.is_final());
    /// assert!(RetirementReason::ReturnedEndOfLease.is_final());
    /// assert!(!RetirementReason::Decommissioned.is_final());
    /// ```
    #[must_use]
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Decommissioned)
    }
}

impl fmt::Display for RetirementReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::Decommissioned => "decommissioned",
            Self::Disposed => "disposed",
            Self::Sold => "sold",
            Self::Donated => "donated",
            Self::ReturnedEndOfLease => "returned at end of lease",
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const MISSING: [MissingReason; 3] = [
        MissingReason::Unlocated,
        MissingReason::Lost,
        MissingReason::Stolen,
    ];
    const RETIRED: [RetirementReason; 5] = [
        RetirementReason::Decommissioned,
        RetirementReason::Disposed,
        RetirementReason::Sold,
        RetirementReason::Donated,
        RetirementReason::ReturnedEndOfLease,
    ];

    /// Every state, each substate included.
    fn all() -> Vec<Lifecycle> {
        let mut states = vec![
            Lifecycle::Planned,
            Lifecycle::OnOrder,
            Lifecycle::InStock,
            Lifecycle::InTransit,
            Lifecycle::InUse,
            Lifecycle::InMaintenance,
            Lifecycle::ScheduledForRetirement,
        ];
        states.extend(MISSING.map(Lifecycle::Missing));
        states.extend(RETIRED.map(Lifecycle::Retired));
        states
    }

    fn any_missing() -> Vec<Lifecycle> {
        MISSING.map(Lifecycle::Missing).to_vec()
    }

    fn any_retired() -> Vec<Lifecycle> {
        RETIRED.map(Lifecycle::Retired).to_vec()
    }

    fn final_retired() -> Vec<Lifecycle> {
        any_retired().into_iter().filter(|s| s.is_final()).collect()
    }

    /// The documented table, row by row, written out independently of the
    /// implementation: the states each state may move to, itself excluded.
    fn expected_row(from: Lifecycle) -> Vec<Lifecycle> {
        use Lifecycle as L;
        let with_exits = |mut targets: Vec<Lifecycle>| {
            targets.extend(any_missing());
            targets.extend(any_retired());
            targets
        };
        let mut row = match from {
            L::Planned => vec![
                L::OnOrder,
                L::InStock,
                L::Retired(RetirementReason::Decommissioned),
            ],
            L::OnOrder => with_exits(vec![L::InStock, L::InTransit]),
            L::InTransit => with_exits(vec![L::InStock, L::InUse]),
            L::InStock => with_exits(vec![
                L::InUse,
                L::InMaintenance,
                L::InTransit,
                L::ScheduledForRetirement,
            ]),
            L::InUse => with_exits(vec![
                L::InStock,
                L::InMaintenance,
                L::ScheduledForRetirement,
            ]),
            L::InMaintenance => with_exits(vec![L::InStock, L::InUse, L::ScheduledForRetirement]),
            L::ScheduledForRetirement => with_exits(vec![L::InUse]),
            L::Missing(_) => with_exits(vec![L::InStock]),
            L::Retired(RetirementReason::Decommissioned) => final_retired(),
            L::Retired(_) => vec![],
        };
        row.retain(|to| *to != from);
        row
    }

    #[test]
    fn every_row_of_the_table() {
        let id = ResourceId::new("a-1").unwrap();
        for from in all() {
            let row = expected_row(from);
            for to in all() {
                let expected = from == to || row.contains(&to);
                assert_eq!(from.can_transition_to(to), expected, "{from} -> {to}");
                assert_eq!(
                    from.check_transition(to, &id).is_ok(),
                    expected,
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn same_state_is_an_allowed_no_op() {
        let id = ResourceId::new("a-1").unwrap();
        for state in all() {
            assert_eq!(state.check_transition(state, &id), Ok(()), "{state}");
        }
    }

    #[test]
    fn refusal_names_the_asset_and_both_states() {
        let id = ResourceId::new("srv-9").unwrap();
        let from = Lifecycle::Planned;
        let to = Lifecycle::Missing(MissingReason::Lost);
        let err = from.check_transition(to, &id).unwrap_err();
        assert_eq!(
            err,
            Error::InvalidTransition {
                id: id.clone(),
                from,
                to
            }
        );
        assert_eq!(
            err.to_string(),
            "invalid lifecycle transition of `srv-9` from planned to missing (lost)"
        );
    }

    #[test]
    fn reactivation_is_explicit_and_only_from_decommissioned_to_in_use() {
        let id = ResourceId::new("a-1").unwrap();
        let decommissioned = Lifecycle::Retired(RetirementReason::Decommissioned);
        for from in all() {
            for to in all() {
                let expected = from == decommissioned && to == Lifecycle::InUse;
                assert_eq!(from.can_reactivate_to(to), expected, "{from} -> {to}");
                assert_eq!(
                    from.check_reactivation(to, &id).is_ok(),
                    expected,
                    "{from} -> {to}"
                );
            }
        }
        let err = decommissioned
            .check_transition(Lifecycle::InUse, &id)
            .unwrap_err();
        assert!(matches!(err, Error::InvalidTransition { .. }));
    }

    #[test]
    fn only_decommissioned_is_not_final() {
        for reason in RETIRED {
            assert_eq!(
                reason.is_final(),
                reason != RetirementReason::Decommissioned,
                "{reason}"
            );
            assert_eq!(Lifecycle::Retired(reason).is_final(), reason.is_final());
        }
        assert!(
            all()
                .iter()
                .filter(|s| !s.is_retired())
                .all(|s| !s.is_final())
        );
    }

    /// Everything reachable from `from` by any number of transitions and
    /// reactivations.
    fn reachable(from: Lifecycle) -> Vec<Lifecycle> {
        let states = all();
        let mut seen = vec![from];
        let mut next = 0;
        while let Some(&state) = seen.get(next) {
            next += 1;
            for &to in &states {
                let step = state.can_transition_to(to) || state.can_reactivate_to(to);
                if step && !seen.contains(&to) {
                    seen.push(to);
                }
            }
        }
        seen
    }

    #[test]
    fn gone_for_good_is_absorbing_by_exhaustive_search() {
        for state in final_retired() {
            assert_eq!(reachable(state), vec![state], "{state}");
        }
        // Every other state can still reach every final state.
        for state in all().into_iter().filter(|s| !s.is_final()) {
            let reach = reachable(state);
            assert!(final_retired().iter().all(|f| reach.contains(f)), "{state}");
        }
    }

    fn state() -> impl Strategy<Value = Lifecycle> {
        proptest::sample::select(all())
    }

    proptest! {
        /// A random walk of attempted moves, each checked either as a
        /// transition or as a reactivation: once the asset is gone for good,
        /// it never reaches a non-retired state, nor any other state.
        #[test]
        fn no_path_leaves_a_final_state(
            start in state(),
            steps in proptest::collection::vec((state(), any::<bool>()), 0..40),
        ) {
            let id = ResourceId::new("walk").unwrap();
            let mut current = start;
            let mut gone = current.is_final().then_some(current);
            for (to, reactivate) in steps {
                let checked = if reactivate {
                    current.check_reactivation(to, &id)
                } else {
                    current.check_transition(to, &id)
                };
                if checked.is_ok() {
                    current = to;
                }
                if let Some(final_state) = gone {
                    prop_assert_eq!(current, final_state);
                } else if current.is_final() {
                    gone = Some(current);
                }
            }
        }
    }

    #[test]
    fn serde_shapes() {
        assert_eq!(
            serde_json::to_string(&Lifecycle::InUse).unwrap(),
            r#""in_use""#
        );
        let retired = Lifecycle::Retired(RetirementReason::Disposed);
        let json = serde_json::to_string(&retired).unwrap();
        assert_eq!(json, r#"{"retired":"disposed"}"#);
        assert_eq!(serde_json::from_str::<Lifecycle>(&json).unwrap(), retired);
    }

    #[test]
    fn activity() {
        assert!(Lifecycle::InUse.is_active());
        assert!(Lifecycle::ScheduledForRetirement.is_active());
        assert!(!Lifecycle::InStock.is_active());
        assert!(!Lifecycle::Missing(MissingReason::Stolen).is_active());
        assert_eq!(Lifecycle::default(), Lifecycle::InUse);
        assert_eq!(
            Lifecycle::Missing(MissingReason::Lost).to_string(),
            "missing (lost)"
        );
    }
}
