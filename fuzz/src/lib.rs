//! Shared code of the fuzz targets.
//!
//! * [`check_round_trip`]: serialise an estate, reload it, and check both
//!   that the reload is equal and that it serialises to the same bytes.
//! * [`Session`]: the small op language the `batch` target decodes from
//!   arbitrary bytes with the `arbitrary` crate, built into [`Batch`]es with
//!   the public API only, and [`Session::run`], which applies them to the
//!   sample estate and checks the write path's promises.
//!
//! Decoding resolves every choice to a concrete value at once (ids, values,
//! sources, instants), so `cargo fuzz fmt batch <input>` prints a readable
//! program.

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Result, Unstructured};
use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use itam_cmdb::ownership::{
    AssetField, CiField, Claim, ColumnAgreement, Field, FieldCategory, ManualLock, Rule, Source,
    SourceKind, SourcePattern, Update, Value, ValueType, View,
};
use itam_cmdb::{
    Asset, AssetKind, AttributeKey, AttributeValue, Batch, CiClass, ConfigurationItem, Criticality,
    Currency, Environment, Error, Estate, Lifecycle, MissingReason, Money, OperationalStatus,
    Propagation, Quorum, Region, RelationKind, ResourceId, RetirementReason,
};
use rust_decimal::Decimal;

// ---------------------------------------------------------------------------
// Checks shared by both targets.

/// Serialises `estate`, reloads it, and checks that the reload is equal and
/// serialises to the same bytes. Returns the bytes.
///
/// # Panics
///
/// When any of this fails: that is a finding.
pub fn check_round_trip(estate: &Estate) -> Vec<u8> {
    let first = serde_json::to_vec(estate).expect("an estate serialises");
    let again: Estate = match serde_json::from_slice(&first) {
        Ok(again) => again,
        Err(err) => panic!(
            "an estate's own snapshot does not load: {err}\n{}",
            String::from_utf8_lossy(&first)
        ),
    };
    assert_eq!(&again, estate, "the reloaded estate differs");
    let second = serde_json::to_vec(&again).expect("a reloaded estate serialises");
    assert!(
        first == second,
        "the reloaded estate serialises differently:\nfirst:  {}\nsecond: {}",
        String::from_utf8_lossy(&first),
        String::from_utf8_lossy(&second)
    );
    first
}

/// Graph queries on `estate` (its query index patched by every write since
/// it was built) answer as on a reloaded copy (an index built afresh).
pub fn check_queries(estate: &Estate) {
    let fresh: Estate =
        serde_json::from_slice(&serde_json::to_vec(estate).expect("an estate serialises"))
            .expect("an estate's snapshot loads");
    assert_eq!(
        answers(estate),
        answers(&fresh),
        "a patched index answers differently from a fresh one"
    );
}

/// Every CI's blast radius, dependencies and single points of failure, and
/// the cycles, as text.
fn answers(estate: &Estate) -> Vec<String> {
    use std::fmt::Write as _;
    let cmdb = estate.cmdb();
    let mut out = Vec::new();
    let impact_text = |impact: &itam_cmdb::Impact<'_>| {
        let mut text = String::new();
        for item in impact.iter() {
            let _ = write!(
                text,
                "{} {:?} {} {} {:?}; ",
                item.id(),
                item.state(),
                item.distance(),
                item.path(),
                item.group()
            );
        }
        text
    };
    for ci in cmdb.iter().take(12) {
        let id = ci.id();
        if let Ok(impact) = cmdb.blast_radius(id) {
            out.push(format!("blast {id}: {}", impact_text(&impact)));
            let plan = impact.recovery_order();
            out.push(format!("plan {id}: {} waves", plan.waves()));
        }
        if let Ok(needs) = cmdb.dependencies(id) {
            out.push(format!("needs {id}: {}", impact_text(&needs)));
        }
        if let Ok(points) = cmdb.single_points_of_failure(id) {
            let mut text = String::new();
            for point in points.iter() {
                let _ = write!(
                    text,
                    "{} {} {} {}",
                    point.id(),
                    point.service(),
                    point.distance(),
                    point.common_mode()
                );
                for path in point.paths() {
                    let _ = write!(text, " | {path}");
                }
                text.push_str("; ");
            }
            out.push(format!("points {id}: {text}"));
        }
    }
    out.push(format!("cycles: {:?}", cmdb.cycles()));
    out
}

