//! Warranty and support coverage of one asset on one day.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::{Asset, ResourceId};

/// Whether one kind of cover (warranty or support) is in force on a day.
///
/// The end dates recorded on an [`Asset`] are *inclusive* last days: a
/// warranty ending 2027-02-28 still covers that day, with `days_left: 0`,
/// and has expired on 2027-03-01, with `days_since: 1`.
///
/// # Serde
///
/// `"not_recorded"`, `{"active": {"last_day": "2027-02-28", "days_left": 0}}`
/// or `{"expired": {"last_day": "2027-02-28", "days_since": 1}}`.
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use itam_cmdb::finance::CoverageState;
///
/// let last = NaiveDate::from_ymd_opt(2027, 2, 28).unwrap();
/// let on = |y, m, d| CoverageState::new(Some(last), NaiveDate::from_ymd_opt(y, m, d).unwrap());
/// assert_eq!(on(2027, 2, 20), CoverageState::Active { last_day: last, days_left: 8 });
/// assert_eq!(on(2027, 2, 28), CoverageState::Active { last_day: last, days_left: 0 });
/// assert_eq!(on(2027, 3, 1), CoverageState::Expired { last_day: last, days_since: 1 });
/// assert_eq!(CoverageState::new(None, last), CoverageState::NotRecorded);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CoverageState {
    /// The asset records no end date for this cover.
    NotRecorded,
    /// In force on the day asked about.
    Active {
        /// The last covered day.
        last_day: NaiveDate,
        /// Covered days left after the day asked about: 0 on the last day.
        days_left: u64,
    },
    /// Ended before the day asked about.
    Expired {
        /// The last covered day.
        last_day: NaiveDate,
        /// Days since the last covered day: 1 on the day after it.
        days_since: u64,
    },
}

impl CoverageState {
    /// The state, on `as_of`, of a cover whose last day is `last_day`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use itam_cmdb::finance::CoverageState;
    ///
    /// let state = CoverageState::new(Some(NaiveDate::MIN), NaiveDate::MAX);
    /// assert!(!state.is_active());
    /// assert_eq!(state.last_day(), Some(NaiveDate::MIN));
    /// ```
    #[must_use]
    pub fn new(last_day: Option<NaiveDate>, as_of: NaiveDate) -> Self {
        let Some(last_day) = last_day else {
            return Self::NotRecorded;
        };
        // Day numbers are `i32`, so their difference always fits an `i64`.
        let left = i64::from(last_day.num_days_from_ce()) - i64::from(as_of.num_days_from_ce());
        if left >= 0 {
            Self::Active {
                last_day,
                days_left: left.unsigned_abs(),
            }
        } else {
            Self::Expired {
                last_day,
                days_since: left.unsigned_abs(),
            }
        }
    }

    /// Whether the cover is in force.
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::finance::CoverageState;
    ///
    /// assert!(!CoverageState::NotRecorded.is_active());
    /// ```
    #[must_use]
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Active { .. })
    }

    /// The last covered day, if recorded.
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::finance::CoverageState;
    ///
    /// assert_eq!(CoverageState::NotRecorded.last_day(), None);
    /// ```
    #[must_use]
    pub fn last_day(&self) -> Option<NaiveDate> {
        match *self {
            Self::NotRecorded => None,
            Self::Active { last_day, .. } | Self::Expired { last_day, .. } => Some(last_day),
        }
    }
}

/// The warranty and support cover of one asset on one day; made by
/// [`coverage`].
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use itam_cmdb::{finance, sample};
///
/// let estate = sample::estate();
/// let san = estate.asset(sample::STORAGE_ARRAY).unwrap();
/// let cover = finance::coverage(san, NaiveDate::from_ymd_opt(2026, 6, 30).unwrap());
/// // The warranty ended on 2025-06-30; support runs to 2027-06-30.
/// assert!(!cover.warranty().is_active());
/// assert!(cover.support().is_active());
/// assert!(cover.is_covered());
/// assert_eq!(cover.asset().as_str(), sample::STORAGE_ARRAY);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    asset: ResourceId,
    as_of: NaiveDate,
    warranty: CoverageState,
    support: CoverageState,
}

impl Coverage {
    /// The asset.
    #[must_use]
    pub fn asset(&self) -> &ResourceId {
        &self.asset
    }

