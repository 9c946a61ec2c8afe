//! Estate snapshots: arbitrary valid estates round-trip exactly and
//! deterministically; snapshots that break an invariant are refused with an
//! error naming the culprit; and the format itself is pinned.

use chrono::{Days, NaiveDate};
use itam_cmdb::{
    Asset, AssetKind, AttributeValue, CiClass, ConfigurationItem, Criticality, Currency,
    Environment, Estate, Lifecycle, MissingReason, Money, OperationalStatus, Region,
    RetirementReason,
};
use proptest::option::of;
use proptest::prelude::*;
use proptest::sample::select;
use rust_decimal::Decimal;

use crate::util::{ci, date, id, money, valid_text};

/// A label short enough for every label rule (keys, regions and custom names
/// allow 128 bytes; 24 characters are at most 96).
fn label() -> impl Strategy<Value = String> {
    valid_text(24)
}

/// Mostly a few fixed ids, so that assets and items often share one (and
/// some inserts are duplicates), sometimes any valid id.
fn id_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(&["vm-pay-01", "db-orders", "lic/Oracle EE/42", "SN-5CG1", "ünï☃"][..])
            .prop_map(String::from),
        1 => valid_text(32),
    ]
}

fn a_date() -> impl Strategy<Value = NaiveDate> {
    // 1999-12-29 to 2027-05-17.
    (730_117..=740_117_i32).prop_map(|days| NaiveDate::from_num_days_from_ce_opt(days).unwrap())
}

fn currency() -> impl Strategy<Value = Currency> {
    select(
        ["EUR", "USD", "GBP", "JPY", "KWD", "CLF"]
            .map(|code| Currency::new(code).unwrap())
            .to_vec(),
    )
}

/// A non-negative amount with 0 to 4 decimal places (whatever the currency's
/// minor unit: amounts are not rounded).
fn cost() -> impl Strategy<Value = Money> {
    (currency(), 0..=10_000_000_000_i64, 0..=4_u32)
        .prop_map(|(currency, n, scale)| Money::new(Decimal::new(n, scale), currency))
}

/// Any decimal `rust_decimal` can hold: a 96-bit mantissa and a scale of 0 to 28.
fn decimal() -> impl Strategy<Value = Decimal> {
    let limit = (1_i128 << 96) - 1;
    (-limit..=limit, 0..=28_u32).prop_map(|(mantissa, scale)| {
        Decimal::try_from_i128_with_scale(mantissa, scale).expect("in range")
    })
}

fn attribute_value() -> impl Strategy<Value = AttributeValue> {
    prop_oneof![
        // Any text, control characters included: values are not labels.
        proptest::string::string_regex("(?s).{0,16}")
            .unwrap()
            .prop_map(AttributeValue::from),
        any::<i64>().prop_map(AttributeValue::Integer),
        decimal().prop_map(AttributeValue::Decimal),
        any::<bool>().prop_map(AttributeValue::Flag),
        a_date().prop_map(AttributeValue::Date),
    ]
}

/// Attributes as the builders take them; a repeated key is allowed (the
/// builder keeps its first position and last value).
fn attributes() -> impl Strategy<Value = Vec<(String, AttributeValue)>> {
    proptest::collection::vec((label(), attribute_value()), 0..4)
}

fn asset_kind() -> impl Strategy<Value = AssetKind> {
    prop_oneof![
        select(AssetKind::BUILT_IN),
        label().prop_filter_map("a built-in name", |name| AssetKind::custom(&name).ok()),
    ]
}

