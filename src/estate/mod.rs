//! [`Estate`]: both registers, and the one write path into them.

mod check;
mod claims;
mod reconcile;

use std::collections::{HashMap, HashSet};

use petgraph::stable_graph::NodeIndex;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use self::claims::{Ownership, StagedClaims};
use crate::ownership::{Claim, FieldOwnership, Removal, RemovedRecord, Report, View};
use crate::{
    Asset, AssetRegister, Cmdb, ConfigurationItem, Error, Propagation, Quorum, RelationKind,
    Relationship, ResourceId,
};

/// The whole estate: the [`AssetRegister`] (ITAM view) and the [`Cmdb`]
/// (CMDB view), joined only by [`ResourceId`].
///
/// An asset and a configuration item with the same id are two views of one
/// resource. Either may exist without the other: a configuration item with no
/// asset is shadow IT or an ungoverned discovery, an asset with no
/// configuration item is a licence, a contract or a laptop in stock. Both are
/// legal and are listed by [`assets_without_ci`](Self::assets_without_ci) and
/// [`cis_without_asset`](Self::cis_without_asset).
///
/// # One write path
///
/// Every change to an estate goes through one private commit step that
/// validates the whole change before touching anything: a failed operation
/// returns an [`Error`] and leaves the estate exactly as it was. The
/// registers are handed out only as shared references.
///
/// # Serde
///
/// An estate is a snapshot `{"version": 1, "assets": {...}, "cmdb": {...}}`.
/// Deserialising checks every invariant (valid ids and currencies, no repeated
/// id, every record stored under its own id, a known version) and returns an
/// error rather than a corrupt estate.
///
/// # Example
///
/// ```
/// use itam_cmdb::{Asset, AssetKind, CiClass, ConfigurationItem, Estate, ResourceId};
///
/// let id = ResourceId::new("vm-pay-01")?;
/// let mut estate = Estate::new();
/// estate.insert_asset(
///     Asset::builder(id.clone(), "payments VM", AssetKind::CloudResource)
///         .budget_owner("Dana Whitfield")
///         .monthly_cost("412.30 GBP".parse()?)
///         .build()?,
/// )?;
/// estate.insert_ci(ConfigurationItem::builder(id.clone(), "vm-pay-01", CiClass::VirtualMachine).build()?)?;
///
/// let both = estate.resource(&id).expect("both views exist");
/// assert_eq!(both.asset().unwrap().budget_owner(), Some("Dana Whitfield"));
/// assert_eq!(both.ci().unwrap().class(), &CiClass::VirtualMachine);
///
/// // A duplicate is an error, never an overwrite.
/// let again = Asset::builder(id, "impostor", AssetKind::Hardware).build()?;
/// assert!(estate.insert_asset(again).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Estate {
    assets: AssetRegister,
    cmdb: Cmdb,
    ownership: Ownership,
}

/// One change to an estate. Every public write is expressed as a list of
/// changes and goes through [`Estate::commit`].
#[derive(Debug, Clone, PartialEq)]
enum Change {
    // Boxed so that a change is small: a batch of claims is a long list of
    // changes, and each is read several times.
    InsertAsset(Box<Asset>),
    InsertCi(Box<ConfigurationItem>),
    RemoveAsset(ResourceId),
    RemoveCi(ResourceId),
    Relate(Relationship),
    Unrelate(Relationship),
    SetQuorum(ResourceId, Quorum),
    Claim(Claim),
}

/// A list of changes applied to an [`Estate`] all together or not at all;
/// see [`Estate::apply`].
///
/// Changes apply in the order they were added, and each sees the ones before
/// it: a batch may insert two items and then relate them.
///
/// # Example
///
/// ```
/// use itam_cmdb::{Batch, CiClass, ConfigurationItem, Estate, Quorum, RelationKind, ResourceId};
///
/// let id = |s: &str| ResourceId::new(s);
/// let ci = |s: &str, class| ConfigurationItem::builder(ResourceId::new(s)?, s, class).build();
/// let mut batch = Batch::new();
/// batch
///     .insert_ci(ci("web-pool", CiClass::Cluster)?)
///     .insert_ci(ci("web-1", CiClass::VirtualMachine)?)
///     .insert_ci(ci("web-2", CiClass::VirtualMachine)?)
///     .insert_ci(ci("shop", CiClass::Application)?)
///     .relate(id("shop")?, RelationKind::DependsOn, id("web-pool")?)
///     .define_group(id("web-pool")?, Quorum::AtLeast(1), [id("web-1")?, id("web-2")?]);
///
/// let mut estate = Estate::new();
/// estate.apply(batch)?;
/// assert_eq!(estate.cmdb().relationship_count(), 3);
/// assert_eq!(estate.cmdb().quorum("web-pool"), Some(Quorum::AtLeast(1)));
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    changes: Vec<Change>,
}

