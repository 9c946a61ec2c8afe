//! Impact analysis from the estate as recorded, and the operations
//! questions (issue 12): members already down, recovery plans that follow
//! the answer's filters, region scoping and region failure, single points
//! of failure and what differs between two items' dependencies.

use itam_cmdb::{
    CiClass, ConfigurationItem, Estate, ImpactQuery, ImpactState, OperationalStatus, Quorum,
    RelationKind,
};

use crate::util::id;

fn item(name: &str, status: OperationalStatus) -> ConfigurationItem {
    ConfigurationItem::builder(id(name), name, CiClass::Server)
        .status(status)
        .build()
        .unwrap()
}

/// Site `site` depends on pool `web`, which needs 1 of {`web-a`, `web-b`};
/// each member runs on its own host.
fn pool(b_status: OperationalStatus) -> Estate {
    let mut estate = Estate::new();
    for (name, status) in [
        ("site", OperationalStatus::Operational),
        ("web", OperationalStatus::Operational),
        ("web-a", OperationalStatus::Operational),
        ("web-b", b_status),
        ("host-a", OperationalStatus::Operational),
        ("host-b", OperationalStatus::Operational),
    ] {
        estate.insert_ci(item(name, status)).unwrap();
    }
    estate
        .relate(&id("site"), RelationKind::DependsOn, &id("web"))
        .unwrap();
    estate
        .relate(&id("web-a"), RelationKind::RunsOn, &id("host-a"))
        .unwrap();
    estate
        .relate(&id("web-b"), RelationKind::RunsOn, &id("host-b"))
        .unwrap();
    estate
        .define_group(&id("web"), Quorum::AtLeast(1), [id("web-a"), id("web-b")])
        .unwrap();
    estate
}

/// The bug: `web-b` is recorded non-operational, so `web-a` is the
/// pool's only serving member and its failure takes the pool and the site
/// down (it used to say "degraded: 1 of 2 members down").
#[test]
fn a_member_recorded_down_counts_as_down_before_the_failure() {
    let estate = pool(OperationalStatus::NonOperational);
    let impact = estate.cmdb().blast_radius(id("web-a")).unwrap();
    let web = impact.get("web").unwrap();
    assert_eq!(web.state(), ImpactState::Down);
    let outcome = web.group().unwrap();
    assert_eq!(
        (outcome.members(), outcome.down(), outcome.down_before()),
        (2, 2, 1)
    );
    assert!(!outcome.holds());
    assert_eq!(
        outcome.to_string(),
        "2 of 2 members down (1 before); needs 1 up, short by 1"
    );
    assert_eq!(impact.get("site").unwrap().state(), ImpactState::Down);

    // The host under web-a as well: a scenario starts from the same state.
    let impact = estate.cmdb().blast_radius(id("host-a")).unwrap();
    assert_eq!(impact.get("site").unwrap().state(), ImpactState::Down);

    // Asked of a healthy estate, the pool holds.
    let healthy = ImpactQuery::new(id("web-a")).as_if_all_serving();
    let impact = estate.cmdb().blast_radius(&healthy).unwrap();
    assert_eq!(impact.get("web").unwrap().state(), ImpactState::Degraded);
    assert_eq!(impact.get("site").unwrap().state(), ImpactState::Degraded);

    // The member already down fails again: nothing changes for the pool.
    let impact = estate.cmdb().blast_radius(id("web-b")).unwrap();
    assert!(impact.get("web").is_none());
    assert!(impact.is_empty());
}

