//! Where a date falls in a plan's life: the calendar side of depreciation.
//!
//! Every date is the *end* of that day. All arithmetic is checked; a
//! boundary beyond `NaiveDate::MAX` is `None`, and the life then ends on
//! `NaiveDate::MAX`.

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;

use super::arith::{add, share, share_of, sub};
use super::method::{Convention, FirstMonth};

/// The calendar of one plan.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timeline {
    /// The first day depreciated (the first of a month under full months).
    start: NaiveDate,
    /// The last day depreciated.
    last: NaiveDate,
    /// The useful life in months, at least 1.
    months: u32,
    daily: bool,
}

impl Timeline {
    pub(super) fn new(in_service: NaiveDate, months: u32, convention: Convention) -> Self {
        let start = match convention {
            Convention::DailyProRata => Some(in_service),
            Convention::FullMonths(FirstMonth::InServiceMonth) => first_of_month(in_service),
            Convention::FullMonths(FirstMonth::FollowingMonth) => first_of_month(in_service)
                .and_then(|first| first.checked_add_months(Months::new(1))),
        };
        // Depreciation that would start after the last representable date
        // starts, and ends, on it.
        let start = start.unwrap_or(NaiveDate::MAX);
        let last = add_months(start, months)
            .and_then(|end| end.pred_opt())
            .unwrap_or(NaiveDate::MAX);
        Self {
            start,
            last,
            months,
            daily: matches!(convention, Convention::DailyProRata),
        }
    }

    pub(super) fn start(&self) -> NaiveDate {
        self.start
    }

    pub(super) fn last(&self) -> NaiveDate {
        self.last
    }

    /// The exact depreciation accumulated by the end of `date`, read off
    /// `curve` (the accumulated amount at each life year's start, see
    /// `cumulative_by_year`): the year's charge is spread evenly over its
    /// months or days.
    pub(super) fn accumulated(&self, curve: &[Decimal], date: NaiveDate) -> Decimal {
        let whole = curve.last().copied().unwrap_or(Decimal::ZERO);
        if date >= self.last {
            return whole;
        }
        if date < self.start {
            return Decimal::ZERO;
        }
        let Some(month) = self.month_index(date) else {
            return Decimal::ZERO;
        };
        let year = month / 12;
        let index = usize::try_from(year).unwrap_or(usize::MAX);
        let (Some(&low), Some(&high)) = (curve.get(index), curve.get(index.saturating_add(1)))
        else {
            return whole;
        };
        let in_year = sub(high, low);
        let part = if self.daily {
            self.daily_part(in_year, year, date)
        } else {
            self.monthly_part(in_year, year, month, date)
        };
        add(low, part).min(high)
    }

    /// Under full months: the year's charge times the share of its months
    /// completed by the end of `date`.
    fn monthly_part(&self, in_year: Decimal, year: u32, month: u32, date: NaiveDate) -> Decimal {
        let first = year.saturating_mul(12);
        let length = self.months.saturating_sub(first).min(12);
        let ends_month = date.succ_opt() == add_months(self.start, month.saturating_add(1));
        let done = month
            .saturating_sub(first)
            .saturating_add(u32::from(ends_month));
        share(in_year, done, length)
    }

    /// Under daily pro rata: the year's charge times the share of its days
    /// elapsed by the end of `date`.
    fn daily_part(&self, in_year: Decimal, year: u32, date: NaiveDate) -> Decimal {
        let first = year.saturating_mul(12);
        let Some(opens) = add_months(self.start, first) else {
            return Decimal::ZERO;
        };
        let closes = add_months(self.start, first.saturating_add(12).min(self.months));
        let elapsed = days_between(opens, date).saturating_add(1);
        let length = match closes {
            Some(closes) => days_between(opens, closes),
            None => days_between(opens, NaiveDate::MAX).saturating_add(1),
        };
        share_of(in_year, Decimal::from(elapsed), Decimal::from(length))
    }

    /// The life month (from 0) holding `date`, for `start <= date < last`.
    fn month_index(&self, date: NaiveDate) -> Option<u32> {
        let years = i64::from(date.year()) - i64::from(self.start.year());
        let months = years
            .saturating_mul(12)
            .saturating_add(i64::from(date.month0()))
            .saturating_sub(i64::from(self.start.month0()));
        let guess = u32::try_from(months).ok()?;
        if add_months(self.start, guess)? <= date {
            Some(guess)
        } else {
            guess.checked_sub(1)
        }
    }
}

/// `date` plus `months` calendar months, clamped to the end of a shorter
/// month; `None` past `NaiveDate::MAX`.
pub(super) fn add_months(date: NaiveDate, months: u32) -> Option<NaiveDate> {
    date.checked_add_months(Months::new(months))
}

pub(super) fn first_of_month(date: NaiveDate) -> Option<NaiveDate> {
    date.with_day(1)
}

/// The last day of the month holding `date`.
pub(super) fn end_of_month(date: NaiveDate) -> NaiveDate {
    first_of_month(date)
        .and_then(|first| add_months(first, 1))
        .and_then(|next| next.pred_opt())
        .unwrap_or(NaiveDate::MAX)
}

/// The last day of the year holding `date`.
pub(super) fn end_of_year(date: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(date.year(), 12, 31).unwrap_or(NaiveDate::MAX)
}

fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    to.signed_duration_since(from).num_days()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_month_after_31_january_is_the_end_of_february() {
        let daily = Timeline::new(date(2024, 1, 31), 1, Convention::DailyProRata);
        assert_eq!(daily.last(), date(2024, 2, 28));
        let daily = Timeline::new(date(2023, 1, 31), 1, Convention::DailyProRata);
        assert_eq!(daily.last(), date(2023, 2, 27));
        let daily = Timeline::new(date(2023, 1, 31), 2, Convention::DailyProRata);
        assert_eq!(daily.last(), date(2023, 3, 30));
        assert_eq!(daily.month_index(date(2023, 2, 27)), Some(0));
        assert_eq!(daily.month_index(date(2023, 2, 28)), Some(1));
    }

    #[test]
    fn full_month_starts() {
        let own = Timeline::new(
            date(2024, 3, 15),
            12,
            Convention::FullMonths(FirstMonth::InServiceMonth),
        );
        assert_eq!(
            (own.start(), own.last()),
            (date(2024, 3, 1), date(2025, 2, 28))
        );
        let next = Timeline::new(
            date(2024, 3, 1),
            12,
            Convention::FullMonths(FirstMonth::FollowingMonth),
        );
        assert_eq!(
            (next.start(), next.last()),
            (date(2024, 4, 1), date(2025, 3, 31))
        );
    }

    #[test]
    fn the_life_stops_at_the_last_representable_date() {
        for convention in [
            Convention::DailyProRata,
            Convention::FullMonths(FirstMonth::InServiceMonth),
            Convention::FullMonths(FirstMonth::FollowingMonth),
        ] {
            let late = Timeline::new(NaiveDate::MAX, 60, convention);
            assert_eq!(late.last(), NaiveDate::MAX, "{convention:?}");
            let early = Timeline::new(NaiveDate::MIN, 1200, convention);
            assert!(early.last() > early.start(), "{convention:?}");
        }
        let next = Timeline::new(
            NaiveDate::MAX,
            1,
            Convention::FullMonths(FirstMonth::FollowingMonth),
        );
        assert_eq!(next.start(), NaiveDate::MAX);
        assert_eq!(end_of_month(NaiveDate::MAX), NaiveDate::MAX);
        assert_eq!(end_of_year(NaiveDate::MAX), NaiveDate::MAX);
    }
}
