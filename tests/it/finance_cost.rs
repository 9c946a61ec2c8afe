//! Cost per service: the sample story checked by hand, a generated estate,
//! and properties on random graphs against a naive reference (every share
//! adds up, nothing is lost, the same input gives the same output).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use itam_cmdb::finance::{
    Allocation, CostLine, CostOptions, ServiceCost, ServiceCosts, UnallocatedCost, cost_per_service,
};
use itam_cmdb::synth::Generator;
use itam_cmdb::{
    Asset, AssetKind, Batch, CiClass, ConfigurationItem, Currency, Error, Estate, Money,
    Propagation, RelationKind, sample,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::util::{id, money};

/// `resource cost share sharing` per line of a service, for compact checks.
fn breakdown(costs: &ServiceCosts, service: &str) -> Vec<String> {
    costs
        .service(service)
        .expect("a service")
        .lines()
        .map(|line| {
            format!(
                "{} {} {} {}",
                line.resource(),
                line.cost(),
                line.share(),
                line.sharing()
            )
        })
        .collect()
}

/// Sums amounts per currency.
fn sum_per_currency<'a>(amounts: impl IntoIterator<Item = &'a Money>) -> BTreeMap<Currency, Money> {
    let mut totals: BTreeMap<Currency, Money> = BTreeMap::new();
    for amount in amounts {
        let total = totals
            .entry(amount.currency())
            .or_insert(Money::zero(amount.currency()));
        *total = total.checked_add(*amount).unwrap();
    }
    totals
}

/// Checks the invariants every result keeps: services sorted by id, lines by
/// resource; the shares of each resource add up to its cost; and services
/// plus unallocated add up to the total, per currency.
fn check_invariants(costs: &ServiceCosts) {
    let ids: Vec<_> = costs.services().iter().map(ServiceCost::service).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "services sorted by id");
    let mut shares: BTreeMap<String, (Money, Vec<Money>, usize)> = BTreeMap::new();
    for service in costs.services() {
        let lines: Vec<CostLine<'_>> = service.lines().collect();
        assert_eq!(lines.len(), service.lines().len());
        assert!(lines.windows(2).all(|w| w[0].resource() < w[1].resource()));
        let own: Vec<Money> = lines.iter().map(CostLine::share).collect();
        assert_eq!(
            &sum_per_currency(&own),
            service.totals(),
            "{}",
            service.service()
        );
        for line in &lines {
            assert_eq!(service.line(line.resource()).as_ref(), Some(line));
            let entry = shares.entry(line.resource().to_string()).or_insert((
                line.cost(),
                Vec::new(),
                line.sharing(),
            ));
            assert_eq!(entry.0, line.cost());
            assert_eq!(entry.2, line.sharing());
            entry.1.push(line.share());
            assert_eq!(line.is_shared(), line.sharing() > 1);
        }
    }
    for (resource, (cost, parts, sharing)) in &shares {
        assert_eq!(parts.len(), *sharing, "{resource}");
        let sum = Money::sum(cost.currency(), parts.iter().copied()).unwrap();
        assert_eq!(sum, *cost, "the shares of {resource} add up to its cost");
        assert_eq!(sum.amount().scale(), cost.currency().minor_units());
    }
    let mut everything: Vec<Money> = shares.values().map(|(cost, _, _)| *cost).collect();
    everything.extend(costs.unallocated().iter().map(UnallocatedCost::cost));
    assert_eq!(&sum_per_currency(&everything), costs.totals());

    let mut allocated: Vec<Money> = costs
        .services()
        .iter()
        .flat_map(|s| s.totals().values().copied())
        .collect();
    allocated.extend(costs.unallocated_totals().values().copied());
    assert_eq!(&sum_per_currency(&allocated), costs.totals());
}

// ---------------------------------------------------------------------------
// The sample story, by hand
// ---------------------------------------------------------------------------