impl Batch {
    /// An empty batch.
    ///
    /// # Complexity
    ///
    /// O(1).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of changes.
    ///
    /// # Complexity
    ///
    /// O(1).
    #[must_use]
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    /// Whether the batch has no change.
    ///
    /// # Complexity
    ///
    /// O(1).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Adds a claim on a field; see [`ownership`](crate::ownership). A
    /// batch's claims are decided after its other changes, so they may
    /// address records the batch inserts.
    ///
    /// # Complexity
    ///
    /// O(1) amortised.
    pub fn claim(&mut self, claim: Claim) -> &mut Self {
        self.push(Change::Claim(claim))
    }

    /// Adds an asset; see [`Estate::insert_asset`].
    ///
    /// # Complexity
    ///
    /// O(1) amortised.
    pub fn insert_asset(&mut self, asset: Asset) -> &mut Self {
        self.push(Change::InsertAsset(Box::new(asset)))
    }

    /// Adds a configuration item; see [`Estate::insert_ci`].
    ///
    /// # Complexity
    ///
    /// O(1) amortised.
    pub fn insert_ci(&mut self, ci: ConfigurationItem) -> &mut Self {
        self.push(Change::InsertCi(Box::new(ci)))
    }

    /// Removes an asset; see [`Estate::remove_asset`].
    ///
    /// # Complexity
    ///
    /// O(1) amortised.
    pub fn remove_asset(&mut self, id: ResourceId) -> &mut Self {
        self.push(Change::RemoveAsset(id))
    }

    /// Removes a configuration item and its relationships; see
    /// [`Estate::remove_ci`].
    ///
    /// # Complexity
    ///
    /// O(1) amortised.
    pub fn remove_ci(&mut self, id: ResourceId) -> &mut Self {
        self.push(Change::RemoveCi(id))
    }

    /// Relates `source -[kind]-> target`; see [`Estate::relate`].
    ///
    /// # Complexity
    ///
    /// O(1) amortised.
    pub fn relate(
        &mut self,
        source: ResourceId,
        kind: RelationKind,
        target: ResourceId,
    ) -> &mut Self {
        self.push(Change::Relate(Relationship::new(source, kind, target)))
    }

    /// Removes `source -[kind]-> target`; see [`Estate::unrelate`].
    ///
    /// # Complexity
    ///
    /// O(1) amortised.
    pub fn unrelate(
        &mut self,
        source: ResourceId,
        kind: RelationKind,
        target: ResourceId,
    ) -> &mut Self {
        self.push(Change::Unrelate(Relationship::new(source, kind, target)))
    }

    /// Makes each of `members` a [`MemberOf`](RelationKind::MemberOf)
    /// `group`, then sets the group's quorum; see [`Estate::define_group`].
    ///
    /// # Complexity
    ///
    /// O(k) for k members.
    pub fn define_group(
        &mut self,
        group: ResourceId,
        quorum: Quorum,
        members: impl IntoIterator<Item = ResourceId>,
    ) -> &mut Self {
        for member in members {
            self.relate(member, RelationKind::MemberOf, group.clone());
        }
        self.push(Change::SetQuorum(group, quorum))
    }

    fn push(&mut self, change: Change) -> &mut Self {
        self.changes.push(change);
        self
    }
}

/// What one applied [`Change`] gave back.
#[derive(Debug)]
enum Applied {
    /// Whether the change changed anything.
    Changed(bool),
    RemovedAsset(Asset),
    RemovedCi(ConfigurationItem),
}

impl Estate {
    /// The version of the snapshot format this build reads and writes.
    pub const SNAPSHOT_VERSION: u32 = 1;

    /// An empty estate.
    ///
    /// # Complexity
    ///
    /// O(1).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The asset register (the ITAM view).
    ///
    /// # Complexity
    ///
    /// O(1).
    #[must_use]
    pub fn assets(&self) -> &AssetRegister {
        &self.assets
    }

    /// The CMDB (the CMDB view).
    ///
    /// # Complexity
    ///
    /// O(1).
    #[must_use]
    pub fn cmdb(&self) -> &Cmdb {
        &self.cmdb
    }

    /// The asset with this id.
    ///
    /// # Complexity
    ///
    /// O(1) expected (a hash lookup).
    #[must_use]
    pub fn asset<Q: AsRef<str> + ?Sized>(&self, id: &Q) -> Option<&Asset> {
        self.assets.get(id)
    }

    /// The configuration item with this id.
    ///
    /// # Complexity
    ///
    /// O(1) expected (a hash lookup).
    #[must_use]
    pub fn ci<Q: AsRef<str> + ?Sized>(&self, id: &Q) -> Option<&ConfigurationItem> {
        self.cmdb.get(id)
    }

