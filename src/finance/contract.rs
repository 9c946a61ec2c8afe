//! Contracts: a term, a notice period and a renewal rule; and the warranty
//! and support coverage of an asset. The date conventions (inclusive last
//! days, month steps clamped and counted from the start, the last
//! representable date) are documented on [`Contract`].

mod coverage;

use std::fmt;

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

pub use self::coverage::{Coverage, CoverageState, coverage};
use crate::label::{MAX_TEXT, check_field_label};
use crate::{Error, Money, ResourceId};

/// How long before a term ends notice must be given to stop the contract
/// renewing.
///
/// Counted back from the last day of the term: with `Days(90)` and a term
/// ending 2027-01-30, the deadline is 2026-11-01 (90 days earlier); with
/// `Months(3)` it is 2026-10-30 (three calendar months earlier, clamped to
/// the end of a shorter month like every month step here). `Days(0)`, the
/// default, means notice can be given up to the last day of the term.
///
/// # Serde
///
/// `{"days": 90}` or `{"months": 3}`.
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use itam_cmdb::finance::NoticePeriod;
///
/// let end = NaiveDate::from_ymd_opt(2027, 1, 30).unwrap();
/// assert_eq!(NoticePeriod::Days(90).before(end), NaiveDate::from_ymd_opt(2026, 11, 1));
/// assert_eq!(NoticePeriod::Months(3).before(end), NaiveDate::from_ymd_opt(2026, 10, 30));
/// assert_eq!(NoticePeriod::Days(90).to_string(), "90 days");
/// assert_eq!(NoticePeriod::default(), NoticePeriod::Days(0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NoticePeriod {
    /// A number of calendar days.
    Days(u32),
    /// A number of calendar months.
    Months(u32),
}

impl Default for NoticePeriod {
    fn default() -> Self {
        Self::Days(0)
    }
}

impl NoticePeriod {
    /// The date this period before `date`, or `None` if that is before
    /// [`NaiveDate::MIN`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use itam_cmdb::finance::NoticePeriod;
    ///
    /// let d = NaiveDate::from_ymd_opt(2026, 3, 31).unwrap();
    /// assert_eq!(NoticePeriod::Months(1).before(d), NaiveDate::from_ymd_opt(2026, 2, 28));
    /// assert_eq!(NoticePeriod::Days(1).before(NaiveDate::MIN), None);
    /// ```
    #[must_use]
    pub fn before(self, date: NaiveDate) -> Option<NaiveDate> {
        match self {
            Self::Days(days) => date.checked_sub_days(Days::new(u64::from(days))),
            Self::Months(months) => date.checked_sub_months(Months::new(months)),
        }
    }

    /// The date this period after `date`, or `None` if that is after
    /// [`NaiveDate::MAX`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use itam_cmdb::finance::NoticePeriod;
    ///
    /// let d = NaiveDate::from_ymd_opt(2026, 1, 31).unwrap();
    /// assert_eq!(NoticePeriod::Months(1).after(d), NaiveDate::from_ymd_opt(2026, 2, 28));
    /// assert_eq!(NoticePeriod::Days(1).after(NaiveDate::MAX), None);
    /// ```
    #[must_use]
    pub fn after(self, date: NaiveDate) -> Option<NaiveDate> {
        match self {
            Self::Days(days) => date.checked_add_days(Days::new(u64::from(days))),
            Self::Months(months) => date.checked_add_months(Months::new(months)),
        }
    }
}

impl fmt::Display for NoticePeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (n, unit) = match *self {
            Self::Days(n) => (n, "day"),
            Self::Months(n) => (n, "month"),
        };
        let plural = if n == 1 { "" } else { "s" };
        write!(f, "{n} {unit}{plural}")
    }
}

/// What happens when a contract's term ends.
///
/// # Serde
///
/// `"none"`, `"explicit"` or `{"automatic": {"term_months": 12}}`.
///
/// # Example
///
/// ```
/// use itam_cmdb::finance::Renewal;
///
/// let tacit = Renewal::Automatic { term_months: 12 };
/// assert_eq!(tacit.to_string(), "renews automatically for 12 months");
/// assert_eq!(Renewal::default(), Renewal::None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Renewal {
    /// The contract ends with its initial term. The default.
    #[default]
    None,
    /// Tacit renewal: at the end of each term the contract rolls over into a
    /// new term of `term_months`, unless notice was given by the notice
    /// deadline.
    Automatic {
        /// The length of each renewal term, in months (at least 1).
        term_months: u32,
    },
    /// The contract ends with its initial term unless it is actively
    /// renewed; a renewal is recorded as a new contract.
    Explicit,
}

