//! The dependency graph: typed relationships, redundancy groups, and the
//! impact queries that run on them.

mod edge_set;
mod export;
mod impact;
mod index;
mod kind;
mod query;
mod recovery;
mod scc;
mod spof;
mod store;

pub use self::impact::{GroupOutcome, Impact, ImpactState, ImpactedItem, Path, PathStep, Reach};
pub(crate) use self::index::{Index, kind_ranks};
pub use self::kind::{CustomKind, Propagation, Quorum, RelationKind, Relationship};
pub use self::query::ImpactQuery;
pub use self::recovery::{RecoveryPlan, RecoveryStep};
pub(crate) use self::scc::Components;
pub use self::spof::{SinglePoint, SinglePoints};
pub(crate) use self::store::Topology;
