//! Single points of failure: the items whose failure alone takes a service
//! down.

use std::sync::Arc;

use super::impact::{
    Bounds, Entry, ImpactState, Path, Touched, dependencies, members_down_before, spread,
};
use super::index::{Csr, EdgeMeta, NONE};
use super::query::{ImpactQuery, Plan};
use super::scc::Components;
use crate::hash::HashMap;
use crate::{Cmdb, Error, ResourceId};

/// The answer of [`Cmdb::single_points_of_failure`]: every item whose
/// failure alone takes one of the query's roots down, nearest first.
#[derive(Debug, Clone)]
pub struct SinglePoints<'a> {
    points: Vec<SinglePoint<'a>>,
}

impl<'a> SinglePoints<'a> {
    /// The number of single points of failure.
    #[must_use]
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether there is none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Every single point of failure, nearest first (by its distance from
    /// the service in [`dependencies`](Cmdb::dependencies); ties in the
    /// order that answer lists them). O(1) per item.
    #[must_use]
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &SinglePoint<'a>> + '_ {
        self.points.iter()
    }

    /// The single point of failure `id`, if it is one. O(n) in the
    /// answer's size.
    #[must_use]
    pub fn get<Q: AsRef<str> + ?Sized>(&self, id: &Q) -> Option<&SinglePoint<'a>> {
        self.points
            .iter()
            .find(|point| point.id.as_str() == id.as_ref())
    }
}

/// One item whose failure alone takes a service down, with the chains that
/// explain it.
///
/// Its chains share their common parts with the other single points' (an
/// item on a long chain below a service explains itself through the next
/// one up), so an answer holds O(1) per item and chain link rather than
/// every chain in full; [`path`](Self::path) and [`paths`](Self::paths)
/// put the chains together when asked.
#[derive(Clone)]
pub struct SinglePoint<'a> {
    cmdb: &'a Cmdb,
    id: &'a ResourceId,
    service: &'a ResourceId,
    distance: u32,
    common_mode: bool,
    /// The first link of each chain, the main one first.
    heads: Vec<u32>,
    links: Arc<[Link]>,
}

impl<'a> SinglePoint<'a> {
    /// The item.
    #[must_use]
    pub fn id(&self) -> &'a ResourceId {
        self.id
    }

    /// A query root its failure takes down (the one its
    /// [`path`](Self::path) ends at).
    #[must_use]
    pub fn service(&self) -> &'a ResourceId {
        self.service
    }

    /// Its distance from the service in hops, as
    /// [`dependencies`](Cmdb::dependencies) reports it. (The failure's
    /// [`path`](Self::path) may pass a redundancy group, and be longer or
    /// shorter than a required item's chain without one.)
    #[must_use]
    pub fn distance(&self) -> u32 {
        self.distance
    }

    /// A chain along which its failure reaches the service, from the item
    /// to the service.
    ///
    /// # Complexity
    ///
    /// O(h) for a chain of h hops.
    #[must_use]
    pub fn path(&self) -> Path<'a> {
        self.chain(self.heads[0])
    }

    /// Every explaining chain, each from the item to the service: first
    /// [`path`](Self::path); then, for each redundancy group on it, the
    /// chain through each other member the failure had taken down when the
    /// group fell (a hypervisor under both members of a pool has one chain
    /// through each member).
    ///
    /// # Complexity
    ///
    /// O(the chains' hops).
    #[must_use]
    pub fn paths(&self) -> Vec<Path<'a>> {
        self.heads.iter().map(|&head| self.chain(head)).collect()
    }

    /// The number of explaining chains, [`paths`](Self::paths)`.len()`.
    /// O(1).
    #[must_use]
    pub fn path_count(&self) -> usize {
        self.heads.len()
    }

    /// Whether its failure reaches the service only by taking down several
    /// members of a redundancy group (a common-mode failure): the group on
    /// the way does not protect against it. False for an item
    /// [`dependencies`](Cmdb::dependencies) reports as required (it also
    /// reaches the service through a chain without a group).
    #[must_use]
    pub fn common_mode(&self) -> bool {
        self.common_mode
    }

    fn chain(&self, head: u32) -> Path<'a> {
        let mut steps = Vec::new();
        let mut at = head;
        while at != NONE {
            let link = self.links[at as usize];
            steps.push((link.node, link.meta));
            at = link.next;
        }
        Path::of(self.cmdb, steps)
    }
}

