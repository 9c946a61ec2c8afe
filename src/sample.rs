//! The built-in sample estate: the domain's canonical story, small enough to
//! read in one sitting.
//!
//! # The story
//!
//! A retailer runs its **Payments** business service
//! ([`PAYMENT_SERVICE`]) on the `payment-api` application
//! ([`PAYMENT_API`]), deployed on an Azure virtual machine in `eu-west-2`
//! ([`PAYMENT_VM`]) behind a load balancer ([`PAYMENT_LB`]). The API talks to
//! two databases: the payments database ([`PAYMENTS_DB`]) and the ledger
//! ([`LEDGER_DB`]). The payment VM is both an asset (Dana Whitfield holds its
//! budget; it costs 412.30 GBP a month and renews on 2027-01-15) and a
//! configuration item (a `Standard_D8s_v5` running Ubuntu 24.04).
//!
//! The **Checkout** business service ([`CHECKOUT_SERVICE`]) runs in two
//! regions: one checkout application in `eu-west-2` ([`CHECKOUT_EU_WEST_2`])
//! and one in `eu-west-1` ([`CHECKOUT_EU_WEST_1`]), each on its own VM. The
//! two form a redundancy group ([`CHECKOUT_POOL`]) that needs one of them:
//! losing one region only degrades checkout. Or so the architects think:
//! both regional applications use the Payments service, which runs only in
//! `eu-west-2`.
//!
//! Under everything sits **shared infrastructure**: DNS ([`DNS`]), an
//! authentication service ([`AUTH`]), a storage array ([`STORAGE_ARRAY`]) and
//! two hypervisors in the London data centre ([`HYPERVISOR_1`],
//! [`HYPERVISOR_2`]) that host the database VMs (`vm-db-01`, `vm-db-02`).
//! Auth depends on DNS, and DNS uses auth for its dynamic updates: a real
//! dependency cycle.
//!
//! # The dependency graph
//!
//! Read each line "a kind b"; failure travels from b to a.
//!
//! ```text
//! svc-payments      depends on      lb-pay-euw2
//! lb-pay-euw2       depends on      app-payment-api
//! app-payment-api   runs on         vm-pay-01
//! app-payment-api   depends on      db-payments, db-ledger, svc-auth, svc-dns
//! db-payments       runs on         vm-db-01   virtualized by  hv-lon-01  depends on  san-lon-01
//! db-ledger         runs on         vm-db-02   virtualized by  hv-lon-02  depends on  san-lon-01
//! svc-checkout      depends on      pool-checkout (needs 1 of 2 members up)
//! app-checkout-euw2 member of pool-checkout; runs on vm-chk-euw2-01; uses svc-payments; depends on svc-auth
//! app-checkout-euw1 member of pool-checkout; runs on vm-chk-euw1-01; uses svc-payments; depends on svc-auth
//! svc-auth          depends on      svc-dns
//! svc-dns           uses            svc-auth
//! ```
//!
//! Three records are the reasons to keep both views:
//!
//! * **A workload decommissioned in March.** The old reporting VM
//!   ([`DECOMMISSIONED_VM`]) was retired in the CMDB on 2026-03-12, but its
//!   asset is still *in use* and still billed, and the reporting suite's
//!   licence ([`REPORTING_LICENCE`], 40,000 USD a year, renewing 2027-02-01)
//!   is still active.
//! * **Shadow IT.** A discovery scan found a VM ([`SHADOW_VM`]) that no one
//!   registered as an asset: it is a configuration item without an asset,
//!   and it runs the endpoint protection agent, which was licensed for two
//!   other VMs.
//! * **Stock.** A new laptop ([`STOCK_LAPTOP`]) sits in stock: an asset
//!   without a configuration item.
//!
//! # The finance records
//!
//! Contracts and licence entitlements are not records of the estate; the
//! finance questions take them as arguments, and the sample keeps its own:
//!
//! * [`contracts`]: Dell hardware support for both hypervisors
//!   ([`SUPPORT_CONTRACT`]), 12 months from 2026-03-01, renewing
//!   automatically every year unless notice is given three months before a
//!   term ends; Priya Raman is the one to tell. The first term ends on
//!   2027-02-28, the day the hypervisors' warranty ends, and its notice
//!   deadline is 2026-11-28.
//! * [`entitlements`]: two licence entitlements.
//!   * The reporting suite's ([`REPORTING_ENTITLEMENT`]): 16 cores licensed
//!     per core from 2024-02-01 to 2027-01-31 for 40,000 USD, owned by
//!     Marta Lindqvist. The CMDB records the suite installed
//!     (`installed:Reporting Suite`, the convention of [`LicenceRules`])
//!     only on the VM retired in March, and a retired item consumes
//!     nothing: all 16 cores are paid for and none is used.
//!   * The endpoint protection agent's ([`ENDPOINT_ENTITLEMENT`], product
//!     [`ENDPOINT_PROTECTION`]): 2 devices licensed per device from
//!     2025-07-01 to 2028-06-30 for 2,400 GBP, owned by the security team.
//!     The agent was bought for the payments VM and the checkout VM in
//!     `eu-west-2`, but the CMDB records it installed on three live VMs:
//!     those two and the shadow VM. Three devices use two licences, a
//!     shortfall of one. Installs are covered in id order, so `vm-7f3a9c`
//!     and `vm-chk-euw2-01` are covered and the payments VM is the one left
//!     unlicensed, although the install no one planned for is the shadow
//!     VM's.
//!
//! The estate is deterministic: every call returns an equal estate, with the
//! records in the same order.
//!
//! # Example
//!
//! ```
//! use itam_cmdb::{sample, Lifecycle, OperationalStatus};
//!
//! let estate = sample::estate();
//! let old = estate.resource(sample::DECOMMISSIONED_VM).unwrap();
//! assert_eq!(old.ci().unwrap().status(), OperationalStatus::Retired);
//! assert_eq!(old.asset().unwrap().lifecycle(), Lifecycle::InUse);
//! ```