/// Every status the documented rule lists is down before the failure; a
/// query can name its own list.
#[test]
fn the_statuses_that_mean_down_follow_the_documented_rule_and_the_query() {
    use OperationalStatus::{
        Degraded, InMaintenance, NonOperational, Operational, Planned, Retired, Standby,
    };
    for status in [Planned, NonOperational, InMaintenance, Retired] {
        let estate = pool(status);
        let impact = estate.cmdb().blast_radius(id("web-a")).unwrap();
        assert_eq!(
            impact.get("web").unwrap().state(),
            ImpactState::Down,
            "{status}"
        );
    }
    for status in [Operational, Degraded, Standby] {
        let estate = pool(status);
        let impact = estate.cmdb().blast_radius(id("web-a")).unwrap();
        assert_eq!(
            impact.get("web").unwrap().state(),
            ImpactState::Degraded,
            "{status}"
        );
    }
    // Maintenance counted as serving for this query only.
    let estate = pool(InMaintenance);
    let query = ImpactQuery::new(id("web-a")).down_statuses([NonOperational, Retired]);
    let impact = estate.cmdb().blast_radius(&query).unwrap();
    assert_eq!(impact.get("web").unwrap().state(), ImpactState::Degraded);
    assert!(!query.counts_as_down(InMaintenance));
    assert!(ImpactQuery::new(id("web-a")).counts_as_down(InMaintenance));
}

/// `dependencies` of the site: `web-a`, the pool's only serving member, is
/// required (it used to be "behind a group"); `web-b` and its host are
/// not; with both members serving, neither is required.
#[test]
fn the_only_serving_member_of_a_group_is_required() {
    let estate = pool(OperationalStatus::NonOperational);
    let needs = estate.cmdb().dependencies(id("site")).unwrap();
    assert_eq!(needs.get("web").unwrap().state(), ImpactState::Required);
    assert_eq!(needs.get("web-a").unwrap().state(), ImpactState::Required);
    assert_eq!(needs.get("host-a").unwrap().state(), ImpactState::Required);
    assert_eq!(
        needs.get("host-a").unwrap().path().to_string(),
        "site -[depends on]-> web <-[member of]- web-a -[runs on]-> host-a"
    );
    assert_eq!(
        needs.get("web-b").unwrap().state(),
        ImpactState::BehindGroup
    );
    assert_eq!(
        needs.get("host-b").unwrap().state(),
        ImpactState::BehindGroup
    );

    let estate = pool(OperationalStatus::Operational);
    let needs = estate.cmdb().dependencies(id("site")).unwrap();
    assert_eq!(
        needs.get("web-a").unwrap().state(),
        ImpactState::BehindGroup
    );
    assert_eq!(
        needs.get("web-b").unwrap().state(),
        ImpactState::BehindGroup
    );
}

// ---------------------------------------------------------------------------
// Recovery plans follow the answer's filters
// ---------------------------------------------------------------------------

mod recovery {
    use std::collections::{BTreeMap, BTreeSet};

    use itam_cmdb::{Batch, CiClass, ConfigurationItem, Estate, ImpactQuery, Region, RelationKind};
    use proptest::prelude::*;

    use crate::util::id;

    const REGIONS: [&str; 3] = ["eu-west-1", "eu-west-2", "us-east-1"];

    /// Items `n0..`, each in a region or none (`None` for index 3), and
    /// `a depends on b` relationships (cycles allowed).
    fn estate(regions: &[usize], edges: &[(usize, usize)]) -> Estate {
        let mut batch = Batch::new();
        for (i, &r) in regions.iter().enumerate() {
            let name = format!("n{i}");
            let mut builder = ConfigurationItem::builder(id(&name), &name, CiClass::Server);
            if let Some(region) = REGIONS.get(r) {
                builder = builder.region(Region::new(region).unwrap());
            }
            batch.insert_ci(builder.build().unwrap());
        }
        for &(a, b) in edges {
            if a != b {
                batch.relate(
                    id(&format!("n{a}")),
                    RelationKind::DependsOn,
                    id(&format!("n{b}")),
                );
            }
        }
        let mut estate = Estate::new();
        estate.apply(batch).unwrap();
        estate
    }