impl PartialEq for SinglePoint<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.service == other.service
            && self.distance == other.distance
            && self.common_mode == other.common_mode
            && self.paths() == other.paths()
    }
}

impl Eq for SinglePoint<'_> {}

impl std::fmt::Debug for SinglePoint<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SinglePoint")
            .field("id", &self.id)
            .field("service", &self.service)
            .field("distance", &self.distance)
            .field("common_mode", &self.common_mode)
            .field("paths", &self.paths())
            .finish()
    }
}

/// One step of a chain: an item, the relationship that led to it (as the
/// walk followed it; [`EdgeMeta::ROOT`] for the chain's first item) and
/// the next link towards the service ([`NONE`] at the service).
#[derive(Debug, Clone, Copy)]
struct Link {
    node: u32,
    meta: EdgeMeta,
    next: u32,
}

/// What is known of an item's failure, once judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Not judged (yet).
    Unknown,
    /// A query root.
    Root,
    /// Its failure alone does not take a root down.
    Survives,
    /// A single point of failure: its entry in the list found so far.
    Point(u32),
}

/// A single point of failure as the search finds it.
struct Found {
    node: u32,
    service: u32,
    distance: u32,
    /// Whether a group on its main chain needed more than one member to
    /// fall.
    through_group: bool,
    required: bool,
    heads: Vec<u32>,
    reported: bool,
}

impl Cmdb {
    /// Every item whose failure alone takes a root of the query down: the
    /// single points of failure of a service, those on a plain chain below
    /// it and the common-mode ones under several members of a redundancy
    /// group (a hypervisor under both pool members), each with its
    /// explaining chains, nearest first.
    ///
    /// The candidates are what [`dependencies`](Self::dependencies) reports
    /// for the same query (its walk options, [`max_depth`](ImpactQuery::max_depth)
    /// included, and its reporting filters decide which items are
    /// candidates); each candidate's failure is judged as
    /// [`blast_radius`](Self::blast_radius) judges it, from the estate as
    /// recorded, so an item is listed exactly when its blast radius takes
    /// the service down. The roots themselves are not listed.
    ///
    /// # How
    ///
    /// Candidates are judged nearest the service first, each by a walk of
    /// its failure within what the roots depend on. Without a depth limit,
    /// two facts cut the walks short. Failure only spreads (a group never
    /// comes back up because more went down), so a walk that takes down an
    /// item already known to be a single point of failure stops there: the
    /// candidate is one too, explained by its chain to that item and then
    /// that item's chains. And an item whose failure reaches exactly one
    /// other item, not as a group member, fares as that item does: it is
    /// judged without a walk. With a depth limit every candidate is walked
    /// in full, since a chain that fits within the limit from one item need
    /// not fit from the one below it.
    ///
    /// # Complexity
    ///
    /// Linear in what the roots depend on (V items, E relationships) when
    /// every candidate is judged without a walk or its walk soon meets a
    /// known single point: a chain of any length below a service, and a
    /// tree of items each with one dependent. At worst, when many
    /// candidates survive behind redundancy and walk far before their walks
    /// end, O(C · (V + E)) for the C candidates (also with a depth limit).
    /// Plus the dependencies query, O(N) for three marks per item of the
    /// estate's N, and O(1) per chain link the answer holds: one per item
    /// judged without a walk, one per step of a walk's chain, and one per
    /// chain inherited from the single point a walk stopped at. Nothing
    /// recurses.
    ///
    /// # Errors
    ///
    /// As [`dependencies`](Self::dependencies).
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::{sample, ResourceId};
    ///
    /// let estate = sample::estate();
    /// let points = estate
    ///     .cmdb()
    ///     .single_points_of_failure(ResourceId::new(sample::CHECKOUT_SERVICE)?)?;
    /// // Both regional checkout apps use Payments: the pool does not help.
    /// let payments = points.get(sample::PAYMENT_SERVICE).expect("a single point");
    /// assert!(payments.common_mode());
    /// assert_eq!(payments.paths().len(), 2);
    /// // Each regional app alone is covered by the other.
    /// assert!(points.get(sample::CHECKOUT_EU_WEST_1).is_none());
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    pub fn single_points_of_failure(
        &self,
        query: impl Into<ImpactQuery>,
    ) -> Result<SinglePoints<'_>, Error> {
        let query = query.into();
        let index = self.index();
        let plan = query.plan(self, &index)?;
        let mut scratch = index.scratch();
        let needs = dependencies(&index, &plan, &mut scratch);
        let mut search = Search::new(self, &index, &plan, &needs);
        for candidate in &needs[search.roots..] {
            // A hidden entry repeats an item listed before it.
            if !candidate.hidden {
                search.judge(candidate, &mut scratch);
            }
        }
        index.recycle(scratch);
        Ok(search.finish())
    }
}

