//! Claims: one source's statement about one field of one resource.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AssetField, Field, Value};
use crate::label::{MAX_KEY, check_label};
use crate::{Error, Lifecycle, ResourceId};

/// Who makes a claim: a feed, a scanner, a team, or a person.
///
/// Sources are compared by name; a [person](Self::person) is a first-class
/// source whose edits can lock a field against automated sources (see
/// [`ManualLock`](super::ManualLock)). The name is a label: not empty, at
/// most 128 bytes, no control characters, no surrounding whitespace. Cheap
/// to clone.
///
/// # Example
///
/// ```
/// use itam_cmdb::ownership::Source;
///
/// let finance = Source::automated("finance")?;
/// let alice = Source::person("alice@example.com")?;
/// assert!(alice.is_person() && !finance.is_person());
/// assert_eq!(alice.to_string(), "person alice@example.com");
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "SourceRepr", into = "SourceRepr")]
pub struct Source {
    // Field order gives the documented total order: by name, then kind.
    name: Arc<str>,
    kind: SourceKind,
}

/// Whether a source is a machine or a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A feed, a scanner, an integration, a reconciliation run.
    Automated,
    /// A person editing by hand.
    Person,
}

#[derive(Serialize, Deserialize)]
struct SourceRepr {
    name: String,
    kind: SourceKind,
}

impl TryFrom<SourceRepr> for Source {
    type Error = Error;

    fn try_from(repr: SourceRepr) -> Result<Self, Error> {
        Self::new(&repr.name, repr.kind)
    }
}

impl From<Source> for SourceRepr {
    fn from(source: Source) -> Self {
        Self {
            name: source.name.to_string(),
            kind: source.kind,
        }
    }
}

impl Source {
    /// A source of the given kind.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidLabel`] if the name breaks a label rule.
    pub fn new(name: &str, kind: SourceKind) -> Result<Self, Error> {
        check_label("source name", name, MAX_KEY)?;
        Ok(Self {
            name: Arc::from(name),
            kind,
        })
    }

    /// An automated source (a feed, a scanner).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidLabel`] if the name breaks a label rule.
    pub fn automated(name: &str) -> Result<Self, Error> {
        Self::new(name, SourceKind::Automated)
    }

    /// A person editing by hand.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidLabel`] if the name breaks a label rule.
    pub fn person(name: &str) -> Result<Self, Error> {
        Self::new(name, SourceKind::Person)
    }

    /// The automated source `reconciliation`, which resolves disagreements
    /// between the two views when no claim set the authoritative value.
    #[must_use]
    pub fn reconciliation() -> Self {
        Self {
            name: Arc::from("reconciliation"),
            kind: SourceKind::Automated,
        }
    }

    /// The source's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The source's kind.
    #[must_use]
    pub fn kind(&self) -> SourceKind {
        self.kind
    }

    /// Whether the source is a person.
    #[must_use]
    pub fn is_person(&self) -> bool {
        self.kind == SourceKind::Person
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            SourceKind::Automated => f.write_str(&self.name),
            SourceKind::Person => write!(f, "person {}", self.name),
        }
    }
}

/// What a claim asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Update {
    /// The field should hold this value.
    Set(Value),
    /// The field should be empty (refused for required fields).
    Clear,
    /// The source withdraws everything it claimed about the field: as if it
    /// had never claimed it. When it held the value, the field falls back to
    /// what the other sources' claims give.
    Retract,
}

impl fmt::Display for Update {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Set(value) => write!(f, "set {value}"),
            Self::Clear => f.write_str("clear"),
            Self::Retract => f.write_str("retract"),
        }
    }
}

/// One source's statement, observed at an instant, about one field of one
/// resource. Every write to a field is a claim; the estate's
/// [ownership policy](super::FieldOwnership) accepts or rejects it.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use itam_cmdb::ownership::{AssetField, Claim, Source, Value};
/// use itam_cmdb::ResourceId;
///
/// let claim = Claim::set(
///     ResourceId::new("vm-payments-01")?,
///     AssetField::Owner,
///     Value::text("team-payments"),
///     Source::automated("procurement")?,
///     Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap(),
/// );
/// assert_eq!(claim.field().to_string(), "asset.owner");
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
///
/// # Serde
///
/// A map of `resource`, `field`, `update`, `source`, `observed`, and
/// `"reactivation": true` for a [reactivation](Claim::reactivate) (absent
/// otherwise).
///
/// Cloning a claim is cheap: a claim is immutable and shared.
#[derive(Debug, Clone)]
pub struct Claim(Arc<ClaimData>);

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct ClaimData {
    resource: ResourceId,
    field: Field,
    update: Update,
    source: Source,
    observed: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "is_false")]
    reactivation: bool,
}

impl PartialEq for Claim {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl Eq for Claim {}

impl Serialize for Claim {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Claim {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ClaimData::deserialize(deserializer).map(|data| Self(Arc::new(data)))
    }
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde passes a reference"
)]
fn is_false(flag: &bool) -> bool {
    !*flag
}

