//! Issue 11: the snapshot round trip is the identity.
//!
//! Random sequences of every public mutation of an [`Estate`] (inserts and
//! removals, relationships and groups, claims of every kind on every field
//! from automated sources and people, reactivations, agreements, other
//! policies, reconciliation), on a small pool of ids so that operations
//! collide. After every operation the estate is written to JSON and read
//! back: the copy must equal the original, write the same JSON, and behave
//! the same under the next operation. A refused operation must leave the
//! estate unchanged, and a batch's dry run must equal its application.
//!
//! Generated estates (the synth generator at small sizes) round-trip too,
//! also after removals, re-inserts and claims.
//!
//! Failure messages name the issue item when the failure is a known one.
//! Five fail today, so the two operation properties fail until they are
//! fixed (add an item to [`TOLERATED`] to explore past it); each has a
//! minimal reproducer at the end of the file, ignored until its fix lands:
//!
//! 1. an estate with a column agreement and no claims, journal or conflicts
//!    is written without its agreement;
//! 2. a group whose members left after its quorum was set (legal in memory)
//!    makes the snapshot unreadable;
//! 3. a new relationship takes a freed graph slot in the original but goes
//!    last in the read-back copy, so the two diverge;
//! 4. a custom kind with no relationship left still holds its name against
//!    another propagation in the original, not in the copy;
//! 5. `Cmdb::cycles` follows graph slots, which a removal and an insert
//!    leave in another order than the copy's.

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use itam_cmdb::ownership::{
    AssetField, CiField, Claim, ColumnAgreement, Current, Field, FieldCategory, FieldOwnership,
    ManualLock, Reason, ReconcileRules, Rule, Source, SourcePattern, Update, Value, ValueType,
    Verdict, View,
};
use itam_cmdb::synth::Generator;
use itam_cmdb::{
    Asset, AssetKind, AttributeKey, AttributeValue, Batch, CiClass, ConfigurationItem, Criticality,
    Environment, Error, Estate, ImpactQuery, Lifecycle, MissingReason, Money, OperationalStatus,
    Propagation, Quorum, Region, RelationKind, ResourceId, RetirementReason,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rust_decimal::Decimal;

use crate::util::{date, id, money};

// ---------------------------------------------------------------------------
// Pools: few values of each kind, so that operations collide
// ---------------------------------------------------------------------------

/// The ids every operation draws from. `g` is usually a group.
const IDS: [&str; 5] = ["a", "b", "c", "g", "ü 1"];

fn rid(i: usize) -> ResourceId {
    id(IDS[i % IDS.len()])
}

/// Automated sources, people, an automated source named like a person, and
/// the source reconciliation claims under.
fn source(i: usize) -> Source {
    let sources = [
        Source::automated("finance"),
        Source::automated("discovery"),
        Source::automated("scanner"),
        Source::person("alice"),
        Source::person("bob"),
        Source::automated("alice"),
        Ok(Source::reconciliation()),
    ];
    sources[i % sources.len()].clone().unwrap()
}

const SOURCES: usize = 7;

/// Observation instants: equal ones are drawn often; some a second, a day
/// or forty days apart (staleness and locks), one before 1970, one with
/// nanoseconds, one a leap second.
fn instant(i: usize) -> DateTime<Utc> {
    let base = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    match i % 9 {
        0 => base,
        1 => base + TimeDelta::seconds(1),
        2 => base + TimeDelta::hours(1),
        3 => base + TimeDelta::days(1),
        4 => base + TimeDelta::days(40),
        5 => base - TimeDelta::days(3),
        6 => Utc.with_ymd_and_hms(1969, 12, 31, 23, 59, 59).unwrap(),
        7 => base + TimeDelta::nanoseconds(123_456_789),
        _ => DateTime::from_timestamp(1_483_228_799, 1_500_000_000).expect("the 2016 leap second"),
    }
}

const INSTANTS: usize = 9;

fn key(i: usize) -> AttributeKey {
    AttributeKey::new(["os", "cores", "rack.u"][i % 3]).unwrap()
}

/// Texts for text fields: valid labels (one with quotes, escapes and
/// non-ASCII, one of the maximum 1024 bytes), then two the label rules
/// refuse.
fn text(i: usize) -> String {
    match i % 8 {
        0 => "alpha".to_owned(),
        1 => "beta".to_owned(),
        2 => "Dana \"D\" Whitfield \\ ünï ☃ </script>".to_owned(),
        3 => "x".repeat(1024),
        4 => "gamma".to_owned(),
        5 => "team-payments".to_owned(),
        6 => String::new(),
        _ => " padded".to_owned(),
    }
}

fn a_date(i: usize) -> NaiveDate {
    match i % 5 {
        0 => date(2020, 2, 29),
        1 => date(2024, 1, 15),
        2 => date(2026, 6, 30),
        3 => date(2031, 12, 31),
        _ => date(1999, 12, 31),
    }
}

/// Amounts: equal ones of different scale, other currencies' minor units,
/// the largest decimal, and a negative one (refused as a cost).
fn amount(i: usize) -> Money {
    match i % 7 {
        0 => money("0 GBP"),
        1 => money("10.0 GBP"),
        2 => money("10.00 GBP"),
        3 => money("1500 JPY"),
        4 => money("1.234 KWD"),
        5 => Money::new(Decimal::MAX, "USD".parse().unwrap()),
        _ => money("-1.00 EUR"),
    }
}

fn attribute_value(i: usize) -> AttributeValue {
    match i % 10 {
        0 => AttributeValue::from("Ubuntu 24.04"),
        1 => AttributeValue::from(""),
        2 => AttributeValue::from("tab\there \u{0} nul \u{1b}[0m"),
        3 => AttributeValue::Integer(i64::MIN),
        4 => AttributeValue::Integer(16),
        5 => AttributeValue::Decimal("1.5".parse().unwrap()),
        6 => AttributeValue::Decimal("1.50".parse().unwrap()),
        7 => AttributeValue::Decimal(Decimal::MIN),
        8 => AttributeValue::Flag(true),
        _ => AttributeValue::Date(NaiveDate::MAX),
    }
}

fn lifecycle(i: usize) -> Lifecycle {
    let all = [
        Lifecycle::Planned,
        Lifecycle::OnOrder,
        Lifecycle::InStock,
        Lifecycle::InTransit,
        Lifecycle::InUse,
        Lifecycle::InMaintenance,
        Lifecycle::ScheduledForRetirement,
        Lifecycle::Missing(MissingReason::Lost),
        Lifecycle::Missing(MissingReason::Stolen),
        Lifecycle::Retired(RetirementReason::Decommissioned),
        Lifecycle::Retired(RetirementReason::Sold),
    ];
    all[i % all.len()]
}

fn asset_kind(i: usize) -> AssetKind {
    match i % 4 {
        0 => AssetKind::Hardware,
        1 => AssetKind::CloudResource,
        2 => AssetKind::Licence,
        _ => AssetKind::custom("kiosk").unwrap(),
    }
}

fn ci_class(i: usize) -> CiClass {
    match i % 4 {
        0 => CiClass::Server,
        1 => CiClass::Cluster,
        2 => CiClass::VirtualMachine,
        _ => CiClass::custom("mainframe lpar").unwrap(),
    }
}

fn status(i: usize) -> OperationalStatus {
    let all = [
        OperationalStatus::Operational,
        OperationalStatus::Degraded,
        OperationalStatus::Standby,
        OperationalStatus::Retired,
        OperationalStatus::Planned,
    ];
    all[i % all.len()]
}

fn environment(i: usize) -> Environment {
    match i % 3 {
        0 => Environment::Production,
        1 => Environment::Development,
        _ => Environment::custom("perf-lab").unwrap(),
    }
}

fn region(i: usize) -> Region {
    Region::new(["eu-west-2", "Mars Base 1"][i % 2]).unwrap()
}

fn criticality(i: usize) -> Criticality {
    [Criticality::Low, Criticality::MissionCritical][i % 2]
}

/// A value of type `ty`, the `i`th of its pool.
fn value(ty: ValueType, i: usize) -> Value {
    match ty {
        ValueType::Text => Value::text(text(i)),
        ValueType::Date => Value::Date(a_date(i)),
        ValueType::Money => Value::Money(amount(i)),
        ValueType::Lifecycle => Value::Lifecycle(lifecycle(i)),
        ValueType::AssetKind => Value::AssetKind(asset_kind(i)),
        ValueType::CiClass => Value::CiClass(ci_class(i)),
        ValueType::Status => Value::Status(status(i)),
        ValueType::Environment => Value::Environment(environment(i)),
        ValueType::Region => Value::Region(region(i)),
        ValueType::Criticality => Value::Criticality(criticality(i)),
        _ => Value::Attribute(attribute_value(i)),
    }
}

/// Every claimable field: each named field of both views, and attributes.
fn field(i: usize) -> Field {
    let named: [Field; 20] = [
        AssetField::Name.into(),
        AssetField::Kind.into(),
        AssetField::Lifecycle.into(),
        AssetField::Owner.into(),
        AssetField::BudgetOwner.into(),
        AssetField::CostCenter.into(),
        AssetField::Location.into(),
        AssetField::PurchaseDate.into(),
        AssetField::PurchaseCost.into(),
        AssetField::MonthlyCost.into(),
        AssetField::WarrantyEnd.into(),
        AssetField::SupportEnd.into(),
        AssetField::RenewalDate.into(),
        CiField::Name.into(),
        CiField::Class.into(),
        CiField::Status.into(),
        CiField::Environment.into(),
        CiField::Region.into(),
        CiField::Criticality.into(),
        CiField::Owner.into(),
    ];
    let n = named.len();
    match i % (n + 2) {
        j if j < n => named[j].clone(),
        j if j == n => AssetField::Attribute(key(i / (n + 2))).into(),
        _ => CiField::Attribute(key(i / (n + 2))).into(),
    }
}

const FIELDS: usize = 22 * 3;

fn kind(i: usize) -> RelationKind {
    match i % 8 {
        0 => RelationKind::DependsOn,
        1 => RelationKind::RunsOn,
        2 | 3 => RelationKind::MemberOf,
        4 => RelationKind::ConnectsTo(Propagation::Both),
        5 => RelationKind::custom("feeds", Propagation::Both).unwrap(),
        6 => RelationKind::custom("feeds", Propagation::Never).unwrap(),
        _ => RelationKind::custom("mirrors", Propagation::SourceToTarget).unwrap(),
    }
}

fn quorum(i: usize) -> Quorum {
    let all = [
        Quorum::AtLeast(1),
        Quorum::AtLeast(2),
        Quorum::AtLeast(3),
        Quorum::Percent(50),
        Quorum::Percent(100),
        Quorum::AtLeast(0),
        Quorum::Percent(101),
    ];
    all[i % all.len()]
}

// ---------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------

/// An asset: every optional field may be set, from the pools (only valid
/// values: an insert that fails is not interesting here).
#[derive(Debug, Clone)]
struct AssetSpec {
    id: usize,
    kind: usize,
    lifecycle: usize,
    /// Owner, budget owner, cost center, location: a text index each.
    texts: [Option<usize>; 4],
    purchase: Option<usize>,
    costs: [Option<usize>; 2],
    /// Days after the purchase (or after 2024-01-15) of warranty and support
    /// end, and the renewal date.
    ends: [Option<u8>; 3],
    attributes: Vec<(usize, usize)>,
}

impl AssetSpec {
    fn build(&self) -> Asset {
        let id = rid(self.id);
        let mut b = Asset::builder(id.clone(), text(self.id % 3), asset_kind(self.kind))
            .lifecycle(lifecycle(self.lifecycle));
        let [owner, budget, center, location] = self.texts.map(|t| t.map(|i| text(i % 4)));
        if let Some(t) = owner {
            b = b.owner(t);
        }
        if let Some(t) = budget {
            b = b.budget_owner(t);
        }
        if let Some(t) = center {
            b = b.cost_center(t);
        }
        if let Some(t) = location {
            b = b.location(t);
        }
        let bought = self.purchase.map(a_date);
        if let Some(d) = bought {
            b = b.purchase_date(d);
        }
        let [purchase_cost, monthly] = self.costs.map(|c| c.map(|i| amount(i % 6)));
        if let Some(m) = purchase_cost {
            b = b.purchase_cost(m);
        }
        if let Some(m) = monthly {
            b = b.monthly_cost(m);
        }
        let from = bought.unwrap_or(date(2024, 1, 15));
        let [warranty, support, renewal] = self
            .ends
            .map(|d| d.map(|d| from + TimeDelta::days(i64::from(d) * 30)));
        if let Some(d) = warranty {
            b = b.warranty_end(d);
        }
        if let Some(d) = support {
            b = b.support_end(d);
        }
        if let Some(d) = renewal {
            b = b.renewal_date(d);
        }
        for &(k, v) in &self.attributes {
            b = b.attribute(key(k).as_str(), attribute_value(v));
        }
        b.build().expect("the asset spec is valid")
    }
}

fn asset_spec() -> impl Strategy<Value = AssetSpec> {
    let n = 0..64usize;
    (
        (0..IDS.len(), n.clone(), n.clone()),
        prop::array::uniform4(prop::option::of(n.clone())),
        prop::option::of(n.clone()),
        prop::array::uniform2(prop::option::of(n.clone())),
        prop::array::uniform3(prop::option::of(0..40u8)),
        prop::collection::vec((n.clone(), n), 0..3),
    )
        .prop_map(
            |((id, kind, lifecycle), texts, purchase, costs, ends, attributes)| AssetSpec {
                id,
                kind,
                lifecycle,
                texts,
                purchase,
                costs,
                ends,
                attributes,
            },
        )
}

#[derive(Debug, Clone)]
struct CiSpec {
    id: usize,
    class: usize,
    status: usize,
    environment: Option<usize>,
    region: Option<usize>,
    criticality: Option<usize>,
    owner: Option<usize>,
    attributes: Vec<(usize, usize)>,
}

impl CiSpec {
    fn build(&self) -> ConfigurationItem {
        let id = rid(self.id);
        let mut b = ConfigurationItem::builder(id.clone(), text(self.id % 3), ci_class(self.class))
            .status(status(self.status));
        if let Some(i) = self.environment {
            b = b.environment(environment(i));
        }
        if let Some(i) = self.region {
            b = b.region(region(i));
        }
        if let Some(i) = self.criticality {
            b = b.criticality(criticality(i));
        }
        if let Some(i) = self.owner {
            b = b.owner(text(i % 4));
        }
        for &(k, v) in &self.attributes {
            b = b.attribute(key(k).as_str(), attribute_value(v));
        }
        b.build().expect("the item spec is valid")
    }
}

fn ci_spec() -> impl Strategy<Value = CiSpec> {
    let n = 0..64usize;
    (
        (0..IDS.len(), n.clone(), n.clone()),
        prop::array::uniform4(prop::option::of(n.clone())),
        prop::collection::vec((n.clone(), n), 0..3),
    )
        .prop_map(
            |((id, class, status), [env, region, crit, owner], attributes)| CiSpec {
                id,
                class,
                status,
                environment: env,
                region,
                criticality: crit,
                owner,
                attributes,
            },
        )
}

// ---------------------------------------------------------------------------
// Claims
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum UpdateSpec {
    /// The `i`th value of the field's type.
    Set(usize),
    Clear,
    Retract,
    /// A value of another type than the field's (refused).
    WrongType(usize),
    /// [`Claim::reactivate`] (its field is always the lifecycle).
    Reactivate,
}

#[derive(Debug, Clone, Copy)]
struct ClaimSpec {
    id: usize,
    field: usize,
    update: UpdateSpec,
    source: usize,
    at: usize,
}

impl ClaimSpec {
    fn claim(self) -> Claim {
        let (resource, source, at) = (rid(self.id), source(self.source), instant(self.at));
        let field = field(self.field);
        let update = match self.update {
            UpdateSpec::Reactivate => return Claim::reactivate(resource, source, at),
            UpdateSpec::Set(i) => Update::Set(value(field.value_type(), i)),
            UpdateSpec::Clear => Update::Clear,
            UpdateSpec::Retract => Update::Retract,
            UpdateSpec::WrongType(i) => {
                let ty = if field.value_type() == ValueType::Date {
                    ValueType::Text
                } else {
                    ValueType::Date
                };
                Update::Set(value(ty, i))
            }
        };
        Claim::new(resource, field, update, source, at)
    }
}

fn update_spec() -> impl Strategy<Value = UpdateSpec> {
    prop_oneof![
        12 => (0..64usize).prop_map(UpdateSpec::Set),
        2 => Just(UpdateSpec::Clear),
        3 => Just(UpdateSpec::Retract),
        2 => Just(UpdateSpec::Reactivate),
        1 => (0..64usize).prop_map(UpdateSpec::WrongType),
    ]
}

fn claim_spec() -> impl Strategy<Value = ClaimSpec> {
    (
        0..IDS.len(),
        0..FIELDS,
        update_spec(),
        0..SOURCES,
        0..INSTANTS,
    )
        .prop_map(|(id, field, update, source, at)| ClaimSpec {
            id,
            field,
            update,
            source,
            at,
        })
}

// ---------------------------------------------------------------------------
// Policies
// ---------------------------------------------------------------------------

fn pattern(i: usize) -> SourcePattern {
    match i % 5 {
        0 => "finance".into(),
        1 => "discovery".into(),
        2 => "scanner".into(),
        3 => "alice".into(),
        _ => SourcePattern::AnyPerson,
    }
}

#[derive(Debug, Clone)]
struct RuleSpec {
    scope: usize,
    sources: Vec<usize>,
    stale_days: Option<u8>,
    write_if_empty: Vec<usize>,
    allow_clear: bool,
    /// None: no lock; Some((days, allow)): forever when days is 0.
    lock: Option<(u8, Option<usize>)>,
}

impl RuleSpec {
    fn rule(&self) -> Rule {
        let categories = [
            FieldCategory::Identity,
            FieldCategory::Ownership,
            FieldCategory::Cost,
            FieldCategory::Lifecycle,
            FieldCategory::Configuration,
        ];
        let mut rule = match self.scope % 4 {
            0 => Rule::field(field(self.scope / 4)),
            1 => Rule::view_category(
                [View::Asset, View::Ci][self.scope / 4 % 2],
                categories[self.scope / 8 % 5],
            ),
            2 => Rule::category(categories[self.scope / 4 % 5]),
            _ => Rule::fallback(),
        };
        rule = rule
            .sources(self.sources.iter().map(|&i| pattern(i)))
            .allow_clear(self.allow_clear)
            .manual_lock(self.lock.map(|(days, allow)| {
                let lock = if days == 0 {
                    ManualLock::forever()
                } else {
                    ManualLock::expiring_after(TimeDelta::days(i64::from(days)))
                };
                match allow {
                    Some(i) => lock.allow(pattern(i)),
                    None => lock,
                }
            }));
        if let Some(days) = self.stale_days {
            rule = rule.stale_after(TimeDelta::days(i64::from(days)));
        }
        for &i in &self.write_if_empty {
            rule = rule.write_if_empty(pattern(i));
        }
        rule
    }
}

fn rule_spec() -> impl Strategy<Value = RuleSpec> {
    (
        0..400usize,
        prop::collection::vec(0..5usize, 0..4),
        prop::option::of(1..45u8),
        prop::collection::vec(0..5usize, 0..2),
        any::<bool>(),
        prop::option::of((0..5u8, prop::option::of(0..5usize))),
    )
        .prop_map(
            |(scope, sources, stale_days, write_if_empty, allow_clear, lock)| RuleSpec {
                scope,
                sources,
                stale_days,
                write_if_empty,
                allow_clear,
                lock,
            },
        )
}

#[derive(Debug, Clone)]
enum AgreementSpec {
    Empty,
    ItamDefault,
    /// Rules in order; a rule `with` refuses is skipped.
    Rules(Vec<RuleSpec>),
}

impl AgreementSpec {
    fn agreement(&self) -> ColumnAgreement {
        match self {
            Self::Empty => ColumnAgreement::new(),
            Self::ItamDefault => ColumnAgreement::itam_default(),
            Self::Rules(rules) => rules.iter().fold(ColumnAgreement::new(), |agreement, r| {
                agreement.clone().with(r.rule()).unwrap_or(agreement)
            }),
        }
    }
}

fn agreement_spec() -> impl Strategy<Value = AgreementSpec> {
    prop_oneof![
        1 => Just(AgreementSpec::Empty),
        2 => Just(AgreementSpec::ItamDefault),
        4 => prop::collection::vec(rule_spec(), 1..5).prop_map(AgreementSpec::Rules),
    ]
}

/// A policy of the caller's own, whose verdicts carry reasons and rule
/// labels no column agreement writes (empty, quoted, multi-line, non-ASCII).
#[derive(Debug, Clone, Copy)]
struct Quirky(bool);

impl FieldOwnership for Quirky {
    fn decide(&self, field: &Field, current: Current<'_>, claim: &Claim) -> Verdict {
        let people_only = self.0;
        if people_only && !claim.source().is_person() {
            return Verdict::reject(
                Reason::Other(format!("only people may edit {field}\n\"really\"")),
                "",
            );
        }
        if current.value.is_some() && claim.observed().timestamp() % 2 == 1 {
            return Verdict::reject(Reason::Other(String::new()), "odd \u{1f4a5} second");
        }
        Verdict::accept(Reason::Other("ok ✓".to_owned()), "custom policy")
    }
}

#[derive(Debug, Clone)]
enum PolicySpec {
    /// [`Estate::apply`]: the estate's agreement.
    Estate,
    /// [`Estate::apply_with`] another agreement.
    Agreement(AgreementSpec),
    /// [`Estate::apply_with`] a policy of the caller's own.
    Quirky(bool),
}

fn policy_spec() -> impl Strategy<Value = PolicySpec> {
    prop_oneof![
        6 => Just(PolicySpec::Estate),
        1 => agreement_spec().prop_map(PolicySpec::Agreement),
        1 => any::<bool>().prop_map(PolicySpec::Quirky),
    ]
}

fn reconcile_rules(i: usize) -> ReconcileRules {
    match i % 3 {
        0 => ReconcileRules::standard(),
        1 => ReconcileRules::new()
            .pair(AssetField::Location, CiField::Region, View::Ci)
            .unwrap()
            .pair(AssetField::Name, CiField::Name, View::Asset)
            .unwrap(),
        _ => ReconcileRules::standard()
            .pair(
                AssetField::Attribute(key(0)),
                CiField::Attribute(key(0)),
                View::Ci,
            )
            .unwrap(),
    }
}

// ---------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------

/// One change of a batch, or one single-change method.
#[derive(Debug, Clone)]
enum ChangeSpec {
    InsertAsset(AssetSpec),
    InsertCi(CiSpec),
    RemoveAsset(usize),
    RemoveCi(usize),
    Relate(usize, usize, usize),
    Unrelate(usize, usize, usize),
    DefineGroup(usize, usize, Vec<usize>),
    Claim(ClaimSpec),
}

impl ChangeSpec {
    fn add_to(&self, batch: &mut Batch) {
        match self {
            Self::InsertAsset(spec) => batch.insert_asset(spec.build()),
            Self::InsertCi(spec) => batch.insert_ci(spec.build()),
            Self::RemoveAsset(i) => batch.remove_asset(rid(*i)),
            Self::RemoveCi(i) => batch.remove_ci(rid(*i)),
            Self::Relate(s, k, t) => batch.relate(rid(*s), kind(*k), rid(*t)),
            Self::Unrelate(s, k, t) => batch.unrelate(rid(*s), kind(*k), rid(*t)),
            Self::DefineGroup(g, q, members) => {
                batch.define_group(rid(*g), quorum(*q), members.iter().map(|&m| rid(m)))
            }
            Self::Claim(spec) => batch.claim(spec.claim()),
        };
    }
}

fn structural_change() -> impl Strategy<Value = ChangeSpec> {
    let i = 0..IDS.len();
    prop_oneof![
        2 => asset_spec().prop_map(ChangeSpec::InsertAsset),
        2 => ci_spec().prop_map(ChangeSpec::InsertCi),
        1 => i.clone().prop_map(ChangeSpec::RemoveAsset),
        1 => i.clone().prop_map(ChangeSpec::RemoveCi),
        5 => (i.clone(), 0..8usize, i.clone()).prop_map(|(s, k, t)| ChangeSpec::Relate(s, k, t)),
        2 => (i.clone(), 0..8usize, i.clone()).prop_map(|(s, k, t)| ChangeSpec::Unrelate(s, k, t)),
        2 => (i.clone(), 0..7usize, prop::collection::vec(i, 0..4))
            .prop_map(|(g, q, m)| ChangeSpec::DefineGroup(g, q, m)),
    ]
}

fn change() -> impl Strategy<Value = ChangeSpec> {
    prop_oneof![
        1 => structural_change(),
        1 => claim_spec().prop_map(ChangeSpec::Claim),
    ]
}

/// Remove one view of a resource and insert it again in the same batch,
/// with claims around (decided against the new record).
fn reinsert() -> impl Strategy<Value = Vec<ChangeSpec>> {
    (
        any::<bool>(),
        asset_spec(),
        ci_spec(),
        prop::collection::vec(claim_spec(), 0..4),
        prop::collection::vec(change(), 0..2),
    )
        .prop_map(|(asset, a, c, claims, extra)| {
            let mut changes = Vec::new();
            if asset {
                changes.push(ChangeSpec::RemoveAsset(a.id));
                changes.push(ChangeSpec::InsertAsset(a.clone()));
            } else {
                changes.push(ChangeSpec::RemoveCi(c.id));
                changes.push(ChangeSpec::InsertCi(c.clone()));
            }
            let id = if asset { a.id } else { c.id };
            changes.extend(
                claims
                    .into_iter()
                    .map(|s| ChangeSpec::Claim(ClaimSpec { id, ..s })),
            );
            changes.extend(extra);
            changes
        })
}

#[derive(Debug, Clone)]
enum Op {
    /// [`Estate::set_agreement`].
    SetAgreement(AgreementSpec),
    /// The single-change methods ([`Estate::insert_asset`], ...,
    /// [`Estate::define_group`]); a claim goes through a batch of one.
    Single(ChangeSpec),
    /// [`Estate::apply`] or [`Estate::apply_with`].
    Apply(Vec<ChangeSpec>, PolicySpec),
    /// [`Estate::resolve`].
    Resolve(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => agreement_spec().prop_map(Op::SetAgreement),
        6 => change().prop_map(Op::Single),
        6 => (prop::collection::vec(change(), 1..5), policy_spec())
            .prop_map(|(changes, policy)| Op::Apply(changes, policy)),
        2 => (reinsert(), policy_spec()).prop_map(|(changes, policy)| Op::Apply(changes, policy)),
        1 => (0..3usize, 0..INSTANTS).prop_map(|(rules, at)| Op::Resolve(rules, at)),
    ]
}

/// The operations an estate starts from: none, or a batch that inserts
/// most ids in both views, sometimes followed by a group `g`.
fn initial() -> impl Strategy<Value = Vec<Op>> {
    let records = prop::collection::vec(
        (
            prop::option::weighted(0.8, asset_spec()),
            prop::option::weighted(0.85, ci_spec()),
        ),
        IDS.len(),
    );
    let group = prop::option::of((0..3usize, prop::collection::vec(0..IDS.len(), 2..4)));
    prop_oneof![
        1 => Just(Vec::new()),
        3 => (records, group).prop_map(|(records, group)| {
            let mut changes = Vec::new();
            for (id, (asset, ci)) in records.into_iter().enumerate() {
                if let Some(asset) = asset {
                    changes.push(ChangeSpec::InsertAsset(AssetSpec { id, ..asset }));
                }
                if let Some(ci) = ci {
                    changes.push(ChangeSpec::InsertCi(CiSpec { id, ..ci }));
                }
            }
            let mut ops = vec![Op::Apply(changes, PolicySpec::Estate)];
            if let Some((q, members)) = group {
                ops.push(Op::Single(ChangeSpec::DefineGroup(3, q, members)));
            }
            ops
        }),
    ]
}

/// Operations from [`initial`] on, then random ones.
fn ops() -> impl Strategy<Value = Vec<Op>> {
    (initial(), prop::collection::vec(op(), 1..24)).prop_map(|(mut ops, more)| {
        ops.extend(more);
        ops
    })
}

/// Operations without a claim (nor reconciliation, which claims), ending
/// with an agreement that is not the default one.
fn unclaimed_ops() -> impl Strategy<Value = Vec<Op>> {
    let single = structural_change().prop_map(Op::Single);
    let batch = prop::collection::vec(structural_change(), 1..6)
        .prop_map(|changes| Op::Apply(changes, PolicySpec::Estate));
    (
        prop::collection::vec(prop_oneof![2 => single, 1 => batch], 0..12),
        prop_oneof![
            Just(AgreementSpec::ItamDefault),
            prop::collection::vec(rule_spec(), 1..4).prop_map(AgreementSpec::Rules),
        ],
    )
        .prop_map(|(mut ops, agreement)| {
            ops.push(Op::SetAgreement(agreement));
            ops
        })
}

/// What an operation returned, comparable between the original and its
/// read-back copy.
#[derive(Debug, PartialEq)]
enum Returned {
    Nothing,
    Flag(bool),
    Asset(Box<Asset>),
    Ci(Box<ConfigurationItem>),
    Report(itam_cmdb::ownership::Report),
}

fn run(estate: &mut Estate, op: &Op) -> Result<Returned, Error> {
    match op {
        Op::SetAgreement(spec) => {
            estate.set_agreement(spec.agreement());
            Ok(Returned::Nothing)
        }
        Op::Single(change) => match change {
            ChangeSpec::InsertAsset(spec) => estate
                .insert_asset(spec.build())
                .map(|()| Returned::Nothing),
            ChangeSpec::InsertCi(spec) => {
                estate.insert_ci(spec.build()).map(|()| Returned::Nothing)
            }
            ChangeSpec::RemoveAsset(i) => estate
                .remove_asset(&rid(*i))
                .map(|a| Returned::Asset(Box::new(a))),
            ChangeSpec::RemoveCi(i) => estate
                .remove_ci(&rid(*i))
                .map(|c| Returned::Ci(Box::new(c))),
            ChangeSpec::Relate(s, k, t) => estate
                .relate(&rid(*s), kind(*k), &rid(*t))
                .map(Returned::Flag),
            ChangeSpec::Unrelate(s, k, t) => estate
                .unrelate(&rid(*s), kind(*k), &rid(*t))
                .map(Returned::Flag),
            ChangeSpec::DefineGroup(g, q, members) => estate
                .define_group(&rid(*g), quorum(*q), members.iter().map(|&m| rid(m)))
                .map(|()| Returned::Nothing),
            ChangeSpec::Claim(_) => {
                let mut batch = Batch::new();
                change.add_to(&mut batch);
                estate.apply(batch).map(Returned::Report)
            }
        },
        Op::Apply(changes, policy) => {
            let mut batch = Batch::new();
            for change in changes {
                change.add_to(&mut batch);
            }
            let (plan, applied) = match policy {
                PolicySpec::Estate => (estate.plan(&batch), estate.apply(batch)),
                PolicySpec::Agreement(spec) => {
                    let policy = spec.agreement();
                    (
                        estate.plan_with(&batch, &policy),
                        estate.apply_with(batch, &policy),
                    )
                }
                PolicySpec::Quirky(people) => {
                    let policy = Quirky(*people);
                    (
                        estate.plan_with(&batch, &policy),
                        estate.apply_with(batch, &policy),
                    )
                }
            };
            assert_eq!(plan, applied, "the dry run differs from the write");
            applied.map(Returned::Report)
        }
        Op::Resolve(rules, at) => estate
            .resolve(&reconcile_rules(*rules), instant(*at))
            .map(Returned::Report),
    }
}

// ---------------------------------------------------------------------------
// The round trip
// ---------------------------------------------------------------------------

// The issue items that fail today, as their failure messages start.
const ITEM_AGREEMENT: &str = "issue 11 item 1: an estate with a column agreement but no claims, \
     journal or conflicts is written without its agreement";
const ITEM_QUORUM: &str = "issue 11 item 2: a group whose members left after its quorum was \
     set (legal in memory) makes the snapshot unreadable";
const ITEM_EDGE_ORDER: &str = "issue 11 item 3: relationship order depends on freed graph \
     slots, so the read-back copy orders a new relationship differently";
const ITEM_CUSTOM_KIND: &str = "issue 11 item 4: a custom relationship kind whose last \
     relationship is gone still holds its name against another propagation, but not once \
     read back";
const ITEM_CYCLE_ORDER: &str = "issue 11 item 5: `Cmdb::cycles` lists a cycle's items in \
     graph slot order, which a removal followed by an insert leaves unlike the register order \
     the read-back copy has";

/// Known items the properties let through, to look for other failures
/// past them: add one here while it is being fixed, never to hide one.
/// Empty: every known item fails the properties (their reproducers are at
/// the end of the file).
const TOLERATED: &[&str] = &[];

/// A failure, unless it is one of the [`TOLERATED`] items.
fn failure(message: String) -> Result<(), TestCaseError> {
    if TOLERATED.iter().any(|item| message.starts_with(item)) {
        Ok(())
    } else {
        Err(TestCaseError::fail(message))
    }
}

fn json(estate: &Estate) -> String {
    serde_json::to_string(estate).expect("an estate always serialises")
}

/// Writes `estate` to JSON and reads it back: the copy must equal it and
/// write the same JSON. Returns the copy.
fn round_trip(estate: &Estate) -> Result<Estate, TestCaseError> {
    let written = json(estate);
    let back: Estate = match serde_json::from_str(&written) {
        Ok(back) => back,
        Err(e) => {
            let known = if e.to_string().contains("invalid quorum") {
                ITEM_QUORUM
            } else {
                "the snapshot cannot be read back"
            };
            failure(format!("{known}\nerror: {e}\nsnapshot: {written}"))?;
            return Ok(estate.clone());
        }
    };
    if &back != estate {
        let known = if back.agreement() != estate.agreement() && !written.contains("\"ownership\"")
        {
            ITEM_AGREEMENT
        } else {
            "the read-back estate differs"
        };
        failure(format!(
            "{known}\nsnapshot: {written}\nagreement: {:?}\nread back: {:?}",
            estate.agreement(),
            back.agreement()
        ))?;
        return Ok(estate.clone());
    }
    prop_assert_eq!(
        &json(&back),
        &written,
        "writing the read-back estate gives other JSON"
    );
    Ok(back)
}

/// Whether two CMDBs hold the same relationships in another order.
fn same_relationships_reordered(a: &Estate, b: &Estate) -> bool {
    let sorted = |e: &Estate| {
        let mut all: Vec<String> = e.cmdb().relationships().map(|r| format!("{r:?}")).collect();
        all.sort();
        all
    };
    sorted(a) == sorted(b)
        && a.cmdb().relationships().ne(b.cmdb().relationships())
        && a.assets() == b.assets()
        && a.cmdb().iter().eq(b.cmdb().iter())
}

/// What the queries say of an estate: each item's blast radius,
/// dependencies and recovery order, and the cycles.
fn queries(estate: &Estate) -> Vec<String> {
    let cmdb = estate.cmdb();
    let mut seen = vec![format!("{:?}", cmdb.cycles())];
    for ci in cmdb {
        let query = || ImpactQuery::new(ci.id().clone());
        let blast = cmdb.blast_radius(query()).expect("a known root");
        seen.push(blast.to_dot());
        seen.push(blast.recovery_order().to_dot());
        seen.push(cmdb.dependencies(query()).expect("a known root").to_dot());
    }
    seen
}

/// Checks that `copy`, read back from `estate`, answers the queries alike.
fn compare_queries(estate: &Estate, copy: &Estate, context: &str) -> Result<(), TestCaseError> {
    let (mine, theirs) = (queries(estate), queries(copy));
    if mine == theirs {
        return Ok(());
    }
    let known = if mine[1..] == theirs[1..] {
        ITEM_CYCLE_ORDER
    } else {
        "query results of the read-back estate differ"
    };
    let differ: Vec<_> = mine.iter().zip(&theirs).filter(|(a, b)| a != b).collect();
    failure(format!(
        "{known}\n{context}\nsnapshot: {}\n(original, read back): {differ:#?}",
        json(estate)
    ))
}

/// Runs `ops`, checking the round trip before the first and after every
/// one, that the read-back copy behaves as the original under the next
/// operation, and that a refused operation changes nothing.
fn check_ops(mut estate: Estate, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut copy = round_trip(&estate)?;
    for (n, op) in ops.iter().enumerate() {
        let before = estate.clone();
        let returned = run(&mut estate, op);
        let copy_returned = run(&mut copy, op);
        if returned != copy_returned {
            let conflicting = |r: &Result<Returned, Error>| match r {
                Err(Error::ConflictingKind { .. }) => true,
                Err(Error::Batch { problems }) => problems
                    .iter()
                    .any(|(_, e)| matches!(e, Error::ConflictingKind { .. })),
                _ => false,
            };
            let known = if conflicting(&returned) == conflicting(&copy_returned) {
                "the read-back estate returned otherwise under the same operation"
            } else {
                ITEM_CUSTOM_KIND
            };
            failure(format!(
                "{known}\nop {n}: {op:?}\noriginal returned: {returned:?}\n\
                 read back returned: {copy_returned:?}\nsnapshot: {}",
                json(&before)
            ))?;
            // Exploring past a known item: carry on from the original.
            copy = estate.clone();
        }
        if returned.is_err() {
            prop_assert!(
                estate == before,
                "op {} ({:?}) failed but changed the estate\nbefore: {}\nafter: {}",
                n,
                op,
                json(&before),
                json(&estate)
            );
        }
        if estate != copy {
            let known = if same_relationships_reordered(&estate, &copy) {
                ITEM_EDGE_ORDER
            } else {
                "the read-back estate diverged under the same operation"
            };
            failure(format!(
                "{known}\nop {n}: {op:?}\noriginal: {}\nread back: {}",
                json(&estate),
                json(&copy)
            ))?;
        }
        copy = round_trip(&estate)?;
    }
    // Queries cost more than the rest: once, on the final estate.
    compare_queries(&estate, &copy, "after the last op")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every public mutation, in random order on colliding ids: the round
    /// trip is the identity after each.
    #[test]
    fn the_round_trip_is_the_identity_after_every_mutation(
        ops in ops(),
    ) {
        check_ops(Estate::new(), &ops)?;
    }

    /// Estates with no claim at all and a column agreement of their own
    /// (issue 11 item 1: fails today).
    #[test]
    fn an_estate_without_claims_keeps_its_agreement(ops in unclaimed_ops()) {
        check_ops(Estate::new(), &ops)?;
    }
}

// ---------------------------------------------------------------------------
// Generated estates
// ---------------------------------------------------------------------------

fn generator() -> impl Strategy<Value = Generator> {
    (
        any::<u64>(),
        Generator::MIN_CIS..Generator::MIN_CIS + 200,
        1..=3u8,
        0..=100u8,
        prop_oneof![Just(0u16), Just(5), 0..=1000u16],
    )
        .prop_map(|(seed, cis, regions, assets, back)| {
            Generator::new(seed)
                .cis(cis)
                .regions(regions)
                .asset_percent(assets)
                .back_edge_per_mille(back)
        })
}

/// A change to a generated estate, naming its records by position.
#[derive(Debug, Clone, Copy)]
enum SynthOp {
    RemoveCi(usize),
    RemoveAsset(usize),
    /// Remove an item and insert it again in one batch, depending on
    /// another.
    Reinsert(usize, usize),
    /// Remove the `i`th relationship.
    Unrelate(usize),
    /// A claim on the `i`th item (or asset, when the field is an asset's).
    Claim(usize, ClaimSpec),
}

fn synth_op() -> impl Strategy<Value = SynthOp> {
    let i = any::<prop::sample::Index>().prop_map(|i| i.index(1 << 20));
    prop_oneof![
        2 => i.clone().prop_map(SynthOp::RemoveCi),
        1 => i.clone().prop_map(SynthOp::RemoveAsset),
        2 => (i.clone(), i.clone()).prop_map(|(a, b)| SynthOp::Reinsert(a, b)),
        2 => i.clone().prop_map(SynthOp::Unrelate),
        3 => (i, claim_spec()).prop_map(|(i, c)| SynthOp::Claim(i, c)),
    ]
}

fn run_synth(estate: &mut Estate, op: SynthOp) -> Result<(), Error> {
    let nth_ci = |estate: &Estate, i: usize| {
        let n = estate.cmdb().len();
        estate.cmdb().iter().nth(i % n).map(|ci| ci.id().clone())
    };
    match op {
        SynthOp::RemoveCi(i) => {
            let id = nth_ci(estate, i).expect("a generated estate has items");
            estate.remove_ci(&id).map(drop)
        }
        SynthOp::RemoveAsset(i) => {
            let n = estate.assets().len();
            let id = estate.assets().iter().nth(i % n).map(|a| a.id().clone());
            estate
                .remove_asset(&id.expect("a generated estate has assets"))
                .map(drop)
        }
        SynthOp::Reinsert(i, j) => {
            let id = nth_ci(estate, i).expect("a generated estate has items");
            let other = nth_ci(estate, j).expect("a generated estate has items");
            let item = estate.ci(&id).expect("listed").clone();
            let mut batch = Batch::new();
            batch
                .remove_ci(id.clone())
                .insert_ci(item)
                .relate(id, RelationKind::DependsOn, other);
            estate.apply(batch).map(drop)
        }
        SynthOp::Unrelate(i) => {
            let n = estate.cmdb().relationship_count().max(1);
            let nth = estate.cmdb().relationships().nth(i % n);
            match nth {
                Some(r) => estate
                    .unrelate(r.source(), r.kind().clone(), r.target())
                    .map(drop),
                None => Ok(()),
            }
        }
        SynthOp::Claim(i, spec) => {
            let claim = spec.claim();
            let id = match claim.field().view() {
                View::Ci => nth_ci(estate, i),
                View::Asset => {
                    let n = estate.assets().len();
                    estate.assets().iter().nth(i % n).map(|a| a.id().clone())
                }
            }
            .expect("a generated estate has both views");
            let claim = if claim.is_reactivation() {
                Claim::reactivate(id, claim.source().clone(), claim.observed())
            } else {
                Claim::new(
                    id,
                    claim.field().clone(),
                    claim.update().clone(),
                    claim.source().clone(),
                    claim.observed(),
                )
            };
            let mut batch = Batch::new();
            batch.claim(claim);
            estate.apply(batch).map(drop)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4))]

    /// Estates from the synth generator at small sizes round-trip.
    #[test]
    fn generated_estates_round_trip(generator in generator()) {
        let estate = generator.build().unwrap();
        let copy = round_trip(&estate)?;
        prop_assert_eq!(estate.cmdb().cycles(), copy.cmdb().cycles());
    }

    /// Generated estates still round-trip once items, assets and
    /// relationships are removed, items inserted again and fields claimed.
    #[test]
    fn generated_estates_round_trip_after_changes(
        generator in generator(),
        ops in prop::collection::vec(synth_op(), 1..16),
    ) {
        let mut estate = generator.build().unwrap();
        for op in ops {
            let before = estate.clone();
            if run_synth(&mut estate, op).is_err() {
                prop_assert!(estate == before, "{:?} failed but changed the estate", op);
            }
        }
        let copy = round_trip(&estate)?;
        if estate.cmdb().cycles() != copy.cmdb().cycles() {
            failure(format!("{ITEM_CYCLE_ORDER}\nin a generated estate"))?;
        }
    }
}