impl fmt::Display for Renewal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::None => f.write_str("does not renew"),
            Self::Automatic { term_months: 1 } => f.write_str("renews automatically for 1 month"),
            Self::Automatic { term_months } => {
                write!(f, "renews automatically for {term_months} months")
            }
            Self::Explicit => f.write_str("must be renewed explicitly"),
        }
    }
}

/// How often a contract is billed.
///
/// # Example
///
/// ```
/// use itam_cmdb::finance::BillingPeriod;
///
/// assert_eq!(BillingPeriod::Quarterly.months(), 3);
/// assert_eq!(BillingPeriod::Quarterly.periods_per_year(), 4);
/// assert_eq!(BillingPeriod::default(), BillingPeriod::Annual);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BillingPeriod {
    /// Every month.
    Monthly,
    /// Every three months.
    Quarterly,
    /// Every year. The default.
    #[default]
    Annual,
}

impl BillingPeriod {
    /// The length of one period in months: 1, 3 or 12.
    #[must_use]
    pub fn months(self) -> u32 {
        match self {
            Self::Monthly => 1,
            Self::Quarterly => 3,
            Self::Annual => 12,
        }
    }

    /// How many periods make a year: 12, 4 or 1.
    #[must_use]
    pub fn periods_per_year(self) -> u32 {
        match self {
            Self::Monthly => 12,
            Self::Quarterly => 4,
            Self::Annual => 1,
        }
    }
}

impl fmt::Display for BillingPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::Monthly => "monthly",
            Self::Quarterly => "quarterly",
            Self::Annual => "annual",
        })
    }
}

/// A contract with a vendor: what it covers, its term, how it renews, how
/// much notice stops it and who must be told.
///
/// # Terms
///
/// Every date is a whole calendar day, and every end or last day is
/// inclusive: a term that ends on 2027-01-30 is still in force that day.
///
/// A term of `n` months that starts on day `s` ends on `s + n months - 1
/// day` (a 12-month term from 2026-01-01 ends on 2026-12-31), and the next
/// term starts the day after. Adding months keeps the day of the month and
/// clamps it to the last day of a shorter month (chrono's
/// `checked_add_months`): 2026-01-31 plus one month is 2026-02-28. So a
/// 12-month term from 2026-01-31 ends on 2027-01-30.
///
/// Anniversaries are always counted from the original start date, never
/// from the previous anniversary, so clamping never drifts: a monthly
/// contract from 2026-01-31 renews on 2026-02-28, 2026-03-31 and 2026-04-30
/// (its terms end 2026-02-27, 2026-03-30 and 2026-04-29).
///
/// # The last representable date
///
/// Dates run from [`NaiveDate::MIN`] to [`NaiveDate::MAX`]. A contract whose
/// *initial* term would end after the last representable date is refused
/// when it is built; an automatically renewed term that would end after it
/// has no end date ([`Contract::term_end`] returns `None`) and is in force
/// for as long as dates go. No date arithmetic here panics or wraps.
///
/// # Invariants
///
/// * the name, counterparty and owner are labels: not empty, at most 1024
///   bytes, no control characters, no leading or trailing whitespace;
/// * the initial term, and an automatic renewal term, are at least 1 month;
/// * the initial term ends on a representable date;
/// * the cost per billing period is not negative;
/// * the covered resources are listed once each, in the order given.
///
/// Each broken rule is an [`Error::InvalidField`] naming the contract and
/// the field.
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use itam_cmdb::{finance::{BillingPeriod, Contract, NoticePeriod, Renewal}, ResourceId};
///
/// let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
/// let contract = Contract::builder(
///     ResourceId::new("ctr-azure-ea")?,
///     "Azure enterprise agreement",
///     "Microsoft",
///     day(2026, 1, 31),
///     12,
/// )
/// .resource(ResourceId::new("vm-pay-01")?)
/// .notice(NoticePeriod::Days(90))
/// .renewal(Renewal::Automatic { term_months: 12 })
/// .billing(BillingPeriod::Monthly)
/// .cost_per_period("4100.00 GBP".parse()?)
/// .owner("Dana Whitfield")
/// .build()?;
///
/// // 2026-01-31 + 12 months = 2027-01-31, so the first term ends the day before.
/// assert_eq!(contract.term_end(day(2026, 6, 1)), Some(day(2027, 1, 30)));
/// // 90 days before 2027-01-30.
/// assert_eq!(contract.notice_deadline(day(2026, 6, 1)), Some(day(2026, 11, 1)));
/// // Rolled over: the second term runs 2027-01-31 to 2028-01-30.
/// assert_eq!(contract.term_end(day(2027, 2, 1)), Some(day(2028, 1, 30)));
/// assert!(contract.is_active(day(2030, 1, 1)));
/// assert!(contract.covers("vm-pay-01"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ContractBuilder")]
pub struct Contract {
    id: ResourceId,
    name: String,
    counterparty: String,
    resources: Vec<ResourceId>,
    start: NaiveDate,
    term_months: u32,
    notice: NoticePeriod,
    renewal: Renewal,
    billing: BillingPeriod,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost_per_period: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    /// The last day of the initial term, checked representable by `build`.
    #[serde(skip_serializing)]
    initial_end: NaiveDate,
}

