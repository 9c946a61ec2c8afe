//! The relationship graph stored in the CMDB: petgraph underneath, with
//! interned relationship kinds and redundancy quorums.

use petgraph::Direction;
use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableGraph};
use petgraph::visit::{EdgeRef, IntoEdgeReferences, NodeIndexable};

use super::edge_set::{EdgeKey, EdgeSet};
use super::kind::{Quorum, RelationKind, Relationship};
use crate::{Error, ResourceId};

/// An interned [`RelationKind`]: an index into [`Topology::kinds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct KindId(pub(crate) u16);

/// The most kinds a topology interns: their ids, `0..MAX_KINDS`, fit in the
/// 16 bits of a [`KindId`] and of the query index's edge metadata, and none
/// is `u16::MAX` (which marks a removed edge, [`REMOVED`]).
pub(crate) const MAX_KINDS: usize = u16::MAX as usize;

/// The weight of an edge that was removed but is still in petgraph's lists,
/// waiting for [`Topology::compact`].
const REMOVED: KindId = KindId(u16::MAX);

/// Compaction starts when removed edges and nodes outnumber half the graph's
/// slots plus this, so that small graphs are not compacted on every write.
const COMPACT_SLACK: usize = 32;

/// The graph of relationships between configuration items.
///
/// Every configuration item has a node; a relationship is an edge from its
/// source to its target carrying its interned kind. `NodeIndex` never leaves
/// the crate: callers speak in [`ResourceId`]s.
///
/// Besides petgraph's adjacency lists, every relationship is in a hash set
/// by `(source, kind, target)`, so that relating (with its duplicate check)
/// and finding the relationship to remove never scan a node's
/// relationships: a rack holding a hundred thousand servers costs the same
/// per relationship as one holding two.
///
/// Removal never walks an adjacency list either. petgraph's lists are
/// singly linked, so `StableGraph::remove_edge` walks both ends' lists to
/// unlink an edge: unrelating a 160,000-server rack oldest first would walk
/// the rack's list each time. Instead a removed edge is marked
/// ([`REMOVED`]) and a removed node is marked dead; both leave the edge set
/// and the id map, and every reader here skips them. Once the marked edges
/// and nodes outnumber half the graph, [`compact`](Self::compact) clears
/// petgraph's edges and adds the live ones back, which is linear in the
/// graph and paid for by the removals since the last compaction. Live
/// nodes keep their numbers through a compaction, so a node number
/// resolved earlier in a batch stays valid.
#[derive(Debug, Clone, Default)]
pub(crate) struct Topology {
    graph: StableGraph<ResourceId, KindId>,
    nodes: crate::hash::HashMap<ResourceId, NodeIndex>,
    /// Nodes removed from the CMDB but still in the graph, by number.
    dead: Vec<bool>,
    /// How many entries of `dead` are set.
    dead_nodes: usize,
    /// How many edges of the graph are [`REMOVED`].
    removed_edges: usize,
    /// Every edge, by its key.
    edges: EdgeSet,
    /// The kinds by id; an id no relationship uses is free for reuse.
    kinds: Vec<RelationKind>,
    /// How many relationships use each kind.
    uses: Vec<u32>,
    /// Kind ids no relationship uses any more.
    free: Vec<KindId>,
    /// The ids of the kinds in use.
    kind_ids: crate::hash::HashMap<RelationKind, KindId>,
    /// The custom kind names in use, to refuse one name with two
    /// propagations. A name no relationship uses any more is released, so
    /// what a CMDB accepts depends on its relationships alone (as its
    /// snapshot does).
    custom_names: crate::hash::HashMap<String, KindId>,
    quorums: Quorums,
}

impl Topology {
    /// One more than the highest node number in use: the size of a
    /// per-node array. O(1).
    pub(crate) fn node_bound(&self) -> usize {
        self.graph.node_bound()
    }

