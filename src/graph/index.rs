//! A compact adjacency index built from the topology for fast queries.
//!
//! petgraph's `StableGraph` is the source of truth and takes writes; queries
//! run on this index instead: two compressed sparse row (CSR) adjacencies, one
//! in the direction failure travels ("up": from a CI to what its failure
//! impacts) and one in the direction of dependency ("down": from a CI to what
//! it depends on), plus a byte or two per node for filters. The CMDB builds
//! it on the first query after a write and drops it on the next write, so a
//! query always sees every write.

use std::sync::Mutex;

use super::store::{KindId, Topology};
use crate::cmdb::{CiClass, ConfigurationItem, Environment, OperationalStatus, Region};
use crate::hash::HashMap;

/// No node, entry or slot.
pub(crate) const NONE: u32 = u32::MAX;

/// What a CSR edge knows about the relationship behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EdgeMeta(u32);

impl EdgeMeta {
    const FORWARD: u32 = 1 << 16;
    const MEMBER: u32 = 1 << 17;

    fn new(kind: KindId, forward: bool, member: bool) -> Self {
        let mut bits = u32::from(kind.0);
        if forward {
            bits |= Self::FORWARD;
        }
        if member {
            bits |= Self::MEMBER;
        }
        Self(bits)
    }

    /// The root meta: no relationship.
    pub(crate) const ROOT: Self = Self(u32::MAX);

    pub(crate) fn kind(self) -> KindId {
        KindId((self.0 & 0xFFFF) as u16)
    }

    /// Whether the traversal followed the relationship from its source to its
    /// target (rather than against it).
    pub(crate) fn forward(self) -> bool {
        self.0 & Self::FORWARD != 0
    }

    /// Whether this is a membership edge (member to group in the up
    /// direction, group to member in the down direction).
    pub(crate) fn member(self) -> bool {
        self.0 != u32::MAX && self.0 & Self::MEMBER != 0
    }

    pub(crate) fn is_root(self) -> bool {
        self.0 == u32::MAX
    }
}

/// A compressed sparse row adjacency: each node's edges stored together,
/// in the order they were given.
#[derive(Debug, Default)]
pub(crate) struct Csr {
    offsets: Vec<u32>,
    targets: Vec<u32>,
    /// One per target; empty for a graph built by [`links`](Self::links).
    metas: Vec<EdgeMeta>,
}

impl Csr {
    fn build(nodes: usize, edges: Vec<(u32, u32, EdgeMeta)>) -> Self {
        let offsets = offsets(nodes, edges.iter().map(|(from, _, _)| *from));
        // Counting sort by source keeps each node's edges in input order.
        let mut next: Vec<u32> = offsets[..nodes].to_vec();
        let mut targets = vec![0u32; edges.len()];
        let mut metas = vec![EdgeMeta::ROOT; edges.len()];
        for (from, to, meta) in edges {
            let slot = &mut next[from as usize];
            targets[*slot as usize] = to;
            metas[*slot as usize] = meta;
            *slot += 1;
        }
        Self {
            offsets,
            targets,
            metas,
        }
    }

    /// Sorts each node's edges by the neighbour's `rank`, then the kind's
    /// `kind_rank`, then direction.
    ///
    /// # Complexity
    ///
    /// O(E log d) for the largest degree d.
    fn canonical(&mut self, rank: &[u32], kind_rank: &[u16]) {
        let mut buffer: Vec<(u32, u16, bool, u32, EdgeMeta)> = Vec::new();
        for node in 0..self.offsets.len().saturating_sub(1) {
            let range = self.range(index_u32(node));
            if range.len() < 2 {
                continue;
            }
            buffer.clear();
            buffer.extend(range.clone().map(|at| {
                let (to, meta) = (self.targets[at], self.metas[at]);
                let kind = kind_rank[usize::from(meta.kind().0)];
                (rank[to as usize], kind, meta.forward(), to, meta)
            }));
            buffer.sort_unstable_by_key(|&(rank, kind, forward, ..)| (rank, kind, forward));
            for (at, &(.., to, meta)) in range.zip(&buffer) {
                self.targets[at] = to;
                self.metas[at] = meta;
            }
        }
    }

