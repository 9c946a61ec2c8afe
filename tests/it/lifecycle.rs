//! Lifecycle transitions through the estate's write path: every change of an
//! asset's lifecycle is checked against the transition table, reactivation
//! is explicit, and every move is journalled.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use itam_cmdb::ownership::{AssetField, Claim, Field, Source, Update, Value};
use itam_cmdb::{
    Batch, Error, Estate, Lifecycle, MissingReason, ResourceId, RetirementReason, sample,
};
use proptest::prelude::*;

use crate::util::id;

const LAPTOP: &str = sample::STOCK_LAPTOP;
const VM: &str = sample::DECOMMISSIONED_VM;

fn day(n: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap() + TimeDelta::days(n - 1)
}

fn it_desk() -> Source {
    Source::automated("it-desk").unwrap()
}

fn move_to(resource: &str, state: Lifecycle, at: DateTime<Utc>) -> Claim {
    Claim::set(
        id(resource),
        AssetField::Lifecycle,
        Value::Lifecycle(state),
        it_desk(),
        at,
    )
}

fn apply(estate: &mut Estate, claims: impl IntoIterator<Item = Claim>) -> Result<(), Error> {
    let mut batch = Batch::new();
    for claim in claims {
        batch.claim(claim);
    }
    estate.apply(batch).map(drop)
}

fn lifecycle(estate: &Estate, resource: &str) -> Lifecycle {
    estate.asset(resource).unwrap().lifecycle()
}

/// The lifecycle moves the journal recorded for `resource`, as text.
fn moves(estate: &Estate, resource: &str) -> Vec<String> {
    estate
        .journal()
        .iter()
        .filter(|e| {
            e.resource().as_str() == resource && e.field() == &Field::Asset(AssetField::Lifecycle)
        })
        .map(|e| format!("{} -> {}", e.old().unwrap(), e.new_value().unwrap()))
        .collect()
}

const DECOMMISSIONED: Lifecycle = Lifecycle::Retired(RetirementReason::Decommissioned);
const DISPOSED: Lifecycle = Lifecycle::Retired(RetirementReason::Disposed);

#[test]
fn an_asset_moves_through_its_life_and_every_move_is_journalled() {
    let mut estate = sample::estate();
    assert_eq!(lifecycle(&estate, LAPTOP), Lifecycle::InStock);
    let path = [
        Lifecycle::InUse,
        Lifecycle::InMaintenance,
        Lifecycle::InStock,
        Lifecycle::InTransit,
        Lifecycle::Missing(MissingReason::Lost),
        Lifecycle::InStock,
        DECOMMISSIONED,
        DISPOSED,
    ];
    // One batch per move, then the same moves in one batch on a fresh copy.
    let mut one_by_one = estate.clone();
    for (n, state) in (1..).zip(path) {
        apply(&mut one_by_one, [move_to(LAPTOP, state, day(n))]).unwrap();
        assert_eq!(lifecycle(&one_by_one, LAPTOP), state);
    }
    apply(
        &mut estate,
        (1..).zip(path).map(|(n, s)| move_to(LAPTOP, s, day(n))),
    )
    .unwrap();
    for estate in [&estate, &one_by_one] {
        assert_eq!(
            moves(estate, LAPTOP),
            [
                "in stock -> in use",
                "in use -> in maintenance",
                "in maintenance -> in stock",
                "in stock -> in transit",
                "in transit -> missing (lost)",
                "missing (lost) -> in stock",
                "in stock -> retired (decommissioned)",
                "retired (decommissioned) -> retired (disposed)",
            ]
        );
    }
    let last = estate.journal().last().unwrap();
    assert_eq!(last.source(), &it_desk());
    assert_eq!(last.observed(), day(8));
}

#[test]
fn an_invalid_transition_is_refused_naming_both_states_and_changing_nothing() {
    let mut estate = sample::estate();
    let before = estate.clone();
    let owner = Claim::set(
        id(LAPTOP),
        AssetField::Owner,
        Value::text("Alice"),
        it_desk(),
        day(1),
    );
    let mut batch = Batch::new();
    batch
        .claim(owner)
        .claim(move_to(LAPTOP, Lifecycle::OnOrder, day(1)));
    let planned = estate.plan(&batch);
    let err = estate.apply(batch).unwrap_err();
    assert_eq!(planned.unwrap_err(), err, "plan and apply agree");
    assert_eq!(
        err.to_string(),
        "invalid lifecycle transition of `SN-5CG1234XYZ` from in stock to on order"
    );
    assert_eq!(
        err,
        Error::InvalidTransition {
            id: id(LAPTOP),
            from: Lifecycle::InStock,
            to: Lifecycle::OnOrder
        }
    );
    assert_eq!(estate, before, "the whole batch is refused");
}