    /// Whether failure travels from `from` to `to` through `within`.
    fn reaches(
        arcs: &BTreeMap<String, Vec<String>>,
        within: &BTreeSet<String>,
        from: &str,
        to: &str,
    ) -> bool {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(at) = stack.pop() {
            for next in arcs.get(&at).into_iter().flatten() {
                if within.contains(next) && seen.insert(next.clone()) {
                    if next == to {
                        return true;
                    }
                    stack.push(next.clone());
                }
            }
        }
        false
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The plan of a filtered answer lists exactly the roots and the
        /// reported items; an item's wave is one more than the highest
        /// wave of the listed items it depends on through any items of the
        /// result (0 when none), and a cycle is one step.
        #[test]
        fn a_filtered_plan_covers_what_the_answer_reports_in_the_full_order(
            (regions, edges, root, region) in (2..24usize).prop_flat_map(|n| (
                prop::collection::vec(0..4usize, n),
                prop::collection::vec((0..n, 0..n), 0..3 * n),
                0..n,
                0..3usize,
            )),
        ) {
            let estate = estate(&regions, &edges);
            let query = ImpactQuery::new(id(&format!("n{root}")))
                .region(Region::new(REGIONS[region]).unwrap());
            let impact = estate.cmdb().blast_radius(&query).unwrap();
            let plan = impact.recovery_order();
            let listed: BTreeSet<String> = plan
                .steps()
                .iter()
                .flat_map(|step| step.items().iter().map(std::string::ToString::to_string))
                .collect();
            let count: usize = plan.steps().iter().map(|s| s.items().len()).sum();
            prop_assert_eq!(count, listed.len(), "an item is listed twice");
            let mut want: BTreeSet<String> = impact.iter().map(|i| i.id().to_string()).collect();
            want.insert(format!("n{root}"));
            prop_assert_eq!(&listed, &want);

            // The full result: every item the failure reaches.
            let full = estate.cmdb().blast_radius(id(&format!("n{root}"))).unwrap();
            let mut within: BTreeSet<String> = full.iter().map(|i| i.id().to_string()).collect();
            within.insert(format!("n{root}"));
            let mut arcs: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for r in estate.cmdb().relationships() {
                // a depends on b: b's failure reaches a.
                arcs.entry(r.target().to_string()).or_default().push(r.source().to_string());
            }
            let step_of: BTreeMap<String, (usize, u32)> = plan
                .steps()
                .iter()
                .enumerate()
                .flat_map(|(k, step)| step.items().iter().map(move |id| (id.to_string(), (k, step.wave()))))
                .collect();
            for b in &listed {
                let mut wave = 0;
                for a in listed.iter().filter(|a| *a != b) {
                    let ab = reaches(&arcs, &within, a, b);
                    let ba = reaches(&arcs, &within, b, a);
                    if ab && ba {
                        prop_assert_eq!(step_of[a].0, step_of[b].0, "{} and {} are a cycle", a, b);
                    } else if ab {
                        wave = wave.max(step_of[a].1 + 1);
                    }
                }
                prop_assert_eq!(step_of[b].1, wave, "the wave of {}", b);
            }
            let waves: Vec<u32> = plan.steps().iter().map(itam_cmdb::RecoveryStep::wave).collect();
            prop_assert!(waves.windows(2).all(|w| w[0] <= w[1]));
        }
    }
}

// ---------------------------------------------------------------------------
// Regions
// ---------------------------------------------------------------------------

mod regions {
    use itam_cmdb::{Error, ImpactQuery, ImpactState, Region, sample};

    fn region(name: &str) -> Region {
        Region::new(name).unwrap()
    }

