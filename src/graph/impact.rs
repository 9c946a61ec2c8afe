//! Blast radius, dependencies and reachability, and their results.

use std::fmt;
use std::sync::OnceLock;

use petgraph::stable_graph::NodeIndex;

use super::index::{Csr, EdgeMeta, Index, NONE, Scratch};
use super::query::{ImpactQuery, Plan};
use crate::{Cmdb, ConfigurationItem, Error, RelationKind, ResourceId};

/// What happened to an item in an impact result.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ImpactState {
    /// One of the query's roots: the item that failed.
    Failed,
    /// Out of service because something it needs is down.
    Down,
    /// Still in service with reduced redundancy: a redundancy group lost
    /// members but kept its quorum, or something it needs is degraded.
    Degraded,
    /// (Dependencies.) An item the root needs through a chain with no
    /// redundancy group on it: its failure alone takes the root down.
    Required,
    /// (Dependencies.) An item the root reaches only through a redundancy
    /// group: whether its failure alone takes the root down depends on the
    /// group's quorum (it does when it sits under enough members to break
    /// it; a blast radius of the item answers exactly).
    BehindGroup,
}

impl ImpactState {
    /// The state in words, as displayed.
    pub(crate) fn text(self) -> &'static str {
        match self {
            Self::Failed => "failed",
            Self::Down => "down",
            Self::Degraded => "degraded",
            Self::Required => "required",
            Self::BehindGroup => "behind group",
        }
    }
}

impl fmt::Display for ImpactState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.text())
    }
}

/// One visited item; entries double as the walk's queue.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub(crate) node: u32,
    /// The entry this one was reached from, or [`NONE`] for a root.
    pub(crate) pred: u32,
    pub(crate) distance: u32,
    pub(crate) meta: EdgeMeta,
    pub(crate) state: ImpactState,
    /// A waypoint on other items' paths that is not itself an item of the
    /// result (it is already reported with another state).
    pub(crate) hidden: bool,
}

/// How a redundancy group fared: the figures behind its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupOutcome {
    members: u32,
    down: u32,
    before: u32,
    needed: u32,
}

impl GroupOutcome {
    /// The group's members.
    #[must_use]
    pub fn members(&self) -> u32 {
        self.members
    }

    /// How many members are down, those down before the failure included.
    /// With [`max_depth`](ImpactQuery::max_depth), the members whose
    /// failure reaches the group within the depth (a member listed at the
    /// depth limit is not walked on, so not counted).
    #[must_use]
    pub fn down(&self) -> u32 {
        self.down
    }

    /// How many members were down before the failure started, by their
    /// recorded status (see
    /// [the estate as recorded](crate::ImpactQuery#the-estate-as-recorded)).
    #[must_use]
    pub fn down_before(&self) -> u32 {
        self.before
    }

    /// How many members must be up for the group to be up.
    #[must_use]
    pub fn needed(&self) -> u32 {
        self.needed
    }

    /// How many members are up (degraded members count as up).
    #[must_use]
    pub fn up(&self) -> u32 {
        self.members.saturating_sub(self.down)
    }

    /// Whether the quorum still holds.
    #[must_use]
    pub fn holds(&self) -> bool {
        self.up() >= self.needed
    }
}

/// `"2 of 3 members down; needs 2 up, short by 1"`; with members down
/// before the failure, `"2 of 2 members down (1 before); needs 1 up, short
/// by 1"`.
impl fmt::Display for GroupOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of {} members down", self.down, self.members)?;
        if self.before > 0 {
            write!(f, " ({} before)", self.before)?;
        }
        write!(f, "; needs {} up", self.needed)?;
        if self.holds() {
            write!(f, ", {} up", self.up())
        } else {
            write!(f, ", short by {}", self.needed - self.up())
        }
    }
}

/// The result of a [`Cmdb::blast_radius`] or [`Cmdb::dependencies`] query:
/// every affected item with its state, its distance in hops and one
/// explaining path.
///
/// # Order
///
/// Blast radius: every down item, nearest first, then every degraded item,
/// nearest first. Dependencies: nearest first. Ties keep discovery order,
/// which follows the roots' order and then the order relationships were
/// added. The roots themselves are not items of the result; see
/// [`roots`](Self::roots).
///
/// The result borrows the CMDB it was computed on, so no write can happen
/// while it is alive.
#[derive(Debug, Clone)]
pub struct Impact<'a> {
    cmdb: &'a Cmdb,
    entries: Vec<Entry>,
    roots: usize,
    /// Entries passing the reporting filters, when there are filters.
    reported: Option<Vec<bool>>,
    len: usize,
    /// The outcome of every group in the result, by node.
    groups: Vec<(u32, GroupOutcome)>,
    /// `(node, entry)` of every reported item, by node: built on the first
    /// [`get`](Self::get).
    lookup: OnceLock<Vec<(u32, u32)>>,
    /// The roots' nodes, sorted: built on the first set operation that
    /// asks.
    root_nodes: OnceLock<Vec<u32>>,
}

