//! The keyed, insertion-ordered collection behind both registers.
//!
//! Records sit in a vector in insertion order; a map from id to position
//! finds them. Removing a record leaves a hole (`None`) in its place, so the
//! others keep their places and nothing moves: removal is O(1). When the
//! holes outnumber the records, one pass closes them (O(n)); a compaction
//! needs at least as many removals since the previous one as it moves
//! records, so removal stays O(1) amortised, and iteration skips at most as
//! many holes as it yields records.

use std::fmt;

use serde::{Deserializer, Serialize, Serializer};

use crate::hash::HashMap;
use crate::label::UniqueMap;
use crate::{Error, ResourceId};

/// A record kept in a [`Register`]: it knows its own id.
pub(crate) trait Record {
    /// The id the record is stored under.
    fn id(&self) -> &ResourceId;
}

/// Records keyed by their id, in insertion order.
///
/// Equality compares the records *and their order*, never the holes:
/// two registers that hold the same records in the same order are equal
/// whatever was removed from either on the way.
#[derive(Clone)]
pub(crate) struct Register<T> {
    /// The records in insertion order; `None` is a removed record's place,
    /// kept until the next compaction. The last slot is never a hole.
    slots: Vec<Option<T>>,
    /// Where each record is in `slots`; its keys are exactly the ids of the
    /// records (`Some` slots).
    positions: HashMap<ResourceId, usize>,
}

impl<T: Record + fmt::Debug> fmt::Debug for Register<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.values().map(|record| (record.id(), record)))
            .finish()
    }
}

impl<T: Record + PartialEq> PartialEq for Register<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.values().eq(other.values())
    }
}

impl<T: Record + Eq> Eq for Register<T> {}

impl<T> Default for Register<T> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            positions: HashMap::default(),
        }
    }
}

impl<T: Record> Register<T> {
    /// The record with this id. O(1).
    pub(crate) fn get(&self, id: &str) -> Option<&T> {
        self.positions
            .get(id)
            .and_then(|&at| self.slots[at].as_ref())
    }

    /// Whether a record has this id. O(1).
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.positions.contains_key(id)
    }

    /// The number of records. O(1).
    pub(crate) fn len(&self) -> usize {
        self.positions.len()
    }

    /// The records in insertion order. O(1) to make; a whole walk is O(n).
    pub(crate) fn values(&self) -> Values<'_, T> {
        Values {
            slots: self.slots.iter(),
            remaining: self.len(),
        }
    }

    /// The records in insertion order, by value. O(n).
    pub(crate) fn into_values(self) -> impl Iterator<Item = T> {
        self.slots.into_iter().flatten()
    }

    /// The record, to change in place; the caller must not change its id.
    /// O(1).
    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        self.positions
            .get(id)
            .and_then(|&at| self.slots[at].as_mut())
    }

    /// The record's place in the register: places grow in insertion order
    /// (with gaps where records were removed), so comparing them compares
    /// when the records were inserted. O(1) expected.
    pub(crate) fn position(&self, id: &str) -> Option<usize> {
        self.positions.get(id).copied()
    }

    /// Inserts `record` last; the caller has checked that its id is free.
    /// O(1) amortised.
    pub(crate) fn insert_new(&mut self, record: T) {
        let previous = self.positions.insert(record.id().clone(), self.slots.len());
        debug_assert!(previous.is_none(), "insert_new over an existing record");
        self.slots.push(Some(record));
    }

    /// Removes the record, keeping the order of the others. O(1) amortised.
    pub(crate) fn remove(&mut self, id: &str) -> Option<T> {
        let at = self.positions.remove(id)?;
        let record = self.slots[at].take();
        // No hole at the end: removing the newest record leaves nothing.
        while let Some(None) = self.slots.last() {
            self.slots.pop();
        }
        if self.slots.len() - self.len() > self.len() {
            self.compact();
        }
        record
    }

    /// Closes every hole, keeping the order, and gives back memory when the
    /// register has shrunk to a quarter of its room. O(n).
    fn compact(&mut self) {
        self.slots.retain(Option::is_some);
        if self.slots.capacity() / 4 > self.slots.len() {
            self.slots.shrink_to(2 * self.slots.len());
            self.positions.shrink_to(2 * self.slots.len());
        }
        for (at, record) in self.slots.iter().enumerate() {
            if let Some(position) = record
                .as_ref()
                .and_then(|record| self.positions.get_mut(record.id().as_str()))
            {
                *position = at;
            }
        }
    }

    /// Writes the records as a map from id to record, in order. O(n).
    pub(crate) fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>
    where
        T: Serialize,
    {
        serializer.collect_map(self.values().map(|record| (record.id(), record)))
    }

    /// Reads a map of records, refusing a repeated key and a record stored
    /// under a key that is not its id. O(n).
    pub(crate) fn deserialize<'de, D>(deserializer: D, what: &'static str) -> Result<Self, D::Error>
    where
        D: Deserializer<'de>,
        T: serde::Deserialize<'de>,
    {
        crate::label::deserialize_unique_map(deserializer, what, |key: &ResourceId, record: &T| {
            if key == record.id() {
                Ok(())
            } else {
                Err(Error::KeyMismatch {
                    key: key.clone(),
                    id: record.id().clone(),
                })
            }
        })
    }
}