#[test]
fn the_payment_service_shares_everything_with_checkout() {
    let estate = sample::estate();
    let costs = cost_per_service(&estate, &CostOptions::new()).unwrap();
    check_invariants(&costs);
    let services: Vec<_> = costs
        .services()
        .iter()
        .map(|s| s.service().as_str())
        .collect();
    assert_eq!(
        services,
        [sample::CHECKOUT_SERVICE, sample::PAYMENT_SERVICE]
    );

    // Beneath Payments: its load balancer, the API on its VM, the two
    // databases on their VMs, the hypervisors and the storage array (bought,
    // with no monthly cost), auth and DNS (no assets). Checkout uses
    // Payments, so every one of them is shared by the two services.
    assert_eq!(
        breakdown(&costs, sample::PAYMENT_SERVICE),
        [
            "lb-pay-euw2 96.00 GBP 48.00 GBP 2",
            "vm-db-01 310.00 GBP 155.00 GBP 2",
            "vm-db-02 265.00 GBP 132.50 GBP 2",
            "vm-pay-01 412.30 GBP 206.15 GBP 2",
        ]
    );
    let payments = costs.service(sample::PAYMENT_SERVICE).unwrap();
    assert_eq!(payments.class(), &CiClass::BusinessService);
    assert_eq!(payments.totals().len(), 1);
    // 48.00 + 155.00 + 132.50 + 206.15.
    assert_eq!(payments.total(Currency::GBP), money("541.65 GBP"));
    assert!(payments.total(Currency::EUR).is_zero());

    // Checkout: the same halves, plus its own two regional VMs, one billed
    // in GBP and one in EUR.
    assert_eq!(
        breakdown(&costs, sample::CHECKOUT_SERVICE),
        [
            "lb-pay-euw2 96.00 GBP 48.00 GBP 2",
            "vm-chk-euw1-01 219.40 EUR 219.40 EUR 1",
            "vm-chk-euw2-01 205.10 GBP 205.10 GBP 1",
            "vm-db-01 310.00 GBP 155.00 GBP 2",
            "vm-db-02 265.00 GBP 132.50 GBP 2",
            "vm-pay-01 412.30 GBP 206.15 GBP 2",
        ]
    );
    let checkout = costs.service(sample::CHECKOUT_SERVICE).unwrap();
    let totals: Vec<String> = checkout
        .totals()
        .values()
        .map(ToString::to_string)
        .collect();
    assert_eq!(totals, ["219.40 EUR", "746.75 GBP"]);
    let vm = checkout.line("vm-chk-euw2-01").unwrap();
    assert_eq!(vm.allocation(), Allocation::Direct);
    assert!(!vm.is_shared());

    // The reporting VM retired in March is still billed, and nothing depends
    // on it. The licence and the laptop have no monthly cost.
    let unallocated: Vec<String> = costs
        .unallocated()
        .iter()
        .map(|u| format!("{} {} {}", u.resource(), u.cost(), u.has_ci()))
        .collect();
    assert_eq!(unallocated, ["vm-rpt-01 188.75 GBP true"]);
    // 96.00 + 412.30 + 205.10 + 310.00 + 265.00 + 188.75, and 219.40.
    let totals: Vec<String> = costs.totals().values().map(ToString::to_string).collect();
    assert_eq!(totals, ["219.40 EUR", "1477.15 GBP"]);
}

#[test]
fn weights_break_ties_by_service_id() {
    // 412.30 at 3 : 1 is 309.225 and 103.075: one cent left over, both
    // remainders are half a cent, and svc-checkout sorts first.
    let options = CostOptions::new()
        .weight(id(sample::PAYMENT_SERVICE), Decimal::from(3))
        .weight(id(sample::CHECKOUT_SERVICE), Decimal::ONE);
    let costs = cost_per_service(&sample::estate(), &options).unwrap();
    check_invariants(&costs);
    let share = |service: &str| {
        costs
            .service(service)
            .unwrap()
            .line(sample::PAYMENT_VM)
            .unwrap()
            .share()
            .to_string()
    };
    assert_eq!(share(sample::PAYMENT_SERVICE), "309.22 GBP");
    assert_eq!(share(sample::CHECKOUT_SERVICE), "103.08 GBP");
    let line = costs
        .service(sample::PAYMENT_SERVICE)
        .unwrap()
        .line(sample::PAYMENT_VM)
        .unwrap();
    assert_eq!(
        line.allocation(),
        Allocation::Shared {
            services: 2,
            weight: Decimal::from(3),
            total_weight: Decimal::from(4),
        }
    );
}

