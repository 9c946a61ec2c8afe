//! Depreciation: how an asset's book value is written down from its cost to
//! its salvage value over its useful life.
//!
//! A [`Depreciation`] is a validated plan for one asset. It answers the
//! [book value](Depreciation::book_value) at the end of any day, and the
//! schedule of charges [by month](Depreciation::schedule_by_month) or [by
//! year](Depreciation::schedule_by_year) as [`DepreciationPeriod`]s.
//!
//! ```
//! use chrono::NaiveDate;
//! use itam_cmdb::ResourceId;
//! use itam_cmdb::finance::{Depreciation, DepreciationMethod};
//! use rust_decimal::Decimal;
//!
//! let plan = Depreciation::builder(
//!     ResourceId::new("SN-1")?,
//!     "10000.00 EUR".parse()?,
//!     NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
//! )
//! .useful_life_years(5)
//! .method(DepreciationMethod::declining_balance(Decimal::new(5, 1)))
//! .build()?;
//! let closing: Vec<String> =
//!     plan.schedule_by_year().iter().map(|p| p.closing().amount().to_string()).collect();
//! assert_eq!(closing, ["5000.00", "2500.00", "1250.00", "625.00", "0.00"]);
//! # Ok::<(), itam_cmdb::Error>(())
//! ```
//!
//! # Methods
//!
//! A [`DepreciationMethod`] spreads cost minus salvage over *life years*,
//! twelve-month steps from the start of depreciation: straight line,
//! declining balance at a rate (the rest written off in the last year, or a
//! switch to straight line), double-declining balance (with the switch), and
//! sum of the years' digits. The last life year always ends exactly at the
//! salvage value.
//!
//! # Conventions
//!
//! A [`Convention`] says when depreciation starts and how a life year's
//! charge is spread within it:
//!
//! * [`Convention::FullMonths`]: whole calendar months, starting with the
//!   in-service month or the one after ([`FirstMonth`]); each month's charge
//!   is taken on its last day.
//! * [`Convention::DailyProRata`]: from the in-service day, a life year's
//!   charge accrues evenly over its days (365 or 366).
//!
//! Months are added with chrono's `checked_add_months`, which clamps to the
//! end of a shorter month: 31 January plus one month is 28 (or 29)
//! February. Each boundary is counted from the start, so two months after
//! 31 January is 31 March.
//!
//! # Rounding
//!
//! The curve underneath is exact decimal arithmetic. What a plan reports is
//! the *accumulated* depreciation at each date, rounded half-even (banker's
//! rounding) to the currency's minor unit (cents, or whole yen), and never
//! above cost minus salvage; on the last day it is exactly cost minus
//! salvage. A period's charge is the difference between the rounded
//! accumulated amounts at its end and at the end of the period before.
//!
//! So every charge and book value is a whole number of minor units (when
//! the cost and salvage are), every reported figure is within half a minor
//! unit of the exact one, the charges of a schedule sum *exactly* to cost
//! minus salvage, and the monthly schedule, the yearly schedule and
//! [`Depreciation::book_value`] agree with each other on every date. The
//! cents that do not divide evenly fall where the exact curve crosses them,
//! rather than all in the last period: 1,000.00 over 7 months is charged
//! 142.86, 142.85, 142.86, 142.86, 142.86, 142.85, 142.86.
//!
//! # Extreme dates
//!
//! Every date is accepted, `NaiveDate::MIN` and `NaiveDate::MAX` included,
//! and all date arithmetic is checked. A life that would run past
//! `NaiveDate::MAX` is cut short there: the last period ends on
//! `NaiveDate::MAX` and takes whatever is left, so the book value on
//! `NaiveDate::MAX` is always the salvage value. Depreciation that would
//! start after `NaiveDate::MAX` (full months from the following month, in
//! service in its last month) starts and ends on it.
//!
//! # Serde
//!
//! Every type here implements `Serialize` and `Deserialize`; a plan is
//! checked on the way in as thoroughly as [`DepreciationBuilder::build`]
//! checks it. Rates are decimal strings, like money amounts.

mod arith;
mod method;
mod plan;
mod timeline;

pub use self::method::{Convention, DecliningSwitch, DepreciationMethod, FirstMonth};
pub use self::plan::{Depreciation, DepreciationBuilder, DepreciationPeriod};
