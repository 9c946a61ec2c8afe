//! Cost per service: what each service costs a month, including its share of
//! the shared infrastructure beneath it; see [`cost_per_service`].

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::graph::Components;
use crate::{Asset, CiClass, Cmdb, Currency, Error, Estate, ImpactQuery, Money, ResourceId};

/// A charge for one month on top of an asset's recurring monthly cost, such
/// as its depreciation for the month.
///
/// Implemented for closures `Fn(&Asset, NaiveDate) -> Option<Money>` and for
/// maps from [`ResourceId`] to [`Money`] (which ignore the month), so a
/// depreciation schedule, a closure or a precomputed table can be plugged
/// into [`CostOptions::charge`].
///
/// # Example
///
/// ```
/// use std::collections::BTreeMap;
///
/// use chrono::NaiveDate;
/// use itam_cmdb::finance::MonthlyCharge;
/// use itam_cmdb::{sample, Asset, Money};
///
/// let estate = sample::estate();
/// let san = estate.asset(sample::STORAGE_ARRAY).unwrap();
/// let month = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
///
/// // A closure: straight-line over 60 months, from the purchase cost.
/// let straight_line = |asset: &Asset, _month: NaiveDate| {
///     asset.purchase_cost()?.checked_mul("0.0166666666666666666666666667".parse().ok()?).ok()
/// };
/// assert_eq!(straight_line.charge(san, month).unwrap().round().to_string(), "3066.67 GBP");
///
/// // A table.
/// let mut table = BTreeMap::new();
/// table.insert(san.id().clone(), "3066.67 GBP".parse::<Money>()?);
/// assert_eq!(table.charge(san, month), Some("3066.67 GBP".parse()?));
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
pub trait MonthlyCharge {
    /// The charge for `asset` in the month of `month`, or `None` when it has
    /// none.
    fn charge(&self, asset: &Asset, month: NaiveDate) -> Option<Money>;
}

impl<F> MonthlyCharge for F
where
    F: Fn(&Asset, NaiveDate) -> Option<Money>,
{
    fn charge(&self, asset: &Asset, month: NaiveDate) -> Option<Money> {
        self(asset, month)
    }
}

impl MonthlyCharge for BTreeMap<ResourceId, Money> {
    fn charge(&self, asset: &Asset, _month: NaiveDate) -> Option<Money> {
        self.get(asset.id()).copied()
    }
}

impl<S: BuildHasher> MonthlyCharge for HashMap<ResourceId, Money, S> {
    fn charge(&self, asset: &Asset, _month: NaiveDate) -> Option<Money> {
        self.get(asset.id()).copied()
    }
}

/// The options of [`cost_per_service`], set builder-style.
///
/// # Options
///
/// * [`service_class`](Self::service_class): which configuration items are
///   services (default: business services only).
/// * [`max_depth`](Self::max_depth): count only resources within this many
///   hops of a service (default: no limit).
/// * [`weight`](Self::weight): split shared resources in proportion to
///   per-service weights (default: evenly).
/// * [`charge`](Self::charge): add a charge for the month, such as
///   depreciation, to each asset's recurring monthly cost.
///
/// # Example
///
/// ```
/// use itam_cmdb::finance::{cost_per_service, CostOptions};
/// use itam_cmdb::{sample, CiClass, ResourceId};
/// use rust_decimal::Decimal;
///
/// let options = CostOptions::new()
///     .service_class(CiClass::BusinessService)
///     .service_class(CiClass::ApplicationService)
///     .max_depth(6)
///     .weight(ResourceId::new(sample::PAYMENT_SERVICE)?, Decimal::TWO);
/// let costs = cost_per_service(&sample::estate(), &options)?;
/// assert_eq!(costs.services().len(), 4);
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct CostOptions<'a> {
    classes: Vec<CiClass>,
    max_depth: Option<u32>,
    weights: BTreeMap<ResourceId, Decimal>,
    charge: Option<(NaiveDate, &'a dyn MonthlyCharge)>,
}

impl std::fmt::Debug for CostOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CostOptions")
            .field("classes", &self.classes)
            .field("max_depth", &self.max_depth)
            .field("weights", &self.weights)
            .field("charge_month", &self.charge.map(|(month, _)| month))
            .finish_non_exhaustive()
    }
}

impl<'a> CostOptions<'a> {
    /// The default options: business services, no depth limit, even splits,
    /// recurring monthly costs only.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Treats configuration items of `class` as services; once any class is
    /// named, only the named classes are services.
    #[must_use]
    pub fn service_class(mut self, class: CiClass) -> Self {
        if !self.classes.contains(&class) {
            self.classes.push(class);
        }
        self
    }

    /// Counts only resources within `hops` relationships of a service
    /// (`0`: the service itself only).
    #[must_use]
    pub fn max_depth(mut self, hops: u32) -> Self {
        self.max_depth = Some(hops);
        self
    }

    /// Gives `service` the weight `weight` when shared resources are split;
    /// a service without a weight has weight 1, and a service given two
    /// weights keeps the last.
    ///
    /// Weights apply to shared resources only: a resource beneath one
    /// service is that service's own cost, whatever its weight. A weight of
    /// zero means the service takes no share of what it shares with services
    /// of positive weight.
    ///
    /// [`cost_per_service`] checks the weights: see its errors.
    #[must_use]
    pub fn weight(mut self, service: ResourceId, weight: Decimal) -> Self {
        self.weights.insert(service, weight);
        self
    }

    /// Adds `charge`'s charge for `month` (any day of the month being
    /// costed; passed to the charge unchanged) to each asset's recurring
    /// monthly cost. An asset with a charge but no recurring cost costs the
    /// charge alone.
    #[must_use]
    pub fn charge(mut self, month: NaiveDate, charge: &'a dyn MonthlyCharge) -> Self {
        self.charge = Some((month, charge));
        self
    }

    /// The classes that are services.
    fn classes(&self) -> &[CiClass] {
        if self.classes.is_empty() {
            &[CiClass::BusinessService]
        } else {
            &self.classes
        }
    }
}

