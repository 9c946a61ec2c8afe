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

use petgraph::stable_graph::NodeIndex;

use super::kind::RelationKind;
use super::store::{KindId, Topology};
use crate::cmdb::{CiClass, ConfigurationItem, Environment, OperationalStatus, Region};
use crate::hash::HashMap;

/// No node, entry or slot.
pub(crate) const NONE: u32 = u32::MAX;

/// The garbage slots an adjacency keeps beyond a quarter of its size
/// before a sweep, so that a small index is not swept on every write.
const SWEEP_SLACK: usize = 1024;

/// The work a patched index may do beyond its budget, for the same reason.
const BUDGET_SLACK: usize = if cfg!(test) { 16 } else { 4096 };

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

    /// The same relationship followed the other way.
    pub(crate) fn reversed(self) -> Self {
        Self(self.0 ^ Self::FORWARD)
    }

    pub(crate) fn is_root(self) -> bool {
        self.0 == u32::MAX
    }
}

/// Where one node's edges sit in a [`Csr`]'s arrays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    #[inline]
    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    fn len(self) -> usize {
        (self.end - self.start) as usize
    }
}

/// A compressed sparse row adjacency: each node's edges stored together.
///
/// Each edge is its far end and its meta side by side, so a walk reads one
/// array (and one cache line per node's edges where two arrays would need
/// two).
///
/// Each node has its own span of the edge array rather than the usual
/// offsets, so that a write can patch one node's edges without moving the
/// others': an edge is added by moving the node's span to the end of the
/// array (or in place, when it is the last span already), and removed by
/// closing the gap inside the span. The slots left behind are garbage,
/// swept out once they outnumber a quarter of the array.
#[derive(Debug, Default)]
pub(crate) struct Csr {
    spans: Vec<Span>,
    /// Each edge's far end and meta ([`EdgeMeta::ROOT`] in a graph built by
    /// [`links`](Self::links)).
    edges: Vec<(u32, EdgeMeta)>,
    /// Slots of the array that no span covers.
    garbage: usize,
}

impl Csr {
    fn build(nodes: usize, edges: Vec<(u32, u32, EdgeMeta)>) -> Self {
        let spans = spans(nodes, edges.iter().map(|(from, _, _)| *from));
        // Counting sort by source keeps each node's edges in input order.
        let mut next: Vec<u32> = spans.iter().map(|span| span.start).collect();
        let mut laid = vec![(0u32, EdgeMeta::ROOT); edges.len()];
        for (from, to, meta) in edges {
            let slot = &mut next[from as usize];
            laid[*slot as usize] = (to, meta);
            *slot += 1;
        }
        Self {
            spans,
            edges: laid,
            garbage: 0,
        }
    }

    /// Sorts each node's edges by the neighbour's `rank`, then the kind's
    /// `kind_rank`, then direction.
    ///
    /// # Complexity
    ///
    /// O(E log d) for the largest degree d.
    fn canonical(&mut self, rank: &[u32], kind_rank: &[u16]) {
        for node in 0..self.spans.len() {
            let range = self.range(index_u32(node));
            if range.len() < 2 {
                continue;
            }
            self.edges[range].sort_unstable_by_key(|&(to, meta)| {
                (
                    rank[to as usize],
                    kind_rank[usize::from(meta.kind().0)],
                    meta.forward(),
                )
            });
        }
    }

    /// A plain adjacency over nodes `0..nodes`, without metas, each node's
    /// edges in the order given. Every end must be below `nodes`.
    ///
    /// # Complexity
    ///
    /// O(V + E).
    pub(crate) fn links(nodes: usize, edges: Vec<(u32, u32)>) -> Self {
        Self::build(
            nodes,
            edges
                .into_iter()
                .map(|(from, to)| (from, to, EdgeMeta::ROOT))
                .collect(),
        )
    }

    /// The number of nodes.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    /// Where the edges of `node` sit in [`edges`](Self::edges).
    #[inline]
    pub(crate) fn range(&self, node: u32) -> std::ops::Range<usize> {
        self.spans[node as usize].range()
    }

