//! [`ConfigurationItem`] and its vocabulary.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::label::{
    AttributeKey, AttributeValue, Attributes, MAX_KEY, MAX_TEXT, check_field_label, check_label,
    label_reason, named_enum,
};
use crate::{Error, ResourceId, Text};

named_enum! {
    /// What a configuration item is.
    ///
    /// Serialised as its kebab-case name (`"virtual-machine"`); parsing also
    /// accepts `Virtual_Machine` or `virtual machine`. A site-specific class
    /// (`"mainframe-lpar"`) becomes [`CiClass::Custom`].
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::CiClass;
    ///
    /// assert_eq!("Load Balancer".parse::<CiClass>()?, CiClass::LoadBalancer);
    /// let lpar = CiClass::custom("mainframe-lpar")?;
    /// assert_eq!(lpar.to_string(), "mainframe-lpar");
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    pub enum CiClass ("ci class") {
        /// A service the business consumes and pays for (checkout, payroll).
        BusinessService = "business-service",
        /// A technical service that delivers a business service.
        ApplicationService = "application-service",
        /// A deployed application or microservice.
        Application = "application",
        /// A database instance or managed database.
        Database = "database",
        /// A message queue or broker.
        Queue = "queue",
        /// A cache (Redis, Memcached).
        Cache = "cache",
        /// A physical server.
        Server = "server",
        /// A virtual machine.
        VirtualMachine = "virtual-machine",
        /// A container or pod.
        Container = "container",
        /// A hypervisor host.
        Hypervisor = "hypervisor",
        /// A load balancer.
        LoadBalancer = "load-balancer",
        /// A switch, router or firewall.
        NetworkDevice = "network-device",
        /// A storage array or volume service.
        Storage = "storage",
        /// A cluster, pool or farm of members.
        Cluster = "cluster",
        /// A rack.
        Rack = "rack",
        /// A power distribution unit or feed.
        Power = "power",
        /// A data centre, site or cloud availability zone.
        Facility = "facility",
    }
}

named_enum! {
    /// The environment a configuration item serves.
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::Environment;
    ///
    /// assert_eq!("PROD".parse::<Environment>()?.to_string(), "PROD");
    /// assert_eq!("production".parse::<Environment>()?, Environment::Production);
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    pub enum Environment ("environment") {
        /// Live, customer-facing.
        Production = "production",
        /// Pre-production.
        Staging = "staging",
        /// Test and QA.
        Test = "test",
        /// Development.
        Development = "development",
        /// Disaster-recovery standby.
        DisasterRecovery = "disaster-recovery",
    }
}

/// The operational status of a configuration item, as the CMDB records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OperationalStatus {
    /// Being built; not yet in service.
    Planned,
    /// In service. The default.
    #[default]
    Operational,
    /// In service but with reduced capacity or performance.
    Degraded,
    /// Down or failed.
    NonOperational,
    /// Out of service for maintenance or repair.
    InMaintenance,
    /// A standby that takes over on failure.
    Standby,
    /// Decommissioned; kept for history.
    Retired,
}

impl OperationalStatus {
    /// Whether the item is expected to be serving: operational, degraded or
    /// standby.
    #[must_use]
    pub fn is_live(self) -> bool {
        matches!(self, Self::Operational | Self::Degraded | Self::Standby)
    }
}

impl fmt::Display for OperationalStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::Planned => "planned",
            Self::Operational => "operational",
            Self::Degraded => "degraded",
            Self::NonOperational => "non-operational",
            Self::InMaintenance => "in maintenance",
            Self::Standby => "standby",
            Self::Retired => "retired",
        })
    }
}

/// How much the business suffers when a configuration item fails, lowest
/// first, so that `Criticality::High > Criticality::Low`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Criticality {
    /// Little impact.
    Low,
    /// Noticeable impact.
    Medium,
    /// Serious impact.
    High,
    /// The business stops.
    MissionCritical,
}

impl fmt::Display for Criticality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::MissionCritical => "mission critical",
        })
    }
}

/// A region: a cloud region (`eu-west-2`) or a site name.
///
/// A label: not empty, at most 128 bytes, no control characters, no leading
/// or trailing whitespace. Compared exactly (case-sensitive).
///
/// # Example
///
/// ```
/// use itam_cmdb::Region;
///
/// let region: Region = "eu-west-2".parse()?;
/// assert_eq!(region.as_str(), "eu-west-2");
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Region(Box<str>);

