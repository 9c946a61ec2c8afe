//! The options of an impact query, resolved against the index.

use std::collections::HashSet;

use super::index::{EdgeMeta, Index, Interner, NO_LABEL};
use crate::cmdb::{CiClass, Environment, OperationalStatus, Region};
use crate::{Cmdb, Error, RelationKind, ResourceId};

/// What to ask of the dependency graph: which items failed (or are
/// examined), and the options of the walk.
///
/// The same query drives [`Cmdb::blast_radius`] (what the failure of the
/// roots impacts, walking up), [`Cmdb::dependencies`] (what the roots depend
/// on, walking down) and [`Cmdb::reachable`] (everything failure could reach,
/// ignoring redundancy).
///
/// # Options
///
/// * [`max_depth`](Self::max_depth): stop after this many hops.
/// * [`follow`](Self::follow): walk only relationships of these kinds
///   (default: every kind that propagates).
/// * [`stop_at`](Self::stop_at), [`stop_at_status`](Self::stop_at_status):
///   items that are neither reported nor walked through, such as items in
///   maintenance or retired.
/// * [`down_statuses`](Self::down_statuses),
///   [`as_if_all_serving`](Self::as_if_all_serving): which recorded
///   statuses mean an item is already down before the failure starts (see
///   below).
/// * [`class`](Self::class), [`region`](Self::region),
///   [`environment`](Self::environment) and their `exclude_` twins: which
///   items are *reported*. The walk still passes through items that are not
///   reported, so a reported item's path may contain them; use the stop
///   options to cut the walk.
///
/// # The estate as recorded
///
/// A query starts from the estate as recorded, not from an estate where
/// everything serves: an item whose [`OperationalStatus`] means it is not
/// serving is down before the failure starts. By default that is every
/// status that is not [`is_live`](OperationalStatus::is_live): planned,
/// non-operational, in maintenance (repair in progress) and retired; an
/// operational, degraded or standby item serves.
///
/// * In a blast radius, such a member already counts as down for its
///   redundancy group's quorum, so a pool that needs one of two members
///   goes down when its only serving member fails; reaching such a member
///   again does not count it twice, and the failure of an item that was
///   already down changes no group
///   ([`GroupOutcome::down_before`](crate::GroupOutcome::down_before)
///   reports how many members were down before).
/// * In [`dependencies`](Cmdb::dependencies), a serving member of a group
///   that cannot lose it (fewer serving members than it needs would be
///   left) is [`Required`](crate::ImpactState::Required): its failure alone
///   takes the root down.
///
/// # Example
///
/// ```
/// use itam_cmdb::{sample, ImpactQuery, OperationalStatus, Region, ResourceId};
///
/// let query = ImpactQuery::new(ResourceId::new(sample::PAYMENTS_DB)?)
///     .max_depth(4)
///     .region(Region::new("eu-west-2")?)
///     .stop_at_status(OperationalStatus::Retired);
/// let estate = sample::estate();
/// let impact = estate.cmdb().blast_radius(&query)?;
/// assert!(!impact.is_empty());
/// assert!(impact.iter().all(|item| item.distance() <= 4));
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ImpactQuery {
    roots: Vec<ResourceId>,
    /// Every other option, boxed so that a plain query (the usual one:
    /// an id and nothing else) is small to build, move and drop; `None`
    /// means every option at its default.
    options: Option<Box<Options>>,
}

/// The options of an [`ImpactQuery`] besides its roots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Options {
    /// Regions every item of which fails.
    failed_regions: Vec<Region>,
    max_depth: Option<u32>,
    follow: Vec<RelationKind>,
    stop_ids: Vec<ResourceId>,
    stop_statuses: Vec<OperationalStatus>,
    /// The statuses that mean down before the failure; `None` for the
    /// default (every status that is not live).
    down_statuses: Option<Vec<OperationalStatus>>,
    classes: Filter<CiClass>,
    regions: Filter<Region>,
    environments: Filter<Environment>,
}

