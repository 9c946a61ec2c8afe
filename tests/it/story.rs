//! The sample estate's story, answered by hand.

use itam_cmdb::{ImpactQuery, ImpactState, OperationalStatus, Region, ResourceId, sample};

use crate::util::id;

/// `(id, state, distance)` of every item of a blast radius, in order.
fn blast(query: impl Into<ImpactQuery>) -> Vec<(String, ImpactState, u32)> {
    let estate = sample::estate();
    let impact = estate.cmdb().blast_radius(query).unwrap();
    impact
        .iter()
        .map(|item| (item.id().to_string(), item.state(), item.distance()))
        .collect()
}

fn row(id: &str, state: ImpactState, distance: u32) -> (String, ImpactState, u32) {
    (id.to_owned(), state, distance)
}

#[test]
fn patching_the_payments_database() {
    use ImpactState::Down;
    assert_eq!(
        blast(id(sample::PAYMENTS_DB)),
        [
            row(sample::PAYMENT_API, Down, 1),
            row(sample::PAYMENT_LB, Down, 2),
            row(sample::PAYMENT_SERVICE, Down, 3),
            row(sample::CHECKOUT_EU_WEST_2, Down, 4),
            row(sample::CHECKOUT_EU_WEST_1, Down, 4),
            row(sample::CHECKOUT_POOL, Down, 5),
            row(sample::CHECKOUT_SERVICE, Down, 6),
        ]
    );
}

#[test]
fn every_path_explains_its_item() {
    let estate = sample::estate();
    let impact = estate.cmdb().blast_radius(id(sample::PAYMENTS_DB)).unwrap();
    let pool = impact.get(sample::CHECKOUT_POOL).unwrap();
    assert_eq!(
        pool.path().to_string(),
        "db-payments <-[depends on]- app-payment-api <-[depends on]- lb-pay-euw2 \
         <-[depends on]- svc-payments <-[uses]- app-checkout-euw1 -[member of]-> pool-checkout"
    );
    assert_eq!(pool.path().hops(), 5);
    assert_eq!(
        pool.group().unwrap().to_string(),
        "2 of 2 members down; needs 1 up, short by 1"
    );
}

#[test]
fn one_checkout_vm_only_degrades_checkout() {
    use ImpactState::{Degraded, Down};
    assert_eq!(
        blast(id("vm-chk-euw1-01")),
        [
            row(sample::CHECKOUT_EU_WEST_1, Down, 1),
            row(sample::CHECKOUT_POOL, Degraded, 2),
            row(sample::CHECKOUT_SERVICE, Degraded, 3),
        ]
    );
    let estate = sample::estate();
    let impact = estate.cmdb().blast_radius(id("vm-chk-euw1-01")).unwrap();
    let group = impact.get(sample::CHECKOUT_POOL).unwrap().group().unwrap();
    assert_eq!((group.members(), group.down(), group.needed()), (2, 1, 1));
    assert!(group.holds());
    assert_eq!(group.to_string(), "1 of 2 members down; needs 1 up, 1 up");
}

#[test]
fn eu_west_2_failing_takes_checkout_down_through_payments() {
    let estate = sample::estate();
    let failed: Vec<ResourceId> = estate
        .cmdb()
        .iter()
        .filter(|ci| ci.region().is_some_and(|r| r.as_str() == "eu-west-2"))
        .filter(|ci| ci.status() != OperationalStatus::Retired)
        .map(|ci| ci.id().clone())
        .collect();
    assert_eq!(failed.len(), 16);
    let impact = estate
        .cmdb()
        .blast_radius(ImpactQuery::scenario(failed))
        .unwrap();
    let outcome: Vec<_> = impact
        .iter()
        .map(|item| (item.id().as_str(), item.state(), item.distance()))
        .collect();
    assert_eq!(
        outcome,
        [
            (sample::CHECKOUT_EU_WEST_1, ImpactState::Down, 1),
            (sample::CHECKOUT_POOL, ImpactState::Down, 2),
            (sample::CHECKOUT_SERVICE, ImpactState::Down, 3),
        ]
    );
}

