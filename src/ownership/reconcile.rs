//! Reconciling the two views: which fields mean the same thing in the asset
//! register and the CMDB, which view is authoritative for each, and how an
//! asset's lifecycle maps to a CI's operational status.

use serde::{Deserialize, Serialize};

use super::{AssetField, CiField, Field, Value, ValueType, View};
use crate::{Error, Lifecycle, OperationalStatus, Region, ResourceId};

/// A field that exists in both views, and the view whose value wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldPair {
    asset: AssetField,
    ci: CiField,
    authority: View,
}

impl FieldPair {
    /// The asset's side.
    #[must_use]
    pub fn asset(&self) -> &AssetField {
        &self.asset
    }

    /// The CI's side.
    #[must_use]
    pub fn ci(&self) -> &CiField {
        &self.ci
    }

    /// The view whose value is written to the other when resolving.
    #[must_use]
    pub fn authority(&self) -> View {
        self.authority
    }

    /// The value of the authoritative side converted for the other side
    /// (a location text becomes a region and back).
    pub(crate) fn convert(&self, value: &Value, to: View) -> Option<Value> {
        match (value, to) {
            (Value::Text(text), View::Ci) if self.ci == CiField::Region => {
                Region::new(text).ok().map(Value::Region)
            }
            (Value::Region(region), View::Asset) => Some(Value::text(region.as_str())),
            (value, _) => Some(value.clone()),
        }
    }

    /// Whether the two sides hold the same thing (a region and a location
    /// compare as text).
    pub(crate) fn agree(asset: Option<&Value>, ci: Option<&Value>) -> bool {
        match (asset, ci) {
            (Some(Value::Text(text)), Some(Value::Region(region))) => text == region.as_str(),
            (a, c) => a == c,
        }
    }
}

/// Which fields the two views share and which view wins on each; see
/// [`Estate::reconcile`](crate::Estate::reconcile).
///
/// # Example
///
/// ```
/// use itam_cmdb::ownership::{AssetField, CiField, ReconcileRules, View};
///
/// let rules = ReconcileRules::standard()
///     .pair(AssetField::Attribute("serial".parse()?), CiField::Attribute("serial".parse()?), View::Ci)?;
/// assert_eq!(rules.pairs().len(), 2);
/// // A date cannot be compared with a text.
/// assert!(ReconcileRules::new().pair(AssetField::PurchaseDate, CiField::Owner, View::Asset).is_err());
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReconcileRules {
    pairs: Vec<FieldPair>,
}

impl ReconcileRules {
    /// No shared fields (the lifecycle and status mapping still applies).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The usual agreement: the owner is shared and the asset register is
    /// authoritative for it. Names and locations usually differ on purpose
    /// (a purchase description against a host name, a data hall against a
    /// cloud region); pair them with [`pair`](Self::pair) where they should
    /// match.
    #[must_use]
    pub fn standard() -> Self {
        Self {
            pairs: vec![FieldPair {
                asset: AssetField::Owner,
                ci: CiField::Owner,
                authority: View::Asset,
            }],
        }
    }

    /// Adds a pair of fields that mean the same thing.
    ///
    /// # Errors
    ///
    /// [`Error::PolicyConflict`] if the two fields hold values that cannot
    /// be compared, or either field is already paired.
    pub fn pair(mut self, asset: AssetField, ci: CiField, authority: View) -> Result<Self, Error> {
        let types = (
            Field::Asset(asset.clone()).value_type(),
            Field::Ci(ci.clone()).value_type(),
        );
        let comparable =
            types.0 == types.1 || matches!(types, (ValueType::Text, ValueType::Region));
        let scope = format!(
            "{} and {}",
            Field::Asset(asset.clone()),
            Field::Ci(ci.clone())
        );
        if !comparable {
            return Err(Error::PolicyConflict {
                scope,
                reason: format!("a {} cannot be compared with a {}", types.0, types.1),
            });
        }
        if self.pairs.iter().any(|p| p.asset == asset || p.ci == ci) {
            return Err(Error::PolicyConflict {
                scope,
                reason: "a field is already paired".to_owned(),
            });
        }
        self.pairs.push(FieldPair {
            asset,
            ci,
            authority,
        });
        Ok(self)
    }

