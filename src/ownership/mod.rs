//! Field ownership: claims from sources, the [`FieldOwnership`] policy that
//! arbitrates them, provenance, the conflict log and the change journal.
//!
//! Every write to a field of an asset or a configuration item is a
//! [`Claim`]: a [`Source`] says, at an observed instant, that a [`Field`] of
//! a resource should hold a [`Value`] (or be empty, or that it withdraws what
//! it said). Claims travel in a [`Batch`](crate::Batch) through the one
//! write path, [`Estate::apply`](crate::Estate::apply); the estate's policy
//! (by default a [`ColumnAgreement`]) accepts or rejects each. Nothing is
//! lost: the estate keeps every claim, the [provenance](Provenance) of every
//! claimed value, a conflict log of rejected claims and an append-only
//! [journal](JournalEntry) of every accepted change;
//! [`Estate::explain`](crate::Estate::explain) says why a field holds its
//! value.
//!
//! # Example
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use itam_cmdb::ownership::{AssetField, Claim, ColumnAgreement, FieldCategory, Rule, Source, Value};
//! use itam_cmdb::{sample, Batch};
//!
//! let mut estate = sample::estate();
//! estate.set_agreement(
//!     ColumnAgreement::new().with(Rule::category(FieldCategory::Ownership).sources(["finance"]))?,
//! );
//! let vm = itam_cmdb::ResourceId::new(sample::PAYMENT_VM)?;
//! let at = |day| Utc.with_ymd_and_hms(2026, 11, day, 9, 0, 0).unwrap();
//! let finance = Source::automated("finance")?;
//! let discovery = Source::automated("discovery")?;
//!
//! let mut batch = Batch::new();
//! batch.claim(Claim::set(vm.clone(), AssetField::Owner, Value::text("team-payments"), finance, at(1)));
//! batch.claim(Claim::set(vm.clone(), AssetField::Owner, Value::text("ops"), discovery, at(2)));
//! let report = estate.apply(batch)?;
//! assert_eq!(report.accepted().count(), 1);
//! assert_eq!(report.rejected().count(), 1);
//! assert_eq!(estate.asset(&vm).and_then(|a| a.owner()), Some("team-payments"));
//! assert_eq!(estate.conflicts().len(), 1);
//! # Ok::<(), itam_cmdb::Error>(())
//! ```

mod claim;
mod field;
mod policy;
mod reconcile;
mod report;
mod state;

pub use self::claim::{Claim, Source, SourceKind, Update};
pub use self::field::{AssetField, CiField, Field, FieldCategory, Value, ValueType, View};
pub use self::policy::{
    ColumnAgreement, Current, FieldOwnership, ManualLock, Provenance, Reason, Rule, Scope,
    SourcePattern, Verdict,
};
pub use self::reconcile::{FieldPair, Finding, ReconcileRules, Reconciliation, status_agrees};
pub use self::report::{
    Conflict, Decision, Explanation, JournalEntry, Outcome, Removal, RemovedRecord, Report,
};
pub use self::state::ClaimStatus;
pub(crate) use self::state::{Added, FieldState, StagedField, StagedView};
