//! Licence entitlements, assignments, and the compliance position of each
//! product: what is owned against what the CMDB shows in use.
//!
//! # Where consumption comes from
//!
//! * **Installs** are recorded on configuration items by an attribute
//!   convention, [`LicenceRules`]: a CI has product `P` installed when it
//!   has an attribute whose key is the install prefix followed by `P`
//!   (by default `installed:P`), with any value except the flag `false`.
//!   Product names match exactly (case-sensitive).
//! * **Cores** come from the CI's integer attribute named by
//!   [`LicenceRules::cores_key`] (by default `cores`).
//! * **Assignments** ([`Assignment`]) give a product to a user or a device
//!   by id; the CMDB need not know the id.
//! * **Retired** configuration items consume nothing: neither their installs
//!   nor assignments to them count.
//!
//! How a product's consumption is counted depends on the
//! [`LicenceMetric`] of its entitlements; see [`compliance`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::excerpt;
use crate::label::{MAX_KEY, MAX_TEXT, check_field_label, check_label};
use crate::money::pad_whole;
use crate::{AttributeKey, AttributeValue, Error, Estate, Money, OperationalStatus, ResourceId};

/// How a licence is counted.
///
/// # Example
///
/// ```
/// use itam_cmdb::finance::LicenceMetric;
///
/// assert_eq!(LicenceMetric::PerCore.to_string(), "per core");
/// assert!(LicenceMetric::PerDevice.counts_installs());
/// assert!(!LicenceMetric::PerUser.counts_installs());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LicenceMetric {
    /// One licence per device it is installed on.
    PerDevice,
    /// One licence per named user it is assigned to.
    PerUser,
    /// One licence per processor core of each device it is installed on.
    PerCore,
    /// Subscription seats, one per assignment.
    Subscription,
    /// Concurrent use, one per assignment (record the peak concurrent users
    /// as assignments).
    Concurrent,
}

impl LicenceMetric {
    /// Whether consumption is counted from installs on configuration items
    /// (per device, per core) rather than from assignments (per user,
    /// subscription, concurrent).
    #[must_use]
    pub fn counts_installs(self) -> bool {
        matches!(self, Self::PerDevice | Self::PerCore)
    }
}

impl fmt::Display for LicenceMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::PerDevice => "per device",
            Self::PerUser => "per user",
            Self::PerCore => "per core",
            Self::Subscription => "subscription",
            Self::Concurrent => "concurrent",
        })
    }
}

/// How many units an entitlement grants, or how many are left.
///
/// Ordered so that every limited quantity is below
/// [`Unlimited`](Self::Unlimited).
///
/// # Serde
///
/// `{"limited": 10}` or `"unlimited"`.
///
/// # Display
///
/// The number, or `unlimited`. Width, fill and alignment apply to the
/// whole text, so `{:>9}` right-aligns either in a column (left is the
/// default, as for a string). Precision is ignored: a count is never cut.
///
/// # Example
///
/// ```
/// use itam_cmdb::finance::LicenceQuantity;
///
/// assert!(LicenceQuantity::Limited(u64::MAX) < LicenceQuantity::Unlimited);
/// assert_eq!(LicenceQuantity::Limited(10).to_string(), "10");
/// assert_eq!(format!("[{:>9}]", LicenceQuantity::Limited(10)), "[       10]");
/// assert_eq!(format!("[{:>9}]", LicenceQuantity::Unlimited), "[unlimited]");
/// assert_eq!(LicenceQuantity::Unlimited.limit(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenceQuantity {
    /// A fixed number of units.
    Limited(u64),
    /// No limit (an enterprise or site licence).
    Unlimited,
}

impl LicenceQuantity {
    /// The number of units, or `None` when unlimited.
    #[must_use]
    pub fn limit(self) -> Option<u64> {
        match self {
            Self::Limited(n) => Some(n),
            Self::Unlimited => None,
        }
    }
}

impl fmt::Display for LicenceQuantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Limited(n) => pad_whole(f, format_args!("{n}")),
            Self::Unlimited => pad_whole(f, format_args!("unlimited")),
        }
    }
}

/// Whether an entitlement counts on a given day; see
/// [`Entitlement::status`].
///
/// # Example
///
/// ```
/// use itam_cmdb::finance::EntitlementStatus;
///
/// assert_eq!(EntitlementStatus::Active.to_string(), "active");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EntitlementStatus {
    /// The start date is still to come.
    NotStarted,
    /// Between the start date and the end date, both included.
    Active,
    /// The end date has passed.
    Expired,
}

impl fmt::Display for EntitlementStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::NotStarted => "not started",
            Self::Active => "active",
            Self::Expired => "expired",
        })
    }
}

/// The right to use a quantity of a software product, bought under a
/// licence: its own id, the product, how it is counted, how many units, when
/// it is valid, what it cost and who owns it.
///
/// # Invariants
///
/// * the product is a label of at most 128 bytes (it appears inside an
///   attribute key); the owner a label of at most 1024 bytes;
/// * a limited quantity is at least 1;
/// * the end date, if any, is not before the start date (both inclusive);
/// * the cost is not negative.
///
/// Each broken rule is an [`Error::InvalidField`] naming the entitlement and
/// the field.
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use itam_cmdb::{finance::{Entitlement, EntitlementStatus, LicenceMetric, LicenceQuantity}, ResourceId};
///
/// let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
/// let seats = Entitlement::builder(
///     ResourceId::new("ent-rpt-2026")?,
///     "Reporting Suite",
///     LicenceMetric::PerCore,
///     LicenceQuantity::Limited(16),
///     day(2026, 2, 1),
/// )
/// .end(day(2027, 1, 31))
/// .cost("40000.00 USD".parse()?)
/// .owner("Marta Lindqvist")
/// .build()?;
/// assert_eq!(seats.status(day(2027, 1, 31)), EntitlementStatus::Active);
/// assert_eq!(seats.status(day(2027, 2, 1)), EntitlementStatus::Expired);
/// assert_eq!(seats.expiry(), Some(day(2027, 1, 31)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "EntitlementBuilder")]
pub struct Entitlement {
    id: ResourceId,
    product: String,
    metric: LicenceMetric,
    quantity: LicenceQuantity,
    start: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
}