impl Claim {
    /// A claim with any update.
    #[must_use]
    pub fn new(
        resource: ResourceId,
        field: impl Into<Field>,
        update: Update,
        source: Source,
        observed: DateTime<Utc>,
    ) -> Self {
        Self(Arc::new(ClaimData {
            resource,
            field: field.into(),
            update,
            source,
            observed,
            reactivation: false,
        }))
    }

    /// The field and update of every reactivation.
    fn reactivation_target() -> (Field, Update) {
        (
            AssetField::Lifecycle.into(),
            Update::Set(Value::Lifecycle(Lifecycle::InUse)),
        )
    }

    /// A claim that brings a retired asset back into use: the asset's
    /// lifecycle becomes [in use](crate::Lifecycle::InUse) by the explicit
    /// reactivation of [`Lifecycle::check_reactivation`], which an ordinary
    /// claim cannot make.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use itam_cmdb::ownership::{AssetField, Claim, Source, Value};
    /// use itam_cmdb::{Batch, Error, Lifecycle, ResourceId, RetirementReason, sample};
    ///
    /// let mut estate = sample::estate();
    /// let id = ResourceId::new(sample::DECOMMISSIONED_VM)?;
    /// let alice = Source::person("alice")?;
    /// let day = |d| Utc.with_ymd_and_hms(2026, 11, d, 9, 0, 0).unwrap();
    /// let retired = Value::Lifecycle(Lifecycle::Retired(RetirementReason::Decommissioned));
    /// let mut retire = Batch::new();
    /// retire.claim(Claim::set(id.clone(), AssetField::Lifecycle, retired, alice.clone(), day(2)));
    /// estate.apply(retire)?;
    ///
    /// // An ordinary claim cannot bring it back...
    /// let mut back = Batch::new();
    /// back.claim(Claim::set(id.clone(), AssetField::Lifecycle, Value::Lifecycle(Lifecycle::InUse), alice.clone(), day(3)));
    /// assert!(matches!(estate.apply(back), Err(Error::InvalidTransition { .. })));
    /// // ...a reactivation can.
    /// let mut reactivate = Batch::new();
    /// reactivate.claim(Claim::reactivate(id.clone(), alice, day(3)));
    /// estate.apply(reactivate)?;
    /// assert_eq!(estate.asset(&id).unwrap().lifecycle(), Lifecycle::InUse);
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    ///
    /// [`Lifecycle::check_reactivation`]: crate::Lifecycle::check_reactivation
    #[must_use]
    pub fn reactivate(resource: ResourceId, source: Source, observed: DateTime<Utc>) -> Self {
        let (field, update) = Self::reactivation_target();
        Self(Arc::new(ClaimData {
            resource,
            field,
            update,
            source,
            observed,
            reactivation: true,
        }))
    }

    /// Whether the claim is marked as a reactivation but is not one (only
    /// a deserialised claim can be).
    pub(crate) fn is_malformed_reactivation(&self) -> bool {
        if !self.0.reactivation {
            return false;
        }
        let (field, update) = Self::reactivation_target();
        self.0.field != field || self.0.update != update
    }

    /// Whether this is a [reactivation](Claim::reactivate).
    #[must_use]
    pub fn is_reactivation(&self) -> bool {
        self.0.reactivation
    }

    /// A claim that the field holds `value`.
    #[must_use]
    pub fn set(
        resource: ResourceId,
        field: impl Into<Field>,
        value: Value,
        source: Source,
        observed: DateTime<Utc>,
    ) -> Self {
        Self::new(resource, field, Update::Set(value), source, observed)
    }

    /// The resource the claim is about.
    #[must_use]
    pub fn resource(&self) -> &ResourceId {
        &self.0.resource
    }

    /// The field the claim writes.
    #[must_use]
    pub fn field(&self) -> &Field {
        &self.0.field
    }

    /// What the claim asks for.
    #[must_use]
    pub fn update(&self) -> &Update {
        &self.0.update
    }

    /// Who makes the claim.
    #[must_use]
    pub fn source(&self) -> &Source {
        &self.0.source
    }

    /// When the source observed what it claims.
    #[must_use]
    pub fn observed(&self) -> DateTime<Utc> {
        self.0.observed
    }

    /// The order in which the claims of one field are decided, whatever
    /// order they arrive in: by observed instant, then source, then the
    /// update's kind and value type, then the value's text (so two claims
    /// of one source at one instant still have a fixed order, even when
    /// `8` the text and `8` the integer print alike), and an ordinary
    /// claim before a reactivation of the same value.
    pub(crate) fn replay_order(&self, other: &Self) -> Ordering {
        self.0
            .observed
            .cmp(&other.0.observed)
            .then_with(|| self.0.source.cmp(&other.0.source))
            .then_with(|| update_rank(&self.0.update).cmp(&update_rank(&other.0.update)))
            .then_with(|| self.0.update.to_string().cmp(&other.0.update.to_string()))
            .then_with(|| self.0.reactivation.cmp(&other.0.reactivation))
    }
}

/// The kind of update, then the type of the value it sets (for a custom
/// attribute, the attribute value's type).
fn update_rank(update: &Update) -> (u8, &'static str) {
    match update {
        Update::Set(Value::Attribute(value)) => (0, value.type_name()),
        Update::Set(value) => (0, value.value_type().name()),
        Update::Clear => (1, ""),
        Update::Retract => (2, ""),
    }
}
