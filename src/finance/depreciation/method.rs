//! How the depreciable amount is spread over the years of useful life: the
//! [`DepreciationMethod`], and the [`Convention`] that places it in time.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::arith::{add, share, sub};

/// How the depreciable amount (cost minus salvage) is spread over the
/// years of useful life.
///
/// Every method works on *life years*: twelve-month steps counted from the
/// start of depreciation, the last one shorter when the useful life is not a
/// whole number of years. Within a life year, the year's charge is spread
/// evenly over its months or its days, as the [`Convention`] says. Whatever
/// the method, the last life year writes off whatever is left above the
/// salvage value, so the asset always ends exactly at salvage.
///
/// # Example
///
/// ```
/// use itam_cmdb::finance::{DecliningSwitch, DepreciationMethod};
/// use rust_decimal::Decimal;
///
/// let half = DepreciationMethod::declining_balance(Decimal::new(5, 1));
/// assert_eq!(
///     half,
///     DepreciationMethod::DecliningBalance {
///         rate: Decimal::new(5, 1),
///         switch: DecliningSwitch::WriteOffInLastYear,
///     },
/// );
/// assert_eq!(DepreciationMethod::default(), DepreciationMethod::StraightLine);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DepreciationMethod {
    /// The same charge every month (every day, under
    /// [`Convention::DailyProRata`], within each life year): a life year of
    /// twelve months takes `12 / life in months` of the depreciable amount.
    #[default]
    StraightLine,
    /// Each life year takes `rate` times the book value at its start (book
    /// value, not book value less salvage), never going below salvage.
    DecliningBalance {
        /// The share of the opening book value charged per year: above 0
        /// and at most 1 (`0.5` is 50 % a year). Serialised as a string.
        #[serde(with = "rate_text")]
        rate: Decimal,
        /// What happens to the balance the rate alone never writes off.
        #[serde(default)]
        switch: DecliningSwitch,
    },
    /// Declining balance at twice the straight-line rate (`2 / life in
    /// years`), switching to straight line over the remaining life as soon
    /// as that gives the larger charge: the textbook double-declining
    /// balance. A rate above 1 (a life under two years) writes everything
    /// off in the first year.
    DoubleDecliningBalance,
    /// Sum of the years' digits: life year `k` (from 1) of an `n`-year life
    /// takes `(n - k + 1) / (1 + 2 + ... + n)` of the depreciable amount.
    ///
    /// For a life that is not a whole number of years, each life year
    /// weighs the months of life remaining at its start times its own
    /// length in months (a 30-month life weighs its years 30 x 12, 18 x 12
    /// and 6 x 6), which is the rule above when the life is whole years.
    SumOfYearsDigits,
}

impl DepreciationMethod {
    /// Declining balance at `rate` per year, with the rest written off in
    /// the last year ([`DecliningSwitch::WriteOffInLastYear`]).
    ///
    /// The rate is checked when the plan is built: it must be above 0 and
    /// at most 1.
    #[must_use]
    pub fn declining_balance(rate: Decimal) -> Self {
        Self::DecliningBalance {
            rate,
            switch: DecliningSwitch::default(),
        }
    }
}

