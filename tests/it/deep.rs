//! Deep graphs: a 1,000,000-long `depends on` chain and a 100,000-item
//! ring, built through the public write path, then every graph query run on
//! a thread with a 2 MiB stack. A walk that recursed once per item would
//! overflow that stack and abort the test binary, so these tests pin that no
//! query recurses (the answers are checked too, not only that they return).

use std::sync::LazyLock;

use itam_cmdb::finance::{CostOptions, cost_per_service};
use itam_cmdb::{
    Asset, AssetKind, Batch, CiClass, ConfigurationItem, Estate, ImpactQuery, RelationKind,
    ResourceId,
};

use crate::util::{id, money};

/// The length of the chain.
const CHAIN: usize = 1_000_000;

/// The length of the ring.
const RING: usize = 100_000;

/// The stack every query runs on: far smaller than a recursion per item
/// needs, and the size many thread pools give their workers.
const STACK: usize = 2 << 20;

fn name(prefix: &str, i: usize) -> ResourceId {
    id(&format!("{prefix}{i:07}"))
}

fn item(id: ResourceId, class: CiClass) -> ConfigurationItem {
    let name = id.to_string();
    ConfigurationItem::builder(id, &name, class)
        .build()
        .expect("a minimal item is valid")
}

/// `c0000000 <- c0000001 <- ... <- c0999999`: each item depends on the one
/// before it. The last item is a business service; the first has an asset
/// with a monthly cost. One batch, one write.
static CHAIN_ESTATE: LazyLock<Estate> = LazyLock::new(|| {
    let mut batch = Batch::new();
    for i in 0..CHAIN {
        let class = if i == CHAIN - 1 {
            CiClass::BusinessService
        } else {
            CiClass::Server
        };
        batch.insert_ci(item(name("c", i), class));
    }
    for i in 1..CHAIN {
        batch.relate(name("c", i), RelationKind::DependsOn, name("c", i - 1));
    }
    batch.insert_asset(
        Asset::builder(name("c", 0), "the bottom", AssetKind::Hardware)
            .monthly_cost(money("100.00 GBP"))
            .build()
            .expect("a valid asset"),
    );
    let mut estate = Estate::new();
    estate.apply(batch).expect("the chain is valid");
    estate
});

/// `r0000000 -> r0000001 -> ... -> r0099999 -> r0000000`: each item depends
/// on the next, and the last on the first.
static RING_ESTATE: LazyLock<Estate> = LazyLock::new(|| {
    let mut batch = Batch::new();
    for i in 0..RING {
        batch.insert_ci(item(name("r", i), CiClass::Server));
    }
    for i in 0..RING {
        batch.relate(
            name("r", i),
            RelationKind::DependsOn,
            name("r", (i + 1) % RING),
        );
    }
    let mut estate = Estate::new();
    estate.apply(batch).expect("the ring is valid");
    estate
});

/// Runs `check` on a thread with a [`STACK`]-byte stack.
fn on_small_stack(check: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .name("small stack".into())
        .stack_size(STACK)
        .spawn(check)
        .expect("a thread")
        .join()
        .expect("the checks pass on a small stack");
}

/// The number of lines of `text` that contain `needle`.
fn lines_with(text: &str, needle: &str) -> usize {
    text.lines().filter(|line| line.contains(needle)).count()
}