impl<T: Record> UniqueMap<ResourceId, T> for Register<T> {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            slots: Vec::with_capacity(capacity),
            positions: HashMap::with_capacity_and_hasher(
                capacity,
                crate::hash::RandomState::default(),
            ),
        }
    }

    fn contains_key(&self, key: &ResourceId) -> bool {
        self.contains(key.as_str())
    }

    /// The checker has made sure that `key` is `record`'s id.
    fn insert(&mut self, _key: ResourceId, record: T) {
        self.insert_new(record);
    }
}

/// The records of a [`Register`] in insertion order; made by
/// [`Register::values`]. Knows its exact length and runs both ways.
pub(crate) struct Values<'a, T> {
    slots: std::slice::Iter<'a, Option<T>>,
    /// The records (not holes) left in `slots`.
    remaining: usize,
}

impl<T> Clone for Values<'_, T> {
    fn clone(&self) -> Self {
        Self {
            slots: self.slots.clone(),
            remaining: self.remaining,
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Values<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.slots.clone().flatten())
            .finish()
    }
}

impl<'a, T> Iterator for Values<'a, T> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        if self.remaining == 0 {
            return None;
        }
        let record = self.slots.by_ref().find_map(Option::as_ref);
        self.remaining -= usize::from(record.is_some());
        record
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<T> DoubleEndedIterator for Values<'_, T> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let record = self.slots.by_ref().rev().find_map(Option::as_ref);
        self.remaining -= usize::from(record.is_some());
        record
    }
}

impl<T> ExactSizeIterator for Values<'_, T> {}
impl<T> std::iter::FusedIterator for Values<'_, T> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    struct Rec {
        id: ResourceId,
        n: u32,
    }

    impl Record for Rec {
        fn id(&self) -> &ResourceId {
            &self.id
        }
    }

    fn rec(n: u32) -> Rec {
        Rec {
            id: ResourceId::new(format!("r{n}")).unwrap(),
            n,
        }
    }

    fn ns(register: &Register<Rec>) -> Vec<u32> {
        register.values().map(|r| r.n).collect()
    }

    #[test]
    fn holes_never_show_and_compaction_keeps_the_order() {
        let mut register = Register::default();
        for n in 0..10 {
            register.insert_new(rec(n));
        }
        // Oldest first: holes pile up at the front until compaction.
        for n in 0..6 {
            assert_eq!(register.remove(&format!("r{n}")), Some(rec(n)));
            assert_eq!(ns(&register), (n + 1..10).collect::<Vec<_>>());
            assert!(register.slots.len() - register.len() <= register.len());
        }
        assert_eq!(register.slots.len(), register.len(), "compacted");
        assert_eq!(register.get("r7"), Some(&rec(7)));
        assert_eq!(register.get("r3"), None);
        // Newest last: no hole left behind.
        assert_eq!(register.remove("r9"), Some(rec(9)));
        assert_eq!(register.slots.len(), 3);
        assert_eq!(register.remove("r9"), None);
        register.insert_new(rec(3));
        assert_eq!(ns(&register), [6, 7, 8, 3]);
        assert_eq!(
            register.values().rev().map(|r| r.n).collect::<Vec<_>>(),
            [3, 8, 7, 6]
        );
        let mut both = register.values();
        assert_eq!(both.len(), 4);
        assert_eq!(both.next().map(|r| r.n), Some(6));
        assert_eq!(both.next_back().map(|r| r.n), Some(3));
        assert_eq!(both.len(), 2);
        assert_eq!(both.next_back().map(|r| r.n), Some(8));
        assert_eq!(both.next().map(|r| r.n), Some(7));
        assert_eq!(both.next(), None);
        assert_eq!(both.next_back(), None);
        for n in [6, 7, 8, 3] {
            register.remove(&format!("r{n}"));
        }
        assert!(register.slots.is_empty());
    }

    #[test]
    fn equality_ignores_holes_but_not_order() {
        let mut a = Register::default();
        let mut b = Register::default();
        for n in 0..4 {
            a.insert_new(rec(n));
        }
        for n in 1..4 {
            b.insert_new(rec(n));
        }
        a.remove("r0");
        assert_ne!(a.slots.len(), b.slots.len());
        assert_eq!(a, b);
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert_eq!(
            serde_json::to_string(&SerializeWith(&a)).unwrap(),
            serde_json::to_string(&SerializeWith(&b)).unwrap()
        );
        a.remove("r1");
        a.insert_new(rec(1));
        assert_ne!(a, b, "same records, other order");
    }

    struct SerializeWith<'a>(&'a Register<Rec>);

    impl Serialize for SerializeWith<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            self.0.serialize(serializer)
        }
    }
}