/// The sample estate, built once.
#[must_use]
pub fn sample() -> &'static Estate {
    static SAMPLE: OnceLock<Estate> = OnceLock::new();
    SAMPLE.get_or_init(itam_cmdb::sample::estate)
}

// ---------------------------------------------------------------------------
// Decoding helpers: pools of realistic choices, and now and then raw input.

/// Picks one of `items`.
fn pick<'a, T>(u: &mut Unstructured<'_>, items: &'a [T]) -> Result<&'a T> {
    u.choose(items)
}

/// True with probability about `numerator / 256`.
fn chance(u: &mut Unstructured<'_>, numerator: u8) -> Result<bool> {
    Ok(u.arbitrary::<u8>()? < numerator)
}

/// The ids decoded: the sample estate's (assets and CIs, in order), then a
/// few ids it does not have.
fn id_pool() -> &'static [ResourceId] {
    static POOL: OnceLock<Vec<ResourceId>> = OnceLock::new();
    POOL.get_or_init(|| {
        let estate = sample();
        let mut ids: Vec<ResourceId> = estate.assets().iter().map(|a| a.id().clone()).collect();
        for ci in estate.cmdb().iter() {
            if !ids.contains(ci.id()) {
                ids.push(ci.id().clone());
            }
        }
        for new in ["new-a", "new-b", "new-c", "new-d"] {
            ids.push(ResourceId::new(new).expect("a valid id"));
        }
        ids
    })
}

fn id(u: &mut Unstructured<'_>) -> Result<ResourceId> {
    if chance(u, 4)? {
        // Rarely, a raw id; an invalid one falls back to a new id.
        let raw: &str = u.arbitrary()?;
        if let Ok(id) = ResourceId::new(raw) {
            return Ok(id);
        }
    }
    pick(u, id_pool()).cloned()
}

const TEXTS: &[&str] = &[
    "Dana Whitfield",
    "team-payments",
    "ops",
    "security team",
    "CC-1001",
    "London DC",
    "x",
    // Refused by the label rules on purpose.
    "",
    " padded ",
    "bell\u{7}",
    "line\nbreak",
];

fn text(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(match u.int_in_range(0u8..=9)? {
        0..=6 => (*pick(u, TEXTS)?).to_owned(),
        7 => "y".repeat(usize::from(u.arbitrary::<u8>()?) * 8),
        _ => u.arbitrary::<&str>()?.to_owned(),
    })
}

fn date(u: &mut Unstructured<'_>) -> Result<NaiveDate> {
    let base = NaiveDate::from_ymd_opt(2026, 6, 1).expect("a valid date");
    Ok(match u.int_in_range(0u8..=15)? {
        0 => NaiveDate::MIN,
        1 => NaiveDate::MAX,
        2 => NaiveDate::from_num_days_from_ce_opt(u.arbitrary()?).unwrap_or(base),
        _ => {
            let days = i64::from(u.arbitrary::<i16>()?);
            base.checked_add_signed(TimeDelta::days(days))
                .unwrap_or(base)
        }
    })
}

const CURRENCIES: &[&str] = &["GBP", "EUR", "USD", "JPY", "CHF", "KWD"];

fn money(u: &mut Unstructured<'_>) -> Result<Money> {
    let currency = if chance(u, 8)? {
        let code: [u8; 3] = u.arbitrary()?;
        Currency::new(&String::from_utf8_lossy(&code)).unwrap_or(Currency::GBP)
    } else {
        Currency::new(pick(u, CURRENCIES)?).expect("a known currency")
    };
    let amount = match u.int_in_range(0u8..=7)? {
        0 => Decimal::ZERO,
        1 => Decimal::MAX,
        2 => Decimal::MIN,
        3 => {
            let mantissa: i128 = u.arbitrary::<i64>()?.into();
            let scale = u.int_in_range(0..=28)?;
            Decimal::try_from_i128_with_scale(mantissa, scale).unwrap_or(Decimal::ONE)
        }
        _ => {
            let cents = i64::from(u.arbitrary::<i16>()?);
            Decimal::new(cents, 2)
        }
    };
    Ok(Money::new(amount, currency))
}

