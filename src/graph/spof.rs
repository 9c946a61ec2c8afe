//! Single points of failure: the items whose failure alone takes a service
//! down.

use super::impact::{
    Bounds, Entry, ImpactState, Path, dependencies, members_down_before, path, spread,
};
use super::index::{EdgeMeta, NONE};
use super::query::ImpactQuery;
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinglePoint<'a> {
    id: &'a ResourceId,
    service: &'a ResourceId,
    distance: u32,
    paths: Vec<Path<'a>>,
    common_mode: bool,
}

impl<'a> SinglePoint<'a> {
    /// The item.
    #[must_use]
    pub fn id(&self) -> &'a ResourceId {
        self.id
    }

    /// The query root its failure takes down (the first one reached when
    /// the query has several).
    #[must_use]
    pub fn service(&self) -> &'a ResourceId {
        self.service
    }

    /// Its distance from the service in hops, as
    /// [`dependencies`](Cmdb::dependencies) reports it. (The failure's
    /// [`path`](Self::path) is its shortest chain to the service, which may
    /// pass a redundancy group and be shorter than a required item's
    /// chain without one.)
    #[must_use]
    pub fn distance(&self) -> u32 {
        self.distance
    }

    /// The chain along which its failure reaches the service, from the
    /// item to the service.
    #[must_use]
    pub fn path(&self) -> &Path<'a> {
        &self.paths[0]
    }

    /// Every explaining chain, each from the item to the service: first
    /// [`path`](Self::path); then, for each redundancy group on it, the
    /// chain through each other member the failure takes down (a
    /// hypervisor under both members of a pool has one chain through each
    /// member).
    #[must_use]
    pub fn paths(&self) -> &[Path<'a>] {
        &self.paths
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
    /// # Complexity
    ///
    /// O(C · (V + E)) for the C candidates and the V items and E
    /// relationships the roots depend on (each candidate's failure is
    /// walked within them, stopping when it reaches a root), plus the
    /// dependencies query, plus the chains the answer holds: O(the sum of
    /// their lengths), which on a chain of n items below a service is about
    /// n²/2 steps, plus O(N) for two marks per item of the estate's N.
    /// Nothing recurses.
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
        let roots = needs.iter().take_while(|e| e.pred == NONE).count();
        let mut within = vec![false; index.nodes];
        let mut is_root = vec![false; index.nodes];
        for entry in &needs {
            within[entry.node as usize] = true;
        }
        for entry in &needs[..roots] {
            is_root[entry.node as usize] = true;
        }
        let bounds = Bounds {
            within: Some(&within),
            until: Some(&is_root),
        };
        let mut points = Vec::new();
        let mut entries = Vec::new();
        let mut touched = Vec::new();
        for candidate in &needs[roots..] {
            if candidate.hidden || !plan.reports(&index, candidate.node) {
                continue;
            }
            scratch.restart();
            scratch.mark(candidate.node);
            entries.clear();
            touched.clear();
            entries.push(Entry {
                node: candidate.node,
                pred: NONE,
                distance: 0,
                meta: EdgeMeta::ROOT,
                state: ImpactState::Failed,
                hidden: false,
            });
            let Some(hit) = spread(
                &index,
                &plan,
                &mut scratch,
                &mut entries,
                &mut touched,
                &bounds,
            ) else {
                continue;
            };
            let (paths, through_group) = explain(self, &index, &plan, &scratch, &entries, hit);
            // A required item reaches the service through a plain chain too.
            let common_mode = through_group && candidate.state != ImpactState::Required;
            points.push(SinglePoint {
                id: self.topology().id(node_index(candidate.node)),
                service: self.topology().id(node_index(entries[hit].node)),
                distance: candidate.distance,
                paths,
                common_mode,
            });
        }
        index.recycle(scratch);
        // `needs` lists required items nearest first, then the others
        // nearest first; a stable sort by distance keeps that order in ties.
        points.sort_by_key(|point| point.distance);
        Ok(SinglePoints { points })
    }
}

/// The chains that explain how the failure walked in `entries` reached the
/// root at entry `hit`: that chain, then the chain to each other member
/// taken down of every group on it.
fn explain<'a>(
    cmdb: &'a Cmdb,
    index: &super::Index,
    plan: &super::query::Plan,
    scratch: &super::index::Scratch,
    entries: &[Entry],
    hit: usize,
) -> (Vec<Path<'a>>, bool) {
    let mut chain = Vec::new();
    let mut at = hit;
    loop {
        chain.push(at);
        if entries[at].pred == NONE {
            break;
        }
        at = entries[at].pred as usize;
    }
    chain.reverse();
    let at_node: HashMap<u32, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, entry)| (entry.node, i))
        .collect();
    let main = path(cmdb, entries, hit);
    let mut paths = Vec::new();
    let mut common_mode = false;
    let (targets, metas) = (index.down.targets(), index.down.metas());
    for (step, pair) in chain.windows(2).enumerate() {
        let (member, group) = (entries[pair[0]], entries[pair[1]]);
        if !group.meta.member() {
            continue;
        }
        // The main path from the group on, for the other members' chains.
        let rest = &main.steps()[step + 2..];
        let group_id = cmdb.topology().id(node_index(group.node));
        let slot = index.group_slot[group.node as usize];
        let tolerance = index.groups[slot as usize].tolerance;
        // More than one member of this group had to fall.
        if tolerance > members_down_before(index, plan, group.node) {
            common_mode = true;
        }
        for i in index.down.range(group.node) {
            let other = targets[i];
            if !metas[i].member()
                || other == member.node
                || !scratch.seen(other)
                || plan.down_before(index, other)
            {
                continue;
            }
            // Every node the walk marked has an entry.
            let entry = at_node[&other];
            // A member that fell through the group itself (groups in a
            // cycle) explains nothing more.
            if passes(entries, entry, group.node) {
                continue;
            }
            let via = (cmdb.topology().kind(metas[i].kind()), !metas[i].forward());
            paths.push(path(cmdb, entries, entry).then(via, group_id, rest));
        }
    }
    paths.insert(0, main);
    (paths, common_mode)
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
