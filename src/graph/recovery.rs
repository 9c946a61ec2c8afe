//! Recovery order for a failure, and the cycle report.

use std::collections::HashMap;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use super::impact::Impact;
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
    /// together.
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
    /// [`RecoveryPlan`]. Only relationships between items of the result
    /// count.
    ///
    /// # Complexity
    ///
    /// O(V + E) over the result and the relationships between its items.
    #[must_use]
    pub fn recovery_order(&self) -> RecoveryPlan<'a> {
        let nodes = self.nodes();
        let position: HashMap<u32, usize> =
            nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let index = self.cmdb().index();
        let mut graph = DiGraph::<usize, ()>::with_capacity(nodes.len(), nodes.len());
        for i in 0..nodes.len() {
            graph.add_node(i);
        }
        for (from, node) in nodes.iter().enumerate() {
            for &to in &index.up.targets()[index.up.range(*node)] {
                if let Some(&to) = position.get(&to) {
                    // `from` must be up before `to`.
                    graph.add_edge(NodeIndex::new(from), NodeIndex::new(to), ());
                }
            }
        }
        let steps = waves(&graph)
            .into_iter()
            .map(|(wave, members)| RecoveryStep {
                wave,
                items: members.into_iter().map(|i| self.id_at(nodes[i])).collect(),
            })
            .collect();
        RecoveryPlan {
            cmdb: self.cmdb(),
            steps,
        }
    }
}

/// Groups `graph` into strongly connected components and levels them:
/// each component's wave is one more than the highest wave of the
/// components it has an edge from. Components come out sorted by wave, then
/// by their smallest member; members are sorted.
fn waves(graph: &DiGraph<usize, ()>) -> Vec<(u32, Vec<usize>)> {
    // `tarjan_scc` returns components in reverse topological order.
    let mut components = tarjan_scc(graph);
    components.reverse();
    let mut component_of = vec![0usize; graph.node_count()];
    for (c, members) in components.iter().enumerate() {
        for member in members {
            component_of[member.index()] = c;
        }
    }
    let mut wave = vec![0u32; components.len()];
    for (c, members) in components.iter().enumerate() {
        for member in members {
            for source in graph.neighbors_directed(*member, petgraph::Direction::Incoming) {
                let s = component_of[source.index()];
                if s != c {
                    wave[c] = wave[c].max(wave[s] + 1);
                }
            }
        }
    }
    let mut result: Vec<(u32, Vec<usize>)> = components
        .into_iter()
        .enumerate()
        .map(|(c, members)| {
            let mut members: Vec<usize> = members.into_iter().map(NodeIndex::index).collect();
            members.sort_unstable();
            (wave[c], members)
        })
        .collect();
    result.sort_by_key(|(wave, members)| (*wave, members.first().copied()));
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
    /// Cycles by their first item; items in the order they were added to
    /// the CMDB (a removed item's place may be reused).
    ///
    /// # Complexity
    ///
    /// O(V + E), with a temporary copy of the propagating relationships.
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
        let mut graph = DiGraph::<(), ()>::with_capacity(index.nodes, index.up.targets().len());
        for _ in 0..index.nodes {
            graph.add_node(());
        }
        for from in 0..index.nodes {
            let from_u32 = super::query::index_u32(from);
            for &to in &index.up.targets()[index.up.range(from_u32)] {
                graph.add_edge(NodeIndex::new(from), NodeIndex::new(to as usize), ());
            }
        }
        let topology = self.topology();
        let mut cycles: Vec<Vec<usize>> = tarjan_scc(&graph)
            .into_iter()
            .filter(|component| component.len() > 1)
            .map(|component| {
                let mut members: Vec<usize> = component.into_iter().map(NodeIndex::index).collect();
                members.sort_unstable();
                members
            })
            .collect();
        cycles.sort_unstable();
        cycles
            .into_iter()
            .map(|members| {
                members
                    .into_iter()
                    .map(|node| topology.id(petgraph::stable_graph::NodeIndex::new(node)))
                    .collect()
            })
            .collect()
    }
}