    /// Both views of one resource, or `None` when neither register knows
    /// the id.
    ///
    /// # Complexity
    ///
    /// O(1) expected.
    #[must_use]
    pub fn resource<Q: AsRef<str> + ?Sized>(&self, id: &Q) -> Option<Resource<'_>> {
        let asset = self.assets.get(id);
        let ci = self.cmdb.get(id);
        let id = asset
            .map(Asset::id)
            .or_else(|| ci.map(ConfigurationItem::id))?;
        Some(Resource { id, asset, ci })
    }

    /// Every resource the estate knows, with both views: first every asset
    /// in register order, then every configuration item that has no asset,
    /// in CMDB order.
    ///
    /// # Complexity
    ///
    /// O(n) to walk every record of both registers; each step O(1) expected.
    pub fn resources(&self) -> impl Iterator<Item = Resource<'_>> {
        let with_assets = self.assets.iter().map(|asset| Resource {
            id: asset.id(),
            asset: Some(asset),
            ci: self.cmdb.get(asset.id().as_str()),
        });
        let ci_only = self.cis_without_asset().map(|ci| Resource {
            id: ci.id(),
            asset: None,
            ci: Some(ci),
        });
        with_assets.chain(ci_only)
    }

    /// Assets with no configuration item of the same id (licences, stock,
    /// contracts, or a CMDB gap), in register order.
    ///
    /// # Complexity
    ///
    /// O(n) to walk; each step O(1) expected.
    pub fn assets_without_ci(&self) -> impl Iterator<Item = &Asset> {
        self.assets
            .iter()
            .filter(|asset| !self.cmdb.contains(asset.id().as_str()))
    }

    /// Configuration items with no asset of the same id (shadow IT,
    /// ungoverned discoveries), in CMDB order.
    ///
    /// # Complexity
    ///
    /// O(n) to walk; each step O(1) expected.
    pub fn cis_without_asset(&self) -> impl Iterator<Item = &ConfigurationItem> {
        self.cmdb
            .iter()
            .filter(|ci| !self.assets.contains(ci.id().as_str()))
    }

    /// Adds an asset to the asset register.
    ///
    /// # Errors
    ///
    /// [`Error::DuplicateAsset`] if an asset with the same id is registered;
    /// the estate is unchanged.
    ///
    /// # Complexity
    ///
    /// O(1) amortised expected (validation, the register insert).
    pub fn insert_asset(&mut self, asset: Asset) -> Result<(), Error> {
        self.commit_one(Change::InsertAsset(Box::new(asset)))
            .map(drop)
    }

    /// Adds a configuration item to the CMDB.
    ///
    /// # Errors
    ///
    /// [`Error::DuplicateCi`] if an item with the same id is recorded; the
    /// estate is unchanged.
    ///
    /// # Complexity
    ///
    /// O(1) amortised expected, and O(1) to patch the CMDB's query index
    /// (see [`Cmdb`](crate::Cmdb#query-index)).
    pub fn insert_ci(&mut self, ci: ConfigurationItem) -> Result<(), Error> {
        self.commit_one(Change::InsertCi(Box::new(ci))).map(drop)
    }

    /// Removes an asset and returns it. The configuration item with the same
    /// id, if any, stays.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownAsset`] if no asset has this id.
    ///
    /// # Complexity
    ///
    /// O(1) amortised expected, plus O(c) for the c claims on the asset's fields, which move to the removal log.
    pub fn remove_asset(&mut self, id: &ResourceId) -> Result<Asset, Error> {
        match self.commit_one(Change::RemoveAsset(id.clone()))? {
            Applied::RemovedAsset(asset) => Ok(asset),
            _ => Err(Error::UnknownAsset(id.clone())),
        }
    }

    /// Removes a configuration item and returns it. The asset with the same
    /// id, if any, stays.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownCi`] if no item has this id.
    ///
    /// # Complexity
    ///
    /// O(d) expected for the item's d relationships, amortised (each is marked removed, never unlinked by a walk
    /// of its other end's list; a compaction, linear in the graph, runs once removals outnumber half of it),
    /// plus O(c) for the claims on its fields, and O(sum of its neighbours' degrees) to patch the query index
    /// (see [`Cmdb`](crate::Cmdb#query-index)).
    pub fn remove_ci(&mut self, id: &ResourceId) -> Result<ConfigurationItem, Error> {
        match self.commit_one(Change::RemoveCi(id.clone()))? {
            Applied::RemovedCi(ci) => Ok(ci),
            _ => Err(Error::UnknownCi(id.clone())),
        }
    }

    /// Relates `source -[kind]-> target` ("source *kind* target") and returns
    /// whether the relationship is new.
    ///
    /// Relating a pair that is already related with the same kind is a
    /// no-op that returns `Ok(false)`, so a feed may send its whole picture
    /// again. The same pair may be related with several kinds.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownCi`] if either end is not a configuration item;
    /// [`Error::SelfRelationship`] if both ends are the same item;
    /// [`Error::ConflictingKind`] if a custom kind's name is already used with
    /// another propagation. The estate is unchanged.
    ///
    /// # Complexity
    ///
    /// O(1) amortised expected, whatever the degree of either end, and O(d) for the larger degree d of the two
    /// ends to patch the query index (see [`Cmdb`](crate::Cmdb#query-index)).
    pub fn relate(
        &mut self,
        source: &ResourceId,
        kind: RelationKind,
        target: &ResourceId,
    ) -> Result<bool, Error> {
        let change = Change::Relate(Relationship::new(source.clone(), kind, target.clone()));
        Ok(matches!(self.commit_one(change)?, Applied::Changed(true)))
    }

    /// Removes `source -[kind]-> target` and returns whether it existed;
    /// removing a relationship that does not exist is a no-op that returns
    /// `Ok(false)`.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownCi`] if either end is not a configuration item.
    ///
    /// # Complexity
    ///
    /// O(1) amortised expected, whatever the degree of either end: the relationship is found in a hash set and
    /// marked removed (a compaction, linear in the graph, runs once removals outnumber half of it), and O(d)
    /// for the larger degree d of the two ends to patch the query index (see
    /// [`Cmdb`](crate::Cmdb#query-index)).
    pub fn unrelate(
        &mut self,
        source: &ResourceId,
        kind: RelationKind,
        target: &ResourceId,
    ) -> Result<bool, Error> {
        let change = Change::Unrelate(Relationship::new(source.clone(), kind, target.clone()));
        Ok(matches!(self.commit_one(change)?, Applied::Changed(true)))
    }

    /// Makes `group` a redundancy group: each of `members` becomes a
    /// [`MemberOf`](RelationKind::MemberOf) it (members it already has stay),
    /// and its quorum becomes `quorum`. See [`Quorum`] for what down and
    /// degraded mean.
    ///
    /// The quorum is checked against the members the group has afterwards.
    /// Members that leave later can leave a group unable to meet its quorum;
    /// it is then down as soon as any member fails.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownCi`] if the group or a member is not a configuration
    /// item; [`Error::SelfRelationship`] if the group is listed as its own
    /// member; [`Error::InvalidQuorum`] if the quorum needs more members than
    /// the group has, needs none, or is a percentage outside 1 to 100. The
    /// estate is unchanged.
    ///
    /// # Complexity
    ///
    /// O(k) amortised expected for k members, plus the group's current members when the quorum is checked.
    pub fn define_group(
        &mut self,
        group: &ResourceId,
        quorum: Quorum,
        members: impl IntoIterator<Item = ResourceId>,
    ) -> Result<(), Error> {
        let mut batch = Batch::new();
        batch.define_group(group.clone(), quorum, members);
        self.apply(batch).map(drop)
    }

    /// Applies every change of `batch`, in order, or none of them, and
    /// returns the decisions on its claims. The estate's
    /// [agreement](Self::agreement) decides the claims.
    ///
    /// Inserts, removes and relationships apply in batch order; claims are
    /// decided after them, in batch order, so a claim sees every record the
    /// batch inserts or removes. The returned [`Report`] is exactly what
    /// [`plan`](Self::plan) returns for the same batch.
    ///
    /// # Complexity
    ///
    /// A claim that sorts after every claim its field holds (the usual case:
    /// feeds send what they observe in order) costs O(1) amortised, however
    /// many claims the field holds: staging reads the estate's claims of a
    /// field without copying them, and committing writes only what the batch
    /// changed. A retraction withdraws its source's claims in O(claims
    /// withdrawn) and decides again the claims after the earliest one it
    /// withdrew that had been accepted; a claim that sorts before others
    /// decides again the claims after it, and copies the field's claims
    /// once per batch. Either costs O(k) in the field's k claims at worst.
    /// The conflict log grows by at most one entry per claim received: a
    /// claim is logged the first time it is rejected, not again when a later
    /// decision makes it lose again.
    ///
    /// # Errors
    ///
    /// Validation runs over the whole batch before anything is applied; on
    /// any problem the estate is unchanged. One problem is returned as the
    /// single-change methods report it ([`Estate::insert_asset`],
    /// [`Estate::relate`], ...); several as [`Error::Batch`], listing each
    /// with its change's position. Claims fail validation on an unknown
    /// resource, a value of the wrong type ([`Error::WrongValueType`]), a
    /// cleared required field, or a value the record's rules refuse (an
    /// empty owner, a negative cost, a warranty ending before purchase).
    /// A custom relationship kind's name is checked against the kinds in
    /// use before the batch and those the batch introduces: a batch that
    /// removes the last relationship of a custom kind cannot reuse its
    /// name with another propagation ([`Error::ConflictingKind`]); two
    /// batches can.
    ///
    /// # Lifecycle transitions
    ///
    /// Every change a batch makes to an asset's lifecycle (the journal's old
    /// and new value) must be one the [transition
    /// table](crate::Lifecycle::check_transition) allows, or, when the claim
    /// that now holds the value is a [reactivation](Claim::reactivate), a
    /// valid [reactivation](crate::Lifecycle::check_reactivation); otherwise
    /// the batch fails with [`Error::InvalidTransition`] naming the asset and
    /// both states. This holds whichever claim makes the move: a late claim,
    /// or a retraction that falls back to an earlier state (a disposed asset
    /// does not come back because the claim that disposed of it is
    /// withdrawn). A claim that leaves the state as it is moves nothing.
    pub fn apply(&mut self, batch: Batch) -> Result<Report, Error> {
        self.commit(batch.changes, None).map(|(_, report)| report)
    }

    /// [`apply`](Self::apply) with another ownership policy than the
    /// estate's agreement.
    ///
    /// # Errors
    ///
    /// As [`apply`](Self::apply).
    ///
    /// # Complexity
    ///
    /// As [`apply`](Self::apply), plus the policy's own cost per decision.
    pub fn apply_with(
        &mut self,
        batch: Batch,
        policy: &dyn FieldOwnership,
    ) -> Result<Report, Error> {
        self.commit(batch.changes, Some(policy))
            .map(|(_, report)| report)
    }

    /// The dry run of [`apply`](Self::apply): validates `batch` and returns
    /// the decisions `apply` would make, changing nothing.
    ///
    /// # Errors
    ///
    /// Exactly those [`apply`](Self::apply) would return.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use itam_cmdb::ownership::{CiField, Claim, Source, Value};
    /// use itam_cmdb::{sample, AttributeValue, Batch, ResourceId};
    ///
    /// let estate = sample::estate();
    /// let mut batch = Batch::new();
    /// batch.claim(Claim::set(
    ///     ResourceId::new(sample::PAYMENT_VM)?,
    ///     CiField::Attribute(itam_cmdb::AttributeKey::new("os")?),
    ///     Value::Attribute(AttributeValue::Text("Ubuntu 26.04".into())),
    ///     Source::automated("discovery")?,
    ///     Utc.with_ymd_and_hms(2026, 11, 2, 3, 0, 0).unwrap(),
    /// ));
    /// let plan = estate.plan(&batch)?;
    /// assert!(plan.decisions()[0].changed());
    /// let mut applied = estate.clone();
    /// assert_eq!(applied.apply(batch)?, plan);
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    ///
    /// # Complexity
    ///
    /// As [`apply`](Self::apply); nothing is written.
    pub fn plan(&self, batch: &Batch) -> Result<Report, Error> {
        self.plan_with(batch, &self.ownership.agreement)
    }

    /// [`plan`](Self::plan) with another ownership policy.
    ///
    /// # Errors
    ///
    /// As [`apply`](Self::apply).
    ///
    /// # Complexity
    ///
    /// As [`apply`](Self::apply); nothing is written.
    pub fn plan_with(&self, batch: &Batch, policy: &dyn FieldOwnership) -> Result<Report, Error> {
        let staged = self.stage(&batch.changes, policy, false)?;
        Ok(Report::new(staged.claims.decisions()))
    }

    /// Validates `changes` as a whole against the current state (taking
    /// earlier changes of the same list into account), stages the claims,
    /// then applies everything. On any error nothing is applied. Returns
    /// what each change other than a claim did, in order, and the report
    /// of the claims.
    fn commit(
        &mut self,
        changes: Vec<Change>,
        policy: Option<&dyn FieldOwnership>,
    ) -> Result<(Vec<Applied>, Report), Error> {
        let staged = match policy {
            Some(policy) => self.stage(&changes, policy, true)?,
            None => self.stage(&changes, &self.ownership.agreement, true)?,
        };
        let mut resolved = staged.resolved.into_iter().peekable();
        let mut applied = Vec::new();
        for (at, change) in changes.into_iter().enumerate() {
            // Claims are written together by `commit_claims`.
            if matches!(change, Change::Claim(_)) {
                continue;
            }
            let nodes = resolved.next_if(|(i, ..)| *i == at).map(|(_, s, t)| (s, t));
            applied.push(self.apply_checked(change, nodes));
        }
        let decisions = self.commit_claims(staged.claims);
        Ok((applied, Report::new(decisions)))
    }

    /// Commits a single change and returns what it did.
    fn commit_one(&mut self, change: Change) -> Result<Applied, Error> {
        let (mut applied, _) = self.commit(vec![change], None)?;
        Ok(applied.pop().unwrap_or(Applied::Changed(false)))
    }

    /// Checks the whole batch and decides its claims, without changing
    /// anything; with `history`, also stages the journal entries and the
    /// conflicts that committing appends (a dry run needs only the
    /// decisions, which are the same either way).
    fn stage(
        &self,
        changes: &[Change],
        policy: &dyn FieldOwnership,
        history: bool,
    ) -> Result<Staged, Error> {
        let mut check = Validation::new(self, changes);
        let mut problems = Vec::new();
        for (at, change) in changes.iter().enumerate() {
            if let Err(problem) = check.change(at, change) {
                problems.push((at, problem));
            }
        }
        let claims = self.stage_claims(&check, changes, policy, history, &mut problems);
        problems.sort_by_key(|(at, _)| *at);
        match problems.len() {
            0 => Ok(Staged {
                resolved: check.resolved,
                claims,
            }),
            1 => Err(problems.swap_remove(0).1),
            _ => Err(Error::Batch { problems }),
        }
    }

    /// Applies one change that [`stage`](Self::stage) accepted;
    /// `nodes` are a relationship's endpoints when validation resolved them.
    fn apply_checked(&mut self, change: Change, nodes: Option<(NodeIndex, NodeIndex)>) -> Applied {
        match change {
            Change::InsertAsset(asset) => {
                self.assets.0.insert_new(*asset);
                Applied::Changed(true)
            }
            Change::InsertCi(ci) => {
                self.cmdb.insert_new(*ci);
                Applied::Changed(true)
            }
            Change::RemoveAsset(id) => match self.assets.0.remove(id.as_str()) {
                Some(asset) => {
                    let record = RemovedRecord::Asset(Box::new(asset.clone()));
                    self.log_removal(record);
                    Applied::RemovedAsset(asset)
                }
                None => Applied::Changed(false),
            },
            Change::RemoveCi(id) => match self.cmdb.remove(id.as_str()) {
                Some(ci) => {
                    self.log_removal(RemovedRecord::Ci(Box::new(ci.clone())));
                    Applied::RemovedCi(ci)
                }
                None => Applied::Changed(false),
            },
            // Claims are written together by `commit_claims`.
            Change::Claim(_) => Applied::Changed(false),
            Change::Relate(r) => Applied::Changed(match nodes {
                Some((source, target)) => self.cmdb.relate_nodes(source, r.kind(), target),
                None => self
                    .cmdb
                    .relate(r.source().as_str(), r.kind(), r.target().as_str()),
            }),
            Change::Unrelate(r) => Applied::Changed(self.cmdb.unrelate(
                r.source().as_str(),
                r.kind(),
                r.target().as_str(),
            )),
            Change::SetQuorum(group, quorum) => {
                self.cmdb.set_quorum(group.as_str(), quorum);
                Applied::Changed(true)
            }
        }
    }
}