#[test]
fn recovery_brings_dependencies_back_first_and_cycles_together() {
    let estate = sample::estate();
    let impact = estate.cmdb().blast_radius(id(sample::DNS)).unwrap();
    let plan = impact.recovery_order();
    let steps: Vec<(u32, Vec<&str>)> = plan
        .steps()
        .iter()
        .map(|step| {
            (
                step.wave(),
                step.items().iter().map(|id| id.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            (0, vec![sample::DNS, sample::AUTH]),
            (1, vec![sample::PAYMENT_API]),
            (2, vec![sample::PAYMENT_LB]),
            (3, vec![sample::PAYMENT_SERVICE]),
            // The checkout applications use payments as well as auth.
            (4, vec![sample::CHECKOUT_EU_WEST_2]),
            (4, vec![sample::CHECKOUT_EU_WEST_1]),
            (5, vec![sample::CHECKOUT_POOL]),
            (6, vec![sample::CHECKOUT_SERVICE]),
        ]
    );
    assert_eq!(plan.cycles().count(), 1);
    assert_eq!(plan.waves(), 7);
}

#[test]
fn dependencies_are_root_cause_candidates_nearest_first() {
    let estate = sample::estate();
    let needs = estate
        .cmdb()
        .dependencies(id(sample::PAYMENT_SERVICE))
        .unwrap();
    let first: Vec<_> = needs
        .iter()
        .take(3)
        .map(|item| (item.id().as_str(), item.distance()))
        .collect();
    assert_eq!(
        first,
        [
            (sample::PAYMENT_LB, 1),
            (sample::PAYMENT_API, 2),
            (sample::PAYMENT_VM, 3)
        ]
    );
    assert!(
        needs
            .iter()
            .all(|item| item.state() == ImpactState::Required)
    );
    // payments -> lb -> api -> db -> vm-db-01 -> hv-lon-01 -> storage.
    assert_eq!(needs.get(sample::STORAGE_ARRAY).unwrap().distance(), 6);
    let distances: Vec<u32> = needs.iter().map(|item| item.distance()).collect();
    assert!(distances.is_sorted());

    let checkout = estate
        .cmdb()
        .dependencies(id(sample::CHECKOUT_SERVICE))
        .unwrap();
    assert_eq!(
        checkout.get(sample::CHECKOUT_POOL).unwrap().state(),
        ImpactState::Required
    );
    assert_eq!(
        checkout.get(sample::PAYMENT_SERVICE).unwrap().state(),
        ImpactState::BehindGroup
    );
}

#[test]
fn options_scope_and_cut_the_walk() {
    let estate = sample::estate();
    let cmdb = estate.cmdb();
    let scoped =
        ImpactQuery::new(id(sample::PAYMENTS_DB)).region(Region::new("eu-west-1").unwrap());
    let ids: Vec<_> = cmdb
        .blast_radius(&scoped)
        .unwrap()
        .iter()
        .map(|item| item.id().to_string())
        .collect();
    assert_eq!(ids, [sample::CHECKOUT_EU_WEST_1]);

    let shallow = ImpactQuery::new(id(sample::PAYMENTS_DB)).max_depth(2);
    assert_eq!(cmdb.blast_radius(&shallow).unwrap().len(), 2);

    let stopped = ImpactQuery::new(id(sample::PAYMENTS_DB)).stop_at(id(sample::PAYMENT_LB));
    assert_eq!(cmdb.blast_radius(&stopped).unwrap().len(), 1);

    let reach = cmdb.reachable(id(sample::PAYMENTS_DB)).unwrap();
    assert_eq!(reach.len(), 7);
    assert!(reach.contains(sample::CHECKOUT_SERVICE));
}

#[test]
fn the_estate_has_one_cycle() {
    let estate = sample::estate();
    let cycles = estate.cmdb().cycles();
    assert_eq!(cycles.len(), 1);
    let names: Vec<&str> = cycles[0].iter().map(|id| id.as_str()).collect();
    assert_eq!(names, [sample::DNS, sample::AUTH]);
}

#[test]
fn exports_are_readable_text() {
    let estate = sample::estate();
    let impact = estate.cmdb().blast_radius(id("vm-chk-euw1-01")).unwrap();
    insta::assert_snapshot!(impact.to_mermaid(), @r#"
    flowchart BT
      n0["vm-chk-euw1-01<br/>failed"]:::failed
      n1["checkout (eu-west-1)<br/>app-checkout-euw1<br/>down"]:::down
      n2["checkout (both regions)<br/>pool-checkout<br/>degraded"]:::degraded
      n3["Checkout<br/>svc-checkout<br/>degraded"]:::degraded
      n1 -->|"runs on"| n0
      n1 -->|"member of"| n2
      n3 -->|"depends on"| n2
      classDef failed fill:#e06666
      classDef down fill:#f4b183
      classDef degraded fill:#ffe599
    "#);
    let dot = impact.to_dot();
    assert!(dot.contains("n1 -> n0 [label=\"runs on\"];"), "{dot}");
    assert!(dot.contains("degraded"));
    let plan = impact.recovery_order();
    assert!(plan.to_mermaid().starts_with("flowchart BT\n"));
    assert!(plan.to_dot().contains("wave 1"));
}

#[test]
fn unknown_roots_are_named() {
    let estate = sample::estate();
    let err = estate.cmdb().blast_radius(id("nope")).unwrap_err();
    assert_eq!(err.to_string(), "unknown configuration item `nope`");
    let err = estate
        .cmdb()
        .dependencies(ImpactQuery::new(id(sample::DNS)).stop_at(id("ghost")))
        .unwrap_err();
    assert_eq!(err.to_string(), "unknown configuration item `ghost`");
}
