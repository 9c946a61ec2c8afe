//! Typed addresses of the fields a claim can write, and the values they hold.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::excerpt;
use crate::{
    AssetKind, AttributeKey, AttributeValue, CiClass, Criticality, Environment, Error, Lifecycle,
    Money, OperationalStatus, Region, Text,
};

/// A field of an [`Asset`](crate::Asset), as a claim addresses it.
///
/// # Example
///
/// ```
/// use itam_cmdb::ownership::{AssetField, Field, FieldCategory};
///
/// let field: Field = "asset.budget_owner".parse()?;
/// assert_eq!(field, Field::Asset(AssetField::BudgetOwner));
/// assert_eq!(field.category(), FieldCategory::Ownership);
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AssetField {
    /// The display name ([`Value::Text`]); cannot be cleared.
    Name,
    /// The kind ([`Value::AssetKind`]); cannot be cleared.
    Kind,
    /// The lifecycle state ([`Value::Lifecycle`]); cannot be cleared, and
    /// changes only as the transition table allows (see
    /// [`Estate::apply`](crate::Estate::apply)).
    Lifecycle,
    /// The owner ([`Value::Text`]).
    Owner,
    /// The budget owner ([`Value::Text`]).
    BudgetOwner,
    /// The cost center ([`Value::Text`]).
    CostCenter,
    /// The location ([`Value::Text`]).
    Location,
    /// The purchase date ([`Value::Date`]).
    PurchaseDate,
    /// The purchase cost ([`Value::Money`], not negative).
    PurchaseCost,
    /// The recurring monthly cost ([`Value::Money`], not negative).
    MonthlyCost,
    /// The last day of warranty ([`Value::Date`]).
    WarrantyEnd,
    /// The last day of vendor support ([`Value::Date`]).
    SupportEnd,
    /// The next renewal date ([`Value::Date`]).
    RenewalDate,
    /// A custom attribute ([`Value::Attribute`]).
    Attribute(AttributeKey),
}

/// A field of a [`ConfigurationItem`](crate::ConfigurationItem), as a claim
/// addresses it.
///
/// # Example
///
/// ```
/// use itam_cmdb::ownership::{CiField, Field};
///
/// let field: Field = "ci.attribute.os".parse()?;
/// assert_eq!(field.to_string(), "ci.attribute.os");
/// assert!(matches!(field, Field::Ci(CiField::Attribute(_))));
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CiField {
    /// The display name ([`Value::Text`]); cannot be cleared.
    Name,
    /// The class ([`Value::CiClass`]); cannot be cleared.
    Class,
    /// The operational status ([`Value::Status`]); cannot be cleared.
    Status,
    /// The environment ([`Value::Environment`]).
    Environment,
    /// The region ([`Value::Region`]).
    Region,
    /// The criticality ([`Value::Criticality`]).
    Criticality,
    /// The owning team or person ([`Value::Text`]).
    Owner,
    /// A configuration attribute ([`Value::Attribute`]).
    Attribute(AttributeKey),
}

/// Which record a field belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// The asset register (ITAM).
    Asset,
    /// The CMDB.
    Ci,
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Asset => "asset",
            Self::Ci => "ci",
        })
    }
}

/// The field of one view that a claim writes.
///
/// Written and parsed as `<view>.<field>`: `asset.owner`,
/// `ci.status`, `asset.attribute.<key>`; serialised the same way.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// A field of the asset.
    Asset(AssetField),
    /// A field of the configuration item.
    Ci(CiField),
}

/// A family of fields that a [column agreement](super::ColumnAgreement)
/// rule can cover at once: the usual split is ITAM for ownership, cost and
/// lifecycle, the CMDB for configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FieldCategory {
    /// Names: `asset.name`, `ci.name`.
    Identity,
    /// Who owns and pays: owners, budget owner, cost center.
    Ownership,
    /// Purchase date and cost, monthly cost.
    Cost,
    /// Lifecycle, warranty, support and renewal dates, operational status.
    Lifecycle,
    /// Kind, class, environment, region, criticality, location and custom
    /// attributes.
    Configuration,
}

