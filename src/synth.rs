//! A seeded generator of realistic, layered estates of any size, for
//! benchmarks, demos and tests that need more than the [`sample`](crate::sample).
//!
//! ```
//! use itam_cmdb::synth::Generator;
//!
//! let estate = Generator::new(7).cis(2_000).build()?;
//! assert_eq!(estate.cmdb().len(), 2_000);
//! // Same seed, same options: the same estate, record for record.
//! assert_eq!(estate, Generator::new(7).cis(2_000).build()?);
//! # Ok::<(), itam_cmdb::Error>(())
//! ```
//!
//! # Determinism
//!
//! The generator uses its own pseudo-random number generator (xoshiro256\*\*
//! seeded through `SplitMix64`) and integer arithmetic only, and never reads
//! a clock, the environment or a hash map's iteration order. The same seed
//! and options give the same estate, down to the order of every record and
//! the bytes of its serialised snapshot, on every platform and every run.
//! A different seed gives a different estate of the same shape.
//!
//! # Shape
//!
//! The estate has a small block of **shared core services** in the first
//! region, and one **layered stack per region**, top to bottom:
//!
//! | layer | classes | share of CIs |
//! |---|---|---|
//! | business services | [`BusinessService`](CiClass::BusinessService) | 0.5% |
//! | application services | [`ApplicationService`](CiClass::ApplicationService) | 2% |
//! | applications | [`Application`](CiClass::Application) | 12% |
//! | application runtime and data | [`LoadBalancer`](CiClass::LoadBalancer), app server pools and database clusters ([`Cluster`](CiClass::Cluster)), [`Database`](CiClass::Database), [`Queue`](CiClass::Queue), [`Cache`](CiClass::Cache) | 13% |
//! | virtual | [`VirtualMachine`](CiClass::VirtualMachine), [`Container`](CiClass::Container), container clusters ([`Cluster`](CiClass::Cluster)) | 68% |
//! | hosts | [`Hypervisor`](CiClass::Hypervisor), bare-metal [`Server`](CiClass::Server) | 2.5% |
//! | physical | [`Rack`](CiClass::Rack), [`Power`](CiClass::Power) feeds and A/B feed groups ([`Cluster`](CiClass::Cluster)), [`NetworkDevice`](CiClass::NetworkDevice), network fabrics ([`Cluster`](CiClass::Cluster)), [`Storage`](CiClass::Storage) | 2% |
//!
//! The shares are those of a large estate; small estates keep at least one
//! of everything per region. The requested number of CIs is split evenly
//! between the regions (the first region also holds the core services). In
//! each region, roughly: one business service for every 4 application
//! services, 5 applications per application service (45% of them on a
//! pool of virtual machines, 55% in containers), 2 to 3 containers per
//! containerised application, about 25 virtual machines per hypervisor and
//! 10 hosts per rack.
//!
//! Every configuration item has a region, an environment (mostly
//! production; whole application services are staging or development), a
//! criticality, an operational status (about 95% operational, the rest in
//! maintenance, standby or retired), an owning team and one to three
//! attributes (virtual machines and hypervisors have an `os` and an integer
//! `cores`).
//!
//! # Identifiers
//!
//! Regional items are `<prefix>-<region code>-<number>`, the number counting
//! from 1 per prefix and region and padded to six digits:
//! `app-euw2-000123`, `vm-use1-004711`. The prefixes:
//!
//! | prefix | class | | prefix | class |
//! |---|---|---|---|---|
//! | `bs` | business service | | `ctr` | container |
//! | `as` | application service | | `k8s` | container cluster |
//! | `app` | application | | `vm` | virtual machine |
//! | `mon` | the region's monitoring collector (an application) | | `hv` | hypervisor |
//! | `lb` | load balancer | | `srv` | bare-metal server |
//! | `pool` | app server pool | | `rack` | rack |
//! | `dbc` | database cluster | | `feed` | A/B power feed group |
//! | `db` | database | | `pdu` | power feed |
//! | `mq` | queue | | `sw` | network device (top-of-rack and core switches) |
//! | `cache` | cache | | `fab` | network fabric (the core switch pair) |
//! | | | | `san` | storage array |
//!
//! The regions, in order, are `eu-west-2` (`euw2`), `eu-west-1` (`euw1`),
//! `us-east-1` (`use1`), `eu-central-1` (`euc1`), `us-west-2` (`usw2`),
//! `ap-southeast-1` (`apse1`), `ap-northeast-1` (`apne1`), `ca-central-1`
//! (`cac1`), `eu-north-1` (`eun1`), `sa-east-1` (`sae1`), `ap-south-1`
//! (`aps1`), `ap-southeast-2` (`apse2`), `us-east-2` (`use2`), `eu-west-3`
//! (`euw3`), `af-south-1` (`afs1`) and `me-south-1` (`mes1`).
//!
//! The core services have fixed ids: `core-dns` (a group of `core-dns-01`
//! to `core-dns-03`), `core-auth` (a group of `core-auth-01` to
//! `core-auth-04`), `core-db` (a database cluster of `core-db-01` to
//! `core-db-03`) and `core-san` (the central storage array). Licences are
//! `lic-<region code>-<number>`.
//!
//! # Relationships
//!
//! About four relationships per configuration item, each read "source
//! *kind* target"; the [`RelationKind`] table says which way failure travels.
//!
//! * business service `DependsOn` application service (a quarter of the
//!   application services serve two business services);
//! * application service `ComposedOf` application (a tenth of the
//!   applications are shared by two services), and application service
//!   `DependsOn` its load balancer;
//! * load balancer `DependsOn` the app server pools of its service's
//!   applications and the region's network fabric;
//! * application `RunsOn` its app server pool, or `RunsOn` each of its
//!   containers;
//! * application `DependsOn` databases or database clusters, queues, caches
//!   and earlier applications of its region, and the core services: every
//!   application depends on `core-dns`, 80% on `core-auth`, 8% on `core-db`
//!   and 12% on `core-san`;
//! * container `HostedOn` a virtual machine and `DependsOn` that machine's
//!   container cluster;
//! * database, queue, cache and monitoring collector `RunsOn` a virtual
//!   machine (a third of the databases `RunsOn` a bare-metal server);
//! * virtual machine `VirtualizedBy` a hypervisor and `DependsOn` a storage
//!   array;
//! * rack `Contains` hypervisors and servers; hypervisor and server
//!   `PoweredBy` their rack's feed group, `DependsOn` a storage array and
//!   `DependsOn` their rack's top-of-rack switch; rack `PoweredBy` its feed
//!   group;
//! * top-of-rack switch and storage array `DependsOn` the region's fabric;
//! * virtual machines, containers, hypervisors and servers
//!   `ConnectsTo(Never)` their region's monitoring collector (telemetry: it
//!   never propagates failure).
//!
//! The core services run on the first region's machines: their members
//! `RunsOn` its virtual machines and servers, `core-auth`'s members
//! `DependsOn` `core-dns` and `core-db`, the `core-db` nodes `DependsOn`
//! `core-san`, which `DependsOn` the first region's fabric. Failure of the
//! first region's fabric, of `core-san` or of `core-dns` therefore reaches
//! applications in every region: the highest-impact items have a blast
//! radius of a large share of the estate.
//!
//! # Redundancy groups
//!
//! Each group is a configuration item whose members are
//! [`MemberOf`](RelationKind::MemberOf) it, with a [`Quorum`]:
//!
//! * app server pools (`pool`): 2 or more virtual machines; 2 members need 1,
//!   3 need 2, 4 or more need [`Quorum::Percent(50)`](Quorum::Percent);
//! * container clusters (`k8s`): their worker virtual machines, 60%;
//! * database clusters (`dbc`): 2 nodes need 1, 3 nodes need 2;
//! * A/B power feed groups (`feed`): 2 power feeds, at least 1;
//! * network fabrics (`fab`): 2 core switches, at least 1;
//! * `core-dns` (1 of 3), `core-auth` (50% of 4), `core-db` (2 of 3).
//!
//! The layers above point downwards, and applications depend only on
//! applications generated before them, so without back-edges the graph has
//! no cycle. Back-edges add cycles: a database, database cluster, queue or
//! cache that `DependsOn` an application depending on it, or two
//! applications that `ConnectsTo(Both)` each other. Their number is
//! [`back_edge_per_mille`](Generator::back_edge_per_mille) per thousand of
//! the other relationships (at most: a repeated pick adds nothing).
//!
//! # Assets
//!
//! [`asset_percent`](Generator::asset_percent) percent of the
//! infrastructure items (virtual machines, hypervisors, servers, storage
//! arrays, network devices, racks, load balancers and databases) have an
//! asset with the same id; the other items of the estate have none. Physical
//! items are [`Hardware`](AssetKind::Hardware) with a purchase cost and a
//! warranty, virtual machines and load balancers
//! [`CloudResource`](AssetKind::CloudResource)s with a monthly cost and a
//! renewal date, databases [`Software`](AssetKind::Software) with a support
//! end. Every asset has a lifecycle (mostly in use, some in stock or
//! scheduled for retirement), an owner, a budget owner, one of eight cost
//! centers, its region as location, a purchase date and non-negative costs
//! in its region's currency (GBP in `eu-west-2`, EUR in the other European
//! regions, USD elsewhere). A few [`Licence`](AssetKind::Licence) assets
//! (`lic-…`, one per thousand CIs, at least four) have no configuration
//! item.
//!
//! # Cost
//!
//! A million CIs take a few seconds to generate in release mode and under
//! 1 GiB of memory at peak. The changes go through [`Estate::apply`] in
//! batches of at most 65,536 changes each, so that the changes waiting to
//! be applied never hold more than a few megabytes; the estate is returned
//! only when every batch was applied.

