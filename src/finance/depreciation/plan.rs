//! The validated plan, [`Depreciation`], its builder, and its schedules of
//! [`DepreciationPeriod`]s.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::arith::sub;
use super::method::{Convention, DepreciationMethod, cumulative_by_year};
use super::timeline::{Timeline, end_of_month, end_of_year};
use crate::{Asset, Error, Money, ResourceId, Rounding};

/// A validated depreciation plan for one asset: what it cost, what it will
/// be worth at the end, how long it is used, when it went into service, and
/// how its value is written down.
///
/// Build one with [`Depreciation::builder`] or [`Depreciation::for_asset`].
/// The plan answers two questions for any date: the [book
/// value](Depreciation::book_value) at the end of that day, and the
/// schedule of charges [by month](Depreciation::schedule_by_month) or [by
/// year](Depreciation::schedule_by_year). Both are read off one exact
/// curve, rounded as the [module docs](crate::finance::depreciation#rounding)
/// describe, so they always agree to the minor unit.
///
/// # Invariants
///
/// * the cost is not negative, the salvage value is not negative and not
///   above the cost, and both are in the same currency;
/// * the useful life is 1 to [`Depreciation::MAX_USEFUL_LIFE_MONTHS`]
///   months;
/// * a declining-balance rate is above 0 and at most 1.
///
/// Deserialising checks the same rules.
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use itam_cmdb::ResourceId;
/// use itam_cmdb::finance::Depreciation;
///
/// let plan = Depreciation::builder(
///     ResourceId::new("SN-1")?,
///     "10000.00 EUR".parse()?,
///     NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
/// )
/// .useful_life_years(5)
/// .build()?;
/// let year_end = NaiveDate::from_ymd_opt(2024, 12, 31).unwrap();
/// assert_eq!(plan.book_value(year_end), "8000.00 EUR".parse()?);
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "DepreciationRecord")]
pub struct Depreciation {
    asset: ResourceId,
    cost: Money,
    salvage: Money,
    useful_life_months: u32,
    in_service: NaiveDate,
    method: DepreciationMethod,
    convention: Convention,
}

/// The serialised form of [`Depreciation`], checked on the way in.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DepreciationRecord {
    asset: ResourceId,
    cost: Money,
    salvage: Money,
    useful_life_months: u32,
    in_service: NaiveDate,
    method: DepreciationMethod,
    convention: Convention,
}

impl TryFrom<DepreciationRecord> for Depreciation {
    type Error = Error;

    fn try_from(record: DepreciationRecord) -> Result<Self, Error> {
        let plan = Self {
            asset: record.asset,
            cost: record.cost,
            salvage: record.salvage,
            useful_life_months: record.useful_life_months,
            in_service: record.in_service,
            method: record.method,
            convention: record.convention,
        };
        plan.validate()?;
        Ok(plan)
    }
}

impl Depreciation {
    /// The longest useful life a plan accepts: 1,200 months (100 years).
    pub const MAX_USEFUL_LIFE_MONTHS: u32 = 1200;

    /// Starts a plan for `asset`, which cost `cost` and went into service
    /// on `in_service`. The useful life must be set; the salvage value
    /// defaults to zero, the method to [`DepreciationMethod::StraightLine`],
    /// the convention to [`Convention::default`] (full months from the
    /// in-service month).
    pub fn builder(asset: ResourceId, cost: Money, in_service: NaiveDate) -> DepreciationBuilder {
        DepreciationBuilder {
            asset,
            cost,
            in_service,
            salvage: None,
            life_months: None,
            method: DepreciationMethod::default(),
            convention: Convention::default(),
        }
    }

