//! Shared set-up for the benches: generated estates, the queries' subjects,
//! and the plain CSR breadth-first search the crate is measured against.

#![allow(dead_code, reason = "each bench binary uses a different part")]
#![allow(
    clippy::cast_possible_truncation,
    reason = "node indices of a bench-sized graph fit in u32"
)]

use std::collections::HashMap;

use chrono::NaiveDate;
pub(crate) mod layered;

use itam_cmdb::{
    Asset, AssetKind, CiClass, ConfigurationItem, Criticality, Currency, Environment, Estate,
    Lifecycle, Money, OperationalStatus, Region, ResourceId, synth::Generator,
};

/// The seed every bench uses, so that runs compare like with like.
pub(crate) const SEED: u64 = 0x1CE_CAFE;

/// Builds the generated estate with `cis` configuration items.
pub(crate) fn estate(cis: usize) -> Estate {
    Generator::new(SEED)
        .cis(cis)
        .build()
        .expect("the generator builds valid estates")
}

/// A plain compressed-sparse-row adjacency over the same propagating edges
/// as the crate, in the direction failure travels, with dense indices.
pub(crate) struct PlainCsr {
    pub(crate) ids: Vec<ResourceId>,
    pub(crate) index: HashMap<ResourceId, u32>,
    offsets: Vec<u32>,
    targets: Vec<u32>,
    stamp: Vec<u32>,
    epoch: u32,
    queue: Vec<u32>,
}

impl PlainCsr {
    /// Reads every relationship of `estate` once and builds the adjacency.
    pub(crate) fn new(estate: &Estate) -> Self {
        let ids: Vec<ResourceId> = estate.cmdb().iter().map(|ci| ci.id().clone()).collect();
        let index: HashMap<ResourceId, u32> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i as u32))
            .collect();
        let mut edges: Vec<(u32, u32)> = Vec::new();
        for relationship in estate.cmdb().relationships() {
            let s = index[relationship.source()];
            let t = index[relationship.target()];
            let propagation = relationship.kind().propagation();
            if propagation.target_impacts_source() {
                edges.push((t, s));
            }
            if propagation.source_impacts_target() {
                edges.push((s, t));
            }
        }
        let n = ids.len();
        let mut offsets = vec![0u32; n + 1];
        for (from, _) in &edges {
            offsets[*from as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut next = offsets[..n].to_vec();
        let mut targets = vec![0u32; edges.len()];
        for (from, to) in edges {
            targets[next[from as usize] as usize] = to;
            next[from as usize] += 1;
        }
        Self {
            ids,
            index,
            offsets,
            targets,
            stamp: vec![0; n],
            epoch: 0,
            queue: Vec::new(),
        }
    }

    /// The number of nodes reachable from `root` (root excluded): a plain
    /// breadth-first search with an epoch-stamped visited array.
    pub(crate) fn bfs(&mut self, root: u32) -> usize {
        self.epoch += 1;
        self.queue.clear();
        self.stamp[root as usize] = self.epoch;
        self.queue.push(root);
        let mut head = 0;
        while head < self.queue.len() {
            let from = self.queue[head] as usize;
            head += 1;
            for &to in &self.targets[self.offsets[from] as usize..self.offsets[from + 1] as usize] {
                if self.stamp[to as usize] != self.epoch {
                    self.stamp[to as usize] = self.epoch;
                    self.queue.push(to);
                }
            }
        }
        self.queue.len() - 1
    }

    /// The node's out-degree in the direction failure travels.
    pub(crate) fn degree(&self, node: u32) -> usize {
        (self.offsets[node as usize + 1] - self.offsets[node as usize]) as usize
    }
}