use std::fmt::Write as _;

use chrono::{Days, NaiveDate};

use crate::{
    Asset, AssetKind, Batch, CiClass, ConfigurationItem, Criticality, Currency, Environment, Error,
    Estate, Lifecycle, Money, OperationalStatus, Propagation, Quorum, Region, RelationKind,
    ResourceId,
};

/// Options for a generated estate, set builder-style; [`build`](Self::build)
/// generates it.
///
/// The setters take and return the options by value, and clamp what they
/// are given to the supported range, so every combination builds.
///
/// # Example
///
/// ```
/// use itam_cmdb::synth::Generator;
///
/// let options = Generator::new(42).cis(2_000).regions(2).asset_percent(50);
/// let estate = options.build()?;
/// assert_eq!(estate.cmdb().len(), 2_000);
/// let rels = estate.cmdb().relationship_count();
/// assert!((7_000..=9_000).contains(&rels), "{rels}");
/// assert!(estate.cmdb().groups().count() > 100);
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Generator {
    seed: u64,
    cis: usize,
    regions: u8,
    asset_percent: u8,
    back_edge_per_mille: u16,
}

impl Generator {
    /// The smallest estate generated: [`cis`](Self::cis) raises smaller
    /// counts to this one.
    pub const MIN_CIS: usize = 512;

    /// The largest estate generated: [`cis`](Self::cis) lowers larger counts
    /// to this one.
    pub const MAX_CIS: usize = 100_000_000;

    /// The default options with this seed: 10,000 CIs in 3 regions, assets
    /// for 60% of the infrastructure items, back-edges 5 per thousand
    /// relationships.
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::synth::Generator;
    ///
    /// assert_eq!(
    ///     Generator::new(1),
    ///     Generator::new(1).cis(10_000).regions(3).asset_percent(60).back_edge_per_mille(5),
    /// );
    /// ```
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            cis: 10_000,
            regions: 3,
            asset_percent: 60,
            back_edge_per_mille: 5,
        }
    }

    /// Sets the number of configuration items. The estate has exactly this
    /// many; counts below [`MIN_CIS`](Self::MIN_CIS) (512) are raised to it
    /// and counts above [`MAX_CIS`](Self::MAX_CIS) lowered to it.
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::synth::Generator;
    ///
    /// let estate = Generator::new(3).cis(2_001).build()?;
    /// assert_eq!(estate.cmdb().len(), 2_001);
    /// assert_eq!(Generator::new(3).cis(10), Generator::new(3).cis(Generator::MIN_CIS));
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    #[must_use]
    pub fn cis(mut self, count: usize) -> Self {
        self.cis = count.clamp(Self::MIN_CIS, Self::MAX_CIS);
        self
    }

    /// Sets the number of regions, 1 to 16; 0 is raised to 1 and larger
    /// counts lowered to 16. The regions are listed in the
    /// [module docs](self#identifiers).
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::synth::Generator;
    ///
    /// let estate = Generator::new(5).cis(2_000).regions(2).build()?;
    /// let in_region = |r: &str| {
    ///     estate.cmdb().iter().filter(|ci| ci.region().map(|x| x.as_str()) == Some(r)).count()
    /// };
    /// assert_eq!(in_region("eu-west-2") + in_region("eu-west-1"), 2_000);
    /// assert_eq!(Generator::new(5).regions(200), Generator::new(5).regions(16));
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    #[must_use]
    pub fn regions(mut self, count: u8) -> Self {
        self.regions = count.clamp(1, MAX_REGIONS);
        self
    }

    /// Sets the percentage of infrastructure items (virtual machines,
    /// hypervisors, servers, storage arrays, network devices, racks, load
    /// balancers, databases) that have an asset; above 100 is 100.
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::synth::Generator;
    ///
    /// let estate = Generator::new(9).cis(2_000).asset_percent(0).build()?;
    /// // Only the licences, which have no configuration item, are left.
    /// assert_eq!(estate.assets().len(), estate.assets_without_ci().count());
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    #[must_use]
    pub fn asset_percent(mut self, percent: u8) -> Self {
        self.asset_percent = percent.min(100);
        self
    }

    /// Sets the number of back-edges (relationships that close a cycle) per
    /// thousand of the other relationships; above 1000 is 1000.
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::synth::Generator;
    /// use itam_cmdb::{Propagation, RelationKind};
    ///
    /// let acyclic = Generator::new(2).cis(2_000).back_edge_per_mille(0).build()?;
    /// let both = RelationKind::ConnectsTo(Propagation::Both);
    /// assert!(acyclic.cmdb().relationships().all(|r| r.kind() != &both));
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    #[must_use]
    pub fn back_edge_per_mille(mut self, per_mille: u16) -> Self {
        self.back_edge_per_mille = per_mille.min(1000);
        self
    }

    /// Generates the estate these options describe; see the
    /// [module docs](self) for its shape.
    ///
    /// # Errors
    ///
    /// None in practice: every record is built through the crate's validating
    /// builders and written through [`Estate::apply`], and an error from
    /// either is returned as is rather than hidden.
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::synth::Generator;
    ///
    /// let estate = Generator::new(11).cis(2_000).build()?;
    /// let dns = estate.ci("core-dns").expect("every estate has core DNS");
    /// assert_eq!(dns.region().map(|r| r.as_str()), Some("eu-west-2"));
    /// assert!(estate.cmdb().members("core-dns").count() == 3);
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    pub fn build(&self) -> Result<Estate, Error> {
        let plan = Plan::generate(self);
        materialize(self, &plan)
    }
}

// ---------------------------------------------------------------------------
// Randomness
// ---------------------------------------------------------------------------

/// One `SplitMix64` step: advances `state` and returns the next output.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xoshiro256\*\* (Blackman and Vigna), seeded through `SplitMix64`.
#[derive(Debug, Clone)]
struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// An independent stream for `seed`: different `stream`s of one seed do
    /// not repeat each other.
    fn new(seed: u64, stream: u64) -> Self {
        let mut state = seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
        // SplitMix64 is a bijection of its state, so four consecutive outputs
        // are never all zero, the one state xoshiro must not start from.
        let s = [
            splitmix64(&mut state),
            splitmix64(&mut state),
            splitmix64(&mut state),
            splitmix64(&mut state),
        ];
        Self { s }
    }

    fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// A number in `0..n` (0 when `n` is 0), by multiply-and-shift: the same
    /// on 32- and 64-bit platforms.
    fn below(&mut self, n: usize) -> usize {
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        let wide = u128::from(self.next_u64()) * u128::from(n);
        usize::try_from(wide >> 64).unwrap_or(0)
    }

    /// A number in `0..n` as `u32`.
    fn below_u32(&mut self, n: u32) -> u32 {
        let wide = (self.next_u64() >> 32) * u64::from(n);
        u32::try_from(wide >> 32).unwrap_or(0)
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u32) -> bool {
        self.below_u32(100) < percent
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: i64, high: i64) -> i64 {
        let span = u64::try_from(high.saturating_sub(low)).unwrap_or(0);
        let wide = u128::from(self.next_u64()) * u128::from(span.saturating_add(1));
        low.saturating_add(i64::try_from(wide >> 64).unwrap_or(0))
    }

    /// An element of a non-empty slice (the first when `items` has one).
    fn pick<T: Copy>(&mut self, items: &[T], fallback: T) -> T {
        items
            .get(self.below(items.len()))
            .copied()
            .unwrap_or(fallback)
    }
}