/// Every option at its default.
static DEFAULTS: Options = Options {
    failed_regions: Vec::new(),
    max_depth: None,
    follow: Vec::new(),
    stop_ids: Vec::new(),
    stop_statuses: Vec::new(),
    down_statuses: None,
    classes: Filter::EMPTY,
    regions: Filter::EMPTY,
    environments: Filter::EMPTY,
};

/// Equal when the roots and every option are, however the options were
/// reached.
impl PartialEq for ImpactQuery {
    fn eq(&self, other: &Self) -> bool {
        self.roots == other.roots && self.options() == other.options()
    }
}

impl Eq for ImpactQuery {}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Filter<T> {
    include: Vec<T>,
    exclude: Vec<T>,
    /// With `include`, also items that have no value (for regions: global
    /// items).
    unset_too: bool,
}

impl<T> Filter<T> {
    /// No filter.
    const EMPTY: Self = Self {
        include: Vec::new(),
        exclude: Vec::new(),
        unset_too: false,
    };

    fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }
}

impl<T> Default for Filter<T> {
    fn default() -> Self {
        Self {
            include: Vec::new(),
            exclude: Vec::new(),
            unset_too: false,
        }
    }
}

impl ImpactQuery {
    /// A query about one item.
    #[must_use]
    pub fn new(root: ResourceId) -> Self {
        Self::scenario([root])
    }

    /// A failure scenario: several items at once (a host and everything on
    /// it, a rack, a region), so redundancy is judged on the whole set.
    #[must_use]
    pub fn scenario(roots: impl IntoIterator<Item = ResourceId>) -> Self {
        Self {
            roots: roots.into_iter().collect(),
            ..Self::default()
        }
    }

    /// A region failure: every item recorded in `region` fails at once, so
    /// redundancy is judged on the whole set (a pool with one member in
    /// each of two regions is degraded; one with both members in the
    /// region is down). Items without a region (business services, global
    /// shared services) are not roots, but are reported when the failure
    /// reaches them; add [`region_and_global`](Self::region_and_global) to
    /// report only the region and what is global.
    ///
    /// The answer's [`roots`](crate::Impact::roots) are the region's items,
    /// in CMDB order. Finding them scans the query index once per query:
    /// O(N + n log n) for the estate's N items and the region's n.
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::{sample, ImpactQuery, ImpactState, Region};
    ///
    /// let estate = sample::estate();
    /// let query = ImpactQuery::region_failure(Region::new("eu-west-2")?);
    /// let impact = estate.cmdb().blast_radius(&query)?;
    /// // The checkout service has no region: it is reported all the same.
    /// assert!(impact.get(sample::CHECKOUT_SERVICE).is_some());
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    #[must_use]
    pub fn region_failure(region: Region) -> Self {
        Self::default().fail_region(region)
    }

    /// Adds the failure of every item recorded in `region` to the scenario
    /// (see [`region_failure`](Self::region_failure)).
    #[must_use]
    pub fn fail_region(mut self, region: Region) -> Self {
        self.options_mut().failed_regions.push(region);
        self
    }

    /// The items the query starts from, in the order given (the items of
    /// failed regions are found when the query runs; see
    /// [`failed_regions`](Self::failed_regions)).
    #[must_use]
    pub fn roots(&self) -> &[ResourceId] {
        &self.roots
    }

    fn options(&self) -> &Options {
        self.options.as_deref().unwrap_or(&DEFAULTS)
    }

    fn options_mut(&mut self) -> &mut Options {
        self.options.get_or_insert_with(Box::default)
    }

    /// The regions whose every item fails.
    #[must_use]
    pub fn failed_regions(&self) -> &[Region] {
        &self.options().failed_regions
    }

    /// Stops the walk after `hops` relationships.
    #[must_use]
    pub fn max_depth(mut self, hops: u32) -> Self {
        self.options_mut().max_depth = Some(hops);
        self
    }

