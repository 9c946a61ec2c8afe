//! The asset register.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::register::{self, Record, Register};
use crate::{Asset, ResourceId};

impl Record for Asset {
    fn id(&self) -> &ResourceId {
        self.id()
    }
}

/// The asset register: every [`Asset`], keyed by [`ResourceId`], in insertion
/// order.
///
/// The register is read through the [`Estate`](crate::Estate) that owns it
/// ([`Estate::assets`](crate::Estate::assets)); every change goes through the
/// estate's write path so that nothing bypasses validation.
///
/// # Order
///
/// Iteration follows insertion order. Removing an asset keeps the order of
/// the others; an asset inserted again after its removal comes last.
///
/// # Complexity
///
/// In n assets: [`get`](Self::get), [`contains`](Self::contains),
/// [`len`](Self::len) and [`is_empty`](Self::is_empty) are O(1); a walk of
/// [`iter`](Self::iter) is O(n). Inserting
/// ([`Estate::insert_asset`](crate::Estate::insert_asset)) and removing
/// ([`Estate::remove_asset`](crate::Estate::remove_asset)) are O(1)
/// amortised in the register: a removed asset leaves a hole that iteration
/// skips, and the holes are closed in one O(n) pass once they outnumber the
/// assets.
///
/// # Serde
///
/// A map from id to asset, in order. Deserialising refuses a repeated id and
/// an asset stored under a key that is not its own id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssetRegister(pub(crate) Register<Asset>);

impl AssetRegister {
    /// The asset with this id.
    ///
    /// # Complexity
    ///
    /// O(1).
    #[must_use]
    pub fn get<Q: AsRef<str> + ?Sized>(&self, id: &Q) -> Option<&Asset> {
        self.0.get(id.as_ref())
    }

    /// Whether an asset with this id is registered.
    ///
    /// # Complexity
    ///
    /// O(1).
    #[must_use]
    pub fn contains<Q: AsRef<str> + ?Sized>(&self, id: &Q) -> bool {
        self.0.contains(id.as_ref())
    }

    /// The number of assets.
    ///
    /// # Complexity
    ///
    /// O(1).
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the register is empty.
    ///
    /// # Complexity
    ///
    /// O(1).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.len() == 0
    }

    /// Every asset, in insertion order.
    ///
    /// # Complexity
    ///
    /// O(1) to make, O(n) to walk in n assets; each step is O(1)
    /// amortised.
    #[must_use]
    pub fn iter(&self) -> Assets<'_> {
        Assets(self.0.values())
    }
}

impl<'a> IntoIterator for &'a AssetRegister {
    type Item = &'a Asset;
    type IntoIter = Assets<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The assets of an [`AssetRegister`], in insertion order; made by
/// [`AssetRegister::iter`].
#[derive(Debug, Clone)]
pub struct Assets<'a>(register::Values<'a, Asset>);

impl<'a> Iterator for Assets<'a> {
    type Item = &'a Asset;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for Assets<'_> {}
impl DoubleEndedIterator for Assets<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back()
    }
}
impl std::iter::FusedIterator for Assets<'_> {}

impl Serialize for AssetRegister {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for AssetRegister {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Register::deserialize(deserializer, "asset").map(Self)
    }
}
