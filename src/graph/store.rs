//! The relationship graph stored in the CMDB: petgraph underneath, with
//! interned relationship kinds and redundancy quorums.

use std::collections::HashMap;

use petgraph::Direction;
use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableGraph};
use petgraph::visit::EdgeRef;

use super::edge_set::{EdgeKey, EdgeSet};
use super::kind::{Quorum, RelationKind, Relationship};
use crate::{Error, ResourceId};

/// An interned [`RelationKind`]: an index into [`Topology::kinds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct KindId(pub(crate) u16);

/// The most kinds a topology interns: their ids, `0..MAX_KINDS`, fit in the
/// 16 bits of a [`KindId`] and of the query index's edge metadata, and none
/// is `u16::MAX`.
pub(crate) const MAX_KINDS: usize = u16::MAX as usize;

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
#[derive(Debug, Clone, Default)]
pub(crate) struct Topology {
    graph: StableGraph<ResourceId, KindId>,
    nodes: crate::hash::HashMap<ResourceId, NodeIndex>,
    /// Every edge, by its key.
    edges: EdgeSet,
    /// The kinds by id; an id no relationship uses is free for reuse.
    kinds: Vec<RelationKind>,
    /// How many relationships use each kind.
    uses: Vec<u32>,
    /// Kind ids no relationship uses any more.
    free: Vec<KindId>,
    /// The ids of the kinds in use.
    kind_ids: HashMap<RelationKind, KindId>,
    /// The custom kind names in use, to refuse one name with two
    /// propagations. A name no relationship uses any more is released, so
    /// what a CMDB accepts depends on its relationships alone (as its
    /// snapshot does).
    custom_names: HashMap<String, KindId>,
    quorums: Quorums,
}

impl Topology {
    pub(crate) fn graph(&self) -> &StableGraph<ResourceId, KindId> {
        &self.graph
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
        self.graph.edge_count()
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
        let mut outgoing: Vec<_> = self
            .graph
            .edges_directed(node, Direction::Outgoing)
            .collect();
        let mut incoming: Vec<_> = self
            .graph
            .edges_directed(node, Direction::Incoming)
            .collect();
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
            .graph
            .edges_directed(group, Direction::Incoming)
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

    pub(crate) fn add_node(&mut self, id: ResourceId) {
        let node = self.graph.add_node(id.clone());
        self.nodes.insert(id, node);
    }

    /// Removes the node and every relationship touching it, and its quorum.
    ///
    /// O(d) expected for the node's d relationships, plus petgraph's
    /// unlinking of each from the list of its other end (a walk of that
    /// list, up to its length).
    pub(crate) fn remove_node(&mut self, id: &str) {
        let Some(node) = self.nodes.remove(id) else {
            return;
        };
        let mut touching: Vec<EdgeIndex> = self
            .graph
            .edges_directed(node, Direction::Outgoing)
            .chain(self.graph.edges_directed(node, Direction::Incoming))
            .map(|edge| edge.id())
            .collect();
        // A loop (which only tests make) is both outgoing and incoming.
        touching.sort_unstable();
        touching.dedup();
        for edge in touching {
            let graph = &self.graph;
            let key = key_of(graph, edge);
            self.edges.remove(key, edge_u32(edge), |e| key_at(graph, e));
            self.release(KindId(key.1));
        }
        self.graph.remove_node(node);
        self.quorums.remove(node);
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
    /// did. Finding it is O(1) expected; petgraph then unlinks it from the
    /// lists of its two ends (a walk of each list, up to its length).
    pub(crate) fn unrelate(&mut self, source: &str, kind: &RelationKind, target: &str) -> bool {
        let (Some(s), Some(t), Some(kind)) =
            (self.node(source), self.node(target), self.kind_id(kind))
        else {
            return false;
        };
        let Some(edge) = self.find(s, kind, t) else {
            return false;
        };
        let key = (node_u32(s), kind.0, node_u32(t));
        let graph = &self.graph;
        self.edges.remove(key, edge_u32(edge), |e| key_at(graph, e));
        self.release(kind);
        self.graph.remove_edge(edge).is_some()
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
            .find(|edge| *edge.weight() == kind)
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