    /// A plain adjacency over nodes `0..nodes`, without metas, each node's
    /// edges in the order given. Every end must be below `nodes`.
    ///
    /// # Complexity
    ///
    /// O(V + E).
    pub(crate) fn links(nodes: usize, edges: Vec<(u32, u32)>) -> Self {
        let offsets = offsets(nodes, edges.iter().map(|(from, _)| *from));
        let mut next: Vec<u32> = offsets[..nodes].to_vec();
        let mut targets = vec![0u32; edges.len()];
        for (from, to) in edges {
            let slot = &mut next[from as usize];
            targets[*slot as usize] = to;
            *slot += 1;
        }
        Self {
            offsets,
            targets,
            metas: Vec::new(),
        }
    }

    /// The number of nodes.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Where the edges of `node` sit in [`targets`](Self::targets) and
    /// [`metas`](Self::metas).
    #[inline]
    pub(crate) fn range(&self, node: u32) -> std::ops::Range<usize> {
        let node = node as usize;
        self.offsets[node] as usize..self.offsets[node + 1] as usize
    }

    /// The nodes `node` has an edge to.
    #[inline]
    pub(crate) fn next(&self, node: u32) -> &[u32] {
        &self.targets[self.range(node)]
    }

    #[inline]
    pub(crate) fn targets(&self) -> &[u32] {
        &self.targets
    }

    #[inline]
    pub(crate) fn metas(&self) -> &[EdgeMeta] {
        &self.metas
    }
}

/// The CSR offsets of `nodes` nodes with edges from `sources`.
fn offsets(nodes: usize, sources: impl Iterator<Item = u32>) -> Vec<u32> {
    let mut offsets = vec![0u32; nodes + 1];
    for from in sources {
        offsets[from as usize + 1] += 1;
    }
    for i in 0..nodes {
        offsets[i + 1] += offsets[i];
    }
    offsets
}

/// A redundancy group as the index sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Group {
    pub(crate) members: u32,
    pub(crate) needed: u32,
    /// How many members may be down while the group stays up.
    pub(crate) tolerance: u32,
}

/// Interns values to dense ids for per-node filter arrays.
///
/// Ids are `u32`, like node numbers: there are never more distinct values
/// than nodes, so every value gets an id of its own (none is shared, and
/// none is [`NO_LABEL`]).
#[derive(Debug)]
pub(crate) struct Interner<T> {
    ids: HashMap<T, u32>,
}

impl<T: std::hash::Hash + Eq + Clone> Interner<T> {
    fn new() -> Self {
        Self {
            ids: HashMap::default(),
        }
    }

    fn intern(&mut self, value: &T) -> u32 {
        if let Some(id) = self.ids.get(value) {
            return *id;
        }
        // At most one new value per node, and node numbers fit below
        // `NONE`, so this never saturates.
        let id = index_u32(self.ids.len());
        self.ids.insert(value.clone(), id);
        id
    }

    pub(crate) fn get(&self, value: &T) -> Option<u32> {
        self.ids.get(value).copied()
    }
}

/// The per-query scratch space: epoch-stamped so that starting a query costs
/// nothing, however large the estate.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    epoch: u32,
    stamp: Vec<u32>,
    /// A second visited set, for walks in two passes.
    second: Vec<u32>,
    group_epoch: Vec<u32>,
    group_down: Vec<u32>,
}