impl Entitlement {
    /// Starts building an entitlement; see [`EntitlementBuilder`].
    #[must_use]
    pub fn builder(
        id: ResourceId,
        product: impl Into<String>,
        metric: LicenceMetric,
        quantity: LicenceQuantity,
        start: NaiveDate,
    ) -> EntitlementBuilder {
        EntitlementBuilder {
            id,
            product: product.into(),
            metric,
            quantity,
            start,
            end: None,
            cost: None,
            owner: None,
        }
    }

    /// A builder holding this entitlement's values, to derive a changed copy.
    #[must_use]
    pub fn to_builder(&self) -> EntitlementBuilder {
        EntitlementBuilder {
            id: self.id.clone(),
            product: self.product.clone(),
            metric: self.metric,
            quantity: self.quantity,
            start: self.start,
            end: self.end,
            cost: self.cost,
            owner: self.owner.clone(),
        }
    }

    /// The entitlement's own id.
    #[must_use]
    pub fn id(&self) -> &ResourceId {
        &self.id
    }

    /// The product it licenses.
    #[must_use]
    pub fn product(&self) -> &str {
        &self.product
    }

    /// How it is counted.
    #[must_use]
    pub fn metric(&self) -> LicenceMetric {
        self.metric
    }

    /// How many units it grants.
    #[must_use]
    pub fn quantity(&self) -> LicenceQuantity {
        self.quantity
    }

    /// The first day it is valid.
    #[must_use]
    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// The last day it is valid; `None` for a perpetual licence.
    #[must_use]
    pub fn end(&self) -> Option<NaiveDate> {
        self.end
    }

    /// The day it expires, for the renewal calendar: its last valid day,
    /// the same as [`end`](Self::end).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use itam_cmdb::{finance::{Entitlement, LicenceMetric, LicenceQuantity}, ResourceId};
    ///
    /// let perpetual = Entitlement::builder(
    ///     ResourceId::new("ent-1")?, "Visio", LicenceMetric::PerUser,
    ///     LicenceQuantity::Limited(5), NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
    /// ).build()?;
    /// assert_eq!(perpetual.expiry(), None);
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    #[must_use]
    pub fn expiry(&self) -> Option<NaiveDate> {
        self.end
    }

    /// What it cost, if known.
    #[must_use]
    pub fn cost(&self) -> Option<Money> {
        self.cost
    }

    /// The person or team accountable for it.
    #[must_use]
    pub fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    /// Whether it counts on `as_of`: from its start date to its end date,
    /// both included.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use itam_cmdb::{finance::{Entitlement, EntitlementStatus, LicenceMetric, LicenceQuantity}, ResourceId};
    ///
    /// let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    /// let e = Entitlement::builder(
    ///     ResourceId::new("ent-1")?, "Visio", LicenceMetric::PerUser,
    ///     LicenceQuantity::Limited(5), day(2026, 1, 1),
    /// ).end(day(2026, 12, 31)).build()?;
    /// assert_eq!(e.status(day(2025, 12, 31)), EntitlementStatus::NotStarted);
    /// assert_eq!(e.status(day(2026, 1, 1)), EntitlementStatus::Active);
    /// assert_eq!(e.status(day(2027, 1, 1)), EntitlementStatus::Expired);
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    #[must_use]
    pub fn status(&self, as_of: NaiveDate) -> EntitlementStatus {
        if as_of < self.start {
            EntitlementStatus::NotStarted
        } else if self.end.is_some_and(|end| end < as_of) {
            EntitlementStatus::Expired
        } else {
            EntitlementStatus::Active
        }
    }
}

/// Builds a validated [`Entitlement`]; made by [`Entitlement::builder`].
///
/// Nothing is checked until [`build`](Self::build). Deserialising an
/// [`Entitlement`] reads this builder (unknown fields are refused) and
/// validates it.
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use itam_cmdb::{finance::{Entitlement, LicenceMetric, LicenceQuantity}, ResourceId};
///
/// let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
/// let err = Entitlement::builder(
///     ResourceId::new("ent-1")?, "Visio", LicenceMetric::PerUser,
///     LicenceQuantity::Limited(5), day(2026, 1, 1),
/// )
/// .end(day(2025, 12, 31))
/// .build()
/// .unwrap_err();
/// assert_eq!(err.to_string(), "invalid end of `ent-1`: must not be before the start 2026-01-01");
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntitlementBuilder {
    id: ResourceId,
    product: String,
    metric: LicenceMetric,
    quantity: LicenceQuantity,
    start: NaiveDate,
    #[serde(default)]
    end: Option<NaiveDate>,
    #[serde(default)]
    cost: Option<Money>,
    #[serde(default)]
    owner: Option<String>,
}

impl EntitlementBuilder {
    /// Sets the last valid day (inclusive).
    #[must_use]
    pub fn end(mut self, end: NaiveDate) -> Self {
        self.end = Some(end);
        self
    }

    /// Sets the cost.
    #[must_use]
    pub fn cost(mut self, cost: Money) -> Self {
        self.cost = Some(cost);
        self
    }

    /// Sets the accountable person or team.
    #[must_use]
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// Checks every rule and returns the entitlement.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidField`] naming the entitlement and the first field
    /// that breaks a rule listed on [`Entitlement`].
    pub fn build(self) -> Result<Entitlement, Error> {
        let id = self.id;
        let field = |field: &str, reason: String| Error::invalid_field(&id, field, reason);
        check_field_label(&id, "product", &self.product, MAX_KEY)?;
        if let Some(owner) = &self.owner {
            check_field_label(&id, "owner", owner, MAX_TEXT)?;
        }
        if self.quantity == LicenceQuantity::Limited(0) {
            return Err(field("quantity", "must be at least 1".to_owned()));
        }
        if self.end.is_some_and(|end| end < self.start) {
            return Err(field(
                "end",
                format!("must not be before the start {}", self.start),
            ));
        }
        if self.cost.is_some_and(|c| c.is_negative()) {
            return Err(field("cost", "must not be negative".to_owned()));
        }
        Ok(Entitlement {
            id,
            product: self.product,
            metric: self.metric,
            quantity: self.quantity,
            start: self.start,
            end: self.end,
            cost: self.cost,
            owner: self.owner,
        })
    }
}

