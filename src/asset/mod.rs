//! The ITAM view: [`Asset`] records and the [`AssetRegister`].

mod access;
mod lifecycle;
mod register;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub(crate) use self::access::check_value;
pub use self::lifecycle::{Lifecycle, MissingReason, RetirementReason};
pub use self::register::{AssetRegister, Assets};
use crate::label::{
    AttributeKey, AttributeValue, Attributes, MAX_TEXT, check_field_label, label_reason, named_enum,
};
use crate::ownership::{AssetField, Value};
use crate::{Error, Money, ResourceId, Text};

named_enum! {
    /// What kind of thing an asset is.
    ///
    /// Serialised as its kebab-case name (`"cloud-resource"`); parsing also
    /// accepts `Cloud_Resource` or `cloud resource`. A name that is none of
    /// the built-in ones becomes [`AssetKind::Custom`].
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::AssetKind;
    ///
    /// assert_eq!("Cloud Resource".parse::<AssetKind>()?, AssetKind::CloudResource);
    /// let kiosk: AssetKind = "kiosk".parse()?;
    /// assert_eq!(kiosk, AssetKind::custom("kiosk")?);
    /// assert!(AssetKind::custom("licence").is_err());
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    pub enum AssetKind ("asset kind") {
        /// Physical equipment: servers, laptops, network gear, storage arrays.
        Hardware = "hardware",
        /// An installed or owned software product.
        Software = "software",
        /// A software licence or entitlement.
        Licence = "licence",
        /// A resource rented from a cloud provider (a VM, a managed database).
        CloudResource = "cloud-resource",
        /// A recurring subscription (`SaaS` seats, a support plan).
        Subscription = "subscription",
    }
}

/// One resource as the asset register sees it: who owns it, what it costs,
/// where it is in its life.
///
/// An asset never refers to a [`ConfigurationItem`](crate::ConfigurationItem);
/// the two views of one resource share only their [`ResourceId`].
///
/// Fields are private and read through getters: later releases change them
/// only through the estate's write path, which records who set each value.
/// Build one with [`Asset::builder`].
///
/// # Invariants
///
/// * the name, owner, budget owner, cost center and location are labels: not
///   empty, at most 1024 bytes, no control characters, no leading or trailing
///   whitespace;
/// * the purchase cost and the monthly cost are not negative;
/// * the warranty and support end dates are not before the purchase date.
///
/// # Example
///
/// ```
/// use itam_cmdb::{Asset, AssetKind, Lifecycle, ResourceId};
///
/// let laptop = Asset::builder(ResourceId::new("SN-5CG1234XYZ")?, "ThinkPad T14", AssetKind::Hardware)
///     .lifecycle(Lifecycle::InStock)
///     .purchase_cost("1450.00 EUR".parse()?)
///     .attribute("model", "T14 Gen 5")
///     .build()?;
/// assert_eq!(laptop.name(), "ThinkPad T14");
/// assert_eq!(laptop.owner(), None);
/// assert_eq!(laptop.attributes().get("model").unwrap().as_text(), Some("T14 Gen 5"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "AssetBuilder")]
pub struct Asset {
    id: ResourceId,
    name: Text,
    kind: AssetKind,
    lifecycle: Lifecycle,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    budget_owner: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost_center: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purchase_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purchase_cost: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    monthly_cost: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warranty_end: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    support_end: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    renewal_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Attributes::is_empty")]
    attributes: Attributes,
}

impl Asset {
    /// Starts building an asset; see [`AssetBuilder`].
    #[must_use]
    pub fn builder(id: ResourceId, name: impl Into<Text>, kind: AssetKind) -> AssetBuilder {
        AssetBuilder::new(id, name, kind)
    }

    /// A builder holding this asset's values, to derive a changed copy.
    #[must_use]
    pub fn to_builder(&self) -> AssetBuilder {
        self.clone().into_builder()
    }

    /// [`to_builder`](Self::to_builder) without the clone.
    #[must_use]
    pub(crate) fn into_builder(self) -> AssetBuilder {
        AssetBuilder {
            id: self.id,
            name: self.name,
            kind: self.kind,
            lifecycle: self.lifecycle,
            owner: self.owner,
            budget_owner: self.budget_owner,
            cost_center: self.cost_center,
            location: self.location,
            purchase_date: self.purchase_date,
            purchase_cost: self.purchase_cost,
            monthly_cost: self.monthly_cost,
            warranty_end: self.warranty_end,
            support_end: self.support_end,
            renewal_date: self.renewal_date,
            attributes: self.attributes,
            pending: Vec::new(),
        }
    }