impl Scratch {
    fn begin(&mut self, nodes: usize, groups: usize) {
        if self.stamp.len() < nodes {
            self.stamp.resize(nodes, 0);
            self.second.resize(nodes, 0);
        }
        if self.group_epoch.len() < groups {
            self.group_epoch.resize(groups, 0);
            self.group_down.resize(groups, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.stamp.fill(0);
            self.second.fill(0);
            self.group_epoch.fill(0);
            self.epoch = 1;
        }
    }

    /// Forgets every mark, for another walk on the same index: O(1),
    /// except once in 2^32 walks.
    pub(crate) fn restart(&mut self) {
        let (nodes, groups) = (self.stamp.len(), self.group_epoch.len());
        self.begin(nodes, groups);
    }

    #[inline]
    pub(crate) fn seen(&self, node: u32) -> bool {
        self.stamp[node as usize] == self.epoch
    }

    #[inline]
    pub(crate) fn mark(&mut self, node: u32) {
        self.stamp[node as usize] = self.epoch;
    }

    #[inline]
    pub(crate) fn seen_second(&self, node: u32) -> bool {
        self.second[node as usize] == self.epoch
    }

    #[inline]
    pub(crate) fn mark_second(&mut self, node: u32) {
        self.second[node as usize] = self.epoch;
    }

    /// Counts one more down member of group `slot` and returns the count,
    /// and whether this is the walk's first for the group. The first count
    /// starts from `before()`, the members down before the failure.
    #[inline]
    pub(crate) fn member_down(&mut self, slot: u32, before: impl FnOnce() -> u32) -> (bool, u32) {
        let slot = slot as usize;
        let first = self.group_epoch[slot] != self.epoch;
        if first {
            self.group_epoch[slot] = self.epoch;
            self.group_down[slot] = before();
        }
        self.group_down[slot] += 1;
        (first, self.group_down[slot])
    }

    pub(crate) fn down_members(&self, slot: u32) -> u32 {
        let slot = slot as usize;
        if self.group_epoch[slot] == self.epoch {
            self.group_down[slot]
        } else {
            0
        }
    }
}

/// The query index of one state of the topology.
#[derive(Debug)]
pub(crate) struct Index {
    pub(crate) nodes: usize,
    /// From a node to the nodes its failure impacts.
    pub(crate) up: Csr,
    /// From a node to the nodes it depends on.
    pub(crate) down: Csr,
    /// The group slot of each node, or [`NONE`].
    pub(crate) group_slot: Vec<u32>,
    pub(crate) groups: Vec<Group>,
    pub(crate) status: Vec<OperationalStatus>,
    pub(crate) class: Vec<u32>,
    pub(crate) region: Vec<u32>,
    pub(crate) environment: Vec<u32>,
    /// Each node's place in the CMDB (the order items were added), or
    /// [`NONE`] for a vacant node: the order of every result that lists
    /// items by their place.
    pub(crate) rank: Vec<u32>,
    pub(crate) classes: Interner<CiClass>,
    pub(crate) regions: Interner<Region>,
    pub(crate) environments: Interner<Environment>,
    pool: Mutex<Vec<Scratch>>,
}

/// The id stored for a node with no region or environment.
pub(crate) const NO_LABEL: u32 = u32::MAX;

impl Index {
    pub(crate) fn build<'a>(
        topology: &Topology,
        items: impl Iterator<Item = &'a ConfigurationItem>,
    ) -> Self {
        let nodes = topology.node_bound();

        let mut status = vec![OperationalStatus::Operational; nodes];
        let mut class = vec![0u32; nodes];
        let mut region = vec![NO_LABEL; nodes];
        let mut environment = vec![NO_LABEL; nodes];
        let mut rank = vec![NONE; nodes];
        let mut classes = Interner::new();
        let mut regions = Interner::new();
        let mut environments = Interner::new();
        for (position, item) in items.enumerate() {
            let Some(node) = topology.node(item.id().as_str()) else {
                continue;
            };
            let node = node.index();
            rank[node] = index_u32(position);
            status[node] = item.status();
            class[node] = classes.intern(item.class());
            if let Some(r) = item.region() {
                region[node] = regions.intern(r);
            }
            if let Some(e) = item.environment() {
                environment[node] = environments.intern(e);
            }
        }

        let mut up = Vec::with_capacity(topology.edge_count());
        let mut down = Vec::with_capacity(topology.edge_count());
        let mut group_slot = vec![NONE; nodes];
        let mut groups: Vec<Group> = Vec::new();
        for (node, _) in topology.quorums() {
            group_of(&mut group_slot, &mut groups, node.index());
        }
        for (source, kind_id, target) in topology.edges() {
            let (s, t) = (index_u32(source.index()), index_u32(target.index()));
            let kind = topology.kind(kind_id);
            let member = kind.is_membership();
            let propagation = kind.propagation();
            if member {
                let slot = group_of(&mut group_slot, &mut groups, t as usize);
                groups[slot as usize].members += 1;
            }
            if propagation.target_impacts_source() {
                up.push((t, s, EdgeMeta::new(kind_id, false, member)));
                down.push((s, t, EdgeMeta::new(kind_id, true, member)));
            }
            if propagation.source_impacts_target() {
                up.push((s, t, EdgeMeta::new(kind_id, true, member)));
                down.push((t, s, EdgeMeta::new(kind_id, false, member)));
            }
        }
        for (node, slot) in group_slot.iter().enumerate() {
            if *slot == NONE {
                continue;
            }
            let group = &mut groups[*slot as usize];
            let node = petgraph::stable_graph::NodeIndex::new(node);
            group.needed = topology
                .quorum(node)
                .map_or(group.members, |quorum| quorum.needed(group.members));
            group.tolerance = group.members.saturating_sub(group.needed);
        }

        // Each node's edges in an order that depends on the CMDB's content
        // alone, not on which graph slots earlier removals freed: by the
        // neighbour's place in the CMDB, then kind, then direction.
        let kind_rank = kind_ranks(topology);
        let mut up = Csr::build(nodes, up);
        up.canonical(&rank, &kind_rank);
        let mut down = Csr::build(nodes, down);
        down.canonical(&rank, &kind_rank);

        Self {
            nodes,
            up,
            down,
            rank,
            group_slot,
            groups,
            status,
            class,
            region,
            environment,
            classes,
            regions,
            environments,
            pool: Mutex::new(Vec::new()),
        }
    }

