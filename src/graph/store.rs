//! The relationship graph stored in the CMDB: petgraph underneath, with
//! interned relationship kinds and redundancy quorums.

use std::collections::HashMap;

use indexmap::IndexMap;
use petgraph::Direction;
use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableGraph};
use petgraph::visit::{EdgeRef, IntoEdgeReferences};

use super::kind::{Quorum, RelationKind, Relationship};
use crate::{Error, ResourceId};

/// An interned [`RelationKind`]: an index into [`Topology::kinds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct KindId(pub(crate) u16);

/// The graph of relationships between configuration items.
///
/// Every configuration item has a node; a relationship is an edge from its
/// source to its target carrying its interned kind. `NodeIndex` never leaves
/// the crate: callers speak in [`ResourceId`]s.
#[derive(Debug, Clone, Default)]
pub(crate) struct Topology {
    graph: StableGraph<ResourceId, KindId>,
    nodes: crate::hash::HashMap<ResourceId, NodeIndex>,
    kinds: Vec<RelationKind>,
    kind_ids: HashMap<RelationKind, KindId>,
    /// Custom kind names seen, to refuse one name with two propagations.
    custom_names: HashMap<String, KindId>,
    quorums: IndexMap<NodeIndex, Quorum>,
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
        self.quorums.get(&node).copied()
    }

    pub(crate) fn quorums(&self) -> impl Iterator<Item = (NodeIndex, Quorum)> + '_ {
        self.quorums.iter().map(|(node, quorum)| (*node, *quorum))
    }

    pub(crate) fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Every relationship, in edge order.
    pub(crate) fn relationships(&self) -> impl Iterator<Item = Relationship> + '_ {
        self.graph
            .edge_references()
            .map(|edge| self.relationship(edge.source(), *edge.weight(), edge.target()))
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
        if self.kinds.len() >= usize::from(u16::MAX) {
            return Err(Error::TooManyKinds);
        }
        Ok(())
    }

    fn intern(&mut self, kind: &RelationKind) -> KindId {
        if let Some(id) = self.kind_ids.get(kind) {
            return *id;
        }
        // `check_kind` ran during validation, so the table has room.
        let id = KindId(u16::try_from(self.kinds.len()).unwrap_or(u16::MAX));
        self.kinds.push(kind.clone());
        self.kind_ids.insert(kind.clone(), id);
        if let RelationKind::Custom(custom) = kind {
            self.custom_names.insert(custom.name().to_owned(), id);
        }
        id
    }

    pub(crate) fn add_node(&mut self, id: ResourceId) {
        let node = self.graph.add_node(id.clone());
        self.nodes.insert(id, node);
    }

    /// Removes the node and every relationship touching it, and its quorum.
    pub(crate) fn remove_node(&mut self, id: &str) {
        if let Some(node) = self.nodes.remove(id) {
            self.graph.remove_node(node);
            self.quorums.shift_remove(&node);
        }
    }

    fn find(&self, source: NodeIndex, kind: KindId, target: NodeIndex) -> Option<EdgeIndex> {
        self.graph
            .edges_connecting(source, target)
            .find(|edge| *edge.weight() == kind)
            .map(|edge| edge.id())
    }

    /// Adds `source -[kind]-> target` unless it exists; returns whether it
    /// was added. The endpoints were validated.
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
        self.graph.add_edge(s, t, kind);
        true
    }

    /// Removes `source -[kind]-> target` if it exists; returns whether it did.
    pub(crate) fn unrelate(&mut self, source: &str, kind: &RelationKind, target: &str) -> bool {
        let (Some(s), Some(t), Some(kind)) =
            (self.node(source), self.node(target), self.kind_id(kind))
        else {
            return false;
        };
        match self.find(s, kind, t) {
            Some(edge) => self.graph.remove_edge(edge).is_some(),
            None => false,
        }
    }

    pub(crate) fn set_quorum(&mut self, group: &str, quorum: Quorum) {
        if let Some(node) = self.node(group) {
            self.quorums.insert(node, quorum);
        }
    }
}