/// A base instant, and then mostly whole hours after it, so claims often
/// share an instant and the replay order has to break ties.
fn instant(u: &mut Unstructured<'_>) -> Result<DateTime<Utc>> {
    let base = Utc
        .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .expect("a valid instant");
    Ok(match u.int_in_range(0u8..=19)? {
        0 => DateTime::<Utc>::MIN_UTC,
        1 => DateTime::<Utc>::MAX_UTC,
        2 => DateTime::from_timestamp(u.arbitrary()?, 0).unwrap_or(base),
        3 => base + TimeDelta::seconds(i64::from(u.arbitrary::<i32>()?)),
        4..=6 => base + TimeDelta::days(i64::from(u.int_in_range(0u8..=90)?)),
        _ => base + TimeDelta::hours(i64::from(u.int_in_range(0u8..=12)?)),
    })
}

const AUTOMATED: &[&str] = &[
    "discovery",
    "finance",
    "procurement",
    "reconciliation",
    "scanner",
];
const PEOPLE: &[&str] = &["alice", "bob", "carol"];

fn source(u: &mut Unstructured<'_>) -> Result<Source> {
    let fallback = || Source::automated("discovery").expect("a valid source");
    Ok(match u.int_in_range(0u8..=15)? {
        0 => {
            let kind = if u.arbitrary()? {
                SourceKind::Person
            } else {
                SourceKind::Automated
            };
            Source::new(&text(u)?, kind).unwrap_or_else(|_| fallback())
        }
        1..=5 => Source::person(pick(u, PEOPLE)?).expect("a valid person"),
        // The same name as a person and as a feed: two distinct sources.
        6 => Source::person(pick(u, AUTOMATED)?).expect("a valid person"),
        _ => Source::automated(pick(u, AUTOMATED)?).expect("a valid source"),
    })
}

const KEYS: &[&str] = &[
    "os",
    "seats",
    "cores",
    "vm-size",
    "installed:Reporting Suite",
    "installed:Endpoint Protection",
];

fn key(u: &mut Unstructured<'_>) -> Result<String> {
    if chance(u, 16)? {
        text(u)
    } else {
        Ok((*pick(u, KEYS)?).to_owned())
    }
}

fn attribute_key(u: &mut Unstructured<'_>) -> Result<AttributeKey> {
    let key = key(u)?;
    Ok(AttributeKey::new(&key).unwrap_or_else(|_| AttributeKey::new("os").expect("a valid key")))
}

fn attribute_value(u: &mut Unstructured<'_>) -> Result<AttributeValue> {
    Ok(match u.int_in_range(0u8..=4)? {
        0 => AttributeValue::Text(text(u)?.into()),
        1 => AttributeValue::Integer(u.arbitrary()?),
        2 => {
            let mantissa: i64 = u.arbitrary()?;
            let scale = u.int_in_range(0..=28)?;
            AttributeValue::Decimal(Decimal::new(mantissa, scale))
        }
        3 => AttributeValue::Flag(u.arbitrary()?),
        _ => AttributeValue::Date(date(u)?),
    })
}

fn named<T: Clone>(
    u: &mut Unstructured<'_>,
    built_in: &[T],
    custom: fn(&str) -> std::result::Result<T, Error>,
) -> Result<T> {
    if chance(u, 24)? {
        if let Ok(value) = custom(&text(u)?) {
            return Ok(value);
        }
    }
    pick(u, built_in).cloned()
}