impl<'a> Impact<'a> {
    /// The number of affected items (roots excluded).
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is affected.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The items the query started from, without repeats, in query order.
    /// O(1) per item.
    #[must_use]
    pub fn roots(&self) -> impl ExactSizeIterator<Item = &'a ResourceId> + '_ {
        self.entries[..self.roots]
            .iter()
            .map(|entry| id_of(self.cmdb, entry.node))
    }

    /// Every affected item, in the documented order.
    ///
    /// # Complexity
    ///
    /// O(n) for the whole iteration, n the result's size (with reporting
    /// filters, the items they hide are skipped on the way).
    pub fn iter(&self) -> impl Iterator<Item = ImpactedItem<'a, '_>> + '_ {
        (self.roots..self.entries.len())
            .filter(|&i| self.reported.as_ref().is_none_or(|reported| reported[i]))
            .map(|i| ImpactedItem {
                impact: self,
                entry: i,
            })
    }

    /// The affected items that are down. O(n) for the whole iteration, as
    /// [`iter`](Self::iter).
    pub fn down(&self) -> impl Iterator<Item = ImpactedItem<'a, '_>> + '_ {
        self.iter().filter(|item| item.state() == ImpactState::Down)
    }

    /// The affected items that are degraded. O(n) for the whole iteration,
    /// as [`iter`](Self::iter).
    pub fn degraded(&self) -> impl Iterator<Item = ImpactedItem<'a, '_>> + '_ {
        self.iter()
            .filter(|item| item.state() == ImpactState::Degraded)
    }

    pub(crate) fn cmdb(&self) -> &'a Cmdb {
        self.cmdb
    }

    /// The node of every root and item, in order (hidden waypoints left
    /// out), with whether the answer reports each: every root does, an item
    /// when it passes the reporting filters.
    pub(crate) fn plan_nodes(&self) -> (Vec<u32>, Vec<bool>) {
        let mut nodes = Vec::with_capacity(self.entries.len());
        let mut reported = Vec::with_capacity(self.entries.len());
        for (i, entry) in self.entries.iter().enumerate() {
            if entry.hidden {
                continue;
            }
            nodes.push(entry.node);
            reported
                .push(i < self.roots || self.reported.as_ref().is_none_or(|reported| reported[i]));
        }
        (nodes, reported)
    }

    pub(crate) fn id_at(&self, node: u32) -> &'a ResourceId {
        id_of(self.cmdb, node)
    }

    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The affected item `id`, if it is one (a root is not).
    ///
    /// # Complexity
    ///
    /// O(log n) in the result's size n, after a one-off O(n log n) sort of
    /// the result's items by node on the first call (4 words per item).
    #[must_use]
    pub fn get<Q: AsRef<str> + ?Sized>(&self, id: &Q) -> Option<ImpactedItem<'a, '_>> {
        let node = self.cmdb.topology().node(id.as_ref())?;
        let node = u32::try_from(node.index()).ok()?;
        let lookup = self.lookup.get_or_init(|| {
            let mut lookup: Vec<(u32, u32)> = (self.roots..self.entries.len())
                .filter(|&i| self.reported.as_ref().is_none_or(|reported| reported[i]))
                .map(|i| (self.entries[i].node, entry_index(&self.entries[..i])))
                .collect();
            // The first entry of a node is the one `iter` meets first.
            lookup.sort_unstable();
            lookup.dedup_by_key(|(node, _)| *node);
            lookup
        });
        let at = lookup.binary_search_by_key(&node, |(node, _)| *node).ok()?;
        Some(ImpactedItem {
            impact: self,
            entry: lookup[at].1 as usize,
        })
    }
}