impl Region {
    /// Validates `region`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidLabel`] if `region` breaks a rule.
    pub fn new(region: &str) -> Result<Self, Error> {
        check_label("region", region, MAX_KEY)?;
        Ok(Self(region.into()))
    }

    /// The region as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl std::str::FromStr for Region {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl Serialize for Region {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::new(&text).map_err(serde::de::Error::custom)
    }
}

/// One resource as the CMDB sees it: what it is, how it is configured, where
/// it runs and how much it matters.
///
/// A configuration item never refers to an [`Asset`](crate::Asset); the two
/// views of one resource share only their [`ResourceId`]. Its dependencies
/// live in the CMDB's graph, not in the item.
///
/// Fields are private and read through getters. Build one with
/// [`ConfigurationItem::builder`].
///
/// # Invariants
///
/// The name and owner are labels: not empty, at most 1024 bytes, no control
/// characters, no leading or trailing whitespace. Attribute keys follow
/// [`AttributeKey`]'s rules.
///
/// # Example
///
/// ```
/// use itam_cmdb::{CiClass, ConfigurationItem, Criticality, Environment, ResourceId};
///
/// let db = ConfigurationItem::builder(ResourceId::new("db-orders")?, "orders database", CiClass::Database)
///     .environment(Environment::Production)
///     .region("eu-west-2".parse()?)
///     .criticality(Criticality::High)
///     .attribute("engine", "postgres")
///     .attribute("version", "16.4")
///     .build()?;
/// assert_eq!(db.region().map(|r| r.as_str()), Some("eu-west-2"));
/// assert_eq!(db.attributes().len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ConfigurationItemBuilder")]
pub struct ConfigurationItem {
    id: ResourceId,
    name: Text,
    class: CiClass,
    status: OperationalStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<Environment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
    #[serde(skip_serializing_if = "Option::is_none")]
    criticality: Option<Criticality>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<Text>,
    #[serde(skip_serializing_if = "Attributes::is_empty")]
    attributes: Attributes,
}

impl ConfigurationItem {
    /// Starts building a configuration item; see [`ConfigurationItemBuilder`].
    #[must_use]
    pub fn builder(
        id: ResourceId,
        name: impl Into<Text>,
        class: CiClass,
    ) -> ConfigurationItemBuilder {
        ConfigurationItemBuilder {
            id,
            name: name.into(),
            class,
            status: OperationalStatus::default(),
            environment: None,
            region: None,
            criticality: None,
            owner: None,
            attributes: Attributes::default(),
            pending: Vec::new(),
        }
    }

    /// A builder holding this item's values, to derive a changed copy.
    #[must_use]
    pub fn to_builder(&self) -> ConfigurationItemBuilder {
        self.clone().into_builder()
    }

    /// [`to_builder`](Self::to_builder) without the clone.
    #[must_use]
    pub(crate) fn into_builder(self) -> ConfigurationItemBuilder {
        ConfigurationItemBuilder {
            id: self.id,
            name: self.name,
            class: self.class,
            status: self.status,
            environment: self.environment,
            region: self.region,
            criticality: self.criticality,
            owner: self.owner,
            attributes: self.attributes,
            pending: Vec::new(),
        }
    }

    /// The resource this item describes.
    #[must_use]
    pub fn id(&self) -> &ResourceId {
        &self.id
    }

    /// The item's display name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What it is.
    #[must_use]
    pub fn class(&self) -> &CiClass {
        &self.class
    }

    /// Its operational status.
    #[must_use]
    pub fn status(&self) -> OperationalStatus {
        self.status
    }

    /// The environment it serves.
    #[must_use]
    pub fn environment(&self) -> Option<&Environment> {
        self.environment.as_ref()
    }

    /// The region or site it runs in.
    #[must_use]
    pub fn region(&self) -> Option<&Region> {
        self.region.as_ref()
    }

    /// How much its failure matters.
    #[must_use]
    pub fn criticality(&self) -> Option<Criticality> {
        self.criticality
    }

    /// The team that runs it, as the CMDB records it (the support group).
    #[must_use]
    pub fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    /// Configuration attributes (OS, version, size, ...), in the order they
    /// were first set.
    #[must_use]
    pub fn attributes(&self) -> &Attributes {
        &self.attributes
    }
}