fn lifecycle(u: &mut Unstructured<'_>) -> Result<Lifecycle> {
    use Lifecycle as L;
    Ok(match u.int_in_range(0u8..=14)? {
        0 => L::Planned,
        1 => L::OnOrder,
        2 => L::InStock,
        3 => L::InTransit,
        4 | 5 => L::InUse,
        6 => L::InMaintenance,
        7 => L::ScheduledForRetirement,
        8 => L::Missing(MissingReason::Unlocated),
        9 => L::Missing(MissingReason::Lost),
        10 => L::Missing(MissingReason::Stolen),
        11 => L::Retired(RetirementReason::Decommissioned),
        12 => L::Retired(RetirementReason::Disposed),
        13 => L::Retired(RetirementReason::Sold),
        _ => L::Retired(if u.arbitrary()? {
            RetirementReason::Donated
        } else {
            RetirementReason::ReturnedEndOfLease
        }),
    })
}

fn status(u: &mut Unstructured<'_>) -> Result<OperationalStatus> {
    use OperationalStatus as S;
    Ok(*pick(
        u,
        &[
            S::Planned,
            S::Operational,
            S::Degraded,
            S::NonOperational,
            S::InMaintenance,
            S::Standby,
            S::Retired,
        ],
    )?)
}

fn criticality(u: &mut Unstructured<'_>) -> Result<Criticality> {
    use Criticality as C;
    Ok(*pick(u, &[C::Low, C::Medium, C::High, C::MissionCritical])?)
}

const REGIONS: &[&str] = &["eu-west-2", "eu-west-1", "us-east-1"];

fn region(u: &mut Unstructured<'_>) -> Result<Region> {
    let fallback = || Region::new("eu-west-2").expect("a valid region");
    if chance(u, 24)? {
        return Ok(Region::new(&text(u)?).unwrap_or_else(|_| fallback()));
    }
    Ok(Region::new(pick(u, REGIONS)?).unwrap_or_else(|_| fallback()))
}

fn value_of(u: &mut Unstructured<'_>, ty: ValueType) -> Result<Value> {
    Ok(match ty {
        ValueType::Text => Value::text(text(u)?),
        ValueType::Date => Value::Date(date(u)?),
        ValueType::Money => Value::Money(money(u)?),
        ValueType::Lifecycle => Value::Lifecycle(lifecycle(u)?),
        ValueType::AssetKind => Value::AssetKind(named(u, AssetKind::BUILT_IN, AssetKind::custom)?),
        ValueType::CiClass => Value::CiClass(named(u, CiClass::BUILT_IN, CiClass::custom)?),
        ValueType::Status => Value::Status(status(u)?),
        ValueType::Environment => {
            Value::Environment(named(u, Environment::BUILT_IN, Environment::custom)?)
        }
        ValueType::Region => Value::Region(region(u)?),
        ValueType::Criticality => Value::Criticality(criticality(u)?),
        // `ValueType` is non-exhaustive: anything new reads as an attribute.
        _ => Value::Attribute(attribute_value(u)?),
    })
}

const VALUE_TYPES: &[ValueType] = &[
    ValueType::Text,
    ValueType::Date,
    ValueType::Money,
    ValueType::Lifecycle,
    ValueType::AssetKind,
    ValueType::CiClass,
    ValueType::Status,
    ValueType::Environment,
    ValueType::Region,
    ValueType::Criticality,
    ValueType::Attribute,
];

fn field(u: &mut Unstructured<'_>) -> Result<Field> {
    use AssetField as A;
    use CiField as C;
    Ok(match u.int_in_range(0u8..=21)? {
        0 => A::Name.into(),
        1 => A::Kind.into(),
        2 | 3 => A::Lifecycle.into(),
        4 => A::Owner.into(),
        5 => A::BudgetOwner.into(),
        6 => A::CostCenter.into(),
        7 => A::Location.into(),
        8 => A::PurchaseDate.into(),
        9 => A::PurchaseCost.into(),
        10 => A::MonthlyCost.into(),
        11 => A::WarrantyEnd.into(),
        12 => A::SupportEnd.into(),
        13 => A::RenewalDate.into(),
        14 => A::Attribute(attribute_key(u)?).into(),
        15 => C::Name.into(),
        16 => C::Class.into(),
        17 => C::Status.into(),
        18 => C::Environment.into(),
        19 => C::Region.into(),
        20 => {
            if u.arbitrary()? {
                C::Criticality.into()
            } else {
                C::Owner.into()
            }
        }
        _ => C::Attribute(attribute_key(u)?).into(),
    })
}