/// Set operations on answers: what one answer has that another has not,
/// and what both have. "Why did checkout slow down only in eu-west-2?" is
/// the root-cause candidates of checkout's eu-west-2 instance that its
/// eu-west-1 instance does not share:
///
/// ```
/// use itam_cmdb::{sample, ResourceId};
///
/// let estate = sample::estate();
/// let cmdb = estate.cmdb();
/// let west_2 = cmdb.dependencies(ResourceId::new(sample::CHECKOUT_EU_WEST_2)?)?;
/// let west_1 = cmdb.dependencies(ResourceId::new(sample::CHECKOUT_EU_WEST_1)?)?;
/// let only_west_2: Vec<&str> = west_2.except(&west_1).map(|item| item.id().as_str()).collect();
/// assert_eq!(only_west_2, ["vm-chk-euw2-01"]);
/// // Payments, auth and everything under them are shared.
/// assert!(west_2.shared_with(&west_1).any(|item| item.id().as_str() == sample::PAYMENT_SERVICE));
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
impl<'a> Impact<'a> {
    /// The items of this answer that are neither items nor roots of
    /// `other`, in this answer's order, each with its state, distance and
    /// path in this answer. The answers may come from different queries
    /// (a blast radius and a dependencies query, say) and compare by id.
    ///
    /// # Complexity
    ///
    /// O(n log m) for this answer's n items and the other's m items
    /// (the first lookup in `other` sorts it once, as
    /// [`get`](Self::get) does).
    pub fn except<'r>(
        &'r self,
        other: &'r Impact<'_>,
    ) -> impl Iterator<Item = ImpactedItem<'a, 'r>> + 'r {
        self.iter().filter(move |item| !other.mentions(item.id()))
    }

    /// The items of this answer that are items or roots of `other` too, in
    /// this answer's order, with this answer's states, distances and paths.
    ///
    /// # Complexity
    ///
    /// As [`except`](Self::except).
    pub fn shared_with<'r>(
        &'r self,
        other: &'r Impact<'_>,
    ) -> impl Iterator<Item = ImpactedItem<'a, 'r>> + 'r {
        self.iter().filter(move |item| other.mentions(item.id()))
    }

    /// Whether `id` is an item or a root of this answer. O(log n).
    fn mentions(&self, id: &ResourceId) -> bool {
        if self.get(id).is_some() {
            return true;
        }
        let Some(node) = self.cmdb.topology().node(id.as_str()) else {
            return false;
        };
        let roots = self.root_nodes.get_or_init(|| {
            let mut roots: Vec<u32> = self.entries[..self.roots].iter().map(|e| e.node).collect();
            roots.sort_unstable();
            roots
        });
        u32::try_from(node.index()).is_ok_and(|node| roots.binary_search(&node).is_ok())
    }
}

/// One affected item of an [`Impact`].
#[derive(Debug, Clone, Copy)]
pub struct ImpactedItem<'a, 'r> {
    impact: &'r Impact<'a>,
    entry: usize,
}

impl<'a> ImpactedItem<'a, '_> {
    fn entry(&self) -> Entry {
        self.impact.entries[self.entry]
    }

    /// The item's id.
    #[must_use]
    pub fn id(&self) -> &'a ResourceId {
        id_of(self.impact.cmdb, self.entry().node)
    }

    /// The item's CMDB record. O(1) expected (a lookup by id).
    #[must_use]
    pub fn ci(&self) -> Option<&'a ConfigurationItem> {
        self.impact.cmdb.get(self.id())
    }

    /// What happened to it.
    #[must_use]
    pub fn state(&self) -> ImpactState {
        self.entry().state
    }

    /// How many relationships separate it from the nearest root along its
    /// explaining path.
    #[must_use]
    pub fn distance(&self) -> u32 {
        self.entry().distance
    }

    /// The chain of items and relationships from a root to this item.
    ///
    /// # Complexity
    ///
    /// O(h) for a path of h hops (at most [`distance`](Self::distance)
    /// plus the hops of a hidden waypoint's own path).
    #[must_use]
    pub fn path(&self) -> Path<'a> {
        path(self.impact.cmdb, &self.impact.entries, self.entry)
    }

    /// For a redundancy group, how many members are down and how many it
    /// needs.
    ///
    /// # Complexity
    ///
    /// O(log g) in the number of groups in the result.
    #[must_use]
    pub fn group(&self) -> Option<GroupOutcome> {
        let node = self.entry().node;
        let groups = &self.impact.groups;
        let at = groups.binary_search_by_key(&node, |(n, _)| *n).ok()?;
        Some(groups[at].1)
    }
}

/// Walks the predecessor links from `entry` back to its root.
pub(crate) fn path<'a>(cmdb: &'a Cmdb, entries: &[Entry], entry: usize) -> Path<'a> {
    let mut steps = Vec::new();
    let mut at = entry;
    loop {
        let e = entries[at];
        steps.push((e.node, e.meta));
        if e.pred == NONE {
            break;
        }
        at = e.pred as usize;
    }
    steps.reverse();
    Path::of(cmdb, steps)
}

fn id_of(cmdb: &Cmdb, node: u32) -> &ResourceId {
    cmdb.topology().id(NodeIndex::new(node as usize))
}

