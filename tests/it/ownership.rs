//! Field ownership through the one write path: each column-agreement rule
//! worked by hand on the sample estate, the errors a batch of claims can
//! meet, the journal, the conflict log, `explain` and snapshots; then
//! properties over random claims and random agreements (idempotence,
//! arrival-order independence, no flapping, plan equal to apply).

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use itam_cmdb::ownership::{
    AssetField, CiField, Claim, ClaimStatus, ColumnAgreement, Conflict, Current, Decision, Field,
    FieldCategory, FieldOwnership, ManualLock, Outcome, Provenance, Reason, Report, Rule, Scope,
    Source, SourcePattern, Update, Value, ValueType, Verdict, View,
};
use itam_cmdb::{
    AttributeKey, AttributeValue, Batch, Error, Estate, Lifecycle, ResourceId, RetirementReason,
    sample,
};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::test_runner::TestCaseError;

use crate::util::{date, id, money};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Midnight of a day in 2026, counted from 1 January (day 1).
fn day(n: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + TimeDelta::days(n - 1)
}

fn auto(name: &str) -> Source {
    Source::automated(name).unwrap()
}

fn person(name: &str) -> Source {
    Source::person(name).unwrap()
}

fn os() -> CiField {
    CiField::Attribute(AttributeKey::new("os").unwrap())
}

fn os_value(text: &str) -> Value {
    Value::Attribute(AttributeValue::Text(text.into()))
}

fn set(
    resource: &str,
    field: impl Into<Field>,
    value: &str,
    by: &Source,
    at: DateTime<Utc>,
) -> Claim {
    let field = field.into();
    let value = match field.value_type() {
        ValueType::Attribute => os_value(value),
        _ => Value::text(value),
    };
    Claim::set(id(resource), field, value, by.clone(), at)
}

fn clear(resource: &str, field: impl Into<Field>, by: &Source, at: DateTime<Utc>) -> Claim {
    Claim::new(id(resource), field, Update::Clear, by.clone(), at)
}

fn retract(resource: &str, field: impl Into<Field>, by: &Source, at: DateTime<Utc>) -> Claim {
    Claim::new(id(resource), field, Update::Retract, by.clone(), at)
}

fn batch(claims: impl IntoIterator<Item = Claim>) -> Batch {
    let mut batch = Batch::new();
    for claim in claims {
        batch.claim(claim);
    }
    batch
}

/// The sample estate under `agreement`.
fn estate(agreement: ColumnAgreement) -> Estate {
    let mut estate = sample::estate();
    estate.set_agreement(agreement);
    estate
}

/// An agreement of `rules`, which must not contradict each other.
#[track_caller]
fn agreement(rules: impl IntoIterator<Item = Rule>) -> ColumnAgreement {
    rules
        .into_iter()
        .try_fold(ColumnAgreement::new(), ColumnAgreement::with)
        .expect("a consistent agreement")
}

/// Each decision of a report as `source -> verdict: reason [rule]`.
fn lines(report: &Report) -> Vec<String> {
    report
        .decisions()
        .iter()
        .map(|d| {
            let by = d.claim().source();
            match d.outcome() {
                Outcome::Accepted { reason, rule } => {
                    format!("{by} -> accepted: {reason} [{rule}]")
                }
                Outcome::Rejected { reason, rule } => {
                    format!("{by} -> rejected: {reason} [{rule}]")
                }
                Outcome::Retracted => format!("{by} -> retracted"),
                Outcome::Duplicate => format!("{by} -> duplicate"),
                other => format!("{by} -> {other:?}"),
            }
        })
        .collect()
}

/// Applies `claims` as one batch to `estate`, checks that the dry run
/// agreed, and returns the decisions as [`lines`].
#[track_caller]
fn run(estate: &mut Estate, claims: impl IntoIterator<Item = Claim>) -> Vec<String> {
    let batch = batch(claims);
    let plan = estate.plan(&batch).expect("a valid batch");
    let report = estate.apply(batch).expect("a valid batch");
    assert_eq!(report, plan, "plan and apply disagree");
    lines(&report)
}

fn asset_text(estate: &Estate, resource: &str, field: &AssetField) -> Option<String> {
    let why = estate
        .explain(&id(resource), &Field::Asset(field.clone()))
        .unwrap();
    why.value().map(ToString::to_string)
}

fn statuses(estate: &Estate, resource: &str, field: impl Into<Field>) -> Vec<String> {
    let why = estate.explain(&id(resource), &field.into()).unwrap();
    why.claims()
        .iter()
        .map(|(claim, status)| {
            let what = match status {
                ClaimStatus::Accepted(_) => "accepted",
                ClaimStatus::Rejected(_) => "rejected",
                ClaimStatus::Withdrawn => "withdrawn",
                ClaimStatus::Retraction => "retraction",
                _ => "other",
            };
            format!(
                "{} {} at day {}: {what}",
                claim.source(),
                claim.update(),
                days_of(claim.observed())
            )
        })
        .collect()
}

fn days_of(at: DateTime<Utc>) -> i64 {
    (at - day(1)).num_days() + 1
}

const VM: &str = sample::PAYMENT_VM;
const LAPTOP: &str = sample::STOCK_LAPTOP;
const SHADOW: &str = sample::SHADOW_VM;

// ---------------------------------------------------------------------------
// Rule selection
// ---------------------------------------------------------------------------

#[test]
fn the_most_specific_rule_wins() {
    let rules = [
        Rule::fallback().sources(["discovery"]),
        Rule::category(FieldCategory::Ownership).sources(["procurement"]),
        Rule::view_category(View::Asset, FieldCategory::Ownership).sources(["finance"]),
        Rule::field(AssetField::Owner).sources(["hr"]),
    ];
    let mut estate = estate(agreement(rules.clone()));
    let (hr, finance, procurement, discovery) = (
        auto("hr"),
        auto("finance"),
        auto("procurement"),
        auto("discovery"),
    );
    let decided = run(
        &mut estate,
        [
            // asset.owner: the field rule ranks hr first.
            set(VM, AssetField::Owner, "finance says", &finance, day(1)),
            set(VM, AssetField::Owner, "hr says", &hr, day(2)),
            // asset.budget_owner: the asset ownership rule ranks finance.
            set(VM, AssetField::BudgetOwner, "hr says", &hr, day(1)),
            set(
                VM,
                AssetField::BudgetOwner,
                "finance says",
                &finance,
                day(2),
            ),
            // ci.owner: the category rule ranks procurement.
            set(VM, CiField::Owner, "finance says", &finance, day(1)),
            set(VM, CiField::Owner, "procurement says", &procurement, day(2)),
            // asset.location: only the fallback covers it.
            set(
                VM,
                AssetField::Location,
                "procurement says",
                &procurement,
                day(1),
            ),
            set(
                VM,
                AssetField::Location,
                "discovery says",
                &discovery,
                day(2),
            ),
        ],
    );
    assert_eq!(
        decided,
        [
            "finance -> accepted: no source owned the value [field asset.owner]",
            "hr -> accepted: ranks above finance [field asset.owner]",
            "hr -> accepted: no source owned the value [asset ownership]",
            "finance -> accepted: ranks above hr [asset ownership]",
            "finance -> accepted: no source owned the value [category ownership]",
            "procurement -> accepted: ranks above finance [category ownership]",
            "procurement -> accepted: no source owned the value [default]",
            "discovery -> accepted: ranks above procurement [default]",
        ]
    );
    assert_eq!(
        estate.asset(VM).unwrap().owner(),
        Some("hr says"),
        "the field rule outranks the view rule"
    );
    assert_eq!(estate.ci(VM).unwrap().owner(), Some("procurement says"));

    // Without a fallback the built-in rule applies: nobody ranked, so the
    // first writer keeps the field.
    let mut estate = self::estate(agreement(rules[1..].iter().cloned()));
    let decided = run(
        &mut estate,
        [
            set(
                VM,
                AssetField::Location,
                "procurement says",
                &procurement,
                day(1),
            ),
            set(
                VM,
                AssetField::Location,
                "discovery says",
                &discovery,
                day(2),
            ),
        ],
    );
    assert_eq!(
        decided,
        [
            "procurement -> accepted: no source owned the value [no rule]",
            "discovery -> rejected: procurement ranks higher and holds the value [no rule]",
        ]
    );
}

#[test]
fn rule_for_picks_by_specificity_not_by_order() {
    let agreement = agreement([
        Rule::fallback(),
        Rule::field(CiField::Owner),
        Rule::category(FieldCategory::Ownership),
        Rule::view_category(View::Ci, FieldCategory::Ownership),
    ]);
    let scope = |field: Field| agreement.rule_for(&field).map(|r| r.scope().to_string());
    assert_eq!(
        scope(CiField::Owner.into()).as_deref(),
        Some("field ci.owner")
    );
    assert_eq!(
        scope(AssetField::Owner.into()).as_deref(),
        Some("category ownership")
    );
    assert_eq!(scope(os().into()).as_deref(), Some("default"));
    assert_eq!(ColumnAgreement::new().rule_for(&os().into()), None);
    assert_eq!(
        [
            Scope::Field(CiField::Owner.into()),
            Scope::ViewCategory(View::Ci, FieldCategory::Ownership),
            Scope::Category(FieldCategory::Ownership),
            Scope::Default,
        ]
        .map(|s| s.specificity()),
        [3, 2, 1, 0]
    );
}

#[test]
fn two_rules_of_one_scope_contradict_each_other() {
    let cost = || Rule::category(FieldCategory::Cost);
    let err = ColumnAgreement::new()
        .with(cost().sources(["finance"]))
        .unwrap()
        .with(cost().sources(["procurement"]))
        .unwrap_err();
    assert_eq!(
        err,
        Error::PolicyConflict {
            scope: "category cost".to_owned(),
            reason: "two rules at the same specificity".to_owned(),
        }
    );
    assert_eq!(
        err.to_string(),
        "contradictory column agreement for category cost: two rules at the same specificity"
    );
    // The same scope reached through another constructor is still the same.
    let field = ColumnAgreement::new()
        .with(Rule::field(AssetField::Owner))
        .unwrap()
        .with(Rule::field(Field::Asset(AssetField::Owner)));
    assert!(matches!(field, Err(Error::PolicyConflict { .. })));
    // A source listed twice, and a duration that is not positive.
    let twice = ColumnAgreement::new().with(cost().sources(["finance", "finance"]));
    assert!(matches!(twice, Err(Error::PolicyConflict { scope, .. }) if scope == "category cost"));
    let zero = ColumnAgreement::new().with(cost().stale_after(TimeDelta::zero()));
    assert!(matches!(zero, Err(Error::PolicyConflict { .. })));
    let lock = ManualLock::expiring_after(TimeDelta::seconds(-1));
    let negative = ColumnAgreement::new().with(cost().manual_lock(Some(lock)));
    assert!(matches!(negative, Err(Error::PolicyConflict { .. })));
    // A snapshot of an agreement is checked the same way.
    let json = r#"{"rules":[{"scope":"default"},{"scope":"default"}]}"#;
    let refused = serde_json::from_str::<ColumnAgreement>(json).unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("two rules at the same specificity"),
        "{refused}"
    );
}

// ---------------------------------------------------------------------------
// Sticky ownership, staleness, write-if-empty
// ---------------------------------------------------------------------------