/// Lowercase text for a sentence: `straight line`, `declining balance at
/// 40%` (with `, switching to straight line` under
/// [`DecliningSwitch::StraightLine`]), `double declining balance`, `sum of
/// the years' digits`. The rate is shown as an exact percentage. Width,
/// fill and alignment apply to the whole text.
///
/// # Example
///
/// ```
/// use itam_cmdb::finance::{DecliningSwitch, DepreciationMethod};
/// use rust_decimal::Decimal;
///
/// assert_eq!(DepreciationMethod::StraightLine.to_string(), "straight line");
/// let forty = DepreciationMethod::declining_balance(Decimal::new(4, 1));
/// assert_eq!(forty.to_string(), "declining balance at 40%");
/// let switching = DepreciationMethod::DecliningBalance {
///     rate: Decimal::new(125, 3),
///     switch: DecliningSwitch::StraightLine,
/// };
/// assert_eq!(
///     switching.to_string(),
///     "declining balance at 12.5%, switching to straight line",
/// );
/// assert_eq!(
///     DepreciationMethod::DoubleDecliningBalance.to_string(),
///     "double declining balance",
/// );
/// assert_eq!(
///     DepreciationMethod::SumOfYearsDigits.to_string(),
///     "sum of the years' digits",
/// );
/// assert_eq!(format!("[{:>14}]", DepreciationMethod::StraightLine), "[ straight line]");
/// ```
impl fmt::Display for DepreciationMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::StraightLine => f.pad("straight line"),
            Self::DecliningBalance { rate, switch } => {
                let switch = match switch {
                    DecliningSwitch::WriteOffInLastYear => "",
                    DecliningSwitch::StraightLine => ", switching to straight line",
                };
                // A rate too large to show as a percentage is not a valid
                // rate, but is still shown as it is.
                let text = match rate.checked_mul(Decimal::ONE_HUNDRED) {
                    Some(percent) => {
                        format!("declining balance at {}%{switch}", percent.normalize())
                    }
                    None => format!("declining balance at a rate of {rate}{switch}"),
                };
                f.pad(&text)
            }
            Self::DoubleDecliningBalance => f.pad("double declining balance"),
            Self::SumOfYearsDigits => f.pad("sum of the years' digits"),
        }
    }
}

/// What a declining-balance plan does with the balance that the rate alone
/// never writes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DecliningSwitch {
    /// Charge the rate every year; the last life year writes off whatever
    /// is left above salvage. The default.
    #[default]
    WriteOffInLastYear,
    /// Switch to straight line over the remaining life in the first year
    /// where that gives a larger charge than the rate.
    StraightLine,
}

/// When depreciation starts and how a life year's charge is spread within
/// the year.
///
/// # Month arithmetic
///
/// The life is counted in calendar months from the start of depreciation
/// with chrono's `checked_add_months`, each boundary counted from the start
/// itself (never from the previous boundary). A month added to 31 January is
/// the last day of February (28 February, or 29 in a leap year), two months
/// are 31 March, and twelve are 31 January again. Under
/// [`Convention::FullMonths`] depreciation starts on the first of a month,
/// so this clamping never arises.
///
/// # Example
///
/// ```
/// use itam_cmdb::finance::{Convention, FirstMonth};
///
/// assert_eq!(Convention::default(), Convention::FullMonths(FirstMonth::InServiceMonth));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Convention {
    /// Depreciation runs in whole calendar months, starting with the month
    /// the [`FirstMonth`] names. A month's charge is taken in full on its
    /// last day: during the month the book value is still the opening one.
    /// A life year's charge is split equally between its months.
    FullMonths(FirstMonth),
    /// Depreciation accrues every day from the in-service date itself,
    /// which is the first day charged. A life year's charge is split
    /// equally between its days, so a life year with a 29 February has 366
    /// smaller daily charges, and a calendar month's charge is proportional
    /// to its days.
    DailyProRata,
}

impl Default for Convention {
    /// Full months, starting with the month the asset goes into service.
    fn default() -> Self {
        Self::FullMonths(FirstMonth::InServiceMonth)
    }
}

/// Lowercase text for a sentence: `full months from the in-service month`,
/// `full months from the month after going into service`, `daily pro rata
/// from the in-service date`. Width, fill and alignment apply to the whole
/// text.
///
/// # Example
///
/// ```
/// use itam_cmdb::finance::{Convention, FirstMonth};
///
/// assert_eq!(Convention::default().to_string(), "full months from the in-service month");
/// assert_eq!(
///     Convention::FullMonths(FirstMonth::FollowingMonth).to_string(),
///     "full months from the month after going into service",
/// );
/// assert_eq!(
///     Convention::DailyProRata.to_string(),
///     "daily pro rata from the in-service date",
/// );
/// ```
impl fmt::Display for Convention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::FullMonths(FirstMonth::InServiceMonth) => "full months from the in-service month",
            Self::FullMonths(FirstMonth::FollowingMonth) => {
                "full months from the month after going into service"
            }
            Self::DailyProRata => "daily pro rata from the in-service date",
        })
    }
}