fn propagation(u: &mut Unstructured<'_>) -> Result<Propagation> {
    use Propagation as P;
    Ok(*pick(
        u,
        &[P::TargetToSource, P::SourceToTarget, P::Both, P::Never],
    )?)
}

const CUSTOM_KINDS: &[&str] = &[
    "replicates-to",
    "backs-up",
    "feeds",
    "depends-on",
    "member of",
];

fn relation_kind(u: &mut Unstructured<'_>) -> Result<RelationKind> {
    use RelationKind as K;
    Ok(match u.int_in_range(0u8..=15)? {
        0 | 1 => K::DependsOn,
        2 => K::RunsOn,
        3 => K::HostedOn,
        4 => K::VirtualizedBy,
        5 => K::PoweredBy,
        6 => K::Uses,
        7 => K::ComposedOf,
        8 => K::Contains,
        9 | 10 => K::MemberOf,
        11 => K::ConnectsTo(propagation(u)?),
        12 => K::Manages,
        13 => K::Owns,
        _ => {
            let name = if chance(u, 32)? {
                text(u)?
            } else {
                (*pick(u, CUSTOM_KINDS)?).to_owned()
            };
            RelationKind::custom(&name, propagation(u)?).unwrap_or(K::Uses)
        }
    })
}

fn quorum(u: &mut Unstructured<'_>) -> Result<Quorum> {
    Ok(match u.int_in_range(0u8..=7)? {
        0 => Quorum::AtLeast(u.arbitrary()?),
        1 => Quorum::Percent(u.arbitrary()?),
        2..=4 => Quorum::AtLeast(u.int_in_range(0..=4)?),
        _ => Quorum::Percent(*pick(u, &[0, 1, 34, 50, 51, 100, 101])?),
    })
}

// ---------------------------------------------------------------------------
// The op language.

/// One change of a batch, decoded to concrete values.
#[derive(Debug, Clone)]
pub enum Op {
    /// Insert an asset; a builder refusal is kept and the op skipped.
    InsertAsset(std::result::Result<Asset, Error>),
    /// Insert a configuration item; a builder refusal is kept and the op
    /// skipped.
    InsertCi(std::result::Result<ConfigurationItem, Error>),
    /// Remove an asset.
    RemoveAsset(ResourceId),
    /// Remove a configuration item.
    RemoveCi(ResourceId),
    /// Relate two items.
    Relate(ResourceId, RelationKind, ResourceId),
    /// Unrelate two items.
    Unrelate(ResourceId, RelationKind, ResourceId),
    /// Define a redundancy group.
    DefineGroup(ResourceId, Quorum, Vec<ResourceId>),
    /// A claim: set, clear, retract or reactivate.
    Claim(Claim),
}

fn asset(u: &mut Unstructured<'_>) -> Result<std::result::Result<Asset, Error>> {
    let kind = named(u, AssetKind::BUILT_IN, AssetKind::custom)?;
    let mut builder = Asset::builder(id(u)?, text(u)?, kind);
    // Each optional field with probability about a half.
    for field in 0..12u8 {
        if !u.arbitrary::<bool>()? {
            continue;
        }
        builder = match field {
            0 => builder.lifecycle(lifecycle(u)?),
            1 => builder.owner(text(u)?),
            2 => builder.budget_owner(text(u)?),
            3 => builder.cost_center(text(u)?),
            4 => builder.location(text(u)?),
            5 => builder.purchase_date(date(u)?),
            6 => builder.purchase_cost(money(u)?),
            7 => builder.monthly_cost(money(u)?),
            8 => builder.warranty_end(date(u)?),
            9 => builder.support_end(date(u)?),
            10 => builder.renewal_date(date(u)?),
            _ => builder.attribute(key(u)?, attribute_value(u)?),
        };
    }
    Ok(builder.build())
}