impl TryFrom<EntitlementBuilder> for Entitlement {
    type Error = Error;

    fn try_from(builder: EntitlementBuilder) -> Result<Self, Self::Error> {
        builder.build()
    }
}

/// A product given to one user or one device, identified by id.
///
/// Assignments are how per-user, subscription and concurrent licences are
/// consumed (see [`compliance`]). The id need not be in the estate: users
/// are not configuration items. An assignment to a retired configuration
/// item consumes nothing.
///
/// # Example
///
/// ```
/// use itam_cmdb::{finance::Assignment, ResourceId};
///
/// let a = Assignment::new("Visio", ResourceId::new("user:dana.whitfield")?)?;
/// assert_eq!(a.product(), "Visio");
/// assert_eq!(a.assignee().as_str(), "user:dana.whitfield");
/// assert!(Assignment::new(" Visio", ResourceId::new("u-1")?).is_err());
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "AssignmentRecord")]
pub struct Assignment {
    product: String,
    assignee: ResourceId,
}

/// The serialised form of [`Assignment`], validated on the way in.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignmentRecord {
    product: String,
    assignee: ResourceId,
}

impl TryFrom<AssignmentRecord> for Assignment {
    type Error = Error;

    fn try_from(record: AssignmentRecord) -> Result<Self, Error> {
        Self::new(record.product, record.assignee)
    }
}

impl Assignment {
    /// Assigns `product` to `assignee`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidLabel`] if the product is not a label of at most 128
    /// bytes.
    pub fn new(product: impl Into<String>, assignee: ResourceId) -> Result<Self, Error> {
        let product = product.into();
        check_label("product", &product, MAX_KEY)?;
        Ok(Self { product, assignee })
    }

    /// The product.
    #[must_use]
    pub fn product(&self) -> &str {
        &self.product
    }

    /// The user or device it is assigned to.
    #[must_use]
    pub fn assignee(&self) -> &ResourceId {
        &self.assignee
    }
}

/// The attribute convention that records installs and core counts on
/// configuration items.
///
/// * A CI has product `P` installed when it has an attribute whose key is
///   [`install_prefix`](Self::install_prefix) followed by `P` exactly, with
///   any value except [`AttributeValue::Flag`]`(false)` (which records an
///   uninstall). Default prefix: `installed:`.
/// * Its core count is the [`AttributeValue::Integer`] attribute named
///   [`cores_key`](Self::cores_key), which must be at least 1. Default key:
///   `cores`.
///
/// # Example
///
/// ```
/// use itam_cmdb::finance::LicenceRules;
///
/// let rules = LicenceRules::default();
/// assert_eq!(rules.install_prefix(), "installed:");
/// assert_eq!(rules.cores_key(), "cores");
///
/// let rules = rules.with_install_prefix("sw/")?.with_cores_key("vcpus")?;
/// assert!(LicenceRules::default().with_cores_key("").is_err());
/// assert_eq!(rules.install_key("Oracle Database"), "sw/Oracle Database");
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RulesRecord")]
pub struct LicenceRules {
    install_prefix: String,
    cores_key: String,
}

/// The serialised form of [`LicenceRules`]: each key is validated, and a
/// missing one takes its default.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesRecord {
    #[serde(default)]
    install_prefix: Option<String>,
    #[serde(default)]
    cores_key: Option<String>,
}

impl TryFrom<RulesRecord> for LicenceRules {
    type Error = Error;

    fn try_from(record: RulesRecord) -> Result<Self, Error> {
        let mut rules = Self::default();
        if let Some(prefix) = record.install_prefix {
            rules = rules.with_install_prefix(&prefix)?;
        }
        if let Some(key) = record.cores_key {
            rules = rules.with_cores_key(&key)?;
        }
        Ok(rules)
    }
}

impl Default for LicenceRules {
    fn default() -> Self {
        Self {
            install_prefix: Self::DEFAULT_INSTALL_PREFIX.to_owned(),
            cores_key: Self::DEFAULT_CORES_KEY.to_owned(),
        }
    }
}

impl LicenceRules {
    /// The default prefix of install attribute keys.
    pub const DEFAULT_INSTALL_PREFIX: &'static str = "installed:";

    /// The default key of the core count attribute.
    pub const DEFAULT_CORES_KEY: &'static str = "cores";

    /// The prefix of install attribute keys.
    #[must_use]
    pub fn install_prefix(&self) -> &str {
        &self.install_prefix
    }

    /// The key of the core count attribute.
    #[must_use]
    pub fn cores_key(&self) -> &str {
        &self.cores_key
    }

    /// Uses another prefix for install attribute keys.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidLabel`] if `prefix` breaks a rule of [`AttributeKey`].
    pub fn with_install_prefix(mut self, prefix: &str) -> Result<Self, Error> {
        AttributeKey::new(prefix)?;
        prefix.clone_into(&mut self.install_prefix);
        Ok(self)
    }

    /// Uses another key for the core count.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidLabel`] if `key` breaks a rule of [`AttributeKey`].
    pub fn with_cores_key(mut self, key: &str) -> Result<Self, Error> {
        AttributeKey::new(key)?;
        key.clone_into(&mut self.cores_key);
        Ok(self)
    }

    /// The attribute key that records `product` as installed.
    #[must_use]
    pub fn install_key(&self, product: &str) -> String {
        format!("{}{product}", self.install_prefix)
    }