use chrono::NaiveDate;

use crate::finance::{
    Contract, Entitlement, LicenceMetric, LicenceQuantity, LicenceRules, NoticePeriod, Renewal,
};
use crate::{
    Asset, AssetKind, Batch, CiClass, ConfigurationItem, ConfigurationItemBuilder, Criticality,
    Environment, Error, Estate, Lifecycle, Money, OperationalStatus, Quorum, Region, RelationKind,
    ResourceId,
};

/// The Payments business service.
pub const PAYMENT_SERVICE: &str = "svc-payments";
/// The `payment-api` application behind Payments.
pub const PAYMENT_API: &str = "app-payment-api";
/// The Azure VM in `eu-west-2` that runs `payment-api`: both an asset and a CI.
pub const PAYMENT_VM: &str = "vm-pay-01";
/// The load balancer in front of `payment-api`.
pub const PAYMENT_LB: &str = "lb-pay-euw2";
/// The payments database.
pub const PAYMENTS_DB: &str = "db-payments";
/// The ledger database.
pub const LEDGER_DB: &str = "db-ledger";
/// The Checkout business service.
pub const CHECKOUT_SERVICE: &str = "svc-checkout";
/// The checkout application in `eu-west-2`.
pub const CHECKOUT_EU_WEST_2: &str = "app-checkout-euw2";
/// The checkout application in `eu-west-1`.
pub const CHECKOUT_EU_WEST_1: &str = "app-checkout-euw1";
/// The redundancy group of the two regional checkout applications (one of
/// two must be up).
pub const CHECKOUT_POOL: &str = "pool-checkout";
/// Shared DNS.
pub const DNS: &str = "svc-dns";
/// The shared authentication service.
pub const AUTH: &str = "svc-auth";
/// The shared storage array.
pub const STORAGE_ARRAY: &str = "san-lon-01";
/// The first London hypervisor.
pub const HYPERVISOR_1: &str = "hv-lon-01";
/// The second London hypervisor.
pub const HYPERVISOR_2: &str = "hv-lon-02";
/// The reporting VM retired in the CMDB in March, still in use as an asset.
pub const DECOMMISSIONED_VM: &str = "vm-rpt-01";
/// The reporting suite's licence, still active.
pub const REPORTING_LICENCE: &str = "lic-rpt-suite";
/// A discovered VM with no asset record.
pub const SHADOW_VM: &str = "vm-7f3a9c";
/// A laptop in stock, with no configuration item.
pub const STOCK_LAPTOP: &str = "SN-5CG1234XYZ";
/// The Dell support contract for both hypervisors; see [`contracts`].
pub const SUPPORT_CONTRACT: &str = "ctr-dell-prosupport";
/// The reporting suite's licence entitlement; see [`entitlements`].
pub const REPORTING_ENTITLEMENT: &str = "ent-rpt-suite";
/// The product name of the reporting suite, as entitlements and install
/// attributes spell it.
pub const REPORTING_SUITE: &str = "Reporting Suite";
/// The endpoint protection agent's licence entitlement; see
/// [`entitlements`].
pub const ENDPOINT_ENTITLEMENT: &str = "ent-endpoint";
/// The product name of the endpoint protection agent, as entitlements and
/// install attributes spell it.
pub const ENDPOINT_PROTECTION: &str = "Endpoint Protection";