impl Contract {
    /// Starts building a contract with its id, name, counterparty (the
    /// vendor), start date and initial term in months; see
    /// [`ContractBuilder`].
    #[must_use]
    pub fn builder(
        id: ResourceId,
        name: impl Into<String>,
        counterparty: impl Into<String>,
        start: NaiveDate,
        term_months: u32,
    ) -> ContractBuilder {
        ContractBuilder {
            id,
            name: name.into(),
            counterparty: counterparty.into(),
            start,
            term_months,
            resources: Vec::new(),
            notice: NoticePeriod::default(),
            renewal: Renewal::default(),
            billing: BillingPeriod::default(),
            cost_per_period: None,
            owner: None,
        }
    }

    /// A builder holding this contract's values, to derive a changed copy.
    #[must_use]
    pub fn to_builder(&self) -> ContractBuilder {
        ContractBuilder {
            id: self.id.clone(),
            name: self.name.clone(),
            counterparty: self.counterparty.clone(),
            start: self.start,
            term_months: self.term_months,
            resources: self.resources.clone(),
            notice: self.notice,
            renewal: self.renewal,
            billing: self.billing,
            cost_per_period: self.cost_per_period,
            owner: self.owner.clone(),
        }
    }

    /// The contract's own id.
    #[must_use]
    pub fn id(&self) -> &ResourceId {
        &self.id
    }

    /// The contract's display name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The vendor or other party the contract is with.
    #[must_use]
    pub fn counterparty(&self) -> &str {
        &self.counterparty
    }

    /// The resources the contract covers, in the order given.
    #[must_use]
    pub fn resources(&self) -> &[ResourceId] {
        &self.resources
    }

    /// The first day of the contract.
    #[must_use]
    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// The length of the initial term, in months.
    #[must_use]
    pub fn term_months(&self) -> u32 {
        self.term_months
    }

    /// How long before a term ends notice must be given.
    #[must_use]
    pub fn notice(&self) -> NoticePeriod {
        self.notice
    }

    /// What happens when a term ends.
    #[must_use]
    pub fn renewal(&self) -> Renewal {
        self.renewal
    }

    /// How often the contract is billed.
    #[must_use]
    pub fn billing(&self) -> BillingPeriod {
        self.billing
    }

    /// What one billing period costs, if known.
    #[must_use]
    pub fn cost_per_period(&self) -> Option<Money> {
        self.cost_per_period
    }

    /// The person or team to tell about deadlines.
    #[must_use]
    pub fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    /// The last day of the initial term: `start + term_months - 1 day`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use itam_cmdb::{finance::Contract, ResourceId};
    ///
    /// let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    /// let c = Contract::builder(ResourceId::new("c-1")?, "support", "Dell", start, 12).build()?;
    /// assert_eq!(c.initial_term_end(), NaiveDate::from_ymd_opt(2026, 12, 31).unwrap());
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    #[must_use]
    pub fn initial_term_end(&self) -> NaiveDate {
        self.initial_end
    }

    /// Whether `id` is one of the resources the contract covers.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use itam_cmdb::{finance::Contract, ResourceId};
    ///
    /// let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    /// let c = Contract::builder(ResourceId::new("c-1")?, "support", "Dell", start, 36)
    ///     .resource(ResourceId::new("hv-lon-01")?)
    ///     .build()?;
    /// assert!(c.covers("hv-lon-01"));
    /// assert!(!c.covers("hv-lon-02"));
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    #[must_use]
    pub fn covers<Q: AsRef<str> + ?Sized>(&self, id: &Q) -> bool {
        let id = id.as_ref();
        self.resources.iter().any(|r| r.as_str() == id)
    }