// ---------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------

const MAX_REGIONS: u8 = 16;

/// A region: its name, the short code used in ids, and its currency.
struct RegionInfo {
    name: &'static str,
    code: &'static str,
    currency: Currency,
}

const REGIONS: [RegionInfo; MAX_REGIONS as usize] = [
    RegionInfo {
        name: "eu-west-2",
        code: "euw2",
        currency: Currency::GBP,
    },
    RegionInfo {
        name: "eu-west-1",
        code: "euw1",
        currency: Currency::EUR,
    },
    RegionInfo {
        name: "us-east-1",
        code: "use1",
        currency: Currency::USD,
    },
    RegionInfo {
        name: "eu-central-1",
        code: "euc1",
        currency: Currency::EUR,
    },
    RegionInfo {
        name: "us-west-2",
        code: "usw2",
        currency: Currency::USD,
    },
    RegionInfo {
        name: "ap-southeast-1",
        code: "apse1",
        currency: Currency::USD,
    },
    RegionInfo {
        name: "ap-northeast-1",
        code: "apne1",
        currency: Currency::USD,
    },
    RegionInfo {
        name: "ca-central-1",
        code: "cac1",
        currency: Currency::USD,
    },
    RegionInfo {
        name: "eu-north-1",
        code: "eun1",
        currency: Currency::EUR,
    },
    RegionInfo {
        name: "sa-east-1",
        code: "sae1",
        currency: Currency::USD,
    },
    RegionInfo {
        name: "ap-south-1",
        code: "aps1",
        currency: Currency::USD,
    },
    RegionInfo {
        name: "ap-southeast-2",
        code: "apse2",
        currency: Currency::USD,
    },
    RegionInfo {
        name: "us-east-2",
        code: "use2",
        currency: Currency::USD,
    },
    RegionInfo {
        name: "eu-west-3",
        code: "euw3",
        currency: Currency::EUR,
    },
    RegionInfo {
        name: "af-south-1",
        code: "afs1",
        currency: Currency::USD,
    },
    RegionInfo {
        name: "me-south-1",
        code: "mes1",
        currency: Currency::USD,
    },
];

fn region_info(region: u8) -> &'static RegionInfo {
    REGIONS.get(usize::from(region)).unwrap_or(&REGIONS[0])
}

/// What a generated item is: its class, id prefix and asset kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    BusinessService,
    AppService,
    Application,
    Monitor,
    LoadBalancer,
    Pool,
    DbCluster,
    Database,
    Queue,
    Cache,
    K8s,
    Container,
    Vm,
    Hypervisor,
    Server,
    Rack,
    FeedGroup,
    Power,
    Switch,
    Fabric,
    Storage,
    CoreDns,
    CoreDnsNode,
    CoreAuth,
    CoreAuthNode,
    CoreDb,
    CoreDbNode,
    CoreSan,
}

/// The number of roles.
const ROLES: usize = Role::CoreSan as usize + 1;

impl Role {
    fn class(self) -> CiClass {
        match self {
            Self::BusinessService => CiClass::BusinessService,
            Self::AppService => CiClass::ApplicationService,
            Self::Application | Self::Monitor | Self::CoreDnsNode | Self::CoreAuthNode => {
                CiClass::Application
            }
            Self::LoadBalancer => CiClass::LoadBalancer,
            Self::Pool
            | Self::DbCluster
            | Self::K8s
            | Self::FeedGroup
            | Self::Fabric
            | Self::CoreDns
            | Self::CoreAuth
            | Self::CoreDb => CiClass::Cluster,
            Self::Database | Self::CoreDbNode => CiClass::Database,
            Self::Queue => CiClass::Queue,
            Self::Cache => CiClass::Cache,
            Self::Container => CiClass::Container,
            Self::Vm => CiClass::VirtualMachine,
            Self::Hypervisor => CiClass::Hypervisor,
            Self::Server => CiClass::Server,
            Self::Rack => CiClass::Rack,
            Self::Power => CiClass::Power,
            Self::Switch => CiClass::NetworkDevice,
            Self::Storage | Self::CoreSan => CiClass::Storage,
        }
    }

    /// The id prefix of a regional item, or the fixed name of a core one.
    fn prefix(self) -> &'static str {
        match self {
            Self::BusinessService => "bs",
            Self::AppService => "as",
            Self::Application => "app",
            Self::Monitor => "mon",
            Self::LoadBalancer => "lb",
            Self::Pool => "pool",
            Self::DbCluster => "dbc",
            Self::Database => "db",
            Self::Queue => "mq",
            Self::Cache => "cache",
            Self::K8s => "k8s",
            Self::Container => "ctr",
            Self::Vm => "vm",
            Self::Hypervisor => "hv",
            Self::Server => "srv",
            Self::Rack => "rack",
            Self::FeedGroup => "feed",
            Self::Power => "pdu",
            Self::Switch => "sw",
            Self::Fabric => "fab",
            Self::Storage => "san",
            Self::CoreDns | Self::CoreDnsNode => "core-dns",
            Self::CoreAuth | Self::CoreAuthNode => "core-auth",
            Self::CoreDb | Self::CoreDbNode => "core-db",
            Self::CoreSan => "core-san",
        }
    }

    fn is_core(self) -> bool {
        matches!(
            self,
            Self::CoreDns
                | Self::CoreDnsNode
                | Self::CoreAuth
                | Self::CoreAuthNode
                | Self::CoreDb
                | Self::CoreDbNode
                | Self::CoreSan
        )
    }

    /// Whether the core item has a number (`core-dns-01`) or not (`core-dns`).
    fn is_core_member(self) -> bool {
        matches!(
            self,
            Self::CoreDnsNode | Self::CoreAuthNode | Self::CoreDbNode
        )
    }

    /// The kind of asset an infrastructure item has, or `None` for items
    /// that never have one.
    fn asset_kind(self) -> Option<AssetKind> {
        match self {
            Self::Hypervisor
            | Self::Server
            | Self::Rack
            | Self::Switch
            | Self::Storage
            | Self::CoreSan => Some(AssetKind::Hardware),
            Self::Vm | Self::LoadBalancer => Some(AssetKind::CloudResource),
            Self::Database | Self::CoreDbNode => Some(AssetKind::Software),
            _ => None,
        }
    }

    /// Whether the item is a data service an application may depend on.
    fn is_data(self) -> bool {
        matches!(
            self,
            Self::DbCluster | Self::Database | Self::Queue | Self::Cache
        )
    }

    /// The owning team.
    fn owner(self, rng: &mut Rng) -> &'static str {
        match self {
            Self::BusinessService
            | Self::AppService
            | Self::Application
            | Self::Pool
            | Self::Container => rng.pick(APP_TEAMS, APP_TEAMS[0]),
            Self::Monitor => "observability",
            Self::LoadBalancer | Self::Switch | Self::Fabric => "network-ops",
            Self::DbCluster | Self::Database | Self::CoreDb | Self::CoreDbNode => "dba",
            Self::Queue | Self::Cache => "middleware",
            Self::K8s => "container-platform",
            Self::Vm | Self::Hypervisor | Self::Server => "compute-platform",
            Self::Rack | Self::FeedGroup | Self::Power => "dc-ops",
            Self::Storage | Self::CoreSan => "storage-ops",
            Self::CoreDns | Self::CoreDnsNode | Self::CoreAuth | Self::CoreAuthNode => {
                "core-services"
            }
        }
    }
}

const APP_TEAMS: &[&str] = &[
    "team-payments",
    "team-checkout",
    "team-catalog",
    "team-search",
    "team-identity",
    "team-logistics",
    "team-billing",
    "team-crm",
    "team-analytics",
    "team-mobile",
    "team-pricing",
    "team-hr-systems",
];