/// The chain of items that explains why an item is in a result, from a root
/// to the item.
///
/// # Display
///
/// Each relationship is drawn in its real direction:
/// `db-payments <-[depends on]- app-payment-api <-[depends on]- svc-payments`
/// reads "app-payment-api depends on db-payments, and svc-payments depends on
/// app-payment-api".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path<'a> {
    steps: Vec<PathStep<'a>>,
}

impl<'a> Path<'a> {
    /// The steps, starting with the root.
    #[must_use]
    pub fn steps(&self) -> &[PathStep<'a>] {
        &self.steps
    }

    /// The number of relationships on the path.
    #[must_use]
    pub fn hops(&self) -> usize {
        self.steps.len().saturating_sub(1)
    }
}

impl<'a> Path<'a> {
    /// The path through `steps`: each a node and the meta of the index
    /// edge that led to it ([`EdgeMeta::ROOT`] for the first).
    pub(super) fn of(cmdb: &'a Cmdb, steps: Vec<(u32, EdgeMeta)>) -> Self {
        let steps = steps
            .into_iter()
            .map(|(node, meta)| PathStep {
                id: id_of(cmdb, node),
                via: (!meta.is_root()).then(|| (cmdb.topology().kind(meta.kind()), meta.forward())),
            })
            .collect();
        Self { steps }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            match step.via {
                None => {}
                Some((kind, true)) => write!(f, " -[{kind}]-> ")?,
                Some((kind, false)) => write!(f, " <-[{kind}]- ")?,
            }
            write!(f, "{}", step.id)?;
        }
        Ok(())
    }
}

/// One item on a [`Path`] and the relationship that led to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathStep<'a> {
    id: &'a ResourceId,
    via: Option<(&'a RelationKind, bool)>,
}

impl<'a> PathStep<'a> {
    /// The item.
    #[must_use]
    pub fn id(&self) -> &'a ResourceId {
        self.id
    }

    /// The kind of the relationship from the previous step to this one;
    /// `None` for the root.
    #[must_use]
    pub fn kind(&self) -> Option<&'a RelationKind> {
        self.via.map(|(kind, _)| kind)
    }

    /// Whether the relationship points from the previous step to this one
    /// (`previous -[kind]-> this`) rather than the other way.
    #[must_use]
    pub fn forward(&self) -> bool {
        self.via.is_some_and(|(_, forward)| forward)
    }
}

/// The result of [`Cmdb::reachable`]: every item the roots' failure could
/// reach, ignoring redundancy, in breadth-first order (roots excluded).
#[derive(Debug, Clone)]
pub struct Reach<'a> {
    cmdb: &'a Cmdb,
    nodes: Vec<u32>,
    roots: usize,
    /// The reachable nodes, sorted: built on the first
    /// [`contains`](Self::contains).
    sorted: OnceLock<Vec<u32>>,
}

impl<'a> Reach<'a> {
    /// The number of reachable items.
    #[must_use]
    pub fn len(&self) -> usize {
        self.nodes.len() - self.roots
    }

    /// Whether nothing is reachable.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The reachable items' ids, nearest first. O(1) per item.
    #[must_use]
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a ResourceId> + '_ {
        self.nodes[self.roots..]
            .iter()
            .map(|node| id_of(self.cmdb, *node))
    }

    /// Whether `id` is one of the reachable items (a root is not).
    ///
    /// # Complexity
    ///
    /// O(log n) in the result's size n, after a one-off O(n log n) sort of
    /// the result on the first call (one word per item).
    #[must_use]
    pub fn contains<Q: AsRef<str> + ?Sized>(&self, id: &Q) -> bool {
        let Some(node) = self.cmdb.topology().node(id.as_ref()) else {
            return false;
        };
        let Ok(node) = u32::try_from(node.index()) else {
            return false;
        };
        let sorted = self.sorted.get_or_init(|| {
            let mut sorted = self.nodes[self.roots..].to_vec();
            sorted.sort_unstable();
            sorted
        });
        sorted.binary_search(&node).is_ok()
    }
}