impl fmt::Display for FieldCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Identity => "identity",
            Self::Ownership => "ownership",
            Self::Cost => "cost",
            Self::Lifecycle => "lifecycle",
            Self::Configuration => "configuration",
        })
    }
}

/// The type of value a field holds; see [`Field::value_type`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueType {
    /// [`Value::Text`].
    Text,
    /// [`Value::Date`].
    Date,
    /// [`Value::Money`].
    Money,
    /// [`Value::Lifecycle`].
    Lifecycle,
    /// [`Value::AssetKind`].
    AssetKind,
    /// [`Value::CiClass`].
    CiClass,
    /// [`Value::Status`].
    Status,
    /// [`Value::Environment`].
    Environment,
    /// [`Value::Region`].
    Region,
    /// [`Value::Criticality`].
    Criticality,
    /// [`Value::Attribute`].
    Attribute,
}

impl ValueType {
    /// The type's name, as its `Display` writes it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Date => "date",
            Self::Money => "money",
            Self::Lifecycle => "lifecycle",
            Self::AssetKind => "asset kind",
            Self::CiClass => "ci class",
            Self::Status => "operational status",
            Self::Environment => "environment",
            Self::Region => "region",
            Self::Criticality => "criticality",
            Self::Attribute => "attribute value",
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A value of a field, typed; a claim carrying the wrong type for its field
/// is refused with [`Error::WrongValueType`].
///
/// Serialised externally tagged: `{"text": "team-payments"}`,
/// `{"money": {"amount": "12.50", "currency": "GBP"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Value {
    /// Free text (a name, an owner, a cost center, a location).
    Text(Text),
    /// A calendar date.
    Date(NaiveDate),
    /// An exact amount of money.
    Money(Money),
    /// An asset lifecycle state.
    Lifecycle(Lifecycle),
    /// An asset kind.
    AssetKind(AssetKind),
    /// A CI class.
    CiClass(CiClass),
    /// A CI operational status.
    Status(OperationalStatus),
    /// A CI environment.
    Environment(Environment),
    /// A CI region.
    Region(Region),
    /// A CI criticality.
    Criticality(Criticality),
    /// A custom attribute value.
    Attribute(AttributeValue),
}

impl Value {
    /// The value's type.
    #[must_use]
    pub fn value_type(&self) -> ValueType {
        match self {
            Self::Text(_) => ValueType::Text,
            Self::Date(_) => ValueType::Date,
            Self::Money(_) => ValueType::Money,
            Self::Lifecycle(_) => ValueType::Lifecycle,
            Self::AssetKind(_) => ValueType::AssetKind,
            Self::CiClass(_) => ValueType::CiClass,
            Self::Status(_) => ValueType::Status,
            Self::Environment(_) => ValueType::Environment,
            Self::Region(_) => ValueType::Region,
            Self::Criticality(_) => ValueType::Criticality,
            Self::Attribute(_) => ValueType::Attribute,
        }
    }

    /// A text value.
    #[must_use]
    pub fn text(text: impl Into<Text>) -> Self {
        Self::Text(text.into())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(text) => write!(f, "{text:?}"),
            Self::Date(date) => write!(f, "{date}"),
            Self::Money(money) => write!(f, "{money}"),
            Self::Lifecycle(state) => write!(f, "{state}"),
            Self::AssetKind(kind) => write!(f, "{kind}"),
            Self::CiClass(class) => write!(f, "{class}"),
            Self::Status(status) => write!(f, "{status}"),
            Self::Environment(environment) => write!(f, "{environment}"),
            Self::Region(region) => write!(f, "{region}"),
            Self::Criticality(criticality) => write!(f, "{criticality}"),
            Self::Attribute(value) => write!(f, "{value}"),
        }
    }
}