/// Builds the sample estate described in the [module docs](self).
///
/// # Panics
///
/// Never: the sample is constant data, and a unit test builds it.
#[must_use]
pub fn estate() -> Estate {
    constant(build())
}

/// The sample's contracts, described in the [module docs](self#the-finance-records):
/// Dell hardware support for both hypervisors.
///
/// # Panics
///
/// Never: the data is constant, and a unit test builds it.
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use itam_cmdb::sample;
///
/// let contracts = sample::contracts();
/// let support = &contracts[0];
/// assert_eq!(support.id().as_str(), sample::SUPPORT_CONTRACT);
/// assert!(support.covers(sample::HYPERVISOR_1) && support.covers(sample::HYPERVISOR_2));
/// assert_eq!(support.owner(), Some("Priya Raman"));
/// let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
/// assert_eq!(support.notice_deadline(today), NaiveDate::from_ymd_opt(2026, 11, 28));
/// assert_eq!(support.term_end(today), NaiveDate::from_ymd_opt(2027, 2, 28));
/// ```
#[must_use]
pub fn contracts() -> Vec<Contract> {
    constant(build_contracts())
}

/// The sample's licence entitlements, described in the [module
/// docs](self#the-finance-records): the reporting suite's 16 cores, and two
/// devices of the endpoint protection agent.
///
/// # Panics
///
/// Never: the data is constant, and a unit test builds it.
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use itam_cmdb::finance::{self, LicenceQuantity, LicenceRules};
/// use itam_cmdb::sample;
///
/// let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
/// let entitlements = sample::entitlements();
/// let ids: Vec<_> = entitlements.iter().map(|e| e.id().as_str()).collect();
/// assert_eq!(ids, [sample::REPORTING_ENTITLEMENT, sample::ENDPOINT_ENTITLEMENT]);
/// let positions = finance::compliance(
///     &sample::estate(), &entitlements, &[], &LicenceRules::default(), today,
/// )?;
/// // Positions come sorted by product name.
/// let (agent, suite) = (&positions[0], &positions[1]);
///
/// // Three live VMs run the agent, licensed for two: one is left over.
/// assert_eq!(agent.product(), sample::ENDPOINT_PROTECTION);
/// assert_eq!((agent.owned(), agent.used()), (LicenceQuantity::Limited(2), 3));
/// assert_eq!(agent.shortfall(), 1);
/// let unlicensed: Vec<_> = agent.unlicensed().map(|c| c.id().as_str()).collect();
/// assert_eq!(unlicensed, [sample::PAYMENT_VM]);
///
/// // Installed only on the retired reporting VM: paid for, not used.
/// assert_eq!(suite.product(), sample::REPORTING_SUITE);
/// assert_eq!((suite.owned(), suite.used()), (LicenceQuantity::Limited(16), 0));
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[must_use]
pub fn entitlements() -> Vec<Entitlement> {
    constant(build_entitlements())
}

/// Unwraps the sample's constant data: the crate's only `expect`.
///
/// Every builder it is given (`build`, `build_contracts`,
/// `build_entitlements`) takes no input and builds the same constant
/// records on every call, and the unit tests build each one, so the error
/// arm cannot be reached by any caller. Failing loudly here is deliberate:
/// a sample that silently came back empty would be worse.
#[track_caller]
fn constant<T>(built: Result<T, Error>) -> T {
    // Cannot fire: the input is constant, and the unit tests
    // `the_sample_builds_and_is_deterministic` and
    // `the_finance_records_build_and_are_deterministic` build every builder
    // passed here.
    built.expect("the built-in sample data is valid")
}

fn build_contracts() -> Result<Vec<Contract>, Error> {
    let support = Contract::builder(
        id(SUPPORT_CONTRACT)?,
        "ProSupport for hv-lon-01 and hv-lon-02",
        "Dell",
        date("2026-03-01")?,
        12,
    )
    .resources([id(HYPERVISOR_1)?, id(HYPERVISOR_2)?])
    .renewal(Renewal::Automatic { term_months: 12 })
    .notice(NoticePeriod::Months(3))
    .owner("Priya Raman")
    .build()?;
    Ok(vec![support])
}