    /// Every live relationship as `(source, kind, target)`, in edge order.
    /// O(m) for the graph's m edges, removed ones included (at most about
    /// as many as the live ones and nodes).
    pub(crate) fn edges(&self) -> impl Iterator<Item = (NodeIndex, KindId, NodeIndex)> + '_ {
        self.graph
            .edge_references()
            .filter(|edge| *edge.weight() != REMOVED)
            .map(|edge| (edge.source(), *edge.weight(), edge.target()))
    }

    /// The live edges of `node` in one direction.
    fn live_edges(
        &self,
        node: NodeIndex,
        direction: Direction,
    ) -> impl Iterator<Item = petgraph::stable_graph::EdgeReference<'_, KindId>> + '_ {
        self.graph
            .edges_directed(node, direction)
            .filter(|edge| *edge.weight() != REMOVED)
    }

    pub(crate) fn node(&self, id: &str) -> Option<NodeIndex> {
        self.nodes.get(id).copied()
    }

    pub(crate) fn id(&self, node: NodeIndex) -> &ResourceId {
        &self.graph[node]
    }

    pub(crate) fn kind(&self, kind: KindId) -> &RelationKind {
        &self.kinds[usize::from(kind.0)]
    }

    pub(crate) fn kinds(&self) -> &[RelationKind] {
        &self.kinds
    }

    pub(crate) fn kind_id(&self, kind: &RelationKind) -> Option<KindId> {
        self.kind_ids.get(kind).copied()
    }

    pub(crate) fn quorum(&self, node: NodeIndex) -> Option<Quorum> {
        self.quorums.get(node)
    }

    /// Every declared quorum, in the order first declared.
    pub(crate) fn quorums(&self) -> impl Iterator<Item = (NodeIndex, Quorum)> + '_ {
        self.quorums.iter()
    }

    pub(crate) fn edge_count(&self) -> usize {
        self.graph.edge_count() - self.removed_edges
    }

    pub(crate) fn relationship(
        &self,
        source: NodeIndex,
        kind: KindId,
        target: NodeIndex,
    ) -> Relationship {
        Relationship::new(
            self.id(source).clone(),
            self.kind(kind).clone(),
            self.id(target).clone(),
        )
    }

    /// Relationships touching `node`, outgoing then incoming, each in edge order.
    pub(crate) fn relationships_of(
        &self,
        node: NodeIndex,
    ) -> impl Iterator<Item = Relationship> + '_ {
        let mut outgoing: Vec<_> = self.live_edges(node, Direction::Outgoing).collect();
        let mut incoming: Vec<_> = self.live_edges(node, Direction::Incoming).collect();
        outgoing.sort_by_key(EdgeRef::id);
        incoming.sort_by_key(EdgeRef::id);
        outgoing
            .into_iter()
            .chain(incoming)
            .map(|edge| self.relationship(edge.source(), *edge.weight(), edge.target()))
    }

    /// The members of `group`, in edge order.
    pub(crate) fn members(&self, group: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        let mut edges: Vec<_> = self
            .live_edges(group, Direction::Incoming)
            .filter(|edge| self.kind(*edge.weight()).is_membership())
            .map(|edge| (edge.id(), edge.source()))
            .collect();
        edges.sort_unstable();
        edges.into_iter().map(|(_, member)| member)
    }

    /// Checks that `kind` can be interned: a custom name keeps one
    /// propagation, and there is room for another kind.
    pub(crate) fn check_kind(&self, kind: &RelationKind) -> Result<(), Error> {
        if self.kind_ids.contains_key(kind) {
            return Ok(());
        }
        if let RelationKind::Custom(custom) = kind {
            if let Some(existing) = self.custom_names.get(custom.name()) {
                return Err(Error::ConflictingKind {
                    name: custom.name().to_owned(),
                    existing: self.kind(*existing).propagation(),
                    given: custom.propagation(),
                });
            }
        }
        self.check_room(1)
    }

    /// Checks that `new` kinds that the topology does not have yet fit
    /// (a batch's validation counts the kinds it introduces).
    pub(crate) fn check_room(&self, new: usize) -> Result<(), Error> {
        if self.kind_ids.len() + new > MAX_KINDS {
            return Err(Error::TooManyKinds);
        }
        Ok(())
    }

    fn intern(&mut self, kind: &RelationKind) -> KindId {
        if let Some(id) = self.kind_ids.get(kind) {
            return *id;
        }
        let id = if let Some(id) = self.free.pop() {
            self.kinds[usize::from(id.0)] = kind.clone();
            id
        } else {
            // Validation checked that the batch's new kinds fit
            // (`check_kind`, `check_room`), so the id is below `MAX_KINDS`.
            let id = KindId(u16::try_from(self.kinds.len()).unwrap_or(u16::MAX));
            self.kinds.push(kind.clone());
            self.uses.push(0);
            id
        };
        self.kind_ids.insert(kind.clone(), id);
        if let RelationKind::Custom(custom) = kind {
            self.custom_names.insert(custom.name().to_owned(), id);
        }
        id
    }

    /// Counts one relationship fewer of `kind`, releasing the kind (and a
    /// custom kind's name) when none is left.
    fn release(&mut self, kind: KindId) {
        let uses = &mut self.uses[usize::from(kind.0)];
        *uses -= 1;
        if *uses == 0 {
            let released = &self.kinds[usize::from(kind.0)];
            self.kind_ids.remove(released);
            if let RelationKind::Custom(custom) = released {
                self.custom_names.remove(custom.name());
            }
            self.free.push(kind);
        }
    }

    pub(crate) fn add_node(&mut self, id: ResourceId) -> NodeIndex {
        let node = self.graph.add_node(id.clone());
        if self.dead.len() <= node.index() {
            self.dead.resize(node.index() + 1, false);
        }
        self.nodes.insert(id, node);
        node
    }

    /// The live relationships touching `node`, each once, as `(source,
    /// kind, target)`. O(d) for the node's d relationships (and removed
    /// ones still in its lists).
    pub(crate) fn touching(&self, node: NodeIndex) -> Vec<(NodeIndex, KindId, NodeIndex)> {
        self.touching_edges(node)
            .into_iter()
            .map(|(_, source, kind, target)| (source, kind, target))
            .collect()
    }

    /// The live edges touching `node`, each once, in edge order, with
    /// their ends and kinds. O(d).
    fn touching_edges(&self, node: NodeIndex) -> Vec<(EdgeIndex, NodeIndex, KindId, NodeIndex)> {
        let mut touching: Vec<_> = self
            .live_edges(node, Direction::Outgoing)
            .chain(self.live_edges(node, Direction::Incoming))
            .map(|edge| (edge.id(), edge.source(), *edge.weight(), edge.target()))
            .collect();
        // A loop (which only tests make) is both outgoing and incoming.
        touching.sort_unstable_by_key(|(edge, ..)| *edge);
        touching.dedup_by_key(|(edge, ..)| *edge);
        touching
    }

    /// Removes the node and every relationship touching it, and its quorum.
    ///
    /// O(d) expected for the node's d relationships (and removed ones still
    /// in its lists), amortised: no list of another node is walked, and the
    /// compaction this may start is paid for by the removals before it.
    pub(crate) fn remove_node(&mut self, id: &str) {
        let Some(node) = self.nodes.remove(id) else {
            return;
        };
        for (edge, ..) in self.touching_edges(node) {
            self.remove_edge(edge);
        }
        self.dead[node.index()] = true;
        self.dead_nodes += 1;
        self.quorums.remove(node);
        self.compact_if_due();
    }

    /// Marks the live `edge` removed: out of the edge set, its kind
    /// released, its weight [`REMOVED`]. O(1) expected.
    fn remove_edge(&mut self, edge: EdgeIndex) {
        let graph = &self.graph;
        let key = key_of(graph, edge);
        self.edges.remove(key, edge_u32(edge), |e| key_at(graph, e));
        self.release(KindId(key.1));
        self.graph[edge] = REMOVED;
        self.removed_edges += 1;
    }

    /// Compacts when the removed edges and dead nodes outnumber half the
    /// graph's slots, so that a compaction, linear in the slots, is paid
    /// for by the removals since the last one.
    fn compact_if_due(&mut self) {
        let removed = self.removed_edges + self.dead_nodes;
        let slots = self.graph.node_bound() + self.graph.edge_count();
        if removed > slots / 2 + COMPACT_SLACK {
            self.compact();
        }
    }

    /// Drops removed edges and dead nodes from petgraph: clears its edges,
    /// removes the dead nodes (edgeless now, so petgraph walks no list),
    /// and adds the live edges back in their old order. Live nodes keep
    /// their numbers; edges are renumbered `0..m` and the edge set is
    /// rebuilt. O(slots).
    fn compact(&mut self) {
        let live: Vec<(NodeIndex, KindId, NodeIndex)> = self.edges().collect();
        self.graph.clear_edges();
        for (node, dead) in self.dead.iter_mut().enumerate() {
            if *dead {
                self.graph.remove_node(NodeIndex::new(node));
                *dead = false;
            }
        }
        self.dead_nodes = 0;
        self.removed_edges = 0;
        self.edges = EdgeSet::default();
        for (source, kind, target) in live {
            let edge = self.graph.add_edge(source, target, kind);
            let key = (node_u32(source), kind.0, node_u32(target));
            let graph = &self.graph;
            self.edges.insert(key, edge_u32(edge), |e| key_at(graph, e));
        }
    }

    /// The edge `source -[kind]-> target`, if there is one. O(1) expected.
    fn find(&self, source: NodeIndex, kind: KindId, target: NodeIndex) -> Option<EdgeIndex> {
        let key = (node_u32(source), kind.0, node_u32(target));
        self.edges
            .find(key, |e| key_at(&self.graph, e))
            .map(|e| EdgeIndex::new(e as usize))
    }

    /// Adds `source -[kind]-> target` unless it exists; returns whether it
    /// was added. The endpoints were validated. O(1) amortised expected,
    /// whatever the degree of either end.
    #[cfg(test)]
    pub(crate) fn relate(&mut self, source: &str, kind: &RelationKind, target: &str) -> bool {
        let (Some(s), Some(t)) = (self.node(source), self.node(target)) else {
            return false;
        };
        self.relate_nodes(s, kind, t)
    }

    /// [`relate`](Self::relate) with endpoints already resolved to nodes.
    pub(crate) fn relate_nodes(&mut self, s: NodeIndex, kind: &RelationKind, t: NodeIndex) -> bool {
        let kind = self.intern(kind);
        if self.find(s, kind, t).is_some() {
            return false;
        }
        let edge = self.graph.add_edge(s, t, kind);
        self.uses[usize::from(kind.0)] += 1;
        let key = (node_u32(s), kind.0, node_u32(t));
        let graph = &self.graph;
        self.edges.insert(key, edge_u32(edge), |e| key_at(graph, e));
        true
    }

    /// Removes `source -[kind]-> target` if it exists; returns whether it
    /// did. O(1) amortised expected, whatever the degree of either end:
    /// the edge is found in the edge set and marked removed.
    pub(crate) fn unrelate(&mut self, source: &str, kind: &RelationKind, target: &str) -> bool {
        let (Some(s), Some(t), Some(kind)) =
            (self.node(source), self.node(target), self.kind_id(kind))
        else {
            return false;
        };
        let Some(edge) = self.find(s, kind, t) else {
            return false;
        };
        self.remove_edge(edge);
        self.compact_if_due();
        true
    }

    pub(crate) fn set_quorum(&mut self, group: &str, quorum: Quorum) {
        if let Some(node) = self.node(group) {
            self.quorums.insert(node, quorum);
        }
    }
}