    /// The sample's story: Payments runs only in eu-west-2 and both
    /// regional checkout applications use it, so eu-west-2's failure takes
    /// checkout down, although its pool has a member in each region.
    #[test]
    fn a_region_failure_fails_every_item_of_the_region_at_once() {
        let estate = sample::estate();
        let query = ImpactQuery::region_failure(region("eu-west-2"));
        let impact = estate.cmdb().blast_radius(&query).unwrap();
        let roots: Vec<&str> = impact.roots().map(itam_cmdb::ResourceId::as_str).collect();
        let in_region: Vec<&str> = estate
            .cmdb()
            .iter()
            .filter(|ci| ci.region().map(Region::as_str) == Some("eu-west-2"))
            .map(|ci| ci.id().as_str())
            .collect();
        assert_eq!(roots, in_region, "the region's items, in CMDB order");
        assert!(roots.contains(&sample::PAYMENT_VM));
        let checkout = impact.get(sample::CHECKOUT_SERVICE).unwrap();
        assert_eq!(checkout.state(), ImpactState::Down);
        assert_eq!(
            impact.get(sample::CHECKOUT_POOL).unwrap().state(),
            ImpactState::Down
        );
        // Payments is recorded in eu-west-2 itself: a root, not an item.
        assert!(roots.contains(&sample::PAYMENT_SERVICE));
        assert!(impact.get(sample::PAYMENT_SERVICE).is_none());

        // eu-west-1 alone only degrades checkout.
        let query = ImpactQuery::region_failure(region("eu-west-1"));
        let impact = estate.cmdb().blast_radius(&query).unwrap();
        assert_eq!(
            impact.get(sample::CHECKOUT_SERVICE).unwrap().state(),
            ImpactState::Degraded
        );
        assert!(impact.get(sample::PAYMENT_SERVICE).is_none());

        // Both regions: everything of both fails, judged together.
        let both =
            ImpactQuery::region_failure(region("eu-west-1")).fail_region(region("eu-west-2"));
        let impact = estate.cmdb().blast_radius(&both).unwrap();
        assert!(
            impact
                .roots()
                .any(|id| id.as_str() == sample::CHECKOUT_EU_WEST_1)
        );
        assert!(
            impact
                .roots()
                .any(|id| id.as_str() == sample::CHECKOUT_EU_WEST_2)
        );
        assert_eq!(both.failed_regions().len(), 2);
    }

    /// A region filter alone drops global items; "this region and global"
    /// keeps them.
    #[test]
    fn this_region_and_global_reports_the_business_service() {
        let estate = sample::estate();
        let eu_west_2 = region("eu-west-2");
        let only = ImpactQuery::region_failure(eu_west_2.clone()).region(eu_west_2.clone());
        let impact = estate.cmdb().blast_radius(&only).unwrap();
        assert!(impact.get(sample::CHECKOUT_SERVICE).is_none());
        assert!(
            impact.iter().all(|item| {
                item.ci().unwrap().region().map(Region::as_str) == Some("eu-west-2")
            })
        );

        let global =
            ImpactQuery::region_failure(eu_west_2.clone()).region_and_global(eu_west_2.clone());
        let impact = estate.cmdb().blast_radius(&global).unwrap();
        assert!(impact.get(sample::CHECKOUT_SERVICE).is_some());
        assert!(impact.get(sample::CHECKOUT_POOL).is_some());
        assert!(impact.iter().all(|item| {
            let r = item.ci().unwrap().region().map(Region::as_str);
            r.is_none() || r == Some("eu-west-2")
        }));
        // The plan covers what the answer reports.
        let plan = impact.recovery_order();
        let planned: usize = plan.steps().iter().map(|s| s.items().len()).sum();
        assert_eq!(planned, impact.roots().len() + impact.len());
    }

    #[test]
    fn a_region_no_item_is_in_is_refused_by_name() {
        let estate = sample::estate();
        let query = ImpactQuery::region_failure(region("mars-north-1"));
        let refused = estate.cmdb().blast_radius(&query).unwrap_err();
        assert_eq!(refused, Error::UnknownRegion(region("mars-north-1")));
        assert_eq!(
            refused.to_string(),
            "no configuration item is recorded in region `mars-north-1`"
        );
        assert!(estate.cmdb().dependencies(&query).is_err());
        assert!(estate.cmdb().reachable(&query).is_err());
    }
}

// ---------------------------------------------------------------------------
// Single points of failure and what differs
// ---------------------------------------------------------------------------

mod single_points {
    use itam_cmdb::{ImpactQuery, ImpactState, ResourceId, sample};

    use crate::util::id;