    /// The day the cover was asked about.
    #[must_use]
    pub fn as_of(&self) -> NaiveDate {
        self.as_of
    }

    /// The manufacturer's warranty, from [`Asset::warranty_end`].
    #[must_use]
    pub fn warranty(&self) -> CoverageState {
        self.warranty
    }

    /// Vendor support, from [`Asset::support_end`].
    #[must_use]
    pub fn support(&self) -> CoverageState {
        self.support
    }

    /// Whether the warranty or support (or both) is in force.
    #[must_use]
    pub fn is_covered(&self) -> bool {
        self.warranty.is_active() || self.support.is_active()
    }
}

/// Whether `asset`'s warranty and support are in force on `as_of`, with the
/// days left or the days since each ended.
///
/// The end dates on an asset are inclusive last days; see
/// [`CoverageState`].
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use itam_cmdb::{finance::{coverage, CoverageState}, sample};
///
/// let estate = sample::estate();
/// let hv = estate.asset(sample::HYPERVISOR_1).unwrap();
/// let day = NaiveDate::from_ymd_opt(2027, 2, 1).unwrap();
/// let cover = coverage(hv, day);
/// assert_eq!(
///     cover.warranty(),
///     CoverageState::Active { last_day: NaiveDate::from_ymd_opt(2027, 2, 28).unwrap(), days_left: 27 },
/// );
/// assert_eq!(cover.support(), CoverageState::NotRecorded);
/// ```
#[must_use]
pub fn coverage(asset: &Asset, as_of: NaiveDate) -> Coverage {
    Coverage {
        asset: asset.id().clone(),
        as_of,
        warranty: CoverageState::new(asset.warranty_end(), as_of),
        support: CoverageState::new(asset.support_end(), as_of),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AssetKind;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn last_days_are_inclusive() {
        let asset = Asset::builder(
            ResourceId::new("srv-1").unwrap(),
            "srv",
            AssetKind::Hardware,
        )
        .warranty_end(day(2026, 12, 31))
        .support_end(day(2028, 12, 31))
        .build()
        .unwrap();
        let on_last = coverage(&asset, day(2026, 12, 31));
        assert_eq!(
            on_last.warranty(),
            CoverageState::Active {
                last_day: day(2026, 12, 31),
                days_left: 0
            }
        );
        // 2027 has 365 days and 2028 is a leap year: 365 + 366 = 731.
        assert_eq!(
            on_last.support(),
            CoverageState::Active {
                last_day: day(2028, 12, 31),
                days_left: 731
            }
        );
        let after = coverage(&asset, day(2027, 1, 1));
        assert_eq!(
            after.warranty(),
            CoverageState::Expired {
                last_day: day(2026, 12, 31),
                days_since: 1
            }
        );
        assert!(after.is_covered());
        let later = coverage(&asset, day(2029, 1, 1));
        assert!(!later.is_covered());
        assert_eq!(later.as_of(), day(2029, 1, 1));
    }

    #[test]
    fn extreme_dates_do_not_overflow() {
        let span = CoverageState::new(Some(NaiveDate::MAX), NaiveDate::MIN);
        let CoverageState::Active { days_left, .. } = span else {
            panic!("expected active, got {span:?}");
        };
        let expected = i64::from(NaiveDate::MAX.num_days_from_ce())
            - i64::from(NaiveDate::MIN.num_days_from_ce());
        assert_eq!(i64::try_from(days_left).unwrap(), expected);
        assert!(matches!(
            CoverageState::new(Some(NaiveDate::MIN), NaiveDate::MAX),
            CoverageState::Expired { .. }
        ));
    }

    #[test]
    fn serde_shape() {
        let state = CoverageState::new(Some(day(2027, 2, 28)), day(2027, 3, 1));
        let json = serde_json::to_string(&state).unwrap();
        assert_eq!(
            json,
            r#"{"expired":{"last_day":"2027-02-28","days_since":1}}"#
        );
        assert_eq!(serde_json::from_str::<CoverageState>(&json).unwrap(), state);
        assert_eq!(
            serde_json::to_string(&CoverageState::NotRecorded).unwrap(),
            r#""not_recorded""#
        );
    }
}
