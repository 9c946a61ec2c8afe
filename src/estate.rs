//! [`Estate`]: both registers, and the one write path into them.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Asset, AssetRegister, Cmdb, ConfigurationItem, Error, ResourceId};

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
}

/// One change to an estate. Every public write is expressed as a list of
/// changes and goes through [`Estate::commit`].
#[derive(Debug, Clone)]
enum Change {
    InsertAsset(Asset),
    InsertCi(ConfigurationItem),
    RemoveAsset(ResourceId),
    RemoveCi(ResourceId),
}

/// What one applied [`Change`] gave back.
#[derive(Debug)]
enum Applied {
    Inserted,
    RemovedAsset(Asset),
    RemovedCi(ConfigurationItem),
}

impl Estate {
    /// The version of the snapshot format this build reads and writes.
    pub const SNAPSHOT_VERSION: u32 = 1;

    /// An empty estate.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The asset register (the ITAM view).
    #[must_use]
    pub fn assets(&self) -> &AssetRegister {
        &self.assets
    }

    /// The CMDB (the CMDB view).
    #[must_use]
    pub fn cmdb(&self) -> &Cmdb {
        &self.cmdb
    }

    /// The asset with this id.
    #[must_use]
    pub fn asset<Q: AsRef<str> + ?Sized>(&self, id: &Q) -> Option<&Asset> {
        self.assets.get(id)
    }

    /// The configuration item with this id.
    #[must_use]
    pub fn ci<Q: AsRef<str> + ?Sized>(&self, id: &Q) -> Option<&ConfigurationItem> {
        self.cmdb.get(id)
    }

    /// Both views of one resource, or `None` when neither register knows
    /// the id.
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
    pub fn assets_without_ci(&self) -> impl Iterator<Item = &Asset> {
        self.assets
            .iter()
            .filter(|asset| !self.cmdb.contains(asset.id().as_str()))
    }

    /// Configuration items with no asset of the same id (shadow IT,
    /// ungoverned discoveries), in CMDB order.
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
    pub fn insert_asset(&mut self, asset: Asset) -> Result<(), Error> {
        self.commit(vec![Change::InsertAsset(asset)]).map(drop)
    }

    /// Adds a configuration item to the CMDB.
    ///
    /// # Errors
    ///
    /// [`Error::DuplicateCi`] if an item with the same id is recorded; the
    /// estate is unchanged.
    pub fn insert_ci(&mut self, ci: ConfigurationItem) -> Result<(), Error> {
        self.commit(vec![Change::InsertCi(ci)]).map(drop)
    }

    /// Removes an asset and returns it. The configuration item with the same
    /// id, if any, stays.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownAsset`] if no asset has this id.
    pub fn remove_asset(&mut self, id: &ResourceId) -> Result<Asset, Error> {
        match self.commit(vec![Change::RemoveAsset(id.clone())])?.pop() {
            Some(Applied::RemovedAsset(asset)) => Ok(asset),
            _ => Err(Error::UnknownAsset(id.clone())),
        }
    }

    /// Removes a configuration item and returns it. The asset with the same
    /// id, if any, stays.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownCi`] if no item has this id.
    pub fn remove_ci(&mut self, id: &ResourceId) -> Result<ConfigurationItem, Error> {
        match self.commit(vec![Change::RemoveCi(id.clone())])?.pop() {
            Some(Applied::RemovedCi(ci)) => Ok(ci),
            _ => Err(Error::UnknownCi(id.clone())),
        }
    }

    /// Validates `changes` as a whole against the current state (taking
    /// earlier changes of the same list into account), then applies them all.
    /// On any error nothing is applied.
    fn commit(&mut self, changes: Vec<Change>) -> Result<Vec<Applied>, Error> {
        self.validate(&changes)?;
        Ok(changes
            .into_iter()
            .map(|change| self.apply_checked(change))
            .collect())
    }

    fn validate(&self, changes: &[Change]) -> Result<(), Error> {
        // Presence of (asset, ci) per id as earlier changes of the batch leave it.
        let mut overlay: HashMap<&str, (bool, bool)> = HashMap::new();
        for change in changes {
            let id = match change {
                Change::InsertAsset(asset) => asset.id(),
                Change::InsertCi(ci) => ci.id(),
                Change::RemoveAsset(id) | Change::RemoveCi(id) => id,
            };
            let state = overlay.entry(id.as_str()).or_insert_with(|| {
                (
                    self.assets.contains(id.as_str()),
                    self.cmdb.contains(id.as_str()),
                )
            });
            match change {
                Change::InsertAsset(_) if state.0 => return Err(Error::DuplicateAsset(id.clone())),
                Change::InsertCi(_) if state.1 => return Err(Error::DuplicateCi(id.clone())),
                Change::RemoveAsset(_) if !state.0 => return Err(Error::UnknownAsset(id.clone())),
                Change::RemoveCi(_) if !state.1 => return Err(Error::UnknownCi(id.clone())),
                Change::InsertAsset(_) | Change::RemoveAsset(_) => state.0 = !state.0,
                Change::InsertCi(_) | Change::RemoveCi(_) => state.1 = !state.1,
            }
        }
        Ok(())
    }

    /// Applies one change that [`validate`](Self::validate) accepted.
    fn apply_checked(&mut self, change: Change) -> Applied {
        match change {
            Change::InsertAsset(asset) => {
                self.assets.0.insert_new(asset);
                Applied::Inserted
            }
            Change::InsertCi(ci) => {
                self.cmdb.items.insert_new(ci);
                Applied::Inserted
            }
            Change::RemoveAsset(id) => self
                .assets
                .0
                .remove(id.as_str())
                .map_or(Applied::Inserted, Applied::RemovedAsset),
            Change::RemoveCi(id) => self
                .cmdb
                .items
                .remove(id.as_str())
                .map_or(Applied::Inserted, Applied::RemovedCi),
        }
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
    #[must_use]
    pub fn id(&self) -> &'a ResourceId {
        self.id
    }

    /// The ITAM view, if the asset register has one.
    #[must_use]
    pub fn asset(&self) -> Option<&'a Asset> {
        self.asset
    }

    /// The CMDB view, if the CMDB has one.
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
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Snapshot {
    version: u32,
    #[serde(default)]
    assets: AssetRegister,
    #[serde(default)]
    cmdb: Cmdb,
}

impl Serialize for Estate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SnapshotRef {
            version: Self::SNAPSHOT_VERSION,
            assets: &self.assets,
            cmdb: &self.cmdb,
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
        Ok(Self {
            assets: snapshot.assets,
            cmdb: snapshot.cmdb,
        })
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
            .commit(vec![
                Change::InsertAsset(asset("b")),
                Change::InsertCi(ci("b")),
                Change::InsertAsset(asset("a")),
            ])
            .unwrap_err();
        assert_eq!(err, Error::DuplicateAsset(id("a")));
        assert_eq!(estate, before);
    }

    #[test]
    fn a_batch_sees_its_own_earlier_changes() {
        let mut estate = Estate::new();
        estate
            .commit(vec![
                Change::InsertCi(ci("x")),
                Change::RemoveCi(id("x")),
                Change::InsertCi(ci("x")),
            ])
            .unwrap();
        assert_eq!(estate.cmdb().len(), 1);
        let err = estate
            .commit(vec![Change::RemoveCi(id("x")), Change::RemoveCi(id("x"))])
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