fn ci(u: &mut Unstructured<'_>) -> Result<std::result::Result<ConfigurationItem, Error>> {
    let class = named(u, CiClass::BUILT_IN, CiClass::custom)?;
    let mut builder = ConfigurationItem::builder(id(u)?, text(u)?, class);
    for field in 0..6u8 {
        if !u.arbitrary::<bool>()? {
            continue;
        }
        builder = match field {
            0 => builder.status(status(u)?),
            1 => builder.environment(named(u, Environment::BUILT_IN, Environment::custom)?),
            2 => builder.region(region(u)?),
            3 => builder.criticality(criticality(u)?),
            4 => builder.owner(text(u)?),
            _ => builder.attribute(key(u)?, attribute_value(u)?),
        };
    }
    Ok(builder.build())
}

fn claim(u: &mut Unstructured<'_>) -> Result<Claim> {
    let resource = id(u)?;
    if chance(u, 16)? {
        return Ok(Claim::reactivate(resource, source(u)?, instant(u)?));
    }
    let field = field(u)?;
    let update = match u.int_in_range(0u8..=19)? {
        0..=12 => Update::Set(value_of(u, field.value_type())?),
        // A value of any type, often the wrong one on purpose.
        13 | 14 => {
            let ty = *pick(u, VALUE_TYPES)?;
            Update::Set(value_of(u, ty)?)
        }
        15..=17 => Update::Clear,
        _ => Update::Retract,
    };
    Ok(Claim::new(resource, field, update, source(u)?, instant(u)?))
}

impl<'a> Arbitrary<'a> for Op {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match u.int_in_range(0u8..=19)? {
            0 => Self::InsertAsset(asset(u)?),
            1 => Self::InsertCi(ci(u)?),
            2 => Self::RemoveAsset(id(u)?),
            3 => Self::RemoveCi(id(u)?),
            4..=6 => Self::Relate(id(u)?, relation_kind(u)?, id(u)?),
            7 => Self::Unrelate(id(u)?, relation_kind(u)?, id(u)?),
            8 => {
                let group = id(u)?;
                let quorum = quorum(u)?;
                let count = u.int_in_range(0..=4)?;
                let members = (0..count).map(|_| id(u)).collect::<Result<_>>()?;
                Self::DefineGroup(group, quorum, members)
            }
            _ => Self::Claim(claim(u)?),
        })
    }
}

impl Op {
    /// Adds the op to `batch` through the public [`Batch`] methods; an op
    /// whose record the builder refused adds nothing.
    pub fn add_to(&self, batch: &mut Batch) {
        match self {
            Self::InsertAsset(Ok(asset)) => {
                batch.insert_asset(asset.clone());
            }
            Self::InsertCi(Ok(ci)) => {
                batch.insert_ci(ci.clone());
            }
            Self::InsertAsset(Err(_)) | Self::InsertCi(Err(_)) => {}
            Self::RemoveAsset(id) => {
                batch.remove_asset(id.clone());
            }
            Self::RemoveCi(id) => {
                batch.remove_ci(id.clone());
            }
            Self::Relate(source, kind, target) => {
                batch.relate(source.clone(), kind.clone(), target.clone());
            }
            Self::Unrelate(source, kind, target) => {
                batch.unrelate(source.clone(), kind.clone(), target.clone());
            }
            Self::DefineGroup(group, quorum, members) => {
                batch.define_group(group.clone(), *quorum, members.iter().cloned());
            }
            Self::Claim(claim) => {
                batch.claim(claim.clone());
            }
        }
    }
}

fn pattern(u: &mut Unstructured<'_>) -> Result<SourcePattern> {
    Ok(match u.int_in_range(0u8..=7)? {
        0 => SourcePattern::AnyPerson,
        1 => SourcePattern::Named(text(u)?),
        2 => SourcePattern::Named((*pick(u, PEOPLE)?).to_owned()),
        _ => SourcePattern::Named((*pick(u, AUTOMATED)?).to_owned()),
    })
}