    /// Starts a plan from an asset's record: its id, its purchase cost, and
    /// its purchase date as the in-service date (change it with
    /// [`DepreciationBuilder::in_service`]).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidField`] naming `purchase_cost` or `purchase_date` if
    /// the asset does not record it.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use itam_cmdb::finance::Depreciation;
    /// use itam_cmdb::{Asset, AssetKind, ResourceId};
    ///
    /// let bought = NaiveDate::from_ymd_opt(2024, 3, 15).unwrap();
    /// let server = Asset::builder(ResourceId::new("srv-1")?, "db server", AssetKind::Hardware)
    ///     .purchase_cost("12000.00 EUR".parse()?)
    ///     .purchase_date(bought)
    ///     .build()?;
    /// let plan = Depreciation::for_asset(&server)?.useful_life_years(4).build()?;
    /// assert_eq!(plan.in_service(), bought);
    /// assert_eq!(plan.book_value(bought), "12000.00 EUR".parse()?);
    ///
    /// let bare = Asset::builder(ResourceId::new("srv-2")?, "spare", AssetKind::Hardware).build()?;
    /// let err = Depreciation::for_asset(&bare).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "invalid purchase_cost of `srv-2`: is not recorded, and a depreciation plan needs it",
    /// );
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    pub fn for_asset(asset: &Asset) -> Result<DepreciationBuilder, Error> {
        let missing = |field: &str| {
            Error::invalid_field(
                asset.id(),
                field,
                "is not recorded, and a depreciation plan needs it".to_owned(),
            )
        };
        let cost = asset
            .purchase_cost()
            .ok_or_else(|| missing("purchase_cost"))?;
        let bought = asset
            .purchase_date()
            .ok_or_else(|| missing("purchase_date"))?;
        Ok(Self::builder(asset.id().clone(), cost, bought))
    }

    /// The asset the plan depreciates.
    #[must_use]
    pub fn asset(&self) -> &ResourceId {
        &self.asset
    }

    /// What the asset cost: its book value until depreciation starts.
    #[must_use]
    pub fn cost(&self) -> Money {
        self.cost
    }

    /// What the asset is worth at the end of its life: its book value from
    /// then on.
    #[must_use]
    pub fn salvage(&self) -> Money {
        self.salvage
    }

    /// The amount written off over the whole life: cost minus salvage.
    #[must_use]
    pub fn depreciable(&self) -> Money {
        Money::new(self.whole(), self.cost.currency())
    }

    /// The useful life in months.
    #[must_use]
    pub fn useful_life_months(&self) -> u32 {
        self.useful_life_months
    }

    /// The date the asset went into service.
    #[must_use]
    pub fn in_service(&self) -> NaiveDate {
        self.in_service
    }

    /// How the depreciable amount is spread over the life years.
    #[must_use]
    pub fn method(&self) -> DepreciationMethod {
        self.method
    }

    /// When depreciation starts and how it is spread within a year.
    #[must_use]
    pub fn convention(&self) -> Convention {
        self.convention
    }

    /// The first day of depreciation: the in-service date under
    /// [`Convention::DailyProRata`], else the first of the in-service month
    /// or of the month after it. The first charge is taken at the end of
    /// that day or of that month, never before the in-service date.
    #[must_use]
    pub fn starts_on(&self) -> NaiveDate {
        self.timeline().start()
    }

    /// The last day of depreciation: from the end of this day on, the book
    /// value is the salvage value. A life that would run past
    /// `NaiveDate::MAX` ends on it.
    #[must_use]
    pub fn ends_on(&self) -> NaiveDate {
        self.timeline().last()
    }

    /// The depreciation accumulated by the end of `as_of`, rounded to the
    /// currency's minor unit (see the [module docs](crate::finance::depreciation#rounding)):
    /// zero before depreciation starts, the whole depreciable amount from
    /// [`Depreciation::ends_on`] on, never decreasing in between.
    #[must_use]
    pub fn accumulated(&self, as_of: NaiveDate) -> Money {
        let amount = self.accumulated_with(&self.timeline(), &self.curve(), as_of);
        Money::new(amount, self.cost.currency())
    }

