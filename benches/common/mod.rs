//! Shared set-up for the benches: generated estates, the queries' subjects,
//! and the plain CSR breadth-first search the crate is measured against.

#![allow(dead_code, reason = "each bench binary uses a different part")]
#![allow(
    clippy::cast_possible_truncation,
    reason = "node indices of a bench-sized graph fit in u32"
)]

use std::collections::HashMap;

use itam_cmdb::{CiClass, Estate, ResourceId, synth::Generator};

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
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024)
}