/// The state of one search for single points of failure.
struct Search<'a, 'q> {
    cmdb: &'a Cmdb,
    index: &'q super::Index,
    plan: &'q Plan,
    roots: usize,
    /// The items the roots depend on: the walks stay within them.
    within: Vec<bool>,
    /// Where a walk stops: the roots and, without a depth limit, the
    /// single points found so far.
    until: Vec<bool>,
    /// The roots alone, for a walk that must not stop at a single point.
    roots_only: Vec<bool>,
    /// The strongly connected component of each item the roots depend on,
    /// found when first needed.
    components: Option<Vec<u32>>,
    verdict: Vec<Verdict>,
    /// Whether verdicts carry over from one item to another (no depth
    /// limit).
    memo: bool,
    found: Vec<Found>,
    links: Vec<Link>,
    entries: Vec<Entry>,
    touched: Vec<Touched>,
}

impl<'a, 'q> Search<'a, 'q> {
    fn new(cmdb: &'a Cmdb, index: &'q super::Index, plan: &'q Plan, needs: &[Entry]) -> Self {
        let roots = needs.iter().take_while(|e| e.pred == NONE).count();
        let mut within = vec![false; index.nodes];
        let mut until = vec![false; index.nodes];
        let mut verdict = vec![Verdict::Unknown; index.nodes];
        for entry in needs {
            within[entry.node as usize] = true;
        }
        for entry in &needs[..roots] {
            until[entry.node as usize] = true;
            verdict[entry.node as usize] = Verdict::Root;
        }
        let roots_only = until.clone();
        Self {
            cmdb,
            index,
            plan,
            roots,
            within,
            until,
            roots_only,
            components: None,
            verdict,
            memo: plan.max_depth == u32::MAX,
            found: Vec::new(),
            links: Vec::new(),
            entries: Vec::new(),
            touched: Vec::new(),
        }
    }

    /// Judges `candidate`'s failure, recording its verdict (and, for a
    /// single point, its chains).
    fn judge(&mut self, candidate: &Entry, scratch: &mut super::index::Scratch) {
        let node = candidate.node;
        if self.verdict[node as usize] != Verdict::Unknown {
            return;
        }
        let reported = self.plan.reports(self.index, node);
        let required = candidate.state == ImpactState::Required;
        if self.memo {
            if let Some((next, meta)) = self.only_step(node) {
                match self.verdict[next as usize] {
                    Verdict::Survives => {
                        self.verdict[node as usize] = Verdict::Survives;
                        return;
                    }
                    Verdict::Root => {
                        let to = self.push_link(next, meta, NONE);
                        let head = self.push_link(node, EdgeMeta::ROOT, to);
                        self.record(candidate, next, false, vec![head], reported, required);
                        return;
                    }
                    Verdict::Point(at) => {
                        let found = &self.found[at as usize];
                        let (service, through_group) = (found.service, found.through_group);
                        let heads: Vec<u32> = found.heads.clone();
                        let heads = heads
                            .into_iter()
                            .map(|head| {
                                let rest = self.links[head as usize].next;
                                let to = self.push_link(next, meta, rest);
                                self.push_link(node, EdgeMeta::ROOT, to)
                            })
                            .collect();
                        self.record(candidate, service, through_group, heads, reported, required);
                        return;
                    }
                    Verdict::Unknown => {}
                }
            }
        }
        self.walk(candidate, scratch, reported, required);
    }

    /// The one relationship along which `node`'s failure can spread, as the
    /// walk would follow it, when there is exactly one and it is not a
    /// group membership; its far end and meta.
    fn only_step(&self, node: u32) -> Option<(u32, EdgeMeta)> {
        let (index, plan) = (self.index, self.plan);
        let edges = index.up.edges();
        let mut only = None;
        for &(next, meta) in &edges[index.up.range(node)] {
            if !plan.follows(meta) || !self.within[next as usize] || plan.stops(index, next) {
                continue;
            }
            // A member down before the failure changes nothing by failing.
            if meta.member() && plan.down_before(index, node) {
                continue;
            }
            if only.is_some() || meta.member() || next == node {
                return None;
            }
            only = Some((next, meta));
        }
        only
    }