    /// The products installed on a configuration item by these rules, in
    /// the item's attribute order.
    fn installed<'a>(&self, attributes: &'a crate::Attributes) -> impl Iterator<Item = &'a str> {
        let prefix = self.install_prefix.as_str();
        attributes.iter().filter_map(move |(key, value)| {
            let product = key.as_str().strip_prefix(prefix)?;
            let uninstalled = matches!(value, AttributeValue::Flag(false));
            (!product.is_empty() && !uninstalled).then_some(product)
        })
    }

    /// The core count recorded on a configuration item, if valid.
    fn cores(&self, attributes: &crate::Attributes) -> Option<u64> {
        let cores = attributes.get(&self.cores_key)?.as_integer()?;
        u64::try_from(cores).ok().filter(|&n| n >= 1)
    }
}

/// Why a consumer is not covered by a product's entitlements.
///
/// # Example
///
/// ```
/// use itam_cmdb::finance::UnlicensedReason;
///
/// assert_eq!(UnlicensedReason::Shortfall.to_string(), "not enough licences owned");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UnlicensedReason {
    /// The units it needs are more than what is left of the quantity owned.
    Shortfall,
    /// A per-core install on a configuration item with no valid core count
    /// (missing, not an integer, or below 1): it cannot be counted, so it
    /// cannot be covered by a limited quantity. It counts 0 units.
    UnknownCores,
}

impl fmt::Display for UnlicensedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::Shortfall => "not enough licences owned",
            Self::UnknownCores => "no valid core count recorded",
        })
    }
}

/// Whether a consumer is covered; see [`Consumer::status`].
///
/// # Example
///
/// ```
/// use itam_cmdb::finance::{ConsumerStatus, UnlicensedReason};
///
/// assert!(ConsumerStatus::Covered.is_covered());
/// assert!(!ConsumerStatus::Unlicensed(UnlicensedReason::Shortfall).is_covered());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConsumerStatus {
    /// Covered by the quantity owned.
    Covered,
    /// Not covered, and why.
    Unlicensed(UnlicensedReason),
}

impl ConsumerStatus {
    /// Whether the consumer is covered.
    #[must_use]
    pub fn is_covered(self) -> bool {
        matches!(self, Self::Covered)
    }
}

/// One configuration item, user or device consuming a product, with the
/// units it consumes and whether they are covered.
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use itam_cmdb::{
///     finance::{self, ConsumerStatus, Entitlement, LicenceMetric, LicenceQuantity, LicenceRules},
///     CiClass, ConfigurationItem, Estate, ResourceId,
/// };
///
/// let mut estate = Estate::new();
/// estate.insert_ci(
///     ConfigurationItem::builder(ResourceId::new("db-1")?, "db-1", CiClass::Database)
///         .attribute("installed:Oracle Database", "19c")
///         .attribute("cores", 8)
///         .build()?,
/// )?;
/// let day = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
/// let cores = Entitlement::builder(
///     ResourceId::new("ent-ora")?, "Oracle Database", LicenceMetric::PerCore,
///     LicenceQuantity::Limited(8), day,
/// ).build()?;
/// let positions = finance::compliance(&estate, &[cores], &[], &LicenceRules::default(), day)?;
/// let db = &positions[0].consumers()[0];
/// assert_eq!((db.id().as_str(), db.units(), db.status()), ("db-1", 8, ConsumerStatus::Covered));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consumer {
    id: ResourceId,
    units: u64,
    status: ConsumerStatus,
}

impl Consumer {
    /// The configuration item, user or device.
    #[must_use]
    pub fn id(&self) -> &ResourceId {
        &self.id
    }

    /// The units it consumes: 1 per device or user, its cores per core (0
    /// when the core count is unknown).
    #[must_use]
    pub fn units(&self) -> u64 {
        self.units
    }

    /// Whether it is covered.
    #[must_use]
    pub fn status(&self) -> ConsumerStatus {
        self.status
    }
}

/// The compliance position of one product on one day; made by
/// [`compliance`].
///
/// `owned` is the sum of the active entitlements' quantities; `used` the
/// units consumed. When owned is limited, `owned - used = available -
/// shortfall`, with one of `available` and `shortfall` zero; when owned is
/// unlimited, everything is covered and available is unlimited. Every unit
/// used is either covered or unlicensed: `used = covered_units() +
/// unlicensed_units()`.
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use itam_cmdb::{
///     finance::{self, Entitlement, LicenceMetric, LicenceQuantity, LicenceRules},
///     CiClass, ConfigurationItem, Estate, ResourceId,
/// };
///
/// let mut estate = Estate::new();
/// for name in ["srv-1", "srv-2", "srv-3"] {
///     estate.insert_ci(
///         ConfigurationItem::builder(ResourceId::new(name)?, name, CiClass::Server)
///             .attribute("installed:Backup Agent", true)
///             .build()?,
///     )?;
/// }
/// let day = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
/// let owned = Entitlement::builder(
///     ResourceId::new("ent-backup")?, "Backup Agent", LicenceMetric::PerDevice,
///     LicenceQuantity::Limited(2), day,
/// ).build()?;
/// let positions = finance::compliance(&estate, &[owned], &[], &LicenceRules::default(), day)?;
/// let backup = &positions[0];
/// assert_eq!((backup.used(), backup.shortfall()), (3, 1));
/// // Installs are covered in id order: srv-3 is the one left over.
/// let unlicensed: Vec<_> = backup.unlicensed().map(|c| c.id().as_str()).collect();
/// assert_eq!(unlicensed, ["srv-3"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicencePosition {
    product: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    metric: Option<LicenceMetric>,
    owned: LicenceQuantity,
    used: u64,
    available: LicenceQuantity,
    shortfall: u64,
    consumers: Vec<Consumer>,
    entitlements: Vec<ResourceId>,
}

impl LicencePosition {
    /// The product.
    #[must_use]
    pub fn product(&self) -> &str {
        &self.product
    }

    /// How the product is counted: the metric of its entitlements, or `None`
    /// when no entitlement for it was given at all.
    #[must_use]
    pub fn metric(&self) -> Option<LicenceMetric> {
        self.metric
    }

    /// The units owned under active entitlements.
    #[must_use]
    pub fn owned(&self) -> LicenceQuantity {
        self.owned
    }