    /// The pairs, in the order given.
    #[must_use]
    pub fn pairs(&self) -> &[FieldPair] {
        &self.pairs
    }
}

/// The CI statuses that agree with an asset lifecycle state:
///
/// | lifecycle | expected CI status |
/// |---|---|
/// | in use, scheduled for retirement | live (operational, degraded, standby) or in maintenance |
/// | in maintenance | in maintenance, non-operational, standby |
/// | planned, on order, in stock, in transit | planned, non-operational, standby |
/// | missing, retired | retired, non-operational |
///
/// Anything else is a [`Finding::StatusMismatch`]: a retired asset whose
/// CI is still operational, or a CI retired while its asset is in use (the
/// licence invoice for a decommissioned workload).
#[must_use]
pub fn status_agrees(lifecycle: Lifecycle, status: OperationalStatus) -> bool {
    use OperationalStatus as S;
    match lifecycle {
        Lifecycle::InUse | Lifecycle::ScheduledForRetirement => {
            status.is_live() || status == S::InMaintenance
        }
        Lifecycle::InMaintenance => {
            matches!(status, S::InMaintenance | S::NonOperational | S::Standby)
        }
        Lifecycle::Planned | Lifecycle::OnOrder | Lifecycle::InStock | Lifecycle::InTransit => {
            matches!(status, S::Planned | S::NonOperational | S::Standby)
        }
        Lifecycle::Missing(_) | Lifecycle::Retired(_) => {
            matches!(status, S::Retired | S::NonOperational)
        }
    }
}

/// One disagreement between the two views of a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Finding {
    /// A paired field differs.
    Mismatch {
        /// The resource.
        resource: ResourceId,
        /// The asset's field.
        asset_field: AssetField,
        /// The asset's value.
        asset_value: Option<Value>,
        /// The CI's field.
        ci_field: CiField,
        /// The CI's value.
        ci_value: Option<Value>,
        /// The view whose value wins when resolving.
        authority: View,
    },
    /// The asset's lifecycle and the CI's status disagree (see
    /// [`status_agrees`]); reported, never resolved automatically.
    StatusMismatch {
        /// The resource.
        resource: ResourceId,
        /// The asset's lifecycle state.
        lifecycle: Lifecycle,
        /// The CI's operational status.
        status: OperationalStatus,
    },
}

impl Finding {
    /// The resource the finding is about.
    #[must_use]
    pub fn resource(&self) -> &ResourceId {
        match self {
            Self::Mismatch { resource, .. } | Self::StatusMismatch { resource, .. } => resource,
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: &Option<Value>| v.as_ref().map_or("(empty)".to_owned(), ToString::to_string);
        match self {
            Self::Mismatch {
                resource,
                asset_field,
                asset_value,
                ci_field,
                ci_value,
                authority,
            } => write!(
                f,
                "`{resource}`: {} is {} but {} is {} ({authority} wins)",
                Field::Asset(asset_field.clone()),
                show(asset_value),
                Field::Ci(ci_field.clone()),
                show(ci_value)
            ),
            Self::StatusMismatch {
                resource,
                lifecycle,
                status,
            } => write!(f, "`{resource}`: asset is {lifecycle} but CI is {status}"),
        }
    }
}

/// What [`Estate::reconcile`](crate::Estate::reconcile) found, and the
/// claims that would resolve it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reconciliation {
    findings: Vec<Finding>,
    resolution: crate::Batch,
}

impl Reconciliation {
    pub(crate) fn new(findings: Vec<Finding>, resolution: crate::Batch) -> Self {
        Self {
            findings,
            resolution,
        }
    }

    /// Every disagreement, resource by resource in asset register order,
    /// paired fields in rule order, then the status.
    #[must_use]
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// The claims that write each authoritative value to the other view:
    /// give them to [`Estate::plan`](crate::Estate::plan) to see what would
    /// change, or [`Estate::apply`](crate::Estate::apply) to resolve.
    #[must_use]
    pub fn resolution(&self) -> &crate::Batch {
        &self.resolution
    }

    /// The resolving claims, to apply.
    #[must_use]
    pub fn into_resolution(self) -> crate::Batch {
        self.resolution
    }
}