    /// Whether the contract is in force on `as_of`.
    ///
    /// A contract is in force from its start date. With
    /// [`Renewal::Automatic`] it stays in force for good (this model records
    /// no notice actually given: end such a contract by replacing it with
    /// one that does not renew); otherwise it ends with the last day of its
    /// initial term.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use itam_cmdb::{finance::Contract, ResourceId};
    ///
    /// let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    /// let c = Contract::builder(ResourceId::new("c-1")?, "support", "Dell", day(2026, 1, 1), 12).build()?;
    /// assert!(!c.is_active(day(2025, 12, 31)));
    /// assert!(c.is_active(day(2026, 12, 31)));
    /// assert!(!c.is_active(day(2027, 1, 1)));
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    #[must_use]
    pub fn is_active(&self, as_of: NaiveDate) -> bool {
        as_of >= self.start
            && (matches!(self.renewal, Renewal::Automatic { .. }) || as_of <= self.initial_end)
    }

    /// The last day of the term in force on `as_of`.
    ///
    /// * Before the start date: the end of the initial term.
    /// * [`Renewal::None`] and [`Renewal::Explicit`]: always the end of the
    ///   initial term, also once it has passed (the day the contract ended).
    /// * [`Renewal::Automatic`]: the end of the term in force on `as_of`,
    ///   rolling forward one renewal term at a time from the initial term.
    ///
    /// `None` only for an automatic contract whose current term would end
    /// after [`NaiveDate::MAX`]: it is in force for as long as dates go.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use itam_cmdb::{finance::{Contract, Renewal}, ResourceId};
    ///
    /// let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    /// // A monthly rolling contract from 31 January: anniversaries clamp to
    /// // the end of shorter months without drifting.
    /// let c = Contract::builder(ResourceId::new("c-1")?, "saas", "Acme", day(2026, 1, 31), 1)
    ///     .renewal(Renewal::Automatic { term_months: 1 })
    ///     .build()?;
    /// assert_eq!(c.term_end(day(2026, 2, 10)), Some(day(2026, 2, 27)));
    /// assert_eq!(c.term_end(day(2026, 2, 28)), Some(day(2026, 3, 30)));
    /// assert_eq!(c.term_end(day(2026, 3, 31)), Some(day(2026, 4, 29)));
    /// assert_eq!(c.term_end(NaiveDate::MAX), None);
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    #[must_use]
    pub fn term_end(&self, as_of: NaiveDate) -> Option<NaiveDate> {
        match self.renewal {
            Renewal::Automatic { .. } => self.end_of_term(self.term_index(as_of)),
            Renewal::None | Renewal::Explicit => Some(self.initial_end),
        }
    }

    /// The next notice deadline on or after `as_of`: the last day notice can
    /// be given to stop the renewal that follows it.
    ///
    /// The deadline of a term is its last day minus the [`NoticePeriod`].
    /// Once the deadline of the term in force has passed, that renewal can
    /// no longer be stopped, and the answer is the deadline of a later term
    /// (the first one not yet passed). A notice period longer than a term
    /// is handled the same way.
    ///
    /// `None` for contracts that do not renew automatically (there is no
    /// renewal to stop), and when no later deadline is representable.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use itam_cmdb::{finance::{Contract, NoticePeriod, Renewal}, ResourceId};
    ///
    /// let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    /// let c = Contract::builder(ResourceId::new("c-1")?, "support", "Dell", day(2026, 1, 1), 12)
    ///     .renewal(Renewal::Automatic { term_months: 12 })
    ///     .notice(NoticePeriod::Months(3))
    ///     .build()?;
    /// // The first term ends 2026-12-31; three months earlier is 2026-09-30.
    /// assert_eq!(c.notice_deadline(day(2026, 9, 30)), Some(day(2026, 9, 30)));
    /// // Missed it: the 2027 renewal happens, the next chance is in 2027.
    /// assert_eq!(c.notice_deadline(day(2026, 10, 1)), Some(day(2027, 9, 30)));
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    #[must_use]
    pub fn notice_deadline(&self, as_of: NaiveDate) -> Option<NaiveDate> {
        if !matches!(self.renewal, Renewal::Automatic { .. }) {
            return None;
        }
        // For a deadline on or after `as_of`, the term must end on or after
        // `as_of + notice` (exactly so for days; month steps clamp, so start
        // one term earlier and check each candidate).
        let target = self.notice.after(as_of)?;
        let first = self
            .term_index(target)
            .saturating_sub(1)
            .max(self.term_index(as_of));
        let mut index = first;
        // Deadlines grow by at least 28 days per term, and the candidate is
        // at most a few days early: a handful of steps always suffices.
        for _ in 0..4 {
            let end = self.end_of_term(index)?;
            if let Some(deadline) = self.notice.before(end).filter(|&d| d >= as_of) {
                return Some(deadline);
            }
            index = index.checked_add(1)?;
        }
        None
    }

