//! Single points of failure: the items whose failure alone takes a service
//! down.

use std::sync::{Arc, OnceLock};

use super::impact::{
    Bounds, Entry, ImpactState, Path, Touched, dependencies, members_down_before, spread,
};
use super::index::{EdgeMeta, NONE};
use super::query::{ImpactQuery, Plan};
use crate::hash::HashMap;
use crate::{Cmdb, Error, ResourceId};

/// The answer of [`Cmdb::single_points_of_failure`]: every item whose
/// failure alone takes one of the query's roots down, nearest first.
#[derive(Debug, Clone)]
pub struct SinglePoints<'a> {
    points: Vec<SinglePoint<'a>>,
    /// Each point's id and place, by id: sorted on the first
    /// [`get`](Self::get).
    lookup: OnceLock<Vec<(&'a str, u32)>>,
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
    /// the nearest root in [`dependencies`](Cmdb::dependencies); ties in
    /// the order that answer lists them). O(1) per item.
    #[must_use]
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &SinglePoint<'a>> + '_ {
        self.points.iter()
    }

    /// The single point of failure `id`, if it is one.
    ///
    /// # Complexity
    ///
    /// O(log n) in the answer's size n, after a one-off O(n log n) sort of
    /// its ids on the first call.
    #[must_use]
    pub fn get<Q: AsRef<str> + ?Sized>(&self, id: &Q) -> Option<&SinglePoint<'a>> {
        let lookup = self.lookup.get_or_init(|| {
            let mut lookup: Vec<(&'a str, u32)> = self
                .points
                .iter()
                .zip(0u32..)
                .map(|(point, at)| (point.id.as_str(), at))
                .collect();
            lookup.sort_unstable();
            lookup
        });
        let at = lookup
            .binary_search_by(|(other, _)| (*other).cmp(id.as_ref()))
            .ok()?;
        Some(&self.points[lookup[at].1 as usize])
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
    /// Its place in the search's list of single points.
    at: u32,
    /// How many chains explain it.
    count: usize,
    chains: Arc<Chains>,
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

    /// Its distance in hops from the nearest query root, as
    /// [`dependencies`](Cmdb::dependencies) reports it: the answer's order.
    /// (The failure's [`path`](Self::path) may pass a redundancy group, and
    /// be longer or shorter than a required item's chain without one; with
    /// several roots, the [`service`](Self::service) it ends at may be
    /// another root than the nearest.)
    #[must_use]
    pub fn distance(&self) -> u32 {
        self.distance
    }

    /// A chain along which its failure reaches the service, from the item
    /// to the service, never passing an item twice.
    ///
    /// # Complexity
    ///
    /// O(h) for a chain of h hops.
    #[must_use]
    pub fn path(&self) -> Path<'a> {
        let head = self.chains.explained[self.at as usize].heads[0];
        Path::of(self.cmdb, erase_loops(self.chains.steps(head)))
    }

    /// Every explaining chain, each from the item to the service: first
    /// [`path`](Self::path); then, for each redundancy group on it, the
    /// chain through each other member the failure had taken down when the
    /// group fell (a hypervisor under both members of a pool has one chain
    /// through each member).
    ///
    /// # Complexity
    ///
    /// O(the chains' hops). Each chain passes an item at most once.
    #[must_use]
    pub fn paths(&self) -> Vec<Path<'a>> {
        let chains = &*self.chains;
        let me = &chains.explained[self.at as usize];
        let mut paths: Vec<Path<'a>> = me
            .heads
            .iter()
            .map(|&head| Path::of(self.cmdb, erase_loops(chains.steps(head))))
            .collect();
        // Then the chains of the single point this one's failure reaches,
        // after the chain to it, and so on up: each point holds only its
        // own chains, so a chain of n points holds O(n), not O(n²).
        let mut prefix: Vec<(u32, EdgeMeta)> = Vec::new();
        let mut inherit = me.inherit;
        while let Some((head, point)) = inherit {
            let steps = chains.steps(head);
            if prefix.is_empty() {
                prefix = steps;
            } else {
                // The point's own chain starts where the prefix ends.
                prefix.extend(steps.into_iter().skip(1));
            }
            let from = &chains.explained[point as usize];
            for &head in &from.heads[1..] {
                let mut steps = prefix.clone();
                steps.extend(chains.steps(head).into_iter().skip(1));
                paths.push(Path::of(self.cmdb, erase_loops(steps)));
            }
            inherit = from.inherit;
        }
        paths
    }

    /// The number of explaining chains, [`paths`](Self::paths)`.len()`.
    /// O(1).
    #[must_use]
    pub fn path_count(&self) -> usize {
        self.count
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

/// The chains of every single point a search found, shared by its answer.
#[derive(Debug)]
struct Chains {
    links: Vec<Link>,
    /// By the search's list of single points.
    explained: Vec<Explained>,
}

impl Chains {
    /// The steps of the chain from link `head` on.
    fn steps(&self, head: u32) -> Vec<(u32, EdgeMeta)> {
        let mut steps = Vec::new();
        let mut at = head;
        while at != NONE {
            let link = self.links[at as usize];
            steps.push((link.node, link.meta));
            at = link.next;
        }
        steps
    }
}

/// How one single point is explained.
#[derive(Debug)]
struct Explained {
    /// The first link of each chain of its own, the main one first.
    heads: Vec<u32>,
    /// The chain to the known single point its walk stopped at (ending
    /// there) and that point: its chains other than the main one explain
    /// this point too, after that chain.
    inherit: Option<(u32, u32)>,
}

/// `steps` with any loop taken out: a chain that goes on along a known
/// single point's chain can pass an item it passed before (in a cycle),
/// and then goes on from that item's first place. O(steps).
fn erase_loops(steps: Vec<(u32, EdgeMeta)>) -> Vec<(u32, EdgeMeta)> {
    let mut kept: Vec<(u32, EdgeMeta)> = Vec::with_capacity(steps.len());
    let mut place: HashMap<u32, usize> = HashMap::default();
    for (node, meta) in steps {
        if let Some(&first) = place.get(&node) {
            for (gone, _) in kept.drain(first + 1..) {
                place.remove(&gone);
            }
        } else {
            place.insert(node, kept.len());
            kept.push((node, meta));
        }
    }
    kept
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
    inherit: Option<(u32, u32)>,
    /// How many chains explain it, its own and inherited.
    count: usize,
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
    /// known single point: a chain of any length below a service (one-way
    /// or two-way links), a ring, a ladder, a tree of items each with one
    /// dependent, a pool of any width. At worst, when many candidates
    /// survive behind redundancy and walk far before their walks end,
    /// O(C · (V + E)) for the C candidates (also with a depth limit, which
    /// turns the shortcuts off). Plus the dependencies query, O(N) for
    /// three marks per item of the estate's N, the groups' members down
    /// before (once per group), and O(1) per chain link the answer holds:
    /// two per item judged without a walk, and about two per step of a
    /// walk's chains. A point's chains inherited from the single point its
    /// walk stopped at are shared, not copied (a chain of n pools, pool k
    /// with k chains, holds O(n) links); [`SinglePoint::paths`] puts them
    /// together when asked, and takes out the loop of a chain that passes
    /// an item twice (a cycle through a known point). Nothing recurses.
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
    /// Each group slot's members down before the failure (for the groups
    /// within; a wide pool's members would count them again at each walk).
    before: Vec<u32>,
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
        let before = index
            .group_node
            .iter()
            .map(|&group| {
                if group != NONE && within[group as usize] {
                    members_down_before(index, plan, group)
                } else {
                    0
                }
            })
            .collect();
        Self {
            cmdb,
            index,
            plan,
            roots,
            within,
            until,
            before,
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
                        self.record(candidate, next, false, vec![head], None);
                        return;
                    }
                    Verdict::Point(at) => {
                        let found = &self.found[at as usize];
                        let (service, through_group) = (found.service, found.through_group);
                        let rest = self.links[found.heads[0] as usize].next;
                        let to = self.push_link(next, meta, rest);
                        let main = self.push_link(node, EdgeMeta::ROOT, to);
                        let to = self.push_link(next, meta, NONE);
                        let prefix = self.push_link(node, EdgeMeta::ROOT, to);
                        self.record(
                            candidate,
                            service,
                            through_group,
                            vec![main],
                            Some((prefix, at)),
                        );
                        return;
                    }
                    Verdict::Unknown => {}
                }
            }
        }
        self.walk(candidate, scratch);
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
    fn walk(&mut self, candidate: &Entry, scratch: &mut super::index::Scratch) {
        let node = candidate.node;
        let Some(hit) = self.spread_from(node, scratch) else {
            self.verdict[node as usize] = Verdict::Survives;
            return;
        };
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
        let (service, mut through_group, tail, point) = match self.verdict[end.node as usize] {
            Verdict::Point(point) => {
                let found = &self.found[point as usize];
                let tail = self.links[found.heads[0] as usize].next;
                (found.service, found.through_group, tail, Some(point))
            }
            // Only roots and single points stop a walk.
            _ => (end.node, false, NONE, None),
        };
        // The main chain's links, one per entry on it.
        let mut main = vec![NONE; chain.len()];
        let mut next = tail;
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
            if tolerance > self.before[slot as usize] {
                through_group = true;
            }
            let at_node = at_node.get_or_insert_with(|| {
                self.entries
                    .iter()
                    .enumerate()
                    .map(|(i, entry)| (entry.node, i))
                    .collect()
            });
            // The other members the walk took down, each with the step
            // from it into the group, in the group's order (by rank): found
            // among the group's members or among the walk's items,
            // whichever are fewer, so that a wide pool's members do not
            // each scan the whole pool.
            let mut others: Vec<(u32, EdgeMeta)> = Vec::new();
            if self.entries.len() < self.index.down.range(group.node).len() {
                let up = self.index.up.edges();
                for entry in &self.entries {
                    let into = up[self.index.up.range(entry.node)]
                        .iter()
                        .find(|&&(to, meta)| to == group.node && meta.member());
                    if let Some(&(_, meta)) = into {
                        others.push((entry.node, meta));
                    }
                }
                others.sort_unstable_by_key(|&(other, _)| self.index.rank[other as usize]);
            } else {
                others.extend(
                    edges[self.index.down.range(group.node)]
                        .iter()
                        .filter(|&&(other, meta)| meta.member() && scratch.seen(other))
                        .map(|&(other, meta)| (other, meta.reversed())),
                );
            }
            for (other, via) in others {
                if other == member.node || self.plan.down_before(self.index, other) {
                    continue;
                }
                // Every node the walk marked has an entry.
                let entry = at_node[&other];
                // A member that fell through the group itself (groups in a
                // cycle) explains nothing more, and one at the depth limit
                // was not walked on: the walk did not count it.
                if passes(&self.entries, entry, group.node)
                    || self.entries[entry].distance >= self.plan.max_depth
                {
                    continue;
                }
                let rest = self.links[main[step] as usize].next;
                let via = self.push_link(group.node, via, rest);
                heads.push(self.walk_links(entry, via));
            }
        }
        // The chains of the single point the walk stopped at explain this
        // one too, after the walk's chain to it.
        let inherit = point.map(|point| {
            let to = self.push_link(end.node, end.meta, NONE);
            (self.walk_links(chain[chain.len() - 2], to), point)
        });
        self.record(candidate, service, through_group, heads, inherit);
    }

    /// Walks `node`'s failure within what the roots depend on, until it
    /// takes down a root or a known single point; returns that entry.
    fn spread_from(&mut self, node: u32, scratch: &mut super::index::Scratch) -> Option<usize> {
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
            until: Some(&self.until),
            before: Some(&self.before),
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
        inherit: Option<(u32, u32)>,
    ) {
        let node = candidate.node;
        let reported = self.plan.reports(self.index, node);
        let required = candidate.state == ImpactState::Required;
        let count =
            heads.len() + inherit.map_or(0, |(_, point)| self.found[point as usize].count - 1);
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
            inherit,
            count,
            reported,
        });
    }

    fn finish(self) -> SinglePoints<'a> {
        let cmdb = self.cmdb;
        let id = |node: u32| cmdb.topology().id(node_index(node));
        let mut reported = Vec::new();
        let mut explained = Vec::with_capacity(self.found.len());
        for (at, found) in (0u32..).zip(self.found) {
            if found.reported {
                // A required item reaches the service through a plain chain
                // too.
                let common_mode = found.through_group && !found.required;
                reported.push((
                    at,
                    found.node,
                    found.service,
                    found.distance,
                    common_mode,
                    found.count,
                ));
            }
            explained.push(Explained {
                heads: found.heads,
                inherit: found.inherit,
            });
        }
        let chains = Arc::new(Chains {
            links: self.links,
            explained,
        });
        let mut points: Vec<SinglePoint<'a>> = reported
            .into_iter()
            .map(
                |(at, node, service, distance, common_mode, count)| SinglePoint {
                    cmdb,
                    id: id(node),
                    service: id(service),
                    distance,
                    common_mode,
                    at,
                    count,
                    chains: Arc::clone(&chains),
                },
            )
            .collect();
        // Candidates are judged in the order `dependencies` lists them:
        // required items nearest first, then the others nearest first; a
        // stable sort by distance keeps that order in ties.
        points.sort_by_key(|point| point.distance);
        SinglePoints {
            points,
            lookup: OnceLock::new(),
        }
    }
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
