//! The renewal calendar: every date in a window on which something ends,
//! renews or must be acted on, with the person to tell.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::contract::{Contract, Renewal};
use super::licence::Entitlement;
use crate::{Asset, Error, Estate, ResourceId};

/// What happens on a [`CalendarEntry`]'s date.
///
/// # Order
///
/// Entries on the same date are ordered by event in declaration order:
/// warranty end, support end, asset renewal, contract term end, contract
/// notice deadline, licence expiry.
///
/// # Example
///
/// ```
/// use itam_cmdb::finance::CalendarEvent;
///
/// assert!(CalendarEvent::WarrantyEnd < CalendarEvent::LicenceExpiry);
/// assert_eq!(CalendarEvent::ContractNoticeDeadline.to_string(), "contract notice deadline");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CalendarEvent {
    /// The last day of an asset's warranty ([`Asset::warranty_end`]).
    WarrantyEnd,
    /// The last day of an asset's vendor support ([`Asset::support_end`]).
    SupportEnd,
    /// An asset's contract or subscription renews ([`Asset::renewal_date`]).
    AssetRenewal,
    /// The last day of a contract's term ([`Contract::term_end`]): it ends,
    /// rolls over, or must be renewed, as its [`Renewal`] says.
    ContractTermEnd,
    /// The last day to give notice to stop a contract's automatic renewal
    /// ([`Contract::notice_deadline`]).
    ContractNoticeDeadline,
    /// The last valid day of a licence entitlement
    /// ([`Entitlement::expiry`]).
    LicenceExpiry,
}

impl fmt::Display for CalendarEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::WarrantyEnd => "warranty end",
            Self::SupportEnd => "support end",
            Self::AssetRenewal => "asset renewal",
            Self::ContractTermEnd => "contract term end",
            Self::ContractNoticeDeadline => "contract notice deadline",
            Self::LicenceExpiry => "licence expiry",
        })
    }
}

/// One dated event of a [`RenewalCalendar`].
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use itam_cmdb::{finance::{self, CalendarEvent}, sample};
///
/// let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
/// let calendar = finance::renewal_calendar(&sample::estate(), &[], &[], day(2027, 1, 1), day(2027, 1, 31))?;
/// let entry = &calendar.entries()[0];
/// assert_eq!(entry.date(), day(2027, 1, 15));
/// assert_eq!(entry.event(), CalendarEvent::AssetRenewal);
/// assert_eq!(entry.resource().as_str(), sample::PAYMENT_VM);
/// assert_eq!(entry.owner(), Some("platform team"));
/// assert_eq!(entry.detail(), "payments VM (Azure) renews");
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarEntry {
    date: NaiveDate,
    event: CalendarEvent,
    resource: ResourceId,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    detail: String,
}

impl CalendarEntry {
    /// The day of the event.
    #[must_use]
    pub fn date(&self) -> NaiveDate {
        self.date
    }

    /// What happens.
    #[must_use]
    pub fn event(&self) -> CalendarEvent {
        self.event
    }

    /// The asset, contract or entitlement concerned.
    #[must_use]
    pub fn resource(&self) -> &ResourceId {
        &self.resource
    }

    /// The person to tell: the contract's or entitlement's owner, or the
    /// asset's owner falling back to its budget owner.
    #[must_use]
    pub fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    /// A one-line description of the event, for people.
    #[must_use]
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

/// Every warranty end, support end, asset renewal, contract term end,
/// contract notice deadline and licence expiry in a window of days; made by
/// [`renewal_calendar`].
///
/// # Order
///
/// Entries are sorted by date, then by [`CalendarEvent`] (in its declaration
/// order), then by resource id: a total order, since one resource has at
/// most one entry of each event on one day.
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use itam_cmdb::{finance, sample};
///
/// let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
/// let year = finance::renewal_calendar(&sample::estate(), &[], &[], day(2027, 1, 1), day(2027, 12, 31))?;
/// let dates: Vec<String> = year.iter().map(|e| format!("{} {}", e.date(), e.resource())).collect();
/// assert_eq!(
///     dates,
///     [
///         "2027-01-15 vm-pay-01",
///         "2027-02-01 lic-rpt-suite",
///         "2027-02-28 hv-lon-01",
///         "2027-02-28 hv-lon-02",
///         "2027-06-30 san-lon-01",
///     ],
/// );
/// assert_eq!(year.from(), day(2027, 1, 1));
/// assert_eq!(year.len(), 5);
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewalCalendar {
    from: NaiveDate,
    to: NaiveDate,
    entries: Vec<CalendarEntry>,
}

impl RenewalCalendar {
    /// The most term ends, and separately the most notice deadlines, one
    /// automatically renewing contract may contribute to one calendar
    /// (enough for a monthly contract over 800 years).
    pub const MAX_RENEWALS_PER_CONTRACT: usize = 10_000;