impl Estate {
    /// Appends the removal of `record` to the removal log, with the claims
    /// its fields had (which leave the ownership state).
    fn log_removal(&mut self, record: RemovedRecord) {
        let ownership = &mut self.ownership;
        let claims = ownership.forget(record.id().as_str(), record.view());
        let sequence = ownership.removals.len() as u64 + 1;
        let after = ownership.journal.len() as u64;
        ownership
            .removals
            .push(Removal::new(sequence, after, record, claims));
    }

    /// Whether the view of `id` has a record.
    fn holds(&self, id: &ResourceId, view: View) -> bool {
        match view {
            View::Asset => self.assets.contains(id),
            View::Ci => self.cmdb.contains(id),
        }
    }
}

/// A validated batch: resolved relationship endpoints and staged claims.
struct Staged {
    resolved: Vec<(usize, NodeIndex, NodeIndex)>,
    claims: StagedClaims,
}

/// What earlier changes of a batch did to one id's two views; `None` when
/// they did not touch that view.
#[derive(Debug, Default, Clone, Copy)]
struct Touched {
    asset: Option<bool>,
    ci: Option<bool>,
}

/// The state a batch's validation tracks: what earlier changes of the same
/// batch did, without copying the estate.
struct Validation<'a> {
    estate: &'a Estate,
    /// Presence of the asset and the CI of each id that an earlier insert
    /// or remove of the batch changed; lookups of other ids fall through to
    /// the registers, so reads never grow this map.
    overlay: crate::hash::HashMap<&'a str, Touched>,
    /// Custom kind names introduced by the batch, with their propagation.
    custom: HashMap<&'a str, Propagation>,
    /// Kinds the batch introduces that the CMDB has not interned yet.
    new_kinds: HashSet<&'a RelationKind>,
    /// The members of each group whose quorum the batch sets, tracked from
    /// the first change that touches them.
    members: HashMap<&'a str, HashSet<&'a str>>,
    /// The endpoints' nodes of each relationship whose endpoints the batch
    /// leaves alone: `(change position, source, target)`. A node index is
    /// stable while its item stays (the graph is a `StableGraph`).
    resolved: Vec<(usize, NodeIndex, NodeIndex)>,
}