/// Builds a validated [`ConfigurationItem`]; made by
/// [`ConfigurationItem::builder`].
///
/// The status defaults to [`OperationalStatus::Operational`]; every other
/// optional field starts empty. Nothing is checked until
/// [`build`](Self::build).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigurationItemBuilder {
    id: ResourceId,
    name: Text,
    class: CiClass,
    #[serde(default)]
    status: OperationalStatus,
    #[serde(default)]
    environment: Option<Environment>,
    #[serde(default)]
    region: Option<Region>,
    #[serde(default)]
    criticality: Option<Criticality>,
    #[serde(default)]
    owner: Option<Text>,
    #[serde(default)]
    attributes: Attributes,
    #[serde(skip)]
    pending: Vec<(String, AttributeValue)>,
}

impl ConfigurationItemBuilder {
    /// Sets the display name.
    #[must_use]
    pub fn name(mut self, name: impl Into<Text>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the class.
    #[must_use]
    pub fn class(mut self, class: CiClass) -> Self {
        self.class = class;
        self
    }

    /// Sets the operational status.
    #[must_use]
    pub fn status(mut self, status: OperationalStatus) -> Self {
        self.status = status;
        self
    }

    /// Sets the environment.
    #[must_use]
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = Some(environment);
        self
    }

    /// Sets the region.
    #[must_use]
    pub fn region(mut self, region: Region) -> Self {
        self.region = Some(region);
        self
    }

    /// Sets the criticality.
    #[must_use]
    pub fn criticality(mut self, criticality: Criticality) -> Self {
        self.criticality = Some(criticality);
        self
    }

    /// Sets the owning team.
    #[must_use]
    pub fn owner(mut self, owner: impl Into<Text>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// Sets a configuration attribute; a key set twice keeps its first
    /// position and its last value.
    #[must_use]
    pub fn attribute(mut self, key: impl Into<String>, value: impl Into<AttributeValue>) -> Self {
        self.pending.push((key.into(), value.into()));
        self
    }

    /// Checks every rule and returns the item.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidField`] naming the item and the field that breaks a
    /// rule listed on [`ConfigurationItem`].
    pub fn build(self) -> Result<ConfigurationItem, Error> {
        let mut item = ConfigurationItem {
            id: self.id,
            name: self.name,
            class: self.class,
            status: self.status,
            environment: self.environment,
            region: self.region,
            criticality: self.criticality,
            owner: self.owner,
            attributes: self.attributes,
        };
        for field in &CHECKED_FIELDS {
            check_field(&item.id, field, item.field_value(field).as_ref())?;
        }
        for (key, value) in self.pending {
            let key = AttributeKey::new(&key)
                .map_err(|e| Error::invalid_field(&item.id, "attribute key", label_reason(&e)))?;
            item.attributes.set(key, value);
        }
        item.attributes.shrink_to_fit();
        Ok(item)
    }
}

/// The fields with a rule of their own, in the order `build` checks them.
pub(crate) const CHECKED_FIELDS: [crate::ownership::CiField; 2] = [
    crate::ownership::CiField::Name,
    crate::ownership::CiField::Owner,
];

/// Checks the rule of one field's value in item `id`, as
/// [`build`](ConfigurationItemBuilder::build) does: the name and the owner
/// are labels; the other fields' types are their rules.
pub(crate) fn check_field(
    id: &ResourceId,
    field: &crate::ownership::CiField,
    value: Option<&crate::ownership::Value>,
) -> Result<(), Error> {
    use crate::ownership::{CiField as F, Value as V};
    match (field, value) {
        (F::Name, Some(V::Text(name))) => check_field_label(id, "name", name, MAX_TEXT),
        (F::Owner, Some(V::Text(owner))) => check_field_label(id, "owner", owner, MAX_TEXT),
        _ => Ok(()),
    }
}

impl TryFrom<ConfigurationItemBuilder> for ConfigurationItem {
    type Error = Error;

    fn try_from(builder: ConfigurationItemBuilder) -> Result<Self, Self::Error> {
        builder.build()
    }
}

impl ConfigurationItem {
    /// The current value of `field`, for the claim write path.
    pub(crate) fn field_value(
        &self,
        field: &crate::ownership::CiField,
    ) -> Option<crate::ownership::Value> {
        use crate::ownership::{CiField as F, Value as V};
        match field {
            F::Name => Some(V::Text(self.name.clone())),
            F::Class => Some(V::CiClass(self.class.clone())),
            F::Status => Some(V::Status(self.status)),
            F::Environment => self.environment.clone().map(V::Environment),
            F::Region => self.region.clone().map(V::Region),
            F::Criticality => self.criticality.map(V::Criticality),
            F::Owner => self.owner.clone().map(V::Text),
            F::Attribute(key) => self.attributes.get(key.as_str()).cloned().map(V::Attribute),
        }
    }