#[test]
fn ownership_is_sticky_and_unlisted_sources_rank_lowest() {
    let mut estate = estate(agreement([
        Rule::category(FieldCategory::Ownership).sources(["finance", "procurement"])
    ]));
    let (finance, procurement) = (auto("finance"), auto("procurement"));
    let (discovery, scanner) = (auto("discovery"), auto("scanner"));
    let decided = run(
        &mut estate,
        [
            set(VM, AssetField::Owner, "p1", &procurement, day(1)),
            set(VM, AssetField::Owner, "d1", &discovery, day(2)),
            set(VM, AssetField::Owner, "f1", &finance, day(3)),
            set(VM, AssetField::Owner, "p2", &procurement, day(4)),
            set(VM, AssetField::Owner, "f2", &finance, day(5)),
            set(VM, AssetField::Owner, "s1", &scanner, day(6)),
            // Two unlisted sources rank level: the first writer keeps it.
            set(LAPTOP, AssetField::Owner, "s1", &scanner, day(1)),
            set(LAPTOP, AssetField::Owner, "d1", &discovery, day(2)),
        ],
    );
    assert_eq!(
        decided,
        [
            "procurement -> accepted: no source owned the value [category ownership]",
            "discovery -> rejected: procurement ranks higher and holds the value [category ownership]",
            "finance -> accepted: ranks above procurement [category ownership]",
            "procurement -> rejected: finance ranks higher and holds the value [category ownership]",
            "finance -> accepted: the source already holds the value [category ownership]",
            "scanner -> rejected: finance ranks higher and holds the value [category ownership]",
            "scanner -> accepted: no source owned the value [category ownership]",
            "discovery -> rejected: scanner ranks higher and holds the value [category ownership]",
        ]
    );
    assert_eq!(estate.asset(VM).unwrap().owner(), Some("f2"));
    assert_eq!(estate.asset(LAPTOP).unwrap().owner(), Some("s1"));
    let conflict = &estate.conflicts()[1];
    assert_eq!(
        conflict.reason(),
        &Reason::LowerPriority {
            holder: auto("finance")
        }
    );
    assert_eq!(conflict.kept(), Some(&Value::text("f1")));
}