/// How one resource's cost was allocated to a service; see [`CostLine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Allocation {
    /// The resource is beneath this service only: the whole cost is the
    /// service's own.
    Direct,
    /// The resource is beneath several services, which split its cost in
    /// proportion to their weights (all 1 unless [`CostOptions::weight`]
    /// says otherwise).
    Shared {
        /// How many services share the resource.
        services: usize,
        /// This service's weight.
        weight: Decimal,
        /// The sum of the weights of every service sharing the resource.
        total_weight: Decimal,
    },
}

/// One resource in a service's breakdown: its full monthly cost and the
/// share allocated to the service; see [`ServiceCost::lines`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CostLine<'a> {
    resource: &'a ResourceId,
    cost: Money,
    share: Money,
    allocation: Allocation,
}

impl<'a> CostLine<'a> {
    /// The resource.
    #[must_use]
    pub fn resource(&self) -> &'a ResourceId {
        self.resource
    }

    /// The resource's full monthly cost, rounded to the minor unit.
    #[must_use]
    pub fn cost(&self) -> Money {
        self.cost
    }

    /// The part of the cost allocated to the service: the whole cost when
    /// direct.
    #[must_use]
    pub fn share(&self) -> Money {
        self.share
    }

    /// How the cost was allocated.
    #[must_use]
    pub fn allocation(&self) -> Allocation {
        self.allocation
    }

    /// Whether other services share the resource.
    #[must_use]
    pub fn is_shared(&self) -> bool {
        matches!(self.allocation, Allocation::Shared { .. })
    }

    /// How many services share the resource (1 when direct).
    #[must_use]
    pub fn sharing(&self) -> usize {
        match self.allocation {
            Allocation::Direct => 1,
            Allocation::Shared { services, .. } => services,
        }
    }
}

/// A resource with a cost beneath at least one service, stored once for
/// every service's breakdown.
#[derive(Debug, Clone)]
struct Row {
    id: ResourceId,
    cost: Money,
    services: u32,
    total_weight: Decimal,
}

/// One line as a service stores it: the resource's row and the share.
type Entry = (u32, Decimal);

/// One service's monthly cost: its totals per currency and a breakdown by
/// resource.
///
/// The breakdown's resources are stored once for all the services of a
/// [`ServiceCosts`], so each line of a service takes 20 bytes.
///
/// # Order
///
/// [`lines`](Self::lines) are sorted by resource id.
///
/// # Equality
///
/// Two service costs are equal when their service, class, weight, totals
/// and lines are.
#[derive(Clone)]
pub struct ServiceCost {
    service: ResourceId,
    class: CiClass,
    weight: Decimal,
    totals: BTreeMap<Currency, Money>,
    rows: Arc<[Row]>,
    entries: Vec<Entry>,
}

impl ServiceCost {
    /// The service.
    #[must_use]
    pub fn service(&self) -> &ResourceId {
        &self.service
    }

    /// The service's class.
    #[must_use]
    pub fn class(&self) -> &CiClass {
        &self.class
    }

    /// The weight the service's shares were computed with (1 unless
    /// [`CostOptions::weight`] gave another).
    #[must_use]
    pub fn weight(&self) -> Decimal {
        self.weight
    }

    /// The service's total per currency: the sum of its shares, one total
    /// for each currency it has a line in. Empty for a service with no
    /// lines.
    #[must_use]
    pub fn totals(&self) -> &BTreeMap<Currency, Money> {
        &self.totals
    }

    /// The service's total in `currency` (zero when it has no cost in it).
    #[must_use]
    pub fn total(&self, currency: Currency) -> Money {
        self.totals
            .get(&currency)
            .copied()
            .unwrap_or(Money::zero(currency))
    }

    /// Whether every share of the service is zero (or it has none).
    #[must_use]
    pub fn is_zero(&self) -> bool {
        self.totals.values().all(Money::is_zero)
    }

    /// One line per resource beneath the service that has a cost, sorted by
    /// resource id.
    #[must_use]
    pub fn lines(&self) -> CostLines<'_> {
        CostLines {
            service: self,
            entries: self.entries.iter(),
        }
    }

    /// The line of `resource`, if it is beneath the service and has a cost.
    /// O(log n) in the number of lines.
    #[must_use]
    pub fn line<Q: AsRef<str> + ?Sized>(&self, resource: &Q) -> Option<CostLine<'_>> {
        let resource = resource.as_ref();
        let at = self
            .entries
            .binary_search_by(|(row, _)| {
                let id = self
                    .rows
                    .get(*row as usize)
                    .map_or("", |row| row.id.as_str());
                id.cmp(resource)
            })
            .ok()?;
        self.entries.get(at).and_then(|entry| self.view(entry))
    }

    fn view(&self, &(row, share): &Entry) -> Option<CostLine<'_>> {
        let row = self.rows.get(row as usize)?;
        let allocation = if row.services == 1 {
            Allocation::Direct
        } else {
            Allocation::Shared {
                services: row.services as usize,
                weight: self.weight,
                total_weight: row.total_weight,
            }
        };
        Some(CostLine {
            resource: &row.id,
            cost: row.cost,
            share: Money::new(share, row.cost.currency()),
            allocation,
        })
    }
}

impl PartialEq for ServiceCost {
    fn eq(&self, other: &Self) -> bool {
        self.service == other.service
            && self.class == other.class
            && self.weight == other.weight
            && self.totals == other.totals
            && self.entries.len() == other.entries.len()
            && self.lines().eq(other.lines())
    }
}

impl Eq for ServiceCost {}

impl std::fmt::Debug for ServiceCost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceCost")
            .field("service", &self.service)
            .field("class", &self.class)
            .field("weight", &self.weight)
            .field("totals", &self.totals)
            .field("lines", &self.lines())
            .finish_non_exhaustive()
    }
}

impl Serialize for ServiceCost {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;

        struct Lines<'a>(&'a ServiceCost);
        impl Serialize for Lines<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.lines())
            }
        }

        let mut record = serializer.serialize_struct("ServiceCost", 5)?;
        record.serialize_field("service", &self.service)?;
        record.serialize_field("class", &self.class)?;
        record.serialize_field("weight", &self.weight)?;
        record.serialize_field("totals", &self.totals)?;
        record.serialize_field("lines", &Lines(self))?;
        record.end()
    }
}

/// The lines of a [`ServiceCost`], sorted by resource id; made by
/// [`ServiceCost::lines`].
#[derive(Clone)]
pub struct CostLines<'a> {
    service: &'a ServiceCost,
    entries: std::slice::Iter<'a, Entry>,
}