#[test]
fn application_services_split_the_shared_layers_further() {
    let options = CostOptions::new()
        .service_class(CiClass::BusinessService)
        .service_class(CiClass::ApplicationService);
    let costs = cost_per_service(&sample::estate(), &options).unwrap();
    check_invariants(&costs);
    let services: Vec<_> = costs
        .services()
        .iter()
        .map(|s| format!("{} {}", s.service(), s.class()))
        .collect();
    assert_eq!(
        services,
        [
            "svc-auth application-service",
            "svc-checkout business-service",
            "svc-dns application-service",
            "svc-payments business-service",
        ]
    );
    // Auth and DNS depend on each other and on nothing with a cost: they
    // are listed, with no cost.
    for shared in [sample::AUTH, sample::DNS] {
        let service = costs.service(shared).unwrap();
        assert!(service.is_zero() && service.lines().len() == 0);
    }
    assert_eq!(
        costs
            .service(sample::PAYMENT_SERVICE)
            .unwrap()
            .total(Currency::GBP),
        money("541.65 GBP")
    );
}

#[test]
fn application_services_alone() {
    let options = CostOptions::new().service_class(CiClass::ApplicationService);
    let costs = cost_per_service(&sample::estate(), &options).unwrap();
    check_invariants(&costs);
    assert_eq!(costs.services().len(), 2);
    // Nothing with a cost is beneath auth or DNS: everything is unallocated.
    let unallocated: Vec<_> = costs
        .unallocated()
        .iter()
        .map(|u| u.resource().as_str())
        .collect();
    assert_eq!(
        unallocated,
        [
            "lb-pay-euw2",
            "vm-chk-euw1-01",
            "vm-chk-euw2-01",
            "vm-db-01",
            "vm-db-02",
            "vm-pay-01",
            "vm-rpt-01",
        ]
    );
}

#[test]
fn max_depth_keeps_only_the_near_layers() {
    // Within three hops of Payments: its load balancer, the API and the
    // API's VM; the database VMs are four hops away. Checkout reaches its
    // own VMs in three hops, and Payments' load balancer only in four.
    let costs = cost_per_service(&sample::estate(), &CostOptions::new().max_depth(3)).unwrap();
    check_invariants(&costs);
    assert_eq!(
        breakdown(&costs, sample::PAYMENT_SERVICE),
        [
            "lb-pay-euw2 96.00 GBP 96.00 GBP 1",
            "vm-pay-01 412.30 GBP 412.30 GBP 1"
        ]
    );
    assert_eq!(
        breakdown(&costs, sample::CHECKOUT_SERVICE),
        [
            "vm-chk-euw1-01 219.40 EUR 219.40 EUR 1",
            "vm-chk-euw2-01 205.10 GBP 205.10 GBP 1",
        ]
    );
    let unallocated: Vec<_> = costs
        .unallocated()
        .iter()
        .map(|u| u.resource().as_str())
        .collect();
    assert_eq!(unallocated, ["vm-db-01", "vm-db-02", "vm-rpt-01"]);
}