impl<'a> Validation<'a> {
    fn new(estate: &'a Estate, changes: &'a [Change]) -> Self {
        let mut members = HashMap::new();
        for change in changes {
            if let Change::SetQuorum(group, _) = change {
                let current = estate.cmdb.members(group).map(ResourceId::as_str).collect();
                members.insert(group.as_str(), current);
            }
        }
        Self {
            estate,
            overlay: crate::hash::HashMap::default(),
            custom: HashMap::new(),
            new_kinds: HashSet::new(),
            members,
            resolved: Vec::new(),
        }
    }

    /// Whether the asset register holds `id` at this point of the batch.
    fn has_asset(&self, id: &ResourceId) -> bool {
        self.touched(id, View::Asset)
            .unwrap_or_else(|| self.estate.assets.contains(id))
    }

    /// What the batch's earlier changes made of the presence of `id` in
    /// the view: `None` when they left it alone (the register decides).
    fn touched(&self, id: &ResourceId, view: View) -> Option<bool> {
        let touched = self.overlay.get(id.as_str())?;
        match view {
            View::Asset => touched.asset,
            View::Ci => touched.ci,
        }
    }

    /// Whether the CMDB holds `id` at this point of the batch.
    fn has_ci(&self, id: &ResourceId) -> bool {
        self.touched(id, View::Ci)
            .unwrap_or_else(|| self.estate.cmdb.contains(id))
    }