#[test]
fn every_problem_of_a_batch_is_listed_and_later_claims_see_the_refused_one_undone() {
    let mut estate = sample::estate();
    let err = apply(
        &mut estate,
        [
            move_to(LAPTOP, Lifecycle::Planned, day(1)),
            // Decided against in stock, not against the refused planned.
            move_to(LAPTOP, Lifecycle::InUse, day(2)),
            move_to(VM, Lifecycle::InTransit, day(1)),
        ],
    )
    .unwrap_err();
    let Error::Batch { problems } = err else {
        panic!("two problems: {err}");
    };
    let listed: Vec<(usize, String)> = problems
        .iter()
        .map(|(at, e)| (*at, e.to_string()))
        .collect();
    assert_eq!(
        listed,
        [
            (
                0,
                "invalid lifecycle transition of `SN-5CG1234XYZ` from in stock to planned"
                    .to_owned()
            ),
            (
                2,
                "invalid lifecycle transition of `vm-rpt-01` from in use to in transit".to_owned()
            ),
        ]
    );
}

/// A refused retraction is undone, claims it withdrew and all, on a field
/// whose claims came in earlier batches: the next claim of the batch is
/// decided as if it had never come.
#[test]
fn a_refused_retraction_is_undone_and_later_claims_see_it_undone() {
    let mut estate = sample::estate();
    let history = [
        Lifecycle::InUse,
        Lifecycle::InMaintenance,
        Lifecycle::InUse,
        DECOMMISSIONED,
    ];
    for (n, state) in (1..).zip(history) {
        apply(&mut estate, [move_to(LAPTOP, state, day(n))]).unwrap();
    }
    let before = estate.clone();
    let retract = Claim::new(
        id(LAPTOP),
        AssetField::Lifecycle,
        Update::Retract,
        it_desk(),
        day(5),
    );
    // Withdrawing every move would take the laptop back to in stock.
    let err = apply(
        &mut estate,
        [retract, move_to(LAPTOP, Lifecycle::InUse, day(6))],
    )
    .unwrap_err();
    let Error::Batch { problems } = err else {
        panic!("two problems: {err}");
    };
    let listed: Vec<(usize, String)> = problems
        .iter()
        .map(|(at, e)| (*at, e.to_string()))
        .collect();
    let refused = |to: &str| {
        format!(
            "invalid lifecycle transition of `SN-5CG1234XYZ` from retired (decommissioned) to {to}"
        )
    };
    assert_eq!(
        listed,
        [(0, refused("in stock")), (1, refused("in use"))],
        "the second move is decided against the decommissioned laptop"
    );
    assert_eq!(estate, before);
    // Reactivated, the laptop may go back to stock when the moves are
    // withdrawn.
    apply(
        &mut estate,
        [Claim::reactivate(id(LAPTOP), it_desk(), day(6))],
    )
    .unwrap();
    let retract_all = Claim::new(
        id(LAPTOP),
        AssetField::Lifecycle,
        Update::Retract,
        it_desk(),
        day(7),
    );
    apply(&mut estate, [retract_all]).unwrap();
    assert_eq!(lifecycle(&estate, LAPTOP), Lifecycle::InStock);
    assert_eq!(
        moves(&estate, LAPTOP),
        [
            "in stock -> in use",
            "in use -> in maintenance",
            "in maintenance -> in use",
            "in use -> retired (decommissioned)",
            "retired (decommissioned) -> in use",
            "in use -> in stock",
        ]
    );
}

