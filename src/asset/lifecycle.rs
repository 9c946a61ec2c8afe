//! The asset lifecycle vocabulary.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where an asset is in its life, as the asset register records it.
///
/// The vocabulary follows ITAM practice: planned and on order, in stock or in
/// transit, in use (deployed), in maintenance, scheduled for retirement,
/// missing, retired. `Missing` and `Retired` carry a substate saying why.
///
/// This release records the state; which transitions between states are
/// allowed is enforced by the lifecycle write path of a later release.
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
    use super::*;

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