    fn touch(&mut self, id: &'a ResourceId) -> &mut Touched {
        self.overlay.entry(id.as_str()).or_default()
    }

    /// The node of `id` when the batch has not touched it so far: `Some` for
    /// an item present before the batch, `Ok(None)` for one the batch
    /// inserted; an error for one that does not exist at this point.
    fn ci_node(&self, id: &ResourceId) -> Result<Option<NodeIndex>, Error> {
        match self.overlay.get(id.as_str()).and_then(|touched| touched.ci) {
            Some(true) => Ok(None),
            Some(false) => Err(Error::UnknownCi(id.clone())),
            None => self
                .estate
                .cmdb
                .topology()
                .node(id.as_str())
                .map(Some)
                .ok_or_else(|| Error::UnknownCi(id.clone())),
        }
    }

    fn ci_exists(&self, id: &ResourceId) -> Result<(), Error> {
        if self.has_ci(id) {
            Ok(())
        } else {
            Err(Error::UnknownCi(id.clone()))
        }
    }

    fn change(&mut self, at: usize, change: &'a Change) -> Result<(), Error> {
        match change {
            Change::InsertAsset(asset) => {
                let id = asset.id();
                if self.has_asset(id) {
                    return Err(Error::DuplicateAsset(id.clone()));
                }
                self.touch(id).asset = Some(true);
            }
            Change::InsertCi(ci) => {
                let id = ci.id();
                if self.has_ci(id) {
                    return Err(Error::DuplicateCi(id.clone()));
                }
                self.touch(id).ci = Some(true);
            }
            Change::RemoveAsset(id) => {
                if !self.has_asset(id) {
                    return Err(Error::UnknownAsset(id.clone()));
                }
                self.touch(id).asset = Some(false);
            }
            Change::RemoveCi(id) => {
                self.ci_exists(id)?;
                self.touch(id).ci = Some(false);
                for members in self.members.values_mut() {
                    members.remove(id.as_str());
                }
                if let Some(members) = self.members.get_mut(id.as_str()) {
                    members.clear();
                }
            }
            Change::Relate(r) | Change::Unrelate(r) => {
                let source = self.ci_node(r.source())?;
                let target = self.ci_node(r.target())?;
                if let (Some(s), Some(t), Change::Relate(_)) = (source, target, change) {
                    self.resolved.push((at, s, t));
                }
                if matches!(change, Change::Unrelate(_)) {
                    if r.kind().is_membership() {
                        if let Some(members) = self.members.get_mut(r.target().as_str()) {
                            members.remove(r.source().as_str());
                        }
                    }
                    return Ok(());
                }
                if r.source() == r.target() {
                    return Err(Error::SelfRelationship(r.source().clone()));
                }
                self.kind(r.kind())?;
                if r.kind().is_membership() {
                    if let Some(members) = self.members.get_mut(r.target().as_str()) {
                        members.insert(r.source().as_str());
                    }
                }
            }
            Change::Claim(_) => {}
            Change::SetQuorum(group, quorum) => {
                self.ci_exists(group)?;
                let count = self.members.get(group.as_str()).map_or(0, HashSet::len);
                quorum.check(group, u32::try_from(count).unwrap_or(u32::MAX))?;
            }
        }
        Ok(())
    }

