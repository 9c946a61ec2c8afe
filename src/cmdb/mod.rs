//! The CMDB view: [`ConfigurationItem`] records and the [`Cmdb`] register.

mod item;

pub(crate) use self::item::{CHECKED_FIELDS, check_field};

use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use self::item::{
    CiClass, ConfigurationItem, ConfigurationItemBuilder, Criticality, Environment,
    OperationalStatus, Region,
};

use crate::graph::{Index, Quorum, RelationKind, Relationship, Topology};
use crate::register::{self, Record, Register};
use crate::{Error, ResourceId};

impl Record for ConfigurationItem {
    fn id(&self) -> &ResourceId {
        self.id()
    }
}

/// The CMDB: every [`ConfigurationItem`], keyed by [`ResourceId`], in
/// insertion order.
///
/// The CMDB is read through the [`Estate`](crate::Estate) that owns it
/// ([`Estate::cmdb`](crate::Estate::cmdb)); every change goes through the
/// estate's write path.
///
/// # Order
///
/// Iteration follows insertion order. Removing an item keeps the order of
/// the others; an item inserted again after its removal comes last.
///
/// # Complexity
///
/// In n items: [`get`](Self::get), [`contains`](Self::contains),
/// [`len`](Self::len) and [`is_empty`](Self::is_empty) are O(1); a walk of
/// [`iter`](Self::iter) is O(n). Inserting
/// ([`Estate::insert_ci`](crate::Estate::insert_ci)) is O(1) amortised;
/// removing ([`Estate::remove_ci`](crate::Estate::remove_ci)) is O(1)
/// amortised in the register (a removed item leaves a hole that iteration
/// skips, closed in one O(n) pass once the holes outnumber the items), plus
/// the removal of the item's node and relationships from the graph.
///
/// # Relationships
///
/// The CMDB also holds the typed relationships between its items and the
/// quorums of its redundancy groups; see [`RelationKind`] and [`Quorum`].
/// Removing an item removes every relationship that touches it.
///
/// # Query index
///
/// Graph queries run on a compact index of the graph, built by the first
/// query (O(n + m log d) for n items, m relationships and largest degree
/// d). After that, every write keeps it current instead of dropping it: an
/// item added or changed costs O(1) more, a relationship added or removed
/// O(d) for the larger degree d of its two ends (O(log d) for the usual
/// append to a node patched last), and the query after a write costs what
/// it costs on an unchanged estate. The index is dropped, to be rebuilt by
/// the next query, only when a clone of the CMDB shares it, or when the
/// patches since the last build have cost about what a rebuild costs, so
/// patching never costs more than rebuilding on every query would. A
/// patched index answers every query exactly as a fresh one does.
///
/// # Serde
///
/// `{"items": {...}, "relationships": [...], "groups": {...}}`: the items as
/// a map from id to item, in order; the relationships in the order they were
/// added; the quorum of each group. Deserialising refuses a repeated id, an
/// item stored under a key that is not its own id, a relationship whose end
/// is not an item, a self-relationship, a repeated relationship, and a
/// quorum its group cannot meet.
#[derive(Debug, Clone, Default)]
pub struct Cmdb {
    items: Register<ConfigurationItem>,
    topology: Topology,
    /// The query index of the current topology, built on the first query
    /// after a write.
    index: OnceLock<Arc<Index>>,
}

impl PartialEq for Cmdb {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
            && self.topology.edge_count() == other.topology.edge_count()
            && self.relationships().eq(other.relationships())
            && self.groups().eq(other.groups())
    }
}

impl Eq for Cmdb {}

impl Cmdb {
    /// The configuration item with this id.
    ///
    /// # Complexity
    ///
    /// O(1).
    #[must_use]
    pub fn get<Q: AsRef<str> + ?Sized>(&self, id: &Q) -> Option<&ConfigurationItem> {
        self.items.get(id.as_ref())
    }

    /// Whether an item with this id is recorded.
    ///
    /// # Complexity
    ///
    /// O(1).
    #[must_use]
    pub fn contains<Q: AsRef<str> + ?Sized>(&self, id: &Q) -> bool {
        self.items.contains(id.as_ref())
    }