    /// The month offset of the start of term `index` from the start date:
    /// 0, then the initial term, then one renewal term more per term.
    fn offset_months(&self, index: u64) -> Option<u32> {
        if index == 0 {
            return Some(0);
        }
        let renewal = match self.renewal {
            Renewal::Automatic { term_months } => u64::from(term_months),
            // Only term 0 and its successor's start exist.
            Renewal::None | Renewal::Explicit if index == 1 => 0,
            Renewal::None | Renewal::Explicit => return None,
        };
        let months = (index - 1)
            .checked_mul(renewal)?
            .checked_add(u64::from(self.term_months))?;
        u32::try_from(months).ok()
    }

    /// The first day of term `index`, or `None` past [`NaiveDate::MAX`].
    fn start_of_term(&self, index: u64) -> Option<NaiveDate> {
        self.start
            .checked_add_months(Months::new(self.offset_months(index)?))
    }

    /// The last day of term `index`, or `None` past [`NaiveDate::MAX`].
    pub(crate) fn end_of_term(&self, index: u64) -> Option<NaiveDate> {
        self.start_of_term(index.checked_add(1)?)?.pred_opt()
    }

    /// The index of the term in force on `date`: 0 before the start, and 0
    /// for contracts that do not renew automatically.
    pub(crate) fn term_index(&self, date: NaiveDate) -> u64 {
        let Renewal::Automatic { term_months } = self.renewal else {
            return 0;
        };
        let months = month_number(date) - month_number(self.start);
        let Ok(months) = u64::try_from(months) else {
            return 0;
        };
        let Some(past_initial) = months.checked_sub(u64::from(self.term_months)) else {
            // The first anniversary falls in a later month than `date`.
            return 0;
        };
        // Term `candidate` starts in `date`'s month or earlier, and the next
        // one in a later month; if it starts later in `date`'s own month,
        // `date` still belongs to the term before. Here `candidate >= 1`.
        let candidate = 1 + past_initial / u64::from(term_months.max(1));
        match self.start_of_term(candidate) {
            Some(start) if start <= date => candidate,
            _ => candidate - 1,
        }
    }
}

/// The number of months from year 0 to `date`'s month.
fn month_number(date: NaiveDate) -> i64 {
    i64::from(date.year()) * 12 + i64::from(date.month0())
}

/// Builds a validated [`Contract`]; made by [`Contract::builder`].
///
/// Setters take and return the builder by value; nothing is checked until
/// [`build`](Self::build). By default a contract covers nothing, has no
/// notice period, does not renew, is billed annually with no known cost and
/// has no owner.
///
/// # Serde
///
/// Deserialising a [`Contract`] reads this builder (unknown fields are
/// refused) and validates it with `build`.
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use itam_cmdb::{finance::Contract, Error, ResourceId};
///
/// let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
/// let err = Contract::builder(ResourceId::new("c-1")?, "support", "Dell", start, 0)
///     .build()
///     .unwrap_err();
/// assert_eq!(err.to_string(), "invalid term_months of `c-1`: must be at least 1 month");
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractBuilder {
    id: ResourceId,
    name: String,
    counterparty: String,
    start: NaiveDate,
    term_months: u32,
    #[serde(default)]
    resources: Vec<ResourceId>,
    #[serde(default)]
    notice: NoticePeriod,
    #[serde(default)]
    renewal: Renewal,
    #[serde(default)]
    billing: BillingPeriod,
    #[serde(default)]
    cost_per_period: Option<Money>,
    #[serde(default)]
    owner: Option<String>,
}

impl ContractBuilder {
    /// Adds one covered resource.
    #[must_use]
    pub fn resource(mut self, id: ResourceId) -> Self {
        self.resources.push(id);
        self
    }