// ---------------------------------------------------------------------------
// Reproducers of the items that fail today (shrunk by the properties above)
// ---------------------------------------------------------------------------

/// Writes `estate` and reads it back, which must succeed.
#[track_caller]
fn read_back(estate: &Estate) -> Estate {
    let written = json(estate);
    serde_json::from_str(&written)
        .unwrap_or_else(|e| panic!("cannot read back: {e}\nsnapshot: {written}"))
}

fn items(ids: &[&str]) -> Estate {
    let mut estate = Estate::new();
    for &text in ids {
        estate.insert_ci(crate::util::ci(text)).unwrap();
    }
    estate
}

#[test]
fn item_1_an_estate_without_claims_keeps_its_agreement() {
    let mut estate = Estate::new();
    estate.set_agreement(ColumnAgreement::itam_default());
    let back = read_back(&estate);
    assert_eq!(
        back.agreement(),
        estate.agreement(),
        "snapshot: {}",
        json(&estate)
    );
    assert_eq!(back, estate);
}

#[test]
fn item_2_a_group_that_lost_members_can_be_read_back() {
    // A member removed with its item.
    let mut estate = items(&["a", "c"]);
    estate
        .define_group(&id("a"), Quorum::AtLeast(1), [id("c")])
        .unwrap();
    estate.remove_ci(&id("c")).unwrap();
    assert_eq!(read_back(&estate), estate, "snapshot: {}", json(&estate));

    // A member that leaves the group.
    let mut estate = items(&["g", "a", "b"]);
    estate
        .define_group(&id("g"), Quorum::AtLeast(2), [id("a"), id("b")])
        .unwrap();
    assert!(
        estate
            .unrelate(&id("a"), RelationKind::MemberOf, &id("g"))
            .unwrap()
    );
    assert_eq!(read_back(&estate), estate, "snapshot: {}", json(&estate));
}

