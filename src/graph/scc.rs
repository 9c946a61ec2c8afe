//! Strongly connected components, found without recursion.
//!
//! The one routine behind [`Cmdb::cycles`](crate::Cmdb::cycles),
//! [`Impact::recovery_order`](crate::Impact::recovery_order) and the cost
//! allocation of [`finance::cost_per_service`](crate::finance::cost_per_service).
//! It keeps its own stack on the heap, so a dependency chain or a cycle of
//! any length cannot overflow the thread's stack.

use super::index::Csr;

/// Not yet visited, or not yet in a component.
const UNSEEN: u32 = u32::MAX;

/// The strongly connected components of a [`Csr`] graph: its cycles, and
/// every other node on its own.
///
/// Components are numbered in the order Tarjan's algorithm completes them,
/// sinks first: an edge between two components always goes from a higher
/// number to a lower one, so counting down is a topological order.
#[derive(Debug)]
pub(crate) struct Components {
    /// The component of each node.
    of: Vec<u32>,
    /// The nodes of each component, component by component.
    members: Vec<u32>,
    /// Where each component's nodes start in `members`, and the end.
    starts: Vec<u32>,
}

impl Components {
    /// Tarjan's algorithm with an explicit call stack.
    ///
    /// # Complexity
    ///
    /// O(V + E) time; O(V) memory besides the graph (four words per node at
    /// most: index, low link, component and the stacks).
    pub(crate) fn find(graph: &Csr) -> Self {
        let n = graph.len();
        let mut order = vec![UNSEEN; n];
        let mut low = vec![UNSEEN; n];
        let mut of = vec![UNSEEN; n];
        let mut members = Vec::with_capacity(n);
        let mut starts = vec![0u32];
        // The nodes visited and not yet in a component.
        let mut stack: Vec<u32> = Vec::new();
        // The depth-first path: each node and the position of the next edge
        // to try in `graph.edges()`.
        let mut calls: Vec<(u32, usize)> = Vec::new();
        let edges = graph.edges();
        let mut counter = 0u32;
        for root in 0..n {
            if order[root] != UNSEEN {
                continue;
            }
            let root = to_u32(root);
            order[root as usize] = counter;
            low[root as usize] = counter;
            counter += 1;
            stack.push(root);
            calls.push((root, graph.range(root).start));
            while let Some(&mut (v, ref mut edge)) = calls.last_mut() {
                let end = graph.range(v).end;
                if *edge < end {
                    let w = edges[*edge].0;
                    *edge += 1;
                    let (v, w) = (v as usize, w as usize);
                    if order[w] == UNSEEN {
                        order[w] = counter;
                        low[w] = counter;
                        counter += 1;
                        stack.push(to_u32(w));
                        calls.push((to_u32(w), graph.range(to_u32(w)).start));
                    } else if of[w] == UNSEEN {
                        // Visited and not yet in a component: on the stack.
                        low[v] = low[v].min(order[w]);
                    }
                    continue;
                }
                calls.pop();
                let v = v as usize;
                if let Some(&(parent, _)) = calls.last() {
                    let parent = parent as usize;
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == order[v] {
                    let component = to_u32(starts.len() - 1);
                    while let Some(w) = stack.pop() {
                        of[w as usize] = component;
                        members.push(w);
                        if w as usize == v {
                            break;
                        }
                    }
                    starts.push(to_u32(members.len()));
                }
            }
        }
        Self {
            of,
            members,
            starts,
        }
    }

    /// The number of components.
    pub(crate) fn count(&self) -> usize {
        self.starts.len() - 1
    }

    /// The component of `node`.
    #[inline]
    pub(crate) fn of(&self, node: u32) -> usize {
        self.of[node as usize] as usize
    }

    /// The nodes of component `c`, in no particular order.
    pub(crate) fn members(&self, c: usize) -> &[u32] {
        &self.members[self.starts[c] as usize..self.starts[c + 1] as usize]
    }
}

/// Node numbers and counts fit in `u32`: a [`Csr`] numbers its nodes so.
fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(UNSEEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn components(nodes: usize, edges: &[(u32, u32)]) -> Vec<Vec<u32>> {
        let graph = Csr::links(nodes, edges.to_vec());
        let found = Components::find(&graph);
        (0..found.count())
            .map(|c| {
                let mut members = found.members(c).to_vec();
                members.sort_unstable();
                members
            })
            .collect()
    }

    #[test]
    fn components_come_out_sinks_first() {
        // 0 -> 1 <-> 2 -> 3, and 4 alone.
        let found = components(5, &[(0, 1), (1, 2), (2, 1), (2, 3)]);
        assert_eq!(found, [vec![3], vec![1, 2], vec![0], vec![4]]);
    }

    #[test]
    fn every_edge_between_components_goes_down() {
        let edges = [
            (0, 1),
            (1, 2),
            (2, 0),
            (2, 3),
            (3, 4),
            (4, 3),
            (5, 0),
            (5, 4),
        ];
        let graph = Csr::links(6, edges.to_vec());
        let found = Components::find(&graph);
        for (from, to) in edges {
            let (c, d) = (found.of(from), found.of(to));
            assert!(c >= d, "{from} -> {to}: {c} -> {d}");
        }
        assert_eq!(found.count(), 3);
    }

    #[test]
    fn a_long_chain_and_a_long_ring_do_not_recurse() {
        // Run on a small stack: a recursive walk would overflow it.
        let handle = std::thread::Builder::new()
            .stack_size(64 << 10)
            .spawn(|| {
                let n = 200_000u32;
                let chain: Vec<(u32, u32)> = (1..n).map(|i| (i - 1, i)).collect();
                let found = Components::find(&Csr::links(n as usize, chain));
                assert_eq!(found.count(), n as usize);
                let ring: Vec<(u32, u32)> = (0..n).map(|i| (i, (i + 1) % n)).collect();
                let found = Components::find(&Csr::links(n as usize, ring));
                assert_eq!(found.count(), 1);
                assert_eq!(found.members(0).len(), n as usize);
            })
            .expect("a thread");
        handle.join().expect("no overflow");
    }
}