    /// Walks relationships of `kind`; once any kind is named, only the named
    /// kinds are walked.
    #[must_use]
    pub fn follow(mut self, kind: RelationKind) -> Self {
        self.options_mut().follow.push(kind);
        self
    }

    /// Neither reports nor walks through the item `id`.
    #[must_use]
    pub fn stop_at(mut self, id: ResourceId) -> Self {
        self.options_mut().stop_ids.push(id);
        self
    }

    /// Neither reports nor walks through items with `status`.
    #[must_use]
    pub fn stop_at_status(mut self, status: OperationalStatus) -> Self {
        self.options_mut().stop_statuses.push(status);
        self
    }

    /// Counts items whose recorded status is one of `statuses` as down
    /// before the failure starts, instead of the default (every status
    /// that is not [`is_live`](OperationalStatus::is_live)); see
    /// [the estate as recorded](Self#the-estate-as-recorded).
    ///
    /// ```
    /// use itam_cmdb::{ImpactQuery, OperationalStatus, ResourceId};
    ///
    /// // Maintenance is planned and short: count only failed and retired
    /// // items as down.
    /// let query = ImpactQuery::new(ResourceId::new("db-payments")?).down_statuses([
    ///     OperationalStatus::NonOperational,
    ///     OperationalStatus::Retired,
    /// ]);
    /// assert!(query.counts_as_down(OperationalStatus::Retired));
    /// assert!(!query.counts_as_down(OperationalStatus::InMaintenance));
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    #[must_use]
    pub fn down_statuses(mut self, statuses: impl IntoIterator<Item = OperationalStatus>) -> Self {
        self.options_mut().down_statuses = Some(statuses.into_iter().collect());
        self
    }

    /// Answers as if every item were serving, whatever its recorded status
    /// (the question "what would this failure do to a healthy estate").
    #[must_use]
    pub fn as_if_all_serving(self) -> Self {
        self.down_statuses([])
    }

    /// Whether the query counts an item with `status` as down before the
    /// failure starts.
    #[must_use]
    pub fn counts_as_down(&self, status: OperationalStatus) -> bool {
        match &self.options().down_statuses {
            None => !status.is_live(),
            Some(statuses) => statuses.contains(&status),
        }
    }

    /// Reports items of `class`; once any class is named, only the named
    /// classes are reported.
    #[must_use]
    pub fn class(mut self, class: CiClass) -> Self {
        self.options_mut().classes.include.push(class);
        self
    }

    /// Does not report items of `class`.
    #[must_use]
    pub fn exclude_class(mut self, class: CiClass) -> Self {
        self.options_mut().classes.exclude.push(class);
        self
    }

    /// Reports items in `region`; once any region is named, only items in
    /// the named regions are reported.
    #[must_use]
    pub fn region(mut self, region: Region) -> Self {
        self.options_mut().regions.include.push(region);
        self
    }

    /// Reports items in `region` and items recorded in no region (business
    /// services, pools, global shared services): "this region and global".
    /// Like [`region`](Self::region), it can be given for several regions;
    /// once it is given, items without a region are reported.
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::{sample, ImpactQuery, Region};
    ///
    /// let estate = sample::estate();
    /// let eu_west_2 = Region::new("eu-west-2")?;
    /// let query = ImpactQuery::region_failure(eu_west_2.clone()).region_and_global(eu_west_2);
    /// let impact = estate.cmdb().blast_radius(&query)?;
    /// assert!(impact.iter().all(|item| {
    ///     let region = item.ci().and_then(|ci| ci.region()).map(|r| r.as_str());
    ///     region.is_none() || region == Some("eu-west-2")
    /// }));
    /// assert!(impact.get(sample::CHECKOUT_SERVICE).is_some());
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    #[must_use]
    pub fn region_and_global(mut self, region: Region) -> Self {
        self.options_mut().regions.include.push(region);
        self.options_mut().regions.unset_too = true;
        self
    }