#[test]
fn every_query_on_a_million_long_chain_runs_on_a_small_stack() {
    LazyLock::force(&CHAIN_ESTATE);
    on_small_stack(|| {
        let cmdb = CHAIN_ESTATE.cmdb();
        let (first, last) = (name("c", 0), name("c", CHAIN - 1));
        assert_eq!(cmdb.len(), CHAIN);
        assert_eq!(cmdb.relationship_count(), CHAIN - 1);

        // The bottom's failure takes everything down, one hop further each.
        let impact = cmdb.blast_radius(&first).unwrap();
        assert_eq!(impact.len(), CHAIN - 1);
        assert_eq!(impact.down().count(), CHAIN - 1);
        let top = impact.iter().last().unwrap();
        assert_eq!(top.id(), &last);
        assert_eq!(top.distance(), u32::try_from(CHAIN - 1).unwrap());
        assert_eq!(top.path().hops(), CHAIN - 1);
        assert_eq!(impact.get(&last).unwrap().distance(), top.distance());
        assert_eq!(impact.get(&name("c", 1)).unwrap().distance(), 1);

        // The top needs everything beneath it, with no group on the way.
        let needs = cmdb.dependencies(&last).unwrap();
        assert_eq!(needs.len(), CHAIN - 1);
        assert_eq!(needs.iter().last().unwrap().id(), &first);
        assert!(needs.get(&first).is_some());

        // Reachability, on the plain path and on the path with options.
        let reach = cmdb.reachable(&first).unwrap();
        assert_eq!(reach.len(), CHAIN - 1);
        assert_eq!(reach.iter().last(), Some(&last));
        assert!(reach.contains(&last) && !reach.contains(&first));
        let followed = cmdb
            .reachable(ImpactQuery::new(first.clone()).follow(RelationKind::DependsOn))
            .unwrap();
        assert_eq!(followed.len(), CHAIN - 1);
        let stopped = cmdb
            .reachable(ImpactQuery::new(first.clone()).stop_at(name("c", 500_000)))
            .unwrap();
        assert_eq!(stopped.len(), 499_999);

        // Downward reachability, and set operations on the long answers.
        let below = cmdb.reachable_below(&last).unwrap();
        assert_eq!(below.len(), CHAIN - 1);
        assert_eq!(below.iter().last(), Some(&first));
        assert_eq!(needs.except(&needs).count(), 0);
        // The blast radius of the bottom mentions all of them: its root too.
        assert_eq!(needs.shared_with(&impact).count(), CHAIN - 1);
        // Single points of failure within 100 hops: each item below.
        let points = cmdb
            .single_points_of_failure(ImpactQuery::new(last.clone()).max_depth(100))
            .unwrap();
        assert_eq!(points.len(), 100);
        assert_eq!(points.iter().last().unwrap().path().hops(), 100);
        // And without a limit: every item below, each explained by the one
        // above it (linear, not one walk per item).
        let points = cmdb.single_points_of_failure(&last).unwrap();
        assert_eq!(points.len(), CHAIN - 1);
        let bottom = points.iter().last().unwrap();
        assert_eq!(bottom.id(), &first);
        assert_eq!(bottom.distance(), u32::try_from(CHAIN - 1).unwrap());
        let path = bottom.path();
        assert_eq!(path.hops(), CHAIN - 1);
        assert_eq!(path.steps().last().unwrap().id(), &last);
        // Looking each one up is O(log n), not a scan.
        assert_eq!(points.get(&first).unwrap().id(), &first);
        assert!(points.get(&last).is_none(), "the root is not listed");
        assert!(
            (1..CHAIN - 1)
                .step_by(997)
                .all(|i| points.get(&name("c", i)).is_some())
        );

        // One wave per item: each needs the one before it.
        let plan = impact.recovery_order();
        assert_eq!(plan.steps().len(), CHAIN);
        assert_eq!(plan.waves(), u32::try_from(CHAIN).unwrap());
        assert_eq!(plan.steps()[0].items(), [&first]);
        assert_eq!(plan.steps().last().unwrap().items(), [&last]);
        assert_eq!(plan.cycles().count(), 0);
        assert!(cmdb.cycles().is_empty());

        // The one service carries the bottom's cost.
        let costs = cost_per_service(&CHAIN_ESTATE, &CostOptions::new()).unwrap();
        let service = costs.service(&last).unwrap();
        assert_eq!(service.total(itam_cmdb::Currency::GBP), money("100.00 GBP"));
        assert!(costs.unallocated().is_empty());
    });
}