impl Cmdb {
    /// The blast radius of the query's roots failing: every item that goes
    /// down or is degraded, with its distance and an explaining path.
    ///
    /// Failure travels along each relationship in the direction its kind
    /// propagates ([`RelationKind::propagation`]). A redundancy group is down
    /// only when fewer members than its [`Quorum`](crate::Quorum) needs are
    /// up; when it loses members but keeps its quorum it is degraded, and
    /// what depends on it is degraded in turn. Cycles are fine: every item is
    /// visited once.
    ///
    /// The walk starts from the estate as recorded: members whose status
    /// means they are not serving count as down before the failure (see
    /// [the estate as recorded](ImpactQuery#the-estate-as-recorded)).
    ///
    /// # Order
    ///
    /// See [`Impact`]: down items nearest first, then degraded items nearest
    /// first.
    ///
    /// # Complexity
    ///
    /// O(V + E) over the part of the graph the failure reaches (V items, E
    /// relationships leaving them), plus sorting the g redundancy groups it
    /// reaches (O(g log g)) and finding them (O(min(g', V)) for the CMDB's
    /// g' groups), plus the one-off index build of the whole estate on the
    /// first query (writes after it patch the index; see
    /// [`Cmdb`](crate::Cmdb#query-index)). Starting a query does
    /// not depend on the estate's size, except that
    /// [`follow`](ImpactQuery::follow) costs O(K) in the number of kinds
    /// the CMDB has used and a [region failure](ImpactQuery::region_failure)
    /// O(N + n log n) to find and order the region's n items among the
    /// estate's N. A group the
    /// failure reaches costs O(its members) once, to count those down
    /// before the failure. Nothing recurses.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownCi`] naming a root or a `stop_at` item that is not in
    /// the CMDB.
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::{sample, ImpactState, ResourceId};
    ///
    /// let estate = sample::estate();
    /// let impact = estate.cmdb().blast_radius(ResourceId::new(sample::PAYMENTS_DB)?)?;
    /// let api = impact.get(sample::PAYMENT_API).expect("the API needs its database");
    /// assert_eq!(api.state(), ImpactState::Down);
    /// assert_eq!(api.path().to_string(), "db-payments <-[depends on]- app-payment-api");
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    pub fn blast_radius(&self, query: impl Into<ImpactQuery>) -> Result<Impact<'_>, Error> {
        let query = query.into();
        let index = self.index();
        let plan = query.plan(self, &index)?;
        let mut scratch = index.scratch();
        let entries = blast(&index, &plan, &mut scratch);
        let groups = group_outcomes(&index, &plan, &scratch, &entries);
        index.recycle(scratch);
        Ok(self.finish(&index, &plan, entries, groups))
    }

    /// Everything the query's roots depend on, with distance and path: the
    /// root-cause candidates of a failing service.
    ///
    /// Items the roots reach through a chain with no redundancy group on it
    /// are [`Required`](ImpactState::Required): the failure of any one of
    /// them alone takes a root down. Items reached only through a redundancy
    /// group are [`BehindGroup`](ImpactState::BehindGroup).
    ///
    /// # Order and distance
    ///
    /// Required items nearest first, each with the chain that makes it
    /// required; then the items behind a group nearest first, each at its
    /// shortest distance. Ties in discovery order. With
    /// [`max_depth`](ImpactQuery::max_depth), every item within that many
    /// hops is reported, and an item is required when such a chain fits
    /// within the depth.
    ///
    /// # Complexity
    ///
    /// O(V + E) over the part of the graph reached, plus the one-off index
    /// build and the O(K) of [`follow`](ImpactQuery::follow) as for
    /// [`blast_radius`](Self::blast_radius). Nothing recurses.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownCi`] naming a root or a `stop_at` item that is not in
    /// the CMDB.
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::{sample, ImpactState, ResourceId};
    ///
    /// let estate = sample::estate();
    /// let needs = estate.cmdb().dependencies(ResourceId::new(sample::PAYMENT_SERVICE)?)?;
    /// let db = needs.get(sample::PAYMENTS_DB).expect("payments needs its database");
    /// assert_eq!(db.state(), ImpactState::Required);
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    pub fn dependencies(&self, query: impl Into<ImpactQuery>) -> Result<Impact<'_>, Error> {
        let query = query.into();
        let index = self.index();
        let plan = query.plan(self, &index)?;
        let mut scratch = index.scratch();
        let entries = dependencies(&index, &plan, &mut scratch);
        index.recycle(scratch);
        Ok(self.finish(&index, &plan, entries, Vec::new()))
    }

    /// Every item the roots' failure could reach, ignoring redundancy (so an
    /// upper bound of the blast radius), without states or paths: the fastest
    /// query. The walk options of the query apply; the reporting filters do
    /// not.
    ///
    /// # Complexity
    ///
    /// O(V + E) over the part of the graph reached, plus the one-off index
    /// build and the O(K) of [`follow`](ImpactQuery::follow) as for
    /// [`blast_radius`](Self::blast_radius). Nothing recurses.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownCi`] naming a root or a `stop_at` item that is not in
    /// the CMDB.
    pub fn reachable(&self, query: impl Into<ImpactQuery>) -> Result<Reach<'_>, Error> {
        self.reach(&query.into(), |index| &index.up)
    }

    /// Everything the query's roots depend on, ignoring redundancy (so every
    /// item [`dependencies`](Self::dependencies) reports, required or
    /// behind a group), without states or paths: the fastest downward
    /// query, as [`reachable`](Self::reachable) is upward. The walk options
    /// of the query apply; the reporting filters do not.
    ///
    /// # Complexity
    ///
    /// As [`reachable`](Self::reachable).
    ///
    /// # Errors
    ///
    /// As [`reachable`](Self::reachable).
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::{sample, ResourceId};
    ///
    /// let estate = sample::estate();
    /// let below = estate.cmdb().reachable_below(ResourceId::new(sample::PAYMENT_SERVICE)?)?;
    /// assert!(below.contains(sample::STORAGE_ARRAY));
    /// assert!(!below.contains(sample::CHECKOUT_SERVICE));
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    pub fn reachable_below(&self, query: impl Into<ImpactQuery>) -> Result<Reach<'_>, Error> {
        self.reach(&query.into(), |index| &index.down)
    }

    /// Reachability over the adjacency `graph` picks from the index.
    fn reach(&self, query: &ImpactQuery, graph: fn(&Index) -> &Csr) -> Result<Reach<'_>, Error> {
        let index = self.index();
        let plan = query.plan(self, &index)?;
        let mut scratch = index.scratch();
        let (nodes, roots) = reach(&index, graph(&index), &plan, &mut scratch);
        index.recycle(scratch);
        Ok(Reach {
            cmdb: self,
            nodes,
            roots,
            sorted: OnceLock::new(),
        })
    }

    fn finish<'a>(
        &'a self,
        index: &Index,
        plan: &Plan,
        entries: Vec<Entry>,
        mut groups: Vec<(u32, GroupOutcome)>,
    ) -> Impact<'a> {
        // Each group appears once: every node is visited once by the walk
        // that reports groups.
        groups.sort_unstable_by_key(|(node, _)| *node);
        let roots = entries.iter().take_while(|e| e.pred == NONE).count();
        let (reported, len) = if plan.has_report_filter() || entries.iter().any(|e| e.hidden) {
            let reported: Vec<bool> = entries
                .iter()
                .enumerate()
                .map(|(i, e)| i >= roots && !e.hidden && plan.reports(index, e.node))
                .collect();
            let len = reported.iter().filter(|r| **r).count();
            (Some(reported), len)
        } else {
            (None, entries.len() - roots)
        };
        Impact {
            cmdb: self,
            entries,
            roots,
            reported,
            len,
            groups,
            lookup: OnceLock::new(),
            root_nodes: OnceLock::new(),
        }
    }
}