    /// Judges `candidate` by walking its failure until it takes down a root
    /// or a known single point, or ends.
    fn walk(
        &mut self,
        candidate: &Entry,
        scratch: &mut super::index::Scratch,
        reported: bool,
        required: bool,
    ) {
        let node = candidate.node;
        let Some(mut hit) = self.spread_from(node, scratch, false) else {
            self.verdict[node as usize] = Verdict::Survives;
            return;
        };
        if let Verdict::Point(_) = self.verdict[self.entries[hit].node as usize] {
            // The known single point's chains, after the walk's chain to it,
            // could come back to an item of the walk only through a cycle
            // with that point: then walk on to a root instead, for chains
            // that never repeat an item.
            if self.cycles_back(self.entries[hit].node) {
                match self.spread_from(node, scratch, true) {
                    Some(at) => hit = at,
                    // Failure only spreads: the root is reached.
                    None => unreachable!("a walk that met a single point reaches a root"),
                }
            }
        }
        // The main chain, candidate first, by entry.
        let mut chain = Vec::new();
        let mut at = hit;
        loop {
            chain.push(at);
            if self.entries[at].pred == NONE {
                break;
            }
            at = self.entries[at].pred as usize;
        }
        chain.reverse();
        let end = self.entries[hit];
        let (service, mut through_group, tails) = match self.verdict[end.node as usize] {
            Verdict::Point(point) => {
                let found = &self.found[point as usize];
                let tails: Vec<u32> = found
                    .heads
                    .iter()
                    .map(|&head| self.links[head as usize].next)
                    .collect();
                (found.service, found.through_group, tails)
            }
            // Only roots and single points stop a walk.
            _ => (end.node, false, vec![NONE]),
        };
        // The main chain's links, one per entry on it.
        let mut main = vec![NONE; chain.len()];
        let mut next = tails[0];
        for (place, &entry) in chain.iter().enumerate().rev() {
            let e = self.entries[entry];
            next = self.push_link(e.node, e.meta, next);
            main[place] = next;
        }
        let mut heads = vec![main[0]];
        // For each group on the walk's part of the chain, the chain through
        // each other member taken down.
        let edges = self.index.down.edges();
        let mut at_node: Option<HashMap<u32, usize>> = None;
        for step in 1..chain.len() {
            let (member, group) = (self.entries[chain[step - 1]], self.entries[chain[step]]);
            if !group.meta.member() {
                continue;
            }
            let slot = self.index.group_slot[group.node as usize];
            let tolerance = self.index.groups[slot as usize].tolerance;
            // More than one member of this group had to fall.
            if tolerance > members_down_before(self.index, self.plan, group.node) {
                through_group = true;
            }
            let at_node = at_node.get_or_insert_with(|| {
                self.entries
                    .iter()
                    .enumerate()
                    .map(|(i, entry)| (entry.node, i))
                    .collect()
            });
            for i in self.index.down.range(group.node) {
                let other = edges[i].0;
                if !edges[i].1.member()
                    || other == member.node
                    || !scratch.seen(other)
                    || self.plan.down_before(self.index, other)
                {
                    continue;
                }
                // Every node the walk marked has an entry.
                let entry = at_node[&other];
                // A member that fell through the group itself (groups in a
                // cycle) explains nothing more.
                if passes(&self.entries, entry, group.node) {
                    continue;
                }
                let rest = self.links[main[step] as usize].next;
                let via = self.push_link(group.node, edges[i].1.reversed(), rest);
                heads.push(self.walk_links(entry, via));
            }
        }
        // The chains of the single point the walk stopped at, after the
        // walk's chain to it.
        for &tail in &tails[1..] {
            let to = self.push_link(end.node, end.meta, tail);
            let before = chain[chain.len() - 2];
            heads.push(self.walk_links(before, to));
        }
        self.record(candidate, service, through_group, heads, reported, required);
    }

    /// Walks `node`'s failure within what the roots depend on, until it
    /// takes down a root (or, unless `to_a_root`, a known single point);
    /// returns that entry.
    fn spread_from(
        &mut self,
        node: u32,
        scratch: &mut super::index::Scratch,
        to_a_root: bool,
    ) -> Option<usize> {
        scratch.restart();
        scratch.mark(node);
        self.entries.clear();
        self.touched.clear();
        self.entries.push(Entry {
            node,
            pred: NONE,
            distance: 0,
            meta: EdgeMeta::ROOT,
            state: ImpactState::Failed,
            hidden: false,
        });
        let bounds = Bounds {
            within: Some(&self.within),
            until: Some(if to_a_root {
                &self.roots_only
            } else {
                &self.until
            }),
        };
        spread(
            self.index,
            self.plan,
            scratch,
            &mut self.entries,
            &mut self.touched,
            &bounds,
        )
    }