#[test]
fn a_depreciation_charge_adds_to_the_monthly_cost() {
    let estate = sample::estate();
    let month = crate::util::date(2026, 11, 1);
    // The storage array: 184,000.00 over 60 months is 3,066.666... a month.
    let depreciation = |asset: &Asset, _: chrono::NaiveDate| {
        (asset.id().as_str() == sample::STORAGE_ARRAY).then(|| {
            asset
                .purchase_cost()
                .unwrap()
                .checked_mul(Decimal::ONE / Decimal::from(60))
                .unwrap()
        })
    };
    let options = CostOptions::new().charge(month, &depreciation);
    let costs = cost_per_service(&estate, &options).unwrap();
    check_invariants(&costs);
    let san = costs
        .service(sample::PAYMENT_SERVICE)
        .unwrap()
        .line(sample::STORAGE_ARRAY)
        .unwrap();
    assert_eq!(san.cost(), money("3066.67 GBP"));
    // Half a cent each way: the leftover cent goes to svc-checkout, the
    // smaller id.
    assert_eq!(san.share(), money("1533.33 GBP"));
    let other = costs
        .service(sample::CHECKOUT_SERVICE)
        .unwrap()
        .line(sample::STORAGE_ARRAY)
        .unwrap();
    assert_eq!(other.share(), money("1533.34 GBP"));
}

#[test]
fn the_result_serialises() {
    let costs = cost_per_service(&sample::estate(), &CostOptions::new()).unwrap();
    let json = serde_json::to_value(&costs).unwrap();
    let line = &json["services"][1]["lines"][0];
    assert_eq!(line["resource"], "lb-pay-euw2");
    assert_eq!(line["share"]["amount"], "48.00");
    assert_eq!(json["services"][1]["totals"]["GBP"]["amount"], "541.65");
}

// ---------------------------------------------------------------------------
// A generated estate
// ---------------------------------------------------------------------------

#[test]
fn a_generated_estate_allocates_every_cost_once() {
    let estate = Generator::new(11).cis(3_000).regions(3).build().unwrap();
    let business = estate
        .cmdb()
        .iter()
        .filter(|ci| ci.class() == &CiClass::BusinessService)
        .count();
    let costs = cost_per_service(&estate, &CostOptions::new()).unwrap();
    check_invariants(&costs);
    assert_eq!(costs.services().len(), business);
    assert_eq!(
        costs,
        cost_per_service(&estate, &CostOptions::new()).unwrap()
    );
    // Every asset with a monthly cost is counted once, in its currency.
    let all: Vec<Money> = estate
        .assets()
        .iter()
        .filter_map(Asset::monthly_cost)
        .map(Money::round)
        .collect();
    assert_eq!(&sum_per_currency(&all), costs.totals());
    // The generated estate's core services are shared by many services.
    assert!(
        costs
            .services()
            .iter()
            .flat_map(ServiceCost::lines)
            .any(|line| line.sharing() > 2)
    );
    // The licences have no configuration item, so no service carries them.
    assert!(
        costs
            .unallocated()
            .iter()
            .any(|u| !u.has_ci() && u.resource().as_str().starts_with("lic-"))
    );

    let options = CostOptions::new().service_class(CiClass::ApplicationService);
    let by_app = cost_per_service(&estate, &options).unwrap();
    check_invariants(&by_app);
    assert_eq!(by_app.totals(), costs.totals());
    assert!(by_app.services().len() > costs.services().len());
}

// ---------------------------------------------------------------------------
// Properties on random graphs
// ---------------------------------------------------------------------------

const CURRENCIES: [Currency; 4] = [Currency::EUR, Currency::GBP, Currency::JPY, Currency::USD];

/// A random estate: `services` business services and `resources` servers,
/// relationships between any two of them, a monthly cost on some of them,
/// and a few costed assets with no configuration item.
#[derive(Debug, Clone)]
struct Spec {
    services: usize,
    resources: usize,
    /// `(a, kind, b)`: kind 0 is `a depends on b`, 1 is `a uses b`, 2 is
    /// `a contains b` (so b needs a), 3 is `a member of b` (so the group b
    /// needs a), 4 is `a connects to b` both ways (each needs the other), 5
    /// is `a manages b` (neither needs the other).
    edges: Vec<(usize, u8, usize)>,
    /// A cost in minor units and a currency index per node.
    costs: Vec<Option<(i64, usize)>>,
    /// Costs of assets with no configuration item.
    orphans: Vec<(i64, usize)>,
    /// A weight in tenths per service, or none.
    weights: Vec<Option<u8>>,
    max_depth: Option<u32>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (1usize..5, 0usize..10).prop_flat_map(|(services, resources)| {
        let nodes = services + resources;
        (
            prop::collection::vec((0..nodes, 0u8..6, 0..nodes), 0..nodes * 3),
            prop::collection::vec(
                prop::option::weighted(0.7, (0i64..2_000_000, 0..CURRENCIES.len())),
                nodes,
            ),
            prop::collection::vec((0i64..100_000, 0..CURRENCIES.len()), 0..3),
            prop::collection::vec(prop::option::weighted(0.3, 0u8..30), services),
            prop::option::of(0u32..4),
        )
            .prop_map(move |(edges, costs, orphans, weights, max_depth)| Spec {
                services,
                resources,
                edges,
                costs,
                orphans,
                weights,
                max_depth,
            })
    })
}