    /// Adds covered resources, in order.
    #[must_use]
    pub fn resources(mut self, ids: impl IntoIterator<Item = ResourceId>) -> Self {
        self.resources.extend(ids);
        self
    }

    /// Sets the notice period.
    #[must_use]
    pub fn notice(mut self, notice: NoticePeriod) -> Self {
        self.notice = notice;
        self
    }

    /// Sets the renewal rule.
    #[must_use]
    pub fn renewal(mut self, renewal: Renewal) -> Self {
        self.renewal = renewal;
        self
    }

    /// Sets the billing period.
    #[must_use]
    pub fn billing(mut self, billing: BillingPeriod) -> Self {
        self.billing = billing;
        self
    }

    /// Sets the cost of one billing period.
    #[must_use]
    pub fn cost_per_period(mut self, cost: Money) -> Self {
        self.cost_per_period = Some(cost);
        self
    }

    /// Sets the owner: the person or team to tell about deadlines.
    #[must_use]
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// Checks every rule and returns the contract.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidField`] naming the contract and the first field that
    /// breaks a rule listed on [`Contract`].
    pub fn build(self) -> Result<Contract, Error> {
        let id = self.id;
        let field = |field: &str, reason: String| Error::invalid_field(&id, field, reason);
        for (name, value) in [
            ("name", Some(self.name.as_str())),
            ("counterparty", Some(self.counterparty.as_str())),
            ("owner", self.owner.as_deref()),
        ] {
            if let Some(value) = value {
                check_field_label(&id, name, value, MAX_TEXT)?;
            }
        }
        if self.term_months == 0 {
            return Err(field("term_months", "must be at least 1 month".to_owned()));
        }
        if let Renewal::Automatic { term_months: 0 } = self.renewal {
            return Err(field(
                "renewal",
                "an automatic renewal term must be at least 1 month".to_owned(),
            ));
        }
        if self.cost_per_period.is_some_and(|c| c.is_negative()) {
            return Err(field("cost_per_period", "must not be negative".to_owned()));
        }
        for (index, resource) in self.resources.iter().enumerate() {
            if self.resources.iter().take(index).any(|r| r == resource) {
                return Err(field("resources", format!("lists `{resource}` twice")));
            }
        }
        let initial_end = self
            .start
            .checked_add_months(Months::new(self.term_months))
            .and_then(|next| next.pred_opt())
            .ok_or_else(|| {
                field(
                    "term_months",
                    "the initial term runs past the last representable date".to_owned(),
                )
            })?;
        let mut resources = self.resources;
        resources.shrink_to_fit();
        Ok(Contract {
            id,
            name: self.name,
            counterparty: self.counterparty,
            resources,
            start: self.start,
            term_months: self.term_months,
            notice: self.notice,
            renewal: self.renewal,
            billing: self.billing,
            cost_per_period: self.cost_per_period,
            owner: self.owner,
            initial_end,
        })
    }
}

impl TryFrom<ContractBuilder> for Contract {
    type Error = Error;