fn lifecycle() -> impl Strategy<Value = Lifecycle> {
    prop_oneof![
        select(
            &[
                Lifecycle::Planned,
                Lifecycle::OnOrder,
                Lifecycle::InStock,
                Lifecycle::InTransit,
                Lifecycle::InUse,
                Lifecycle::InMaintenance,
                Lifecycle::ScheduledForRetirement,
            ][..]
        ),
        select(
            &[
                MissingReason::Unlocated,
                MissingReason::Lost,
                MissingReason::Stolen
            ][..]
        )
        .prop_map(Lifecycle::Missing),
        select(
            &[
                RetirementReason::Decommissioned,
                RetirementReason::Disposed,
                RetirementReason::Sold,
                RetirementReason::Donated,
                RetirementReason::ReturnedEndOfLease,
            ][..]
        )
        .prop_map(Lifecycle::Retired),
    ]
}

/// An end date: after the purchase date when there is one (by 0 to ~11
/// years), any date otherwise.
fn end_date(purchased: Option<NaiveDate>, (any, offset): (NaiveDate, u64)) -> NaiveDate {
    purchased.map_or(any, |bought| bought + Days::new(offset))
}

fn asset() -> impl Strategy<Value = Asset> {
    let people = (of(label()), of(label()), of(label()), of(label()));
    let costs = (of(cost()), of(cost()));
    let dates = (
        of(a_date()),
        of((a_date(), 0..4000_u64)),
        of((a_date(), 0..4000_u64)),
        of(a_date()),
    );
    (
        id_text(),
        label(),
        asset_kind(),
        lifecycle(),
        people,
        costs,
        dates,
        attributes(),
    )
        .prop_map(
            |(id, name, kind, lifecycle, people, costs, dates, attributes)| {
                let (owner, budget_owner, cost_center, location) = people;
                let (purchase_cost, monthly_cost) = costs;
                let (purchase_date, warranty_end, support_end, renewal_date) = dates;
                let mut builder =
                    Asset::builder(crate::util::id(&id), name, kind).lifecycle(lifecycle);
                if let Some(owner) = owner {
                    builder = builder.owner(owner);
                }
                if let Some(budget_owner) = budget_owner {
                    builder = builder.budget_owner(budget_owner);
                }
                if let Some(cost_center) = cost_center {
                    builder = builder.cost_center(cost_center);
                }
                if let Some(location) = location {
                    builder = builder.location(location);
                }
                if let Some(cost) = purchase_cost {
                    builder = builder.purchase_cost(cost);
                }
                if let Some(cost) = monthly_cost {
                    builder = builder.monthly_cost(cost);
                }
                if let Some(bought) = purchase_date {
                    builder = builder.purchase_date(bought);
                }
                if let Some(end) = warranty_end {
                    builder = builder.warranty_end(end_date(purchase_date, end));
                }
                if let Some(end) = support_end {
                    builder = builder.support_end(end_date(purchase_date, end));
                }
                if let Some(renewal) = renewal_date {
                    builder = builder.renewal_date(renewal);
                }
                for (key, value) in attributes {
                    builder = builder.attribute(key, value);
                }
                builder.build().expect("the strategy builds valid assets")
            },
        )
}

fn ci_class() -> impl Strategy<Value = CiClass> {
    prop_oneof![
        select(CiClass::BUILT_IN),
        label().prop_filter_map("a built-in name", |name| CiClass::custom(&name).ok()),
    ]
}

fn environment() -> impl Strategy<Value = Environment> {
    prop_oneof![
        select(Environment::BUILT_IN),
        label().prop_filter_map("a built-in name", |name| Environment::custom(&name).ok()),
    ]
}

fn status() -> impl Strategy<Value = OperationalStatus> {
    select(
        &[
            OperationalStatus::Planned,
            OperationalStatus::Operational,
            OperationalStatus::Degraded,
            OperationalStatus::NonOperational,
            OperationalStatus::InMaintenance,
            OperationalStatus::Standby,
            OperationalStatus::Retired,
        ][..],
    )
}

fn criticality() -> impl Strategy<Value = Criticality> {
    select(
        &[
            Criticality::Low,
            Criticality::Medium,
            Criticality::High,
            Criticality::MissionCritical,
        ][..],
    )
}