#[test]
fn item_3_a_read_back_estate_orders_new_relationships_alike() {
    let mut estate = items(&["a", "b", "c"]);
    estate
        .relate(&id("a"), RelationKind::DependsOn, &id("b"))
        .unwrap();
    estate
        .relate(&id("a"), RelationKind::DependsOn, &id("c"))
        .unwrap();
    estate
        .unrelate(&id("a"), RelationKind::DependsOn, &id("b"))
        .unwrap();
    let mut copy = read_back(&estate);
    assert_eq!(copy, estate);
    for e in [&mut estate, &mut copy] {
        e.relate(&id("b"), RelationKind::DependsOn, &id("c"))
            .unwrap();
    }
    // The original puts the new relationship in the freed slot, first; the
    // copy has no freed slot and puts it last ("in the order they were
    // added", as the CMDB's serde docs say).
    assert_eq!(json(&estate), json(&copy));
    assert_eq!(estate, copy);
}

#[test]
fn item_4_a_read_back_estate_refuses_the_same_custom_kinds() {
    let both = RelationKind::custom("feeds", Propagation::Both).unwrap();
    let never = RelationKind::custom("feeds", Propagation::Never).unwrap();
    let mut estate = items(&["a", "b"]);
    estate.relate(&id("a"), both.clone(), &id("b")).unwrap();
    estate.unrelate(&id("a"), both, &id("b")).unwrap();
    let mut copy = read_back(&estate);
    assert_eq!(copy, estate);
    let original = estate.relate(&id("b"), never.clone(), &id("a"));
    let read = copy.relate(&id("b"), never, &id("a"));
    // The original refuses `feeds` with another propagation (ConflictingKind);
    // the copy, which never saw `feeds`, accepts it.
    assert_eq!(original, read);
}

#[test]
fn item_5_a_read_back_estate_lists_cycles_alike() {
    let mut estate = items(&["a", "c"]);
    estate.remove_ci(&id("a")).unwrap();
    // `b` takes the graph slot `a` left, before `c`; the register lists it
    // after `c`, and so does the read-back copy's graph.
    estate.insert_ci(crate::util::ci("b")).unwrap();
    estate
        .relate(
            &id("b"),
            RelationKind::ConnectsTo(Propagation::Both),
            &id("c"),
        )
        .unwrap();
    let copy = read_back(&estate);
    assert_eq!(copy, estate);
    assert_eq!(copy.cmdb().cycles(), estate.cmdb().cycles());
}