fn build_entitlements() -> Result<Vec<Entitlement>, Error> {
    let reporting = Entitlement::builder(
        id(REPORTING_ENTITLEMENT)?,
        REPORTING_SUITE,
        LicenceMetric::PerCore,
        LicenceQuantity::Limited(16),
        date("2024-02-01")?,
    )
    .end(date("2027-01-31")?)
    .cost(money("40000.00 USD")?)
    .owner("Marta Lindqvist")
    .build()?;
    let endpoint = Entitlement::builder(
        id(ENDPOINT_ENTITLEMENT)?,
        ENDPOINT_PROTECTION,
        LicenceMetric::PerDevice,
        LicenceQuantity::Limited(2),
        date("2025-07-01")?,
    )
    .end(date("2028-06-30")?)
    .cost(money("2400.00 GBP")?)
    .owner("security team")
    .build()?;
    Ok(vec![reporting, endpoint])
}

fn build() -> Result<Estate, Error> {
    let mut batch = Batch::new();
    for ci in items()? {
        batch.insert_ci(ci);
    }
    for asset in assets()? {
        batch.insert_asset(asset);
    }
    relationships(&mut batch)?;
    let mut estate = Estate::new();
    estate.apply(batch)?;
    Ok(estate)
}

/// The dependency graph of the story, read "a kind b".
fn relationships(batch: &mut Batch) -> Result<(), Error> {
    use RelationKind::{DependsOn, RunsOn, Uses, VirtualizedBy};
    let table = [
        (PAYMENT_SERVICE, DependsOn, PAYMENT_LB),
        (PAYMENT_LB, DependsOn, PAYMENT_API),
        (PAYMENT_API, RunsOn, PAYMENT_VM),
        (PAYMENT_API, DependsOn, PAYMENTS_DB),
        (PAYMENT_API, DependsOn, LEDGER_DB),
        (PAYMENT_API, DependsOn, AUTH),
        (PAYMENT_API, DependsOn, DNS),
        (PAYMENTS_DB, RunsOn, "vm-db-01"),
        (LEDGER_DB, RunsOn, "vm-db-02"),
        ("vm-db-01", VirtualizedBy, HYPERVISOR_1),
        ("vm-db-02", VirtualizedBy, HYPERVISOR_2),
        (HYPERVISOR_1, DependsOn, STORAGE_ARRAY),
        (HYPERVISOR_2, DependsOn, STORAGE_ARRAY),
        (CHECKOUT_SERVICE, DependsOn, CHECKOUT_POOL),
        (CHECKOUT_EU_WEST_2, RunsOn, "vm-chk-euw2-01"),
        (CHECKOUT_EU_WEST_1, RunsOn, "vm-chk-euw1-01"),
        (CHECKOUT_EU_WEST_2, Uses, PAYMENT_SERVICE),
        (CHECKOUT_EU_WEST_1, Uses, PAYMENT_SERVICE),
        (CHECKOUT_EU_WEST_2, DependsOn, AUTH),
        (CHECKOUT_EU_WEST_1, DependsOn, AUTH),
        (AUTH, DependsOn, DNS),
        // A real cycle: DNS takes its dynamic updates through auth.
        (DNS, Uses, AUTH),
    ];
    for (source, kind, target) in table {
        batch.relate(id(source)?, kind, id(target)?);
    }
    batch.define_group(
        id(CHECKOUT_POOL)?,
        Quorum::AtLeast(1),
        [id(CHECKOUT_EU_WEST_2)?, id(CHECKOUT_EU_WEST_1)?],
    );
    Ok(())
}

fn id(text: &str) -> Result<ResourceId, Error> {
    ResourceId::new(text)
}

fn date(text: &str) -> Result<NaiveDate, Error> {
    text.parse().map_err(|_| Error::Parse {
        what: "date",
        input: text.to_owned(),
        reason: "expected yyyy-mm-dd".to_owned(),
    })
}

fn money(text: &str) -> Result<Money, Error> {
    text.parse()
}

/// The attribute key that records `product` installed, by the default
/// convention of [`LicenceRules`].
fn install(product: &str) -> String {
    format!("{}{product}", LicenceRules::DEFAULT_INSTALL_PREFIX)
}

/// One configuration item in production, with its region and criticality.
fn ci(
    text: &str,
    name: &str,
    class: CiClass,
    region: &str,
    criticality: Criticality,
) -> Result<ConfigurationItemBuilder, Error> {
    Ok(global(text, name, class, criticality)?.region(Region::new(region)?))
}