#[test]
fn a_stale_holder_loses_after_the_limit_measured_from_claim_instants() {
    let limit = TimeDelta::days(30);
    let rules = || [Rule::fallback().sources(["finance"]).stale_after(limit)];
    let (finance, discovery) = (auto("finance"), auto("discovery"));
    let mut estate = estate(agreement(rules()));
    let decided = run(
        &mut estate,
        [
            set(VM, AssetField::Location, "f", &finance, day(1)),
            // Exactly 30 days is not older than the limit.
            set(VM, AssetField::Location, "d1", &discovery, day(31)),
            set(
                VM,
                AssetField::Location,
                "d2",
                &discovery,
                day(31) + TimeDelta::seconds(1),
            ),
        ],
    );
    assert_eq!(
        decided,
        [
            "finance -> accepted: no source owned the value [default]",
            "discovery -> rejected: finance ranks higher and holds the value [default]",
            "discovery -> accepted: finance's value was stale (30 days old) [default]",
        ]
    );
    let report = estate.plan(&batch([])).unwrap();
    assert!(report.decisions().is_empty());
    let why = estate
        .explain(&id(VM), &AssetField::Location.into())
        .unwrap();
    assert_eq!(why.value(), Some(&Value::text("d2")));
    let accepted = why.claims().last().unwrap();
    assert!(matches!(
        &accepted.1,
        ClaimStatus::Accepted(v) if v.reason() == &Reason::Stale {
            holder: auto("finance"),
            age_seconds: 30 * 86_400 + 1,
        }
    ));

    // The holder refreshing its value on day 20 restarts the clock: a day
    // 40 claim is too early, a claim after day 50 is not.
    let mut estate = self::estate(agreement(rules()));
    let decided = run(
        &mut estate,
        [
            set(VM, AssetField::Location, "d1", &discovery, day(40)),
            set(VM, AssetField::Location, "f", &finance, day(20)),
            set(VM, AssetField::Location, "f", &finance, day(1)),
            set(VM, AssetField::Location, "d2", &discovery, day(51)),
        ],
    );
    // Batch order; each decided in replay order (days 1, 20, 40, 51).
    assert_eq!(
        statuses(&estate, VM, AssetField::Location),
        [
            r#"finance set "f" at day 1: accepted"#,
            r#"finance set "f" at day 20: accepted"#,
            r#"discovery set "d1" at day 40: rejected"#,
            r#"discovery set "d2" at day 51: accepted"#,
        ]
    );
    assert_eq!(
        decided[3],
        "discovery -> accepted: finance's value was stale (31 days old) [default]"
    );
    assert_eq!(
        asset_text(&estate, VM, &AssetField::Location).as_deref(),
        Some(r#""d2""#)
    );
}

#[test]
fn a_write_if_empty_source_only_fills_empty_fields() {
    let mut estate = estate(agreement([Rule::field(AssetField::Owner)
        .sources(["finance"])
        .write_if_empty("discovery")]));
    let (finance, discovery) = (auto("finance"), auto("discovery"));
    let decided = run(
        &mut estate,
        [
            // The laptop in stock has no owner.
            set(LAPTOP, AssetField::Owner, "d1", &discovery, day(1)),
            set(LAPTOP, AssetField::Owner, "d2", &discovery, day(2)),
            set(LAPTOP, AssetField::Owner, "f1", &finance, day(3)),
            set(LAPTOP, AssetField::Owner, "d3", &discovery, day(4)),
            // The payment VM's owner came with the record.
            set(VM, AssetField::Owner, "d1", &discovery, day(1)),
        ],
    );
    assert_eq!(
        decided,
        [
            "discovery -> accepted: no source owned the value [field asset.owner]",
            "discovery -> accepted: the source already holds the value [field asset.owner]",
            "finance -> accepted: ranks above discovery [field asset.owner]",
            "discovery -> rejected: may only fill an empty field [field asset.owner]",
            "discovery -> rejected: may only fill an empty field [field asset.owner]",
        ]
    );
    assert_eq!(estate.asset(LAPTOP).unwrap().owner(), Some("f1"));
    assert_eq!(estate.asset(VM).unwrap().owner(), Some("platform team"));
}

// ---------------------------------------------------------------------------
// Manual locks
// ---------------------------------------------------------------------------

#[test]
fn a_manual_edit_locks_the_field_for_ever_by_default() {
    let mut estate = estate(agreement([
        Rule::field(CiField::Owner).sources(["discovery"])
    ]));
    let (discovery, alice, bob) = (auto("discovery"), person("alice"), person("bob"));
    let decided = run(
        &mut estate,
        [
            set(VM, CiField::Owner, "d1", &discovery, day(1)),
            set(VM, CiField::Owner, "alice's", &alice, day(2)),
            set(VM, CiField::Owner, "d2", &discovery, day(3)),
            set(VM, CiField::Owner, "d3", &discovery, day(300)),
            set(VM, CiField::Owner, "bob's", &bob, day(301)),
            set(VM, CiField::Owner, "d4", &discovery, day(302)),
        ],
    );
    assert_eq!(
        decided,
        [
            "discovery -> accepted: no source owned the value [field ci.owner]",
            "person alice -> accepted: manual edit [field ci.owner]",
            "discovery -> rejected: locked by person alice [field ci.owner]",
            "discovery -> rejected: locked by person alice [field ci.owner]",
            "person bob -> accepted: manual edit [field ci.owner]",
            "discovery -> rejected: locked by person bob [field ci.owner]",
        ]
    );
    assert_eq!(estate.ci(VM).unwrap().owner(), Some("bob's"));
    assert_eq!(
        estate.conflicts()[0].reason(),
        &Reason::Locked {
            by: person("alice"),
            until: None
        }
    );
}

#[test]
fn an_expiring_lock_lets_a_higher_ranked_source_back_in() {
    let week = ManualLock::expiring_after(TimeDelta::days(7));
    let mut estate = estate(agreement([Rule::field(CiField::Owner)
        .sources(["discovery"])
        .source(SourcePattern::AnyPerson)
        .manual_lock(Some(week))]));
    let (discovery, alice) = (auto("discovery"), person("alice"));
    let decided = run(
        &mut estate,
        [
            // The shadow VM has no owner; alice fills it in.
            set(SHADOW, CiField::Owner, "alice's", &alice, day(1)),
            set(SHADOW, CiField::Owner, "d1", &discovery, day(5)),
            set(
                SHADOW,
                CiField::Owner,
                "d2",
                &discovery,
                day(8) - TimeDelta::seconds(1),
            ),
            set(SHADOW, CiField::Owner, "d3", &discovery, day(8)),
            // Ranked below discovery, a person cannot take it back.
            set(SHADOW, CiField::Owner, "alice's again", &alice, day(9)),
        ],
    );
    let until = day(8).to_string();
    assert_eq!(
        decided,
        [
            "person alice -> accepted: no source owned the value [field ci.owner]".to_owned(),
            format!("discovery -> rejected: locked by person alice until {until} [field ci.owner]"),
            format!("discovery -> rejected: locked by person alice until {until} [field ci.owner]"),
            "discovery -> accepted: ranks above person alice [field ci.owner]".to_owned(),
            "person alice -> rejected: discovery ranks higher and holds the value [field ci.owner]"
                .to_owned(),
        ]
    );
    assert_eq!(estate.ci(SHADOW).unwrap().owner(), Some("d3"));
}

#[test]
fn an_expired_lock_gives_way_to_staleness() {
    let week = ManualLock::expiring_after(TimeDelta::days(7));
    let mut estate = estate(agreement([Rule::field(CiField::Owner)
        .sources(["discovery"])
        .stale_after(TimeDelta::days(1))
        .manual_lock(Some(week))]));
    let (discovery, alice) = (auto("discovery"), person("alice"));
    let decided = run(
        &mut estate,
        [
            set(VM, CiField::Owner, "alice's", &alice, day(1)),
            set(VM, CiField::Owner, "d1", &discovery, day(5)),
            set(VM, CiField::Owner, "d2", &discovery, day(9)),
        ],
    );
    assert_eq!(
        decided,
        [
            "person alice -> accepted: no source owned the value [field ci.owner]".to_owned(),
            format!(
                "discovery -> rejected: locked by person alice until {} [field ci.owner]",
                day(8)
            ),
            "discovery -> accepted: person alice's value was stale (8 days old) [field ci.owner]"
                .to_owned(),
        ]
    );
}

/// Pins a consequence of the documented ranks: a person the rule does not
/// list ranks above every automated source whether or not the lock is
/// still active, so without staleness an expired lock (or no lock at all)
/// changes only the reason an automated claim is rejected.
#[test]
fn an_unlisted_person_outranks_automated_sources_after_the_lock_expires() {
    let (discovery, alice) = (auto("discovery"), person("alice"));
    for lock in [None, Some(ManualLock::expiring_after(TimeDelta::days(7)))] {
        let mut estate = estate(agreement([Rule::field(CiField::Owner)
            .sources(["discovery"])
            .manual_lock(lock)]));
        let decided = run(
            &mut estate,
            [
                set(VM, CiField::Owner, "alice's", &alice, day(1)),
                set(VM, CiField::Owner, "d1", &discovery, day(30)),
            ],
        );
        assert_eq!(
            decided[1],
            "discovery -> rejected: person alice ranks higher and holds the value [field ci.owner]"
        );
    }
}

#[test]
fn a_lock_lets_its_allowed_sources_through() {
    let lock = ManualLock::forever().allow("discovery");
    let mut estate = estate(agreement([Rule::field(CiField::Owner)
        .sources(["discovery"])
        .source(SourcePattern::AnyPerson)
        .manual_lock(Some(lock))]));
    let (discovery, scanner, alice) = (auto("discovery"), auto("scanner"), person("alice"));
    let decided = run(
        &mut estate,
        [
            set(SHADOW, CiField::Owner, "alice's", &alice, day(1)),
            set(SHADOW, CiField::Owner, "s1", &scanner, day(2)),
            set(SHADOW, CiField::Owner, "d1", &discovery, day(3)),
        ],
    );
    assert_eq!(
        decided,
        [
            "person alice -> accepted: no source owned the value [field ci.owner]",
            "scanner -> rejected: locked by person alice [field ci.owner]",
            "discovery -> accepted: ranks above person alice [field ci.owner]",
        ]
    );
}

// ---------------------------------------------------------------------------
// Clears and retractions
// ---------------------------------------------------------------------------

#[test]
fn clears_are_refused_unless_the_rule_allows_them() {
    let finance = auto("finance");
    let claims = || {
        [
            clear(VM, AssetField::Location, &finance, day(1)),
            set(VM, AssetField::Location, "f1", &finance, day(2)),
            clear(VM, AssetField::Location, &finance, day(3)),
            // Clearing an empty field is accepted: it changes nothing.
            clear(LAPTOP, AssetField::Owner, &finance, day(1)),
        ]
    };
    let rule = || Rule::field(AssetField::Location).sources(["finance"]);
    let mut refusing = estate(agreement([rule()]));
    assert_eq!(
        run(&mut refusing, claims()),
        [
            "finance -> rejected: the rule does not allow clearing [field asset.location]",
            "finance -> accepted: no source owned the value [field asset.location]",
            "finance -> rejected: the rule does not allow clearing [field asset.location]",
            "finance -> accepted: no source owned the value [no rule]",
        ]
    );
    assert_eq!(refusing.asset(VM).unwrap().location(), Some("f1"));

    let mut allowing = estate(agreement([rule().allow_clear(true)]));
    assert_eq!(
        run(&mut allowing, claims()),
        [
            "finance -> accepted: no source owned the value [field asset.location]",
            "finance -> accepted: the source already holds the value [field asset.location]",
            "finance -> accepted: the source already holds the value [field asset.location]",
            "finance -> accepted: no source owned the value [no rule]",
        ]
    );
    assert_eq!(allowing.asset(VM).unwrap().location(), None);
    let journal: Vec<_> = allowing
        .journal()
        .iter()
        .map(|e| {
            (
                e.old().map(ToString::to_string),
                e.new_value().map(ToString::to_string),
            )
        })
        .collect();
    assert_eq!(
        journal,
        [
            (Some(r#""azure/uksouth""#.to_owned()), None),
            (None, Some(r#""f1""#.to_owned())),
            (Some(r#""f1""#.to_owned()), None),
        ]
    );
}

#[test]
fn a_required_field_cannot_be_cleared() {
    let mut estate = sample::estate();
    let before = estate.clone();
    let finance = auto("finance");
    for (field, name) in [
        (Field::Asset(AssetField::Name), "asset.name"),
        (Field::Asset(AssetField::Lifecycle), "asset.lifecycle"),
        (Field::Ci(CiField::Status), "ci.status"),
        (Field::Ci(CiField::Class), "ci.class"),
    ] {
        let err = estate
            .apply(batch([clear(VM, field, &finance, day(1))]))
            .unwrap_err();
        assert_eq!(
            err,
            Error::InvalidField {
                id: id(VM),
                field: name.to_owned(),
                reason: "is required and cannot be cleared".to_owned(),
            }
        );
    }
    assert_eq!(estate, before);
}

#[test]
fn retracting_the_holder_falls_back_to_the_next_sources_value() {
    let mut estate = estate(agreement([
        Rule::category(FieldCategory::Ownership).sources(["finance", "discovery"])
    ]));
    let (finance, discovery) = (auto("finance"), auto("discovery"));
    let decided = run(
        &mut estate,
        [
            set(VM, AssetField::Owner, "d1", &discovery, day(1)),
            set(VM, AssetField::Owner, "f1", &finance, day(2)),
            set(VM, AssetField::Owner, "d2", &discovery, day(3)),
        ],
    );
    assert_eq!(
        decided[2],
        "discovery -> rejected: finance ranks higher and holds the value [category ownership]"
    );
    assert_eq!(estate.asset(VM).unwrap().owner(), Some("f1"));

    // Finance withdraws: discovery's claims are decided again without it,
    // so its latest value holds.
    let decided = run(
        &mut estate,
        [retract(VM, AssetField::Owner, &finance, day(4))],
    );
    assert_eq!(decided, ["finance -> retracted"]);
    assert_eq!(estate.asset(VM).unwrap().owner(), Some("d2"));
    let why = estate.explain(&id(VM), &AssetField::Owner.into()).unwrap();
    assert_eq!(why.provenance().unwrap().source(), &discovery);
    assert_eq!(why.provenance().unwrap().observed(), day(3));
    assert_eq!(
        statuses(&estate, VM, AssetField::Owner),
        [
            r#"discovery set "d1" at day 1: accepted"#,
            r#"finance set "f1" at day 2: withdrawn"#,
            r#"discovery set "d2" at day 3: accepted"#,
            "finance retract at day 4: retraction",
        ]
    );

    // Discovery withdraws too: the value the record came with is back.
    run(
        &mut estate,
        [retract(VM, AssetField::Owner, &discovery, day(5))],
    );
    assert_eq!(estate.asset(VM).unwrap().owner(), Some("platform team"));
    let why = estate.explain(&id(VM), &AssetField::Owner.into()).unwrap();
    assert_eq!(why.provenance(), None);

    let journal: Vec<_> = estate
        .journal()
        .iter()
        .map(|e| {
            (
                e.sequence(),
                e.old().map(ToString::to_string).unwrap_or_default(),
                e.new_value().map(ToString::to_string).unwrap_or_default(),
                e.source().to_string(),
                e.rule().to_owned(),
            )
        })
        .collect();
    let row = |seq, old: &str, new: &str, source: &str, rule: &str| {
        (
            seq,
            old.to_owned(),
            new.to_owned(),
            source.to_owned(),
            rule.to_owned(),
        )
    };
    assert_eq!(
        journal,
        [
            row(
                1,
                r#""platform team""#,
                r#""d1""#,
                "discovery",
                "category ownership"
            ),
            row(2, r#""d1""#, r#""f1""#, "finance", "category ownership"),
            row(3, r#""f1""#, r#""d2""#, "discovery", "category ownership"),
            row(
                4,
                r#""d2""#,
                r#""platform team""#,
                "discovery",
                "retraction"
            ),
        ]
    );
}

// ---------------------------------------------------------------------------
// Refused batches
// ---------------------------------------------------------------------------

#[test]
fn a_value_of_the_wrong_type_is_refused() {
    let mut estate = sample::estate();
    let before = estate.clone();
    let discovery = auto("discovery");
    let wrong_owner = Claim::set(
        id(VM),
        AssetField::Owner,
        Value::Date(date(2026, 1, 1)),
        discovery.clone(),
        day(1),
    );
    assert_eq!(
        estate.apply(batch([wrong_owner])).unwrap_err(),
        Error::WrongValueType {
            id: id(VM),
            field: "asset.owner".to_owned(),
            expected: ValueType::Text,
            found: ValueType::Date,
        }
    );
    let wrong_os = Claim::set(id(VM), os(), Value::text("Ubuntu"), discovery, day(1));
    let err = estate.apply(batch([wrong_os])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "wrong value type for ci.attribute.os of `vm-pay-01`: expected attribute value, found text"
    );
    assert_eq!(estate, before);
}

#[test]
fn a_claim_on_a_missing_record_is_refused() {
    let mut estate = sample::estate();
    let before = estate.clone();
    let discovery = auto("discovery");
    let cases = [
        // The shadow VM has no asset; the laptop has no configuration item.
        (
            set(SHADOW, AssetField::Owner, "x", &discovery, day(1)),
            Error::UnknownAsset(id(SHADOW)),
        ),
        (
            set(LAPTOP, CiField::Owner, "x", &discovery, day(1)),
            Error::UnknownCi(id(LAPTOP)),
        ),
        (
            set("nowhere", os(), "x", &discovery, day(1)),
            Error::UnknownCi(id("nowhere")),
        ),
        (
            retract("nowhere", AssetField::Owner, &discovery, day(1)),
            Error::UnknownAsset(id("nowhere")),
        ),
    ];
    for (claim, expected) in cases {
        assert_eq!(estate.plan(&batch([claim.clone()])).unwrap_err(), expected);
        assert_eq!(estate.apply(batch([claim])).unwrap_err(), expected);
        let why = estate.explain(&id("nowhere"), &Field::Asset(AssetField::Owner));
        assert_eq!(why.unwrap_err(), Error::UnknownAsset(id("nowhere")));
    }
    assert_eq!(estate, before);
}

#[test]
fn a_batch_with_several_problems_lists_them_all_and_changes_nothing() {
    let mut estate = sample::estate();
    let finance = auto("finance");
    // An earlier batch, so that the refused one has history to leave alone.
    run(
        &mut estate,
        [set(VM, AssetField::Owner, "f0", &finance, day(1))],
    );
    let before = estate.clone();
    let claims = [
        set(VM, AssetField::Owner, "f1", &finance, day(2)),
        set(VM, AssetField::Owner, "x", &finance, day(3)),
        Claim::set(
            id(VM),
            AssetField::MonthlyCost,
            Value::text("lots"),
            finance.clone(),
            day(3),
        ),
        set(SHADOW, AssetField::Location, "x", &finance, day(3)),
        clear(LAPTOP, AssetField::Kind, &finance, day(3)),
        set(SHADOW, CiField::Owner, "f1", &finance, day(3)),
    ];
    let batch = batch(claims);
    let err = estate.plan(&batch).unwrap_err();
    assert_eq!(estate.clone().apply(batch.clone()).unwrap_err(), err);
    assert_eq!(
        err,
        Error::Batch {
            problems: vec![
                (
                    2,
                    Error::WrongValueType {
                        id: id(VM),
                        field: "asset.monthly_cost".to_owned(),
                        expected: ValueType::Money,
                        found: ValueType::Text,
                    }
                ),
                (3, Error::UnknownAsset(id(SHADOW))),
                (
                    4,
                    Error::InvalidField {
                        id: id(LAPTOP),
                        field: "asset.kind".to_owned(),
                        reason: "is required and cannot be cleared".to_owned(),
                    }
                ),
            ]
        }
    );
    assert!(
        err.to_string()
            .starts_with("batch refused, 3 problem(s): #2: wrong value type"),
        "{err}"
    );
    assert!(estate.apply(batch).is_err());
    assert_eq!(estate, before);
    assert_eq!(estate.journal().len(), 1);
}

#[test]
fn a_value_the_record_refuses_is_an_error_and_changes_nothing() {
    let mut estate = sample::estate();
    let before = estate.clone();
    let finance = auto("finance");
    let empty_owner = set(VM, AssetField::Owner, "", &finance, day(1));
    let negative = Claim::set(
        id(VM),
        AssetField::MonthlyCost,
        Value::Money(money("-1.00 GBP")),
        finance.clone(),
        day(1),
    );
    let empty_ci_owner = set(VM, CiField::Owner, "", &finance, day(1));
    let err = estate.apply(batch([empty_owner.clone()])).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidField { id: i, field, .. } if i == &id(VM) && field == "owner"),
        "{err:?}"
    );
    let err = estate.apply(batch([negative.clone()])).unwrap_err();
    assert_eq!(
        err,
        Error::InvalidField {
            id: id(VM),
            field: "monthly_cost".to_owned(),
            reason: "must not be negative".to_owned(),
        }
    );
    let err = estate.apply(batch([empty_ci_owner])).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidField { id: i, field, .. } if i == &id(VM) && field == "owner"),
        "{err:?}"
    );
    assert_eq!(estate, before);

    // A refused value the policy rejects never reaches the record, so it
    // is not an error.
    let mut ranked = self::estate(agreement([Rule::fallback().sources(["finance"])]));
    let scanner = auto("scanner");
    let decided = run(
        &mut ranked,
        [
            Claim::set(
                id(VM),
                AssetField::MonthlyCost,
                Value::Money(money("1.00 GBP")),
                finance,
                day(1),
            ),
            Claim::set(
                id(VM),
                AssetField::MonthlyCost,
                Value::Money(money("-1.00 GBP")),
                scanner,
                day(2),
            ),
        ],
    );
    assert_eq!(
        decided[1],
        "scanner -> rejected: finance ranks higher and holds the value [default]"
    );
    // A record problem is placed at the last claim touching the record.
    let both = batch([
        negative,
        set(VM, AssetField::Location, "x", &auto("finance"), day(2)),
        set("nowhere", AssetField::Owner, "x", &auto("finance"), day(2)),
    ]);
    let Error::Batch { problems } = sample::estate().plan(&both).unwrap_err() else {
        panic!("two problems");
    };
    let positions: Vec<usize> = problems.iter().map(|(at, _)| *at).collect();
    assert_eq!(positions, [1, 2]);
}

#[test]
fn a_record_is_judged_by_the_values_the_batch_leaves_it_with() {
    let finance = auto("finance");
    let date_claim = |field: AssetField, text: &str, at| {
        let value = Value::Date(text.parse().expect("a date"));
        Claim::set(id(VM), field, value, finance.clone(), at)
    };
    // A rule between fields: the VM was bought on 2024-01-15, so its
    // warranty cannot end before that, whichever field a claim writes.
    let mut estate = sample::estate();
    let before = estate.clone();
    let err = estate
        .apply(batch([date_claim(
            AssetField::WarrantyEnd,
            "2023-12-31",
            day(1),
        )]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid warranty_end of `vm-pay-01`: must not be before the purchase date 2024-01-15"
    );
    assert_eq!(estate, before);
    // Moving the purchase date later than an existing warranty end breaks
    // the same rule from the other side.
    let ok = estate.apply(batch([date_claim(
        AssetField::WarrantyEnd,
        "2025-01-15",
        day(1),
    )]));
    assert!(ok.is_ok(), "{ok:?}");
    let err = estate
        .apply(batch([date_claim(
            AssetField::PurchaseDate,
            "2025-06-01",
            day(2),
        )]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid warranty_end of `vm-pay-01`: must not be before the purchase date 2025-06-01"
    );
    // Only the values the batch leaves count: an empty owner replaced by a
    // later claim of the same batch never reaches the record.
    let replaced = [
        set(VM, AssetField::Owner, "", &finance, day(3)),
        set(VM, AssetField::Owner, "team-payments", &finance, day(4)),
    ];
    let report = estate.apply(batch(replaced)).unwrap();
    assert_eq!(report.accepted().count(), 2);
    assert_eq!(
        estate.asset(&id(VM)).unwrap().owner(),
        Some("team-payments")
    );
}

// ---------------------------------------------------------------------------
// Journal, conflicts, explain
// ---------------------------------------------------------------------------

#[test]
fn the_journal_has_one_entry_per_value_change() {
    let mut estate = estate(ColumnAgreement::itam_default());
    let (finance, procurement, discovery) =
        (auto("finance"), auto("procurement"), auto("discovery"));
    run(
        &mut estate,
        [
            set(VM, AssetField::Owner, "p1", &procurement, day(1)),
            // Same value again: a refresh, not a change.
            set(VM, AssetField::Owner, "p1", &procurement, day(2)),
            set(VM, AssetField::Owner, "d1", &discovery, day(3)),
            set(VM, os(), "Ubuntu 26.04", &discovery, day(1)),
        ],
    );
    run(
        &mut estate,
        [
            set(VM, AssetField::Owner, "f1", &finance, day(4)),
            // Identical to an earlier claim: a duplicate.
            set(VM, AssetField::Owner, "p1", &procurement, day(1)),
            set(LAPTOP, AssetField::Owner, "f1", &finance, day(4)),
        ],
    );
    let journal: Vec<_> = estate
        .journal()
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {} -> {} by {} at day {}",
                e.sequence(),
                e.resource(),
                e.field(),
                e.old()
                    .map_or_else(|| "(empty)".to_owned(), ToString::to_string),
                e.new_value()
                    .map_or_else(|| "(empty)".to_owned(), ToString::to_string),
                e.source(),
                days_of(e.observed()),
            )
        })
        .collect();
    assert_eq!(
        journal,
        [
            r#"1 vm-pay-01 asset.owner "platform team" -> "p1" by procurement at day 1"#,
            "2 vm-pay-01 ci.attribute.os Ubuntu 24.04 -> Ubuntu 26.04 by discovery at day 1",
            r#"3 vm-pay-01 asset.owner "p1" -> "f1" by finance at day 4"#,
            r#"4 SN-5CG1234XYZ asset.owner (empty) -> "f1" by finance at day 4"#,
        ]
    );
    assert_eq!(estate.journal()[0].rule(), "category ownership");
    let conflicts: Vec<_> = estate
        .conflicts()
        .iter()
        .map(|c| {
            (
                c.claim().source().to_string(),
                c.reason().to_string(),
                c.kept().cloned(),
            )
        })
        .collect();
    assert_eq!(
        conflicts,
        [(
            "discovery".to_owned(),
            "procurement ranks higher and holds the value".to_owned(),
            Some(Value::text("p1"))
        )]
    );
}

#[test]
fn the_conflict_log_keeps_every_rejected_claim() {
    let mut estate = estate(agreement([
        Rule::fallback().sources(["finance", "procurement"])
    ]));
    let (finance, procurement, scanner) = (auto("finance"), auto("procurement"), auto("scanner"));
    let claims = [
        set(VM, AssetField::Location, "f1", &finance, day(1)),
        set(VM, AssetField::Location, "p1", &procurement, day(2)),
        set(VM, AssetField::Location, "s1", &scanner, day(3)),
        set(VM, CiField::Owner, "s1", &scanner, day(1)),
        set(VM, CiField::Owner, "p1", &procurement, day(2)),
        set(VM, CiField::Owner, "s2", &scanner, day(3)),
    ];
    let report = estate.apply(batch(claims.clone())).unwrap();
    let rejected: Vec<&Claim> = report.rejected().map(Decision::claim).collect();
    assert_eq!(rejected, [&claims[1], &claims[2], &claims[5]]);
    let logged: Vec<&Claim> = estate.conflicts().iter().map(Conflict::claim).collect();
    assert_eq!(logged, rejected);
    // Another rejected batch appends; nothing is dropped.
    estate
        .apply(batch([set(
            VM,
            AssetField::Location,
            "s3",
            &scanner,
            day(9),
        )]))
        .unwrap();
    assert_eq!(estate.conflicts().len(), 4);
    assert_eq!(estate.conflicts()[3].rule(), "default");
}

/// A claim arriving late (earlier instant than ones already decided) makes
/// the field decide its claims again, which can turn an accepted claim into
/// a rejected one; that claim reaches the conflict log like any other.
#[test]
fn a_claim_rejected_on_replay_reaches_the_conflict_log() {
    let mut estate = estate(agreement([Rule::fallback().sources(["finance"])]));
    let (finance, discovery) = (auto("finance"), auto("discovery"));
    let late = set(VM, AssetField::Location, "d1", &discovery, day(2));
    estate.apply(batch([late.clone()])).unwrap();
    // Finance observed on day 1, but its claim arrives afterwards.
    estate
        .apply(batch([set(
            VM,
            AssetField::Location,
            "f1",
            &finance,
            day(1),
        )]))
        .unwrap();
    assert_eq!(estate.asset(VM).unwrap().location(), Some("f1"));
    assert_eq!(
        statuses(&estate, VM, AssetField::Location),
        [
            r#"finance set "f1" at day 1: accepted"#,
            r#"discovery set "d1" at day 2: rejected"#,
        ]
    );
    let logged: Vec<&Claim> = estate.conflicts().iter().map(Conflict::claim).collect();
    assert_eq!(logged, [&late], "discovery's claim is rejected and logged");
    let conflict = &estate.conflicts()[0];
    assert_eq!(conflict.kept(), Some(&Value::text("f1")));
    assert_eq!(conflict.rule(), "default");
}

#[test]
fn explain_lists_every_claim_in_replay_order_with_its_status() {
    let mut estate = estate(agreement([
        Rule::field(os()).sources(["discovery", "cmdb-sync"])
    ]));
    let (discovery, sync, scanner) = (auto("discovery"), auto("cmdb-sync"), auto("scanner"));
    // Arrival order differs from replay order.
    run(
        &mut estate,
        [
            retract(VM, os(), &discovery, day(4)),
            set(VM, os(), "scanner os", &scanner, day(3)),
            set(VM, os(), "sync os", &sync, day(2)),
            set(VM, os(), "discovery os", &discovery, day(1)),
        ],
    );
    let why = estate.explain(&id(VM), &os().into()).unwrap();
    assert_eq!(why.value(), Some(&os_value("sync os")));
    assert_eq!(why.provenance().unwrap().source(), &sync);
    assert_eq!(why.provenance().unwrap().rule(), "field ci.attribute.os");
    assert_eq!(
        statuses(&estate, VM, os()),
        [
            "discovery set discovery os at day 1: withdrawn",
            "cmdb-sync set sync os at day 2: accepted",
            "scanner set scanner os at day 3: rejected",
            "discovery retract at day 4: retraction",
        ]
    );
    let text = why.to_string();
    assert!(
        text.starts_with("ci.attribute.os of `vm-pay-01` is sync os\n  set by cmdb-sync"),
        "{text}"
    );
    assert!(text.contains("scanner set scanner os at"), "{text}");
    assert!(
        text.contains("rejected: cmdb-sync ranks higher and holds the value"),
        "{text}"
    );
    // A field no claim touched.
    let untouched = estate.explain(&id(VM), &CiField::Region.into()).unwrap();
    assert!(untouched.claims().is_empty() && untouched.provenance().is_none());
    assert_eq!(untouched.value().unwrap().to_string(), "eu-west-2");
}

#[test]
fn identical_claims_are_recorded_once() {
    let mut estate = sample::estate();
    let discovery = auto("discovery");
    let claim = set(VM, CiField::Owner, "d1", &discovery, day(1));
    let decided = run(&mut estate, [claim.clone(), claim.clone()]);
    assert_eq!(
        decided,
        [
            "discovery -> accepted: no source owned the value [no rule]",
            "discovery -> duplicate",
        ]
    );
    let after = estate.clone();
    assert_eq!(run(&mut estate, [claim]), ["discovery -> duplicate"]);
    assert_eq!(estate, after);
    assert_eq!(
        estate
            .explain(&id(VM), &CiField::Owner.into())
            .unwrap()
            .claims()
            .len(),
        1
    );
}

/// Distinct attribute values can share a text (`Text("8")` and `Integer(8)`
/// both print `8`); one source's claims of both at one instant must still be
/// decided in a fixed order, so the final value does not depend on arrival.
#[test]
fn claims_that_print_alike_are_still_decided_in_a_fixed_order() {
    let cores = CiField::Attribute(AttributeKey::new("cores").unwrap());
    let discovery = auto("discovery");
    let claim = |value: AttributeValue| {
        Claim::set(
            id(VM),
            cores.clone(),
            Value::Attribute(value),
            discovery.clone(),
            day(1),
        )
    };
    let (text, integer) = (
        claim(AttributeValue::Text("8".into())),
        claim(AttributeValue::Integer(8)),
    );
    let mut forward = sample::estate();
    forward
        .apply(batch([text.clone(), integer.clone()]))
        .unwrap();
    let mut backward = sample::estate();
    backward.apply(batch([integer, text])).unwrap();
    assert_eq!(
        forward.ci(VM).unwrap().attributes().get("cores"),
        backward.ci(VM).unwrap().attributes().get("cores"),
    );
}

/// A clear removes an attribute and a later set puts it back: attributes
/// are kept in key order, so the record and its snapshot do not depend on
/// the order the claims arrived in.
#[test]
fn an_attribute_keeps_its_place_whatever_the_arrival_order() {
    let finance = auto("finance");
    let claims = [
        clear(VM, os(), &finance, day(1)),
        set(VM, os(), "Ubuntu 26.04", &finance, day(2)),
    ];
    let allow = || agreement([Rule::fallback().allow_clear(true)]);
    let mut forward = estate(allow());
    forward.apply(batch(claims.clone())).unwrap();
    let mut backward = estate(allow());
    backward.apply(batch(claims.into_iter().rev())).unwrap();
    let keys = |estate: &Estate| -> Vec<String> {
        let ci = estate.ci(VM).unwrap();
        ci.attributes().iter().map(|(k, _)| k.to_string()).collect()
    };
    // Backward: set in place, then the late clear is replayed before it.
    assert_eq!(
        keys(&backward),
        [
            "cloud",
            "cores",
            "installed:Endpoint Protection",
            "os",
            "size"
        ]
    );
    assert_eq!(keys(&forward), keys(&backward));
    assert_eq!(forward.ci(VM), backward.ci(VM));
}

// ---------------------------------------------------------------------------
// Snapshots and custom policies
// ---------------------------------------------------------------------------

/// An estate with claims, a journal and conflicts on several fields.
fn busy_estate() -> Estate {
    let mut estate = estate(ColumnAgreement::itam_default());
    let (finance, procurement, discovery, alice) = (
        auto("finance"),
        auto("procurement"),
        auto("discovery"),
        person("alice"),
    );
    run(
        &mut estate,
        [
            set(VM, AssetField::Owner, "p1", &procurement, day(1)),
            set(VM, AssetField::Owner, "d1", &discovery, day(2)),
            set(VM, AssetField::Owner, "f1", &finance, day(3)),
            set(VM, os(), "Ubuntu 26.04", &discovery, day(1)),
            set(VM, CiField::Owner, "alice's", &alice, day(2)),
            set(VM, CiField::Owner, "d1", &discovery, day(3)),
            set(LAPTOP, AssetField::Owner, "p1", &procurement, day(1)),
            retract(LAPTOP, AssetField::Owner, &procurement, day(2)),
        ],
    );
    estate
}

#[test]
fn a_snapshot_keeps_claims_journal_and_conflicts() {
    let estate = busy_estate();
    assert!(!estate.conflicts().is_empty() && !estate.journal().is_empty());
    let json = serde_json::to_string(&estate).unwrap();
    let back: Estate = serde_json::from_str(&json).unwrap();
    assert_eq!(back, estate);
    assert_eq!(back.journal(), estate.journal());
    assert_eq!(back.conflicts(), estate.conflicts());
    assert_eq!(back.agreement(), &ColumnAgreement::itam_default());
    for field in [
        Field::Asset(AssetField::Owner),
        os().into(),
        CiField::Owner.into(),
    ] {
        assert_eq!(
            back.explain(&id(VM), &field),
            estate.explain(&id(VM), &field)
        );
    }
    // Deterministic text, and a restored estate goes on where it left off.
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
    let mut restored = back;
    let mut original = estate;
    let next = || {
        batch([set(
            VM,
            AssetField::Owner,
            "p2",
            &auto("procurement"),
            day(9),
        )])
    };
    assert_eq!(
        restored.apply(next()).unwrap(),
        original.apply(next()).unwrap()
    );
    assert_eq!(restored, original);
}

/// The JSON of the claimed state of `resource`'s `field`.
fn field_state<'a>(
    snapshot: &'a mut serde_json::Value,
    resource: &str,
    field: &str,
) -> &'a mut serde_json::Value {
    snapshot["ownership"]["fields"][resource]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["field"] == field)
        .unwrap()
}

#[test]
fn a_snapshot_whose_record_disagrees_with_its_claims_is_refused() {
    let estate = busy_estate();
    let snapshot = serde_json::to_value(&estate).unwrap();

    // The record was edited behind the claims' back.
    let mut edited = snapshot.clone();
    let vm = &mut edited["assets"][VM];
    assert_eq!(
        vm["owner"], "f1",
        "the asset register is a map from id to asset"
    );
    vm["owner"] = "someone else".into();
    let err = serde_json::from_value::<Estate>(edited).unwrap_err();
    assert!(
        err.to_string()
            .contains("the snapshot's claims do not match the record"),
        "{err}"
    );

    // The decided value was changed.
    let mut tampered = snapshot.clone();
    field_state(&mut tampered, VM, "asset.owner")["value"] = serde_json::json!({"text": "mallory"});
    assert!(serde_json::from_value::<Estate>(tampered).is_err());

    // A claim was moved to another field.
    let mut moved = snapshot.clone();
    field_state(&mut moved, VM, "asset.owner")["claims"][0]["field"] = "asset.location".into();
    assert!(serde_json::from_value::<Estate>(moved).is_err());

    // Claims of a record that does not exist.
    let mut orphan = snapshot;
    let fields = orphan["ownership"]["fields"].as_object_mut().unwrap();
    let state = fields[VM].clone();
    fields.insert("nowhere".to_owned(), state);
    assert!(serde_json::from_value::<Estate>(orphan).is_err());
}

/// The snapshot check folds the stored claims by their recorded statuses:
/// a snapshot whose claims were rewritten (here: the accepted claim now
/// says another value) no longer gives the stored value and is refused.
#[test]
fn a_snapshot_whose_claims_were_rewritten_is_refused() {
    let estate = busy_estate();
    let mut snapshot = serde_json::to_value(&estate).unwrap();
    let state = field_state(&mut snapshot, VM, "asset.owner");
    let claims = state["claims"].as_array_mut().unwrap();
    let finance = claims
        .iter_mut()
        .find(|c| c["source"]["name"] == "finance")
        .unwrap();
    finance["update"] = serde_json::json!({"set": {"text": "mallory"}});
    let restored = serde_json::from_value::<Estate>(snapshot);
    assert!(
        restored.is_err(),
        "accepted: {:?}",
        restored.map(|e| e.explain(&id(VM), &AssetField::Owner.into()))
    );
}

/// Only finance may write.
struct FinanceOnly;

impl FieldOwnership for FinanceOnly {
    fn decide(&self, field: &Field, current: Current<'_>, claim: &Claim) -> Verdict {
        assert_eq!(claim.field(), field);
        if claim.source().name() == "finance" {
            let why = format!(
                "finance replaces {}",
                current
                    .value
                    .map_or("nothing".to_owned(), ToString::to_string)
            );
            Verdict::accept(Reason::Other(why), "finance only")
        } else {
            Verdict::reject(
                Reason::Other("only finance may write".to_owned()),
                "finance only",
            )
        }
    }
}

#[test]
fn apply_with_decides_by_another_policy() {
    let mut estate = estate(agreement([Rule::fallback().sources(["discovery"])]));
    let (finance, discovery) = (auto("finance"), auto("discovery"));
    let claims = || {
        batch([
            set(VM, AssetField::Location, "d1", &discovery, day(1)),
            set(VM, AssetField::Location, "f1", &finance, day(2)),
        ])
    };
    // The estate's own agreement would keep discovery's value.
    let own = estate.plan(&claims()).unwrap();
    assert_eq!(
        lines(&own),
        [
            "discovery -> accepted: no source owned the value [default]",
            "finance -> rejected: discovery ranks higher and holds the value [default]",
        ]
    );
    let planned = estate.plan_with(&claims(), &FinanceOnly).unwrap();
    let report = estate.apply_with(claims(), &FinanceOnly).unwrap();
    assert_eq!(report, planned);
    assert_eq!(
        lines(&report),
        [
            "discovery -> rejected: only finance may write [finance only]",
            r#"finance -> accepted: finance replaces "azure/uksouth" [finance only]"#,
        ]
    );
    assert_eq!(estate.asset(VM).unwrap().location(), Some("f1"));
    let why = estate
        .explain(&id(VM), &AssetField::Location.into())
        .unwrap();
    assert_eq!(why.provenance().unwrap().rule(), "finance only");
    assert_eq!(estate.journal()[0].rule(), "finance only");
    assert_eq!(estate.conflicts()[0].rule(), "finance only");
    // The estate's agreement is untouched.
    assert_eq!(estate.agreement().rules().len(), 1);
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

/// The sources the generator draws; the last is a person.
const SOURCES: [&str; 4] = ["finance", "discovery", "scanner", "alice"];
const PERSON: usize = 3;

fn source(index: usize) -> Source {
    if index == PERSON {
        person(SOURCES[index])
    } else {
        auto(SOURCES[index])
    }
}

const VALUES: [&str; 4] = ["alpha", "beta", "gamma", "delta"];

/// The claimable (resource, field) pairs of the sample estate the generator
/// draws from, then ones that fail validation.
fn targets() -> Vec<(ResourceId, Field)> {
    let pair = |resource: &str, field: Field| (id(resource), field);
    vec![
        pair(VM, AssetField::Owner.into()),
        pair(VM, AssetField::Location.into()),
        pair(VM, CiField::Owner.into()),
        pair(VM, os().into()),
        pair(LAPTOP, AssetField::Owner.into()),
        pair(LAPTOP, AssetField::Location.into()),
        pair(SHADOW, CiField::Owner.into()),
        pair(SHADOW, os().into()),
        // Invalid from here on.
        pair(SHADOW, AssetField::Owner.into()),
        pair(LAPTOP, os().into()),
        pair("nowhere", CiField::Owner.into()),
        pair(VM, AssetField::Name.into()),
    ]
}

const VALID_TARGETS: usize = 8;

#[derive(Debug, Clone, Copy)]
enum UpdateSpec {
    Set(usize),
    Clear,
    Retract,
    /// A value of the wrong type, or an empty text.
    Bad(bool),
}

#[derive(Debug, Clone, Copy)]
struct ClaimSpec {
    target: usize,
    source: usize,
    update: UpdateSpec,
    /// Hours after the start of 2026.
    hour: u32,
}

impl ClaimSpec {
    fn claim(self) -> Claim {
        let (resource, field) = targets().swap_remove(self.target);
        let update = match self.update {
            UpdateSpec::Set(v) => Update::Set(match field.value_type() {
                ValueType::Attribute => os_value(VALUES[v]),
                _ => Value::text(VALUES[v]),
            }),
            UpdateSpec::Clear => Update::Clear,
            UpdateSpec::Retract => Update::Retract,
            UpdateSpec::Bad(true) => Update::Set(Value::Date(date(2026, 1, 1))),
            UpdateSpec::Bad(false) => Update::Set(Value::text("")),
        };
        let at = day(1) + TimeDelta::hours(i64::from(self.hour));
        Claim::new(resource, field, update, source(self.source), at)
    }
}

fn update(valid: bool) -> BoxedStrategy<UpdateSpec> {
    let good = prop_oneof![
        6 => (0..VALUES.len()).prop_map(UpdateSpec::Set),
        1 => Just(UpdateSpec::Clear),
        1 => Just(UpdateSpec::Retract),
    ];
    if valid {
        good.boxed()
    } else {
        prop_oneof![12 => good, 1 => any::<bool>().prop_map(UpdateSpec::Bad)].boxed()
    }
}

/// A claim on a valid target (or, unless `valid`, sometimes on an invalid
/// one or with a bad value), at an hour of the first ten days.
fn claim_spec(valid: bool) -> impl Strategy<Value = ClaimSpec> {
    let target = if valid {
        (0..VALID_TARGETS).boxed()
    } else {
        prop_oneof![12 => 0..VALID_TARGETS, 1 => VALID_TARGETS..targets().len()].boxed()
    };
    (target, 0..SOURCES.len(), update(valid), 0..240u32).prop_map(
        |(target, source, update, hour)| ClaimSpec {
            target,
            source,
            update,
            hour,
        },
    )
}

/// Any source pattern the rules can name.
fn patterns() -> Vec<SourcePattern> {
    let mut all: Vec<SourcePattern> = SOURCES.iter().map(|&s| s.into()).collect();
    all.push(SourcePattern::AnyPerson);
    all
}

fn scope() -> impl Strategy<Value = Scope> {
    select(vec![
        Scope::Field(AssetField::Owner.into()),
        Scope::Field(CiField::Owner.into()),
        Scope::Field(os().into()),
        Scope::ViewCategory(View::Asset, FieldCategory::Ownership),
        Scope::ViewCategory(View::Ci, FieldCategory::Configuration),
        Scope::Category(FieldCategory::Ownership),
        Scope::Category(FieldCategory::Configuration),
        Scope::Default,
    ])
}

fn lock() -> impl Strategy<Value = Option<ManualLock>> {
    let automated = select(SOURCES[..PERSON].to_vec());
    prop_oneof![
        Just(None),
        Just(Some(ManualLock::forever())),
        (1..=5i64).prop_map(|d| Some(ManualLock::expiring_after(TimeDelta::days(d)))),
        (prop::option::of(1..=5i64), automated).prop_map(|(days, allow)| {
            let lock = days.map_or_else(ManualLock::forever, |d| {
                ManualLock::expiring_after(TimeDelta::days(d))
            });
            Some(lock.allow(allow))
        }),
    ]
}

fn rule() -> impl Strategy<Value = Rule> {
    (
        scope(),
        subsequence(patterns(), 0..=5).prop_shuffle(),
        prop::option::of(select(&[1i64, 2, 5][..])),
        subsequence(patterns(), 0..=2),
        any::<bool>(),
        lock(),
    )
        .prop_map(|(scope, sources, stale, empty, allow_clear, lock)| {
            let mut rule = match scope {
                Scope::Field(field) => Rule::field(field),
                Scope::ViewCategory(view, category) => Rule::view_category(view, category),
                Scope::Category(category) => Rule::category(category),
                Scope::Default => Rule::fallback(),
            };
            rule = rule
                .sources(sources)
                .allow_clear(allow_clear)
                .manual_lock(lock);
            if let Some(days) = stale {
                rule = rule.stale_after(TimeDelta::days(days));
            }
            for pattern in empty {
                rule = rule.write_if_empty(pattern);
            }
            rule
        })
}

/// A random agreement; rules whose scope is taken are dropped.
fn agreement_strategy() -> impl Strategy<Value = ColumnAgreement> {
    prop::collection::vec(rule(), 0..5).prop_map(|rules| {
        rules
            .into_iter()
            .fold(ColumnAgreement::new(), |agreement, rule| {
                agreement.clone().with(rule).unwrap_or(agreement)
            })
    })
}

/// What a claimed field looks like from outside: the records, and for each
/// valid target the explanation (value, provenance, claims and statuses).
///
/// A configuration item's attributes are compared as a map: their order
/// depends on arrival order (see
/// `an_attribute_keeps_its_place_whatever_the_arrival_order`).
fn observe(estate: &Estate) -> Vec<String> {
    let mut seen: Vec<String> = [VM, LAPTOP]
        .iter()
        .map(|r| format!("{:?}", estate.asset(r)))
        .collect();
    // Whole records: attributes are in key order, so even their order must
    // not depend on arrival.
    for resource in [VM, SHADOW] {
        seen.push(format!("{:?}", estate.ci(resource)));
    }
    for (resource, field) in targets().into_iter().take(VALID_TARGETS) {
        seen.push(format!("{:?}", estate.explain(&resource, &field).unwrap()));
    }
    seen
}

/// Claims with distinct instants, the arrival order and the batch cuts.
fn shuffled_claims() -> impl Strategy<Value = (Vec<ClaimSpec>, Vec<usize>, Vec<bool>)> {
    (1..40usize).prop_flat_map(|n| {
        let order: Vec<usize> = (0..n).collect();
        (
            prop::collection::vec(claim_spec(true), n),
            Just(order.clone()).prop_shuffle(),
            Just(order).prop_shuffle(),
            prop::collection::vec(any::<bool>(), n),
        )
            .prop_map(|(mut claims, instants, arrival, cuts)| {
                // Distinct instants, seven hours apart, in a random order.
                for (claim, slot) in claims.iter_mut().zip(instants) {
                    claim.hour = u32::try_from(slot).unwrap() * 7;
                }
                (claims, arrival, cuts)
            })
    })
}

/// Two sources and their own fixed values.
#[derive(Debug, Clone)]
struct Stable {
    target: usize,
    sources: (usize, usize),
    values: (usize, usize),
    /// Which source claims next, after the first claim of each.
    turns: Vec<bool>,
    /// Minutes between claims (at most 110, so twelve claims span less than
    /// a day, shorter than any staleness limit or lock the generator makes).
    gaps: Vec<u32>,
}

fn stable() -> impl Strategy<Value = Stable> {
    (
        0..VALID_TARGETS,
        subsequence((0..SOURCES.len()).collect::<Vec<_>>(), 2).prop_shuffle(),
        (0..VALUES.len(), 0..VALUES.len()),
        prop::collection::vec(any::<bool>(), 0..10),
        prop::collection::vec(1..=110u32, 12),
    )
        .prop_map(|(target, sources, values, turns, gaps)| Stable {
            target,
            sources: (sources[0], sources[1]),
            values,
            turns,
            gaps,
        })
}

impl Stable {
    /// The claims in order: the first source, the second, then turns.
    fn claims(&self) -> Vec<Claim> {
        let firsts = [true, false];
        let mut minute = 0;
        firsts
            .iter()
            .chain(&self.turns)
            .zip(&self.gaps)
            .map(|(&first, gap)| {
                minute += gap;
                let (source, value) = if first {
                    (self.sources.0, self.values.0)
                } else {
                    (self.sources.1, self.values.1)
                };
                ClaimSpec {
                    target: self.target,
                    source,
                    update: UpdateSpec::Set(value),
                    hour: 0,
                }
                .claim_at(day(1) + TimeDelta::minutes(i64::from(minute)))
            })
            .collect()
    }
}

impl ClaimSpec {
    fn claim_at(self, at: DateTime<Utc>) -> Claim {
        let claim = self.claim();
        Claim::new(
            claim.resource().clone(),
            claim.field().clone(),
            claim.update().clone(),
            claim.source().clone(),
            at,
        )
    }
}

/// Applies `specs` (with the first `repeat` of them sent twice, and on
/// whole days when `coarse`, so that instants often tie), then applies the
/// same batch again.
fn check_idempotent(
    agreement: ColumnAgreement,
    specs: &[ClaimSpec],
    repeat: usize,
    coarse: bool,
) -> Result<(), TestCaseError> {
    let mut estate = estate(agreement);
    let mut claims: Vec<Claim> = specs
        .iter()
        .map(|&s| {
            let hour = if coarse { s.hour / 24 * 24 } else { s.hour };
            ClaimSpec { hour, ..s }.claim()
        })
        .collect();
    claims.extend_from_within(..repeat.min(claims.len()));
    let first = estate.apply(batch(claims.clone()));
    prop_assert!(first.is_ok(), "{:?}", first);
    let before = estate.clone();
    let second = estate.apply(batch(claims)).unwrap();
    prop_assert_eq!(&estate, &before);
    for decision in second.decisions() {
        prop_assert_eq!(decision.outcome(), &Outcome::Duplicate);
        prop_assert!(!decision.changed());
    }
    Ok(())
}

/// Applies `claims` in `arrival` order, cutting a batch after each claim
/// whose `cuts` flag is set.
fn apply_in_batches(estate: &mut Estate, claims: &[Claim], arrival: &[usize], cuts: &[bool]) {
    let mut pending = Vec::new();
    for (&i, &cut) in arrival.iter().zip(cuts) {
        pending.push(claims[i].clone());
        if cut {
            estate.apply(batch(pending.drain(..))).unwrap();
        }
    }
    estate.apply(batch(pending)).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn applying_a_batch_again_changes_nothing(
        agreement in agreement_strategy(),
        specs in prop::collection::vec(claim_spec(true), 1..40),
        repeat in 0..8usize,
        coarse in any::<bool>(),
    ) {
        check_idempotent(agreement, &specs, repeat, coarse)?;
    }

    #[test]
    fn arrival_order_and_batching_do_not_change_the_result(
        agreement in agreement_strategy(),
        (specs, arrival, cuts) in shuffled_claims(),
    ) {
        let claims: Vec<Claim> = specs.iter().map(|s| s.claim()).collect();
        let mut reference = estate(agreement.clone());
        reference.apply(batch(claims.clone())).unwrap();

        let mut shuffled = estate(agreement.clone());
        shuffled.apply(batch(arrival.iter().map(|&i| claims[i].clone()))).unwrap();
        prop_assert_eq!(observe(&shuffled), observe(&reference));

        let mut split = estate(agreement);
        apply_in_batches(&mut split, &claims, &arrival, &cuts);
        prop_assert_eq!(observe(&split), observe(&reference));
    }

    #[test]
    fn two_stable_sources_never_make_a_field_flap(
        agreement in agreement_strategy(),
        stable in stable(),
    ) {
        let mut estate = estate(agreement);
        let (resource, field) = targets().swap_remove(stable.target);
        let mut settled = None;
        for (n, claim) in stable.claims().into_iter().enumerate() {
            let report = estate.apply(batch([claim])).unwrap();
            let value = estate.explain(&resource, &field).unwrap().value().cloned();
            match &settled {
                None if n == 1 => settled = Some(value),
                None => {}
                Some(settled) => {
                    prop_assert_eq!(settled, &value, "changed by claim {}: {:?}", n, report);
                }
            }
        }
    }

    #[test]
    fn every_rejected_claim_is_logged_and_every_state_survives_its_snapshot(
        agreement in agreement_strategy(),
        (specs, arrival, cuts) in shuffled_claims(),
    ) {
        let claims: Vec<Claim> = specs.iter().map(|s| s.claim()).collect();
        let mut estate = estate(agreement);
        apply_in_batches(&mut estate, &claims, &arrival, &cuts);
        let logged: Vec<&Claim> = estate.conflicts().iter().map(Conflict::claim).collect();
        for (resource, field) in targets().into_iter().take(VALID_TARGETS) {
            let why = estate.explain(&resource, &field).unwrap();
            for (claim, status) in why.claims() {
                if matches!(status, ClaimStatus::Rejected(_)) {
                    prop_assert!(logged.contains(&claim), "not logged: {:?}", claim);
                }
            }
        }
        let json = serde_json::to_string(&estate).unwrap();
        let back: Result<Estate, _> = serde_json::from_str(&json);
        prop_assert!(back.is_ok(), "refused: {:?}", back.err());
        prop_assert_eq!(back.unwrap(), estate);
    }

    #[test]
    fn plan_equals_apply(
        agreement in agreement_strategy(),
        batches in prop::collection::vec(prop::collection::vec(claim_spec(false), 0..12), 1..5),
    ) {
        let mut estate = estate(agreement);
        for specs in batches {
            let batch = batch(specs.iter().map(|s| s.claim()));
            let plan = estate.plan(&batch);
            let mut applied = estate.clone();
            let report = applied.apply(batch);
            prop_assert_eq!(&plan, &report);
            if report.is_ok() {
                estate = applied;
            } else {
                prop_assert_eq!(&applied, &estate);
            }
        }
    }
}

/// A claim that may break a rule of the asset record: an empty owner, a
/// negative cost, or a purchase, warranty or support date around the
/// sample VM's purchase (2024-01-15).
fn risky_claim() -> impl Strategy<Value = Claim> {
    let at = (1..30i64).prop_map(day);
    let source = select(vec!["finance", "discovery"]).prop_map(auto);
    let value = prop_oneof![
        select(vec!["", "team-payments", "platform"])
            .prop_map(|owner| (Field::from(AssetField::Owner), Value::text(owner))),
        (-3..3i64).prop_map(|n| (
            Field::from(AssetField::MonthlyCost),
            Value::Money(money(&format!("{n}.00 GBP")))
        )),
        (
            select(vec![
                AssetField::PurchaseDate,
                AssetField::WarrantyEnd,
                AssetField::SupportEnd
            ]),
            -400..400i64
        )
            .prop_map(|(field, offset)| {
                let when = date(2024, 1, 15) + TimeDelta::days(offset);
                (Field::from(field), Value::Date(when))
            }),
    ];
    (value, source, at)
        .prop_map(|((field, value), source, at)| Claim::set(id(VM), field, value, source, at))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The write path checks only what a batch can break, yet every record
    /// it leaves is one its builder would build, and a refused batch
    /// changes nothing.
    #[test]
    fn every_record_the_write_path_leaves_is_one_its_builder_accepts(
        batches in prop::collection::vec(prop::collection::vec(risky_claim(), 1..5), 1..8),
    ) {
        let mut estate = sample::estate();
        for claims in batches {
            let before = estate.clone();
            if estate.apply(batch(claims)).is_ok() {
                let asset = estate.asset(&id(VM)).unwrap();
                prop_assert_eq!(asset.to_builder().build(), Ok(asset.clone()));
            } else {
                prop_assert_eq!(&estate, &before);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// What a claim costs: counts, not timings
// ---------------------------------------------------------------------------

/// A policy that counts its decisions.
struct Counting {
    policy: ColumnAgreement,
    decisions: std::cell::Cell<usize>,
}

impl Counting {
    fn new(policy: ColumnAgreement) -> Self {
        Self {
            policy,
            decisions: std::cell::Cell::new(0),
        }
    }

    /// The decisions since the last call.
    fn take(&self) -> usize {
        self.decisions.replace(0)
    }
}

impl FieldOwnership for Counting {
    fn decide(&self, field: &Field, current: Current<'_>, claim: &Claim) -> Verdict {
        self.decisions.set(self.decisions.get() + 1);
        self.policy.decide(field, current, claim)
    }
}

/// Three sources the agreement does not rank claim a field in turn, ten
/// days apart, under the default 30-day staleness limit: the first claim's
/// source keeps the field. Arriving newest first, one per batch, each claim
/// hands the field to another source and makes a third of the claims lose
/// again; each claim still enters the conflict log once (it used to enter
/// it each time it lost, n²/6 entries for n claims).
#[test]
fn a_claim_enters_the_conflict_log_once_however_often_a_replay_makes_it_lose() {
    let mut estate = estate(ColumnAgreement::itam_default());
    let sources = [auto("s"), auto("t"), auto("u")];
    let n = 60;
    let claims: Vec<Claim> = (0..n)
        .map(|i| {
            let at = day(1) + TimeDelta::days(10 * i64::try_from(i).unwrap());
            set(
                VM,
                AssetField::Location,
                &format!("v{i}"),
                &sources[i % 3],
                at,
            )
        })
        .collect();
    for claim in claims.iter().rev() {
        run(&mut estate, [claim.clone()]);
    }
    // The first claim's source keeps the field: its last claim holds it.
    assert_eq!(estate.asset(VM).unwrap().location(), Some("v57"));
    let logged: Vec<&Claim> = estate.conflicts().iter().map(Conflict::claim).collect();
    // Every claim but the first lost at some point, and is logged once.
    assert_eq!(logged.len(), n - 1);
    for claim in &claims[1..] {
        assert_eq!(logged.iter().filter(|c| **c == claim).count(), 1);
    }
    // Oldest first, only the claims of the two sources that never own the
    // field are logged.
    let mut oldest_first = self::estate(ColumnAgreement::itam_default());
    for claim in &claims {
        run(&mut oldest_first, [claim.clone()]);
    }
    assert_eq!(oldest_first.conflicts().len(), 2 * n / 3);
}

/// A source that claims and retracts again and again while a higher-ranked
/// source holds the field: its claims all lose, so withdrawing them
/// decides nothing again (each retraction used to decide every earlier
/// claim again).
#[test]
fn withdrawing_claims_that_lost_decides_nothing_again() {
    let counting = Counting::new(agreement([Rule::fallback().sources(["finance"])]));
    let (finance, scanner) = (auto("finance"), auto("scanner"));
    let rounds = 40;
    let round = |field: AssetField, r: i64| {
        let at = |minutes| day(1) + TimeDelta::hours(r) + TimeDelta::minutes(minutes);
        [
            set(VM, field.clone(), &format!("f{r}"), &finance, at(0)),
            set(VM, field.clone(), &format!("s{r}"), &scanner, at(1)),
            retract(VM, field, &scanner, at(2)),
        ]
    };
    let mut estate = sample::estate();
    // In one batch.
    let report = estate
        .apply_with(
            batch((0..rounds).flat_map(|r| round(AssetField::Location, r))),
            &counting,
        )
        .unwrap();
    assert_eq!(counting.take(), 2 * usize::try_from(rounds).unwrap());
    assert_eq!(report.rejected().count(), 40);
    // One claim per batch.
    for claim in (0..rounds).flat_map(|r| round(AssetField::Owner, r)) {
        estate.apply_with(batch([claim]), &counting).unwrap();
    }
    assert_eq!(counting.take(), 2 * usize::try_from(rounds).unwrap());
    let last = format!("f{}", rounds - 1);
    assert_eq!(estate.asset(VM).unwrap().location(), Some(last.as_str()));
    assert_eq!(estate.asset(VM).unwrap().owner(), Some(last.as_str()));
    assert_eq!(estate.conflicts().len(), 80);
}

/// Retracting the holder decides again only the claims after the earliest
/// one it withdraws, from the state before it.
#[test]
fn a_retraction_decides_again_only_from_the_earliest_claim_it_withdraws() {
    let counting = Counting::new(agreement([
        Rule::fallback().sources(["finance", "discovery"])
    ]));
    let (finance, discovery) = (auto("finance"), auto("discovery"));
    let mut estate = sample::estate();
    let claims = (1..=30).map(|d| {
        set(
            VM,
            AssetField::Location,
            &format!("d{d}"),
            &discovery,
            day(d),
        )
    });
    estate.apply_with(batch(claims), &counting).unwrap();
    assert_eq!(counting.take(), 30);
    let late = [
        set(VM, AssetField::Location, "f", &finance, day(31)),
        set(VM, AssetField::Location, "d32", &discovery, day(32)),
        set(VM, AssetField::Location, "d33", &discovery, day(33)),
    ];
    estate.apply_with(batch(late), &counting).unwrap();
    assert_eq!(counting.take(), 3);
    assert_eq!(estate.conflicts().len(), 2);
    // Finance withdraws: discovery's two claims after it are decided again.
    let report = estate
        .apply_with(
            batch([retract(VM, AssetField::Location, &finance, day(34))]),
            &counting,
        )
        .unwrap();
    assert_eq!(counting.take(), 2);
    assert_eq!(report.decisions()[0].after(), Some(&Value::text("d33")));
    assert_eq!(estate.conflicts().len(), 2, "nothing lost this time");
}

/// A claim that sorts before others decides again the claims from its
/// position on, not every claim of the field.
#[test]
fn a_late_claim_decides_again_only_the_claims_after_it() {
    let counting = Counting::new(agreement([
        Rule::fallback().sources(["finance", "discovery"])
    ]));
    let (finance, discovery) = (auto("finance"), auto("discovery"));
    let mut estate = sample::estate();
    for d in 1..=30 {
        let claim = set(VM, AssetField::Owner, &format!("d{d}"), &discovery, day(d));
        estate.apply_with(batch([claim]), &counting).unwrap();
    }
    assert_eq!(counting.take(), 30);
    let late = set(
        VM,
        AssetField::Owner,
        "f",
        &finance,
        day(30) - TimeDelta::hours(1),
    );
    estate.apply_with(batch([late.clone()]), &counting).unwrap();
    assert_eq!(counting.take(), 2, "the late claim and the one after it");
    assert_eq!(estate.asset(VM).unwrap().owner(), Some("f"));
    let logged: Vec<&Claim> = estate.conflicts().iter().map(Conflict::claim).collect();
    assert_eq!(
        logged,
        [&set(VM, AssetField::Owner, "d30", &discovery, day(30))]
    );
}

// ---------------------------------------------------------------------------
// Against a reference that decides every field again from scratch
// ---------------------------------------------------------------------------

/// A provenance, built as a snapshot would hold it.
fn provenance_of(claim: &Claim, rule: &str) -> Provenance {
    serde_json::from_value(serde_json::json!({
        "source": claim.source(),
        "observed": claim.observed(),
        "rule": rule,
    }))
    .unwrap()
}

/// The reference for one field: its claims in replay order, and after each
/// claim every claim decided again from the record's value, from scratch:
/// a claim is withdrawn when its source retracts later, the others are
/// decided in order. A claim is logged the first time it is rejected.
#[derive(Debug, Clone)]
struct Reference {
    base: Option<Value>,
    claims: Vec<Claim>,
    statuses: Vec<ClaimStatus>,
    logged: Vec<bool>,
    value: Option<Value>,
    provenance: Option<Provenance>,
}

impl Reference {
    fn new(base: Option<Value>) -> Self {
        Self {
            value: base.clone(),
            base,
            claims: Vec::new(),
            statuses: Vec::new(),
            logged: Vec::new(),
            provenance: None,
        }
    }

    /// Adds `claim`: its position and the other claims to log, or `None`
    /// for a duplicate.
    fn add(&mut self, claim: &Claim, policy: &dyn FieldOwnership) -> Option<(usize, Vec<usize>)> {
        if self.claims.contains(claim) {
            return None;
        }
        let at = self.claims.partition_point(|c| precedes(c, claim));
        self.claims.insert(at, claim.clone());
        self.logged.insert(at, false);
        let retraction = |c: &Claim| matches!(c.update(), Update::Retract);
        let (mut value, mut provenance) = (self.base.clone(), None);
        self.statuses.clear();
        for (i, c) in self.claims.iter().enumerate() {
            let withdrawn = self.claims[i + 1..]
                .iter()
                .any(|later| retraction(later) && later.source() == c.source());
            let status = if retraction(c) {
                ClaimStatus::Retraction
            } else if withdrawn {
                ClaimStatus::Withdrawn
            } else {
                let current = Current {
                    value: value.as_ref(),
                    provenance: provenance.as_ref(),
                };
                let verdict = policy.decide(c.field(), current, c);
                if verdict.accepted() {
                    value = match c.update() {
                        Update::Set(v) => Some(v.clone()),
                        _ => None,
                    };
                    provenance = Some(provenance_of(c, verdict.rule()));
                    ClaimStatus::Accepted(verdict)
                } else {
                    ClaimStatus::Rejected(verdict)
                }
            };
            self.statuses.push(status);
        }
        self.value = value;
        self.provenance = provenance;
        let mut again = Vec::new();
        for (i, status) in self.statuses.iter().enumerate() {
            if matches!(status, ClaimStatus::Rejected(_)) && !self.logged[i] {
                self.logged[i] = true;
                if i != at {
                    again.push(i);
                }
            }
        }
        Some((at, again))
    }

    /// The claim that holds the value: the last accepted one.
    fn holder(&self) -> Option<&Claim> {
        let at = self
            .statuses
            .iter()
            .rposition(|s| matches!(s, ClaimStatus::Accepted(_)))?;
        Some(&self.claims[at])
    }
}

/// Replay order, as the crate documents it: observed instant, source, the
/// kind of update and its value's type, the value's text, and an ordinary
/// claim before a reactivation.
fn precedes(a: &Claim, b: &Claim) -> bool {
    let key = |c: &Claim| {
        let (kind, kind_of) = match c.update() {
            // (An attribute's own type, in the crate: one field's values
            // here are all of one type.)
            Update::Set(v) => (0, v.value_type().name().to_owned()),
            Update::Clear => (1, String::new()),
            Update::Retract => (2, String::new()),
        };
        (
            c.observed(),
            c.source().clone(),
            kind,
            kind_of,
            c.update().to_string(),
            c.is_reactivation(),
        )
    };
    key(a) < key(b)
}

/// A decision: position, claim, outcome, value before and after.
type Decided = (usize, Claim, Outcome, Option<Value>, Option<Value>);

/// A conflict: claim, reason, rule and the value kept.
type Logged = (Claim, Reason, String, Option<Value>);

/// A journal entry: resource, field, old and new value, source and rule.
type Journalled = (
    ResourceId,
    Field,
    Option<Value>,
    Option<Value>,
    Source,
    String,
);

/// What the reference expects of one batch: its decisions, the conflicts
/// and journal entries it appends, or the error.
struct Expected {
    decisions: Vec<Decided>,
    conflicts: Vec<Logged>,
    journal: Vec<Journalled>,
}

/// Decides `claims` as one batch on `fields` (rolled back on error), with
/// the lifecycle check of the write path.
fn expect_batch(
    fields: &mut std::collections::BTreeMap<(String, String), (Field, Reference)>,
    initial: &Estate,
    claims: &[Claim],
    policy: &ColumnAgreement,
) -> Result<Expected, Error> {
    let saved = fields.clone();
    let mut expected = Expected {
        decisions: Vec::new(),
        conflicts: Vec::new(),
        journal: Vec::new(),
    };
    let mut problems = Vec::new();
    for (at, claim) in claims.iter().enumerate() {
        let key = (claim.resource().to_string(), claim.field().to_string());
        let (_, reference) = fields.entry(key).or_insert_with(|| {
            let base = initial.explain(claim.resource(), claim.field()).unwrap();
            (claim.field().clone(), Reference::new(base.value().cloned()))
        });
        let before = reference.value.clone();
        let undo = reference.clone();
        let added = reference.add(claim, policy);
        if let (Some(Value::Lifecycle(from)), Some(Value::Lifecycle(to))) =
            (&before, &reference.value)
        {
            if from != to {
                let moved = if reference.holder().is_some_and(Claim::is_reactivation) {
                    from.check_reactivation(*to, claim.resource())
                } else {
                    from.check_transition(*to, claim.resource())
                };
                if let Err(e) = moved {
                    *reference = undo;
                    problems.push((at, e));
                    continue;
                }
            }
        }
        let outcome = match added {
            None => Outcome::Duplicate,
            Some((position, again)) => {
                let kept = &reference.value;
                for j in again {
                    if let ClaimStatus::Rejected(v) = &reference.statuses[j] {
                        expected.conflicts.push((
                            reference.claims[j].clone(),
                            v.reason().clone(),
                            v.rule().to_owned(),
                            kept.clone(),
                        ));
                    }
                }
                match &reference.statuses[position] {
                    ClaimStatus::Accepted(v) => Outcome::Accepted {
                        reason: v.reason().clone(),
                        rule: v.rule().into(),
                    },
                    ClaimStatus::Rejected(v) => {
                        expected.conflicts.push((
                            claim.clone(),
                            v.reason().clone(),
                            v.rule().to_owned(),
                            kept.clone(),
                        ));
                        Outcome::Rejected {
                            reason: v.reason().clone(),
                            rule: v.rule().into(),
                        }
                    }
                    _ => Outcome::Retracted,
                }
            }
        };
        let after = reference.value.clone();
        if after != before {
            let (source, rule) = match &reference.provenance {
                Some(p) => (p.source().clone(), p.rule().to_owned()),
                None => (claim.source().clone(), "retraction".to_owned()),
            };
            expected.journal.push((
                claim.resource().clone(),
                claim.field().clone(),
                before.clone(),
                after.clone(),
                source,
                rule,
            ));
        }
        expected
            .decisions
            .push((at, claim.clone(), outcome, before, after));
    }
    match problems.len() {
        0 => Ok(expected),
        n => {
            *fields = saved;
            Err(if n == 1 {
                problems.swap_remove(0).1
            } else {
                Error::Batch { problems }
            })
        }
    }
}

/// A claim on the owner or location of the laptop, the VM's `os`
/// attribute, or the laptop's lifecycle (a state or a reactivation): sets,
/// clears and retractions by the generator's sources, in the first four
/// days (instants often tie, claims sometimes repeat).
fn mixed_claim() -> impl Strategy<Value = Claim> {
    let states = [
        Lifecycle::InUse,
        Lifecycle::InStock,
        Lifecycle::InMaintenance,
        Lifecycle::Retired(RetirementReason::Decommissioned),
        Lifecycle::Retired(RetirementReason::Disposed),
    ];
    (0..4usize, 0..SOURCES.len(), 0..8usize, 0..96i64).prop_map(
        move |(target, who, update, hour)| {
            let by = source(who);
            let at = day(1) + TimeDelta::hours(hour);
            if target == 3 {
                let laptop = id(LAPTOP);
                return match update {
                    0..5 => Claim::set(
                        laptop,
                        AssetField::Lifecycle,
                        Value::Lifecycle(states[update]),
                        by,
                        at,
                    ),
                    5 => Claim::reactivate(laptop, by, at),
                    _ => Claim::new(laptop, AssetField::Lifecycle, Update::Retract, by, at),
                };
            }
            let (resource, field): (&str, Field) = match target {
                0 => (LAPTOP, AssetField::Owner.into()),
                1 => (LAPTOP, AssetField::Location.into()),
                _ => (VM, os().into()),
            };
            match update {
                0..5 => set(resource, field, VALUES[update % VALUES.len()], &by, at),
                5 => clear(resource, field, &by, at),
                _ => retract(resource, field, &by, at),
            }
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Claims in random batches, retractions and reactivations included:
    /// every batch gives exactly the report, conflicts, journal entries,
    /// explanations and errors of a reference that decides each field
    /// again from scratch after every claim, `plan` equals `apply`, and the
    /// conflict log never grows longer than the claims received.
    #[test]
    fn staging_matches_deciding_every_field_again_from_scratch(
        agreement in agreement_strategy(),
        batches in prop::collection::vec(prop::collection::vec(mixed_claim(), 1..10), 1..10),
    ) {
        let initial = estate(agreement.clone());
        let mut estate = initial.clone();
        let mut fields = std::collections::BTreeMap::new();
        let mut received = 0;
        let mut applied = false;
        for claims in &batches {
            let expected = expect_batch(&mut fields, &initial, claims, &agreement);
            let before = estate.clone();
            let (journal, conflicts) = (estate.journal().len(), estate.conflicts().len());
            let plan = estate.plan(&batch(claims.iter().cloned()));
            let report = estate.apply(batch(claims.iter().cloned()));
            prop_assert_eq!(&plan, &report);
            let (report, expected) = match (report, expected) {
                (Ok(report), Ok(expected)) => (report, expected),
                (Err(got), Err(want)) => {
                    prop_assert_eq!(got, want);
                    prop_assert_eq!(&estate, &before);
                    continue;
                }
                (got, want) => {
                    let want = want.map(|e| e.decisions);
                    return Err(TestCaseError::fail(format!("got {got:?}, want {want:?}")));
                }
            };
            received += claims.len();
            applied = true;
            let decisions: Vec<_> = report
                .decisions()
                .iter()
                .map(|d| {
                    (
                        d.position(),
                        d.claim().clone(),
                        d.outcome().clone(),
                        d.before().cloned(),
                        d.after().cloned(),
                    )
                })
                .collect();
            prop_assert_eq!(decisions, expected.decisions);
            let logged: Vec<_> = estate.conflicts()[conflicts..]
                .iter()
                .map(|c| (c.claim().clone(), c.reason().clone(), c.rule().to_owned(), c.kept().cloned()))
                .collect();
            prop_assert_eq!(logged, expected.conflicts);
            let journalled: Vec<_> = estate.journal()[journal..]
                .iter()
                .map(|e| {
                    (
                        e.resource().clone(),
                        e.field().clone(),
                        e.old().cloned(),
                        e.new_value().cloned(),
                        e.source().clone(),
                        e.rule().to_owned(),
                    )
                })
                .collect();
            prop_assert_eq!(journalled, expected.journal);
            for (field, reference) in fields.values() {
                let resource = reference.claims[0].resource();
                let why = estate.explain(resource, field).unwrap();
                prop_assert_eq!(why.value(), reference.value.as_ref());
                prop_assert_eq!(why.provenance(), reference.provenance.as_ref());
                let claims: Vec<(Claim, ClaimStatus)> = reference
                    .claims
                    .iter()
                    .cloned()
                    .zip(reference.statuses.iter().cloned())
                    .collect();
                prop_assert_eq!(why.claims(), &claims[..]);
            }
            prop_assert!(estate.conflicts().len() <= received);
        }
        // (A snapshot of an estate without claims drops its agreement.)
        if applied {
            let json = serde_json::to_string(&estate).unwrap();
            let back: Estate = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, estate);
        }
    }
}