    /// Takes a scratch space from the pool (or makes one) ready for a query.
    pub(crate) fn scratch(&self) -> Scratch {
        let mut scratch = self
            .pool
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop())
            .unwrap_or_default();
        scratch.begin(self.nodes, self.groups.len());
        scratch
    }

    /// Returns a scratch space to the pool.
    pub(crate) fn recycle(&self, scratch: Scratch) {
        if let Ok(mut pool) = self.pool.lock() {
            if pool.len() < 4 {
                pool.push(scratch);
            }
        }
    }
}

/// Each interned kind's place in the order of `RelationKind`s, which
/// does not depend on the order the kinds were first used in.
pub(crate) fn kind_ranks(topology: &Topology) -> Vec<u16> {
    let kinds = topology.kinds();
    let mut order: Vec<usize> = (0..kinds.len()).collect();
    order.sort_unstable_by(|a, b| kinds[*a].cmp(&kinds[*b]));
    let mut rank = vec![0u16; kinds.len()];
    for (place, kind) in order.into_iter().enumerate() {
        // Interned kinds are limited to `u16` ids (`check_room`).
        rank[kind] = u16::try_from(place).unwrap_or(u16::MAX);
    }
    rank
}

/// The group slot of `node`, allocating one if it has none.
fn group_of(group_slot: &mut [u32], groups: &mut Vec<Group>, node: usize) -> u32 {
    if group_slot[node] == NONE {
        group_slot[node] = index_u32(groups.len());
        groups.push(Group {
            members: 0,
            needed: 0,
            tolerance: 0,
        });
    }
    group_slot[node]
}

/// Node indices fit in `u32`: petgraph's default index type is `u32`.
fn index_u32(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(NONE)
}