    fn kind(&mut self, kind: &'a RelationKind) -> Result<(), Error> {
        let topology = self.estate.cmdb.topology();
        if topology.kind_id(kind).is_some() {
            // Interned: checked when it was first used.
            return Ok(());
        }
        topology.check_kind(kind)?;
        if self.new_kinds.insert(kind) {
            topology.check_room(self.new_kinds.len())?;
        }
        if let RelationKind::Custom(custom) = kind {
            let given = custom.propagation();
            let existing = *self.custom.entry(custom.name()).or_insert(given);
            if existing != given {
                return Err(Error::ConflictingKind {
                    name: custom.name().to_owned(),
                    existing,
                    given,
                });
            }
        }
        Ok(())
    }
}

/// Both views of one resource; made by [`Estate::resource`] and
/// [`Estate::resources`]. At least one view is present.
#[derive(Debug, Clone, Copy)]
pub struct Resource<'a> {
    id: &'a ResourceId,
    asset: Option<&'a Asset>,
    ci: Option<&'a ConfigurationItem>,
}

impl<'a> Resource<'a> {
    /// The shared id.
    ///
    /// # Complexity
    ///
    /// O(1).
    #[must_use]
    pub fn id(&self) -> &'a ResourceId {
        self.id
    }

    /// The ITAM view, if the asset register has one.
    ///
    /// # Complexity
    ///
    /// O(1).
    #[must_use]
    pub fn asset(&self) -> Option<&'a Asset> {
        self.asset
    }

    /// The CMDB view, if the CMDB has one.
    ///
    /// # Complexity
    ///
    /// O(1).
    #[must_use]
    pub fn ci(&self) -> Option<&'a ConfigurationItem> {
        self.ci
    }
}