/// The key of a live edge.
fn key_of(graph: &StableGraph<ResourceId, KindId>, edge: EdgeIndex) -> EdgeKey {
    match (graph.edge_endpoints(edge), graph.edge_weight(edge)) {
        (Some((s, t)), Some(kind)) => (node_u32(s), kind.0, node_u32(t)),
        // The set holds live edges only.
        _ => (u32::MAX, u16::MAX, u32::MAX),
    }
}

/// The key of the live edge numbered `edge`.
fn key_at(graph: &StableGraph<ResourceId, KindId>, edge: u32) -> EdgeKey {
    key_of(graph, EdgeIndex::new(edge as usize))
}

/// Node numbers fit in `u32`: petgraph's default index type is `u32`.
fn node_u32(node: NodeIndex) -> u32 {
    u32::try_from(node.index()).unwrap_or(u32::MAX)
}

/// Edge numbers fit in `u32`, as node numbers do.
fn edge_u32(edge: EdgeIndex) -> u32 {
    u32::try_from(edge.index()).unwrap_or(u32::MAX)
}

/// The declared quorums, in the order first declared.
///
/// An `IndexMap` keeps that order too, but removing from it shifts every
/// later entry (O(number of groups)). Here a removal leaves a hole that
/// iteration skips, and the holes are swept out once they outnumber the
/// quorums: removal is O(1) amortised, and the order is exactly that of an
/// `IndexMap` with `shift_remove`, so snapshots are unchanged.
#[derive(Debug, Clone, Default)]
struct Quorums {
    /// In declaration order; `None` where a quorum was removed.
    order: Vec<Option<(NodeIndex, Quorum)>>,
    /// Where each node's quorum is in `order`.
    at: crate::hash::HashMap<NodeIndex, usize>,
}