fn configuration_item() -> impl Strategy<Value = ConfigurationItem> {
    (
        id_text(),
        label(),
        ci_class(),
        status(),
        of(environment()),
        of(label().prop_map(|region| Region::new(&region).unwrap())),
        of(criticality()),
        of(label()),
        attributes(),
    )
        .prop_map(
            |(id, name, class, status, environment, region, criticality, owner, attributes)| {
                let mut builder =
                    ConfigurationItem::builder(crate::util::id(&id), name, class).status(status);
                if let Some(environment) = environment {
                    builder = builder.environment(environment);
                }
                if let Some(region) = region {
                    builder = builder.region(region);
                }
                if let Some(criticality) = criticality {
                    builder = builder.criticality(criticality);
                }
                if let Some(owner) = owner {
                    builder = builder.owner(owner);
                }
                for (key, value) in attributes {
                    builder = builder.attribute(key, value);
                }
                builder.build().expect("the strategy builds valid items")
            },
        )
}

/// An estate of up to 6 assets and 6 items; records whose id is already
/// taken in their register are dropped.
fn estate() -> impl Strategy<Value = Estate> {
    (
        proptest::collection::vec(asset(), 0..6),
        proptest::collection::vec(configuration_item(), 0..6),
    )
        .prop_map(|(assets, items)| {
            let mut estate = Estate::new();
            for asset in assets {
                if estate.asset(asset.id().as_str()).is_none() {
                    estate.insert_asset(asset).unwrap();
                }
            }
            for item in items {
                if estate.ci(item.id().as_str()).is_none() {
                    estate.insert_ci(item).unwrap();
                }
            }
            estate
        })
}

/// Everything `==` does not see: the order of each register and of every
/// record's attributes (`Estate`'s equality is that of its maps, which
/// ignores order).
fn orders(estate: &Estate) -> Vec<Vec<String>> {
    let mut orders = vec![
        estate.assets().iter().map(|a| a.id().to_string()).collect(),
        estate.cmdb().iter().map(|c| c.id().to_string()).collect(),
    ];
    for asset in estate.assets() {
        orders.push(
            asset
                .attributes()
                .iter()
                .map(|(k, _)| k.to_string())
                .collect(),
        );
    }
    for item in estate.cmdb() {
        orders.push(
            item.attributes()
                .iter()
                .map(|(k, _)| k.to_string())
                .collect(),
        );
    }
    orders
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn estates_round_trip_through_json_text(estate in estate()) {
        let json = serde_json::to_string(&estate).unwrap();
        let back: Estate = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, &estate);
        prop_assert_eq!(orders(&back), orders(&estate));
        // Deterministic: writing the copy gives the very same text.
        prop_assert_eq!(serde_json::to_string(&back).unwrap(), json.clone());

        // Pretty printing is only layout.
        let pretty = serde_json::to_string_pretty(&estate).unwrap();
        let back: Estate = serde_json::from_str(&pretty).unwrap();
        prop_assert_eq!(serde_json::to_string(&back).unwrap(), json);
    }

    #[test]
    fn estates_round_trip_through_json_values(estate in estate()) {
        let value = serde_json::to_value(&estate).unwrap();
        prop_assert_eq!(value["version"].as_u64(), Some(u64::from(Estate::SNAPSHOT_VERSION)));
        let back: Estate = serde_json::from_value(value.clone()).unwrap();
        prop_assert_eq!(&back, &estate);
        prop_assert_eq!(serde_json::to_value(&back).unwrap(), value);
        // serde_json's `Value` (without its `preserve_order` feature) sorts
        // object keys, so only the records survive this path, not their
        // order: compare them as sets.
        let mut ids: Vec<_> = back.assets().iter().map(|a| a.id().clone()).collect();
        let mut expected: Vec<_> = estate.assets().iter().map(|a| a.id().clone()).collect();
        ids.sort();
        expected.sort();
        prop_assert_eq!(ids, expected);
        for asset in estate.assets() {
            prop_assert_eq!(back.asset(asset.id().as_str()), Some(asset));
        }
        for item in estate.cmdb() {
            prop_assert_eq!(back.ci(item.id().as_str()), Some(item));
        }
    }

    #[test]
    fn records_round_trip_on_their_own(asset in asset(), item in configuration_item()) {
        let json = serde_json::to_string(&asset).unwrap();
        let back: Asset = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, &asset);
        prop_assert_eq!(serde_json::to_string(&back).unwrap(), json);
        let json = serde_json::to_string(&item).unwrap();
        let back: ConfigurationItem = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, &item);
        prop_assert_eq!(serde_json::to_string(&back).unwrap(), json);
    }
}