    /// The resource this asset describes.
    #[must_use]
    pub fn id(&self) -> &ResourceId {
        &self.id
    }

    /// The asset's display name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What kind of thing it is.
    #[must_use]
    pub fn kind(&self) -> &AssetKind {
        &self.kind
    }

    /// Where it is in its life.
    #[must_use]
    pub fn lifecycle(&self) -> Lifecycle {
        self.lifecycle
    }

    /// The person or team accountable for it.
    #[must_use]
    pub fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    /// The person who holds the budget that pays for it.
    #[must_use]
    pub fn budget_owner(&self) -> Option<&str> {
        self.budget_owner.as_deref()
    }

    /// The cost center its costs are booked to.
    #[must_use]
    pub fn cost_center(&self) -> Option<&str> {
        self.cost_center.as_deref()
    }

    /// Where it is: a site, a room, a cloud region.
    #[must_use]
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }

    /// When it was bought.
    #[must_use]
    pub fn purchase_date(&self) -> Option<NaiveDate> {
        self.purchase_date
    }

    /// What it cost to buy.
    #[must_use]
    pub fn purchase_cost(&self) -> Option<Money> {
        self.purchase_cost
    }

    /// What it costs every month (rent, subscription, cloud charges).
    #[must_use]
    pub fn monthly_cost(&self) -> Option<Money> {
        self.monthly_cost
    }

    /// The last day of the manufacturer's warranty.
    #[must_use]
    pub fn warranty_end(&self) -> Option<NaiveDate> {
        self.warranty_end
    }

    /// The last day of vendor support.
    #[must_use]
    pub fn support_end(&self) -> Option<NaiveDate> {
        self.support_end
    }

    /// The next renewal date of its contract or subscription.
    #[must_use]
    pub fn renewal_date(&self) -> Option<NaiveDate> {
        self.renewal_date
    }

    /// Custom attributes, in the order they were first set.
    #[must_use]
    pub fn attributes(&self) -> &Attributes {
        &self.attributes
    }
}

/// Builds a validated [`Asset`]; made by [`Asset::builder`].
///
/// Setters take and return the builder by value; nothing is checked until
/// [`build`](AssetBuilder::build), which reports the first rule broken.
/// The lifecycle defaults to [`Lifecycle::InUse`]; every other optional
/// field starts empty.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetBuilder {
    id: ResourceId,
    name: Text,
    kind: AssetKind,
    #[serde(default)]
    lifecycle: Lifecycle,
    #[serde(default)]
    owner: Option<Text>,
    #[serde(default)]
    budget_owner: Option<Text>,
    #[serde(default)]
    cost_center: Option<Text>,
    #[serde(default)]
    location: Option<Text>,
    #[serde(default)]
    purchase_date: Option<NaiveDate>,
    #[serde(default)]
    purchase_cost: Option<Money>,
    #[serde(default)]
    monthly_cost: Option<Money>,
    #[serde(default)]
    warranty_end: Option<NaiveDate>,
    #[serde(default)]
    support_end: Option<NaiveDate>,
    #[serde(default)]
    renewal_date: Option<NaiveDate>,
    #[serde(default)]
    attributes: Attributes,
    /// Attributes set through [`AssetBuilder::attribute`], whose keys are
    /// validated by `build`.
    #[serde(skip)]
    pending: Vec<(String, AttributeValue)>,
}

impl AssetBuilder {
    fn new(id: ResourceId, name: impl Into<Text>, kind: AssetKind) -> Self {
        Self {
            id,
            name: name.into(),
            kind,
            lifecycle: Lifecycle::default(),
            owner: None,
            budget_owner: None,
            cost_center: None,
            location: None,
            purchase_date: None,
            purchase_cost: None,
            monthly_cost: None,
            warranty_end: None,
            support_end: None,
            renewal_date: None,
            attributes: Attributes::default(),
            pending: Vec::new(),
        }
    }