    /// Checkout's pool has a member in each region, yet both members use
    /// Payments and auth: everything under those takes checkout down
    /// alone, each with one chain through each member. The regional apps
    /// and their VMs do not.
    #[test]
    fn the_sample_checkout_has_common_mode_single_points() {
        let estate = sample::estate();
        let cmdb = estate.cmdb();
        let checkout = id(sample::CHECKOUT_SERVICE);
        let points = cmdb.single_points_of_failure(&checkout).unwrap();
        let names: Vec<&str> = points.iter().map(|p| p.id().as_str()).collect();
        for must in [
            sample::CHECKOUT_POOL,
            sample::PAYMENT_SERVICE,
            sample::AUTH,
            sample::DNS,
            sample::PAYMENTS_DB,
            sample::HYPERVISOR_1,
            sample::STORAGE_ARRAY,
        ] {
            assert!(names.contains(&must), "{must} in {names:?}");
        }
        for never in [
            sample::CHECKOUT_EU_WEST_1,
            sample::CHECKOUT_EU_WEST_2,
            "vm-chk-euw1-01",
            "vm-chk-euw2-01",
        ] {
            assert!(!names.contains(&never), "{never} in {names:?}");
        }
        // Exactly the candidates whose blast radius takes checkout down.
        let needs = cmdb.dependencies(&checkout).unwrap();
        let naive: Vec<&ResourceId> = needs
            .iter()
            .filter(|item| {
                cmdb.blast_radius(item.id())
                    .unwrap()
                    .get(&checkout)
                    .is_some_and(|hit| hit.state() == ImpactState::Down)
            })
            .map(|item| item.id())
            .collect();
        assert_eq!(points.len(), naive.len());

        let hypervisor = points.get(sample::HYPERVISOR_1).unwrap();
        assert!(hypervisor.common_mode());
        assert_eq!(hypervisor.service(), &checkout);
        assert_eq!(hypervisor.paths().len(), 2);
        for path in hypervisor.paths() {
            let text = path.to_string();
            assert!(text.starts_with(sample::HYPERVISOR_1), "{text}");
            assert!(text.ends_with(sample::CHECKOUT_SERVICE), "{text}");
        }
        assert!(
            hypervisor.paths()[0]
                .to_string()
                .contains(sample::CHECKOUT_EU_WEST_1)
        );
        assert!(
            hypervisor.paths()[1]
                .to_string()
                .contains(sample::CHECKOUT_EU_WEST_2)
        );
        let pool = points.get(sample::CHECKOUT_POOL).unwrap();
        assert!(!pool.common_mode());
        assert_eq!(pool.distance(), 1);
        assert_eq!(
            pool.path().to_string(),
            "pool-checkout <-[depends on]- svc-checkout"
        );
        let distances: Vec<u32> = points
            .iter()
            .map(itam_cmdb::SinglePoint::distance)
            .collect();
        assert!(distances.windows(2).all(|w| w[0] <= w[1]));
    }

    /// With one regional app recorded down, the other becomes a single
    /// point of failure, and so does its VM.
    #[test]
    fn a_member_recorded_down_makes_the_other_a_single_point() {
        let mut estate = sample::estate();
        let euw1 = estate.ci(sample::CHECKOUT_EU_WEST_1).unwrap().clone();
        let down = euw1
            .to_builder()
            .status(itam_cmdb::OperationalStatus::NonOperational)
            .build()
            .unwrap();
        estate.remove_ci(&id(sample::CHECKOUT_EU_WEST_1)).unwrap();
        estate.insert_ci(down).unwrap();
        estate
            .define_group(
                &id(sample::CHECKOUT_POOL),
                itam_cmdb::Quorum::AtLeast(1),
                [id(sample::CHECKOUT_EU_WEST_1)],
            )
            .unwrap();
        let points = estate
            .cmdb()
            .single_points_of_failure(id(sample::CHECKOUT_SERVICE))
            .unwrap();
        assert!(points.get(sample::CHECKOUT_EU_WEST_2).is_some());
        assert!(points.get("vm-chk-euw2-01").is_some());
        assert!(points.get(sample::CHECKOUT_EU_WEST_1).is_none());
        // As if everything served, they are covered again.
        let healthy = ImpactQuery::new(id(sample::CHECKOUT_SERVICE)).as_if_all_serving();
        let points = estate.cmdb().single_points_of_failure(&healthy).unwrap();
        assert!(points.get(sample::CHECKOUT_EU_WEST_2).is_none());
    }