/// A small estate with one shared id, one asset-only and one item-only
/// resource.
fn small_estate() -> Estate {
    let mut estate = Estate::new();
    estate
        .insert_asset(
            Asset::builder(id("vm-pay-01"), "payments VM", AssetKind::CloudResource)
                .lifecycle(Lifecycle::InUse)
                .owner("payments team")
                .budget_owner("Dana Whitfield")
                .cost_center("CC-4410")
                .location("azure/uksouth")
                .purchase_date(date(2024, 1, 15))
                .monthly_cost(money("412.30 GBP"))
                .warranty_end(date(2027, 1, 14))
                .renewal_date(date(2027, 1, 15))
                .attribute("sku", "Standard_D8s_v5")
                .attribute("cores", 8)
                .attribute("disk_tib", Decimal::new(25, 1))
                .attribute("reserved", true)
                .attribute("reserved_until", date(2026, 12, 31))
                .build()
                .unwrap(),
        )
        .unwrap();
    estate
        .insert_asset(
            Asset::builder(
                id("lic/Oracle EE/42"),
                "Oracle EE licence",
                AssetKind::Licence,
            )
            .lifecycle(Lifecycle::Retired(RetirementReason::Disposed))
            .purchase_cost(money("47500 EUR"))
            .build()
            .unwrap(),
        )
        .unwrap();
    estate
        .insert_ci(
            ConfigurationItem::builder(id("vm-pay-01"), "vm-pay-01", CiClass::VirtualMachine)
                .status(OperationalStatus::Degraded)
                .environment(Environment::Production)
                .region("uksouth".parse().unwrap())
                .criticality(Criticality::MissionCritical)
                .owner("platform team")
                .attribute("os", "Ubuntu 24.04")
                .build()
                .unwrap(),
        )
        .unwrap();
    estate.insert_ci(ci("shadow-vm")).unwrap();
    estate
}