/// One configuration item in production that belongs to no region.
fn global(
    text: &str,
    name: &str,
    class: CiClass,
    criticality: Criticality,
) -> Result<ConfigurationItemBuilder, Error> {
    Ok(ConfigurationItem::builder(id(text)?, name, class)
        .environment(Environment::Production)
        .criticality(criticality))
}

#[allow(
    clippy::too_many_lines,
    reason = "a data table reads best in one piece"
)]
fn items() -> Result<Vec<ConfigurationItem>, Error> {
    use CiClass::{
        Application, ApplicationService, BusinessService, Cluster, Database, Hypervisor,
        LoadBalancer, Storage, VirtualMachine,
    };
    use Criticality::{High, Medium, MissionCritical};
    let lon = "eu-west-2";
    let dub = "eu-west-1";
    let items = vec![
        ci(
            PAYMENT_SERVICE,
            "Payments",
            BusinessService,
            lon,
            MissionCritical,
        )?
        .owner("payments team"),
        ci(
            PAYMENT_API,
            "payment-api",
            Application,
            lon,
            MissionCritical,
        )?
        .owner("payments team")
        .attribute("version", "4.12.1")
        .attribute("language", "rust"),
        ci(
            PAYMENT_VM,
            "vm-pay-01",
            VirtualMachine,
            lon,
            MissionCritical,
        )?
        .owner("platform team")
        .attribute("os", "Ubuntu 24.04")
        .attribute("size", "Standard_D8s_v5")
        .attribute("cores", 8)
        .attribute("cloud", "azure")
        .attribute(install(ENDPOINT_PROTECTION), "7.4"),
        ci(
            PAYMENT_LB,
            "payments load balancer",
            LoadBalancer,
            lon,
            High,
        )?
        .owner("network team")
        .attribute("listeners", 2),
        ci(
            PAYMENTS_DB,
            "payments database",
            Database,
            lon,
            MissionCritical,
        )?
        .owner("data team")
        .attribute("engine", "postgres")
        .attribute("version", "16.4"),
        ci(LEDGER_DB, "ledger database", Database, lon, High)?
            .owner("data team")
            .attribute("engine", "oracle")
            .attribute("version", "19c")
            .attribute("cores", 4),
        global(
            CHECKOUT_SERVICE,
            "Checkout",
            BusinessService,
            MissionCritical,
        )?
        .owner("web team"),
        global(CHECKOUT_POOL, "checkout (both regions)", Cluster, High)?.owner("web team"),
        ci(
            CHECKOUT_EU_WEST_2,
            "checkout (eu-west-2)",
            Application,
            lon,
            High,
        )?
        .owner("web team")
        .attribute("version", "2.8.0"),
        ci(
            CHECKOUT_EU_WEST_1,
            "checkout (eu-west-1)",
            Application,
            dub,
            High,
        )?
        .owner("web team")
        .attribute("version", "2.8.0"),
        ci(
            "vm-chk-euw2-01",
            "vm-chk-euw2-01",
            VirtualMachine,
            lon,
            High,
        )?
        .owner("platform team")
        .attribute("os", "Ubuntu 24.04")
        .attribute(install(ENDPOINT_PROTECTION), "7.4"),
        ci(
            "vm-chk-euw1-01",
            "vm-chk-euw1-01",
            VirtualMachine,
            dub,
            High,
        )?
        .owner("platform team")
        .attribute("os", "Ubuntu 24.04"),
        ci(DNS, "DNS", ApplicationService, lon, MissionCritical)?.owner("network team"),
        ci(
            AUTH,
            "authentication",
            ApplicationService,
            lon,
            MissionCritical,
        )?
        .owner("identity team")
        .attribute("protocol", "oidc"),
        ci(STORAGE_ARRAY, "London storage array", Storage, lon, High)?
            .owner("infrastructure team")
            .attribute("capacity_tib", rust_decimal::Decimal::new(1536, 1)),
        ci(HYPERVISOR_1, "hv-lon-01", Hypervisor, lon, High)?
            .owner("infrastructure team")
            .attribute("cores", 64),
        ci(HYPERVISOR_2, "hv-lon-02", Hypervisor, lon, High)?
            .owner("infrastructure team")
            .attribute("cores", 64),
        ci("vm-db-01", "vm-db-01", VirtualMachine, lon, MissionCritical)?
            .owner("data team")
            .attribute("os", "RHEL 9.4"),
        ci("vm-db-02", "vm-db-02", VirtualMachine, lon, High)?
            .owner("data team")
            .attribute("os", "Oracle Linux 8.10"),
        ci(DECOMMISSIONED_VM, "vm-rpt-01", VirtualMachine, lon, Medium)?
            .status(OperationalStatus::Retired)
            .owner("bi team")
            .attribute("decommissioned_on", date("2026-03-12")?)
            .attribute(install(REPORTING_SUITE), "2023.4"),
        ci(SHADOW_VM, "vm-7f3a9c", VirtualMachine, lon, Medium)?
            .environment(Environment::Development)
            .attribute("discovered_by", "azure-scanner")
            .attribute("os", "Windows Server 2022")
            .attribute(install(ENDPOINT_PROTECTION), "7.2"),
    ];
    items.into_iter().map(ConfigurationItem::try_from).collect()
}

