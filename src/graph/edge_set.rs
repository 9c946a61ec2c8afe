//! The set of relationships by `(source, kind, target)`, so that relating
//! and unrelating never scan a node's relationships.
//!
//! An open-addressing hash table (linear probing, backward-shift deletion)
//! that stores nothing but edge indices, 4 bytes a slot: the key of a stored
//! edge is read back from the graph through a closure. With the load kept
//! between a quarter and a half, it costs 8 to 16 bytes per relationship
//! (about 11 on average), against 20 to 40 for a standard hash map from the
//! key to the edge.

use std::hash::BuildHasher;

use crate::hash::RandomState;

/// An empty slot.
const EMPTY: u32 = u32::MAX;

/// The key of a relationship: source node, interned kind, target node.
pub(crate) type EdgeKey = (u32, u16, u32);

/// A set of edge indices, looked up by the key of their edge.
#[derive(Debug, Clone, Default)]
pub(crate) struct EdgeSet {
    /// Edge indices or [`EMPTY`]; the length is 0 or a power of two.
    slots: Vec<u32>,
    len: usize,
    hasher: RandomState,
}

impl EdgeSet {
    /// The slot where the probe for `key` starts.
    fn home(&self, key: EdgeKey) -> usize {
        // Keep the low bits of the hash: the mask cuts them to the table.
        #[allow(clippy::cast_possible_truncation)]
        let hash = self.hasher.hash_one(key) as usize;
        hash & (self.slots.len() - 1)
    }

    /// The edge with `key`, if the set holds one.
    ///
    /// # Complexity
    ///
    /// O(1) expected: a few probes, each reading one edge's key.
    pub(crate) fn find(&self, key: EdgeKey, key_of: impl Fn(u32) -> EdgeKey) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut at = self.home(key);
        loop {
            let edge = self.slots[at];
            if edge == EMPTY {
                return None;
            }
            if key_of(edge) == key {
                return Some(edge);
            }
            at = (at + 1) & mask;
        }
    }

    /// Adds `edge`, whose key is `key` and which the set does not hold.
    ///
    /// # Complexity
    ///
    /// O(1) amortised expected (the table doubles when half full).
    pub(crate) fn insert(&mut self, key: EdgeKey, edge: u32, key_of: impl Fn(u32) -> EdgeKey) {
        if 2 * (self.len + 1) > self.slots.len() {
            self.grow(&key_of);
        }
        self.place(key, edge);
        self.len += 1;
    }

    /// Puts `edge` in the first empty slot of its probe; there is one.
    fn place(&mut self, key: EdgeKey, edge: u32) {
        let mask = self.slots.len() - 1;
        let mut at = self.home(key);
        while self.slots[at] != EMPTY {
            at = (at + 1) & mask;
        }
        self.slots[at] = edge;
    }

    fn grow(&mut self, key_of: &impl Fn(u32) -> EdgeKey) {
        let size = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; size]);
        for edge in old.into_iter().filter(|&edge| edge != EMPTY) {
            self.place(key_of(edge), edge);
        }
    }

    /// Removes `edge`, whose key is `key`, if the set holds it; `key_of`
    /// must still answer for every edge of the set, `edge` included.
    ///
    /// # Complexity
    ///
    /// O(1) expected: the probe to the edge, and the run of slots after it.
    pub(crate) fn remove(&mut self, key: EdgeKey, edge: u32, key_of: impl Fn(u32) -> EdgeKey) {
        if self.slots.is_empty() {
            return;
        }
        let mask = self.slots.len() - 1;
        let mut hole = self.home(key);
        loop {
            match self.slots[hole] {
                EMPTY => return,
                found if found == edge => break,
                _ => hole = (hole + 1) & mask,
            }
        }
        self.slots[hole] = EMPTY;
        self.len -= 1;
        // Backward shift: pull each later edge of the run into the hole
        // unless its probe starts after the hole (cyclically), so that no
        // probe meets an empty slot before its edge.
        let mut at = hole;
        loop {
            at = (at + 1) & mask;
            let moved = self.slots[at];
            if moved == EMPTY {
                return;
            }
            let start = self.home(key_of(moved));
            // Distances from the edge's home: the hole must not be further
            // than the edge's own slot.
            if (hole.wrapping_sub(start) & mask) < (at.wrapping_sub(start) & mask) {
                self.slots[hole] = moved;
                self.slots[at] = EMPTY;
                hole = at;
            }
        }
    }

    /// The number of edges held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The bytes the table holds.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.slots.len() * std::mem::size_of::<u32>()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Keys of edges `0..n`, many sharing a source.
    fn key(edge: u32) -> EdgeKey {
        (edge % 7, u16::try_from(edge % 3).unwrap(), edge / 21)
    }

    #[test]
    fn finds_what_it_holds_after_inserts_and_removals() {
        let n = 5_000u32;
        let mut set = EdgeSet::default();
        for edge in 0..n {
            assert_eq!(set.find(key(edge), key), None);
            set.insert(key(edge), edge, key);
        }
        for edge in 0..n {
            assert_eq!(set.find(key(edge), key), Some(edge));
        }
        // Remove every third edge, in an order that breaks runs.
        for edge in (0..n).rev().filter(|edge| edge % 3 == 1) {
            set.remove(key(edge), edge, key);
        }
        for edge in 0..n {
            let expected = (edge % 3 != 1).then_some(edge);
            assert_eq!(set.find(key(edge), key), expected, "edge {edge}");
        }
        // Removing what is not there changes nothing.
        set.remove(key(1), 1, key);
        let left = (0..n).filter(|edge| edge % 3 != 1).count();
        assert_eq!(set.len, left);
        // The table is at least a quarter full when it has just grown.
        assert!(set.bytes() <= 4 * 4 * usize::try_from(n).unwrap());
    }

    #[test]
    fn random_inserts_and_removals_with_reused_indices_keep_every_probe_whole() {
        let mut set = EdgeSet::default();
        // Live edges: index to key, and the free indices, reused last in
        // first out as the graph reuses them.
        let mut keys: HashMap<u32, EdgeKey> = HashMap::new();
        let mut free: Vec<u32> = Vec::new();
        let mut next = 0u32;
        let mut state = 0x2545_f491_u32;
        for step in 0..20_000u32 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            if !keys.is_empty() && state % 3 == 0 {
                let edge = *keys.keys().min_by_key(|e| (**e ^ state) % 101).unwrap();
                let k = keys[&edge];
                set.remove(k, edge, |e| keys[&e]);
                keys.remove(&edge);
                free.push(edge);
            } else {
                let k = (state % 50, u16::try_from(step % 4).unwrap(), state % 977);
                if set.find(k, |e| keys[&e]).is_some() {
                    assert!(keys.values().any(|v| *v == k));
                    continue;
                }
                let edge = free.pop().unwrap_or_else(|| {
                    next += 1;
                    next - 1
                });
                set.insert(k, edge, |e| keys[&e]);
                keys.insert(edge, k);
            }
            if step % 1_000 == 0 {
                for (&edge, &k) in &keys {
                    assert_eq!(set.find(k, |e| keys[&e]), Some(edge));
                }
                assert_eq!(set.len, keys.len());
            }
        }
    }
}
