//! Recovery order for a failure, and the cycle report.

use petgraph::stable_graph::NodeIndex;

use super::impact::Impact;
use super::index::Csr;
use super::scc::Components;
use crate::hash::HashMap;
use crate::{Cmdb, ResourceId};

/// The order in which to bring back what a failure took down: every item
/// comes after everything it depends on.
///
/// The plan is a list of steps in **waves**. Items of one wave depend only
/// on items of earlier waves, so a wave's steps can be worked in parallel. A
/// step holds one item, or the items of a dependency cycle, which must be
/// brought up together.
///
/// # Order
///
/// By wave; within a wave, by the order the items appear in the impact
/// result (roots first, then nearest first). Within a cycle, the same.
///
/// # Example
///
/// ```
/// use itam_cmdb::{sample, ResourceId};
///
/// let estate = sample::estate();
/// let impact = estate.cmdb().blast_radius(ResourceId::new(sample::STORAGE_ARRAY)?)?;
/// let plan = impact.recovery_order();
/// let first = plan.steps().first().unwrap();
/// assert_eq!(first.wave(), 0);
/// assert_eq!(first.items()[0].as_str(), sample::STORAGE_ARRAY);
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct RecoveryPlan<'a> {
    cmdb: &'a Cmdb,
    steps: Vec<RecoveryStep<'a>>,
}

/// Two plans are equal when their steps are.
impl PartialEq for RecoveryPlan<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.steps == other.steps
    }
}

impl Eq for RecoveryPlan<'_> {}

impl<'a> RecoveryPlan<'a> {
    pub(crate) fn cmdb(&self) -> &'a Cmdb {
        self.cmdb
    }

    /// The steps, in order.
    #[must_use]
    pub fn steps(&self) -> &[RecoveryStep<'a>] {
        &self.steps
    }

    /// The number of waves.
    #[must_use]
    pub fn waves(&self) -> u32 {
        self.steps.last().map_or(0, |step| step.wave + 1)
    }

    /// The steps that contain more than one item: the cycles to bring up
    /// together. O(steps) for the whole iteration.
    pub fn cycles(&self) -> impl Iterator<Item = &RecoveryStep<'a>> {
        self.steps.iter().filter(|step| step.items.len() > 1)
    }
}

/// One step of a [`RecoveryPlan`]: an item, or a cycle of items to bring up
/// together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryStep<'a> {
    wave: u32,
    items: Vec<&'a ResourceId>,
}

impl<'a> RecoveryStep<'a> {
    /// The wave, from 0: the step depends only on steps of earlier waves.
    #[must_use]
    pub fn wave(&self) -> u32 {
        self.wave
    }

    /// The items to bring up in this step.
    #[must_use]
    pub fn items(&self) -> &[&'a ResourceId] {
        &self.items
    }
}

impl<'a> Impact<'a> {
    /// The order in which to restore the roots and every affected item (down
    /// and degraded alike) so that each comes after what it depends on; see
    /// [`RecoveryPlan`].
    ///
    /// The plan covers what the answer reports: the roots and the items
    /// [`iter`](Self::iter) yields. When the query's reporting filters
    /// (class, region, environment) hide items, the order still follows
    /// every relationship of the result: an item comes after every item it
    /// depends on through hidden items too, and a wave counts only the
    /// reported items before it. Only relationships between items of the
    /// result (reported or not) count.
    ///
    /// # Complexity
    ///
    /// O(V + E) over the result (V roots and items) and the relationships
    /// that start at its items (E), expected (a hash map numbers the items),
    /// plus sorting the steps: O(V log V). Nothing recurses, so a chain or a
    /// cycle of any length fits in any thread's stack.
    #[must_use]
    pub fn recovery_order(&self) -> RecoveryPlan<'a> {
        let (nodes, reported) = self.plan_nodes();
        let mut position: HashMap<u32, u32> = HashMap::default();
        position.reserve(nodes.len());
        for (at, node) in (0u32..).zip(&nodes) {
            position.insert(*node, at);
        }
        let index = self.cmdb().index();
        let mut edges = Vec::with_capacity(nodes.len());
        for (from, node) in (0u32..).zip(&nodes) {
            for to in index.up.next(*node) {
                if let Some(&to) = position.get(&to) {
                    // `from` must be up before `to`.
                    edges.push((from, to));
                }
            }
        }
        let graph = Csr::links(nodes.len(), edges);
        let steps = waves(&graph, &reported)
            .into_iter()
            .map(|(wave, members)| RecoveryStep {
                wave,
                items: members
                    .into_iter()
                    .map(|at| self.id_at(nodes[at as usize]))
                    .collect(),
            })
            .collect();
        RecoveryPlan {
            cmdb: self.cmdb(),
            steps,
        }
    }
}