fn name(spec: &Spec, node: usize) -> String {
    if node < spec.services {
        format!("bs-{node:02}")
    } else {
        format!("r-{:02}", node - spec.services)
    }
}

fn build(spec: &Spec) -> Estate {
    let mut batch = Batch::new();
    for node in 0..spec.services + spec.resources {
        let class = if node < spec.services {
            CiClass::BusinessService
        } else {
            CiClass::Server
        };
        let text = name(spec, node);
        batch.insert_ci(
            ConfigurationItem::builder(id(&text), &text, class)
                .build()
                .unwrap(),
        );
        if let Some((minor, currency)) = spec.costs[node] {
            batch.insert_asset(
                Asset::builder(id(&text), &text, AssetKind::CloudResource)
                    .monthly_cost(Money::from_minor(minor, CURRENCIES[currency]))
                    .build()
                    .unwrap(),
            );
        }
    }
    for (at, (minor, currency)) in spec.orphans.iter().enumerate() {
        let text = format!("lic-{at}");
        batch.insert_asset(
            Asset::builder(id(&text), &text, AssetKind::Licence)
                .monthly_cost(Money::from_minor(*minor, CURRENCIES[*currency]))
                .build()
                .unwrap(),
        );
    }
    let mut seen = BTreeSet::new();
    for &(a, kind, b) in &spec.edges {
        if a == b || !seen.insert((a, kind, b)) {
            continue;
        }
        let kind = match kind {
            0 => RelationKind::DependsOn,
            1 => RelationKind::Uses,
            2 => RelationKind::Contains,
            3 => RelationKind::MemberOf,
            4 => RelationKind::ConnectsTo(Propagation::Both),
            _ => RelationKind::Manages,
        };
        batch.relate(id(&name(spec, a)), kind, id(&name(spec, b)));
    }
    let mut estate = Estate::new();
    estate.apply(batch).unwrap();
    estate
}

fn options(spec: &Spec) -> CostOptions<'static> {
    let mut options = CostOptions::new();
    for (service, weight) in spec.weights.iter().enumerate() {
        if let Some(tenths) = weight {
            options = options.weight(
                id(&name(spec, service)),
                Decimal::new(i64::from(*tenths), 1),
            );
        }
    }
    if let Some(hops) = spec.max_depth {
        options = options.max_depth(hops);
    }
    options
}