    /// The first day of the window.
    #[must_use]
    pub fn from(&self) -> NaiveDate {
        self.from
    }

    /// The last day of the window (inclusive).
    #[must_use]
    pub fn to(&self) -> NaiveDate {
        self.to
    }

    /// The entries, in [order](Self#order).
    #[must_use]
    pub fn entries(&self) -> &[CalendarEntry] {
        &self.entries
    }

    /// The entries, in [order](Self#order).
    pub fn iter(&self) -> std::slice::Iter<'_, CalendarEntry> {
        self.entries.iter()
    }

    /// The number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the window holds no entry.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<'a> IntoIterator for &'a RenewalCalendar {
    type Item = &'a CalendarEntry;
    type IntoIter = std::slice::Iter<'a, CalendarEntry>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

/// The renewal calendar of the window `from..=to`: every date on which an
/// asset's warranty or support ends or its renewal falls, a contract's term
/// ends or its notice deadline falls, or a licence entitlement expires.
///
/// * **Assets** come from the estate's asset register; retired assets are
///   left out (nobody needs telling that a disposed server's warranty
///   ends). Each entry names the asset's owner, or else its budget owner.
/// * **Contracts**: a contract that renews automatically lists *every* term
///   end and every notice deadline in the window, one per term (see
///   [`Contract::term_end`] and [`Contract::notice_deadline`]); the others
///   list the end of their initial term. Entries name the contract's owner.
/// * **Entitlements** list their expiry ([`Entitlement::expiry`]), naming the
///   entitlement's owner.
///
/// Entries are in the [`RenewalCalendar`] order.
///
/// # Errors
///
/// * [`Error::InvalidWindow`] if `to` is before `from`, or if one contract
///   renews more than [`RenewalCalendar::MAX_RENEWALS_PER_CONTRACT`] times
///   in the window (narrow the window);
/// * [`Error::DuplicateContract`] or [`Error::DuplicateEntitlement`] if two
///   contracts or two entitlements share an id.
///
/// # Complexity
///
/// O(A + C + E + R log R) for A assets, C contracts, E entitlements and R
/// entries.
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use itam_cmdb::{
///     finance::{self, CalendarEvent, Contract, NoticePeriod, Renewal},
///     Estate, ResourceId,
/// };
///
/// let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
/// let saas = Contract::builder(ResourceId::new("ctr-saas")?, "CRM", "Acme", day(2026, 1, 1), 12)
///     .renewal(Renewal::Automatic { term_months: 12 })
///     .notice(NoticePeriod::Days(30))
///     .owner("Sam Okafor")
///     .build()?;
/// let calendar = finance::renewal_calendar(&Estate::new(), &[saas], &[], day(2026, 1, 1), day(2027, 12, 31))?;
/// let events: Vec<_> = calendar.iter().map(|e| (e.date(), e.event())).collect();
/// assert_eq!(
///     events,
///     [
///         (day(2026, 12, 1), CalendarEvent::ContractNoticeDeadline),
///         (day(2026, 12, 31), CalendarEvent::ContractTermEnd),
///         (day(2027, 12, 1), CalendarEvent::ContractNoticeDeadline),
///         (day(2027, 12, 31), CalendarEvent::ContractTermEnd),
///     ],
/// );
/// assert!(calendar.iter().all(|e| e.owner() == Some("Sam Okafor")));
///
/// assert!(finance::renewal_calendar(&Estate::new(), &[], &[], day(2026, 2, 1), day(2026, 1, 1)).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn renewal_calendar(
    estate: &Estate,
    contracts: &[Contract],
    entitlements: &[Entitlement],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<RenewalCalendar, Error> {
    if to < from {
        return Err(window_error(
            from,
            to,
            "it ends before it starts".to_owned(),
        ));
    }
    let mut calendar = Builder {
        from,
        to,
        entries: Vec::new(),
    };
    for asset in estate.assets() {
        if !asset.lifecycle().is_retired() {
            calendar.asset(asset);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for contract in contracts {
        if !seen.insert(contract.id()) {
            return Err(Error::DuplicateContract(contract.id().clone()));
        }
        calendar.contract(contract)?;
    }
    let mut seen = std::collections::BTreeSet::new();
    for entitlement in entitlements {
        if !seen.insert(entitlement.id()) {
            return Err(Error::DuplicateEntitlement(entitlement.id().clone()));
        }
        if let Some(expiry) = entitlement.expiry() {
            calendar.push(
                expiry,
                CalendarEvent::LicenceExpiry,
                entitlement.id(),
                entitlement.owner(),
                || {
                    format!(
                        "{} entitlement for {} ({}) expires",
                        entitlement.metric(),
                        entitlement.product(),
                        entitlement.quantity()
                    )
                },
            );
        }
    }
    let mut entries = calendar.entries;
    entries.sort_by(|a, b| {
        (a.date, a.event, &a.resource)
            .cmp(&(b.date, b.event, &b.resource))
            .then_with(|| a.detail.cmp(&b.detail))
    });
    Ok(RenewalCalendar { from, to, entries })
}

fn window_error(from: NaiveDate, to: NaiveDate, reason: String) -> Error {
    Error::InvalidWindow {
        from: from.to_string(),
        to: to.to_string(),
        reason,
    }
}

/// The entries gathered so far, and the window they must fall in.
struct Builder {
    from: NaiveDate,
    to: NaiveDate,
    entries: Vec<CalendarEntry>,
}

impl Builder {
    fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }

    /// Adds an entry if `date` is in the window; the detail is only written
    /// then.
    fn push(
        &mut self,
        date: NaiveDate,
        event: CalendarEvent,
        resource: &ResourceId,
        owner: Option<&str>,
        detail: impl FnOnce() -> String,
    ) {
        if self.contains(date) {
            self.entries.push(CalendarEntry {
                date,
                event,
                resource: resource.clone(),
                owner: owner.map(str::to_owned),
                detail: detail(),
            });
        }
    }

    fn asset(&mut self, asset: &Asset) {
        let owner = asset.owner().or(asset.budget_owner());
        let name = asset.name();
        let events = [
            (
                asset.warranty_end(),
                CalendarEvent::WarrantyEnd,
                "warranty ends",
            ),
            (
                asset.support_end(),
                CalendarEvent::SupportEnd,
                "support ends",
            ),
            (asset.renewal_date(), CalendarEvent::AssetRenewal, "renews"),
        ];
        for (date, event, what) in events {
            if let Some(date) = date {
                self.push(date, event, asset.id(), owner, || format!("{name} {what}"));
            }
        }
    }

    fn contract(&mut self, contract: &Contract) -> Result<(), Error> {
        let owner = contract.owner();
        let name = contract.name();
        let vendor = contract.counterparty();
        let renewal = contract.renewal();
        if !matches!(renewal, Renewal::Automatic { .. }) {
            let what = if renewal == Renewal::Explicit {
                "ends unless renewed explicitly"
            } else {
                "ends"
            };
            self.push(
                contract.initial_term_end(),
                CalendarEvent::ContractTermEnd,
                contract.id(),
                owner,
                || format!("{name} with {vendor} {what}"),
            );
            return Ok(());
        }
        let limit = RenewalCalendar::MAX_RENEWALS_PER_CONTRACT;
        let too_many = || {
            window_error(
                self.from,
                self.to,
                format!(
                    "contract `{}` renews more than {limit} times in it",
                    contract.id()
                ),
            )
        };
        // Term ends: from the term in force on the first day, until one ends
        // after the window or past the last representable date.
        let mut ends = Vec::new();
        let mut index = contract.term_index(self.from);
        while let Some(end) = contract.end_of_term(index) {
            if end > self.to {
                break;
            }
            if ends.len() >= limit {
                return Err(too_many());
            }
            ends.push(end);
            let Some(next) = index.checked_add(1) else {
                break;
            };
            index = next;
        }
        // Notice deadlines: a deadline on or after `from` belongs to a term
        // ending on or after `from + notice`; month steps clamp, so start one
        // term earlier. If `from + notice` is past the last representable
        // date, no deadline can fall in the window.
        let notice = contract.notice();
        let mut deadlines = Vec::new();
        if let Some(target) = notice.after(self.from) {
            let mut index = contract.term_index(target).saturating_sub(1);
            // Deadlines before the window (at most a few) also count towards
            // the bound, so the loop always ends.
            let mut steps = 0_usize;
            while let Some(end) = contract.end_of_term(index) {
                let deadline = notice.before(end);
                if deadline.is_some_and(|d| d > self.to) {
                    break;
                }
                steps += 1;
                if steps > limit + 4 || deadlines.len() >= limit {
                    return Err(too_many());
                }
                if let Some(deadline) = deadline.filter(|&d| self.contains(d)) {
                    deadlines.push((deadline, end));
                }
                let Some(next) = index.checked_add(1) else {
                    break;
                };
                index = next;
            }
        }
        for end in ends {
            self.push(
                end,
                CalendarEvent::ContractTermEnd,
                contract.id(),
                owner,
                || format!("{name} with {vendor} {renewal} unless notice was given"),
            );
        }
        for (deadline, end) in deadlines {
            self.push(
                deadline,
                CalendarEvent::ContractNoticeDeadline,
                contract.id(),
                owner,
                || {
                    format!(
                        "last day to give {notice} notice to stop {name} with {vendor} renewing after {end}"
                    )
                },
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finance::{LicenceMetric, LicenceQuantity, NoticePeriod};
    use crate::{AssetKind, Lifecycle, RetirementReason};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn id(text: &str) -> ResourceId {
        ResourceId::new(text).unwrap()
    }

    fn rows(calendar: &RenewalCalendar) -> Vec<(NaiveDate, CalendarEvent, &str)> {
        calendar
            .iter()
            .map(|e| (e.date(), e.event(), e.resource().as_str()))
            .collect()
    }

    #[test]
    fn the_spec_contract_over_two_years() {
        use CalendarEvent::{ContractNoticeDeadline as Notice, ContractTermEnd as End};
        // 12 months from 2026-01-31 with 90 days notice, renewing yearly.
        // Term ends: 2027-01-30, 2028-01-30 (anniversaries 2027-01-31, 2028-01-31).
        // Deadlines: 2027-01-30 - 90 days = 2026-11-01; 2028-01-30 - 90 days = 2027-11-01.
        let c = Contract::builder(id("ctr-1"), "EA", "Microsoft", day(2026, 1, 31), 12)
            .renewal(Renewal::Automatic { term_months: 12 })
            .notice(NoticePeriod::Days(90))
            .owner("Dana")
            .build()
            .unwrap();
        let cal =
            renewal_calendar(&Estate::new(), &[c], &[], day(2026, 1, 1), day(2028, 1, 29)).unwrap();
        assert_eq!(
            rows(&cal),
            [
                (day(2026, 11, 1), Notice, "ctr-1"),
                (day(2027, 1, 30), End, "ctr-1"),
                (day(2027, 11, 1), Notice, "ctr-1"),
            ]
        );
        assert_eq!(
            cal.entries()[0].detail(),
            "last day to give 90 days notice to stop EA with Microsoft renewing after 2027-01-30"
        );
        assert_eq!(
            cal.entries()[1].detail(),
            "EA with Microsoft renews automatically for 12 months unless notice was given"
        );
    }

    #[test]
    fn a_notice_period_longer_than_the_term() {
        use CalendarEvent::{ContractNoticeDeadline as Notice, ContractTermEnd as End};
        // Monthly from 2026-01-01 with 2 months notice: the term ending
        // 2026-03-31 has its deadline on 2026-01-31, inside the window of
        // January to March even though the term ends after it.
        let c = Contract::builder(id("c"), "n", "v", day(2026, 1, 1), 1)
            .renewal(Renewal::Automatic { term_months: 1 })
            .notice(NoticePeriod::Months(2))
            .build()
            .unwrap();
        let cal =
            renewal_calendar(&Estate::new(), &[c], &[], day(2026, 1, 1), day(2026, 3, 1)).unwrap();
        // Term ends: 01-31, 02-28. Deadlines: end 01-31 -> 2025-11-30 (out),
        // 02-28 -> 2025-12-28 (out), 03-31 -> 01-31, 04-30 -> 02-28,
        // 05-31 -> 03-31 (out).
        assert_eq!(
            rows(&cal),
            [
                (day(2026, 1, 31), End, "c"),
                (day(2026, 1, 31), Notice, "c"),
                (day(2026, 2, 28), End, "c"),
                (day(2026, 2, 28), Notice, "c"),
            ]
        );
    }

    #[test]
    fn assets_contracts_and_licences_in_one_order() {
        use CalendarEvent::*;
        let mut estate = Estate::new();
        let server = Asset::builder(id("srv-1"), "server", AssetKind::Hardware)
            .budget_owner("Priya")
            .warranty_end(day(2026, 6, 30))
            .support_end(day(2026, 6, 30))
            .renewal_date(day(2026, 7, 1))
            .build()
            .unwrap();
        let gone = Asset::builder(id("srv-0"), "old server", AssetKind::Hardware)
            .lifecycle(Lifecycle::Retired(RetirementReason::Disposed))
            .warranty_end(day(2026, 6, 30))
            .build()
            .unwrap();
        estate.insert_asset(server).unwrap();
        estate.insert_asset(gone).unwrap();
        let fixed = Contract::builder(id("ctr-b"), "support", "Dell", day(2025, 7, 1), 12)
            .build()
            .unwrap();
        let explicit = Contract::builder(id("ctr-a"), "support", "HPE", day(2025, 7, 1), 12)
            .renewal(Renewal::Explicit)
            .notice(NoticePeriod::Days(60))
            .build()
            .unwrap();
        let licence = crate::finance::Entitlement::builder(
            id("ent-1"),
            "Visio",
            LicenceMetric::PerUser,
            LicenceQuantity::Limited(5),
            day(2025, 7, 1),
        )
        .end(day(2026, 6, 30))
        .owner("IT")
        .build()
        .unwrap();
        let cal = renewal_calendar(
            &estate,
            &[fixed, explicit],
            &[licence],
            day(2026, 6, 30),
            day(2026, 7, 1),
        )
        .unwrap();
        assert_eq!(
            rows(&cal),
            [
                (day(2026, 6, 30), WarrantyEnd, "srv-1"),
                (day(2026, 6, 30), SupportEnd, "srv-1"),
                (day(2026, 6, 30), ContractTermEnd, "ctr-a"),
                (day(2026, 6, 30), ContractTermEnd, "ctr-b"),
                (day(2026, 6, 30), LicenceExpiry, "ent-1"),
                (day(2026, 7, 1), AssetRenewal, "srv-1"),
            ]
        );
        // The asset has no owner: its budget owner is told.
        assert_eq!(cal.entries()[0].owner(), Some("Priya"));
        assert_eq!(
            cal.entries()[2].detail(),
            "support with HPE ends unless renewed explicitly"
        );
        assert_eq!(cal.entries()[3].detail(), "support with Dell ends");
        assert_eq!(cal.entries()[3].owner(), None);
        assert_eq!(
            cal.entries()[4].detail(),
            "per user entitlement for Visio (5) expires"
        );
    }

    #[test]
    fn errors_name_the_problem() {
        let e = Estate::new();
        let err = renewal_calendar(&e, &[], &[], day(2026, 2, 1), day(2026, 1, 31)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid window 2026-02-01..=2026-01-31: it ends before it starts"
        );
        let c = Contract::builder(id("c"), "n", "v", day(2026, 1, 1), 1)
            .renewal(Renewal::Automatic { term_months: 1 })
            .build()
            .unwrap();
        let err = renewal_calendar(
            &e,
            &[c.clone(), c.clone()],
            &[],
            day(2026, 1, 1),
            day(2026, 1, 1),
        )
        .unwrap_err();
        assert_eq!(err, Error::DuplicateContract(id("c")));
        let err = renewal_calendar(&e, &[c], &[], NaiveDate::MIN, NaiveDate::MAX).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("contract `c` renews more than 10000 times in it"),
            "{err}"
        );
    }

    #[test]
    fn the_whole_range_of_dates_does_not_panic() {
        let yearly = Contract::builder(id("c"), "n", "v", NaiveDate::MIN, 1200)
            .renewal(Renewal::Automatic { term_months: 1200 })
            .notice(NoticePeriod::Months(u32::MAX))
            .build()
            .unwrap();
        let cal = renewal_calendar(
            &Estate::new(),
            &[yearly],
            &[],
            NaiveDate::MIN,
            NaiveDate::MAX,
        )
        .unwrap();
        // Notice of u32::MAX months never fits: term ends only, one per century.
        assert!(
            cal.iter()
                .all(|e| e.event() == CalendarEvent::ContractTermEnd)
        );
        assert!(cal.len() > 5000);
        assert!(cal.entries().windows(2).all(|w| w[0].date() < w[1].date()));
    }
}