    /// The book value at the end of `as_of`: cost minus
    /// [accumulated](Depreciation::accumulated) depreciation.
    ///
    /// It is the cost before the in-service date, never increases as
    /// `as_of` moves on, never falls below the salvage value, and is the
    /// salvage value from [`Depreciation::ends_on`] on. It is defined for
    /// every date, `NaiveDate::MIN` and `NaiveDate::MAX` included.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use itam_cmdb::ResourceId;
    /// use itam_cmdb::finance::{Convention, Depreciation};
    ///
    /// let day = |m, d| NaiveDate::from_ymd_opt(2024, m, d).unwrap();
    /// // 366.00 over the 366 days of 2024: 1.00 a day.
    /// let plan = Depreciation::builder(ResourceId::new("SN-7")?, "366.00 EUR".parse()?, day(1, 1))
    ///     .useful_life_months(12)
    ///     .convention(Convention::DailyProRata)
    ///     .build()?;
    /// assert_eq!(plan.book_value(NaiveDate::MIN), "366.00 EUR".parse()?);
    /// assert_eq!(plan.book_value(day(1, 1)), "365.00 EUR".parse()?);
    /// assert_eq!(plan.book_value(day(2, 29)), "306.00 EUR".parse()?);
    /// assert_eq!(plan.book_value(day(12, 31)), "0.00 EUR".parse()?);
    /// assert_eq!(plan.book_value(NaiveDate::MAX), plan.salvage());
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    #[must_use]
    pub fn book_value(&self, as_of: NaiveDate) -> Money {
        let accumulated = self.accumulated_with(&self.timeline(), &self.curve(), as_of);
        Money::new(sub(self.cost.amount(), accumulated), self.cost.currency())
    }

    /// The schedule by calendar month, from the month depreciation starts
    /// to the month it ends (at most 1,201 periods).
    ///
    /// The first period starts on [`Depreciation::starts_on`] and the last
    /// ends on [`Depreciation::ends_on`]; the others are whole calendar
    /// months. The charges sum exactly to cost minus salvage, each period
    /// opens at the previous one's closing value, and each closing value is
    /// the [`Depreciation::book_value`] on the period's last day.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use itam_cmdb::{Money, ResourceId};
    /// use itam_cmdb::finance::Depreciation;
    ///
    /// let plan = Depreciation::builder(
    ///     ResourceId::new("SN-3")?,
    ///     "1000.00 EUR".parse()?,
    ///     NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
    /// )
    /// .useful_life_months(7)
    /// .build()?;
    /// let schedule = plan.schedule_by_month();
    /// let charges: Vec<String> = schedule.iter().map(|p| p.charge().to_string()).collect();
    /// // 1000 / 7 = 142.857...: the accumulated amount is rounded, not
    /// // each charge, so the cents fall where the exact curve puts them.
    /// assert_eq!(
    ///     charges,
    ///     ["142.86", "142.85", "142.86", "142.86", "142.86", "142.85", "142.86"].map(|c| format!("{c} EUR")),
    /// );
    /// let total = Money::sum(plan.cost().currency(), schedule.iter().map(|p| p.charge()))?;
    /// assert_eq!(total, plan.depreciable());
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    #[must_use]
    pub fn schedule_by_month(&self) -> Vec<DepreciationPeriod> {
        self.schedule(end_of_month)
    }

    /// The schedule by calendar year, from the year depreciation starts to
    /// the year it ends; the same rules as
    /// [`Depreciation::schedule_by_month`], whose months it adds up.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use itam_cmdb::ResourceId;
    /// use itam_cmdb::finance::{Depreciation, DepreciationMethod};
    ///
    /// let plan = Depreciation::builder(
    ///     ResourceId::new("SN-4")?,
    ///     "15000 EUR".parse()?,
    ///     NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
    /// )
    /// .useful_life_years(5)
    /// .method(DepreciationMethod::SumOfYearsDigits)
    /// .build()?;
    /// let charges: Vec<String> =
    ///     plan.schedule_by_year().iter().map(|p| p.charge().amount().to_string()).collect();
    /// assert_eq!(charges, ["5000.00", "4000.00", "3000.00", "2000.00", "1000.00"]);
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    #[must_use]
    pub fn schedule_by_year(&self) -> Vec<DepreciationPeriod> {
        self.schedule(end_of_year)
    }