impl Quorums {
    fn get(&self, node: NodeIndex) -> Option<Quorum> {
        let at = *self.at.get(&node)?;
        self.order[at].map(|(_, quorum)| quorum)
    }

    /// Sets the quorum of `node`, keeping its place if it has one.
    fn insert(&mut self, node: NodeIndex, quorum: Quorum) {
        if let Some(&at) = self.at.get(&node) {
            self.order[at] = Some((node, quorum));
        } else {
            self.at.insert(node, self.order.len());
            self.order.push(Some((node, quorum)));
        }
    }

    fn remove(&mut self, node: NodeIndex) {
        let Some(at) = self.at.remove(&node) else {
            return;
        };
        self.order[at] = None;
        if self.order.len() > 2 * self.at.len() + 16 {
            self.order.retain(Option::is_some);
            for (at, entry) in self.order.iter().enumerate() {
                if let Some((node, _)) = entry {
                    self.at.insert(*node, at);
                }
            }
        }
    }

    fn iter(&self) -> impl Iterator<Item = (NodeIndex, Quorum)> + '_ {
        self.order.iter().filter_map(|entry| *entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small xorshift, for reproducible random operations.
    struct Rng(u32);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 17;
            self.0 ^= self.0 << 5;
            self.0 as usize % n
        }
    }

    /// The edge `s -[kind]-> t` by a scan of the graph, as `find` did.
    fn scan(topology: &Topology, s: NodeIndex, kind: KindId, t: NodeIndex) -> Option<EdgeIndex> {
        topology
            .graph
            .edges_connecting(s, t)
            .find(|edge| *edge.weight() == kind && kind != REMOVED)
            .map(|edge| edge.id())
    }

    #[test]
    fn the_edge_set_agrees_with_the_graph_through_random_writes() {
        let kinds = [
            RelationKind::DependsOn,
            RelationKind::Contains,
            RelationKind::MemberOf,
        ];
        let name = |i: usize| ResourceId::new(format!("n{i}")).unwrap();
        let mut topology = Topology::default();
        let mut live: Vec<usize> = Vec::new();
        let mut next = 0;
        let mut rng = Rng(0x9e37_79b9);
        for step in 0..6_000 {
            match rng.below(10) {
                0 | 1 if live.len() < 40 => {
                    topology.add_node(name(next));
                    live.push(next);
                    next += 1;
                }
                2 if live.len() > 2 => {
                    let gone = live.swap_remove(rng.below(live.len()));
                    topology.remove_node(name(gone).as_str());
                }
                _ if live.len() >= 2 => {
                    let s = name(live[rng.below(live.len())]);
                    let t = name(live[rng.below(live.len())]);
                    let kind = &kinds[rng.below(kinds.len())];
                    let existed = topology.kind_id(kind).is_some_and(|k| {
                        let (sn, tn) = (topology.node(s.as_str()), topology.node(t.as_str()));
                        scan(&topology, sn.unwrap(), k, tn.unwrap()).is_some()
                    });
                    if rng.below(3) == 0 {
                        let removed = topology.unrelate(s.as_str(), kind, t.as_str());
                        assert_eq!(removed, existed, "step {step}");
                    } else {
                        let added = topology.relate(s.as_str(), kind, t.as_str());
                        assert_eq!(added, !existed, "step {step}");
                    }
                }
                _ => {}
            }
            if step % 500 == 0 {
                for &a in &live {
                    for &b in &live {
                        let (s, t) = (
                            topology.node(name(a).as_str()).unwrap(),
                            topology.node(name(b).as_str()).unwrap(),
                        );
                        for kind in 0..topology.kinds().len() {
                            let kind = KindId(u16::try_from(kind).unwrap());
                            assert_eq!(topology.find(s, kind, t), scan(&topology, s, kind, t));
                        }
                    }
                }
                assert_eq!(topology.edges.len(), topology.edge_count());
            }
        }
    }

    #[test]
    fn unrelating_a_hub_oldest_first_compacts_and_keeps_live_node_numbers() {
        let name = |i: usize| ResourceId::new(format!("n{i}")).unwrap();
        let mut topology = Topology::default();
        let leaves = 1_000;
        for i in 0..=leaves {
            topology.add_node(name(i));
        }
        let hub = topology.node("n0").unwrap();
        let numbers: Vec<NodeIndex> = (0..=leaves)
            .map(|i| topology.node(name(i).as_str()).unwrap())
            .collect();
        let mut compactions = 0;
        // Relate every leaf, then unrelate them oldest first, five times
        // over: the removed edges pile up in the hub's list until a
        // compaction drops them.
        for _ in 0..5 {
            for i in 1..=leaves {
                assert!(topology.relate("n0", &RelationKind::Contains, name(i).as_str()));
            }
            assert_eq!(topology.relationships_of(hub).count(), leaves);
            for i in 1..=leaves {
                let before = topology.graph.edge_count();
                assert!(topology.unrelate("n0", &RelationKind::Contains, name(i).as_str()));
                assert!(!topology.unrelate("n0", &RelationKind::Contains, name(i).as_str()));
                if topology.graph.edge_count() < before {
                    compactions += 1;
                }
                assert_eq!(topology.edge_count(), leaves - i);
                assert_eq!(topology.edges.len(), leaves - i);
                // Removed edges never outnumber half the slots by much.
                let slots = topology.graph.node_bound() + topology.graph.edge_count();
                assert!(topology.removed_edges <= slots / 2 + COMPACT_SLACK);
                if i % 250 == 0 {
                    assert_eq!(topology.relationships_of(hub).count(), leaves - i);
                }
            }
        }
        assert!(compactions >= 2, "{compactions} compactions");
        for (i, number) in numbers.iter().enumerate() {
            assert_eq!(topology.node(name(i).as_str()), Some(*number));
        }
        // Relating again after compaction finds no stale edge.
        assert!(topology.relate("n0", &RelationKind::Contains, "n7"));
        assert_eq!(topology.edges().count(), 1);
    }

    #[test]
    fn removed_nodes_leave_no_edges_and_their_slots_are_reused_after_compaction() {
        let name = |i: usize| ResourceId::new(format!("n{i}")).unwrap();
        let mut topology = Topology::default();
        topology.add_node(name(0));
        for i in 1..=500 {
            topology.add_node(name(i));
            assert!(topology.relate(name(i).as_str(), &RelationKind::DependsOn, "n0"));
        }
        for i in 1..=500 {
            topology.remove_node(name(i).as_str());
            assert_eq!(topology.edge_count(), 500 - i);
            assert_eq!(topology.node(name(i).as_str()), None);
        }
        let hub = topology.node("n0").unwrap();
        assert_eq!(topology.relationships_of(hub).count(), 0);
        assert!(
            topology.graph.node_count() < 300,
            "dead nodes were compacted"
        );
        for i in 501..=700 {
            topology.add_node(name(i));
            assert!(topology.relate(name(i).as_str(), &RelationKind::DependsOn, "n0"));
        }
        assert!(topology.node_bound() <= 501, "freed slots are reused");
        assert_eq!(topology.edges().count(), 200);
        assert_eq!(topology.members(hub).count(), 0);
    }

    #[test]
    fn quorums_keep_the_order_of_an_index_map_with_shift_remove() {
        let mut topology = Topology::default();
        let mut model: indexmap::IndexMap<usize, Quorum> = indexmap::IndexMap::new();
        let name = |i: usize| ResourceId::new(format!("g{i}")).unwrap();
        let mut live: Vec<usize> = Vec::new();
        let mut next = 0;
        let mut rng = Rng(0x2545_f491);
        for _ in 0..5_000 {
            match rng.below(4) {
                0 if live.len() < 60 => {
                    topology.add_node(name(next));
                    live.push(next);
                    next += 1;
                }
                1 if !live.is_empty() => {
                    let gone = live.swap_remove(rng.below(live.len()));
                    topology.remove_node(name(gone).as_str());
                    model.shift_remove(&gone);
                }
                _ if !live.is_empty() => {
                    let group = live[rng.below(live.len())];
                    let quorum = Quorum::AtLeast(u32::try_from(rng.below(5)).unwrap() + 1);
                    topology.set_quorum(name(group).as_str(), quorum);
                    model.insert(group, quorum);
                }
                _ => {}
            }
            let got: Vec<(&str, Quorum)> = topology
                .quorums()
                .map(|(node, quorum)| (topology.id(node).as_str(), quorum))
                .collect();
            let names: Vec<ResourceId> = model.keys().map(|g| name(*g)).collect();
            let expected: Vec<(&str, Quorum)> = names
                .iter()
                .zip(model.values())
                .map(|(id, quorum)| (id.as_str(), *quorum))
                .collect();
            assert_eq!(got, expected);
        }
    }
}