#[derive(Serialize)]
struct SnapshotRef<'a> {
    version: u32,
    assets: &'a AssetRegister,
    cmdb: &'a Cmdb,
    #[serde(skip_serializing_if = "Ownership::is_empty")]
    ownership: &'a Ownership,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Snapshot {
    version: u32,
    #[serde(default)]
    assets: AssetRegister,
    #[serde(default)]
    cmdb: Cmdb,
    #[serde(default)]
    ownership: Ownership,
}

impl Serialize for Estate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SnapshotRef {
            version: Self::SNAPSHOT_VERSION,
            assets: &self.assets,
            cmdb: &self.cmdb,
            ownership: &self.ownership,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Estate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let snapshot = Snapshot::deserialize(deserializer)?;
        if snapshot.version != Self::SNAPSHOT_VERSION {
            return Err(serde::de::Error::custom(Error::UnsupportedSnapshot {
                found: snapshot.version,
                supported: Self::SNAPSHOT_VERSION,
            }));
        }
        let estate = Self {
            assets: snapshot.assets,
            cmdb: snapshot.cmdb,
            ownership: snapshot.ownership,
        };
        estate
            .ownership
            .check(&estate)
            .map_err(serde::de::Error::custom)?;
        Ok(estate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AssetKind, CiClass};

    fn id(text: &str) -> ResourceId {
        ResourceId::new(text).unwrap()
    }

    fn asset(text: &str) -> Asset {
        Asset::builder(id(text), text, AssetKind::Hardware)
            .build()
            .unwrap()
    }

    fn ci(text: &str) -> ConfigurationItem {
        ConfigurationItem::builder(id(text), text, CiClass::Server)
            .build()
            .unwrap()
    }

    #[test]
    fn a_failed_batch_changes_nothing() {
        let mut estate = Estate::new();
        estate.insert_asset(asset("a")).unwrap();
        let before = estate.clone();
        let err = estate
            .commit(
                vec![
                    Change::InsertAsset(Box::new(asset("b"))),
                    Change::InsertCi(Box::new(ci("b"))),
                    Change::InsertAsset(Box::new(asset("a"))),
                ],
                None,
            )
            .unwrap_err();
        assert_eq!(err, Error::DuplicateAsset(id("a")));
        assert_eq!(estate, before);
    }

    #[test]
    fn a_batch_sees_its_own_earlier_changes() {
        let mut estate = Estate::new();
        estate
            .commit(
                vec![
                    Change::InsertCi(Box::new(ci("x"))),
                    Change::RemoveCi(id("x")),
                    Change::InsertCi(Box::new(ci("x"))),
                ],
                None,
            )
            .unwrap();
        assert_eq!(estate.cmdb().len(), 1);
        let err = estate
            .commit(
                vec![Change::RemoveCi(id("x")), Change::RemoveCi(id("x"))],
                None,
            )
            .unwrap_err();
        assert_eq!(err, Error::UnknownCi(id("x")));
        assert_eq!(estate.cmdb().len(), 1);
    }

    #[test]
    fn views_and_orphans() {
        let mut estate = Estate::new();
        estate.insert_asset(asset("both")).unwrap();
        estate.insert_ci(ci("both")).unwrap();
        estate.insert_asset(asset("licence")).unwrap();
        estate.insert_ci(ci("shadow")).unwrap();
        let orphans: Vec<_> = estate
            .assets_without_ci()
            .map(|a| a.id().as_str())
            .collect();
        assert_eq!(orphans, ["licence"]);
        let shadow: Vec<_> = estate
            .cis_without_asset()
            .map(|c| c.id().as_str())
            .collect();
        assert_eq!(shadow, ["shadow"]);
        let all: Vec<_> = estate
            .resources()
            .map(|r| (r.id().as_str(), r.asset().is_some(), r.ci().is_some()))
            .collect();
        assert_eq!(
            all,
            [
                ("both", true, true),
                ("licence", true, false),
                ("shadow", false, true)
            ]
        );
        assert!(estate.resource("nothing").is_none());
        assert_eq!(estate.resource("shadow").unwrap().id().as_str(), "shadow");
    }

    #[test]
    fn removing_one_view_keeps_the_other() {
        let mut estate = Estate::new();
        estate.insert_asset(asset("r")).unwrap();
        estate.insert_ci(ci("r")).unwrap();
        assert_eq!(estate.remove_ci(&id("r")).unwrap().id().as_str(), "r");
        assert!(estate.asset("r").is_some());
        assert_eq!(
            estate.remove_ci(&id("r")).unwrap_err(),
            Error::UnknownCi(id("r"))
        );
        assert_eq!(estate.remove_asset(&id("r")).unwrap().name(), "r");
        assert_eq!(
            estate.remove_asset(&id("r")).unwrap_err(),
            Error::UnknownAsset(id("r"))
        );
    }

    #[test]
    fn snapshot_version_is_checked() {
        let err = serde_json::from_str::<Estate>(r#"{"version":2}"#).unwrap_err();
        assert!(
            err.to_string().contains("unsupported snapshot version 2"),
            "{err}"
        );
        let empty: Estate = serde_json::from_str(r#"{"version":1}"#).unwrap();
        assert_eq!(empty, Estate::new());
    }
}