fn seconds(u: &mut Unstructured<'_>) -> Result<TimeDelta> {
    let seconds = match u.int_in_range(0u8..=3)? {
        0 => u.arbitrary()?,
        _ => i64::from(u.int_in_range(-1i32..=90)?) * 86_400,
    };
    Ok(TimeDelta::try_seconds(seconds).unwrap_or(TimeDelta::days(1)))
}

fn rule(u: &mut Unstructured<'_>) -> Result<Rule> {
    let categories = [
        FieldCategory::Identity,
        FieldCategory::Ownership,
        FieldCategory::Cost,
        FieldCategory::Lifecycle,
        FieldCategory::Configuration,
    ];
    let mut rule = match u.int_in_range(0u8..=3)? {
        0 => Rule::field(field(u)?),
        1 => {
            let view = if u.arbitrary()? {
                View::Asset
            } else {
                View::Ci
            };
            Rule::view_category(view, *pick(u, &categories)?)
        }
        2 => Rule::category(*pick(u, &categories)?),
        _ => Rule::fallback(),
    };
    for _ in 0..u.int_in_range(0..=3)? {
        rule = rule.source(pattern(u)?);
    }
    if chance(u, 64)? {
        rule = rule.stale_after(seconds(u)?);
    }
    if chance(u, 48)? {
        rule = rule.write_if_empty(pattern(u)?);
    }
    rule = rule.allow_clear(u.arbitrary()?);
    rule = match u.int_in_range(0u8..=5)? {
        0 => rule.manual_lock(None),
        1 => {
            let mut lock = ManualLock::expiring_after(seconds(u)?);
            if u.arbitrary()? {
                lock = lock.allow(pattern(u)?);
            }
            rule.manual_lock(Some(lock))
        }
        2 => rule.manual_lock(Some(ManualLock::forever().allow(pattern(u)?))),
        // The default: a lock with no expiry.
        _ => rule,
    };
    Ok(rule)
}

/// A column agreement: empty, the ITAM default, or up to four decoded
/// rules (those `with` refuses are left out).
fn agreement(u: &mut Unstructured<'_>) -> Result<ColumnAgreement> {
    Ok(match u.int_in_range(0u8..=3)? {
        0 => ColumnAgreement::new(),
        1 => ColumnAgreement::itam_default(),
        _ => {
            let mut agreement = ColumnAgreement::new();
            for _ in 0..u.int_in_range(1..=4)? {
                let rule = rule(u)?;
                if let Ok(with) = agreement.clone().with(rule) {
                    agreement = with;
                }
            }
            agreement
        }
    })
}

/// One batch, with the policy around it.
#[derive(Debug, Clone)]
pub struct Step {
    /// A new agreement for the estate before the batch (`set_agreement`).
    pub agreement: Option<ColumnAgreement>,
    /// Another policy to plan and apply with (`plan_with`/`apply_with`)
    /// instead of the estate's agreement.
    pub policy: Option<ColumnAgreement>,
    /// The batch's changes.
    pub ops: Vec<Op>,
}

/// The most changes decoded in one batch.
pub const MAX_OPS: usize = 32;
/// The most batches decoded from one input.
pub const MAX_STEPS: usize = 4;

impl<'a> Arbitrary<'a> for Step {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let set = if chance(u, 40)? {
            Some(agreement(u)?)
        } else {
            None
        };
        let policy = if chance(u, 24)? {
            Some(agreement(u)?)
        } else {
            None
        };
        let count = u.int_in_range(0..=MAX_OPS)?;
        let mut ops = Vec::with_capacity(count);
        for _ in 0..count {
            if u.is_empty() {
                break;
            }
            ops.push(u.arbitrary()?);
        }
        Ok(Self {
            agreement: set,
            policy,
            ops,
        })
    }
}

/// Batches applied in sequence to the sample estate.
#[derive(Debug, Clone)]
pub struct Session {
    /// The batches, in order.
    pub steps: Vec<Step>,
}

impl<'a> Arbitrary<'a> for Session {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut steps = Vec::new();
        while !u.is_empty() && steps.len() < MAX_STEPS {
            steps.push(u.arbitrary()?);
        }
        Ok(Self { steps })
    }

    fn arbitrary_take_rest(mut u: Unstructured<'a>) -> Result<Self> {
        Self::arbitrary(&mut u)
    }
}