/// Under [`Convention::FullMonths`], the first month depreciated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FirstMonth {
    /// The month the asset goes into service counts in full, whatever the
    /// day. The default.
    #[default]
    InServiceMonth,
    /// Depreciation starts on the first of the month after the in-service
    /// date, even for an asset that goes into service on the first.
    FollowingMonth,
}

/// The depreciation accumulated at the start of each life year, and at the
/// end of the last one: `years + 1` values from zero to `cost - salvage`,
/// never decreasing. `months` is at least 1.
pub(super) fn cumulative_by_year(
    method: DepreciationMethod,
    cost: Decimal,
    salvage: Decimal,
    months: u32,
) -> Vec<Decimal> {
    let depreciable = sub(cost, salvage);
    let mut curve = match method {
        DepreciationMethod::StraightLine => straight_line(depreciable, months),
        DepreciationMethod::SumOfYearsDigits => sum_of_years_digits(depreciable, months),
        DepreciationMethod::DecliningBalance { rate, switch } => {
            declining(cost, salvage, months, rate, switch)
        }
        DepreciationMethod::DoubleDecliningBalance => {
            let rate = Decimal::from(24)
                .checked_div(Decimal::from(months))
                .unwrap_or(Decimal::ONE);
            declining(cost, salvage, months, rate, DecliningSwitch::StraightLine)
        }
    };
    // Rounding inside a decimal's 28 digits must not make the curve step
    // back or overshoot, and the last value is exactly the depreciable
    // amount.
    let mut floor = Decimal::ZERO;
    for value in &mut curve {
        *value = (*value).max(floor).min(depreciable);
        floor = *value;
    }
    if let Some(last) = curve.last_mut() {
        *last = depreciable;
    }
    curve
}

/// The length in months of life year `year` (from 0).
fn year_length(months: u32, year: u32) -> u32 {
    months.saturating_sub(year.saturating_mul(12)).min(12)
}

fn straight_line(depreciable: Decimal, months: u32) -> Vec<Decimal> {
    (0..=months.div_ceil(12))
        .map(|year| share(depreciable, year.saturating_mul(12).min(months), months))
        .collect()
}

fn sum_of_years_digits(depreciable: Decimal, months: u32) -> Vec<Decimal> {
    let weights: Vec<u32> = (0..months.div_ceil(12))
        .map(|year| {
            let remaining = months.saturating_sub(year.saturating_mul(12));
            remaining.saturating_mul(year_length(months, year))
        })
        .collect();
    let total = weights.iter().fold(0_u32, |sum, w| sum.saturating_add(*w));
    let mut so_far = 0_u32;
    let mut curve = vec![Decimal::ZERO];
    for weight in weights {
        so_far = so_far.saturating_add(weight);
        curve.push(share(depreciable, so_far, total));
    }
    curve
}

fn declining(
    cost: Decimal,
    salvage: Decimal,
    months: u32,
    rate: Decimal,
    switch: DecliningSwitch,
) -> Vec<Decimal> {
    let years = months.div_ceil(12);
    let mut accumulated = Decimal::ZERO;
    let mut curve = vec![accumulated];
    for year in 0..years {
        let opening = sub(cost, accumulated);
        let room = sub(opening, salvage);
        let charge = if year + 1 == years {
            room
        } else {
            let by_rate = opening.checked_mul(rate).map_or(room, |c| c.min(room));
            match switch {
                DecliningSwitch::WriteOffInLastYear => by_rate,
                DecliningSwitch::StraightLine => {
                    let remaining = months.saturating_sub(year.saturating_mul(12));
                    by_rate.max(share(room, 12, remaining))
                }
            }
        };
        accumulated = add(accumulated, charge);
        curve.push(accumulated);
    }
    curve
}