    /// The nodes `node` has an edge to.
    #[inline]
    pub(crate) fn next(&self, node: u32) -> impl Iterator<Item = u32> + '_ {
        self.edges[self.range(node)].iter().map(|&(to, _)| to)
    }

    /// Every slot: each edge's far end and meta.
    #[inline]
    pub(crate) fn edges(&self) -> &[(u32, EdgeMeta)] {
        &self.edges
    }

    /// The number of edges.
    fn edge_count(&self) -> usize {
        self.edges.len() - self.garbage
    }

    /// Makes room for nodes `0..nodes`, each new one without edges.
    fn grow(&mut self, nodes: usize) {
        if self.spans.len() < nodes {
            self.spans.resize(nodes, Span::default());
        }
    }

    /// Adds the edge `from -> to` before the first of `from`'s edges that
    /// `before` says it precedes, keeping the span's order. Returns the
    /// number of slots moved.
    ///
    /// # Complexity
    ///
    /// O(d) for `from`'s d edges; O(log d) amortised when `from`'s span is
    /// the last of the array and the edge goes last.
    fn insert(
        &mut self,
        from: u32,
        to: u32,
        meta: EdgeMeta,
        before: impl Fn(u32, EdgeMeta) -> bool,
    ) -> usize {
        let span = self.spans[from as usize];
        let range = span.range();
        // The span is sorted, so `before` is false up to a point and true
        // from there on.
        let at = range.start
            + self.edges[range.clone()]
                .partition_point(|&(other, other_meta)| !before(other, other_meta));
        if range.end == self.edges.len() {
            // The last span grows in place.
            self.edges.insert(at, (to, meta));
            self.spans[from as usize].end += 1;
            return range.end - at + 1;
        }
        let start = self.edges.len();
        self.edges.extend_from_within(range.start..at);
        self.edges.push((to, meta));
        self.edges.extend_from_within(at..range.end);
        self.garbage += span.len();
        self.spans[from as usize] = Span {
            start: index_u32(start),
            end: index_u32(self.edges.len()),
        };
        span.len() + 1
    }

    /// Drops every edge of `from`; returns how many there were. O(1).
    fn clear(&mut self, from: u32) -> usize {
        let span = std::mem::take(&mut self.spans[from as usize]);
        self.garbage += span.len();
        span.len()
    }

    /// Removes the edge `from -> to` with `meta`, if there is one, closing
    /// the gap inside the span. Returns the number of slots looked at.
    ///
    /// # Complexity
    ///
    /// O(d) for `from`'s d edges.
    fn remove(&mut self, from: u32, to: u32, meta: EdgeMeta) -> usize {
        let span = self.spans[from as usize];
        let range = span.range();
        let found = self.edges[range.clone()]
            .iter()
            .position(|&edge| edge == (to, meta));
        if let Some(offset) = found {
            let at = range.start + offset;
            self.edges.copy_within(at + 1..range.end, at);
            self.spans[from as usize].end -= 1;
            self.garbage += 1;
        }
        span.len()
    }

    /// Sweeps out the garbage once it outnumbers a quarter of the array,
    /// keeping every span's order; returns the slots moved. O(V + E), paid
    /// for by the patches that left the garbage.
    fn sweep_if_due(&mut self) -> usize {
        let due = if cfg!(test) {
            // Often, to test sweeps.
            self.garbage > 3
        } else {
            self.garbage > (self.spans.len() + self.edges.len()) / 4 + SWEEP_SLACK
        };
        if !due {
            return 0;
        }
        let live = self.edge_count();
        let mut edges = Vec::with_capacity(live);
        for span in &mut self.spans {
            let start = index_u32(edges.len());
            edges.extend_from_slice(&self.edges[span.range()]);
            *span = Span {
                start,
                end: index_u32(edges.len()),
            };
        }
        self.edges = edges;
        self.garbage = 0;
        self.spans.len() + live
    }
}