impl Field {
    /// The view the field belongs to.
    #[must_use]
    pub fn view(&self) -> View {
        match self {
            Self::Asset(_) => View::Asset,
            Self::Ci(_) => View::Ci,
        }
    }

    /// The category a [column agreement](super::ColumnAgreement) rule can
    /// name to cover this field with others.
    #[must_use]
    pub fn category(&self) -> FieldCategory {
        use FieldCategory as C;
        match self {
            Self::Asset(AssetField::Name) | Self::Ci(CiField::Name) => C::Identity,
            Self::Asset(AssetField::Owner | AssetField::BudgetOwner | AssetField::CostCenter)
            | Self::Ci(CiField::Owner) => C::Ownership,
            Self::Asset(
                AssetField::PurchaseDate | AssetField::PurchaseCost | AssetField::MonthlyCost,
            ) => C::Cost,
            Self::Asset(
                AssetField::Lifecycle
                | AssetField::WarrantyEnd
                | AssetField::SupportEnd
                | AssetField::RenewalDate,
            )
            | Self::Ci(CiField::Status) => C::Lifecycle,
            Self::Asset(AssetField::Kind | AssetField::Location | AssetField::Attribute(_))
            | Self::Ci(
                CiField::Class
                | CiField::Environment
                | CiField::Region
                | CiField::Criticality
                | CiField::Attribute(_),
            ) => C::Configuration,
        }
    }

    /// The type of value the field holds.
    #[must_use]
    pub fn value_type(&self) -> ValueType {
        use ValueType as T;
        match self {
            Self::Asset(field) => match field {
                AssetField::Name
                | AssetField::Owner
                | AssetField::BudgetOwner
                | AssetField::CostCenter
                | AssetField::Location => T::Text,
                AssetField::Kind => T::AssetKind,
                AssetField::Lifecycle => T::Lifecycle,
                AssetField::PurchaseDate
                | AssetField::WarrantyEnd
                | AssetField::SupportEnd
                | AssetField::RenewalDate => T::Date,
                AssetField::PurchaseCost | AssetField::MonthlyCost => T::Money,
                AssetField::Attribute(_) => T::Attribute,
            },
            Self::Ci(field) => match field {
                CiField::Name | CiField::Owner => T::Text,
                CiField::Class => T::CiClass,
                CiField::Status => T::Status,
                CiField::Environment => T::Environment,
                CiField::Region => T::Region,
                CiField::Criticality => T::Criticality,
                CiField::Attribute(_) => T::Attribute,
            },
        }
    }

    /// Whether the field may be empty; a claim clearing a required field is
    /// refused with [`Error::InvalidField`].
    #[must_use]
    pub fn is_required(&self) -> bool {
        matches!(
            self,
            Self::Asset(AssetField::Name | AssetField::Kind | AssetField::Lifecycle)
                | Self::Ci(CiField::Name | CiField::Class | CiField::Status)
        )
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (view, name, key) = match self {
            Self::Asset(field) => ("asset", asset_name(field), attribute_key_asset(field)),
            Self::Ci(field) => ("ci", ci_name(field), attribute_key_ci(field)),
        };
        match key {
            Some(key) => write!(f, "{view}.attribute.{key}"),
            None => write!(f, "{view}.{name}"),
        }
    }
}

fn attribute_key_asset(field: &AssetField) -> Option<&AttributeKey> {
    match field {
        AssetField::Attribute(key) => Some(key),
        _ => None,
    }
}

fn attribute_key_ci(field: &CiField) -> Option<&AttributeKey> {
    match field {
        CiField::Attribute(key) => Some(key),
        _ => None,
    }
}

const ASSET_FIELDS: &[(&str, AssetField)] = &[
    ("name", AssetField::Name),
    ("kind", AssetField::Kind),
    ("lifecycle", AssetField::Lifecycle),
    ("owner", AssetField::Owner),
    ("budget_owner", AssetField::BudgetOwner),
    ("cost_center", AssetField::CostCenter),
    ("location", AssetField::Location),
    ("purchase_date", AssetField::PurchaseDate),
    ("purchase_cost", AssetField::PurchaseCost),
    ("monthly_cost", AssetField::MonthlyCost),
    ("warranty_end", AssetField::WarrantyEnd),
    ("support_end", AssetField::SupportEnd),
    ("renewal_date", AssetField::RenewalDate),
];