    /// The units consumed.
    #[must_use]
    pub fn used(&self) -> u64 {
        self.used
    }

    /// The units owned and not used.
    #[must_use]
    pub fn available(&self) -> LicenceQuantity {
        self.available
    }

    /// The units used beyond those owned.
    #[must_use]
    pub fn shortfall(&self) -> u64 {
        self.shortfall
    }

    /// Every consumer, sorted by id.
    #[must_use]
    pub fn consumers(&self) -> &[Consumer] {
        &self.consumers
    }

    /// The consumers that are covered, by id.
    pub fn covered(&self) -> impl Iterator<Item = &Consumer> {
        self.consumers.iter().filter(|c| c.status.is_covered())
    }

    /// The consumers that are not covered, by id.
    pub fn unlicensed(&self) -> impl Iterator<Item = &Consumer> {
        self.consumers.iter().filter(|c| !c.status.is_covered())
    }

    /// The units of the covered consumers.
    #[must_use]
    pub fn covered_units(&self) -> u64 {
        self.covered().map(|c| c.units).fold(0, u64::saturating_add)
    }

    /// The units of the consumers that are not covered.
    #[must_use]
    pub fn unlicensed_units(&self) -> u64 {
        self.unlicensed()
            .map(|c| c.units)
            .fold(0, u64::saturating_add)
    }

    /// The ids of the entitlements counted in `owned` (the active ones),
    /// sorted.
    #[must_use]
    pub fn entitlements(&self) -> &[ResourceId] {
        &self.entitlements
    }

    /// Whether every consumer is covered.
    #[must_use]
    pub fn is_compliant(&self) -> bool {
        self.consumers.iter().all(|c| c.status.is_covered())
    }
}

/// What is known about one product while positions are computed.
#[derive(Default)]
struct Product<'a> {
    metric: Option<(LicenceMetric, &'a ResourceId)>,
    counted: Vec<&'a Entitlement>,
    /// Installs on live configuration items: id to core count (`None` when
    /// unknown).
    installs: BTreeMap<&'a ResourceId, Option<u64>>,
    assignees: BTreeSet<&'a ResourceId>,
}