/// The CI whose failure reaches the most others, among the 32 with the most
/// direct dependents (ties broken by id).
pub(crate) fn top_ci(estate: &Estate, csr: &mut PlainCsr) -> ResourceId {
    let mut by_degree: Vec<u32> = (0..csr.ids.len() as u32).collect();
    by_degree.sort_by_key(|&n| {
        (
            std::cmp::Reverse(csr.degree(n)),
            csr.ids[n as usize].clone(),
        )
    });
    let reaches: Vec<(usize, u32)> = by_degree
        .iter()
        .take(32)
        .map(|&n| (csr.bfs(n), n))
        .collect();
    let best = reaches
        .into_iter()
        .max_by_key(|&(reach, n)| (reach, std::cmp::Reverse(csr.ids[n as usize].clone())))
        .map(|(_, n)| n)
        .expect("the estate has CIs");
    debug_assert!(estate.ci(csr.ids[best as usize].as_str()).is_some());
    csr.ids[best as usize].clone()
}

/// Whether a class is a low layer of the generated estate.
fn low_level(class: &CiClass) -> bool {
    matches!(
        class,
        CiClass::Rack
            | CiClass::Hypervisor
            | CiClass::Server
            | CiClass::Storage
            | CiClass::NetworkDevice
            | CiClass::Power
            | CiClass::VirtualMachine
    )
}

/// `count` low-level CIs picked with a fixed stride, so every run picks the
/// same ones.
pub(crate) fn low_level_cis(estate: &Estate, count: usize) -> Vec<ResourceId> {
    let low: Vec<ResourceId> = estate
        .cmdb()
        .iter()
        .filter(|ci| low_level(ci.class()))
        .map(|ci| ci.id().clone())
        .collect();
    let stride = (low.len() / count).max(1);
    low.into_iter().step_by(stride).take(count).collect()
}

/// A CI that nothing depends on (a business service).
pub(crate) fn top_of_stack(estate: &Estate, csr: &PlainCsr) -> ResourceId {
    estate
        .cmdb()
        .iter()
        .find(|ci| csr.degree(csr.index[ci.id()]) == 0)
        .map(|ci| ci.id().clone())
        .expect("some CI has nothing above it")
}

/// Peak resident memory of this process so far, in MiB (Linux only; 0
/// elsewhere).
pub(crate) fn peak_rss_mib() -> u64 {
    status_mib("VmHWM:")
}

/// A memory figure of `/proc/self/status` (`VmHWM:`, `VmRSS:`) in MiB (0
/// where there is none).
pub(crate) fn status_mib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(field))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024)
}

/// `SplitMix64`'s finaliser: a bijection on `u64` that scatters
/// neighbouring numbers, so hashed ids and picks have no locality.
pub(crate) fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A small seeded pseudo-random sequence (`SplitMix64`) for bench inputs:
/// the same seed gives the same inputs on every run.
pub(crate) struct Mix(u64);