/// Marks the roots and returns their entries.
fn seed(plan: &Plan, scratch: &mut Scratch, state: ImpactState) -> Vec<Entry> {
    let mut entries = Vec::with_capacity(plan.roots.len().max(16));
    for &root in &plan.roots {
        if !scratch.seen(root) {
            scratch.mark(root);
            entries.push(Entry {
                node: root,
                pred: NONE,
                distance: 0,
                meta: EdgeMeta::ROOT,
                state,
                hidden: false,
            });
        }
    }
    entries
}

pub(super) fn entry_index(entries: &[Entry]) -> u32 {
    u32::try_from(entries.len()).unwrap_or(NONE)
}

/// A group that lost a member but not (yet) its quorum during the down walk.
pub(super) struct Touched {
    group: u32,
    pred: u32,
    distance: u32,
    meta: EdgeMeta,
}

/// Where [`spread`] may go and when it stops.
#[derive(Default)]
pub(super) struct Bounds<'b> {
    /// Only nodes marked here are walked (all when `None`).
    pub(super) within: Option<&'b [bool]>,
    /// The walk stops as soon as a node marked here goes down.
    pub(super) until: Option<&'b [bool]>,
    /// Each group slot's members down before the failure, worked out
    /// beforehand (by the walk, at its first member, when `None`).
    pub(super) before: Option<&'b [u32]>,
}