    /// Does not report items in `region`.
    #[must_use]
    pub fn exclude_region(mut self, region: Region) -> Self {
        self.options_mut().regions.exclude.push(region);
        self
    }

    /// Reports items in `environment`; once any environment is named, only
    /// items in the named environments are reported.
    #[must_use]
    pub fn environment(mut self, environment: Environment) -> Self {
        self.options_mut().environments.include.push(environment);
        self
    }

    /// Does not report items in `environment`.
    #[must_use]
    pub fn exclude_environment(mut self, environment: Environment) -> Self {
        self.options_mut().environments.exclude.push(environment);
        self
    }

    /// Resolves ids, kinds and filters against the index.
    pub(crate) fn plan(&self, cmdb: &Cmdb, index: &Index) -> Result<Plan, Error> {
        let options = self.options();
        let node = |id: &ResourceId| {
            cmdb.topology()
                .node(id.as_str())
                .map(|node| index_u32(node.index()))
                .ok_or_else(|| Error::UnknownCi(id.clone()))
        };
        let mut roots = Vec::with_capacity(self.roots.len());
        for root in &self.roots {
            roots.push(node(root)?);
        }
        for region in &options.failed_regions {
            let label = index
                .regions
                .get(region)
                .ok_or_else(|| Error::UnknownRegion(region.clone()))?;
            let mut items: Vec<u32> = (0..index_u32(index.nodes))
                .filter(|&node| index.region[node as usize] == label)
                .collect();
            items.sort_unstable_by_key(|&node| index.rank[node as usize]);
            roots.extend(items);
        }
        let mut stop_nodes = HashSet::new();
        for stop in &options.stop_ids {
            stop_nodes.insert(node(stop)?);
        }
        let follow = if options.follow.is_empty() {
            None
        } else {
            let mut allowed = vec![false; cmdb.topology().kinds().len()];
            for kind in &options.follow {
                if let Some(id) = cmdb.topology().kind_id(kind) {
                    allowed[usize::from(id.0)] = true;
                }
            }
            Some(allowed)
        };
        let filtered = !(options.classes.is_empty()
            && options.regions.is_empty()
            && options.environments.is_empty());
        let report = filtered
            .then(|| Report {
                classes: LabelFilter::resolve(&options.classes, &index.classes),
                regions: LabelFilter::resolve(&options.regions, &index.regions),
                environments: LabelFilter::resolve(&options.environments, &index.environments),
            })
            .filter(|report| !report.is_trivial());
        let mut down_before = [false; STATUSES];
        for status in ALL_STATUSES {
            down_before[status_slot(status)] = self.counts_as_down(status);
        }
        Ok(Plan {
            roots,
            max_depth: options.max_depth.unwrap_or(u32::MAX),
            follow,
            stop_nodes,
            stop_statuses: options.stop_statuses.clone(),
            down_before,
            report,
        })
    }
}

impl From<ResourceId> for ImpactQuery {
    fn from(root: ResourceId) -> Self {
        Self::new(root)
    }
}

impl From<&ResourceId> for ImpactQuery {
    fn from(root: &ResourceId) -> Self {
        Self::new(root.clone())
    }
}

impl From<&ImpactQuery> for ImpactQuery {
    fn from(query: &ImpactQuery) -> Self {
        query.clone()
    }
}

/// A query resolved against one index.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) roots: Vec<u32>,
    pub(crate) max_depth: u32,
    follow: Option<Vec<bool>>,
    stop_nodes: HashSet<u32>,
    stop_statuses: Vec<OperationalStatus>,
    /// By [`status_slot`]: whether the status means down before the
    /// failure.
    down_before: [bool; STATUSES],
    report: Option<Report>,
}

/// The number of operational statuses.
const STATUSES: usize = 7;