/// The drawings of the chain, apart from the other queries so that the two
/// tests share the chain and run side by side.
#[test]
fn the_drawings_of_a_million_long_chain_run_on_a_small_stack() {
    LazyLock::force(&CHAIN_ESTATE);
    on_small_stack(|| {
        let cmdb = CHAIN_ESTATE.cmdb();
        let impact = cmdb.blast_radius(name("c", 0)).unwrap();
        let plan = impact.recovery_order();
        // Drawings: one node per item, one arrow per relationship; the
        // plan's steps chained by `then`.
        let dot = impact.to_dot();
        assert_eq!(lines_with(&dot, "[label="), 2 * CHAIN - 1);
        assert_eq!(lines_with(&dot, " -> "), CHAIN - 1);
        let mermaid = impact.to_mermaid();
        assert_eq!(lines_with(&mermaid, " -->|"), CHAIN - 1);
        let dot = plan.to_dot();
        assert_eq!(lines_with(&dot, "label=\"then\""), CHAIN - 1);
        let mermaid = plan.to_mermaid();
        assert_eq!(lines_with(&mermaid, "|\"then\"|"), CHAIN - 1);
    });
}

#[test]
fn every_query_on_a_hundred_thousand_ring_runs_on_a_small_stack() {
    LazyLock::force(&RING_ESTATE);
    on_small_stack(|| {
        let cmdb = RING_ESTATE.cmdb();
        let (first, last) = (name("r", 0), name("r", RING - 1));

        // The ring is one cycle, its items in the order they were added.
        let cycles = cmdb.cycles();
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].len(), RING);
        assert_eq!(cycles[0][0], &first);
        assert_eq!(cycles[0][RING - 1], &last);

        // r0 fails: r(n-1) depends on it, then r(n-2), ... round to r1.
        let impact = cmdb.blast_radius(&first).unwrap();
        assert_eq!(impact.len(), RING - 1);
        assert_eq!(impact.iter().next().unwrap().id(), &last);
        assert_eq!(impact.iter().last().unwrap().id(), &name("r", 1));
        assert_eq!(impact.get(&name("r", 1)).unwrap().distance(), 99_999);

        let needs = cmdb.dependencies(&first).unwrap();
        assert_eq!(needs.len(), RING - 1);
        assert_eq!(needs.iter().next().unwrap().id(), &name("r", 1));
        assert_eq!(needs.iter().last().unwrap().id(), &last);

        let reach = cmdb.reachable(&first).unwrap();
        assert_eq!(reach.len(), RING - 1);
        assert!(reach.contains(&name("r", 1)) && !reach.contains(&first));
        let limited = cmdb
            .reachable(ImpactQuery::new(first.clone()).max_depth(10))
            .unwrap();
        assert_eq!(limited.len(), 10);

        let below = cmdb.reachable_below(&first).unwrap();
        assert_eq!(below.len(), RING - 1);
        let points = cmdb
            .single_points_of_failure(ImpactQuery::new(first.clone()).max_depth(50))
            .unwrap();
        assert_eq!(points.len(), 50);
        // Without a limit: the whole ring below its first item, each item
        // explained by the next one round.
        let points = cmdb.single_points_of_failure(&first).unwrap();
        assert_eq!(points.len(), RING - 1);
        let far = points.iter().last().unwrap();
        assert_eq!(far.path().hops(), RING - 1);
        assert_eq!(far.path().steps().last().unwrap().id(), &first);

        // The whole ring comes back together, in one wave.
        let plan = impact.recovery_order();
        assert_eq!(plan.waves(), 1);
        assert_eq!(plan.steps().len(), 1);
        assert_eq!(plan.cycles().count(), 1);
        assert_eq!(plan.steps()[0].items().len(), RING);
        assert_eq!(plan.steps()[0].items()[0], &first);

        let dot = impact.to_dot();
        assert_eq!(lines_with(&dot, " -> "), RING - 1);
        let mermaid = impact.to_mermaid();
        assert_eq!(lines_with(&mermaid, " -->|"), RING - 1);
        let dot = plan.to_dot();
        assert_eq!(lines_with(&dot, "together"), 1);
        assert!(plan.to_mermaid().contains("together"));
        let needs_dot = needs.to_dot();
        assert_eq!(lines_with(&needs_dot, " -> "), RING - 1);
    });
}