const DOMAINS: &[&str] = &[
    "Payments",
    "Checkout",
    "Catalog",
    "Search",
    "Customer accounts",
    "Logistics",
    "Billing",
    "CRM",
    "Analytics",
    "Mobile",
    "Pricing",
    "Payroll",
];

const BUDGET_OWNERS: &[&str] = &[
    "Dana Whitfield",
    "Marcus Oyelaran",
    "Priya Raman",
    "Tomasz Nowak",
    "Elena Petrova",
    "James Okafor",
    "Sofia Lindqvist",
    "Hiro Tanaka",
];

const COST_CENTERS: &[&str] = &[
    "CC-1100", "CC-1200", "CC-2100", "CC-2200", "CC-3100", "CC-4410", "CC-5200", "CC-6100",
];

const VM_OS: &[&str] = &[
    "Ubuntu 24.04",
    "Ubuntu 22.04",
    "RHEL 9.4",
    "Windows Server 2022",
    "Debian 12",
];
const DB_ENGINES: &[&str] = &["postgres", "mysql", "sqlserver", "oracle"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Env {
    Production,
    Staging,
    Development,
}

impl Env {
    fn environment(self) -> Environment {
        match self {
            Self::Production => Environment::Production,
            Self::Staging => Environment::Staging,
            Self::Development => Environment::Development,
        }
    }

    /// Mostly production.
    fn draw(rng: &mut Rng) -> Self {
        match rng.below_u32(100) {
            0..=84 => Self::Production,
            85..=94 => Self::Staging,
            _ => Self::Development,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    DependsOn,
    RunsOn,
    HostedOn,
    VirtualizedBy,
    PoweredBy,
    ComposedOf,
    Contains,
    ConnectsBoth,
    ConnectsNever,
}

impl Kind {
    fn relation(self) -> RelationKind {
        match self {
            Self::DependsOn => RelationKind::DependsOn,
            Self::RunsOn => RelationKind::RunsOn,
            Self::HostedOn => RelationKind::HostedOn,
            Self::VirtualizedBy => RelationKind::VirtualizedBy,
            Self::PoweredBy => RelationKind::PoweredBy,
            Self::ComposedOf => RelationKind::ComposedOf,
            Self::Contains => RelationKind::Contains,
            Self::ConnectsBoth => RelationKind::ConnectsTo(Propagation::Both),
            Self::ConnectsNever => RelationKind::ConnectsTo(Propagation::Never),
        }
    }
}

// ---------------------------------------------------------------------------
// The plan: the estate's shape as plain integers
// ---------------------------------------------------------------------------

/// One planned item.
#[derive(Debug, Clone, Copy)]
struct Node {
    role: Role,
    region: u8,
    env: Env,
    /// Counts from 1 per role and region.
    number: u32,
}

#[derive(Debug, Clone, Copy)]
struct Edge {
    source: u32,
    target: u32,
    kind: Kind,
}

#[derive(Debug, Clone, Copy)]
struct Group {
    node: u32,
    quorum: Quorum,
    /// The members are `members[start..start + len]`.
    start: u32,
    len: u32,
}

/// A run of consecutive planned items of one role.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn at(self, i: usize) -> u32 {
        self.start + to_u32(i)
    }

    fn len(self) -> usize {
        self.len as usize
    }

    /// A random item of the span.
    fn pick(self, rng: &mut Rng) -> u32 {
        self.start + rng.below_u32(self.len)
    }

    /// The sub-span `range` of this span.
    fn slice(self, range: std::ops::Range<usize>) -> Self {
        Self {
            start: self.at(range.start),
            len: to_u32(range.len()),
        }
    }

    fn iter(self) -> impl Iterator<Item = u32> {
        self.start..self.start + self.len
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The items of part `q` when `n` items are split into `m` near-equal
/// consecutive parts (`n >= m >= 1`): every part is non-empty.
fn part(q: usize, n: usize, m: usize) -> std::ops::Range<usize> {
    (q * n).div_ceil(m)..((q + 1) * n).div_ceil(m)
}

/// The part item `i` falls in, of `n` items split into `m` parts.
fn part_of(i: usize, n: usize, m: usize) -> usize {
    i * m / n
}

/// The shared core services, planned first.
#[derive(Debug, Clone, Copy, Default)]
struct Core {
    dns: u32,
    dns_nodes: Span,
    auth: u32,
    auth_nodes: Span,
    db: u32,
    db_nodes: Span,
    san: u32,
}

/// What the rest of the plan needs to know about a planned region.
#[derive(Debug, Clone, Copy, Default)]
struct RegionPlan {
    apps: Span,
    data_vms: Span,
    servers: Span,
    fabric: u32,
}

/// How many items of each role a region of `budget` items has.
#[derive(Debug, Clone, Copy)]
struct Counts {
    business: usize,
    services: usize,
    apps: usize,
    vm_apps: usize,
    db_clusters: usize,
    db_clustered: usize,
    db_single: usize,
    queues: usize,
    caches: usize,
    k8s: usize,
    containers: usize,
    workers: usize,
    data_vms: usize,
    pool_vms: usize,
    hypervisors: usize,
    servers: usize,
    racks: usize,
    storage: usize,
}

/// Items every region has whatever its size: the fabric, its two core
/// switches and the monitoring collector.
const REGION_FIXED: usize = 4;

impl Counts {
    fn for_budget(budget: usize) -> Self {
        let per_mille = |pm: usize, min: usize| (budget * pm / 1000).max(min);
        let services = per_mille(26, 1);
        let apps = per_mille(130, 2).max(services);
        let vm_apps = (apps * 45 / 100).max(1);
        let ctr_apps = apps - vm_apps;
        let db_clusters = per_mille(10, 1);
        let db_clustered = 2 * db_clusters + db_clusters / 2;
        let db_single = per_mille(8, 1);
        let queues = per_mille(9, 1);
        let caches = per_mille(9, 1);
        let k8s = per_mille(2, 1);
        let containers = per_mille(340, 1).max(ctr_apps);
        let workers = (containers / 8).max(k8s);
        let db_nodes = db_clustered + db_single;
        let on_vms = queues + caches + db_nodes - db_nodes / 3 + 1;
        let data_vms = (on_vms / 2).max(1);
        let servers = per_mille(6, 1);
        let hypervisors = per_mille(15, 1);
        let racks = (hypervisors + servers).div_ceil(10);
        let mut counts = Self {
            business: per_mille(6, 1).min(services),
            services,
            apps,
            vm_apps,
            db_clusters,
            db_clustered,
            db_single,
            queues,
            caches,
            k8s,
            containers,
            workers,
            data_vms,
            pool_vms: 2 * vm_apps,
            hypervisors,
            servers,
            racks,
            storage: (budget / 2000).max(1),
        };
        // Whatever the ratios leave goes to the app server pools (or, in a
        // region too small for the minimum, comes out of the containers).
        let total = counts.total();
        if total <= budget {
            counts.pool_vms += budget - total;
        } else {
            counts.containers -= (total - budget).min(counts.containers - ctr_apps);
        }
        counts
    }

    fn total(&self) -> usize {
        REGION_FIXED
            + self.business
            + 2 * self.services
            + self.apps
            + self.vm_apps
            + self.db_clusters
            + self.db_clustered
            + self.db_single
            + self.queues
            + self.caches
            + self.k8s
            + self.containers
            + self.workers
            + self.data_vms
            + self.pool_vms
            + self.hypervisors
            + self.servers
            + 5 * self.racks
            + self.storage
    }
}

/// The core block's size: `core-dns` and 3 members, `core-auth` and 4,
/// `core-db` and 3, `core-san`.
const CORE_ITEMS: usize = 14;

/// The whole estate as integers; [`materialize`] turns it into records.
#[derive(Debug, Default)]
struct Plan {
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    groups: Vec<Group>,
    members: Vec<u32>,
    /// The number of relationships before back-edges.
    forward: usize,
    /// The last number given to each role in each region.
    numbers: Vec<u32>,
}

impl Plan {
    fn generate(options: &Generator) -> Self {
        let mut rng = Rng::new(options.seed, 1);
        let mut plan = Self {
            nodes: Vec::with_capacity(options.cis),
            edges: Vec::with_capacity(options.cis / 100 * 410 + 1024),
            groups: Vec::with_capacity(options.cis / 100 * 7 + 64),
            members: Vec::with_capacity(options.cis / 100 * 37 + 256),
            forward: 0,
            numbers: vec![0; ROLES * usize::from(MAX_REGIONS)],
        };
        let core = plan.core_nodes();
        let regions = usize::from(options.regions);
        let rest = options.cis - CORE_ITEMS;
        let mut planned = Vec::with_capacity(regions);
        for r in 0..regions {
            let budget = rest / regions + usize::from(r < rest % regions);
            let region = u8::try_from(r).unwrap_or(0);
            planned.push(plan.region(&mut rng, region, budget, &core));
        }
        if let Some(first) = planned.first() {
            plan.core_edges(&mut rng, &core, first);
        }
        plan.forward = plan.edges.len();
        plan.back_edges(&mut rng, &planned, options.back_edge_per_mille);
        plan
    }

    fn block(&mut self, role: Role, region: u8, count: usize, env: Env) -> Span {
        let start = to_u32(self.nodes.len());
        let slot = role as usize * usize::from(MAX_REGIONS) + usize::from(region);
        let first = self.numbers.get(slot).copied().unwrap_or(0);
        if let Some(last) = self.numbers.get_mut(slot) {
            *last += to_u32(count);
        }
        self.nodes
            .extend((first + 1..=first + to_u32(count)).map(|number| Node {
                role,
                region,
                env,
                number,
            }));
        Span {
            start,
            len: to_u32(count),
        }
    }

    fn one(&mut self, role: Role, region: u8) -> u32 {
        self.block(role, region, 1, Env::Production).start
    }

    fn edge(&mut self, source: u32, kind: Kind, target: u32) {
        self.edges.push(Edge {
            source,
            target,
            kind,
        });
    }

    fn group(&mut self, node: u32, quorum: Quorum, members: impl IntoIterator<Item = u32>) {
        let start = to_u32(self.members.len());
        self.members.extend(members);
        let len = to_u32(self.members.len()) - start;
        self.groups.push(Group {
            node,
            quorum,
            start,
            len,
        });
    }

    fn role(&self, node: u32) -> Option<Role> {
        self.nodes.get(node as usize).map(|n| n.role)
    }

    fn core_nodes(&mut self) -> Core {
        let dns = self.one(Role::CoreDns, 0);
        let dns_nodes = self.block(Role::CoreDnsNode, 0, 3, Env::Production);
        let auth = self.one(Role::CoreAuth, 0);
        let auth_nodes = self.block(Role::CoreAuthNode, 0, 4, Env::Production);
        let db = self.one(Role::CoreDb, 0);
        let db_nodes = self.block(Role::CoreDbNode, 0, 3, Env::Production);
        let san = self.one(Role::CoreSan, 0);
        self.group(dns, Quorum::AtLeast(1), dns_nodes.iter());
        self.group(auth, Quorum::Percent(50), auth_nodes.iter());
        self.group(db, Quorum::AtLeast(2), db_nodes.iter());
        Core {
            dns,
            dns_nodes,
            auth,
            auth_nodes,
            db,
            db_nodes,
            san,
        }
    }

    /// The core services run on the first region's machines.
    fn core_edges(&mut self, rng: &mut Rng, core: &Core, first: &RegionPlan) {
        for node in core.dns_nodes.iter() {
            self.edge(node, Kind::RunsOn, first.data_vms.pick(rng));
        }
        for node in core.auth_nodes.iter() {
            self.edge(node, Kind::RunsOn, first.data_vms.pick(rng));
            self.edge(node, Kind::DependsOn, core.db);
            self.edge(node, Kind::DependsOn, core.dns);
        }
        for node in core.db_nodes.iter() {
            self.edge(node, Kind::RunsOn, first.servers.pick(rng));
            self.edge(node, Kind::DependsOn, core.san);
        }
        self.edge(core.san, Kind::DependsOn, first.fabric);
    }

    /// Plans one region's stack of `budget` items.
    fn region(&mut self, rng: &mut Rng, region: u8, budget: usize, core: &Core) -> RegionPlan {
        let counts = Counts::for_budget(budget);
        let physical = self.physical(region, &counts);
        let virt = self.virtual_layer(rng, region, &counts, &physical);
        let apps = self.applications(rng, region, &counts, &virt, core);
        RegionPlan {
            apps,
            data_vms: virt.data_vms,
            servers: physical.servers,
            fabric: physical.fabric,
        }
    }

    /// Racks, power, network, storage and hosts.
    fn physical(&mut self, region: u8, c: &Counts) -> Physical {
        let prod = Env::Production;
        let fabric = self.one(Role::Fabric, region);
        let core_switches = self.block(Role::Switch, region, 2, prod);
        let storage = self.block(Role::Storage, region, c.storage, prod);
        let racks = self.block(Role::Rack, region, c.racks, prod);
        let feeds = self.block(Role::FeedGroup, region, c.racks, prod);
        let power = self.block(Role::Power, region, 2 * c.racks, prod);
        let tors = self.block(Role::Switch, region, c.racks, prod);
        let hypervisors = self.block(Role::Hypervisor, region, c.hypervisors, prod);
        let servers = self.block(Role::Server, region, c.servers, prod);
        let monitor = self.one(Role::Monitor, region);

        self.group(fabric, Quorum::AtLeast(1), core_switches.iter());
        for s in storage.iter() {
            self.edge(s, Kind::DependsOn, fabric);
        }
        for r in 0..racks.len() {
            let (rack, feed, tor) = (racks.at(r), feeds.at(r), tors.at(r));
            self.group(
                feed,
                Quorum::AtLeast(1),
                [power.at(2 * r), power.at(2 * r + 1)],
            );
            self.edge(rack, Kind::PoweredBy, feed);
            self.edge(tor, Kind::DependsOn, fabric);
        }
        let hosts = c.hypervisors + c.servers;
        for h in 0..hosts {
            let host = if h < c.hypervisors {
                hypervisors.at(h)
            } else {
                servers.at(h - c.hypervisors)
            };
            let r = part_of(h, hosts, c.racks);
            self.edge(racks.at(r), Kind::Contains, host);
            self.edge(host, Kind::PoweredBy, feeds.at(r));
            self.edge(host, Kind::DependsOn, storage.at(h % storage.len()));
            self.edge(host, Kind::DependsOn, tors.at(r));
            self.edge(host, Kind::ConnectsNever, monitor);
        }
        Physical {
            fabric,
            storage,
            hypervisors,
            servers,
            monitor,
        }
    }

    /// Virtual machines, container clusters, containers and the data
    /// services that run on them.
    fn virtual_layer(&mut self, rng: &mut Rng, region: u8, c: &Counts, p: &Physical) -> Virtual {
        let prod = Env::Production;
        let vms = self.block(Role::Vm, region, c.pool_vms + c.workers + c.data_vms, prod);
        let pool_vms = vms.slice(0..c.pool_vms);
        let workers = vms.slice(c.pool_vms..c.pool_vms + c.workers);
        let data_vms = vms.slice(c.pool_vms + c.workers..vms.len());
        let k8s = self.block(Role::K8s, region, c.k8s, prod);
        let db_clusters = self.block(Role::DbCluster, region, c.db_clusters, prod);
        let dbs = self.block(Role::Database, region, c.db_clustered + c.db_single, prod);
        let queues = self.block(Role::Queue, region, c.queues, prod);
        let caches = self.block(Role::Cache, region, c.caches, prod);
        for n in dbs.iter().chain(queues.iter()).chain(caches.iter()) {
            if rng.chance(10) {
                self.nodes[n as usize].env = Env::Staging;
            }
        }

        for vm in vms.iter() {
            let h = p.hypervisors.pick(rng);
            self.edge(vm, Kind::VirtualizedBy, h);
            let s = (h - p.hypervisors.start) as usize % p.storage.len();
            self.edge(vm, Kind::DependsOn, p.storage.at(s));
            self.edge(vm, Kind::ConnectsNever, p.monitor);
        }
        for q in 0..c.k8s {
            let members = workers.slice(part(q, c.workers, c.k8s));
            self.group(k8s.at(q), Quorum::Percent(60), members.iter());
        }
        // Database clusters of 2 and 3 nodes, then single databases.
        let mut next = 0;
        for d in 0..c.db_clusters {
            let size = 2 + d % 2;
            let quorum = Quorum::AtLeast(to_u32(size - 1));
            self.group(
                db_clusters.at(d),
                quorum,
                dbs.slice(next..next + size).iter(),
            );
            next += size;
        }
        for (i, db) in dbs.iter().enumerate() {
            let host = if i % 3 == 2 {
                p.servers.pick(rng)
            } else {
                data_vms.pick(rng)
            };
            self.edge(db, Kind::RunsOn, host);
        }
        for service in queues.iter().chain(caches.iter()) {
            self.edge(service, Kind::RunsOn, data_vms.pick(rng));
        }
        self.edge(p.monitor, Kind::RunsOn, data_vms.at(0));
        Virtual {
            fabric: p.fabric,
            monitor: p.monitor,
            pool_vms,
            workers,
            data_vms,
            k8s,
            db_clusters,
            db_single: dbs.slice(c.db_clustered..dbs.len()),
            queues,
            caches,
        }
    }

    /// Business services, application services, load balancers,
    /// applications, pools and containers.
    fn applications(
        &mut self,
        rng: &mut Rng,
        region: u8,
        c: &Counts,
        v: &Virtual,
        core: &Core,
    ) -> Span {
        let prod = Env::Production;
        let business = self.block(Role::BusinessService, region, c.business, prod);
        let services = self.block(Role::AppService, region, c.services, prod);
        let lbs = self.block(Role::LoadBalancer, region, c.services, prod);
        let apps = self.block(Role::Application, region, c.apps, prod);
        let pools = self.block(Role::Pool, region, c.vm_apps, prod);
        let containers = self.block(Role::Container, region, c.containers, prod);

        // Business services depend on application services.
        for s in 0..c.services {
            let env = Env::draw(rng);
            self.nodes[services.at(s) as usize].env = env;
            self.nodes[lbs.at(s) as usize].env = env;
            let primary = part_of(s, c.services, c.business);
            self.edge(business.at(primary), Kind::DependsOn, services.at(s));
            if c.business > 1 && rng.chance(25) {
                let other = (primary + 1 + rng.below(c.business - 1)) % c.business;
                self.edge(business.at(other), Kind::DependsOn, services.at(s));
            }
            self.edge(services.at(s), Kind::DependsOn, lbs.at(s));
            self.edge(lbs.at(s), Kind::DependsOn, v.fabric);
        }
        let ctr_apps = c.apps - c.vm_apps;
        let (mut pool_i, mut ctr_i) = (0, 0);
        for a in 0..c.apps {
            let app = apps.at(a);
            let s = part_of(a, c.apps, c.services);
            let env = self.nodes[services.at(s) as usize].env;
            self.nodes[app as usize].env = env;
            self.edge(services.at(s), Kind::ComposedOf, app);
            if c.services > 1 && rng.chance(10) {
                let other = (s + 1 + rng.below(c.services - 1)) % c.services;
                self.edge(services.at(other), Kind::ComposedOf, app);
            }
            // Spread the VM-based applications evenly among the others.
            let on_vms = pool_i < c.vm_apps && (a + 1) * c.vm_apps / c.apps > pool_i;
            if on_vms {
                let pool = pools.at(pool_i);
                self.nodes[pool as usize].env = env;
                let members = pool_vms_of(pool_i, c, v.pool_vms);
                for vm in members.iter() {
                    self.nodes[vm as usize].env = env;
                }
                self.group(pool, pool_quorum(members.len), members.iter());
                self.edge(app, Kind::RunsOn, pool);
                self.edge(lbs.at(s), Kind::DependsOn, pool);
                pool_i += 1;
            } else {
                let cluster = v.k8s.at(ctr_i % c.k8s);
                let workers = v.workers.slice(part(ctr_i % c.k8s, c.workers, c.k8s));
                for ctr in containers.slice(part(ctr_i, c.containers, ctr_apps)).iter() {
                    self.nodes[ctr as usize].env = env;
                    self.edge(app, Kind::RunsOn, ctr);
                    self.edge(ctr, Kind::HostedOn, workers.pick(rng));
                    self.edge(ctr, Kind::DependsOn, cluster);
                    self.edge(ctr, Kind::ConnectsNever, v.monitor);
                }
                ctr_i += 1;
            }
            self.app_dependencies(rng, (app, a), (apps, lbs), v, core);
        }
        apps
    }

    /// What one application depends on: data services, earlier
    /// applications of its region, and the core services.
    fn app_dependencies(
        &mut self,
        rng: &mut Rng,
        (app, a): (u32, usize),
        (apps, lbs): (Span, Span),
        v: &Virtual,
        core: &Core,
    ) {
        let stores = v.db_clusters.len() + v.db_single.len();
        let store = |i: usize| {
            if i < v.db_clusters.len() {
                v.db_clusters.at(i)
            } else {
                v.db_single.at(i - v.db_clusters.len())
            }
        };
        if rng.chance(80) {
            let first = rng.below(stores);
            self.edge(app, Kind::DependsOn, store(first));
            if stores > 1 && rng.chance(30) {
                let second = (first + 1 + rng.below(stores - 1)) % stores;
                self.edge(app, Kind::DependsOn, store(second));
            }
        }
        if rng.chance(45) {
            self.edge(app, Kind::DependsOn, v.queues.pick(rng));
        }
        if rng.chance(45) {
            self.edge(app, Kind::DependsOn, v.caches.pick(rng));
        }
        if rng.chance(50) {
            // A call through another service's load balancer.
            self.edge(app, Kind::DependsOn, lbs.pick(rng));
        }
        for _ in 0..3 {
            if a > 0 && rng.chance(35) {
                let earlier = apps.at(rng.below(a));
                self.edge(app, Kind::DependsOn, earlier);
            }
        }
        self.edge(app, Kind::ConnectsNever, v.monitor);
        self.edge(app, Kind::DependsOn, core.dns);
        if rng.chance(80) {
            self.edge(app, Kind::DependsOn, core.auth);
        }
        if rng.chance(8) {
            self.edge(app, Kind::DependsOn, core.db);
        }
        if rng.chance(12) {
            self.edge(app, Kind::DependsOn, core.san);
        }
    }

    /// Back-edges: `per_mille` per thousand forward relationships, each
    /// closing a cycle through an application.
    fn back_edges(&mut self, rng: &mut Rng, regions: &[RegionPlan], per_mille: u16) {
        let wanted = self.forward * usize::from(per_mille) / 1000;
        let mut added = 0;
        let mut tries = 0;
        while added < wanted && tries < wanted * 64 && self.forward > 0 {
            tries += 1;
            let Some(edge) = self.edges.get(rng.below(self.forward)).copied() else {
                break;
            };
            if edge.kind != Kind::DependsOn || self.role(edge.source) != Some(Role::Application) {
                continue;
            }
            let target = self.role(edge.target);
            if rng.chance(50) {
                if target.is_some_and(Role::is_data) {
                    // The data service calls back into an application that
                    // uses it.
                    self.edge(edge.target, Kind::DependsOn, edge.source);
                    added += 1;
                }
            } else {
                let region = self.nodes[edge.source as usize].region;
                let Some(apps) = regions.get(usize::from(region)).map(|r| r.apps) else {
                    continue;
                };
                let other = apps.pick(rng);
                if other != edge.source {
                    self.edge(edge.source, Kind::ConnectsBoth, other);
                    added += 1;
                }
            }
        }
    }
}

/// The VMs of app server pool `i`: two each, and the region's remaining
/// VMs spread evenly over the pools.
fn pool_vms_of(i: usize, c: &Counts, pool_vms: Span) -> Span {
    pool_vms.slice(part(i, c.pool_vms, c.vm_apps))
}

fn pool_quorum(members: u32) -> Quorum {
    match members {
        0..=2 => Quorum::AtLeast(1),
        3 => Quorum::AtLeast(2),
        _ => Quorum::Percent(50),
    }
}

#[derive(Debug, Clone, Copy)]
struct Physical {
    fabric: u32,
    storage: Span,
    hypervisors: Span,
    servers: Span,
    monitor: u32,
}

#[derive(Debug, Clone, Copy)]
struct Virtual {
    fabric: u32,
    monitor: u32,
    pool_vms: Span,
    workers: Span,
    data_vms: Span,
    k8s: Span,
    db_clusters: Span,
    db_single: Span,
    queues: Span,
    caches: Span,
}

// ---------------------------------------------------------------------------
// Materialisation: the plan as records, written through `Estate::apply`
// ---------------------------------------------------------------------------

/// The most changes a batch holds before it is applied. A change is about
/// 300 bytes (the size of an [`Asset`]), so a batch stays under 20 MB.
const BATCH_CHANGES: usize = 1 << 16;

/// Applies changes to the estate in bounded batches.
struct Writer {
    estate: Estate,
    batch: Batch,
}

impl Writer {
    fn flush_if_full(&mut self) -> Result<(), Error> {
        if self.batch.len() >= BATCH_CHANGES {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Error> {
        if !self.batch.is_empty() {
            self.estate.apply(std::mem::take(&mut self.batch))?;
        }
        Ok(())
    }
}

fn materialize(options: &Generator, plan: &Plan) -> Result<Estate, Error> {
    let regions: Vec<Region> = (0..options.regions)
        .map(|r| Region::new(region_info(r).name))
        .collect::<Result<_, _>>()?;
    let mut ids = Vec::with_capacity(plan.nodes.len());
    let mut text = String::with_capacity(32);
    for node in &plan.nodes {
        write_id(&mut text, *node);
        ids.push(ResourceId::new(&text)?);
    }
    let mut out = Writer {
        estate: Estate::new(),
        batch: Batch::new(),
    };
    let mut rng = Rng::new(options.seed, 2);
    for (node, id) in plan.nodes.iter().zip(&ids) {
        let region = regions.get(usize::from(node.region)).cloned();
        out.batch
            .insert_ci(configuration_item(&mut rng, *node, id, region)?);
        out.flush_if_full()?;
    }
    let mut rng = Rng::new(options.seed, 3);
    for (node, id) in plan.nodes.iter().zip(&ids) {
        let Some(kind) = node.role.asset_kind() else {
            continue;
        };
        if !rng.chance(u32::from(options.asset_percent)) {
            continue;
        }
        out.batch.insert_asset(asset(&mut rng, *node, id, &kind)?);
        out.flush_if_full()?;
    }
    licences(&mut out, &mut rng, options, &mut text)?;
    for group in &plan.groups {
        let start = group.start as usize;
        let members = plan
            .members
            .get(start..start + group.len as usize)
            .unwrap_or(&[])
            .iter()
            .map(|m| ids[*m as usize].clone());
        out.batch
            .define_group(ids[group.node as usize].clone(), group.quorum, members);
        out.flush_if_full()?;
    }
    for edge in &plan.edges {
        out.batch.relate(
            ids[edge.source as usize].clone(),
            edge.kind.relation(),
            ids[edge.target as usize].clone(),
        );
        out.flush_if_full()?;
    }
    out.flush()?;
    Ok(out.estate)
}

fn write_id(text: &mut String, node: Node) {
    text.clear();
    let prefix = node.role.prefix();
    // Writing to a `String` cannot fail.
    let _ = if node.role.is_core() {
        if node.role.is_core_member() {
            write!(text, "{prefix}-{:02}", node.number)
        } else {
            write!(text, "{prefix}")
        }
    } else {
        let code = region_info(node.region).code;
        write!(text, "{prefix}-{code}-{:06}", node.number)
    };
}

fn configuration_item(
    rng: &mut Rng,
    node: Node,
    id: &ResourceId,
    region: Option<Region>,
) -> Result<ConfigurationItem, Error> {
    let role = node.role;
    let name = match role {
        Role::BusinessService => {
            let domain = DOMAINS[node.number as usize % DOMAINS.len()];
            format!("{domain} {}", node.number)
        }
        Role::AppService => {
            let domain = DOMAINS[node.number as usize % DOMAINS.len()];
            format!("{domain} service {}", node.number)
        }
        _ => id.as_str().to_owned(),
    };
    let status = match rng.below_u32(100) {
        0..=94 => OperationalStatus::Operational,
        95 | 96 => OperationalStatus::InMaintenance,
        97 | 98 => OperationalStatus::Standby,
        _ => OperationalStatus::Retired,
    };
    let mut builder = ConfigurationItem::builder(id.clone(), name, role.class())
        .status(status)
        .environment(node.env.environment())
        .criticality(criticality(rng, role, node.env))
        .owner(role.owner(rng));
    if let Some(region) = region {
        builder = builder.region(region);
    }
    builder = match role {
        Role::Vm => builder
            .attribute("os", rng.pick(VM_OS, VM_OS[0]))
            .attribute("cores", rng.pick(&[2_i64, 4, 8, 16], 4)),
        Role::Hypervisor => builder
            .attribute("os", "ESXi 8.0")
            .attribute("cores", rng.pick(&[64_i64, 96, 128], 64)),
        Role::Server => builder.attribute("cores", rng.pick(&[32_i64, 64], 32)),
        Role::Database | Role::CoreDbNode => {
            builder.attribute("engine", rng.pick(DB_ENGINES, "postgres"))
        }
        Role::Container => builder.attribute("replica", rng.between(0, 9)),
        Role::Application | Role::CoreDnsNode | Role::CoreAuthNode | Role::Monitor => builder
            .attribute(
                "version",
                format!(
                    "{}.{}.{}",
                    rng.between(1, 9),
                    rng.between(0, 30),
                    rng.between(0, 9)
                ),
            ),
        Role::Storage | Role::CoreSan => builder.attribute("capacity_tib", rng.between(100, 2000)),
        Role::Switch => builder.attribute("ports", rng.pick(&[48_i64, 64], 48)),
        Role::Rack => builder.attribute("units", 42_i64),
        Role::Power => builder.attribute("amps", 32_i64),
        _ => builder.attribute("tier", rng.between(1, 3)),
    };
    builder.build()
}

fn criticality(rng: &mut Rng, role: Role, env: Env) -> Criticality {
    if env != Env::Production {
        return Criticality::Low;
    }
    match role {
        _ if role.is_core() => Criticality::MissionCritical,
        Role::BusinessService => {
            if rng.chance(50) {
                Criticality::MissionCritical
            } else {
                Criticality::High
            }
        }
        Role::Fabric
        | Role::Storage
        | Role::FeedGroup
        | Role::Rack
        | Role::Power
        | Role::Switch => Criticality::High,
        Role::Container | Role::Vm => {
            if rng.chance(30) {
                Criticality::Medium
            } else {
                Criticality::Low
            }
        }
        _ => match rng.below_u32(10) {
            0..=1 => Criticality::Low,
            2..=5 => Criticality::Medium,
            6..=8 => Criticality::High,
            _ => Criticality::MissionCritical,
        },
    }
}

/// 2018-01-01, the earliest purchase date.
const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(2018, 1, 1) {
    Some(date) => date,
    None => NaiveDate::MIN,
};

/// The day `days` after [`EPOCH`]. Offsets stay within a few decades, so
/// the sum always exists.
fn day(days: i64) -> NaiveDate {
    let days = u64::try_from(days).unwrap_or(0);
    EPOCH.checked_add_days(Days::new(days)).unwrap_or(EPOCH)
}

fn lifecycle(rng: &mut Rng) -> Lifecycle {
    match rng.below_u32(100) {
        0..=91 => Lifecycle::InUse,
        92..=96 => Lifecycle::ScheduledForRetirement,
        _ => Lifecycle::InStock,
    }
}

fn asset(rng: &mut Rng, node: Node, id: &ResourceId, kind: &AssetKind) -> Result<Asset, Error> {
    let region = region_info(node.region);
    let currency = region.currency;
    let money = |minor: i64| Money::from_minor(minor, currency);
    let bought = rng.between(0, 2900);
    let (name, purchase, monthly) = match node.role {
        Role::Hypervisor => (
            "hypervisor host",
            rng.between(800_000, 2_500_000),
            rng.between(5_000, 30_000),
        ),
        Role::Server => (
            "bare-metal server",
            rng.between(500_000, 2_000_000),
            rng.between(4_000, 25_000),
        ),
        Role::Rack => (
            "rack",
            rng.between(150_000, 400_000),
            rng.between(20_000, 60_000),
        ),
        Role::Switch => (
            "network switch",
            rng.between(300_000, 3_000_000),
            rng.between(2_000, 20_000),
        ),
        Role::Storage | Role::CoreSan => (
            "storage array",
            rng.between(5_000_000, 40_000_000),
            rng.between(50_000, 300_000),
        ),
        Role::Vm => ("cloud virtual machine", 0, rng.between(2_000, 80_000)),
        Role::LoadBalancer => ("cloud load balancer", 0, rng.between(1_500, 30_000)),
        _ => (
            "database licence",
            rng.between(0, 2_000_000),
            rng.between(0, 50_000),
        ),
    };
    let mut builder = Asset::builder(id.clone(), name, kind.clone())
        .lifecycle(lifecycle(rng))
        .owner(node.role.owner(rng))
        .budget_owner(rng.pick(BUDGET_OWNERS, BUDGET_OWNERS[0]))
        .cost_center(rng.pick(COST_CENTERS, COST_CENTERS[0]))
        .location(region.name)
        .purchase_date(day(bought))
        .purchase_cost(money(purchase))
        .monthly_cost(money(monthly));
    builder = match kind {
        AssetKind::CloudResource => builder.renewal_date(day(bought + 365 * rng.between(1, 3))),
        AssetKind::Software => builder.support_end(day(bought + 1826)),
        _ => builder.warranty_end(day(bought + if rng.chance(50) { 1095 } else { 1826 })),
    };
    builder.build()
}

/// Licences with no configuration item: one per thousand CIs, at least
/// four, spread over the regions.
fn licences(
    out: &mut Writer,
    rng: &mut Rng,
    options: &Generator,
    text: &mut String,
) -> Result<(), Error> {
    let count = (options.cis / 1000).max(4);
    let regions = usize::from(options.regions);
    for i in 0..count {
        let region = region_info(u8::try_from(i % regions).unwrap_or(0));
        text.clear();
        let _ = write!(text, "lic-{}-{:06}", region.code, i / regions + 1);
        let bought = rng.between(0, 2900);
        let money = |minor: i64| Money::from_minor(minor, region.currency);
        let licence = Asset::builder(
            ResourceId::new(&*text)?,
            "software licence",
            AssetKind::Licence,
        )
        .owner(rng.pick(APP_TEAMS, APP_TEAMS[0]))
        .budget_owner(rng.pick(BUDGET_OWNERS, BUDGET_OWNERS[0]))
        .cost_center(rng.pick(COST_CENTERS, COST_CENTERS[0]))
        .location(region.name)
        .purchase_date(day(bought))
        .purchase_cost(money(rng.between(100_000, 5_000_000)))
        .monthly_cost(money(0))
        .renewal_date(day(bought + 365))
        .attribute("seats", rng.between(10, 500))
        .build()?;
        out.batch.insert_asset(licence);
        out.flush_if_full()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::{ImpactQuery, ImpactState};

    fn small(seed: u64) -> Estate {
        Generator::new(seed).cis(3_000).build().unwrap()
    }

    #[test]
    fn exact_counts_for_every_size_and_region_count() {
        for (cis, regions) in [(512, 1), (777, 3), (2_001, 2), (5_000, 4), (4_099, 16)] {
            let estate = Generator::new(4).cis(cis).regions(regions).build().unwrap();
            assert_eq!(estate.cmdb().len(), cis, "{cis} CIs in {regions} regions");
            let used: BTreeSet<&str> = estate
                .cmdb()
                .iter()
                .filter_map(|ci| ci.region().map(Region::as_str))
                .collect();
            assert_eq!(used.len(), usize::from(regions));
            assert!(estate.cmdb().iter().all(|ci| ci.region().is_some()));
        }
    }

    #[test]
    fn same_seed_same_estate_down_to_the_snapshot() {
        let a = small(17);
        let b = small(17);
        assert_eq!(a, b);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        assert_ne!(a, small(18));
    }

    #[test]
    fn about_four_relationships_per_ci() {
        let estate = Generator::new(5).cis(20_000).build().unwrap();
        let per_ci = estate.cmdb().relationship_count() * 100 / estate.cmdb().len();
        assert!((350..=450).contains(&per_ci), "{per_ci} per hundred CIs");
    }

    #[test]
    fn every_group_can_meet_its_quorum_and_has_members() {
        let estate = small(6);
        let cmdb = estate.cmdb();
        let mut groups = 0;
        for (group, quorum) in cmdb.groups() {
            let members = u32::try_from(cmdb.members(group).count()).unwrap();
            assert!(members >= 2, "{group} has {members} members");
            let needed = quorum.needed(members);
            assert!(
                (1..=members).contains(&needed),
                "{group}: {quorum:?} of {members}"
            );
            groups += 1;
        }
        assert!(groups > 50, "{groups} groups");
        assert_eq!(cmdb.quorum("core-dns"), Some(Quorum::AtLeast(1)));
    }

    #[test]
    fn back_edges_make_cycles_and_none_make_none() {
        let acyclic = Generator::new(8)
            .cis(3_000)
            .back_edge_per_mille(0)
            .build()
            .unwrap();
        assert!(acyclic.cmdb().cycles().is_empty());
        let cyclic = Generator::new(8)
            .cis(3_000)
            .back_edge_per_mille(20)
            .build()
            .unwrap();
        assert!(!cyclic.cmdb().cycles().is_empty());
    }

    #[test]
    fn asset_share_follows_the_option() {
        let none = Generator::new(9)
            .cis(2_000)
            .asset_percent(0)
            .build()
            .unwrap();
        assert!(
            none.assets()
                .iter()
                .all(|a| a.kind() == &AssetKind::Licence)
        );
        assert!(none.assets().len() >= 4);

        let all = Generator::new(9)
            .cis(2_000)
            .asset_percent(100)
            .build()
            .unwrap();
        let infrastructure = all
            .cmdb()
            .iter()
            .filter(|ci| {
                matches!(
                    ci.class(),
                    CiClass::VirtualMachine
                        | CiClass::Hypervisor
                        | CiClass::Server
                        | CiClass::Storage
                        | CiClass::NetworkDevice
                        | CiClass::Rack
                        | CiClass::LoadBalancer
                        | CiClass::Database
                )
            })
            .count();
        let paired = all
            .resources()
            .filter(|r| r.asset().is_some() && r.ci().is_some());
        assert_eq!(paired.count(), infrastructure);
        for asset in all.assets() {
            let cost = asset.monthly_cost().unwrap();
            assert!(!cost.amount().is_sign_negative(), "{}", asset.id());
        }
    }

    #[test]
    fn core_dns_failure_reaches_every_region() {
        let estate = Generator::new(10).cis(4_000).regions(3).build().unwrap();
        let cmdb = estate.cmdb();
        // One DNS node is absorbed by its group; all three take it down.
        let one = cmdb
            .blast_radius(ResourceId::new("core-dns-01").unwrap())
            .unwrap();
        assert_eq!(
            one.get("core-dns").map(|i| i.state()),
            Some(ImpactState::Degraded)
        );
        let all = ImpactQuery::scenario(
            ["core-dns-01", "core-dns-02", "core-dns-03"].map(|id| ResourceId::new(id).unwrap()),
        );
        let impact = cmdb.blast_radius(all).unwrap();
        let regions: BTreeSet<&str> = impact
            .down()
            .filter_map(|item| item.ci())
            .filter(|ci| ci.class() == &CiClass::BusinessService)
            .filter_map(|ci| ci.region().map(Region::as_str))
            .collect();
        assert_eq!(regions.len(), 3, "{regions:?}");
    }

    #[test]
    fn identifiers_follow_the_documented_pattern() {
        let estate = small(11);
        for ci in estate.cmdb() {
            let id = ci.id().as_str();
            let parts: Vec<&str> = id.split('-').collect();
            if id.starts_with("core-") {
                assert!(parts.len() <= 3, "{id}");
            } else {
                assert_eq!(parts.len(), 3, "{id}");
                assert_eq!(parts[2].len(), 6, "{id}");
                assert!(parts[2].bytes().all(|b| b.is_ascii_digit()), "{id}");
            }
        }
        assert!(estate.ci("app-euw2-000001").is_some());
        assert!(estate.ci("vm-use1-000001").is_some());
    }
}