/// Every operational status.
const ALL_STATUSES: [OperationalStatus; STATUSES] = [
    OperationalStatus::Planned,
    OperationalStatus::Operational,
    OperationalStatus::Degraded,
    OperationalStatus::NonOperational,
    OperationalStatus::InMaintenance,
    OperationalStatus::Standby,
    OperationalStatus::Retired,
];

/// A status's place in [`ALL_STATUSES`].
const fn status_slot(status: OperationalStatus) -> usize {
    match status {
        OperationalStatus::Planned => 0,
        OperationalStatus::Operational => 1,
        OperationalStatus::Degraded => 2,
        OperationalStatus::NonOperational => 3,
        OperationalStatus::InMaintenance => 4,
        OperationalStatus::Standby => 5,
        OperationalStatus::Retired => 6,
    }
}

impl Plan {
    /// Whether the walk has no option that needs per-edge or per-node checks.
    pub(crate) fn is_plain(&self) -> bool {
        self.follow.is_none()
            && self.stop_nodes.is_empty()
            && self.stop_statuses.is_empty()
            && self.max_depth == u32::MAX
    }

    #[inline]
    pub(crate) fn follows(&self, meta: EdgeMeta) -> bool {
        match &self.follow {
            None => true,
            Some(allowed) => allowed[usize::from(meta.kind().0)],
        }
    }

    #[inline]
    pub(crate) fn stops(&self, index: &Index, node: u32) -> bool {
        (!self.stop_statuses.is_empty()
            && self.stop_statuses.contains(&index.status[node as usize]))
            || (!self.stop_nodes.is_empty() && self.stop_nodes.contains(&node))
    }

    /// Whether `node`'s recorded status means it is down before the
    /// failure starts.
    #[inline]
    pub(crate) fn down_before(&self, index: &Index, node: u32) -> bool {
        self.down_before[status_slot(index.status[node as usize])]
    }

    /// Whether `node` passes the reporting filters.
    pub(crate) fn reports(&self, index: &Index, node: u32) -> bool {
        self.report
            .as_ref()
            .is_none_or(|report| report.accepts(index, node as usize))
    }

    pub(crate) fn has_report_filter(&self) -> bool {
        self.report.is_some()
    }
}

#[derive(Debug)]
struct Report {
    classes: LabelFilter,
    regions: LabelFilter,
    environments: LabelFilter,
}

impl Report {
    fn is_trivial(&self) -> bool {
        self.classes.is_trivial() && self.regions.is_trivial() && self.environments.is_trivial()
    }

    fn accepts(&self, index: &Index, node: usize) -> bool {
        self.classes.accepts(index.class[node])
            && self.regions.accepts(index.region[node])
            && self.environments.accepts(index.environment[node])
    }
}

/// Include and exclude lists resolved to interned ids. An included value that
/// no item has resolves to nothing, so it matches nothing.
#[derive(Debug)]
struct LabelFilter {
    include: Option<Vec<u32>>,
    exclude: Vec<u32>,
    /// With `include`, also nodes without a value.
    unset_too: bool,
}

impl LabelFilter {
    fn resolve<T: std::hash::Hash + Eq + Clone>(
        filter: &Filter<T>,
        interner: &Interner<T>,
    ) -> Self {
        let ids = |values: &[T]| {
            values
                .iter()
                .filter_map(|v| interner.get(v))
                .collect::<Vec<_>>()
        };
        Self {
            include: (!filter.include.is_empty()).then(|| ids(&filter.include)),
            exclude: ids(&filter.exclude),
            unset_too: filter.unset_too,
        }
    }

    fn is_trivial(&self) -> bool {
        self.include.is_none() && self.exclude.is_empty()
    }

    fn accepts(&self, id: u32) -> bool {
        let included = self.include.as_ref().is_none_or(|include| {
            if id == NO_LABEL {
                self.unset_too
            } else {
                include.contains(&id)
            }
        });
        included && !self.exclude.contains(&id)
    }
}

/// Node indices fit in `u32`: petgraph's default index type is `u32`.
pub(crate) fn index_u32(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}