/// Phase 1 of a blast radius: what goes down, from the failed `entries`. A
/// plain breadth-first walk, except that a member's failure only counts
/// towards its group's quorum (members down before the failure counting
/// from the start). Groups that lost a member but kept their quorum go to
/// `touched`. Returns the entry of the first `until` node that went down,
/// if the walk stopped there.
pub(super) fn spread(
    index: &Index,
    plan: &Plan,
    scratch: &mut Scratch,
    entries: &mut Vec<Entry>,
    touched: &mut Vec<Touched>,
    bounds: &Bounds<'_>,
) -> Option<usize> {
    let edges = index.up.edges();
    let mut head = 0;
    while head < entries.len() {
        let from = entries[head];
        let pred = entry_index(&entries[..head]);
        head += 1;
        if from.distance >= plan.max_depth {
            continue;
        }
        for &(node, meta) in &edges[index.up.range(from.node)] {
            // A stopped item is neither walked nor reported: a stopped group
            // does not even count its members' failures.
            if !plan.follows(meta)
                || bounds.within.is_some_and(|within| !within[node as usize])
                || plan.stops(index, node)
            {
                continue;
            }
            // A member that was down before the failure changes nothing:
            // it counts towards its group from the start.
            if meta.member() && plan.down_before(index, from.node) {
                continue;
            }
            // A down member counts towards its group even when the group is
            // already down, so that the group's figures are complete.
            let quorum_holds = meta.member() && {
                let slot = index.group_slot[node as usize];
                let (first, down) = scratch.member_down(slot, || match bounds.before {
                    Some(before) => before[slot as usize],
                    None => members_down_before(index, plan, node),
                });
                if first {
                    touched.push(Touched {
                        group: node,
                        pred,
                        distance: from.distance + 1,
                        meta,
                    });
                }
                down <= index.groups[slot as usize].tolerance
            };
            if quorum_holds || scratch.seen(node) {
                continue;
            }
            scratch.mark(node);
            entries.push(Entry {
                node,
                pred,
                distance: from.distance + 1,
                meta,
                state: ImpactState::Down,
                hidden: false,
            });
            if bounds.until.is_some_and(|until| until[node as usize]) {
                return Some(entries.len() - 1);
            }
        }
    }
    None
}

fn blast(index: &Index, plan: &Plan, scratch: &mut Scratch) -> Vec<Entry> {
    let mut entries = seed(plan, scratch, ImpactState::Failed);
    let mut touched = Vec::new();
    spread(
        index,
        plan,
        scratch,
        &mut entries,
        &mut touched,
        &Bounds::default(),
    );
    let edges = index.up.edges();

    // Phase 2: what is degraded: groups that lost members but kept their
    // quorum, and everything above them that is not already down. Walked
    // level by level so that seeds discovered at different depths keep
    // distances shortest.
    let mut seeds = touched.into_iter().peekable();
    let mut level_start = entries.len();
    loop {
        let level = match (entries.get(level_start), seeds.peek()) {
            (Some(first), _) => first.distance,
            (None, Some(seed)) => seed.distance,
            (None, None) => break,
        };
        while let Some(seed) = seeds.next_if(|seed| seed.distance <= level) {
            if !scratch.seen(seed.group) {
                scratch.mark(seed.group);
                entries.push(Entry {
                    node: seed.group,
                    pred: seed.pred,
                    distance: seed.distance,
                    meta: seed.meta,
                    state: ImpactState::Degraded,
                    hidden: false,
                });
            }
        }
        let level_end = entries.len();
        for at in level_start..level_end {
            let from = entries[at];
            if from.distance >= plan.max_depth {
                continue;
            }
            let pred = entry_index(&entries[..at]);
            for &(node, meta) in &edges[index.up.range(from.node)] {
                if scratch.seen(node) || !plan.follows(meta) || plan.stops(index, node) {
                    continue;
                }
                scratch.mark(node);
                entries.push(Entry {
                    node,
                    pred,
                    distance: from.distance + 1,
                    meta,
                    state: ImpactState::Degraded,
                    hidden: false,
                });
            }
        }
        level_start = level_end;
    }
    entries
}

/// How many members of `group` are down before the failure starts, by
/// their recorded status. O(the group's relationships).
pub(super) fn members_down_before(index: &Index, plan: &Plan, group: u32) -> u32 {
    let edges = index.down.edges();
    let mut down = 0;
    for &(member, meta) in &edges[index.down.range(group)] {
        if meta.member() && plan.down_before(index, member) {
            down += 1;
        }
    }
    down
}

fn group_outcomes(
    index: &Index,
    plan: &Plan,
    scratch: &Scratch,
    entries: &[Entry],
) -> Vec<(u32, GroupOutcome)> {
    entries
        .iter()
        .filter_map(|entry| {
            let slot = index.group_slot[entry.node as usize];
            let group = index.groups.get(slot as usize)?;
            let before = members_down_before(index, plan, entry.node);
            Some((
                entry.node,
                GroupOutcome {
                    members: group.members,
                    // A group the walk touched counted its members down
                    // before; one it reached otherwise lost none to it.
                    down: scratch.down_members(slot).max(before),
                    before,
                    needed: group.needed,
                },
            ))
        })
        .collect()
}