    /// Whether an item of the last walk other than `point` shares a
    /// strongly connected component of the failure graph (within what the
    /// roots depend on) with `point`. O(the walk), plus O(V + E) once per
    /// search to find the components.
    fn cycles_back(&mut self, point: u32) -> bool {
        let components = self
            .components
            .get_or_insert_with(|| components(self.index, &self.within));
        let of = components[point as usize];
        self.entries
            .iter()
            .any(|entry| entry.node != point && components[entry.node as usize] == of)
    }

    /// Links for the walk's chain from its start to entry `entry`, then on
    /// to link `next`; returns the first.
    fn walk_links(&mut self, entry: usize, mut next: u32) -> u32 {
        let mut at = entry;
        loop {
            let e = self.entries[at];
            next = self.push_link(e.node, e.meta, next);
            if e.pred == NONE {
                return next;
            }
            at = e.pred as usize;
        }
    }

    fn push_link(&mut self, node: u32, meta: EdgeMeta, next: u32) -> u32 {
        self.links.push(Link { node, meta, next });
        u32::try_from(self.links.len() - 1).unwrap_or(NONE)
    }

    fn record(
        &mut self,
        candidate: &Entry,
        service: u32,
        through_group: bool,
        heads: Vec<u32>,
        reported: bool,
        required: bool,
    ) {
        let node = candidate.node;
        self.verdict[node as usize] =
            Verdict::Point(u32::try_from(self.found.len()).unwrap_or(NONE));
        if self.memo {
            self.until[node as usize] = true;
        }
        self.found.push(Found {
            node,
            service,
            distance: candidate.distance,
            through_group,
            required,
            heads,
            reported,
        });
    }

    fn finish(self) -> SinglePoints<'a> {
        let links: Arc<[Link]> = self.links.into();
        let cmdb = self.cmdb;
        let id = |node: u32| cmdb.topology().id(node_index(node));
        let mut points: Vec<SinglePoint<'a>> = self
            .found
            .into_iter()
            .filter(|found| found.reported)
            .map(|found| SinglePoint {
                cmdb,
                id: id(found.node),
                service: id(found.service),
                distance: found.distance,
                // A required item reaches the service through a plain chain
                // too.
                common_mode: found.through_group && !found.required,
                heads: found.heads,
                links: Arc::clone(&links),
            })
            .collect();
        // Candidates are judged in the order `dependencies` lists them:
        // required items nearest first, then the others nearest first; a
        // stable sort by distance keeps that order in ties.
        points.sort_by_key(|point| point.distance);
        SinglePoints { points }
    }
}

/// The strongly connected component of each item marked `within`, in the
/// failure graph between them ([`NONE`] for the others). O(N) for the
/// estate's N items, plus O(V + E) for the V items within and the E
/// relationships between them.
fn components(index: &super::Index, within: &[bool]) -> Vec<u32> {
    let mut local = vec![NONE; within.len()];
    let mut nodes = Vec::new();
    for (node, _) in within.iter().enumerate().filter(|(_, w)| **w) {
        local[node] = u32::try_from(nodes.len()).unwrap_or(NONE);
        nodes.push(u32::try_from(node).unwrap_or(NONE));
    }
    let mut edges = Vec::new();
    for (from, &node) in nodes.iter().enumerate() {
        for to in index.up.next(node) {
            if within[to as usize] {
                edges.push((u32::try_from(from).unwrap_or(NONE), local[to as usize]));
            }
        }
    }
    let found = Components::find(&Csr::links(nodes.len(), edges));
    let mut of = vec![NONE; within.len()];
    for (at, &node) in nodes.iter().enumerate() {
        of[node as usize] =
            u32::try_from(found.of(u32::try_from(at).unwrap_or(NONE))).unwrap_or(NONE);
    }
    of
}

/// Whether the chain to entry `at` passes through `node`.
fn passes(entries: &[Entry], mut at: usize, node: u32) -> bool {
    loop {
        if entries[at].node == node {
            return true;
        }
        if entries[at].pred == NONE {
            return false;
        }
        at = entries[at].pred as usize;
    }
}

fn node_index(node: u32) -> petgraph::stable_graph::NodeIndex {
    petgraph::stable_graph::NodeIndex::new(node as usize)
}