/// The compliance position of every product on `as_of`, sorted by product
/// name.
///
/// # Products
///
/// A product has a position when an entitlement names it (active or not),
/// when a live configuration item records it installed, or when it is
/// assigned.
///
/// # Owned
///
/// The sum of the quantities of the entitlements active on `as_of`
/// ([`EntitlementStatus::Active`]); unlimited if any of them is. Expired
/// and not yet started entitlements do not count.
///
/// # Used
///
/// By the metric of the product's entitlements (all entitlements of one
/// product must share one metric):
///
/// * [`PerDevice`](LicenceMetric::PerDevice): 1 unit per live configuration
///   item with the product installed;
/// * [`PerCore`](LicenceMetric::PerCore): the core count of each of those
///   items; an item with no valid core count is a finding
///   ([`UnlicensedReason::UnknownCores`], 0 units);
/// * [`PerUser`](LicenceMetric::PerUser),
///   [`Subscription`](LicenceMetric::Subscription),
///   [`Concurrent`](LicenceMetric::Concurrent): 1 unit per distinct assignee
///   (repeated assignments count once);
/// * no entitlement at all: 1 unit per install and per assignee, none of
///   them covered.
///
/// Retired configuration items consume nothing: their installs and the
/// assignments to them are skipped. Installs of an assignment-counted
/// product, and assignments of an install-counted one, are ignored.
///
/// # Which consumers are unlicensed
///
/// Consumers are taken in [`ResourceId`] order, and each is covered if its
/// units fit in what is left of the quantity owned (first fit), else it is
/// unlicensed. With one unit each, the first `owned` are covered and the
/// rest are not.
///
/// # Errors
///
/// * [`Error::DuplicateEntitlement`] if two entitlements share an id;
/// * [`Error::InvalidField`] (field `metric`) naming an entitlement whose
///   metric differs from an earlier one for the same product;
/// * [`Error::Overflow`] if a sum of quantities or cores does not fit in a
///   `u64`.
///
/// # Complexity
///
/// O(A log P) for A attributes across the CMDB and P products, plus sorting
/// the entitlements and assignments.
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use itam_cmdb::{
///     finance::{self, Assignment, Entitlement, LicenceMetric, LicenceQuantity, LicenceRules},
///     Estate, ResourceId,
/// };
///
/// let day = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
/// let seats = Entitlement::builder(
///     ResourceId::new("ent-visio")?, "Visio", LicenceMetric::PerUser,
///     LicenceQuantity::Limited(5), day,
/// ).build()?;
/// let users = ["u-ann", "u-bob", "u-ann"]
///     .into_iter()
///     .map(|u| Assignment::new("Visio", ResourceId::new(u)?))
///     .collect::<Result<Vec<_>, _>>()?;
/// let positions = finance::compliance(&Estate::new(), &[seats], &users, &LicenceRules::default(), day)?;
/// assert_eq!(positions[0].used(), 2);
/// assert_eq!(positions[0].available().limit(), Some(3));
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
pub fn compliance(
    estate: &Estate,
    entitlements: &[Entitlement],
    assignments: &[Assignment],
    rules: &LicenceRules,
    as_of: NaiveDate,
) -> Result<Vec<LicencePosition>, Error> {
    let mut products: BTreeMap<&str, Product<'_>> = BTreeMap::new();
    let mut ids = BTreeSet::new();
    for entitlement in entitlements {
        if !ids.insert(&entitlement.id) {
            return Err(Error::DuplicateEntitlement(entitlement.id.clone()));
        }
        let product = products.entry(&entitlement.product).or_default();
        match product.metric {
            None => product.metric = Some((entitlement.metric, &entitlement.id)),
            Some((metric, first)) if metric != entitlement.metric => {
                return Err(Error::InvalidField {
                    id: entitlement.id.clone(),
                    field: "metric".to_owned(),
                    reason: format!(
                        "product {:?} is licensed {} by `{first}`, not {}",
                        excerpt(&entitlement.product),
                        metric,
                        entitlement.metric
                    ),
                });
            }
            Some(_) => {}
        }
        if entitlement.status(as_of) == EntitlementStatus::Active {
            product.counted.push(entitlement);
        }
    }
    let retired = |id: &ResourceId| {
        estate
            .ci(id)
            .is_some_and(|ci| ci.status() == OperationalStatus::Retired)
    };
    for ci in estate.cmdb() {
        if ci.status() == OperationalStatus::Retired {
            continue;
        }
        for product in rules.installed(ci.attributes()) {
            let cores = rules.cores(ci.attributes());
            products
                .entry(product)
                .or_default()
                .installs
                .insert(ci.id(), cores);
        }
    }
    for assignment in assignments {
        if !retired(&assignment.assignee) {
            products
                .entry(&assignment.product)
                .or_default()
                .assignees
                .insert(&assignment.assignee);
        }
    }
    products
        .into_iter()
        .map(|(name, product)| position(name, product))
        .collect()
}

/// The position of one product from what was gathered about it.
fn position(name: &str, product: Product<'_>) -> Result<LicencePosition, Error> {
    let overflow = |operation| Error::Overflow { operation };
    let mut owned = LicenceQuantity::Limited(0);
    for entitlement in &product.counted {
        owned = match (owned, entitlement.quantity) {
            (LicenceQuantity::Limited(a), LicenceQuantity::Limited(b)) => {
                LicenceQuantity::Limited(a.checked_add(b).ok_or(overflow("licence quantity sum"))?)
            }
            _ => LicenceQuantity::Unlimited,
        };
    }
    let metric = product.metric.map(|(metric, _)| metric);
    // Units each consumer needs, by id; `None` when they cannot be counted.
    let needs: BTreeMap<&ResourceId, Option<u64>> = match metric {
        Some(LicenceMetric::PerCore) => product.installs,
        Some(LicenceMetric::PerDevice) => {
            product.installs.keys().map(|&id| (id, Some(1))).collect()
        }
        Some(_) => product.assignees.iter().map(|&id| (id, Some(1))).collect(),
        None => product
            .installs
            .keys()
            .chain(&product.assignees)
            .map(|&id| (id, Some(1)))
            .collect(),
    };
    let mut left = owned.limit();
    let mut used: u64 = 0;
    let mut consumers = Vec::with_capacity(needs.len());
    for (id, units) in needs {
        let status = match (units, left.as_mut()) {
            (_, None) => ConsumerStatus::Covered,
            (None, Some(_)) => ConsumerStatus::Unlicensed(UnlicensedReason::UnknownCores),
            (Some(units), Some(left)) => match left.checked_sub(units) {
                Some(rest) => {
                    *left = rest;
                    ConsumerStatus::Covered
                }
                None => ConsumerStatus::Unlicensed(UnlicensedReason::Shortfall),
            },
        };
        let units = units.unwrap_or(0);
        used = used
            .checked_add(units)
            .ok_or(overflow("licence consumption sum"))?;
        consumers.push(Consumer {
            id: id.clone(),
            units,
            status,
        });
    }
    let (available, shortfall) = match owned {
        LicenceQuantity::Unlimited => (LicenceQuantity::Unlimited, 0),
        LicenceQuantity::Limited(owned) => (
            LicenceQuantity::Limited(owned.saturating_sub(used)),
            used.saturating_sub(owned),
        ),
    };
    let mut counted: Vec<ResourceId> = product.counted.iter().map(|e| e.id.clone()).collect();
    counted.sort_unstable();
    Ok(LicencePosition {
        product: name.to_owned(),
        metric,
        owned,
        used,
        available,
        shortfall,
        consumers,
        entitlements: counted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CiClass, ConfigurationItem};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn id(text: &str) -> ResourceId {
        ResourceId::new(text).unwrap()
    }

    fn entitlement(
        name: &str,
        product: &str,
        metric: LicenceMetric,
        quantity: u64,
    ) -> EntitlementBuilder {
        Entitlement::builder(
            id(name),
            product,
            metric,
            LicenceQuantity::Limited(quantity),
            day(2026, 1, 1),
        )
    }

    /// An estate of servers `srv-01`..: each with `product` installed and
    /// the given attribute for its cores (`None`: no cores attribute).
    fn servers(product: &str, cores: &[Option<AttributeValue>]) -> Estate {
        let mut estate = Estate::new();
        for (n, cores) in cores.iter().enumerate() {
            let name = format!("srv-{:02}", n + 1);
            let mut builder = ConfigurationItem::builder(id(&name), &name, CiClass::Server)
                .attribute(format!("installed:{product}"), "1.0");
            if let Some(cores) = cores {
                builder = builder.attribute("cores", cores.clone());
            }
            estate.insert_ci(builder.build().unwrap()).unwrap();
        }
        estate
    }

    fn ids<'a>(consumers: impl Iterator<Item = &'a Consumer>) -> Vec<&'a str> {
        consumers.map(|c| c.id().as_str()).collect()
    }

    #[test]
    fn quantity_display_honours_width_fill_and_alignment_but_never_cuts() {
        let ten = LicenceQuantity::Limited(10);
        let all = LicenceQuantity::Unlimited;
        assert_eq!(format!("{ten}|{all}"), "10|unlimited");
        assert_eq!(format!("[{ten:>9}]"), "[       10]");
        assert_eq!(format!("[{ten:9}]"), "[10       ]");
        assert_eq!(format!("[{ten:-^6}]"), "[--10--]");
        assert_eq!(format!("[{all:>11}]"), "[  unlimited]");
        assert_eq!(format!("[{all:>4}]"), "[unlimited]");
        // Precision does not cut a count or the word.
        assert_eq!(format!("[{:.1}]", LicenceQuantity::Limited(16)), "[16]");
        assert_eq!(format!("[{all:>11.2}]"), "[  unlimited]");
    }

    #[test]
    fn ten_seats_and_twelve_installs_leave_two_unlicensed() {
        let estate = servers("Backup Agent", &vec![None; 12]);
        let owned = entitlement("ent-1", "Backup Agent", LicenceMetric::PerDevice, 10)
            .build()
            .unwrap();
        let positions = compliance(
            &estate,
            &[owned],
            &[],
            &LicenceRules::default(),
            day(2026, 6, 1),
        )
        .unwrap();
        assert_eq!(positions.len(), 1);
        let p = &positions[0];
        assert_eq!(p.product(), "Backup Agent");
        assert_eq!(p.metric(), Some(LicenceMetric::PerDevice));
        assert_eq!(p.owned(), LicenceQuantity::Limited(10));
        assert_eq!(p.used(), 12);
        assert_eq!(p.available(), LicenceQuantity::Limited(0));
        assert_eq!(p.shortfall(), 2);
        // Sorted by id, the first ten are covered: srv-11 and srv-12 are not.
        assert_eq!(ids(p.unlicensed()), ["srv-11", "srv-12"]);
        assert_eq!(p.covered().count(), 10);
        assert_eq!(p.entitlements(), [id("ent-1")]);
        assert!(!p.is_compliant());
    }

    #[test]
    fn per_core_counts_cores_first_fit_and_flags_unknown_counts() {
        use ConsumerStatus::Unlicensed;
        use UnlicensedReason::{Shortfall, UnknownCores};
        // srv-01: 8 cores, srv-02: 16, srv-03: none, srv-04: text "4",
        // srv-05: 4, srv-06: 0.
        let estate = servers(
            "Oracle Database",
            &[
                Some(8.into()),
                Some(16.into()),
                None,
                Some("4".into()),
                Some(4.into()),
                Some(0.into()),
            ],
        );
        let owned = entitlement("ent-ora", "Oracle Database", LicenceMetric::PerCore, 16)
            .build()
            .unwrap();
        let p = compliance(
            &estate,
            &[owned],
            &[],
            &LicenceRules::default(),
            day(2026, 6, 1),
        )
        .unwrap()
        .remove(0);
        // Used: 8 + 16 + 4 = 28 counted cores; 16 owned, so 12 short.
        assert_eq!(p.used(), 28);
        assert_eq!(p.shortfall(), 12);
        assert_eq!(p.available(), LicenceQuantity::Limited(0));
        // First fit in id order: srv-01 (8, 8 left), srv-02 (16 > 8: short),
        // srv-05 (4, 4 left); srv-03, srv-04 and srv-06 have no valid count.
        assert_eq!(ids(p.covered()), ["srv-01", "srv-05"]);
        let unlicensed: Vec<_> = p
            .unlicensed()
            .map(|c| (c.id().as_str(), c.units(), c.status()))
            .collect();
        assert_eq!(
            unlicensed,
            [
                ("srv-02", 16, Unlicensed(Shortfall)),
                ("srv-03", 0, Unlicensed(UnknownCores)),
                ("srv-04", 0, Unlicensed(UnknownCores)),
                ("srv-06", 0, Unlicensed(UnknownCores)),
            ]
        );
        assert_eq!(p.covered_units() + p.unlicensed_units(), p.used());
    }

    #[test]
    fn expired_and_future_entitlements_do_not_count() {
        let estate = servers("Agent", &vec![None; 3]);
        let expired = entitlement("ent-old", "Agent", LicenceMetric::PerDevice, 100)
            .end(day(2026, 5, 31))
            .build()
            .unwrap();
        let future = Entitlement::builder(
            id("ent-next"),
            "Agent",
            LicenceMetric::PerDevice,
            LicenceQuantity::Unlimited,
            day(2026, 6, 2),
        )
        .build()
        .unwrap();
        let current = entitlement("ent-now", "Agent", LicenceMetric::PerDevice, 2)
            .end(day(2026, 6, 1))
            .build()
            .unwrap();
        let p = compliance(
            &estate,
            &[expired, future, current],
            &[],
            &LicenceRules::default(),
            day(2026, 6, 1),
        )
        .unwrap()
        .remove(0);
        assert_eq!(p.owned(), LicenceQuantity::Limited(2));
        assert_eq!(p.entitlements(), [id("ent-now")]);
        assert_eq!(p.shortfall(), 1);
    }

    #[test]
    fn unlimited_covers_everything_and_retired_items_do_not_consume() {
        let mut estate = servers("Agent", &vec![None; 2]);
        estate
            .insert_ci(
                ConfigurationItem::builder(id("srv-old"), "old", CiClass::Server)
                    .status(OperationalStatus::Retired)
                    .attribute("installed:Agent", true)
                    .build()
                    .unwrap(),
            )
            .unwrap();
        estate
            .insert_ci(
                ConfigurationItem::builder(id("srv-off"), "off", CiClass::Server)
                    .attribute("installed:Agent", false)
                    .build()
                    .unwrap(),
            )
            .unwrap();
        let site = Entitlement::builder(
            id("ent-site"),
            "Agent",
            LicenceMetric::PerCore,
            LicenceQuantity::Unlimited,
            day(2026, 1, 1),
        )
        .build()
        .unwrap();
        let p = compliance(
            &estate,
            &[site],
            &[],
            &LicenceRules::default(),
            day(2026, 6, 1),
        )
        .unwrap()
        .remove(0);
        assert_eq!(p.available(), LicenceQuantity::Unlimited);
        assert_eq!(ids(p.consumers().iter()), ["srv-01", "srv-02"]);
        assert!(p.is_compliant());
        assert_eq!(p.used(), 0);
    }

    #[test]
    fn products_without_entitlements_and_assignments() {
        let estate = servers("Shadow Tool", &vec![None; 1]);
        let seats = entitlement("ent-v", "Visio", LicenceMetric::PerUser, 1)
            .build()
            .unwrap();
        let assignments = [
            Assignment::new("Visio", id("u-bob")).unwrap(),
            Assignment::new("Visio", id("u-ann")).unwrap(),
            Assignment::new("Visio", id("u-ann")).unwrap(),
            Assignment::new("Shadow Tool", id("u-cy")).unwrap(),
            // Assignments to a retired CI consume nothing.
            Assignment::new("Visio", id("srv-gone")).unwrap(),
        ];
        let mut estate = estate;
        estate
            .insert_ci(
                ConfigurationItem::builder(id("srv-gone"), "gone", CiClass::Server)
                    .status(OperationalStatus::Retired)
                    .build()
                    .unwrap(),
            )
            .unwrap();
        let positions = compliance(
            &estate,
            &[seats],
            &assignments,
            &LicenceRules::default(),
            day(2026, 6, 1),
        )
        .unwrap();
        let names: Vec<_> = positions.iter().map(LicencePosition::product).collect();
        assert_eq!(names, ["Shadow Tool", "Visio"]);
        let shadow = &positions[0];
        assert_eq!(shadow.metric(), None);
        assert_eq!(shadow.owned(), LicenceQuantity::Limited(0));
        assert_eq!(ids(shadow.unlicensed()), ["srv-01", "u-cy"]);
        let visio = &positions[1];
        assert_eq!(visio.used(), 2);
        assert_eq!(ids(visio.covered()), ["u-ann"]);
        assert_eq!(ids(visio.unlicensed()), ["u-bob"]);
    }

    #[test]
    fn configurable_keys() {
        let mut estate = Estate::new();
        estate
            .insert_ci(
                ConfigurationItem::builder(id("db-1"), "db", CiClass::Database)
                    .attribute("sw/SQL Server", "2022")
                    .attribute("vcpus", 4)
                    .attribute("cores", 64)
                    .build()
                    .unwrap(),
            )
            .unwrap();
        let rules = LicenceRules::default()
            .with_install_prefix("sw/")
            .unwrap()
            .with_cores_key("vcpus")
            .unwrap();
        let owned = entitlement("ent-sql", "SQL Server", LicenceMetric::PerCore, 4)
            .build()
            .unwrap();
        let p = compliance(&estate, &[owned], &[], &rules, day(2026, 6, 1))
            .unwrap()
            .remove(0);
        assert_eq!((p.used(), p.shortfall()), (4, 0));
        assert!(p.is_compliant());
        assert!(
            compliance(&estate, &[], &[], &LicenceRules::default(), day(2026, 6, 1))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let a = entitlement("ent-1", "P", LicenceMetric::PerDevice, 1)
            .build()
            .unwrap();
        let b = entitlement("ent-2", "P", LicenceMetric::PerCore, 1)
            .build()
            .unwrap();
        let rules = LicenceRules::default();
        let err = compliance(
            &Estate::new(),
            &[a.clone(), b],
            &[],
            &rules,
            day(2026, 1, 1),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid metric of `ent-2`: product \"P\" is licensed per device by `ent-1`, not per core"
        );
        let err = compliance(
            &Estate::new(),
            &[a.clone(), a],
            &[],
            &rules,
            day(2026, 1, 1),
        )
        .unwrap_err();
        assert_eq!(err, Error::DuplicateEntitlement(id("ent-1")));
        let big = |name| {
            entitlement(name, "P", LicenceMetric::PerDevice, u64::MAX)
                .build()
                .unwrap()
        };
        let err = compliance(
            &Estate::new(),
            &[big("e-1"), big("e-2")],
            &[],
            &rules,
            day(2026, 1, 1),
        )
        .unwrap_err();
        assert!(matches!(err, Error::Overflow { .. }), "{err}");
    }

    #[test]
    fn each_entitlement_rule_names_the_field() {
        let base = || entitlement("ent-9", "P", LicenceMetric::PerUser, 1);
        let cases: Vec<(EntitlementBuilder, &str)> = vec![
            (
                entitlement("ent-9", "", LicenceMetric::PerUser, 1),
                "product",
            ),
            (
                entitlement("ent-9", &"p".repeat(129), LicenceMetric::PerUser, 1),
                "product",
            ),
            (base().owner(""), "owner"),
            (
                entitlement("ent-9", "P", LicenceMetric::PerUser, 0),
                "quantity",
            ),
            (base().end(day(2025, 12, 31)), "end"),
            (base().cost("-1 EUR".parse().unwrap()), "cost"),
        ];
        for (builder, expected) in cases {
            match builder.build() {
                Err(Error::InvalidField { id, field, .. }) => {
                    assert_eq!(id.as_str(), "ent-9");
                    assert_eq!(field, expected);
                }
                other => panic!("{expected}: expected an invalid field, got {other:?}"),
            }
        }
        assert!(base().end(day(2026, 1, 1)).build().is_ok());
    }

    #[test]
    fn serde_round_trips_and_validates() {
        let e = entitlement("ent-1", "Visio", LicenceMetric::Concurrent, 5)
            .end(day(2026, 12, 31))
            .owner("it")
            .build()
            .unwrap();
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(
            json,
            r#"{"id":"ent-1","product":"Visio","metric":"concurrent","quantity":{"limited":5},"start":"2026-01-01","end":"2026-12-31","owner":"it"}"#
        );
        assert_eq!(serde_json::from_str::<Entitlement>(&json).unwrap(), e);
        let zero = json.replace("{\"limited\":5}", "{\"limited\":0}");
        assert!(serde_json::from_str::<Entitlement>(&zero).is_err());
        let a = Assignment::new("Visio", id("u-1")).unwrap();
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, r#"{"product":"Visio","assignee":"u-1"}"#);
        assert_eq!(serde_json::from_str::<Assignment>(&json).unwrap(), a);
        assert!(serde_json::from_str::<Assignment>(r#"{"product":"","assignee":"u-1"}"#).is_err());
        let rules: LicenceRules = serde_json::from_str(r#"{"cores_key":"vcpus"}"#).unwrap();
        assert_eq!(rules.cores_key(), "vcpus");
        assert_eq!(rules.install_prefix(), "installed:");
        assert!(serde_json::from_str::<LicenceRules>(r#"{"cores_key":""}"#).is_err());
        assert_eq!(
            serde_json::to_string(&LicenceRules::default()).unwrap(),
            r#"{"install_prefix":"installed:","cores_key":"cores"}"#
        );
    }
}