/// Whether the group `group` goes down when any one of its serving members
/// fails: fewer members than it needs would be left serving. O(the group's
/// relationships).
fn needs_every_member(index: &Index, plan: &Plan, group: u32) -> bool {
    let slot = index.group_slot[group as usize];
    let Some(outline) = index.groups.get(slot as usize) else {
        return false;
    };
    let serving = outline.members - members_down_before(index, plan, group);
    serving <= outline.needed
}

pub(super) fn dependencies(index: &Index, plan: &Plan, scratch: &mut Scratch) -> Vec<Entry> {
    let mut entries = seed(plan, scratch, ImpactState::Failed);
    let edges = index.down.edges();
    // Phase 1: what the roots need through chains without a group (or
    // through groups that cannot lose the member).
    let mut left_out = false;
    let mut head = 0;
    while head < entries.len() {
        let from = entries[head];
        let pred = entry_index(&entries[..head]);
        head += 1;
        if from.distance >= plan.max_depth {
            continue;
        }
        // Whether the group `from` (when it is one) cannot lose a serving
        // member: worked out at its first member.
        let mut needs_each = None;
        for &(node, meta) in &edges[index.down.range(from.node)] {
            if scratch.seen(node) || !plan.follows(meta) || plan.stops(index, node) {
                continue;
            }
            if meta.member() {
                let needs_each =
                    *needs_each.get_or_insert_with(|| needs_every_member(index, plan, from.node));
                if !needs_each || plan.down_before(index, node) {
                    left_out = true;
                    continue;
                }
            }
            scratch.mark(node);
            entries.push(Entry {
                node,
                pred,
                distance: from.distance + 1,
                meta,
                state: ImpactState::Required,
                hidden: false,
            });
        }
    }

    // When phase 1 left no member edge out, it walked every edge phase 2
    // would walk: there is nothing behind a group.
    if !left_out {
        return entries;
    }

    // Phase 2: everything else, by a plain breadth-first walk over every
    // edge from the roots, so that each item is found at its shortest
    // distance. Required items on the way become hidden waypoints: they
    // are reported once, by phase 1.
    let roots = entries.iter().take_while(|e| e.pred == NONE).count();
    for root in &entries[..roots] {
        scratch.mark_second(root.node);
    }
    let mut head = 0;
    let mut queue: Vec<u32> = (0..roots).map(|i| entry_index(&entries[..i])).collect();
    while head < queue.len() {
        let at = queue[head] as usize;
        head += 1;
        let from = entries[at];
        if from.distance >= plan.max_depth {
            continue;
        }
        for &(node, meta) in &edges[index.down.range(from.node)] {
            if scratch.seen_second(node) || !plan.follows(meta) || plan.stops(index, node) {
                continue;
            }
            scratch.mark_second(node);
            queue.push(entry_index(&entries));
            entries.push(Entry {
                node,
                pred: u32::try_from(at).unwrap_or(NONE),
                distance: from.distance + 1,
                meta,
                state: ImpactState::BehindGroup,
                hidden: scratch.seen(node),
            });
        }
    }
    entries
}

/// Breadth-first over `graph` (the index's `up` or `down` adjacency).
fn reach(index: &Index, graph: &Csr, plan: &Plan, scratch: &mut Scratch) -> (Vec<u32>, usize) {
    let mut nodes: Vec<u32> = Vec::new();
    for &root in &plan.roots {
        if !scratch.seen(root) {
            scratch.mark(root);
            nodes.push(root);
        }
    }
    let roots = nodes.len();
    let edges = graph.edges();
    if plan.is_plain() {
        // The hot path: no per-edge or per-node option to check.
        let mut head = 0;
        while head < nodes.len() {
            let from = nodes[head];
            head += 1;
            for &(node, _) in &edges[graph.range(from)] {
                if !scratch.seen(node) {
                    scratch.mark(node);
                    nodes.push(node);
                }
            }
        }
        return (nodes, roots);
    }
    let (mut level_start, mut depth) = (0, 0u32);
    while level_start < nodes.len() && depth < plan.max_depth {
        let level_end = nodes.len();
        for at in level_start..level_end {
            for &(node, meta) in &edges[graph.range(nodes[at])] {
                if scratch.seen(node) || !plan.follows(meta) || plan.stops(index, node) {
                    continue;
                }
                scratch.mark(node);
                nodes.push(node);
            }
        }
        level_start = level_end;
        depth += 1;
    }
    (nodes, roots)
}
