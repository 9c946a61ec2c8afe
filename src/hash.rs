//! The hasher behind the crate's maps keyed by ids.
//!
//! Every write and most queries look records up by [`ResourceId`]; the
//! standard library's `SipHash` was a tenth of the claim write path. These
//! maps use foldhash's fast variant instead, seeded at random per map like
//! the standard library's, which keeps the minimal protection against
//! precomputed collisions that `hashbrown` itself settles for. No output
//! depends on a map's iteration order: ordered results come from
//! `IndexMap` insertion order or explicit sorts.
//!
//! [`ResourceId`]: crate::ResourceId

/// The randomly seeded builder of the crate's hashers.
pub(crate) type RandomState = foldhash::fast::RandomState;

/// A `HashMap` with the crate's hasher.
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, RandomState>;

/// An `IndexMap` with the crate's hasher.
pub(crate) type IndexMap<K, V> = indexmap::IndexMap<K, V, RandomState>;