/// What [`Session::run`] saw, for the seed generator.
#[derive(Debug, Default, Clone, Copy)]
pub struct Outcome {
    /// Batches applied.
    pub applied: usize,
    /// Batches refused.
    pub refused: usize,
    /// Changes in applied batches.
    pub changes: usize,
    /// Claims decided in applied batches.
    pub decisions: usize,
}

impl Session {
    /// Applies the session's batches to the sample estate, checking after
    /// each that:
    ///
    /// * `plan` (or `plan_with`) returns what `apply` (or `apply_with`)
    ///   returns, `Ok` or `Err` alike;
    /// * a refused batch leaves the estate equal to a clone taken before;
    /// * an applied batch only appends to the journal and the conflict log;
    /// * every record still rebuilds through its builder to an equal record;
    /// * the estate round-trips through `serde_json` ([`check_round_trip`]).
    ///
    /// # Panics
    ///
    /// When a check fails: that is a finding.
    #[must_use]
    pub fn run(&self) -> Outcome {
        let mut estate = sample().clone();
        let mut outcome = Outcome::default();
        for step in &self.steps {
            if let Some(agreement) = &step.agreement {
                estate.set_agreement(agreement.clone());
            }
            let mut batch = Batch::new();
            for op in &step.ops {
                op.add_to(&mut batch);
            }
            let changes = batch.len();
            // A copy that does not share the estate's query index, so that
            // the write patches the index rather than dropping it.
            let before: Estate =
                serde_json::from_slice(&serde_json::to_vec(&estate).expect("an estate serialises"))
                    .expect("an estate's snapshot loads");
            let (planned, applied) = match &step.policy {
                None => (estate.plan(&batch), estate.apply(batch)),
                Some(policy) => (
                    estate.plan_with(&batch, policy),
                    estate.apply_with(batch, policy),
                ),
            };
            let changed = match (planned, applied) {
                (Ok(planned), Ok(applied)) => {
                    assert_eq!(planned, applied, "the plan differs from the write");
                    outcome.applied += 1;
                    outcome.changes += changes;
                    outcome.decisions += applied.decisions().len();
                    check_history(&before, &estate);
                    true
                }
                (Err(planned), Err(applied)) => {
                    assert_eq!(planned, applied, "plan and apply fail differently");
                    assert_eq!(estate, before, "a refused batch changed the estate");
                    outcome.refused += 1;
                    false
                }
                (planned, applied) => {
                    panic!("plan and apply disagree:\nplan:  {planned:?}\napply: {applied:?}")
                }
            };
            // The sample passes both checks (the seed generator checks it),
            // and a refused batch leaves the estate as it was: check only
            // states that are new, which keeps the target fast.
            if changed || step.agreement.is_some() {
                check_records(&estate);
                check_round_trip(&estate);
            }
            // Also keeps the index live for the next step's write.
            check_queries(&estate);
        }
        outcome
    }
}

/// The journal and the conflict log only grow.
fn check_history(before: &Estate, after: &Estate) {
    let (journal, conflicts) = (before.journal(), before.conflicts());
    assert!(
        after.journal().starts_with(journal),
        "the journal lost or changed an entry"
    );
    assert!(
        after.conflicts().starts_with(conflicts),
        "the conflict log lost or changed an entry"
    );
}

/// Every record the write path leaves is one its builder accepts as it is.
fn check_records(estate: &Estate) {
    for asset in estate.assets().iter() {
        match asset.to_builder().build() {
            Ok(rebuilt) => assert_eq!(&rebuilt, asset, "an asset rebuilds differently"),
            Err(err) => panic!("the estate holds an asset its builder refuses: {err}\n{asset:?}"),
        }
    }
    for ci in estate.cmdb().iter() {
        match ci.to_builder().build() {
            Ok(rebuilt) => assert_eq!(&rebuilt, ci, "an item rebuilds differently"),
            Err(err) => panic!("the estate holds an item its builder refuses: {err}\n{ci:?}"),
        }
    }
}