    /// The number of items.
    ///
    /// # Complexity
    ///
    /// O(1).
    #[must_use]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the CMDB is empty.
    ///
    /// # Complexity
    ///
    /// O(1).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.len() == 0
    }

    /// Every item, in insertion order.
    ///
    /// # Complexity
    ///
    /// O(1) to make, O(n) to walk in n items; each step is O(1) amortised.
    #[must_use]
    pub fn iter(&self) -> ConfigurationItems<'_> {
        ConfigurationItems(self.items.values())
    }

    /// The number of relationships.
    ///
    /// # Complexity
    ///
    /// O(1).
    #[must_use]
    pub fn relationship_count(&self) -> usize {
        self.topology.edge_count()
    }

    /// Every relationship, by source, then target (each in CMDB order),
    /// then kind (in the order of [`RelationKind`]). The order depends on
    /// the relationships alone, never on the order of earlier writes, so an
    /// estate and its snapshot list them alike.
    ///
    /// # Complexity
    ///
    /// O(n + m log m) for n items and m relationships, before the first
    /// relationship comes out.
    pub fn relationships(&self) -> impl Iterator<Item = Relationship> + '_ {
        let topology = &self.topology;
        let mut rank = vec![u32::MAX; topology.node_bound()];
        for (place, item) in self.items.values().enumerate() {
            if let Some(node) = topology.node(item.id().as_str()) {
                rank[node.index()] = u32::try_from(place).unwrap_or(u32::MAX);
            }
        }
        let kind_rank = crate::graph::kind_ranks(topology);
        let mut edges: Vec<_> = topology
            .edges()
            .map(|(s, k, t)| {
                let key = (
                    rank[s.index()],
                    rank[t.index()],
                    kind_rank[usize::from(k.0)],
                );
                (key, s, k, t)
            })
            .collect();
        edges.sort_unstable_by_key(|(key, ..)| *key);
        edges
            .into_iter()
            .map(move |(_, s, k, t)| topology.relationship(s, k, t))
    }

    /// The relationships that touch `id`: those it is the source of (by
    /// target), then those it is the target of (by source), each in CMDB
    /// order, then by kind. Empty for an unknown id.
    ///
    /// # Complexity
    ///
    /// O(d log d) for the d relationships of the item, plus the removed
    /// relationships still listed with it (removal marks a relationship and
    /// a compaction drops the marked ones once they outnumber half the
    /// graph, so across all items they are never more than about half the
    /// graph).
    pub fn relationships_of<Q: AsRef<str> + ?Sized>(
        &self,
        id: &Q,
    ) -> impl Iterator<Item = Relationship> + '_ {
        let mut found: Vec<Relationship> = self
            .topology
            .node(id.as_ref())
            .into_iter()
            .flat_map(|node| self.topology.relationships_of(node))
            .collect();
        let place = |id: &ResourceId| self.items.position(id.as_str());
        let me = id.as_ref();
        found.sort_by(|a, b| {
            let key = |r: &Relationship| {
                let outgoing = r.source().as_str() == me;
                let other = if outgoing { r.target() } else { r.source() };
                (!outgoing, place(other))
            };
            key(a).cmp(&key(b)).then_with(|| a.kind().cmp(b.kind()))
        });
        found.into_iter()
    }

    /// Every redundancy group with a declared quorum, in the order the
    /// quorums were first declared.
    ///
    /// # Complexity
    ///
    /// O(g) to walk the g groups with a quorum (and the gaps removals left, which compaction keeps
    /// fewer than the groups).
    pub fn groups(&self) -> impl Iterator<Item = (&ResourceId, Quorum)> + '_ {
        self.topology
            .quorums()
            .map(|(node, quorum)| (self.topology.id(node), quorum))
    }

    /// The declared quorum of the group `id`.
    ///
    /// # Complexity
    ///
    /// O(1) expected.
    #[must_use]
    pub fn quorum<Q: AsRef<str> + ?Sized>(&self, id: &Q) -> Option<Quorum> {
        self.topology
            .node(id.as_ref())
            .and_then(|node| self.topology.quorum(node))
    }

    /// The members of the group `id` (items that are a
    /// [`MemberOf`](RelationKind::MemberOf) it), in CMDB order.
    ///
    /// # Complexity
    ///
    /// O(d log d) for the d relationships of the group, plus the removed
    /// ones still listed with it (as for
    /// [`relationships_of`](Self::relationships_of)).
    pub fn members<Q: AsRef<str> + ?Sized>(
        &self,
        id: &Q,
    ) -> impl Iterator<Item = &ResourceId> + '_ {
        let mut members: Vec<&ResourceId> = self
            .topology
            .node(id.as_ref())
            .into_iter()
            .flat_map(|node| self.topology.members(node))
            .map(|node| self.topology.id(node))
            .collect();
        members.sort_by_key(|member| self.items.position(member.as_str()));
        members.into_iter()
    }

    pub(crate) fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The query index of the current state, built if a write dropped it.
    pub(crate) fn index(&self) -> Arc<Index> {
        Arc::clone(
            self.index
                .get_or_init(|| Arc::new(Index::build(&self.topology, self.items.values()))),
        )
    }

    /// Patches the query index with a write; see [`patch_index`].
    fn patch(&mut self, write: impl FnOnce(&mut Index, &Topology)) {
        patch_index(&mut self.index, &self.topology, write);
    }

    pub(crate) fn insert_new(&mut self, item: ConfigurationItem) {
        let node = self.topology.add_node(item.id().clone());
        self.patch(|index, _| index.add_node(node.index(), &item));
        self.items.insert_new(item);
    }

    pub(crate) fn remove(&mut self, id: &str) -> Option<ConfigurationItem> {
        if let Some(node) = self.topology.node(id) {
            if self.index.get().is_some() {
                let touching = self.topology.touching(node);
                self.patch(|index, topology| index.remove_item(topology, node.index(), &touching));
            }
        }
        self.topology.remove_node(id);
        self.items.remove(id)
    }

    pub(crate) fn relate(&mut self, source: &str, kind: &RelationKind, target: &str) -> bool {
        match (self.topology.node(source), self.topology.node(target)) {
            (Some(source), Some(target)) => self.relate_nodes(source, kind, target),
            _ => false,
        }
    }

    /// [`relate`](Self::relate) with endpoints that validation resolved.
    pub(crate) fn relate_nodes(
        &mut self,
        source: petgraph::stable_graph::NodeIndex,
        kind: &RelationKind,
        target: petgraph::stable_graph::NodeIndex,
    ) -> bool {
        let added = self.topology.relate_nodes(source, kind, target);
        if added {
            self.patch(|index, topology| {
                // Relating interned the kind.
                if let Some(kind) = topology.kind_id(kind) {
                    index.relate(topology, source.index(), kind, target.index());
                }
            });
        }
        added
    }

    /// Changes the fields of the item `id` with `write` (never its id), for
    /// the claim write path; the graph is unchanged, and the query index
    /// takes the item's new status and labels.
    pub(crate) fn update_item(&mut self, id: &str, write: impl FnOnce(&mut ConfigurationItem)) {
        let Self {
            items,
            topology,
            index,
        } = self;
        let Some(item) = items.get_mut(id) else {
            return;
        };
        write(item);
        if let Some(node) = topology.node(id) {
            patch_index(index, topology, |index, _| {
                index.set_labels(node.index(), item);
            });
        }
    }

    pub(crate) fn unrelate(&mut self, source: &str, kind: &RelationKind, target: &str) -> bool {
        let (Some(s), Some(t), Some(kind_id)) = (
            self.topology.node(source),
            self.topology.node(target),
            self.topology.kind_id(kind),
        ) else {
            return false;
        };
        let removed = self.topology.unrelate(source, kind, target);
        if removed {
            self.patch(|index, topology| {
                index.unrelate(topology, s.index(), kind_id, kind, t.index());
            });
        }
        removed
    }

    pub(crate) fn set_quorum(&mut self, group: &str, quorum: Quorum) {
        self.topology.set_quorum(group, quorum);
        if let Some(node) = self.topology.node(group) {
            self.patch(|index, topology| index.set_quorum(topology, node.index()));
        }
    }
}