/// Reads a rate only from a string, as [`Money`](crate::Money) reads its
/// amount, so that no float rounding reaches it.
mod rate_text {
    use rust_decimal::Decimal;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        rate: &Decimal,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(rate)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Decimal, D::Error> {
        let text = String::deserialize(deserializer)?;
        Decimal::from_str_exact(&text).map_err(|_| {
            D::Error::custom(format!(
                "invalid decimal rate {:?}",
                crate::error::excerpt(&text)
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    fn curve(method: DepreciationMethod, cost: &str, salvage: &str, months: u32) -> Vec<String> {
        cumulative_by_year(method, dec(cost), dec(salvage), months)
            .iter()
            .map(|d| d.normalize().to_string())
            .collect()
    }

    #[test]
    fn straight_line_with_a_short_last_year() {
        assert_eq!(
            curve(DepreciationMethod::StraightLine, "3000", "0", 30),
            ["0", "1200", "2400", "3000"]
        );
    }

    #[test]
    fn sum_of_years_digits_weighs_a_short_year_by_its_length() {
        // Weights 30 x 12 = 360, 18 x 12 = 216, 6 x 6 = 36; total 612.
        let values = curve(DepreciationMethod::SumOfYearsDigits, "612", "0", 30);
        assert_eq!(values, ["0", "360", "576", "612"]);
    }

    #[test]
    fn double_declining_under_two_years_writes_off_in_year_one() {
        let values = curve(DepreciationMethod::DoubleDecliningBalance, "100", "10", 18);
        assert_eq!(values, ["0", "90", "90"]);
    }

    #[test]
    fn rate_is_a_string_in_serde() {
        let method = DepreciationMethod::declining_balance(dec("0.25"));
        let json = serde_json::to_string(&method).unwrap();
        assert_eq!(
            json,
            r#"{"declining_balance":{"rate":"0.25","switch":"write_off_in_last_year"}}"#
        );
        assert_eq!(
            serde_json::from_str::<DepreciationMethod>(&json).unwrap(),
            method
        );
        let defaulted = r#"{"declining_balance":{"rate":"0.25"}}"#;
        assert_eq!(
            serde_json::from_str::<DepreciationMethod>(defaulted).unwrap(),
            method
        );
        assert!(
            serde_json::from_str::<DepreciationMethod>(r#"{"declining_balance":{"rate":0.25}}"#)
                .is_err()
        );
        assert!(
            serde_json::from_str::<DepreciationMethod>(r#"{"declining_balance":{"rate":"x"}}"#)
                .is_err()
        );
    }

    #[test]
    fn method_text_shows_the_exact_rate() {
        let text = |rate: &str| DepreciationMethod::declining_balance(dec(rate)).to_string();
        assert_eq!(text("0.4"), "declining balance at 40%");
        assert_eq!(text("0.400"), "declining balance at 40%");
        assert_eq!(text("1"), "declining balance at 100%");
        assert_eq!(text("0.33333"), "declining balance at 33.333%");
        // Out of range rates are refused when a plan is built, but are
        // still shown, even when the percentage would not fit.
        assert_eq!(
            DepreciationMethod::declining_balance(Decimal::MAX).to_string(),
            format!("declining balance at a rate of {}", Decimal::MAX)
        );
    }

    #[test]
    fn convention_serde_shapes() {
        let json = serde_json::to_string(&Convention::default()).unwrap();
        assert_eq!(json, r#"{"full_months":"in_service_month"}"#);
        assert_eq!(
            serde_json::to_string(&Convention::DailyProRata).unwrap(),
            r#""daily_pro_rata""#
        );
    }
}