/// A refused claim that arrives late (observed before claims already
/// decided) is undone too.
#[test]
fn a_refused_late_claim_is_undone() {
    let mut estate = sample::estate();
    apply(&mut estate, [move_to(LAPTOP, Lifecycle::InUse, day(1))]).unwrap();
    apply(
        &mut estate,
        [move_to(LAPTOP, Lifecycle::InMaintenance, day(3))],
    )
    .unwrap();
    let before = estate.clone();
    let person = |name: &str, state: Lifecycle, at: DateTime<Utc>| {
        let who = Source::person(name).unwrap();
        Claim::set(
            id(LAPTOP),
            AssetField::Lifecycle,
            Value::Lifecycle(state),
            who,
            at,
        )
    };
    // Alice's edit outranks the desk's later move, which would take the
    // laptop from in maintenance back to planned. Bob's edit is decided
    // against in maintenance (from planned, missing is refused too).
    let err = apply(
        &mut estate,
        [
            person("alice", Lifecycle::Planned, day(2)),
            person("bob", Lifecycle::Missing(MissingReason::Lost), day(4)),
        ],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid lifecycle transition of `SN-5CG1234XYZ` from in maintenance to planned"
    );
    assert_eq!(estate, before);
}

#[test]
fn a_disposed_asset_never_returns() {
    let mut estate = sample::estate();
    apply(&mut estate, [move_to(LAPTOP, DISPOSED, day(1))]).unwrap();
    let frozen = estate.clone();
    for claim in [
        move_to(LAPTOP, Lifecycle::InStock, day(2)),
        move_to(LAPTOP, Lifecycle::Missing(MissingReason::Stolen), day(2)),
        move_to(LAPTOP, DECOMMISSIONED, day(2)),
        Claim::reactivate(id(LAPTOP), it_desk(), day(2)),
    ] {
        let err = apply(&mut estate, [claim]).unwrap_err();
        assert!(
            matches!(err, Error::InvalidTransition { from: DISPOSED, .. }),
            "{err}"
        );
        assert_eq!(estate, frozen);
    }
    // Not even by withdrawing the claim that disposed of it.
    let retract = Claim::new(
        id(LAPTOP),
        AssetField::Lifecycle,
        Update::Retract,
        it_desk(),
        day(3),
    );
    let err = apply(&mut estate, [retract]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid lifecycle transition of `SN-5CG1234XYZ` from retired (disposed) to in stock"
    );
    // Saying it again changes nothing and is fine.
    apply(&mut estate, [move_to(LAPTOP, DISPOSED, day(4))]).unwrap();
    assert_eq!(lifecycle(&estate, LAPTOP), DISPOSED);
}

