//! The keyed, insertion-ordered collection behind both registers.

use serde::{Deserializer, Serialize, Serializer};

use crate::hash::IndexMap;
use crate::{Error, ResourceId};

/// A record kept in a [`Register`]: it knows its own id.
pub(crate) trait Record {
    /// The id the record is stored under.
    fn id(&self) -> &ResourceId;
}

/// Records keyed by their id, in insertion order.
///
/// Equality compares the records *and their order*, unlike `IndexMap`'s.
#[derive(Debug, Clone)]
pub(crate) struct Register<T> {
    records: IndexMap<ResourceId, T>,
}

impl<T: PartialEq> PartialEq for Register<T> {
    fn eq(&self, other: &Self) -> bool {
        self.records.len() == other.records.len() && self.records.iter().eq(other.records.iter())
    }
}

impl<T: Eq> Eq for Register<T> {}

impl<T> Default for Register<T> {
    fn default() -> Self {
        Self {
            records: IndexMap::default(),
        }
    }
}

impl<T: Record> Register<T> {
    pub(crate) fn get(&self, id: &str) -> Option<&T> {
        self.records.get(id)
    }

    pub(crate) fn contains(&self, id: &str) -> bool {
        self.records.contains_key(id)
    }

    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    pub(crate) fn values(&self) -> indexmap::map::Values<'_, ResourceId, T> {
        self.records.values()
    }

    #[allow(dead_code, reason = "used by the graph index in a later issue")]
    pub(crate) fn index_of(&self, id: &str) -> Option<usize> {
        self.records.get_index_of(id)
    }

    /// The record, to change in place; the caller must not change its id.
    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        self.records.get_mut(id)
    }

    /// Inserts `record`; the caller has checked that its id is free.
    pub(crate) fn insert_new(&mut self, record: T) {
        let previous = self.records.insert(record.id().clone(), record);
        debug_assert!(previous.is_none(), "insert_new over an existing record");
    }

    /// Removes the record keeping the order of the others. O(n).
    pub(crate) fn remove(&mut self, id: &str) -> Option<T> {
        self.records.shift_remove(id)
    }

    pub(crate) fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>
    where
        T: Serialize,
    {
        self.records.serialize(serializer)
    }

    /// Reads a map of records, refusing a repeated key and a record stored
    /// under a key that is not its id.
    pub(crate) fn deserialize<'de, D>(deserializer: D, what: &'static str) -> Result<Self, D::Error>
    where
        D: Deserializer<'de>,
        T: serde::Deserialize<'de>,
    {
        let records = crate::label::deserialize_unique_map(
            deserializer,
            what,
            |key: &ResourceId, record: &T| {
                if key == record.id() {
                    Ok(())
                } else {
                    Err(Error::KeyMismatch {
                        key: key.clone(),
                        id: record.id().clone(),
                    })
                }
            },
        )?;
        Ok(Self { records })
    }
}