/// The nodes beneath `service` by a plain breadth-first search, within the
/// depth limit.
fn beneath(spec: &Spec, service: usize) -> BTreeSet<usize> {
    let nodes = spec.services + spec.resources;
    let mut needs = vec![BTreeSet::new(); nodes];
    for &(a, kind, b) in &spec.edges {
        if a != b {
            match kind {
                0 | 1 => {
                    needs[a].insert(b);
                }
                2 | 3 => {
                    needs[b].insert(a);
                }
                4 => {
                    needs[a].insert(b);
                    needs[b].insert(a);
                }
                _ => {}
            }
        }
    }
    let limit = spec.max_depth.unwrap_or(u32::MAX);
    let mut found = BTreeSet::from([service]);
    let mut queue = VecDeque::from([(service, 0u32)]);
    while let Some((node, depth)) = queue.pop_front() {
        if depth >= limit {
            continue;
        }
        for &next in &needs[node] {
            if found.insert(next) {
                queue.push_back((next, depth + 1));
            }
        }
    }
    found
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn shares_add_up_and_match_the_reference(spec in spec()) {
        let estate = build(&spec);
        let options = options(&spec);
        let weight = |service: usize| {
            spec.weights[service].map_or(Decimal::ONE, |tenths| Decimal::new(i64::from(tenths), 1))
        };
        let sets: Vec<BTreeSet<usize>> = (0..spec.services).map(|s| beneath(&spec, s)).collect();
        let sharers = |node: usize| -> Vec<usize> {
            (0..spec.services).filter(|s| sets[*s].contains(&node)).collect()
        };
        // Shared resources whose services all have weight zero: the error
        // names the first by id.
        let all_zero = (0..spec.services + spec.resources)
            .filter(|&node| {
                let sharing = sharers(node);
                spec.costs[node].is_some()
                    && sharing.len() > 1
                    && sharing.iter().all(|&s| weight(s).is_zero())
            })
            .map(|node| name(&spec, node))
            .min();

        let result = cost_per_service(&estate, &options);
        if let Some(first) = all_zero {
            match result {
                Err(Error::InvalidWeights { id, .. }) => prop_assert_eq!(id.as_str(), first),
                other => prop_assert!(false, "expected invalid weights, got {:?}", other),
            }
            return Ok(());
        }
        let costs = result.unwrap();
        check_invariants(&costs);
        prop_assert_eq!(&costs, &cost_per_service(&estate, &options).unwrap());
        // Without a depth limit, all services are costed in one sweep; with
        // a limit no walk reaches, one dependency walk per service must
        // give the same result.
        if spec.max_depth.is_none() {
            let walked = cost_per_service(&estate, &options.clone().max_depth(1_000)).unwrap();
            prop_assert_eq!(&costs, &walked);
        }

        // Every asset's cost is counted once, per currency.
        let all: Vec<Money> = spec
            .costs
            .iter()
            .flatten()
            .chain(&spec.orphans)
            .map(|(minor, currency)| Money::from_minor(*minor, CURRENCIES[*currency]))
            .collect();
        prop_assert_eq!(&sum_per_currency(&all), costs.totals());

        // Each service's lines are exactly the costed nodes beneath it, and
        // each share is within one minor unit of its exact quota.
        for (service, set) in sets.iter().enumerate() {
            let cost = costs.service(&name(&spec, service)).unwrap();
            let expected: Vec<String> = set
                .iter()
                .filter(|&&node| spec.costs[node].is_some())
                .map(|&node| name(&spec, node))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let found: Vec<String> = cost.lines().map(|l| l.resource().to_string()).collect();
            prop_assert_eq!(found, expected);
            for line in cost.lines() {
                let node = (0..spec.services + spec.resources)
                    .find(|&n| name(&spec, n) == line.resource().as_str())
                    .unwrap();
                let sharing = sharers(node);
                prop_assert_eq!(line.sharing(), sharing.len());
                let total: Decimal = sharing.iter().map(|&s| weight(s)).sum();
                let unit = Decimal::new(1, line.cost().currency().minor_units());
                let exact = if sharing.len() == 1 {
                    line.cost().amount()
                } else {
                    line.cost().amount() * weight(service) / total
                };
                prop_assert!(
                    (line.share().amount() - exact).abs() < unit,
                    "{} of {} for {}: exact {}", line.share(), line.cost(), cost.service(), exact
                );
            }
        }
        // Unallocated: the costed nodes beneath no service, and the orphans.
        let mut expected: Vec<String> = (0..spec.services + spec.resources)
            .filter(|&node| spec.costs[node].is_some() && sharers(node).is_empty())
            .map(|node| name(&spec, node))
            .chain((0..spec.orphans.len()).map(|at| format!("lic-{at}")))
            .collect();
        expected.sort();
        let found: Vec<String> = costs.unallocated().iter().map(|u| u.resource().to_string()).collect();
        prop_assert_eq!(found, expected);
    }
}