impl Mix {
    /// A sequence seeded with `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next number.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// A number below `bound` (which is not zero).
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// The id `<prefix>-<16 hex digits>` of the `i`th item: distinct for
/// distinct `i` (the hash is a bijection), with no shared structure
/// between neighbours, as cloud instance ids and serial numbers are.
pub(crate) fn hashed_id(prefix: &str, i: u64) -> ResourceId {
    ResourceId::new(format!("{prefix}-{:016x}", mix(i ^ SEED))).expect("a hashed id is a valid id")
}

/// The classes of [`hashed_records`] with their weights out of 100, about
/// the shares of the generated estate.
const CLASSES: [(CiClass, &str, u64); 10] = [
    (CiClass::VirtualMachine, "vm", 40),
    (CiClass::Container, "ctr", 26),
    (CiClass::Application, "app", 12),
    (CiClass::Database, "db", 5),
    (CiClass::Queue, "mq", 3),
    (CiClass::Cache, "cache", 3),
    (CiClass::LoadBalancer, "lb", 3),
    (CiClass::Hypervisor, "hv", 4),
    (CiClass::Server, "srv", 2),
    (CiClass::Storage, "san", 2),
];

/// The owning teams of [`hashed_records`].
const TEAMS: [&str; 6] = [
    "team-payments",
    "team-platform",
    "team-data",
    "team-identity",
    "team-search",
    "team-sre",
];

/// The regions of [`hashed_records`].
const REGIONS: [&str; 4] = ["eu-west-2", "eu-west-1", "us-east-1", "ap-southeast-1"];

/// `count` configuration items of the generated estate's shape (its mix of
/// classes, statuses, environments, owners and attributes) with hashed
/// ids (see [`hashed_id`]), and an asset of the same id for about 60% of
/// the infrastructure items, in an order with no locality.
pub(crate) fn hashed_records(count: usize) -> (Vec<ConfigurationItem>, Vec<Asset>) {
    let mut rng = Mix::new(SEED ^ count as u64);
    let mut cis = Vec::with_capacity(count);
    let mut assets = Vec::new();
    let gbp = Currency::new("GBP").expect("an ISO 4217 code");
    let day = NaiveDate::from_ymd_opt(2024, 1, 1).expect("a valid date");
    for i in 0..count {
        let mut pick = rng.below(100) as u64;
        let (class, prefix) = CLASSES
            .iter()
            .find(|(_, _, weight)| {
                let hit = pick < *weight;
                pick = pick.saturating_sub(*weight);
                hit
            })
            .map_or((CiClass::VirtualMachine, "vm"), |(class, prefix, _)| {
                (class.clone(), *prefix)
            });
        let id = hashed_id(prefix, i as u64);
        let status = match rng.below(100) {
            0..95 => OperationalStatus::Operational,
            95..97 => OperationalStatus::InMaintenance,
            97..99 => OperationalStatus::Standby,
            _ => OperationalStatus::Retired,
        };
        let environment = match rng.below(10) {
            0..8 => Environment::Production,
            8 => Environment::Staging,
            _ => Environment::Development,
        };
        let team = TEAMS[rng.below(TEAMS.len())];
        let region = Region::new(REGIONS[rng.below(REGIONS.len())]).expect("a valid region");
        let mut builder = ConfigurationItem::builder(id.clone(), id.as_str(), class.clone())
            .status(status)
            .environment(environment)
            .region(region.clone())
            .criticality(match rng.below(4) {
                0 => Criticality::Low,
                1 => Criticality::Medium,
                2 => Criticality::High,
                _ => Criticality::MissionCritical,
            })
            .owner(team);
        builder = match class {
            CiClass::VirtualMachine | CiClass::Hypervisor => builder
                .attribute(
                    "os",
                    ["Ubuntu 24.04", "RHEL 9", "Windows Server 2022"][rng.below(3)],
                )
                .attribute("cores", [2_i64, 4, 8, 16][rng.below(4)]),
            CiClass::Application => builder.attribute("version", format!("1.{}.0", rng.below(40))),
            CiClass::Database => builder.attribute("engine", "postgres"),
            _ => builder.attribute("tier", i64::try_from(rng.below(3)).expect("small")),
        };
        cis.push(builder.build().expect("a valid item"));
        let infrastructure = matches!(
            class,
            CiClass::VirtualMachine
                | CiClass::Hypervisor
                | CiClass::Server
                | CiClass::Storage
                | CiClass::LoadBalancer
                | CiClass::Database
        );
        if infrastructure && rng.below(10) < 6 {
            let bought = day + chrono::Days::new(rng.below(900) as u64);
            let kind = if matches!(class, CiClass::VirtualMachine | CiClass::LoadBalancer) {
                AssetKind::CloudResource
            } else {
                AssetKind::Hardware
            };
            let asset = Asset::builder(id.clone(), prefix, kind)
                .lifecycle(Lifecycle::InUse)
                .owner(team)
                .budget_owner("Dana Whitfield")
                .cost_center(["CC-100", "CC-200", "CC-300"][rng.below(3)])
                .location(region.as_str())
                .purchase_date(bought)
                .purchase_cost(Money::from_minor(
                    i64::try_from(100_000 + rng.below(2_000_000)).expect("fits"),
                    gbp,
                ))
                .monthly_cost(Money::from_minor(
                    i64::try_from(1_000 + rng.below(30_000)).expect("fits"),
                    gbp,
                ))
                .warranty_end(bought + chrono::Days::new(1_095))
                .build()
                .expect("a valid asset");
            assets.push(asset);
        }
    }
    (cis, assets)
}