/// Groups `graph` into strongly connected components and levels them,
/// keeping only the nodes that are `kept`: a component's wave is the
/// highest, over the components it has an edge from, of their wave plus
/// one if they keep a node (a component that keeps none passes its wave
/// on unchanged, so the order through it holds). Components that keep
/// nodes come out sorted by wave, then by their smallest kept node, with
/// their kept nodes sorted.
fn waves(graph: &Csr, kept: &[bool]) -> Vec<(u32, Vec<u32>)> {
    let components = Components::find(graph);
    let count = components.count();
    let mut wave = vec![0u32; count];
    let keeps = |c: usize| {
        components
            .members(c)
            .iter()
            .any(|&member| kept[member as usize])
    };
    // Counting down is a topological order: every component is levelled
    // before any component it has an edge to.
    for c in (0..count).rev() {
        let next_wave = wave[c] + u32::from(keeps(c));
        for &member in components.members(c) {
            for to in graph.next(member) {
                let d = components.of(to);
                if d != c {
                    wave[d] = wave[d].max(next_wave);
                }
            }
        }
    }
    let mut result: Vec<(u32, Vec<u32>)> = (0..count)
        .filter_map(|c| {
            let mut members: Vec<u32> = components
                .members(c)
                .iter()
                .copied()
                .filter(|&member| kept[member as usize])
                .collect();
            if members.is_empty() {
                return None;
            }
            members.sort_unstable();
            Some((wave[c], members))
        })
        .collect();
    result.sort_unstable_by_key(|(wave, members)| (*wave, members[0]));
    result
}

impl Cmdb {
    /// Every dependency cycle of the estate: each strongly connected
    /// component of two or more items along the relationships that
    /// propagate failure. Real estates have them (DNS and the directory that
    /// registers in it); a recovery must bring each cycle up together.
    ///
    /// # Order
    ///
    /// Items in the order they were added to the CMDB, and cycles by their
    /// first item: the order depends on the CMDB's content alone, so an
    /// estate and its snapshot answer alike.
    ///
    /// # Complexity
    ///
    /// O(V + E) time and O(V) working memory, on the query index (built
    /// first if a write dropped it: O(V + E)). Nothing recurses, so a chain
    /// or a cycle of any length fits in any thread's stack.
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::sample;
    ///
    /// let estate = sample::estate();
    /// let cycles = estate.cmdb().cycles();
    /// let names: Vec<Vec<&str>> = cycles.iter().map(|c| c.iter().map(|id| id.as_str()).collect()).collect();
    /// assert_eq!(names, [[sample::DNS, sample::AUTH]]);
    /// ```
    #[must_use]
    pub fn cycles(&self) -> Vec<Vec<&ResourceId>> {
        let index = self.index();
        let components = Components::find(&index.up);
        let mut cycles: Vec<Vec<u32>> = (0..components.count())
            .map(|c| components.members(c))
            .filter(|members| members.len() > 1)
            .map(|members| {
                let mut members = members.to_vec();
                members.sort_unstable_by_key(|node| index.rank[*node as usize]);
                members
            })
            .collect();
        cycles.sort_unstable_by_key(|members| index.rank[members[0] as usize]);
        let topology = self.topology();
        cycles
            .into_iter()
            .map(|members| {
                members
                    .into_iter()
                    .map(|node| topology.id(NodeIndex::new(node as usize)))
                    .collect()
            })
            .collect()
    }
}