#[allow(
    clippy::too_many_lines,
    reason = "a data table reads best in one piece"
)]
fn assets() -> Result<Vec<Asset>, Error> {
    use AssetKind::{CloudResource, Hardware, Licence};
    let assets = vec![
        Asset::builder(id(PAYMENT_VM)?, "payments VM (Azure)", CloudResource)
            .owner("platform team")
            .budget_owner("Dana Whitfield")
            .cost_center("CC-4410 Payments")
            .location("azure/uksouth")
            .purchase_date(date("2024-01-15")?)
            .monthly_cost(money("412.30 GBP")?)
            .renewal_date(date("2027-01-15")?)
            .attribute("reservation", "1 year reserved instance"),
        Asset::builder(
            id(PAYMENT_LB)?,
            "payments load balancer (Azure)",
            CloudResource,
        )
        .owner("network team")
        .budget_owner("Dana Whitfield")
        .cost_center("CC-4410 Payments")
        .location("azure/uksouth")
        .monthly_cost(money("96.00 GBP")?),
        Asset::builder(
            id("vm-chk-euw2-01")?,
            "checkout VM (eu-west-2)",
            CloudResource,
        )
        .owner("platform team")
        .budget_owner("Sam Okafor")
        .cost_center("CC-4420 Web")
        .location("azure/uksouth")
        .monthly_cost(money("205.10 GBP")?),
        Asset::builder(
            id("vm-chk-euw1-01")?,
            "checkout VM (eu-west-1)",
            CloudResource,
        )
        .owner("platform team")
        .budget_owner("Sam Okafor")
        .cost_center("CC-4420 Web")
        .location("azure/northeurope")
        .monthly_cost(money("219.40 EUR")?),
        Asset::builder(id(STORAGE_ARRAY)?, "NetApp AFF A400", Hardware)
            .owner("infrastructure team")
            .budget_owner("Priya Raman")
            .cost_center("CC-1000 Infrastructure")
            .location("London DC1, hall B, rack 14")
            .purchase_date(date("2022-06-30")?)
            .purchase_cost(money("184000.00 GBP")?)
            .warranty_end(date("2025-06-30")?)
            .support_end(date("2027-06-30")?)
            .attribute("serial", "NA-7781-2201"),
        Asset::builder(
            id(HYPERVISOR_1)?,
            "Dell PowerEdge R760 (hv-lon-01)",
            Hardware,
        )
        .owner("infrastructure team")
        .budget_owner("Priya Raman")
        .cost_center("CC-1000 Infrastructure")
        .location("London DC1, hall B, rack 12")
        .purchase_date(date("2024-03-01")?)
        .purchase_cost(money("21450.00 GBP")?)
        .warranty_end(date("2027-02-28")?),
        Asset::builder(
            id(HYPERVISOR_2)?,
            "Dell PowerEdge R760 (hv-lon-02)",
            Hardware,
        )
        .owner("infrastructure team")
        .budget_owner("Priya Raman")
        .cost_center("CC-1000 Infrastructure")
        .location("London DC1, hall B, rack 12")
        .purchase_date(date("2024-03-01")?)
        .purchase_cost(money("21450.00 GBP")?)
        .warranty_end(date("2027-02-28")?),
        Asset::builder(id("vm-db-01")?, "payments database VM", Hardware)
            .owner("data team")
            .budget_owner("Dana Whitfield")
            .cost_center("CC-4410 Payments")
            .location("London DC1, hall B, rack 12")
            .monthly_cost(money("310.00 GBP")?)
            .attribute("chargeback", "internal VM rate card 2026"),
        Asset::builder(id("vm-db-02")?, "ledger database VM", Hardware)
            .owner("data team")
            .budget_owner("Dana Whitfield")
            .cost_center("CC-4410 Payments")
            .location("London DC1, hall B, rack 12")
            .monthly_cost(money("265.00 GBP")?)
            .attribute("chargeback", "internal VM rate card 2026"),
        Asset::builder(id(DECOMMISSIONED_VM)?, "reporting VM", CloudResource)
            .owner("bi team")
            .budget_owner("Marta Lindqvist")
            .cost_center("CC-3300 Analytics")
            .location("azure/uksouth")
            .monthly_cost(money("188.75 GBP")?),
        Asset::builder(
            id(REPORTING_LICENCE)?,
            "reporting suite enterprise licence",
            Licence,
        )
        .lifecycle(Lifecycle::InUse)
        .owner("bi team")
        .budget_owner("Marta Lindqvist")
        .cost_center("CC-3300 Analytics")
        .purchase_date(date("2024-02-01")?)
        .purchase_cost(money("40000.00 USD")?)
        .renewal_date(date("2027-02-01")?)
        .attribute("installed_on", DECOMMISSIONED_VM)
        .attribute("metric", "per core")
        .attribute("quantity", 16),
        Asset::builder(id(STOCK_LAPTOP)?, "HP EliteBook 840 G11", Hardware)
            .lifecycle(Lifecycle::InStock)
            .cost_center("CC-1000 Infrastructure")
            .location("London office, store room")
            .purchase_date(date("2026-10-02")?)
            .purchase_cost(money("1389.00 GBP")?)
            .warranty_end(date("2029-10-01")?),
    ];
    assets.into_iter().map(Asset::try_from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_builds_and_is_deterministic() {
        let built = build().unwrap();
        assert_eq!(built, estate());
        assert_eq!(
            serde_json::to_string(&built).unwrap(),
            serde_json::to_string(&estate()).unwrap()
        );
    }

    #[test]
    fn every_named_resource_exists() {
        let estate = estate();
        for name in [
            PAYMENT_SERVICE,
            PAYMENT_API,
            PAYMENT_VM,
            PAYMENT_LB,
            PAYMENTS_DB,
            LEDGER_DB,
            CHECKOUT_SERVICE,
            CHECKOUT_EU_WEST_2,
            CHECKOUT_EU_WEST_1,
            DNS,
            AUTH,
            STORAGE_ARRAY,
            HYPERVISOR_1,
            HYPERVISOR_2,
            DECOMMISSIONED_VM,
            REPORTING_LICENCE,
            SHADOW_VM,
            STOCK_LAPTOP,
        ] {
            assert!(estate.resource(name).is_some(), "{name}");
        }
    }

    #[test]
    fn the_finance_records_build_and_are_deterministic() {
        let built = build_contracts().unwrap();
        assert!(!built.is_empty());
        assert_eq!(built, contracts());
        let built = build_entitlements().unwrap();
        assert!(!built.is_empty());
        assert_eq!(built, entitlements());
    }

    #[test]
    fn the_finance_story_holds() {
        use crate::finance::{self, EntitlementStatus};

        let estate = estate();
        let day = |text| date(text).unwrap();
        let contracts = contracts();
        let ids: Vec<_> = contracts.iter().map(|c| c.id().as_str()).collect();
        assert_eq!(ids, [SUPPORT_CONTRACT]);
        let support = &contracts[0];
        // Every covered resource is a sample asset, and the first term ends
        // on the day the hypervisors' warranty does.
        for resource in support.resources() {
            let asset = estate.asset(resource).unwrap();
            assert_eq!(asset.warranty_end(), Some(support.initial_term_end()));
        }
        assert_eq!(support.resources().len(), 2);
        assert_eq!(support.initial_term_end(), day("2027-02-28"));
        assert_eq!(
            support.notice_deadline(day("2026-11-23")),
            Some(day("2026-11-28"))
        );
        assert_eq!(support.owner(), Some("Priya Raman"));

        let entitlements = entitlements();
        let ids: Vec<_> = entitlements.iter().map(|e| e.id().as_str()).collect();
        assert_eq!(ids, [REPORTING_ENTITLEMENT, ENDPOINT_ENTITLEMENT]);
        let suite = &entitlements[0];
        assert_eq!(suite.product(), REPORTING_SUITE);
        assert_eq!(suite.cost(), Some(money("40000.00 USD").unwrap()));
        assert_eq!(suite.status(day("2027-01-31")), EntitlementStatus::Active);
        assert_eq!(suite.status(day("2027-02-01")), EntitlementStatus::Expired);
        // The licence asset renews the day after the entitlement ends.
        let licence = estate.asset(REPORTING_LICENCE).unwrap();
        assert_eq!(licence.renewal_date(), Some(day("2027-02-01")));

        // Installed only on the retired VM, so nothing consumes it.
        let key = LicenceRules::default().install_key(REPORTING_SUITE);
        let installed: Vec<_> = estate
            .cmdb()
            .iter()
            .filter(|ci| ci.attributes().get(&key).is_some())
            .map(|ci| (ci.id().as_str(), ci.status()))
            .collect();
        assert_eq!(installed, [(DECOMMISSIONED_VM, OperationalStatus::Retired)]);
        let positions = finance::compliance(
            &estate,
            &entitlements,
            &[],
            &LicenceRules::default(),
            day("2026-11-23"),
        )
        .unwrap();
        let products: Vec<_> = positions
            .iter()
            .map(finance::LicencePosition::product)
            .collect();
        assert_eq!(products, [ENDPOINT_PROTECTION, REPORTING_SUITE]);
        let suite = &positions[1];
        assert_eq!(suite.owned(), LicenceQuantity::Limited(16));
        assert_eq!(suite.used(), 0);
        assert!(suite.consumers().is_empty());

        // The agent: licensed for two devices, installed on three live VMs
        // (one of them the shadow VM), so one is unlicensed.
        let agent = &entitlements[1];
        assert_eq!(agent.product(), ENDPOINT_PROTECTION);
        assert_eq!(agent.status(day("2026-11-23")), EntitlementStatus::Active);
        let key = LicenceRules::default().install_key(ENDPOINT_PROTECTION);
        let installed: Vec<_> = estate
            .cmdb()
            .iter()
            .filter(|ci| ci.attributes().get(&key).is_some())
            .map(|ci| (ci.id().as_str(), ci.status()))
            .collect();
        let live = OperationalStatus::Operational;
        assert_eq!(
            installed,
            [
                (PAYMENT_VM, live),
                ("vm-chk-euw2-01", live),
                (SHADOW_VM, live)
            ]
        );
        let agent = &positions[0];
        assert_eq!(agent.owned(), LicenceQuantity::Limited(2));
        assert_eq!((agent.used(), agent.shortfall()), (3, 1));
        let covered: Vec<_> = agent.covered().map(|c| c.id().as_str()).collect();
        assert_eq!(covered, [SHADOW_VM, "vm-chk-euw2-01"]);
        let unlicensed: Vec<_> = agent.unlicensed().map(|c| c.id().as_str()).collect();
        assert_eq!(unlicensed, [PAYMENT_VM]);
    }

    #[test]
    fn the_story_holds() {
        let estate = estate();
        let vm = estate.resource(PAYMENT_VM).unwrap();
        let asset = vm.asset().unwrap();
        assert_eq!(asset.budget_owner(), Some("Dana Whitfield"));
        assert_eq!(asset.monthly_cost().unwrap().to_string(), "412.30 GBP");
        assert_eq!(asset.renewal_date(), Some(date("2027-01-15").unwrap()));
        assert_eq!(vm.ci().unwrap().region().unwrap().as_str(), "eu-west-2");

        let shadow: Vec<_> = estate
            .cis_without_asset()
            .map(|c| c.id().as_str())
            .collect();
        assert!(shadow.contains(&SHADOW_VM));
        let stock: Vec<_> = estate
            .assets_without_ci()
            .map(|a| a.id().as_str())
            .collect();
        assert_eq!(stock, [REPORTING_LICENCE, STOCK_LAPTOP]);

        let old = estate.resource(DECOMMISSIONED_VM).unwrap();
        assert_eq!(old.ci().unwrap().status(), OperationalStatus::Retired);
        assert!(old.asset().unwrap().lifecycle().is_active());
        assert!(
            estate
                .asset(REPORTING_LICENCE)
                .unwrap()
                .lifecycle()
                .is_active()
        );

        let regions: Vec<_> = [CHECKOUT_EU_WEST_2, CHECKOUT_EU_WEST_1]
            .iter()
            .map(|id| estate.ci(id).unwrap().region().unwrap().as_str())
            .collect();
        assert_eq!(regions, ["eu-west-2", "eu-west-1"]);
    }
}
