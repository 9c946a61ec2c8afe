//! Finance and asset governance: depreciation, warranties and contracts, the
//! renewal calendar, licence compliance and cost per service.
//!
//! Every answer takes the instant it is asked for as an argument and uses
//! exact [`Money`](crate::Money); nothing here reads a clock or converts
//! currencies.

mod calendar;
mod contract;
mod cost;
pub mod depreciation;
mod licence;

pub use self::calendar::{CalendarEntry, CalendarEvent, RenewalCalendar, renewal_calendar};
pub use self::contract::{
    BillingPeriod, Contract, ContractBuilder, Coverage, CoverageState, NoticePeriod, Renewal,
    coverage,
};
pub use self::depreciation::{
    Convention, DecliningSwitch, Depreciation, DepreciationBuilder, DepreciationMethod,
    DepreciationPeriod, FirstMonth,
};
pub use self::licence::{
    Assignment, Consumer, ConsumerStatus, Entitlement, EntitlementBuilder, EntitlementStatus,
    LicenceMetric, LicencePosition, LicenceQuantity, LicenceRules, UnlicensedReason, compliance,
};

pub use self::cost::{
    Allocation, CostLine, CostLines, CostOptions, MonthlyCharge, ServiceCost, ServiceCosts,
    UnallocatedCost, cost_per_service,
};
