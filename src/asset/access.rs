//! Reading and writing an asset's fields by their typed address, for the
//! claim write path.

use super::Asset;
use crate::ownership::{AssetField, Field, Value};
use crate::{Error, Text};

impl Asset {
    /// The current value of `field`.
    pub(crate) fn field_value(&self, field: &AssetField) -> Option<Value> {
        let text = |t: &Option<Text>| t.clone().map(Value::Text);
        match field {
            AssetField::Name => Some(Value::Text(self.name.clone())),
            AssetField::Kind => Some(Value::AssetKind(self.kind.clone())),
            AssetField::Lifecycle => Some(Value::Lifecycle(self.lifecycle)),
            AssetField::Owner => text(&self.owner),
            AssetField::BudgetOwner => text(&self.budget_owner),
            AssetField::CostCenter => text(&self.cost_center),
            AssetField::Location => text(&self.location),
            AssetField::PurchaseDate => self.purchase_date.map(Value::Date),
            AssetField::PurchaseCost => self.purchase_cost.map(Value::Money),
            AssetField::MonthlyCost => self.monthly_cost.map(Value::Money),
            AssetField::WarrantyEnd => self.warranty_end.map(Value::Date),
            AssetField::SupportEnd => self.support_end.map(Value::Date),
            AssetField::RenewalDate => self.renewal_date.map(Value::Date),
            AssetField::Attribute(key) => self
                .attributes
                .get(key.as_str())
                .cloned()
                .map(Value::Attribute),
        }
    }

    /// Writes `value` (or clears the field) without checking the record's
    /// rules: the claim write path checks the values before it writes
    /// them, and the value's type was checked with the claim.
    pub(crate) fn set_field_value(&mut self, field: &AssetField, value: Option<Value>) {
        match (field, value) {
            (AssetField::Name, Some(Value::Text(t))) => self.name = t,
            (AssetField::Kind, Some(Value::AssetKind(k))) => self.kind = k,
            (AssetField::Lifecycle, Some(Value::Lifecycle(l))) => self.lifecycle = l,
            (AssetField::Owner, v) => self.owner = text(v),
            (AssetField::BudgetOwner, v) => self.budget_owner = text(v),
            (AssetField::CostCenter, v) => self.cost_center = text(v),
            (AssetField::Location, v) => self.location = text(v),
            (AssetField::PurchaseDate, v) => self.purchase_date = date(v.as_ref()),
            (AssetField::PurchaseCost, v) => self.purchase_cost = money(v.as_ref()),
            (AssetField::MonthlyCost, v) => self.monthly_cost = money(v.as_ref()),
            (AssetField::WarrantyEnd, v) => self.warranty_end = date(v.as_ref()),
            (AssetField::SupportEnd, v) => self.support_end = date(v.as_ref()),
            (AssetField::RenewalDate, v) => self.renewal_date = date(v.as_ref()),
            (AssetField::Attribute(key), Some(Value::Attribute(value))) => {
                self.attributes.set(key.clone(), value);
            }
            (AssetField::Attribute(key), None) => {
                self.attributes.remove(key.as_str());
            }
            // A required field cannot be cleared, and types were checked.
            _ => {}
        }
    }
}

fn text(value: Option<Value>) -> Option<Text> {
    match value {
        Some(Value::Text(t)) => Some(t),
        _ => None,
    }
}

fn date(value: Option<&Value>) -> Option<chrono::NaiveDate> {
    match value {
        Some(Value::Date(d)) => Some(*d),
        _ => None,
    }
}

fn money(value: Option<&Value>) -> Option<crate::Money> {
    match value {
        Some(Value::Money(m)) => Some(*m),
        _ => None,
    }
}

/// Checks that `value` fits `field` of the record `id`: its type, and that a
/// required field is not cleared.
pub(crate) fn check_value(
    id: &crate::ResourceId,
    field: &Field,
    value: Option<&Value>,
) -> Result<(), Error> {
    match value {
        Some(value) if value.value_type() != field.value_type() => Err(Error::WrongValueType {
            id: id.clone(),
            field: field.to_string(),
            expected: field.value_type(),
            found: value.value_type(),
        }),
        None if field.is_required() => Err(Error::InvalidField {
            id: id.clone(),
            field: field.to_string(),
            reason: "is required and cannot be cleared".to_owned(),
        }),
        _ => Ok(()),
    }
}