    fn schedule(&self, period_end: fn(NaiveDate) -> NaiveDate) -> Vec<DepreciationPeriod> {
        let timeline = self.timeline();
        let curve = self.curve();
        let mut periods = Vec::new();
        let mut start = timeline.start();
        let mut before = Decimal::ZERO;
        loop {
            let end = period_end(start).min(timeline.last());
            let after = self.accumulated_with(&timeline, &curve, end);
            periods.push(self.period(start, end, before, after));
            match end.succ_opt() {
                Some(next) if end < timeline.last() => start = next,
                _ => return periods,
            }
            before = after;
        }
    }

    fn period(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        before: Decimal,
        after: Decimal,
    ) -> DepreciationPeriod {
        let money = |amount| Money::new(amount, self.cost.currency());
        DepreciationPeriod {
            start,
            end,
            opening: money(sub(self.cost.amount(), before)),
            charge: money(sub(after, before)),
            closing: money(sub(self.cost.amount(), after)),
            accumulated: money(after),
        }
    }

    /// The rounded accumulated depreciation at the end of `date`.
    fn accumulated_with(&self, timeline: &Timeline, curve: &[Decimal], date: NaiveDate) -> Decimal {
        let whole = self.whole();
        if date >= timeline.last() {
            return whole;
        }
        let exact = Money::new(timeline.accumulated(curve, date), self.cost.currency());
        exact.round_with(Rounding::HalfEven).amount().min(whole)
    }

    fn whole(&self) -> Decimal {
        sub(self.cost.amount(), self.salvage.amount())
    }

    fn timeline(&self) -> Timeline {
        Timeline::new(self.in_service, self.useful_life_months, self.convention)
    }

    fn curve(&self) -> Vec<Decimal> {
        cumulative_by_year(
            self.method,
            self.cost.amount(),
            self.salvage.amount(),
            self.useful_life_months,
        )
    }

    fn validate(&self) -> Result<(), Error> {
        let bad =
            |field: &str, reason: String| Err(Error::invalid_field(&self.asset, field, reason));
        let (cost, salvage) = (self.cost, self.salvage);
        if cost.is_negative() {
            return bad("cost", format!("{cost} must not be negative"));
        }
        if salvage.currency() != cost.currency() {
            return bad(
                "salvage",
                format!(
                    "{salvage} is not in the cost's currency {}",
                    cost.currency()
                ),
            );
        }
        if salvage.is_negative() {
            return bad("salvage", format!("{salvage} must not be negative"));
        }
        if salvage.amount() > cost.amount() {
            return bad(
                "salvage",
                format!("{salvage} must not be above the cost {cost}"),
            );
        }
        let months = self.useful_life_months;
        if !(1..=Self::MAX_USEFUL_LIFE_MONTHS).contains(&months) {
            return bad(
                "useful_life",
                format!("{months} months is not between 1 and 1200 months (100 years)"),
            );
        }
        if let DepreciationMethod::DecliningBalance { rate, .. } = self.method {
            if rate <= Decimal::ZERO || rate > Decimal::ONE {
                return bad("rate", format!("{rate} is not above 0 and at most 1"));
            }
        }
        Ok(())
    }
}

/// Builds a [`Depreciation`]; see [`Depreciation::builder`].
///
/// Setters take and return the builder by value; [`build`] checks
/// everything at once.
///
/// [`build`]: DepreciationBuilder::build
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct DepreciationBuilder {
    asset: ResourceId,
    cost: Money,
    in_service: NaiveDate,
    salvage: Option<Money>,
    life_months: Option<u64>,
    method: DepreciationMethod,
    convention: Convention,
}