#[test]
fn snapshot_format_is_pinned() {
    let estate = small_estate();
    let json = serde_json::to_string_pretty(&estate).unwrap();
    insta::assert_snapshot!(json, @r#"
    {
      "version": 1,
      "assets": {
        "vm-pay-01": {
          "id": "vm-pay-01",
          "name": "payments VM",
          "kind": "cloud-resource",
          "lifecycle": "in_use",
          "owner": "payments team",
          "budget_owner": "Dana Whitfield",
          "cost_center": "CC-4410",
          "location": "azure/uksouth",
          "purchase_date": "2024-01-15",
          "monthly_cost": {
            "amount": "412.30",
            "currency": "GBP"
          },
          "warranty_end": "2027-01-14",
          "renewal_date": "2027-01-15",
          "attributes": {
            "cores": {
              "integer": 8
            },
            "disk_tib": {
              "decimal": "2.5"
            },
            "reserved": {
              "flag": true
            },
            "reserved_until": {
              "date": "2026-12-31"
            },
            "sku": {
              "text": "Standard_D8s_v5"
            }
          }
        },
        "lic/Oracle EE/42": {
          "id": "lic/Oracle EE/42",
          "name": "Oracle EE licence",
          "kind": "licence",
          "lifecycle": {
            "retired": "disposed"
          },
          "purchase_cost": {
            "amount": "47500",
            "currency": "EUR"
          }
        }
      },
      "cmdb": {
        "items": {
          "vm-pay-01": {
            "id": "vm-pay-01",
            "name": "vm-pay-01",
            "class": "virtual-machine",
            "status": "degraded",
            "environment": "production",
            "region": "uksouth",
            "criticality": "mission_critical",
            "owner": "platform team",
            "attributes": {
              "os": {
                "text": "Ubuntu 24.04"
              }
            }
          },
          "shadow-vm": {
            "id": "shadow-vm",
            "name": "shadow-vm",
            "class": "server",
            "status": "operational"
          }
        },
        "relationships": [],
        "groups": {}
      }
    }
    "#);
    assert_eq!(serde_json::from_str::<Estate>(&json).unwrap(), estate);
}

/// The snapshot that each refused case below changes in one place: a valid
/// estate holding an asset and an item `vm-1`, as text, with the text of
/// each record's entry in it. Taken from the serialiser rather than written
/// by hand, so that the cases follow the snapshot's layout.
struct Base {
    json: String,
    asset: String,
    ci: String,
}

impl Base {
    fn new() -> Self {
        let asset = Asset::builder(id("vm-1"), "vm one", AssetKind::Hardware)
            .purchase_date(date(2024, 1, 15))
            .monthly_cost(money("10.00 EUR"))
            .attribute("os", "linux")
            .build()
            .unwrap();
        let item = ConfigurationItem::builder(id("vm-1"), "vm one", CiClass::Server)
            .region("eu-west-2".parse().unwrap())
            .attribute("os", "linux")
            .build()
            .unwrap();
        let mut estate = Estate::new();
        estate.insert_asset(asset.clone()).unwrap();
        estate.insert_ci(item.clone()).unwrap();
        let base = Self {
            json: serde_json::to_string(&estate).unwrap(),
            asset: serde_json::to_string(&asset).unwrap(),
            ci: serde_json::to_string(&item).unwrap(),
        };
        assert_eq!(
            base.json.matches(&base.asset_entry()).count(),
            1,
            "{}",
            base.json
        );
        assert_eq!(
            base.json.matches(&base.ci_entry()).count(),
            1,
            "{}",
            base.json
        );
        base
    }

    fn asset_entry(&self) -> String {
        format!(r#""vm-1":{}"#, self.asset)
    }

    fn ci_entry(&self) -> String {
        format!(r#""vm-1":{}"#, self.ci)
    }

    /// The snapshot with `from` replaced by `to` outside the records.
    fn edit(&self, from: &str, to: &str) -> String {
        assert!(self.json.contains(from), "{from} is not in {}", self.json);
        self.json.replacen(from, to, 1)
    }

    /// The snapshot with the asset's map entry replaced by `entry`.
    fn asset_entry_as(&self, entry: &str) -> String {
        self.edit(&self.asset_entry(), entry)
    }

    /// The snapshot with the item's map entry replaced by `entry`.
    fn ci_entry_as(&self, entry: &str) -> String {
        self.edit(&self.ci_entry(), entry)
    }

    /// The snapshot with `from` replaced by `to` in the asset record.
    fn asset_edit(&self, from: &str, to: &str) -> String {
        assert!(self.asset.contains(from), "{from} is not in {}", self.asset);
        self.asset_entry_as(&format!(r#""vm-1":{}"#, self.asset.replacen(from, to, 1)))
    }

    /// The snapshot with `from` replaced by `to` in the item record.
    fn ci_edit(&self, from: &str, to: &str) -> String {
        assert!(self.ci.contains(from), "{from} is not in {}", self.ci);
        self.ci_entry_as(&format!(r#""vm-1":{}"#, self.ci.replacen(from, to, 1)))
    }
}

#[test]
fn the_base_snapshot_is_valid() {
    // So that each refused case below is refused for its one change.
    let base = Base::new();
    let estate: Estate = serde_json::from_str(&base.json).unwrap();
    let asset = estate.asset("vm-1").unwrap();
    assert_eq!(asset.monthly_cost(), Some(money("10.00 EUR")));
    assert_eq!(asset.purchase_date(), Some(date(2024, 1, 15)));
    assert_eq!(
        estate.ci("vm-1").unwrap().region().unwrap().as_str(),
        "eu-west-2"
    );
    assert_eq!(serde_json::to_string(&estate).unwrap(), base.json);
    // Both registers may be left out.
    assert_eq!(
        serde_json::from_str::<Estate>(r#"{"version":1}"#).unwrap(),
        Estate::new()
    );
}

/// Requires every snapshot to be refused with an error containing each of
/// the expected substrings: read from text, and, when `via_value`, from a
/// `serde_json::Value` too (a `Value` keeps only the last of two equal keys,
/// so it cannot carry a repeated key to the deserialiser).
#[track_caller]
fn assert_refused(cases: &[(&str, String, &[&str])], via_value: bool) {
    for (what, json, expected) in cases {
        let err = serde_json::from_str::<Estate>(json)
            .map(|estate| panic!("{what}: accepted {json} as {estate:?}"))
            .unwrap_err()
            .to_string();
        for needle in *expected {
            assert!(
                err.contains(needle),
                "{what}: {err:?} does not contain {needle:?}"
            );
        }
        if via_value {
            let value: serde_json::Value = serde_json::from_str(json).unwrap();
            let err = serde_json::from_value::<Estate>(value)
                .map(|estate| panic!("{what}: accepted the value of {json} as {estate:?}"))
                .unwrap_err()
                .to_string();
            for needle in *expected {
                assert!(
                    err.contains(needle),
                    "{what} (value): {err:?} does not contain {needle:?}"
                );
            }
        }
    }
}

#[test]
fn snapshots_with_an_invalid_id_or_key_are_refused() {
    let base = Base::new();
    let cases: &[(&str, String, &[&str])] = &[
        (
            "invalid id as an asset key",
            base.asset_entry_as(&format!(
                r#"" bad":{}"#,
                base.asset.replacen(r#""vm-1""#, r#"" bad""#, 1)
            )),
            &[
                r#"invalid resource id " bad""#,
                "leading or trailing whitespace",
            ],
        ),
        (
            "invalid id as an item key",
            base.ci_entry_as(&format!(r#""":{}"#, base.ci)),
            &[r#"invalid resource id """#, "must not be empty"],
        ),
        (
            "invalid id inside a record",
            base.asset_edit(r#""id":"vm-1""#, r#""id":"vm-1\u0007""#),
            &["invalid resource id", "control character at byte 4"],
        ),
        (
            "asset stored under another record's key",
            base.asset_entry_as(&format!(r#""vm-2":{}"#, base.asset)),
            &["snapshot stores record `vm-1` under key `vm-2`"],
        ),
        (
            "item stored under another record's key",
            base.ci_entry_as(&format!(r#""vm-2":{}"#, base.ci)),
            &["snapshot stores record `vm-1` under key `vm-2`"],
        ),
        (
            "key differing from the id only in case",
            base.ci_entry_as(&format!(r#""VM-1":{}"#, base.ci)),
            &["snapshot stores record `vm-1` under key `VM-1`"],
        ),
    ];
    assert_refused(cases, true);
}

#[test]
fn snapshots_that_repeat_a_key_are_refused() {
    let base = Base::new();
    let cases: &[(&str, String, &[&str])] = &[
        (
            "duplicate asset id",
            base.asset_entry_as(&format!("{0},{0}", base.asset_entry())),
            &["duplicate asset `vm-1` in snapshot"],
        ),
        (
            "duplicate item id",
            base.ci_entry_as(&format!("{0},{0}", base.ci_entry())),
            &["duplicate configuration item `vm-1` in snapshot"],
        ),
        (
            "duplicate id, the second record being different",
            base.ci_entry_as(&format!(
                r#"{},"vm-1":{}"#,
                base.ci_entry(),
                base.ci.replacen("vm one", "impostor", 1)
            )),
            &["duplicate configuration item `vm-1` in snapshot"],
        ),
        (
            "duplicate attribute key",
            base.ci_edit(
                r#""os":{"text":"linux"}"#,
                r#""os":{"text":"linux"},"os":{"integer":1}"#,
            ),
            &["duplicate attribute `os` in snapshot"],
        ),
    ];
    assert_refused(cases, false);
}

#[test]
fn snapshots_with_invalid_money_are_refused() {
    let base = Base::new();
    let cases: &[(&str, String, &[&str])] = &[
        (
            "lowercase currency",
            base.asset_edit(r#""EUR""#, r#""eur""#),
            &[r#"invalid currency code "eur""#],
        ),
        (
            "unknown currency",
            base.asset_edit(r#""EUR""#, r#""ABC""#),
            &[r#"invalid currency code "ABC""#],
        ),
        (
            "negative monthly cost",
            base.asset_edit(r#""10.00""#, r#""-0.01""#),
            &["invalid monthly_cost of `vm-1`: must not be negative"],
        ),
        (
            "negative purchase cost",
            base.asset_edit(
                r#""monthly_cost":{"amount":"10.00""#,
                r#""purchase_cost":{"amount":"-5""#,
            ),
            &["invalid purchase_cost of `vm-1`: must not be negative"],
        ),
        (
            "malformed amount",
            base.asset_edit(r#""10.00""#, r#""ten""#),
            &["ten"],
        ),
    ];
    assert_refused(cases, true);
}

#[test]
fn snapshots_with_an_invalid_field_are_refused() {
    let base = Base::new();
    let cases: &[(&str, String, &[&str])] = &[
        (
            "warranty ending before the purchase",
            base.asset_edit(
                r#""purchase_date":"2024-01-15""#,
                r#""purchase_date":"2024-01-15","warranty_end":"2024-01-14""#,
            ),
            &["invalid warranty_end of `vm-1`", "2024-01-15"],
        ),
        (
            "support ending before the purchase",
            base.asset_edit(
                r#""purchase_date":"2024-01-15""#,
                r#""support_end":"2023-12-31","purchase_date":"2024-01-15""#,
            ),
            &["invalid support_end of `vm-1`"],
        ),
        (
            "impossible date",
            base.asset_edit("2024-01-15", "2023-02-29"),
            &["input is out of range"],
        ),
        (
            "empty asset name",
            base.asset_edit(r#""vm one""#, r#""""#),
            &["invalid name of `vm-1`"],
        ),
        (
            "owner with surrounding whitespace",
            base.ci_edit(r#""class""#, r#""owner":"ops ","class""#),
            &[
                "invalid owner of `vm-1`",
                "must not start or end with whitespace",
            ],
        ),
        (
            "invalid region",
            base.ci_edit(r#""eu-west-2""#, r#"" eu""#),
            &[r#"invalid region " eu""#],
        ),
        (
            "invalid attribute key",
            base.asset_edit(r#""os""#, r#""os\n""#),
            &[
                "invalid attribute key",
                "must not contain control characters",
            ],
        ),
        (
            "unknown attribute type",
            base.asset_edit(r#""text""#, r#""float""#),
            &["unknown variant `float`"],
        ),
        (
            "unknown lifecycle",
            base.asset_edit(r#""in_use""#, r#""lost""#),
            &["unknown variant `lost`"],
        ),
        (
            "missing asset kind",
            base.asset_edit(r#","kind":"hardware""#, ""),
            &["missing field `kind`"],
        ),
    ];
    assert_refused(cases, true);
}

#[test]
fn snapshots_in_another_format_are_refused() {
    let base = Base::new();
    let cases: &[(&str, String, &[&str])] = &[
        (
            "unknown snapshot version",
            base.edit(r#""version":1"#, r#""version":2"#),
            &["unsupported snapshot version 2; this build reads version 1"],
        ),
        (
            "version 0",
            r#"{"version":0}"#.to_owned(),
            &["unsupported snapshot version 0"],
        ),
        (
            "missing version",
            base.edit(r#""version":1,"#, ""),
            &["missing field `version`"],
        ),
        (
            "unknown field in an asset record",
            base.asset_edit(r#""kind""#, r#""colour":"red","kind""#),
            &["unknown field `colour`"],
        ),
        (
            "unknown field in an item record",
            base.ci_edit(r#""class""#, r#""ip":"10.0.0.1","class""#),
            &["unknown field `ip`"],
        ),
        (
            "unknown field in the snapshot",
            base.edit(r#""version":1"#, r#""version":1,"colour":{}"#),
            &["unknown field `colour`"],
        ),
        (
            "a list instead of a map of records",
            r#"{"version":1,"assets":[]}"#.to_owned(),
            &["expected a map of asset records"],
        ),
    ];
    assert_refused(cases, true);
}

/// Rewrites the first occurrence of `from` in the sample's JSON snapshot.
fn sample_json_with(from: &str, to: &str) -> String {
    let json = serde_json::to_string(&itam_cmdb::sample::estate()).unwrap();
    assert!(json.contains(from), "{from} not in the snapshot");
    json.replacen(from, to, 1)
}

#[test]
fn the_graph_round_trips_and_answers_the_same() {
    use itam_cmdb::sample;
    let estate = sample::estate();
    let json = serde_json::to_string(&estate).unwrap();
    let back: Estate = serde_json::from_str(&json).unwrap();
    assert_eq!(back, estate);
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
    let before = estate.cmdb().blast_radius(id(sample::PAYMENTS_DB)).unwrap();
    let after = back.cmdb().blast_radius(id(sample::PAYMENTS_DB)).unwrap();
    let render = |impact: &itam_cmdb::Impact<'_>| {
        impact
            .iter()
            .map(|item| format!("{} {} {}", item.state(), item.distance(), item.path()))
            .collect::<Vec<_>>()
    };
    assert_eq!(render(&before), render(&after));
    assert_eq!(
        back.cmdb().quorum(sample::CHECKOUT_POOL),
        estate.cmdb().quorum(sample::CHECKOUT_POOL)
    );
}

#[test]
fn broken_graph_snapshots_are_refused() {
    let cases = [
        (
            r#""source":"svc-payments","kind":"depends_on","target":"lb-pay-euw2""#,
            r#""source":"svc-payments","kind":"depends_on","target":"ghost""#,
            "unknown configuration item `ghost`",
        ),
        (
            r#""source":"svc-payments","kind":"depends_on","target":"lb-pay-euw2""#,
            r#""source":"svc-payments","kind":"depends_on","target":"svc-payments""#,
            "configuration item `svc-payments` cannot be related to itself",
        ),
        (
            r#""source":"lb-pay-euw2","kind":"depends_on","target":"app-payment-api""#,
            r#""source":"svc-payments","kind":"depends_on","target":"lb-pay-euw2""#,
            "duplicate relationship svc-payments -[depends on]-> lb-pay-euw2",
        ),
        (
            r#""pool-checkout":{"at_least":1}"#,
            r#""pool-checkout":{"at_least":0}"#,
            "invalid quorum for group `pool-checkout`: needs at least 1 member up, not 0",
        ),
        (
            r#""pool-checkout":{"at_least":1}"#,
            r#""pool-checkout":{"percent":120}"#,
            "percentage 120 is not between 1 and 100",
        ),
        (
            r#""kind":"depends_on""#,
            r#""kind":"depends on""#,
            "unknown variant",
        ),
    ];
    for (from, to, expected) in cases {
        let json = sample_json_with(from, to);
        let err = serde_json::from_str::<Estate>(&json).unwrap_err();
        assert!(err.to_string().contains(expected), "{to}: {err}");
    }
}