    fn try_from(builder: ContractBuilder) -> Result<Self, Self::Error> {
        builder.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn id(text: &str) -> ResourceId {
        ResourceId::new(text).unwrap()
    }

    fn rolling(start: NaiveDate, initial: u32, renew: u32, notice: NoticePeriod) -> Contract {
        Contract::builder(id("c-1"), "contract", "vendor", start, initial)
            .renewal(Renewal::Automatic { term_months: renew })
            .notice(notice)
            .build()
            .unwrap()
    }

    /// The term in force on `date`, found by walking every term from the
    /// start: the reference for `term_index`.
    fn naive_index(c: &Contract, date: NaiveDate) -> u64 {
        let mut index = 0;
        while c.end_of_term(index).is_some_and(|end| end < date) {
            index += 1;
        }
        index
    }

    /// The first deadline on or after `date`, by walking every term.
    fn naive_deadline(c: &Contract, date: NaiveDate) -> Option<NaiveDate> {
        let mut index = 0;
        loop {
            let end = c.end_of_term(index)?;
            if let Some(deadline) = c.notice().before(end).filter(|&d| d >= date) {
                return Some(deadline);
            }
            index += 1;
        }
    }

    #[test]
    fn twelve_months_from_31_january_with_90_days_notice() {
        // 2026-01-31 + 12 months = 2027-01-31, so term 0 is 2026-01-31 ..= 2027-01-30.
        // Term 1 starts 2027-01-31 and ends (2026-01-31 + 24 months) - 1 = 2028-01-30.
        // Notice: 2027-01-30 - 90 days: -30 -> 2026-12-31, -30 -> 2026-12-01, -30 -> 2026-11-01.
        let c = rolling(day(2026, 1, 31), 12, 12, NoticePeriod::Days(90));
        assert_eq!(c.initial_term_end(), day(2027, 1, 30));
        assert_eq!(c.term_end(day(2026, 1, 31)), Some(day(2027, 1, 30)));
        assert_eq!(c.term_end(day(2027, 1, 30)), Some(day(2027, 1, 30)));
        assert_eq!(c.term_end(day(2027, 1, 31)), Some(day(2028, 1, 30)));
        assert_eq!(c.notice_deadline(day(2026, 5, 1)), Some(day(2026, 11, 1)));
        assert_eq!(c.notice_deadline(day(2026, 11, 1)), Some(day(2026, 11, 1)));
        // 2028-01-30 - 90 days: 2028 is a leap year. -30 -> 2027-12-31,
        // -30 -> 2027-12-01, -30 -> 2027-11-01.
        assert_eq!(c.notice_deadline(day(2026, 11, 2)), Some(day(2027, 11, 1)));
        // Before the start, the first term counts.
        assert_eq!(c.term_end(day(2020, 1, 1)), Some(day(2027, 1, 30)));
        assert!(!c.is_active(day(2026, 1, 30)));
        assert!(c.is_active(day(2026, 1, 31)));
        assert!(c.is_active(day(2040, 1, 31)));
    }

    #[test]
    fn initial_and_renewal_terms_can_differ() {
        // 36 months from 2025-04-01, then yearly: terms end 2028-03-31,
        // 2029-03-31, 2030-03-31.
        let c = rolling(day(2025, 4, 1), 36, 12, NoticePeriod::Months(2));
        assert_eq!(c.term_end(day(2026, 1, 1)), Some(day(2028, 3, 31)));
        assert_eq!(c.term_end(day(2028, 4, 1)), Some(day(2029, 3, 31)));
        assert_eq!(c.term_end(day(2029, 12, 1)), Some(day(2030, 3, 31)));
        // Two months before 2028-03-31 is 2028-01-31.
        assert_eq!(c.notice_deadline(day(2026, 1, 1)), Some(day(2028, 1, 31)));
    }

    #[test]
    fn contracts_that_do_not_renew_end_with_the_initial_term() {
        for renewal in [Renewal::None, Renewal::Explicit] {
            let c = Contract::builder(id("c-1"), "c", "v", day(2026, 3, 15), 6)
                .renewal(renewal)
                .notice(NoticePeriod::Days(30))
                .build()
                .unwrap();
            assert_eq!(c.term_end(day(2030, 1, 1)), Some(day(2026, 9, 14)));
            assert_eq!(c.notice_deadline(day(2026, 4, 1)), None);
            assert!(c.is_active(day(2026, 9, 14)));
            assert!(!c.is_active(day(2026, 9, 15)));
        }
    }

    #[test]
    fn term_index_and_deadlines_match_a_naive_walk() {
        let starts = [day(2024, 1, 31), day(2024, 2, 29), day(2025, 8, 30)];
        let notices = [
            NoticePeriod::Days(0),
            NoticePeriod::Days(45),
            NoticePeriod::Days(400),
            NoticePeriod::Months(1),
            NoticePeriod::Months(3),
            NoticePeriod::Months(14),
        ];
        for start in starts {
            for (initial, renew) in [(1, 1), (12, 1), (3, 12), (13, 5)] {
                for notice in notices {
                    let c = rolling(start, initial, renew, notice);
                    let mut date = day(2023, 11, 1);
                    while date < day(2029, 3, 1) {
                        assert_eq!(
                            c.term_index(date),
                            naive_index(&c, date),
                            "{start} {initial}/{renew} {date}"
                        );
                        assert_eq!(
                            c.notice_deadline(date),
                            naive_deadline(&c, date),
                            "{start} {initial}/{renew} {notice} {date}"
                        );
                        date = date.succ_opt().unwrap();
                    }
                }
            }
        }
    }

    #[test]
    fn the_ends_of_time_do_not_panic() {
        let c = rolling(NaiveDate::MIN, 1, 1, NoticePeriod::Months(u32::MAX));
        assert_eq!(
            c.term_end(NaiveDate::MIN),
            NaiveDate::MIN
                .checked_add_months(Months::new(1))
                .and_then(|d| d.pred_opt())
        );
        assert_eq!(c.term_end(NaiveDate::MAX), None);
        assert_eq!(c.notice_deadline(NaiveDate::MIN), None);
        assert!(c.is_active(NaiveDate::MAX));
        // A renewal term of u32::MAX months: the second term never ends.
        let c = rolling(NaiveDate::MIN, 1, u32::MAX, NoticePeriod::Days(u32::MAX));
        assert_eq!(c.term_index(NaiveDate::MAX), 1);
        assert_eq!(c.term_end(NaiveDate::MAX), None);
        assert_eq!(c.notice_deadline(NaiveDate::MIN), None);
        // An initial term of u32::MAX months does not fit at all.
        let err = Contract::builder(id("c-9"), "c", "v", day(2026, 1, 1), u32::MAX)
            .build()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid term_months of `c-9`: the initial term runs past the last representable date"
        );
        let last = Contract::builder(id("c-9"), "c", "v", NaiveDate::MAX, 1).build();
        assert!(last.is_err());
    }