impl DepreciationBuilder {
    /// Sets the salvage (residual) value; zero by default.
    pub fn salvage(mut self, salvage: Money) -> Self {
        self.salvage = Some(salvage);
        self
    }

    /// Sets the useful life in months.
    pub fn useful_life_months(mut self, months: u32) -> Self {
        self.life_months = Some(u64::from(months));
        self
    }

    /// Sets the useful life in years (twelve months each).
    pub fn useful_life_years(mut self, years: u32) -> Self {
        self.life_months = Some(u64::from(years) * 12);
        self
    }

    /// Sets the in-service date.
    pub fn in_service(mut self, date: NaiveDate) -> Self {
        self.in_service = date;
        self
    }

    /// Sets the method; straight line by default.
    pub fn method(mut self, method: DepreciationMethod) -> Self {
        self.method = method;
        self
    }

    /// Sets the convention; full months from the in-service month by
    /// default.
    pub fn convention(mut self, convention: Convention) -> Self {
        self.convention = convention;
        self
    }

    /// Checks the plan and builds it.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidField`], naming the asset and the field (`cost`,
    /// `salvage`, `useful_life` or `rate`), if the cost is negative; the
    /// salvage value is negative, above the cost or in another currency;
    /// the useful life is not set, zero, or over
    /// [`Depreciation::MAX_USEFUL_LIFE_MONTHS`]; or a declining-balance rate
    /// is not above 0 and at most 1.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use itam_cmdb::ResourceId;
    /// use itam_cmdb::finance::Depreciation;
    ///
    /// let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    /// let err = Depreciation::builder(ResourceId::new("SN-5")?, "100 EUR".parse()?, start)
    ///     .salvage("150 EUR".parse()?)
    ///     .useful_life_years(3)
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "invalid salvage of `SN-5`: 150 EUR must not be above the cost 100 EUR",
    /// );
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    pub fn build(self) -> Result<Depreciation, Error> {
        let Some(months) = self.life_months else {
            return Err(Error::invalid_field(
                &self.asset,
                "useful_life",
                "is not set; give it in months or years".to_owned(),
            ));
        };
        let useful_life_months = u32::try_from(months).map_err(|_| {
            Error::invalid_field(
                &self.asset,
                "useful_life",
                format!("{months} months is not between 1 and 1200 months (100 years)"),
            )
        })?;
        let plan = Depreciation {
            salvage: self.salvage.unwrap_or(Money::zero(self.cost.currency())),
            asset: self.asset,
            cost: self.cost,
            useful_life_months,
            in_service: self.in_service,
            method: self.method,
            convention: self.convention,
        };
        plan.validate()?;
        Ok(plan)
    }
}

/// One period of a depreciation schedule: a calendar month or year, cut to
/// the plan's first and last day.
///
/// `closing = opening - charge`, `accumulated` is the depreciation from the
/// plan's start to the end of the period, and every amount is in the plan's
/// currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepreciationPeriod {
    start: NaiveDate,
    end: NaiveDate,
    opening: Money,
    charge: Money,
    closing: Money,
    accumulated: Money,
}

impl DepreciationPeriod {
    /// The first day of the period.
    #[must_use]
    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// The last day of the period, included.
    #[must_use]
    pub fn end(&self) -> NaiveDate {
        self.end
    }

    /// The book value at the start of the period (the end of the day
    /// before).
    #[must_use]
    pub fn opening(&self) -> Money {
        self.opening
    }

    /// The depreciation charged in the period.
    #[must_use]
    pub fn charge(&self) -> Money {
        self.charge
    }

    /// The book value at the end of the period.
    #[must_use]
    pub fn closing(&self) -> Money {
        self.closing
    }

    /// The depreciation accumulated from the plan's start to the end of the
    /// period.
    #[must_use]
    pub fn accumulated(&self) -> Money {
        self.accumulated
    }
}
