//! The CMDB view: [`ConfigurationItem`] records and the [`Cmdb`] register.

mod item;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use self::item::{
    CiClass, ConfigurationItem, ConfigurationItemBuilder, Criticality, Environment,
    OperationalStatus, Region,
};
use crate::ResourceId;
use crate::register::{Record, Register};

impl Record for ConfigurationItem {
    fn id(&self) -> &ResourceId {
        self.id()
    }
}

/// The CMDB: every [`ConfigurationItem`], keyed by [`ResourceId`], in
/// insertion order.
///
/// The CMDB is read through the [`Estate`](crate::Estate) that owns it
/// ([`Estate::cmdb`](crate::Estate::cmdb)); every change goes through the
/// estate's write path.
///
/// # Order
///
/// Iteration follows insertion order. Removing an item keeps the order of
/// the others (and costs O(n)).
///
/// # Serde
///
/// A map from id to item, in order. Deserialising refuses a repeated id and
/// an item stored under a key that is not its own id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cmdb {
    pub(crate) items: Register<ConfigurationItem>,
}

impl Cmdb {
    /// The configuration item with this id.
    #[must_use]
    pub fn get<Q: AsRef<str> + ?Sized>(&self, id: &Q) -> Option<&ConfigurationItem> {
        self.items.get(id.as_ref())
    }

    /// Whether an item with this id is recorded.
    #[must_use]
    pub fn contains<Q: AsRef<str> + ?Sized>(&self, id: &Q) -> bool {
        self.items.contains(id.as_ref())
    }

    /// The number of items.
    #[must_use]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the CMDB is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.len() == 0
    }

    /// Every item, in insertion order.
    #[must_use]
    pub fn iter(&self) -> ConfigurationItems<'_> {
        ConfigurationItems(self.items.values())
    }
}

impl<'a> IntoIterator for &'a Cmdb {
    type Item = &'a ConfigurationItem;
    type IntoIter = ConfigurationItems<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The items of a [`Cmdb`], in insertion order; made by [`Cmdb::iter`].
#[derive(Debug, Clone)]
pub struct ConfigurationItems<'a>(indexmap::map::Values<'a, ResourceId, ConfigurationItem>);

impl<'a> Iterator for ConfigurationItems<'a> {
    type Item = &'a ConfigurationItem;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for ConfigurationItems<'_> {}
impl DoubleEndedIterator for ConfigurationItems<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back()
    }
}
impl std::iter::FusedIterator for ConfigurationItems<'_> {}

impl Serialize for Cmdb {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.items.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Cmdb {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Register::deserialize(deserializer, "configuration item").map(|items| Self { items })
    }
}