const CI_FIELDS: &[(&str, CiField)] = &[
    ("name", CiField::Name),
    ("class", CiField::Class),
    ("status", CiField::Status),
    ("environment", CiField::Environment),
    ("region", CiField::Region),
    ("criticality", CiField::Criticality),
    ("owner", CiField::Owner),
];

fn asset_name(field: &AssetField) -> &'static str {
    ASSET_FIELDS
        .iter()
        .find(|(_, f)| f == field)
        .map_or("attribute", |(name, _)| name)
}

fn ci_name(field: &CiField) -> &'static str {
    CI_FIELDS
        .iter()
        .find(|(_, f)| f == field)
        .map_or("attribute", |(name, _)| name)
}

impl FromStr for Field {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let fail = |reason: &str| Error::Parse {
            what: "field",
            input: excerpt(text),
            reason: reason.to_owned(),
        };
        let (view, rest) = text
            .split_once('.')
            .ok_or_else(|| fail("expected `asset.<field>` or `ci.<field>`"))?;
        let attribute = rest.strip_prefix("attribute.").map(AttributeKey::new);
        match view {
            "asset" => match attribute {
                Some(key) => Ok(Self::Asset(AssetField::Attribute(key?))),
                None => ASSET_FIELDS
                    .iter()
                    .find(|(name, _)| *name == rest)
                    .map(|(_, field)| Self::Asset(field.clone()))
                    .ok_or_else(|| fail("unknown asset field")),
            },
            "ci" => match attribute {
                Some(key) => Ok(Self::Ci(CiField::Attribute(key?))),
                None => CI_FIELDS
                    .iter()
                    .find(|(name, _)| *name == rest)
                    .map(|(_, field)| Self::Ci(field.clone()))
                    .ok_or_else(|| fail("unknown ci field")),
            },
            _ => Err(fail("the view must be `asset` or `ci`")),
        }
    }
}

impl Serialize for Field {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl From<AssetField> for Field {
    fn from(field: AssetField) -> Self {
        Self::Asset(field)
    }
}

impl From<CiField> for Field {
    fn from(field: CiField) -> Self {
        Self::Ci(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_field_round_trips_through_text() {
        let fields = ASSET_FIELDS
            .iter()
            .map(|(_, f)| Field::Asset(f.clone()))
            .chain(CI_FIELDS.iter().map(|(_, f)| Field::Ci(f.clone())))
            .chain([
                Field::Asset(AssetField::Attribute(AttributeKey::new("seats").unwrap())),
                Field::Ci(CiField::Attribute(AttributeKey::new("os").unwrap())),
            ]);
        for field in fields {
            let text = field.to_string();
            assert_eq!(text.parse::<Field>().unwrap(), field, "{text}");
            let json = serde_json::to_string(&field).unwrap();
            assert_eq!(serde_json::from_str::<Field>(&json).unwrap(), field);
        }
    }

    #[test]
    fn bad_field_names_are_refused_with_the_input() {
        for text in ["owner", "asset.colour", "cmdb.name", "ci.attribute. x"] {
            let err = text.parse::<Field>().unwrap_err();
            assert!(
                err.to_string().contains("cannot parse field")
                    || err.to_string().contains("invalid"),
                "{err}"
            );
        }
    }

    #[test]
    fn categories_follow_the_usual_column_split() {
        let owner: Field = "asset.owner".parse().unwrap();
        assert_eq!(owner.category(), FieldCategory::Ownership);
        let status: Field = "ci.status".parse().unwrap();
        assert_eq!(status.category(), FieldCategory::Lifecycle);
        assert!(status.is_required());
        assert_eq!(status.value_type(), ValueType::Status);
    }
}