/// The spans of `nodes` nodes whose edges, from `sources`, are laid out
/// node by node.
fn spans(nodes: usize, sources: impl Iterator<Item = u32>) -> Vec<Span> {
    let mut counts = vec![0u32; nodes];
    for from in sources {
        counts[from as usize] += 1;
    }
    let mut start = 0u32;
    counts
        .into_iter()
        .map(|count| {
            let span = Span {
                start,
                end: start + count,
            };
            start += count;
            span
        })
        .collect()
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
///
/// Each id counts the nodes that hold its value, so that a value no node
/// holds any more (after patches) is unknown, as in a fresh build.
#[derive(Debug)]
pub(crate) struct Interner<T> {
    ids: HashMap<T, u32>,
    /// How many nodes hold each id's value.
    uses: Vec<u32>,
}

impl<T: std::hash::Hash + Eq + Clone> Interner<T> {
    fn new() -> Self {
        Self {
            ids: HashMap::default(),
            uses: Vec::new(),
        }
    }

    /// The id of `value`, counting one more node that holds it.
    fn intern(&mut self, value: &T) -> u32 {
        let id = if let Some(id) = self.ids.get(value) {
            *id
        } else {
            // At most one new value per node or patch, and an index
            // is dropped before its patches outnumber its nodes and
            // edges twice over, so this never saturates.
            let id = index_u32(self.ids.len());
            self.ids.insert(value.clone(), id);
            self.uses.push(0);
            id
        };
        self.uses[id as usize] += 1;
        id
    }

    /// Counts one node fewer that holds the value of `id`.
    fn release(&mut self, id: u32) {
        self.uses[id as usize] -= 1;
    }

    /// The id of `value`, if a node holds it.
    pub(crate) fn get(&self, value: &T) -> Option<u32> {
        self.ids
            .get(value)
            .copied()
            .filter(|id| self.uses[*id as usize] > 0)
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
    /// The node of each group slot, or [`NONE`] for a free slot.
    pub(crate) group_node: Vec<u32>,
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
    /// The rank the next item added gets: ranks only order nodes, so an
    /// added item goes after every other.
    next_rank: u32,
    /// Group slots no node holds any more, for reuse.
    free_groups: Vec<u32>,
    /// What the patches since the build cost, in slots touched.
    work: usize,
    /// The work after which patching has cost about what a rebuild costs.
    budget: usize,
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
        let mut items_seen = 0;
        for (position, item) in items.enumerate() {
            items_seen = position + 1;
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
            if kind.is_membership() {
                let slot = group_of(&mut group_slot, &mut groups, t as usize);
                groups[slot as usize].members += 1;
            }
            for (is_up, from, to, meta) in index_edges(s, kind_id, kind, t) {
                if is_up {
                    up.push((from, to, meta));
                } else {
                    down.push((from, to, meta));
                }
            }
        }
        let mut group_node = vec![NONE; groups.len()];
        for (node, slot) in group_slot.iter().enumerate() {
            if *slot == NONE {
                continue;
            }
            group_node[*slot as usize] = index_u32(node);
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
        let budget = 2 * (nodes + up.edge_count() + down.edge_count()) + BUDGET_SLACK;

        Self {
            nodes,
            up,
            down,
            rank,
            group_slot,
            groups,
            group_node,
            status,
            class,
            region,
            environment,
            classes,
            regions,
            environments,
            next_rank: index_u32(items_seen),
            free_groups: Vec::new(),
            work: 0,
            budget,
            pool: Mutex::new(Vec::new()),
        }
    }

    /// Whether the patches since the build have cost about what a rebuild
    /// costs: the CMDB then drops the index, so that patching never costs
    /// more than rebuilding on every query would.
    pub(crate) fn spent(&self) -> bool {
        self.work > self.budget
    }

    /// Makes room for nodes `0..nodes`, each new one vacant.
    fn grow(&mut self, nodes: usize) {
        if self.nodes >= nodes {
            return;
        }
        self.nodes = nodes;
        self.status.resize(nodes, OperationalStatus::Operational);
        self.class.resize(nodes, 0);
        self.region.resize(nodes, NO_LABEL);
        self.environment.resize(nodes, NO_LABEL);
        self.rank.resize(nodes, NONE);
        self.group_slot.resize(nodes, NONE);
        self.up.grow(nodes);
        self.down.grow(nodes);
    }

    /// Patches in `item`, just added to the CMDB at `node`: it goes after
    /// every other item. O(1) amortised.
    pub(crate) fn add_node(&mut self, node: usize, item: &ConfigurationItem) {
        self.grow(node + 1);
        // A vacant node holds no labels to release.
        self.set_labels(node, item);
        self.rank[node] = self.next_rank;
        self.next_rank += 1;
    }

    /// Patches in the status, class, region and environment of the item at
    /// `node`. O(1) expected.
    pub(crate) fn set_labels(&mut self, node: usize, item: &ConfigurationItem) {
        if self.rank[node] != NONE {
            self.release_labels(node);
        }
        self.status[node] = item.status();
        self.class[node] = self.classes.intern(item.class());
        self.region[node] = item.region().map_or(NO_LABEL, |r| self.regions.intern(r));
        self.environment[node] = item
            .environment()
            .map_or(NO_LABEL, |e| self.environments.intern(e));
        self.work += 1;
    }

    /// Releases the class, region and environment of the live `node`.
    fn release_labels(&mut self, node: usize) {
        self.classes.release(self.class[node]);
        if self.region[node] != NO_LABEL {
            self.regions.release(self.region[node]);
        }
        if self.environment[node] != NO_LABEL {
            self.environments.release(self.environment[node]);
        }
    }

    /// Patches out the item at `node` and `touching`, its relationships
    /// (as the topology has them, before it removes them): each is taken
    /// out of its other end's edges, and the item's own edges are dropped
    /// at once.
    ///
    /// # Complexity
    ///
    /// O(d) for the item's d relationships, plus O(d') for each other end
    /// of degree d'. When that would take the patches past their budget,
    /// nothing is patched and the index is spent (the CMDB drops it), so a
    /// hub with a million leaves costs O(d) to remove, not O(d²).
    pub(crate) fn remove_item(
        &mut self,
        topology: &Topology,
        node: usize,
        touching: &[(NodeIndex, KindId, NodeIndex)],
    ) {
        let n = index_u32(node);
        let cost: usize = touching
            .iter()
            .map(|(source, _, target)| {
                let other = if source.index() == node {
                    target
                } else {
                    source
                };
                let other = index_u32(other.index());
                self.up.range(other).len() + self.down.range(other).len()
            })
            .sum();
        if self.work + cost > self.budget {
            self.work = self.budget + 1;
            return;
        }
        for &(source, kind_id, target) in touching {
            let kind = topology.kind(kind_id);
            self.unrelate_but(topology, source.index(), kind_id, kind, target.index(), n);
        }
        for csr in [&mut self.up, &mut self.down] {
            self.work += csr.clear(n);
        }
        self.remove_node(node);
        self.sweep_if_due();
    }

    /// Patches out the item at `node`, whose relationships were patched out
    /// already. O(1).
    fn remove_node(&mut self, node: usize) {
        self.release_labels(node);
        self.rank[node] = NONE;
        self.status[node] = OperationalStatus::Operational;
        self.class[node] = 0;
        self.region[node] = NO_LABEL;
        self.environment[node] = NO_LABEL;
        let slot = std::mem::replace(&mut self.group_slot[node], NONE);
        if slot != NONE {
            self.group_node[slot as usize] = NONE;
            self.free_groups.push(slot);
        }
        self.work += 1;
    }

    /// Patches in the relationship `source -[kind]-> target`, just added,
    /// keeping each node's edges in their canonical order.
    ///
    /// # Complexity
    ///
    /// O(d) for the larger degree d of the two ends, O(log d) when an end
    /// was patched last and the edge goes last.
    pub(crate) fn relate(
        &mut self,
        topology: &Topology,
        source: usize,
        kind_id: KindId,
        target: usize,
    ) {
        let kind = topology.kind(kind_id);
        let (s, t) = (index_u32(source), index_u32(target));
        let rank = &self.rank;
        for (is_up, from, to, meta) in index_edges(s, kind_id, kind, t) {
            let csr = if is_up { &mut self.up } else { &mut self.down };
            let key = (rank[to as usize], kind, meta.forward());
            self.work += csr.insert(from, to, meta, |other, other_meta| {
                let other_key = (
                    rank[other as usize],
                    topology.kind(other_meta.kind()),
                    other_meta.forward(),
                );
                key < other_key
            });
        }
        if kind.is_membership() {
            let slot = self.group_slot(target);
            self.groups[slot as usize].members += 1;
            self.refresh_group(topology, target);
        }
        self.sweep_if_due();
    }

    /// Patches out the relationship `source -[kind]-> target`, just removed
    /// (`kind_id` was its kind's id).
    ///
    /// # Complexity
    ///
    /// O(d) for the larger degree d of the two ends.
    pub(crate) fn unrelate(
        &mut self,
        topology: &Topology,
        source: usize,
        kind_id: KindId,
        kind: &RelationKind,
        target: usize,
    ) {
        self.unrelate_but(topology, source, kind_id, kind, target, NONE);
        self.sweep_if_due();
    }

    /// [`unrelate`](Self::unrelate), leaving the edges from node `keep`
    /// alone (the caller clears them all at once); no sweep.
    fn unrelate_but(
        &mut self,
        topology: &Topology,
        source: usize,
        kind_id: KindId,
        kind: &RelationKind,
        target: usize,
        keep: u32,
    ) {
        let (s, t) = (index_u32(source), index_u32(target));
        for (is_up, from, to, meta) in index_edges(s, kind_id, kind, t) {
            if from == keep {
                continue;
            }
            let csr = if is_up { &mut self.up } else { &mut self.down };
            self.work += csr.remove(from, to, meta);
        }
        if kind.is_membership() && self.group_slot[target] != NONE {
            let slot = self.group_slot[target] as usize;
            self.groups[slot].members -= 1;
            self.refresh_group(topology, target);
        }
    }

    /// Patches in the quorum of the group at `node`. O(1).
    pub(crate) fn set_quorum(&mut self, topology: &Topology, node: usize) {
        self.group_slot(node);
        self.refresh_group(topology, node);
    }

    /// The group slot of `node`, taking one if it has none.
    fn group_slot(&mut self, node: usize) -> u32 {
        if self.group_slot[node] == NONE {
            let empty = Group {
                members: 0,
                needed: 0,
                tolerance: 0,
            };
            let slot = if let Some(slot) = self.free_groups.pop() {
                self.groups[slot as usize] = empty;
                slot
            } else {
                self.groups.push(empty);
                self.group_node.push(NONE);
                index_u32(self.groups.len() - 1)
            };
            self.group_slot[node] = slot;
            self.group_node[slot as usize] = index_u32(node);
        }
        self.group_slot[node]
    }

    /// Recomputes what the group at `node` needs from its members and its
    /// quorum, as a build does; a group with neither gives its slot up.
    fn refresh_group(&mut self, topology: &Topology, node: usize) {
        let slot = self.group_slot[node];
        let quorum = topology.quorum(petgraph::stable_graph::NodeIndex::new(node));
        let group = &mut self.groups[slot as usize];
        if group.members == 0 && quorum.is_none() {
            self.group_slot[node] = NONE;
            self.group_node[slot as usize] = NONE;
            self.free_groups.push(slot);
            return;
        }
        group.needed = quorum.map_or(group.members, |quorum| quorum.needed(group.members));
        group.tolerance = group.members.saturating_sub(group.needed);
    }

    /// Sweeps the adjacencies' garbage when it is due, counting the sweep
    /// as work.
    fn sweep_if_due(&mut self) {
        for csr in [&mut self.up, &mut self.down] {
            self.work += csr.sweep_if_due();
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

/// The edges of the relationship `s -[kind]-> t` in the two adjacencies,
/// as `(in up?, from, to, meta)`: one in each per direction the failure
/// travels.
fn index_edges(
    s: u32,
    kind_id: KindId,
    kind: &RelationKind,
    t: u32,
) -> impl Iterator<Item = (bool, u32, u32, EdgeMeta)> {
    let member = kind.is_membership();
    let propagation = kind.propagation();
    let back = propagation.target_impacts_source().then(|| {
        [
            (true, t, s, EdgeMeta::new(kind_id, false, member)),
            (false, s, t, EdgeMeta::new(kind_id, true, member)),
        ]
    });
    let forth = propagation.source_impacts_target().then(|| {
        [
            (true, s, t, EdgeMeta::new(kind_id, true, member)),
            (false, t, s, EdgeMeta::new(kind_id, false, member)),
        ]
    });
    back.into_iter().chain(forth).flatten()
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

#[cfg(test)]
mod tests {
    #![allow(
        clippy::cast_possible_truncation,
        clippy::cast_possible_wrap,
        reason = "small test sizes"
    )]

    use chrono::{DateTime, TimeDelta, Utc};
    use proptest::prelude::*;

    use super::*;
    use crate::graph::Quorum;
    use crate::graph::kind::Propagation;
    use crate::ownership::{CiField, Claim, Source, Update, Value};
    use crate::{Batch, CiClass, Estate, ResourceId};

    impl<T: Clone + Eq + std::hash::Hash> Interner<T> {
        fn value(&self, id: u32) -> Option<&T> {
            self.ids.iter().find(|(_, v)| **v == id).map(|(k, _)| k)
        }
    }

    impl Index {
        /// What a query can see of the index, by item id and in rank
        /// order: equal for two indices that answer every query alike.
        fn describe(&self, topology: &Topology) -> Vec<String> {
            let mut lines = Vec::new();
            let edges = |csr: &Csr, node: u32| -> Vec<String> {
                csr.range(node)
                    .map(|at| {
                        let (to, meta) = csr.edges()[at];
                        let to = topology.id(petgraph::stable_graph::NodeIndex::new(to as usize));
                        format!(
                            "{to} {} {} {}",
                            topology.kind(meta.kind()),
                            meta.forward(),
                            meta.member()
                        )
                    })
                    .collect()
            };
            for node in 0..self.nodes {
                let n = index_u32(node);
                if self.rank[node] == NONE {
                    // A vacant node is clean.
                    assert!(self.up.range(n).is_empty() && self.down.range(n).is_empty());
                    assert_eq!(self.group_slot[node], NONE);
                    continue;
                }
                let group = match self.group_slot[node] {
                    NONE => None,
                    slot => {
                        assert_eq!(self.group_node[slot as usize], n);
                        let g = self.groups[slot as usize];
                        Some((g.members, g.needed, g.tolerance))
                    }
                };
                let id = topology.id(petgraph::stable_graph::NodeIndex::new(node));
                lines.push((
                    self.rank[node],
                    format!(
                        "{id}: {:?} {:?} {:?} {:?} {group:?} up {:?} down {:?}",
                        self.status[node],
                        self.classes.value(self.class[node]),
                        self.regions.value(self.region[node]),
                        self.environments.value(self.environment[node]),
                        edges(&self.up, n),
                        edges(&self.down, n),
                    ),
                ));
            }
            let slots = self.group_node.iter().filter(|n| **n != NONE).count();
            assert_eq!(
                slots,
                self.group_slot.iter().filter(|s| **s != NONE).count()
            );
            lines.sort();
            let mut lines: Vec<String> = lines.into_iter().map(|(_, line)| line).collect();
            // The labels a filter or a region failure knows.
            let mut known: Vec<String> = self
                .classes
                .ids
                .keys()
                .filter(|c| self.classes.get(c).is_some())
                .map(|c| format!("class {c:?}"))
                .chain(
                    self.regions
                        .ids
                        .keys()
                        .filter(|r| self.regions.get(r).is_some())
                        .map(|r| format!("region {r:?}")),
                )
                .chain(
                    self.environments
                        .ids
                        .keys()
                        .filter(|e| self.environments.get(e).is_some())
                        .map(|e| format!("environment {e:?}")),
                )
                .collect();
            known.sort();
            lines.extend(known);
            lines
        }
    }

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    fn id(n: u8) -> ResourceId {
        ResourceId::new(format!("n{n}")).unwrap()
    }

    fn kinds() -> Vec<RelationKind> {
        vec![
            RelationKind::DependsOn,
            RelationKind::MemberOf,
            RelationKind::ConnectsTo(Propagation::Both),
            RelationKind::custom("feeds", Propagation::SourceToTarget).unwrap(),
            RelationKind::Contains,
        ]
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, u8),
        Remove(u8),
        Relate(u8, usize, u8),
        Unrelate(u8, usize, u8),
        Quorum(u8, u32),
        Status(u8, u8),
        Region(u8, u8),
        Query,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u8..8, 0u8..6).prop_map(|(n, s)| Op::Insert(n, s)),
            1 => (0u8..8).prop_map(Op::Remove),
            6 => (0u8..8, 0usize..5, 0u8..8).prop_map(|(a, k, b)| Op::Relate(a, k, b)),
            2 => (0u8..8, 0usize..5, 0u8..8).prop_map(|(a, k, b)| Op::Unrelate(a, k, b)),
            1 => (0u8..8, 1u32..4).prop_map(|(n, q)| Op::Quorum(n, q)),
            1 => (0u8..8, 0u8..6).prop_map(|(n, s)| Op::Status(n, s)),
            1 => (0u8..8, 0u8..3).prop_map(|(n, r)| Op::Region(n, r)),
            1 => Just(Op::Query),
        ]
    }

    const STATUSES: [OperationalStatus; 6] = [
        OperationalStatus::Operational,
        OperationalStatus::NonOperational,
        OperationalStatus::InMaintenance,
        OperationalStatus::Retired,
        OperationalStatus::Planned,
        OperationalStatus::Standby,
    ];

    fn apply(estate: &mut Estate, op: &Op, at: usize) {
        let mut batch = Batch::new();
        let kinds = kinds();
        let claim = |n: u8, field: CiField, value: Value| {
            Claim::new(
                id(n),
                field,
                Update::Set(value),
                Source::automated("discovery").unwrap(),
                t0() + TimeDelta::minutes(at as i64),
            )
        };
        match op {
            Op::Insert(n, s) => {
                let class = if *s % 2 == 0 {
                    CiClass::Server
                } else {
                    CiClass::Cluster
                };
                let item = ConfigurationItem::builder(id(*n), "item", class)
                    .status(STATUSES[usize::from(*s)])
                    .build()
                    .unwrap();
                batch.insert_ci(item);
            }
            Op::Remove(n) => {
                batch.remove_ci(id(*n));
            }
            Op::Relate(a, k, b) => {
                batch.relate(id(*a), kinds[*k].clone(), id(*b));
            }
            Op::Unrelate(a, k, b) => {
                batch.unrelate(id(*a), kinds[*k].clone(), id(*b));
            }
            Op::Quorum(n, q) => {
                batch.define_group(id(*n), Quorum::AtLeast(*q), []);
            }
            Op::Status(n, s) => {
                batch.claim(claim(
                    *n,
                    CiField::Status,
                    Value::Status(STATUSES[usize::from(*s)]),
                ));
            }
            Op::Region(n, r) => {
                let region =
                    Region::new(["eu-west-1", "eu-west-2", "us-east-1"][usize::from(*r)]).unwrap();
                batch.claim(claim(*n, CiField::Region, Value::Region(region)));
            }
            Op::Query => {
                let _ = estate.cmdb().index();
                return;
            }
        }
        // A batch the estate refuses changes nothing.
        let _ = estate.apply(batch);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// An index patched write by write answers as one built afresh.
        #[test]
        fn a_patched_index_equals_a_fresh_one(ops in proptest::collection::vec(op(), 1..80)) {
            let mut estate = Estate::new();
            let _ = estate.cmdb().index();
            for (at, op) in ops.iter().enumerate() {
                apply(&mut estate, op, at);
                let cmdb = estate.cmdb();
                let patched = cmdb.index();
                let fresh = Index::build(cmdb.topology(), cmdb.iter());
                prop_assert_eq!(
                    patched.describe(cmdb.topology()),
                    fresh.describe(cmdb.topology()),
                    "after {:?}", op
                );
            }
        }
    }
}