    /// "Why did checkout slow down only in eu-west-2?"
    #[test]
    fn what_only_the_eu_west_2_instance_depends_on() {
        let estate = sample::estate();
        let cmdb = estate.cmdb();
        let west_2 = cmdb.dependencies(id(sample::CHECKOUT_EU_WEST_2)).unwrap();
        let west_1 = cmdb.dependencies(id(sample::CHECKOUT_EU_WEST_1)).unwrap();
        let only: Vec<String> = west_2
            .except(&west_1)
            .map(|i| i.path().to_string())
            .collect();
        assert_eq!(only, ["app-checkout-euw2 -[runs on]-> vm-chk-euw2-01"]);
        let shared = west_2.shared_with(&west_1).count();
        assert_eq!(shared + 1, west_2.len());
    }
}

// ---------------------------------------------------------------------------
// The adversary's findings on issue 12
// ---------------------------------------------------------------------------

mod findings {
    use itam_cmdb::{ImpactQuery, ImpactState, OperationalStatus, Quorum, RelationKind};

    use super::{item, pool};
    use crate::util::id;

    /// A stopped group is neither walked nor reported, even when the
    /// failure breaks its quorum (it was reported degraded, with what
    /// depends on it).
    #[test]
    fn a_stopped_group_is_neither_reported_nor_walked() {
        let mut estate = pool(OperationalStatus::Operational);
        estate
            .define_group(&id("web"), Quorum::AtLeast(2), [])
            .unwrap();
        let query = ImpactQuery::new(id("web-a")).stop_at(id("web"));
        let impact = estate.cmdb().blast_radius(&query).unwrap();
        assert!(
            impact.is_empty(),
            "{:?}",
            impact
                .iter()
                .map(|i| i.id().to_string())
                .collect::<Vec<_>>()
        );
        assert_eq!(impact.recovery_order().steps().len(), 1);

        let mut estate = pool(OperationalStatus::Operational);
        let web = estate.ci("web").unwrap().clone();
        estate.remove_ci(&id("web")).unwrap();
        estate
            .insert_ci(
                web.to_builder()
                    .status(OperationalStatus::InMaintenance)
                    .build()
                    .unwrap(),
            )
            .unwrap();
        estate
            .relate(&id("site"), RelationKind::DependsOn, &id("web"))
            .unwrap();
        estate
            .define_group(&id("web"), Quorum::AtLeast(1), [id("web-a"), id("web-b")])
            .unwrap();
        let query = ImpactQuery::new(id("web-a")).stop_at_status(OperationalStatus::InMaintenance);
        assert!(estate.cmdb().blast_radius(&query).unwrap().is_empty());
    }

    /// An item required through a plain chain is not common-mode, even
    /// when its shortest chain to the service passes a group.
    #[test]
    fn a_required_item_is_not_common_mode() {
        let mut estate = itam_cmdb::Estate::new();
        for name in ["svc", "pool", "a", "b", "c1", "c2", "c3", "x"] {
            estate
                .insert_ci(item(name, OperationalStatus::Operational))
                .unwrap();
        }
        for (s, t) in [
            ("svc", "pool"),
            ("a", "x"),
            ("b", "x"),
            ("svc", "c1"),
            ("c1", "c2"),
            ("c2", "c3"),
            ("c3", "x"),
        ] {
            estate
                .relate(&id(s), RelationKind::DependsOn, &id(t))
                .unwrap();
        }
        estate
            .define_group(&id("pool"), Quorum::AtLeast(1), [id("a"), id("b")])
            .unwrap();
        let needs = estate.cmdb().dependencies(id("svc")).unwrap();
        assert_eq!(needs.get("x").unwrap().state(), ImpactState::Required);
        let points = estate.cmdb().single_points_of_failure(id("svc")).unwrap();
        let x = points.get("x").unwrap();
        assert!(!x.common_mode());
        assert_eq!(x.distance(), 4);
        // A chain of the failure from x to the service: through the pool
        // (x, a, pool, svc) or through c3, a single point itself (x, c3,
        // c2, c1, svc).
        let path = x.path();
        assert_eq!(path.steps()[0].id().as_str(), "x");
        assert_eq!(path.steps().last().unwrap().id().as_str(), "svc");
        assert!(matches!(path.hops(), 3 | 4), "{path}");
    }
}