/// Patches the query index `index`, if there is one, with a write: in
/// place when its CMDB alone holds it, else (a clone of the CMDB shares it)
/// by dropping it. An index whose patches have cost about what a rebuild
/// costs is dropped as well, to be rebuilt by the next query.
fn patch_index(
    index: &mut OnceLock<Arc<Index>>,
    topology: &Topology,
    write: impl FnOnce(&mut Index, &Topology),
) {
    let Some(shared) = index.get_mut() else {
        return;
    };
    match Arc::get_mut(shared) {
        Some(patched) => {
            write(patched, topology);
            if patched.spent() {
                *index = OnceLock::new();
            }
        }
        None => *index = OnceLock::new(),
    }
}

impl<'a> IntoIterator for &'a Cmdb {
    type Item = &'a ConfigurationItem;
    type IntoIter = ConfigurationItems<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The items of a [`Cmdb`], in insertion order; made by [`Cmdb::iter`].
#[derive(Debug, Clone)]
pub struct ConfigurationItems<'a>(register::Values<'a, ConfigurationItem>);

impl<'a> Iterator for ConfigurationItems<'a> {
    type Item = &'a ConfigurationItem;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for ConfigurationItems<'_> {}
impl DoubleEndedIterator for ConfigurationItems<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back()
    }
}
impl std::iter::FusedIterator for ConfigurationItems<'_> {}