impl std::fmt::Debug for CostLines<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<'a> Iterator for CostLines<'a> {
    type Item = CostLine<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        self.entries
            .next()
            .and_then(|entry| self.service.view(entry))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.entries.size_hint()
    }
}

impl ExactSizeIterator for CostLines<'_> {}

impl DoubleEndedIterator for CostLines<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.entries
            .next_back()
            .and_then(|entry| self.service.view(entry))
    }
}

impl std::iter::FusedIterator for CostLines<'_> {}

/// A resource with a cost that is beneath no service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnallocatedCost {
    resource: ResourceId,
    cost: Money,
    has_ci: bool,
}

impl UnallocatedCost {
    /// The resource.
    #[must_use]
    pub fn resource(&self) -> &ResourceId {
        &self.resource
    }

    /// Its monthly cost, rounded to the minor unit.
    #[must_use]
    pub fn cost(&self) -> Money {
        self.cost
    }

    /// Whether the resource is a configuration item (one that no service
    /// depends on); `false` for an asset with no configuration item, such
    /// as a licence or a laptop.
    #[must_use]
    pub fn has_ci(&self) -> bool {
        self.has_ci
    }
}

/// The result of [`cost_per_service`]: every service's cost, and the costs
/// no service carries.
///
/// # Order
///
/// Services are sorted by id, and so are the unallocated resources.
///
/// # Invariant
///
/// Per currency, the sum of every service's total plus the unallocated total
/// equals [`totals`](Self::totals), the sum of the monthly cost of every
/// resource with a cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceCosts {
    services: Vec<ServiceCost>,
    unallocated: Vec<UnallocatedCost>,
    unallocated_totals: BTreeMap<Currency, Money>,
    totals: BTreeMap<Currency, Money>,
}

impl ServiceCosts {
    /// Every service, sorted by id, including those with no cost.
    #[must_use]
    pub fn services(&self) -> &[ServiceCost] {
        &self.services
    }

    /// The service `id`, if it is one. O(log n) in the number of services.
    #[must_use]
    pub fn service<Q: AsRef<str> + ?Sized>(&self, id: &Q) -> Option<&ServiceCost> {
        self.services
            .binary_search_by(|service| service.service.as_str().cmp(id.as_ref()))
            .ok()
            .and_then(|at| self.services.get(at))
    }

    /// The resources with a cost that are beneath no service, sorted by id.
    #[must_use]
    pub fn unallocated(&self) -> &[UnallocatedCost] {
        &self.unallocated
    }

    /// The total of the unallocated resources per currency.
    #[must_use]
    pub fn unallocated_totals(&self) -> &BTreeMap<Currency, Money> {
        &self.unallocated_totals
    }

    /// The total monthly cost of every resource with a cost, per currency.
    #[must_use]
    pub fn totals(&self) -> &BTreeMap<Currency, Money> {
        &self.totals
    }
}

/// What each service costs a month, including its share of the shared
/// resources beneath it.
///
/// # The model
///
/// * A **resource's monthly cost** is its asset's recurring
///   [`monthly_cost`](Asset::monthly_cost), plus an optional charge for the
///   month (such as depreciation) from a [`MonthlyCharge`], rounded to the
///   currency's minor unit. Only resources with an asset (joined by the same
///   [`ResourceId`]) and at least one of the two amounts have a cost.
/// * The **services** are the configuration items of the chosen classes
///   (default: [`CiClass::BusinessService`]), whatever their operational
///   status: a retired service with costs beneath it still shows them.
/// * The resources **beneath** a service are the service itself and
///   everything it depends on ([`Cmdb::dependencies`](crate::Cmdb::dependencies):
///   required items and items behind a redundancy group alike, along every
///   relationship whose kind propagates failure), optionally within a
///   maximum number of hops. A service that depends on another service
///   (Checkout uses Payments) shares everything beneath it.
/// * A resource beneath one service is that service's **direct** cost. A
///   resource beneath several services is **shared**: split evenly among
///   them, or in proportion to the weights given per service.
/// * A resource with a cost beneath no service is **unallocated**.
///
/// # Exact allocation
///
/// The shares of a resource add up to its cost exactly, to the minor unit.
/// Each service first gets its exact quota rounded down to the minor unit;
/// the minor units left over (fewer than the number of services sharing the
/// resource) go one each to the services with the largest remainders (the
/// largest remainder method), ties going to the service with the smallest
/// id. So 100.00 shared by `a`, `b` and `c` is 33.34, 33.33 and 33.33.
///
/// Therefore, per currency, the totals of every service plus the
/// unallocated total equal the total of every resource with a cost.
/// Nothing converts currencies: a service with costs in GBP and EUR has two
/// totals.
///
/// # Order
///
/// See [`ServiceCosts`]: services and unallocated resources by id, each
/// service's lines by resource id.
///
/// # Complexity
///
/// Without a depth limit, the resources beneath every service are found
/// together, not by one walk per service: one pass over the propagating
/// relationships of the CMDB's query index finds the dependency cycles
/// (strongly connected components, without recursion), then the services are taken 64 at a time and marked on
/// every item beneath them in one sweep down the cycle-free condensation.
/// That is O(⌈S/64⌉·(V + E)) for S services, plus time linear in the
/// number of lines (resource, service) of the result, plus sorting the
/// services and the assets by id.
///
/// With [`max_depth`](CostOptions::max_depth), each service is walked with
/// [`Cmdb::dependencies`](crate::Cmdb::dependencies) on its own: O(V + E)
/// over the part of the graph within the depth, per service.
///
/// # Errors
///
/// * [`Error::UnknownCi`] for a weight given to an id that is not in the
///   CMDB;
/// * [`Error::InvalidWeights`] naming a service whose weight is negative or
///   which is not of a service class, or a shared resource whose services
///   all have weight zero;
/// * [`Error::InvalidField`] naming an asset whose charge is negative or in
///   another currency than its recurring monthly cost;
/// * [`Error::Overflow`] if an amount does not fit.
///
/// # Example
///
/// ```
/// use itam_cmdb::finance::{cost_per_service, CostOptions};
/// use itam_cmdb::{sample, Currency};
///
/// let costs = cost_per_service(&sample::estate(), &CostOptions::new())?;
/// let payments = costs.service(sample::PAYMENT_SERVICE).unwrap();
/// // Payments and Checkout share everything beneath Payments: Checkout
/// // uses it.
/// let vm = payments.line(sample::PAYMENT_VM).unwrap();
/// assert_eq!(vm.cost().to_string(), "412.30 GBP");
/// assert_eq!(vm.share().to_string(), "206.15 GBP");
/// assert_eq!(payments.total(Currency::GBP).to_string(), "541.65 GBP");
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
pub fn cost_per_service(estate: &Estate, options: &CostOptions<'_>) -> Result<ServiceCosts, Error> {
    let cmdb = estate.cmdb();
    let classes = options.classes();
    // Items are numbered as the graph's query index numbers them.
    let topology = cmdb.topology();
    let node_of = |id: &ResourceId| {
        topology
            .node(id.as_str())
            .and_then(|node| u32::try_from(node.index()).ok())
    };

    // Every item has a node, so no service is left out.
    let mut services: Vec<Service<'_>> = cmdb
        .iter()
        .filter(|ci| classes.contains(ci.class()))
        .filter_map(|ci| {
            Some(Service {
                id: ci.id(),
                class: ci.class(),
                node: node_of(ci.id())?,
            })
        })
        .collect();
    services.sort_unstable_by(|a, b| a.id.cmp(b.id));
    let weights = Weights::new(estate, options, &services)?;

    // Every asset with a cost, by id, with its CI's node if it has one.
    let mut costed: Vec<Costed<'_>> = Vec::new();
    for asset in estate.assets() {
        if let Some(cost) = resource_cost(asset, options)? {
            costed.push(Costed {
                id: asset.id(),
                cost,
                node: node_of(asset.id()),
            });
        }
    }
    costed.sort_unstable_by(|a, b| a.id.cmp(b.id));

    let sharers = match options.max_depth {
        None => sharers_by_closure(cmdb, &services, &costed),
        Some(hops) => sharers_by_walks(cmdb, hops, &services, &costed)?,
    };
    allocate(&services, &weights, &costed, &sharers)
}