    /// Sets the display name.
    #[must_use]
    pub fn name(mut self, name: impl Into<Text>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the kind.
    #[must_use]
    pub fn kind(mut self, kind: AssetKind) -> Self {
        self.kind = kind;
        self
    }

    /// Sets the lifecycle state.
    #[must_use]
    pub fn lifecycle(mut self, lifecycle: Lifecycle) -> Self {
        self.lifecycle = lifecycle;
        self
    }

    /// Sets the accountable person or team.
    #[must_use]
    pub fn owner(mut self, owner: impl Into<Text>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// Sets the budget owner.
    #[must_use]
    pub fn budget_owner(mut self, budget_owner: impl Into<Text>) -> Self {
        self.budget_owner = Some(budget_owner.into());
        self
    }

    /// Sets the cost center.
    #[must_use]
    pub fn cost_center(mut self, cost_center: impl Into<Text>) -> Self {
        self.cost_center = Some(cost_center.into());
        self
    }

    /// Sets the location.
    #[must_use]
    pub fn location(mut self, location: impl Into<Text>) -> Self {
        self.location = Some(location.into());
        self
    }

    /// Sets the purchase date.
    #[must_use]
    pub fn purchase_date(mut self, date: NaiveDate) -> Self {
        self.purchase_date = Some(date);
        self
    }

    /// Sets the purchase cost.
    #[must_use]
    pub fn purchase_cost(mut self, cost: Money) -> Self {
        self.purchase_cost = Some(cost);
        self
    }

    /// Sets the recurring monthly cost.
    #[must_use]
    pub fn monthly_cost(mut self, cost: Money) -> Self {
        self.monthly_cost = Some(cost);
        self
    }

    /// Sets the last day of warranty.
    #[must_use]
    pub fn warranty_end(mut self, date: NaiveDate) -> Self {
        self.warranty_end = Some(date);
        self
    }

    /// Sets the last day of vendor support.
    #[must_use]
    pub fn support_end(mut self, date: NaiveDate) -> Self {
        self.support_end = Some(date);
        self
    }

    /// Sets the next renewal date.
    #[must_use]
    pub fn renewal_date(mut self, date: NaiveDate) -> Self {
        self.renewal_date = Some(date);
        self
    }

    /// Sets a custom attribute; a key set twice keeps its first position and
    /// its last value.
    #[must_use]
    pub fn attribute(mut self, key: impl Into<String>, value: impl Into<AttributeValue>) -> Self {
        self.pending.push((key.into(), value.into()));
        self
    }

    /// Checks every rule and returns the asset.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidField`] naming the asset and the field that breaks a
    /// rule listed on [`Asset`].
    pub fn build(self) -> Result<Asset, Error> {
        let mut asset = Asset {
            id: self.id,
            name: self.name,
            kind: self.kind,
            lifecycle: self.lifecycle,
            owner: self.owner,
            budget_owner: self.budget_owner,
            cost_center: self.cost_center,
            location: self.location,
            purchase_date: self.purchase_date,
            purchase_cost: self.purchase_cost,
            monthly_cost: self.monthly_cost,
            warranty_end: self.warranty_end,
            support_end: self.support_end,
            renewal_date: self.renewal_date,
            attributes: self.attributes,
        };
        for field in &CHECKED_FIELDS {
            check_field(&asset.id, field, asset.field_value(field).as_ref())?;
        }
        let dates = (asset.purchase_date, asset.warranty_end, asset.support_end);
        check_dates(&asset.id, dates)?;
        for (key, value) in self.pending {
            let key = AttributeKey::new(&key)
                .map_err(|e| Error::invalid_field(&asset.id, "attribute key", label_reason(&e)))?;
            asset.attributes.set(key, value);
        }
        asset.attributes.shrink_to_fit();
        Ok(asset)
    }
}

/// The fields with a rule of their own, in the order `build` checks them.
pub(crate) const CHECKED_FIELDS: [AssetField; 7] = [
    AssetField::Name,
    AssetField::Owner,
    AssetField::BudgetOwner,
    AssetField::CostCenter,
    AssetField::Location,
    AssetField::PurchaseCost,
    AssetField::MonthlyCost,
];

/// The fields whose rule is between them: `(purchase, warranty, support)`.
pub(crate) const DATE_FIELDS: [AssetField; 3] = [
    AssetField::PurchaseDate,
    AssetField::WarrantyEnd,
    AssetField::SupportEnd,
];

/// Checks the rule of one field's value in asset `id`: the name, owner,
/// budget owner, cost center and location are labels, the costs are not
/// negative; the other fields' types are their rules. The builder and the
/// claim write path share it, so both refuse a value with the same error.
pub(crate) fn check_field(
    id: &ResourceId,
    field: &AssetField,
    value: Option<&Value>,
) -> Result<(), Error> {
    let name = match field {
        AssetField::Name => "name",
        AssetField::Owner => "owner",
        AssetField::BudgetOwner => "budget_owner",
        AssetField::CostCenter => "cost_center",
        AssetField::Location => "location",
        AssetField::PurchaseCost => "purchase_cost",
        AssetField::MonthlyCost => "monthly_cost",
        _ => return Ok(()),
    };
    match value {
        Some(Value::Text(text)) => check_field_label(id, name, text, MAX_TEXT),
        Some(Value::Money(cost)) if cost.is_negative() => {
            Err(Error::invalid_field(id, name, "must not be negative"))
        }
        _ => Ok(()),
    }
}

/// Checks the rule between the dates of asset `id` (`purchase`, warranty
/// end, support end): warranty and support do not end before the purchase.
pub(crate) fn check_dates(
    id: &ResourceId,
    (purchase, warranty, support): (Option<NaiveDate>, Option<NaiveDate>, Option<NaiveDate>),
) -> Result<(), Error> {
    if let Some(bought) = purchase {
        for (name, end) in [("warranty_end", warranty), ("support_end", support)] {
            if end.is_some_and(|end| end < bought) {
                return Err(Error::invalid_field(
                    id,
                    name,
                    format!("must not be before the purchase date {bought}"),
                ));
            }
        }
    }
    Ok(())
}

impl TryFrom<AssetBuilder> for Asset {
    type Error = Error;

    fn try_from(builder: AssetBuilder) -> Result<Self, Self::Error> {
        builder.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> ResourceId {
        ResourceId::new(text).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn builds_a_full_asset() {
        let asset = Asset::builder(id("vm-pay-01"), "payments VM", AssetKind::CloudResource)
            .owner("payments team")
            .budget_owner("Dana Whitfield")
            .cost_center("CC-4410")
            .location("azure/uksouth")
            .purchase_date(date(2024, 1, 15))
            .monthly_cost("412.30 GBP".parse().unwrap())
            .renewal_date(date(2027, 1, 15))
            .attribute("sku", "Standard_D8s_v5")
            .build()
            .unwrap();
        assert_eq!(asset.id().as_str(), "vm-pay-01");
        assert_eq!(asset.kind(), &AssetKind::CloudResource);
        assert_eq!(asset.budget_owner(), Some("Dana Whitfield"));
        assert_eq!(asset.monthly_cost().unwrap().to_string(), "412.30 GBP");
        assert_eq!(asset.lifecycle(), Lifecycle::InUse);
        assert_eq!(asset.to_builder().build().unwrap(), asset);
    }

    #[test]
    fn each_rule_names_the_asset_and_field() {
        let base = || Asset::builder(id("a-1"), "thing", AssetKind::Hardware);
        let cases: Vec<(AssetBuilder, &str)> = vec![
            (base().name(""), "name"),
            (base().owner(" team"), "owner"),
            (base().cost_center("cc\n1"), "cost_center"),
            (
                base().purchase_cost("-1 EUR".parse().unwrap()),
                "purchase_cost",
            ),
            (
                base().monthly_cost("-0.01 EUR".parse().unwrap()),
                "monthly_cost",
            ),
            (
                base()
                    .purchase_date(date(2025, 1, 1))
                    .warranty_end(date(2024, 12, 31)),
                "warranty_end",
            ),
            (base().attribute("", 1), "attribute key"),
        ];
        for (builder, expected) in cases {
            match builder.build() {
                Err(Error::InvalidField { id, field, .. }) => {
                    assert_eq!(id.as_str(), "a-1");
                    assert_eq!(field, expected);
                }
                other => panic!("{expected}: expected an invalid field, got {other:?}"),
            }
        }
    }

    #[test]
    fn error_text_reads_well() {
        let err = Asset::builder(id("a-1"), "x", AssetKind::Hardware)
            .purchase_cost("-5 EUR".parse().unwrap())
            .build()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid purchase_cost of `a-1`: must not be negative"
        );
    }

    #[test]
    fn serde_round_trips_and_validates() {
        let asset = Asset::builder(id("a-1"), "x", AssetKind::custom("kiosk").unwrap())
            .lifecycle(Lifecycle::Retired(RetirementReason::Sold))
            .attribute("cores", 4)
            .build()
            .unwrap();
        let json = serde_json::to_string(&asset).unwrap();
        assert_eq!(serde_json::from_str::<Asset>(&json).unwrap(), asset);
        let negative = r#"{"id":"a-1","name":"x","kind":"hardware","monthly_cost":{"amount":"-1","currency":"EUR"}}"#;
        let err = serde_json::from_str::<Asset>(negative).unwrap_err();
        assert!(err.to_string().contains("monthly_cost of `a-1`"), "{err}");
        let unknown = r#"{"id":"a-1","name":"x","kind":"hardware","colour":"red"}"#;
        assert!(serde_json::from_str::<Asset>(unknown).is_err());
    }
}