struct ItemsRef<'a>(&'a Register<ConfigurationItem>);

impl Serialize for ItemsRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

struct GroupsRef<'a>(&'a Cmdb);

impl Serialize for GroupsRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.groups())
    }
}

#[derive(Serialize)]
struct CmdbRef<'a> {
    items: ItemsRef<'a>,
    relationships: Vec<Relationship>,
    groups: GroupsRef<'a>,
}

struct Items(Register<ConfigurationItem>);

impl<'de> Deserialize<'de> for Items {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Register::deserialize(deserializer, "configuration item").map(Self)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CmdbSnapshot {
    items: Items,
    #[serde(default)]
    relationships: Vec<Relationship>,
    #[serde(default, deserialize_with = "unique_groups")]
    groups: indexmap::IndexMap<ResourceId, Quorum>,
}

/// The groups of a snapshot, refusing a group listed twice.
fn unique_groups<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<indexmap::IndexMap<ResourceId, Quorum>, D::Error> {
    crate::label::deserialize_unique_map(deserializer, "group", |_, _| Ok(()))
}

impl Cmdb {
    /// Rebuilds a CMDB from a snapshot, checking every invariant that the
    /// write path checks.
    fn from_snapshot(snapshot: CmdbSnapshot) -> Result<Self, Error> {
        let mut cmdb = Self::default();
        for item in snapshot.items.0.into_values() {
            cmdb.insert_new(item);
        }
        for relationship in &snapshot.relationships {
            let (source, kind, target) = (
                relationship.source(),
                relationship.kind(),
                relationship.target(),
            );
            for end in [source, target] {
                if !cmdb.contains(end) {
                    return Err(Error::UnknownCi(end.clone()));
                }
            }
            if source == target {
                return Err(Error::SelfRelationship(source.clone()));
            }
            cmdb.topology.check_kind(kind)?;
            if !cmdb.relate(source.as_str(), kind, target.as_str()) {
                return Err(Error::DuplicateRelationship(relationship.clone()));
            }
        }
        for (group, quorum) in snapshot.groups {
            if !cmdb.contains(&group) {
                return Err(Error::UnknownCi(group));
            }
            // Members may have left since the quorum was set (the write
            // path allows it: the group is then down at the first failure),
            // so only the quorum's own rules are checked here.
            quorum.check(&group, u32::MAX)?;
            cmdb.set_quorum(group.as_str(), quorum);
        }
        Ok(cmdb)
    }
}

impl Serialize for Cmdb {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        CmdbRef {
            items: ItemsRef(&self.items),
            relationships: self.relationships().collect(),
            groups: GroupsRef(self),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Cmdb {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let snapshot = CmdbSnapshot::deserialize(deserializer)?;
        Self::from_snapshot(snapshot).map_err(serde::de::Error::custom)
    }
}