    #[test]
    fn each_rule_names_the_contract_and_field() {
        let base = || Contract::builder(id("c-7"), "name", "vendor", day(2026, 1, 1), 12);
        let cases: Vec<(ContractBuilder, &str)> = vec![
            (
                Contract::builder(id("c-7"), "", "vendor", day(2026, 1, 1), 12),
                "name",
            ),
            (
                Contract::builder(id("c-7"), "n", " vendor", day(2026, 1, 1), 12),
                "counterparty",
            ),
            (base().owner("a\nb"), "owner"),
            (
                Contract::builder(id("c-7"), "n", "v", day(2026, 1, 1), 0),
                "term_months",
            ),
            (
                base().renewal(Renewal::Automatic { term_months: 0 }),
                "renewal",
            ),
            (
                base().cost_per_period("-0.01 EUR".parse().unwrap()),
                "cost_per_period",
            ),
            (base().resources([id("a"), id("b"), id("a")]), "resources"),
        ];
        for (builder, expected) in cases {
            match builder.build() {
                Err(Error::InvalidField { id, field, .. }) => {
                    assert_eq!(id.as_str(), "c-7");
                    assert_eq!(field, expected);
                }
                other => panic!("{expected}: expected an invalid field, got {other:?}"),
            }
        }
        let err = base().resources([id("a"), id("a")]).build().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid resources of `c-7`: lists `a` twice"
        );
    }

    #[test]
    fn serde_round_trips_and_validates() {
        let c = rolling(day(2026, 1, 31), 12, 12, NoticePeriod::Days(90))
            .to_builder()
            .resource(id("vm-1"))
            .billing(BillingPeriod::Quarterly)
            .cost_per_period("300.00 EUR".parse().unwrap())
            .owner("ops")
            .build()
            .unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(
            json,
            r#"{"id":"c-1","name":"contract","counterparty":"vendor","resources":["vm-1"],"start":"2026-01-31","term_months":12,"notice":{"days":90},"renewal":{"automatic":{"term_months":12}},"billing":"quarterly","cost_per_period":{"amount":"300.00","currency":"EUR"},"owner":"ops"}"#
        );
        assert_eq!(serde_json::from_str::<Contract>(&json).unwrap(), c);
        let zero =
            r#"{"id":"c-1","name":"n","counterparty":"v","start":"2026-01-01","term_months":0}"#;
        let err = serde_json::from_str::<Contract>(zero).unwrap_err();
        assert!(err.to_string().contains("term_months of `c-1`"), "{err}");
        let unknown = r#"{"id":"c-1","name":"n","counterparty":"v","start":"2026-01-01","term_months":1,"x":1}"#;
        assert!(serde_json::from_str::<Contract>(unknown).is_err());
    }

    #[test]
    fn display_texts() {
        assert_eq!(NoticePeriod::Days(1).to_string(), "1 day");
        assert_eq!(NoticePeriod::Months(3).to_string(), "3 months");
        assert_eq!(Renewal::None.to_string(), "does not renew");
        assert_eq!(
            Renewal::Automatic { term_months: 1 }.to_string(),
            "renews automatically for 1 month"
        );
        assert_eq!(Renewal::Explicit.to_string(), "must be renewed explicitly");
        assert_eq!(BillingPeriod::Monthly.to_string(), "monthly");
        assert_eq!(BillingPeriod::Annual.periods_per_year(), 1);
    }
}