/// A service: its id, class and node.
struct Service<'a> {
    id: &'a ResourceId,
    class: &'a CiClass,
    node: u32,
}

/// An asset with a cost: its id, its cost rounded to the minor unit, and
/// its CI's node.
struct Costed<'a> {
    id: &'a ResourceId,
    cost: Money,
    node: Option<u32>,
}

/// Splits every cost among the services beneath which it sits.
fn allocate(
    services: &[Service<'_>],
    weights: &Weights,
    costed: &[Costed<'_>],
    sharers: &Sharers,
) -> Result<ServiceCosts, Error> {
    let mut entries: Vec<Vec<Entry>> = sharers
        .counts(services.len())
        .into_iter()
        .map(Vec::with_capacity)
        .collect();
    // Each service's sum of shares in minor units, per currency.
    let mut currencies: Vec<Currency> = costed.iter().map(|c| c.cost.currency()).collect();
    currencies.sort_unstable();
    currencies.dedup();
    let mut sums: Vec<Option<u128>> = vec![None; services.len() * currencies.len()];
    let mut rows: Vec<Row> = Vec::new();
    let mut unallocated = Vec::new();
    let mut totals = Totals::default();
    let mut unallocated_totals = Totals::default();
    let mut sharing: Vec<u32> = Vec::new();
    let mut parts: Vec<u128> = Vec::new();
    let mut scratch = Scratch::default();
    let overflow = || Error::Overflow {
        operation: "allocate",
    };

    for (at, resource) in costed.iter().enumerate() {
        totals.add(resource.cost)?;
        sharers.fill(at, &mut sharing);
        let sharing = sharing.as_slice();
        if sharing.is_empty() {
            unallocated_totals.add(resource.cost)?;
            unallocated.push(UnallocatedCost {
                resource: resource.id.clone(),
                cost: resource.cost,
                has_ci: resource.node.is_some(),
            });
            continue;
        }
        let currency = resource.cost.currency();
        let minor = currency.minor_units();
        let slot = currencies.binary_search(&currency).unwrap_or_default();
        let units = minor_units(resource.cost.amount(), minor).ok_or_else(overflow)?;
        let total_weight = weights
            .split(units, sharing, &mut parts, &mut scratch)?
            .ok_or_else(|| Error::InvalidWeights {
                id: resource.id.clone(),
                reason: format!("all {} services sharing it have weight zero", sharing.len()),
            })?;
        let row = u32::try_from(rows.len()).map_err(|_| overflow())?;
        rows.push(Row {
            id: resource.id.clone(),
            cost: resource.cost,
            services: u32::try_from(sharing.len()).map_err(|_| overflow())?,
            total_weight,
        });
        for (&s, &share) in sharing.iter().zip(&parts) {
            let amount = money(share, currency).ok_or_else(overflow)?.amount();
            let s = s as usize;
            if let (Some(entries), Some(sum)) = (
                entries.get_mut(s),
                sums.get_mut(s * currencies.len() + slot),
            ) {
                entries.push((row, amount));
                *sum = Some(sum.unwrap_or(0).checked_add(share).ok_or_else(overflow)?);
            }
        }
    }

    let rows: Arc<[Row]> = rows.into();
    let width = currencies.len();
    let services = services
        .iter()
        .zip(entries)
        .zip(&weights.given)
        .enumerate()
        .map(|(at, ((service, entries), weight))| {
            let sums = sums.get(at * width..(at + 1) * width).unwrap_or_default();
            let totals = currencies
                .iter()
                .zip(sums)
                .filter_map(|(&currency, &units)| Some((currency, units?)))
                .map(|(currency, units)| Some((currency, money(units, currency)?)))
                .collect::<Option<BTreeMap<_, _>>>()
                .ok_or_else(overflow)?;
            Ok(ServiceCost {
                service: service.id.clone(),
                class: service.class.clone(),
                weight: *weight,
                totals,
                rows: Arc::clone(&rows),
                entries,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(ServiceCosts {
        services,
        unallocated,
        unallocated_totals: unallocated_totals.0,
        totals: totals.0,
    })
}

/// For every costed resource, the services it is beneath, as blocks of 64
/// services: `(first service of the block, one bit per service)`, blocks in
/// service order.
struct Sharers {
    /// Where each resource's blocks start in `blocks`, and the end.
    starts: Vec<usize>,
    blocks: Vec<(u32, u64)>,
}

impl Sharers {
    /// Groups `(resource, block)` pairs, given block by block, by resource.
    fn group(resources: usize, hits: &[(u32, u32, u64)]) -> Self {
        let mut starts = vec![0usize; resources + 1];
        for &(at, _, _) in hits {
            if let Some(count) = starts.get_mut(at as usize + 1) {
                *count += 1;
            }
        }
        let mut sum = 0;
        for start in &mut starts {
            sum += *start;
            *start = sum;
        }
        let mut next = starts.clone();
        let mut blocks = vec![(0u32, 0u64); hits.len()];
        for &(at, base, mark) in hits {
            if let Some(slot) = next.get_mut(at as usize) {
                if let Some(block) = blocks.get_mut(*slot) {
                    *block = (base, mark);
                }
                *slot += 1;
            }
        }
        Self { starts, blocks }
    }

    /// How many resources each of `services` services is above.
    fn counts(&self, services: usize) -> Vec<usize> {
        let mut counts = vec![0usize; services];
        for &(base, mut mark) in &self.blocks {
            while mark != 0 {
                if let Some(count) = counts.get_mut((base + mark.trailing_zeros()) as usize) {
                    *count += 1;
                }
                mark &= mark - 1;
            }
        }
        counts
    }

    /// The services resource `at` is beneath, in service order, into `out`.
    fn fill(&self, at: usize, out: &mut Vec<u32>) {
        out.clear();
        let blocks = match (self.starts.get(at), self.starts.get(at + 1)) {
            (Some(&from), Some(&to)) => self.blocks.get(from..to).unwrap_or_default(),
            _ => &[],
        };
        for &(base, mut mark) in blocks {
            while mark != 0 {
                out.push(base + mark.trailing_zeros());
                mark &= mark - 1;
            }
        }
    }
}

/// Finds, for every costed resource, the services it is beneath, without a
/// depth limit, for all services at once.
fn sharers_by_closure(cmdb: &Cmdb, services: &[Service<'_>], costed: &[Costed<'_>]) -> Sharers {
    // The query index's down adjacency has an edge from each item to each
    // item whose failure impacts it: the edges `Cmdb::dependencies` walks.
    let index = cmdb.index();
    let graph = &index.down;
    let components = Components::find(graph);
    let count = components.count();
    let mut hits: Vec<(u32, u32, u64)> = Vec::new();
    let mut marks = vec![0u64; count];
    for (base, chunk) in (0u32..).step_by(64).zip(services.chunks(64)) {
        marks.fill(0);
        // Component numbers are below `count`: index directly.
        for (bit, service) in chunk.iter().enumerate() {
            marks[components.of(service.node)] |= 1 << bit;
        }
        // An edge c -> d between components has d < c, so walking the
        // components from the last to the first passes each one's marks on
        // only once every component above it has passed on its own.
        for c in (0..count).rev() {
            let mark = marks[c];
            if mark == 0 {
                continue;
            }
            for &node in components.members(c) {
                for next in graph.next(node) {
                    let d = components.of(next);
                    if d != c {
                        marks[d] |= mark;
                    }
                }
            }
        }
        for (at, resource) in (0u32..).zip(costed) {
            let Some(node) = resource.node else {
                continue;
            };
            let mark = marks[components.of(node)];
            if mark != 0 {
                hits.push((at, base, mark));
            }
        }
    }
    Sharers::group(costed.len(), &hits)
}

/// Finds, for every costed resource, the services it is beneath within
/// `hops`, with one dependency walk per service.
fn sharers_by_walks(
    cmdb: &Cmdb,
    hops: u32,
    services: &[Service<'_>],
    costed: &[Costed<'_>],
) -> Result<Sharers, Error> {
    let lookup: HashMap<&str, u32> = (0u32..)
        .zip(costed)
        .filter(|(_, resource)| resource.node.is_some())
        .map(|(at, resource)| (resource.id.as_str(), at))
        .collect();
    let mut hits: Vec<(u32, u32, u64)> = Vec::new();
    let mut marks: HashMap<u32, u64> = HashMap::new();
    for (base, chunk) in (0u32..).step_by(64).zip(services.chunks(64)) {
        marks.clear();
        for (bit, service) in chunk.iter().enumerate() {
            let query = ImpactQuery::new(service.id.clone()).max_depth(hops);
            let beneath = cmdb.dependencies(query)?;
            for id in std::iter::once(service.id).chain(beneath.iter().map(|item| item.id())) {
                if let Some(&at) = lookup.get(id.as_str()) {
                    *marks.entry(at).or_insert(0) |= 1 << bit;
                }
            }
        }
        let mut block: Vec<(u32, u64)> = marks.iter().map(|(&at, &mark)| (at, mark)).collect();
        block.sort_unstable();
        hits.extend(block.into_iter().map(|(at, mark)| (at, base, mark)));
    }
    Ok(Sharers::group(costed.len(), &hits))
}

/// Sums per currency.
#[derive(Default)]
struct Totals(BTreeMap<Currency, Money>);

impl Totals {
    fn add(&mut self, amount: Money) -> Result<(), Error> {
        let currency = amount.currency();
        let total = self.0.entry(currency).or_insert(Money::zero(currency));
        *total = total.checked_add(amount)?;
        Ok(())
    }
}

/// The services' weights: as given (for the report) and as whole numbers at
/// one common scale (for exact splits).
struct Weights {
    given: Vec<Decimal>,
    /// `None` when no weight was given: every split is even.
    scaled: Option<Vec<u128>>,
}

/// Buffers reused from one split to the next.
#[derive(Default)]
struct Scratch {
    remainders: Vec<(u128, usize)>,
}

impl Weights {
    /// Checks the weights of `options` and lays them out in `services`
    /// order.
    fn new(
        estate: &Estate,
        options: &CostOptions<'_>,
        services: &[Service<'_>],
    ) -> Result<Self, Error> {
        let classes = options.classes();
        for (id, weight) in &options.weights {
            let ci = estate
                .cmdb()
                .get(id)
                .ok_or_else(|| Error::UnknownCi(id.clone()))?;
            if !classes.contains(ci.class()) {
                return Err(Error::InvalidWeights {
                    id: id.clone(),
                    reason: format!("it is a {}, not a service", ci.class()),
                });
            }
            if weight.is_sign_negative() && !weight.is_zero() {
                return Err(Error::InvalidWeights {
                    id: id.clone(),
                    reason: format!("weight {weight} is negative"),
                });
            }
        }
        let given: Vec<Decimal> = services
            .iter()
            .map(|service| {
                options
                    .weights
                    .get(service.id)
                    .copied()
                    .unwrap_or(Decimal::ONE)
            })
            .collect();
        Self::from_given(given, !options.weights.is_empty())
    }

    /// Weights in service order, all non-negative; when `weighted` is false
    /// they are all 1 and every split is even.
    fn from_given(given: Vec<Decimal>, weighted: bool) -> Result<Self, Error> {
        if !weighted {
            return Ok(Self {
                given,
                scaled: None,
            });
        }
        let normal: Vec<Decimal> = given.iter().map(Decimal::normalize).collect();
        let scale = normal.iter().map(Decimal::scale).max().unwrap_or(0);
        let scaled = normal
            .iter()
            .map(|w| {
                let mantissa = u128::try_from(w.mantissa()).ok()?;
                mantissa.checked_mul(10u128.checked_pow(scale - w.scale())?)
            })
            .collect::<Option<Vec<u128>>>()
            .ok_or(Error::Overflow {
                operation: "scale weights",
            })?;
        Ok(Self {
            given,
            scaled: Some(scaled),
        })
    }

    /// Splits `units` minor units among the services `sharing` (in service
    /// order) into `shares`, and returns the sum of their weights; `None`
    /// when every weight is zero.
    ///
    /// Each service gets its exact quota rounded down; the units left over
    /// go one each to the largest remainders, ties to the earlier service.
    fn split(
        &self,
        units: u128,
        sharing: &[u32],
        shares: &mut Vec<u128>,
        scratch: &mut Scratch,
    ) -> Result<Option<Decimal>, Error> {
        let overflow = || Error::Overflow {
            operation: "allocate",
        };
        shares.clear();
        if let [only] = sharing {
            // Direct: the whole cost, whatever the weight.
            shares.push(units);
            return Ok(Some(
                self.given.get(*only as usize).copied().unwrap_or_default(),
            ));
        }
        let Some(scaled) = &self.scaled else {
            // Even: every remainder is the same, so the first services get
            // the units left over.
            let n = sharing.len() as u128;
            let (each, left) = (units / n.max(1), units % n.max(1));
            shares.extend((0..n).map(|at| each + u128::from(at < left)));
            return Ok(Some(Decimal::from(sharing.len())));
        };
        let weight = |s: u32| scaled.get(s as usize).copied().unwrap_or(0);
        let total = sharing
            .iter()
            .try_fold(0u128, |sum, &s| sum.checked_add(weight(s)))
            .ok_or_else(overflow)?;
        if total == 0 {
            return Ok(None);
        }
        // units * w / total = (units / total) * w + (units % total) * w / total,
        // which keeps the products small.
        let (whole, rest) = (units / total, units % total);
        scratch.remainders.clear();
        let mut given = 0u128;
        for (at, &s) in sharing.iter().enumerate() {
            let w = weight(s);
            let part = rest.checked_mul(w).ok_or_else(overflow)?;
            let share = whole
                .checked_mul(w)
                .and_then(|share| share.checked_add(part / total))
                .ok_or_else(overflow)?;
            given = given.checked_add(share).ok_or_else(overflow)?;
            shares.push(share);
            scratch.remainders.push((part % total, at));
        }
        let left = units.checked_sub(given).ok_or_else(overflow)?;
        scratch
            .remainders
            .sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let left = usize::try_from(left).map_err(|_| overflow())?;
        for &(_, at) in scratch.remainders.iter().take(left) {
            if let Some(share) = shares.get_mut(at) {
                *share += 1;
            }
        }
        let total_weight = sharing
            .iter()
            .try_fold(Decimal::ZERO, |sum, &s| {
                sum.checked_add(self.given.get(s as usize).copied().unwrap_or_default())
            })
            .ok_or_else(overflow)?;
        Ok(Some(total_weight))
    }
}

/// The monthly cost of the resource `asset` describes, rounded to the minor
/// unit; `None` when it has none.
fn resource_cost(asset: &Asset, options: &CostOptions<'_>) -> Result<Option<Money>, Error> {
    let charge = options
        .charge
        .and_then(|(month, charge)| charge.charge(asset, month));
    let invalid = |reason: String| Error::invalid_field(asset.id(), "monthly_charge", reason);
    if let Some(charge) = charge {
        if charge.is_negative() {
            return Err(invalid(format!("{charge} is negative")));
        }
    }
    let cost = match (asset.monthly_cost(), charge) {
        (None, None) => return Ok(None),
        (Some(cost), None) | (None, Some(cost)) => cost,
        (Some(recurring), Some(charge)) => {
            if recurring.currency() != charge.currency() {
                return Err(invalid(format!(
                    "{charge} is not in {}, the currency of the monthly cost",
                    recurring.currency()
                )));
            }
            recurring.checked_add(charge)?
        }
    };
    if cost.is_negative() {
        return Err(Error::invalid_field(
            asset.id(),
            "monthly_cost",
            format!("{cost} is negative"),
        ));
    }
    Ok(Some(cost.round()))
}

/// `units` minor units of `currency`, if they fit.
fn money(units: u128, currency: Currency) -> Option<Money> {
    let units = i128::try_from(units).ok()?;
    let amount = Decimal::try_from_i128_with_scale(units, currency.minor_units()).ok()?;
    Some(Money::new(amount, currency))
}

/// A non-negative amount rounded to the minor unit as a whole number of
/// minor units.
fn minor_units(amount: Decimal, minor: u32) -> Option<u128> {
    let mantissa = u128::try_from(amount.mantissa()).ok()?;
    let scale = amount.scale();
    if scale <= minor {
        mantissa.checked_mul(10u128.checked_pow(minor - scale)?)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AssetKind, Batch, ConfigurationItem, RelationKind};

    fn id(text: &str) -> ResourceId {
        ResourceId::new(text).unwrap()
    }

    fn money(text: &str) -> Money {
        text.parse().unwrap()
    }

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn amounts(shares: &[Money]) -> Vec<String> {
        shares.iter().map(ToString::to_string).collect()
    }

    /// Splits `cost` among services with `weights` (`None`: evenly among
    /// `n`); `None` when every weight is zero.
    fn split_with(cost: Money, weights: &Weights) -> Option<Vec<Money>> {
        let minor = cost.currency().minor_units();
        let units = minor_units(cost.amount(), minor).unwrap();
        let sharing: Vec<u32> = (0u32..).take(weights.given.len()).collect();
        let mut shares = Vec::new();
        weights
            .split(units, &sharing, &mut shares, &mut Scratch::default())
            .unwrap()?;
        Some(
            shares
                .into_iter()
                .map(|units| super::money(units, cost.currency()).unwrap())
                .collect(),
        )
    }

    fn split(cost: Money, weights: &[Decimal]) -> Option<Vec<Money>> {
        split_with(cost, &Weights::from_given(weights.to_vec(), true).unwrap())
    }

    fn split_even(cost: Money, n: usize) -> Vec<Money> {
        split_with(
            cost,
            &Weights::from_given(vec![Decimal::ONE; n], false).unwrap(),
        )
        .unwrap()
    }

    /// An estate of business services `services`, each depending on the
    /// resources listed with it; every resource is a server with an asset
    /// of the given monthly cost.
    fn estate(services: &[(&str, &[&str])], costs: &[(&str, &str)]) -> Estate {
        let mut batch = Batch::new();
        for (service, _) in services {
            batch.insert_ci(
                ConfigurationItem::builder(id(service), *service, CiClass::BusinessService)
                    .build()
                    .unwrap(),
            );
        }
        for (resource, cost) in costs {
            batch.insert_ci(
                ConfigurationItem::builder(id(resource), *resource, CiClass::Server)
                    .build()
                    .unwrap(),
            );
            batch.insert_asset(
                Asset::builder(id(resource), *resource, AssetKind::Hardware)
                    .monthly_cost(money(cost))
                    .build()
                    .unwrap(),
            );
        }
        for (service, needs) in services {
            for resource in *needs {
                batch.relate(id(service), RelationKind::DependsOn, id(resource));
            }
        }
        let mut estate = Estate::new();
        estate.apply(batch).unwrap();
        estate
    }

    #[test]
    fn an_even_split_gives_the_leftover_cent_to_the_smallest_id() {
        for shares in [
            split_even(money("100.00 EUR"), 3),
            split(money("100.00 EUR"), &[Decimal::ONE; 3]).unwrap(),
        ] {
            assert_eq!(amounts(&shares), ["33.34 EUR", "33.33 EUR", "33.33 EUR"]);
        }
        for shares in [
            split_even(money("0.02 EUR"), 3),
            split(money("0.02 EUR"), &[Decimal::TEN; 3]).unwrap(),
        ] {
            assert_eq!(amounts(&shares), ["0.01 EUR", "0.01 EUR", "0.00 EUR"]);
        }
    }

    #[test]
    fn weights_split_in_proportion() {
        let weights = [dec("1"), dec("2"), dec("1")];
        let shares = split(money("10.00 EUR"), &weights).unwrap();
        assert_eq!(amounts(&shares), ["2.50 EUR", "5.00 EUR", "2.50 EUR"]);
        // Decimal weights at different scales: 0.5 : 0.25 : 0.25.
        let weights = [dec("0.5"), dec("0.25"), dec("0.250")];
        let shares = split(money("0.03 EUR"), &weights).unwrap();
        // Quotas 1.5, 0.75, 0.75 cents: floors 1, 0, 0; remainders .5, .75,
        // .75; the two leftover cents go to the two largest remainders.
        assert_eq!(amounts(&shares), ["0.01 EUR", "0.01 EUR", "0.01 EUR"]);
        let shares = split(money("0.01 EUR"), &[Decimal::ZERO, Decimal::ONE]).unwrap();
        assert_eq!(amounts(&shares), ["0.00 EUR", "0.01 EUR"]);
    }

    #[test]
    fn yen_have_no_minor_unit_and_dinars_three() {
        let shares = split_even(money("1000 JPY"), 3);
        assert_eq!(amounts(&shares), ["334 JPY", "333 JPY", "333 JPY"]);
        let shares = split(money("1000 JPY"), &[dec("1"), dec("2"), dec("1")]).unwrap();
        assert_eq!(amounts(&shares), ["250 JPY", "500 JPY", "250 JPY"]);
        let shares = split(money("1.000 KWD"), &[Decimal::ONE; 3]).unwrap();
        assert_eq!(amounts(&shares), ["0.334 KWD", "0.333 KWD", "0.333 KWD"]);
    }

    #[test]
    fn all_zero_weights_and_huge_values_are_refused() {
        assert_eq!(
            split(money("1.00 EUR"), &[Decimal::ZERO, Decimal::ZERO]),
            None
        );
        let weights = Weights::from_given(vec![Decimal::MAX, Decimal::ONE], true).unwrap();
        let units = minor_units(Decimal::MAX, 0).unwrap();
        let result = weights.split(units, &[0, 1], &mut Vec::new(), &mut Scratch::default());
        assert_eq!(
            result,
            Err(Error::Overflow {
                operation: "allocate"
            })
        );
        assert!(Weights::from_given(vec![Decimal::MAX, Decimal::new(1, 28)], true).is_err());
    }

    #[test]
    fn three_services_share_a_resource_evenly() {
        let estate = estate(
            &[("bs-a", &["dns"]), ("bs-b", &["dns"]), ("bs-c", &["dns"])],
            &[("dns", "100.00 EUR")],
        );
        let costs = cost_per_service(&estate, &CostOptions::new()).unwrap();
        let totals: Vec<String> = costs
            .services()
            .iter()
            .map(|s| format!("{} {}", s.service(), s.total(Currency::EUR)))
            .collect();
        assert_eq!(
            totals,
            ["bs-a 33.34 EUR", "bs-b 33.33 EUR", "bs-c 33.33 EUR"]
        );
        let line = costs.service("bs-b").unwrap().line("dns").unwrap();
        assert_eq!(line.cost(), money("100 EUR"));
        assert_eq!(line.sharing(), 3);
        assert!(line.is_shared());
        assert_eq!(
            line.allocation(),
            Allocation::Shared {
                services: 3,
                weight: Decimal::ONE,
                total_weight: Decimal::from(3)
            }
        );
    }

    #[test]
    fn weights_one_two_one_on_ten() {
        let estate = estate(
            &[("bs-a", &["san"]), ("bs-b", &["san"]), ("bs-c", &["san"])],
            &[("san", "10.00 GBP")],
        );
        let options = CostOptions::new().weight(id("bs-b"), Decimal::TWO);
        let costs = cost_per_service(&estate, &options).unwrap();
        let shares: Vec<String> = costs
            .services()
            .iter()
            .map(|s| s.total(Currency::GBP).to_string())
            .collect();
        assert_eq!(shares, ["2.50 GBP", "5.00 GBP", "2.50 GBP"]);
    }

    #[test]
    fn currencies_are_kept_apart() {
        let estate = estate(
            &[("bs-a", &["vm-uk", "vm-ie", "vm-jp"])],
            &[
                ("vm-uk", "10.00 GBP"),
                ("vm-ie", "20.00 EUR"),
                ("vm-jp", "500 JPY"),
            ],
        );
        let costs = cost_per_service(&estate, &CostOptions::new()).unwrap();
        let service = costs.service("bs-a").unwrap();
        let totals: Vec<String> = service.totals().values().map(ToString::to_string).collect();
        assert_eq!(totals, ["20.00 EUR", "10.00 GBP", "500 JPY"]);
        assert!(service.lines().all(|l| !l.is_shared()));
    }

    #[test]
    fn a_zero_weight_takes_no_share_and_all_zero_is_an_error() {
        let estate = estate(
            &[("bs-a", &["dns", "vm-a"]), ("bs-b", &["dns"])],
            &[("dns", "9.99 EUR"), ("vm-a", "1.00 EUR")],
        );
        let options = CostOptions::new().weight(id("bs-a"), Decimal::ZERO);
        let costs = cost_per_service(&estate, &options).unwrap();
        // Its own resource is its own whatever its weight.
        let a = costs.service("bs-a").unwrap();
        assert_eq!(a.total(Currency::EUR), money("1.00 EUR"));
        assert_eq!(a.line("dns").unwrap().share(), money("0.00 EUR"));
        assert_eq!(a.line("vm-a").unwrap().allocation(), Allocation::Direct);
        assert_eq!(
            costs.service("bs-b").unwrap().total(Currency::EUR),
            money("9.99 EUR")
        );
        let options = options.weight(id("bs-b"), Decimal::ZERO);
        let err = cost_per_service(&estate, &options).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid cost weights for `dns`: all 2 services sharing it have weight zero"
        );
    }

    #[test]
    fn bad_weights_name_the_culprit() {
        let estate = estate(&[("bs-a", &["dns"])], &[("dns", "1.00 EUR")]);
        let negative = CostOptions::new().weight(id("bs-a"), dec("-1"));
        assert_eq!(
            cost_per_service(&estate, &negative)
                .unwrap_err()
                .to_string(),
            "invalid cost weights for `bs-a`: weight -1 is negative"
        );
        let unknown = CostOptions::new().weight(id("bs-x"), Decimal::ONE);
        assert_eq!(
            cost_per_service(&estate, &unknown).unwrap_err(),
            Error::UnknownCi(id("bs-x"))
        );
        let not_a_service = CostOptions::new().weight(id("dns"), Decimal::ONE);
        assert_eq!(
            cost_per_service(&estate, &not_a_service)
                .unwrap_err()
                .to_string(),
            "invalid cost weights for `dns`: it is a server, not a service"
        );
    }

    #[test]
    fn a_charge_is_added_rounded_and_checked() {
        let estate = estate(&[("bs-a", &["hv"])], &[("hv", "100.00 EUR")]);
        let month = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let depreciation = |asset: &Asset, _: NaiveDate| {
            (asset.id().as_str() == "hv").then(|| money("33.333 EUR"))
        };
        let options = CostOptions::new().charge(month, &depreciation);
        let costs = cost_per_service(&estate, &options).unwrap();
        assert_eq!(
            costs.service("bs-a").unwrap().total(Currency::EUR),
            money("133.33 EUR")
        );

        let negative = |_: &Asset, _: NaiveDate| Some(money("-1 EUR"));
        let err =
            cost_per_service(&estate, &CostOptions::new().charge(month, &negative)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid monthly_charge of `hv`: -1 EUR is negative"
        );
        let mut table = BTreeMap::new();
        table.insert(id("hv"), money("1 USD"));
        let err = cost_per_service(&estate, &CostOptions::new().charge(month, &table)).unwrap_err();
        assert!(matches!(err, Error::InvalidField { ref id, .. } if id.as_str() == "hv"));
    }

    #[test]
    fn services_without_cost_get_an_empty_line_and_unallocated_is_listed() {
        let estate = estate(
            &[("bs-a", &[]), ("bs-b", &["vm"])],
            &[("vm", "5.00 EUR"), ("idle", "7.00 EUR")],
        );
        let costs = cost_per_service(&estate, &CostOptions::new()).unwrap();
        let a = costs.service("bs-a").unwrap();
        assert!(a.is_zero() && a.lines().len() == 0 && a.totals().is_empty());
        assert_eq!(a.total(Currency::EUR), Money::zero(Currency::EUR));
        let idle: Vec<&str> = costs
            .unallocated()
            .iter()
            .map(|u| u.resource().as_str())
            .collect();
        assert_eq!(idle, ["idle"]);
        assert!(costs.unallocated()[0].has_ci());
        assert_eq!(costs.totals()[&Currency::EUR], money("12.00 EUR"));
        assert_eq!(
            costs.unallocated_totals()[&Currency::EUR],
            money("7.00 EUR")
        );
    }

    #[test]
    fn max_depth_limits_what_is_beneath() {
        let estate = estate(&[("bs-a", &["vm"])], &[("vm", "5.00 EUR")]);
        let costs = cost_per_service(&estate, &CostOptions::new().max_depth(0)).unwrap();
        assert!(costs.service("bs-a").unwrap().is_zero());
        assert_eq!(costs.unallocated().len(), 1);
    }
}
