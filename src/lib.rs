//! `itam-cmdb`: a pure, in-memory model of an IT estate as its two systems of
//! record see it.
//!
//! * The **asset register** (ITAM) says who owns a resource, what it costs,
//!   and where it is in its life: [`Asset`] records in an [`AssetRegister`].
//! * The **CMDB** says what a resource is, how it is configured and where it
//!   runs: [`ConfigurationItem`] records in a [`Cmdb`].
//!
//! The two are separate types in separate registers, joined only by a shared
//! [`ResourceId`], and held together by an [`Estate`]. Money is exact
//! ([`Money`], a decimal with a [`Currency`]); bad input is a typed [`Error`];
//! nothing in the crate does I/O or reads a clock.
//!
//! ```
//! use itam_cmdb::{sample, CiClass};
//!
//! let estate = sample::estate();
//! let vm = estate.resource(sample::PAYMENT_VM).expect("the payment VM is in both registers");
//! assert_eq!(vm.asset().unwrap().budget_owner(), Some("Dana Whitfield"));
//! assert_eq!(vm.ci().unwrap().class(), &CiClass::VirtualMachine);
//!
//! // A discovered VM nobody registered as an asset.
//! assert!(estate.cis_without_asset().any(|ci| ci.id().as_str() == sample::SHADOW_VM));
//! ```
//!
//! # Overview
//!
//! * [`ResourceId`]: the validated key shared by both views; [`Text`]: the
//!   shared, immutable string that records hold and claims carry.
//! * [`Asset`] (built with [`AssetBuilder`]), [`AssetKind`], [`Lifecycle`]:
//!   the ITAM view.
//! * [`ConfigurationItem`] (built with [`ConfigurationItemBuilder`]),
//!   [`CiClass`], [`OperationalStatus`], [`Environment`], [`Region`],
//!   [`Criticality`]: the CMDB view.
//! * [`Estate`]: both registers and the one write path into them.
//! * [`Money`], [`Currency`], [`Rounding`]: exact money; see [`money`].
//! * [`sample`]: a small, deterministic estate that tells the domain's story.
//!
//! # Serde
//!
//! Every public data type implements `Serialize` and `Deserialize`. An
//! [`Estate`] serialises to a versioned snapshot, and deserialising validates
//! it as thoroughly as building it record by record would.
//!
//! # Rust version
//!
//! The minimum supported Rust version is 1.85. Before 1.0 it is raised only
//! in a release that is allowed to break, and never to a compiler released
//! less than a year earlier.

mod asset;
mod cmdb;
mod error;
mod estate;
pub mod finance;
mod graph;
mod hash;
mod id;
mod label;
pub mod money;
pub mod ownership;
mod register;
pub mod sample;
pub mod synth;
mod text;

pub use crate::asset::{
    Asset, AssetBuilder, AssetKind, AssetRegister, Assets, Lifecycle, MissingReason,
    RetirementReason,
};
pub use crate::cmdb::{
    CiClass, Cmdb, ConfigurationItem, ConfigurationItemBuilder, ConfigurationItems, Criticality,
    Environment, OperationalStatus, Region,
};
pub use crate::error::{Error, IdRule};
pub use crate::estate::{Batch, Estate, Resource};
pub use crate::graph::{
    CustomKind, GroupOutcome, Impact, ImpactQuery, ImpactState, ImpactedItem, Path, PathStep,
    Propagation, Quorum, Reach, RecoveryPlan, RecoveryStep, RelationKind, Relationship,
    SinglePoint, SinglePoints,
};
pub use crate::id::ResourceId;
pub use crate::label::{AttributeIter, AttributeKey, AttributeValue, Attributes, CustomName};
pub use crate::money::{Currency, Money, Rounding};
pub use crate::text::Text;

/// The README, compiled so that its examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