#[test]
fn reactivation_is_explicit() {
    let mut estate = sample::estate();
    // Reactivating an asset already in use moves nothing: nothing to check.
    let done = apply(&mut estate, [Claim::reactivate(id(VM), it_desk(), day(1))]);
    assert_eq!(done, Ok(()));
    let err = apply(
        &mut estate,
        [
            move_to(VM, Lifecycle::InStock, day(2)),
            Claim::reactivate(id(VM), it_desk(), day(3)),
        ],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid lifecycle transition of `vm-rpt-01` from in stock to in use",
        "stock to use is a plain move, not a reactivation"
    );

    apply(&mut estate, [move_to(VM, DECOMMISSIONED, day(4))]).unwrap();
    let err = apply(&mut estate, [move_to(VM, Lifecycle::InUse, day(5))]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid lifecycle transition of `vm-rpt-01` from retired (decommissioned) to in use"
    );
    let reactivation = Claim::reactivate(id(VM), it_desk(), day(5));
    assert!(reactivation.is_reactivation());
    apply(&mut estate, [reactivation.clone()]).unwrap();
    assert_eq!(lifecycle(&estate, VM), Lifecycle::InUse);
    assert_eq!(
        moves(&estate, VM),
        [
            "in use -> retired (decommissioned)",
            "retired (decommissioned) -> in use"
        ]
    );
    let why = estate
        .explain(&id(VM), &AssetField::Lifecycle.into())
        .unwrap();
    assert_eq!(why.claims().last().unwrap().0, reactivation);

    // The flag survives a snapshot, and only marks reactivations.
    let json = serde_json::to_value(&estate).unwrap();
    assert_eq!(
        serde_json::from_value::<Estate>(json.clone()).unwrap(),
        estate
    );
    let text = json.to_string();
    assert_eq!(text.matches(r#""reactivation":true"#).count(), 2, "{text}");
    let claim = serde_json::to_value(&reactivation).unwrap();
    let mut bent = claim.clone();
    bent["field"] = "asset.owner".into();
    bent["update"] = serde_json::json!({"set": {"text": "x"}});
    let bent: Claim = serde_json::from_value(bent).unwrap();
    let err = apply(&mut estate, [bent]).unwrap_err();
    assert!(
        err.to_string()
            .contains("a reactivation sets the lifecycle to in use"),
        "{err}"
    );
    let mut plain = claim;
    plain.as_object_mut().unwrap().remove("reactivation");
    assert!(
        !serde_json::from_value::<Claim>(plain)
            .unwrap()
            .is_reactivation()
    );
}

#[test]
fn a_late_claim_is_checked_by_the_move_the_record_makes() {
    let mut estate = sample::estate();
    apply(&mut estate, [move_to(LAPTOP, Lifecycle::InUse, day(5))]).unwrap();
    // Observed earlier, arriving later: the record stays in use (the later
    // claim still holds), so nothing moves and nothing is refused.
    apply(
        &mut estate,
        [move_to(LAPTOP, Lifecycle::InMaintenance, day(3))],
    )
    .unwrap();
    assert_eq!(lifecycle(&estate, LAPTOP), Lifecycle::InUse);
    assert_eq!(moves(&estate, LAPTOP), ["in stock -> in use"]);
}

fn state() -> impl Strategy<Value = Lifecycle> {
    use Lifecycle as L;
    prop_oneof![
        Just(L::Planned),
        Just(L::OnOrder),
        Just(L::InStock),
        Just(L::InTransit),
        Just(L::InUse),
        Just(L::InMaintenance),
        Just(L::ScheduledForRetirement),
        Just(L::Missing(MissingReason::Lost)),
        Just(L::Missing(MissingReason::Stolen)),
        Just(DECOMMISSIONED),
        Just(DISPOSED),
        Just(L::Retired(RetirementReason::Sold)),
    ]
}

#[derive(Debug, Clone)]
enum Step {
    Move(Lifecycle, bool),
    Reactivate(bool),
    Retract(bool),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (state(), any::<bool>()).prop_map(|(s, p)| Step::Move(s, p)),
        1 => any::<bool>().prop_map(Step::Reactivate),
        1 => any::<bool>().prop_map(Step::Retract),
    ]
}

fn source(person: bool) -> Source {
    if person {
        Source::person("alice").unwrap()
    } else {
        it_desk()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Whatever claims arrive, the record only ever makes moves the table
    /// (or an explicit reactivation) allows, a refused batch changes
    /// nothing, and the journal's last move gives the record's state.
    #[test]
    fn the_record_only_makes_allowed_moves(
        steps in prop::collection::vec((step(), 0..48i64), 1..24),
    ) {
        let mut estate = sample::estate();
        let resource: ResourceId = id(LAPTOP);
        for (step, hour) in steps {
            let at = day(1) + TimeDelta::hours(hour);
            let claim = match step {
                Step::Move(s, p) => Claim::set(
                    resource.clone(), AssetField::Lifecycle, Value::Lifecycle(s), source(p), at,
                ),
                Step::Reactivate(p) => Claim::reactivate(resource.clone(), source(p), at),
                Step::Retract(p) => Claim::new(
                    resource.clone(), AssetField::Lifecycle, Update::Retract, source(p), at,
                ),
            };
            let before = estate.clone();
            match apply(&mut estate, [claim]) {
                Ok(()) => {}
                Err(Error::InvalidTransition { id, from, .. }) => {
                    prop_assert_eq!(id, resource.clone());
                    prop_assert_eq!(from, lifecycle(&before, LAPTOP));
                    prop_assert_eq!(&estate, &before);
                }
                Err(other) => prop_assert!(false, "unexpected error: {}", other),
            }
        }
        let mut current = Lifecycle::InStock;
        for entry in estate.journal() {
            let (Some(Value::Lifecycle(from)), Some(Value::Lifecycle(to))) =
                (entry.old(), entry.new_value())
            else {
                continue;
            };
            prop_assert_eq!(*from, current);
            prop_assert!(
                from.can_transition_to(*to) || from.can_reactivate_to(*to),
                "{} -> {}", from, to
            );
            current = *to;
        }
        prop_assert_eq!(lifecycle(&estate, LAPTOP), current);
        let json = serde_json::to_string(&estate).unwrap();
        prop_assert_eq!(serde_json::from_str::<Estate>(&json).unwrap(), estate);
    }
}