    /// Writes `value` (or clears the field) without checking invariants;
    /// the claim write path checks the values before it writes them, and
    /// the value's type was checked with the claim.
    pub(crate) fn set_field_value(
        &mut self,
        field: &crate::ownership::CiField,
        value: Option<crate::ownership::Value>,
    ) {
        use crate::ownership::{CiField as F, Value as V};
        match (field, value) {
            (F::Name, Some(V::Text(t))) => self.name = t,
            (F::Class, Some(V::CiClass(c))) => self.class = c,
            (F::Status, Some(V::Status(s))) => self.status = s,
            (F::Environment, Some(V::Environment(e))) => self.environment = Some(e),
            (F::Environment, None) => self.environment = None,
            (F::Region, Some(V::Region(r))) => self.region = Some(r),
            (F::Region, None) => self.region = None,
            (F::Criticality, Some(V::Criticality(c))) => self.criticality = Some(c),
            (F::Criticality, None) => self.criticality = None,
            (F::Owner, Some(V::Text(t))) => self.owner = Some(t),
            (F::Owner, None) => self.owner = None,
            (F::Attribute(key), Some(V::Attribute(v))) => {
                self.attributes.set(key.clone(), v);
            }
            (F::Attribute(key), None) => {
                self.attributes.remove(key.as_str());
            }
            // A required field cannot be cleared, and types were checked.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> ResourceId {
        ResourceId::new(text).unwrap()
    }

    #[test]
    fn classes_parse_leniently_and_round_trip() {
        for class in CiClass::BUILT_IN {
            assert_eq!(class.as_str().parse::<CiClass>().unwrap(), *class);
            let json = serde_json::to_string(class).unwrap();
            assert_eq!(serde_json::from_str::<CiClass>(&json).unwrap(), *class);
        }
        assert_eq!(
            "VIRTUAL_MACHINE".parse::<CiClass>().unwrap(),
            CiClass::VirtualMachine
        );
        let custom = CiClass::custom("Mainframe LPAR").unwrap();
        assert_eq!(
            serde_json::to_string(&custom).unwrap(),
            r#""Mainframe LPAR""#
        );
        assert_eq!(
            serde_json::from_str::<CiClass>(r#""Mainframe LPAR""#).unwrap(),
            custom
        );
        assert!(CiClass::custom("Load_Balancer").is_err());
        assert!(CiClass::custom("").is_err());
        assert!(serde_json::from_str::<CiClass>(r#""""#).is_err());
    }

    #[test]
    fn builds_and_validates() {
        let ci = ConfigurationItem::builder(id("vm-1"), "vm one", CiClass::VirtualMachine)
            .status(OperationalStatus::Standby)
            .owner("platform team")
            .attribute("cores", 8)
            .build()
            .unwrap();
        assert!(ci.status().is_live());
        assert_eq!(
            ci.attributes()
                .get("cores")
                .and_then(AttributeValue::as_integer),
            Some(8)
        );
        assert_eq!(ci.to_builder().build().unwrap(), ci);
        let err = ConfigurationItem::builder(id("vm-1"), "", CiClass::Server)
            .build()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"invalid name of `vm-1`: "" must not be empty"#
        );
        let err = ConfigurationItem::builder(id("vm-1"), "x", CiClass::Server)
            .owner("a\u{0}")
            .build()
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidField { ref field, .. } if field == "owner"),
            "{err}"
        );
    }

    #[test]
    fn serde_validates_nested_values() {
        let bad_region =
            r#"{"id":"vm-1","name":"x","class":"server","status":"operational","region":" eu"}"#;
        assert!(serde_json::from_str::<ConfigurationItem>(bad_region).is_err());
        let ok = r#"{"id":"vm-1","name":"x","class":"server"}"#;
        let ci: ConfigurationItem = serde_json::from_str(ok).unwrap();
        assert_eq!(ci.status(), OperationalStatus::Operational);
    }

    #[test]
    fn criticality_orders_by_severity() {
        assert!(Criticality::MissionCritical > Criticality::High);
        assert!(Criticality::Low < Criticality::Medium);
    }
}
