//! Depreciation: hand-checked textbook figures, the validation rules, and
//! properties over random plans (book values only go down, stay between
//! cost and salvage, and agree with the schedules, which sum exactly).

use chrono::{Datelike, NaiveDate};
use itam_cmdb::finance::{
    Convention, DecliningSwitch, Depreciation, DepreciationBuilder, DepreciationMethod,
    DepreciationPeriod, FirstMonth,
};
use itam_cmdb::{Currency, Error, Money};
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::util::{date, id, money};

fn builder(cost: &str, in_service: NaiveDate) -> DepreciationBuilder {
    Depreciation::builder(id("SN-1"), money(cost), in_service)
}

fn amounts(values: impl IntoIterator<Item = Money>) -> Vec<String> {
    values
        .into_iter()
        .map(|m| m.amount().normalize().to_string())
        .collect()
}

fn closings(periods: &[DepreciationPeriod]) -> Vec<String> {
    amounts(periods.iter().map(DepreciationPeriod::closing))
}

fn charges(periods: &[DepreciationPeriod]) -> Vec<String> {
    amounts(periods.iter().map(DepreciationPeriod::charge))
}

/// Book values at 31 December of `years` years from `first`.
fn year_ends(plan: &Depreciation, first: i32, years: i32) -> Vec<String> {
    amounts((first..first + years).map(|y| plan.book_value(date(y, 12, 31))))
}

fn half() -> Decimal {
    Decimal::new(5, 1)
}

// ---- hand-checked figures ----

#[test]
fn straight_line_10000_over_5_years() {
    let plan = builder("10000.00 EUR", date(2025, 1, 1))
        .useful_life_years(5)
        .build()
        .unwrap();
    let expected = ["8000", "6000", "4000", "2000", "0"];
    assert_eq!(year_ends(&plan, 2025, 5), expected);
    let by_year = plan.schedule_by_year();
    assert_eq!(closings(&by_year), expected);
    assert_eq!(charges(&by_year), ["2000"; 5]);
    assert_eq!(by_year[0].start(), date(2025, 1, 1));
    assert_eq!(by_year[4].end(), date(2029, 12, 31));
    // 10000 / 60 = 166.666...: every month is within a cent of it.
    let by_month = plan.schedule_by_month();
    assert_eq!(by_month.len(), 60);
    assert_eq!(charges(&by_month[..3]), ["166.67", "166.66", "166.67"]);
    assert_eq!(plan.ends_on(), date(2029, 12, 31));
}

#[test]
fn declining_balance_at_half_writes_the_rest_off_in_the_last_year() {
    // 10000 -> 5000 -> 2500 -> 1250 -> 625, and the last year takes the
    // remaining 625.
    let plan = builder("10000.00 EUR", date(2025, 1, 1))
        .useful_life_years(5)
        .method(DepreciationMethod::declining_balance(half()))
        .build()
        .unwrap();
    let expected = ["5000", "2500", "1250", "625", "0"];
    assert_eq!(year_ends(&plan, 2025, 5), expected);
    assert_eq!(closings(&plan.schedule_by_year()), expected);
    assert_eq!(
        charges(&plan.schedule_by_year()),
        ["5000", "2500", "1250", "625", "625"]
    );
}

#[test]
fn declining_balance_can_switch_to_straight_line() {
    // Rate 30 %, salvage 0, straight line over the remaining life when
    // larger:
    //   year 1: 30 % x 10000 = 3000; straight line 10000 / 5 = 2000 -> 7000
    //   year 2: 30 % x 7000  = 2100; straight line 7000 / 4  = 1750 -> 4900
    //   year 3: 30 % x 4900  = 1470; straight line 4900 / 3  = 1633.33,
    //           larger, so switch                               -> 3266.67
    //   years 4 and 5: 3266.67 / 2 = 1633.33 each               -> 1633.33, 0
    let plan = builder("10000.00 EUR", date(2025, 1, 1))
        .useful_life_years(5)
        .method(DepreciationMethod::DecliningBalance {
            rate: Decimal::new(3, 1),
            switch: DecliningSwitch::StraightLine,
        })
        .build()
        .unwrap();
    assert_eq!(
        year_ends(&plan, 2025, 5),
        ["7000", "4900", "3266.67", "1633.33", "0"]
    );
}

#[test]
fn double_declining_with_salvage() {
    // Rate 2 / 5 = 40 % of the opening book value, never below salvage
    // 1000, switching to straight line over the remaining life when larger:
    //   year 1: 40 % x 10000 = 4000            -> 6000
    //   year 2: 40 % x 6000  = 2400            -> 3600
    //   year 3: 40 % x 3600  = 1440            -> 2160
    //   year 4: 40 % x 2160  = 864; straight line (2160 - 1000) / 2 = 580;
    //           864 is larger                  -> 1296
    //   year 5: 40 % x 1296  = 518.40, capped at 1296 - 1000 = 296;
    //           straight line is 296 too       -> 1000
    let plan = builder("10000.00 EUR", date(2025, 1, 1))
        .salvage(money("1000.00 EUR"))
        .useful_life_years(5)
        .method(DepreciationMethod::DoubleDecliningBalance)
        .build()
        .unwrap();
    let expected = ["6000", "3600", "2160", "1296", "1000"];
    assert_eq!(year_ends(&plan, 2025, 5), expected);
    assert_eq!(
        charges(&plan.schedule_by_year()),
        ["4000", "2400", "1440", "864", "296"]
    );
}

#[test]
fn double_declining_switches_to_straight_line_without_salvage() {
    // As above with salvage 0. Year 4: 40 % x 2160 = 864, straight line
    // 2160 / 2 = 1080 is larger, so switch: 1080 in years 4 and 5.
    let plan = builder("10000.00 EUR", date(2025, 1, 1))
        .useful_life_years(5)
        .method(DepreciationMethod::DoubleDecliningBalance)
        .build()
        .unwrap();
    assert_eq!(
        year_ends(&plan, 2025, 5),
        ["6000", "3600", "2160", "1080", "0"]
    );
    assert_eq!(
        charges(&plan.schedule_by_year()),
        ["4000", "2400", "1440", "1080", "1080"]
    );
}

#[test]
fn sum_of_years_digits_15000_over_5_years() {
    // Digits 5 + 4 + 3 + 2 + 1 = 15: 5/15, 4/15, ... of 15000.
    let plan = builder("15000.00 EUR", date(2025, 1, 1))
        .useful_life_years(5)
        .method(DepreciationMethod::SumOfYearsDigits)
        .build()
        .unwrap();
    assert_eq!(
        charges(&plan.schedule_by_year()),
        ["5000", "4000", "3000", "2000", "1000"]
    );
    // Within a year the charge is spread evenly: 5000 / 12 a month.
    assert_eq!(plan.book_value(date(2025, 6, 30)), money("12500.00 EUR"));
}

#[test]
fn uneven_months_sum_exactly() {
    let plan = builder("1000.00 EUR", date(2025, 1, 1))
        .useful_life_months(7)
        .build()
        .unwrap();
    let months = plan.schedule_by_month();
    // Exact accumulated: 142.857..., 285.714..., 428.571..., 571.428...,
    // 714.285..., 857.142..., 1000; rounded: 142.86, 285.71, 428.57,
    // 571.43, 714.29, 857.14, 1000.00.
    assert_eq!(
        charges(&months),
        [
            "142.86", "142.85", "142.86", "142.86", "142.86", "142.85", "142.86"
        ]
    );
    let total = Money::sum(Currency::EUR, months.iter().map(DepreciationPeriod::charge)).unwrap();
    assert_eq!(total, money("1000.00 EUR"));
    assert_eq!(months[6].end(), date(2025, 7, 31));
    assert_eq!(plan.book_value(date(2025, 2, 28)), money("714.29 EUR"));
}

#[test]
fn yen_have_no_minor_unit() {
    let plan = Depreciation::builder(id("SN-2"), money("100000 JPY"), date(2025, 1, 1))
        .useful_life_months(7)
        .build()
        .unwrap();
    assert_eq!(
        charges(&plan.schedule_by_month()),
        [
            "14286", "14285", "14286", "14286", "14286", "14285", "14286"
        ]
    );
    // Double declining over 3 years: rate 2/3. 1000000 x 2/3 = 666666.67,
    // reported as 666667 yen.
    let plan = Depreciation::builder(id("SN-2"), money("1000000 JPY"), date(2025, 1, 1))
        .useful_life_years(3)
        .method(DepreciationMethod::DoubleDecliningBalance)
        .build()
        .unwrap();
    let by_year = plan.schedule_by_year();
    assert_eq!(charges(&by_year)[0], "666667");
    let total = Money::sum(
        Currency::JPY,
        by_year.iter().map(DepreciationPeriod::charge),
    )
    .unwrap();
    assert_eq!(total, money("1000000 JPY"));
    for period in &by_year {
        assert_eq!(period.charge().amount().fract(), Decimal::ZERO);
    }
}

#[test]
fn daily_pro_rata_across_a_leap_year() {
    // A life year from 1 July 2023 to 30 June 2024 has 366 days, so 366.00
    // is 1.00 a day.
    let plan = builder("366.00 EUR", date(2023, 7, 1))
        .useful_life_months(12)
        .convention(Convention::DailyProRata)
        .build()
        .unwrap();
    assert_eq!(plan.book_value(date(2023, 6, 30)), money("366.00 EUR"));
    assert_eq!(plan.book_value(date(2023, 7, 1)), money("365.00 EUR"));
    assert_eq!(plan.book_value(date(2023, 12, 31)), money("182.00 EUR"));
    assert_eq!(plan.book_value(date(2024, 2, 29)), money("122.00 EUR"));
    assert_eq!(plan.book_value(date(2024, 6, 30)), money("0.00 EUR"));
    let by_month = plan.schedule_by_month();
    assert_eq!(by_month.len(), 12);
    assert_eq!(charges(&by_month[7..9]), ["29", "31"]);
    assert_eq!(
        charges(&plan.schedule_by_year()),
        ["184", "182"],
        "184 days of 2023, 182 of 2024"
    );

    // Two life years: 2024 has 366 days, 2025 has 365, and each takes
    // 366.00. 31 January 2025: 366 + 366 x 31 / 365 = 397.0849... -> 397.08.
    let plan = builder("732.00 EUR", date(2024, 1, 1))
        .useful_life_years(2)
        .convention(Convention::DailyProRata)
        .build()
        .unwrap();
    assert_eq!(plan.book_value(date(2024, 2, 29)), money("672.00 EUR"));
    assert_eq!(plan.book_value(date(2024, 12, 31)), money("366.00 EUR"));
    assert_eq!(plan.book_value(date(2025, 1, 31)), money("334.92 EUR"));
}

#[test]
fn daily_pro_rata_from_31_january() {
    // One month after 31 January 2023 is 28 February: the life is 31
    // January to 27 February, 28 days.
    let plan = builder("28.00 EUR", date(2023, 1, 31))
        .useful_life_months(1)
        .convention(Convention::DailyProRata)
        .build()
        .unwrap();
    assert_eq!(plan.ends_on(), date(2023, 2, 27));
    assert_eq!(plan.book_value(date(2023, 1, 31)), money("27.00 EUR"));
    assert_eq!(plan.book_value(date(2023, 2, 26)), money("1.00 EUR"));
    assert_eq!(plan.book_value(date(2023, 2, 27)), money("0 EUR"));
}

#[test]
fn full_months_from_the_in_service_month_or_the_next() {
    let own = builder("1200.00 EUR", date(2025, 3, 15))
        .useful_life_months(12)
        .build()
        .unwrap();
    assert_eq!(own.starts_on(), date(2025, 3, 1));
    assert_eq!(own.book_value(date(2025, 3, 14)), money("1200.00 EUR"));
    assert_eq!(own.book_value(date(2025, 3, 30)), money("1200.00 EUR"));
    assert_eq!(own.book_value(date(2025, 3, 31)), money("1100.00 EUR"));
    assert_eq!(own.ends_on(), date(2026, 2, 28));

    let next = builder("1200.00 EUR", date(2025, 3, 15))
        .useful_life_months(12)
        .convention(Convention::FullMonths(FirstMonth::FollowingMonth))
        .build()
        .unwrap();
    assert_eq!(next.starts_on(), date(2025, 4, 1));
    assert_eq!(next.book_value(date(2025, 3, 31)), money("1200.00 EUR"));
    assert_eq!(next.book_value(date(2025, 4, 30)), money("1100.00 EUR"));
    assert_eq!(next.ends_on(), date(2026, 3, 31));
    let by_year = next.schedule_by_year();
    assert_eq!(charges(&by_year), ["900", "300"]);
    assert_eq!(by_year[0].start(), date(2025, 4, 1));
}

#[test]
fn nothing_to_depreciate() {
    for (cost, salvage) in [("0 EUR", "0 EUR"), ("500.00 EUR", "500.00 EUR")] {
        let plan = builder(cost, date(2025, 1, 1))
            .salvage(money(salvage))
            .useful_life_years(3)
            .build()
            .unwrap();
        assert!(plan.depreciable().is_zero());
        assert_eq!(plan.book_value(date(2026, 6, 1)), money(cost));
        assert!(
            plan.schedule_by_month()
                .iter()
                .all(|p| p.charge().is_zero())
        );
    }
}

#[test]
fn from_an_asset_record() {
    let asset = itam_cmdb::Asset::builder(id("srv-9"), "db", itam_cmdb::AssetKind::Hardware)
        .purchase_cost(money("4800.00 EUR"))
        .purchase_date(date(2024, 5, 20))
        .build()
        .unwrap();
    let plan = Depreciation::for_asset(&asset)
        .unwrap()
        .in_service(date(2024, 6, 3))
        .useful_life_years(4)
        .build()
        .unwrap();
    assert_eq!(plan.asset(), asset.id());
    assert_eq!(plan.starts_on(), date(2024, 6, 1));
    assert_eq!(plan.book_value(date(2024, 6, 30)), money("4700.00 EUR"));

    let no_date = itam_cmdb::Asset::builder(id("srv-8"), "db", itam_cmdb::AssetKind::Hardware)
        .purchase_cost(money("1 EUR"))
        .build()
        .unwrap();
    let err = Depreciation::for_asset(&no_date).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidField { field, .. } if field == "purchase_date"),
        "{err}"
    );
}

// ---- validation ----

#[track_caller]
fn refused(builder: DepreciationBuilder, field: &str, message: &str) {
    let err = builder.build().unwrap_err();
    assert!(
        matches!(&err, Error::InvalidField { id, field: f, .. } if id.as_str() == "SN-1" && f == field),
        "{err:?}"
    );
    assert_eq!(err.to_string(), message);
}

#[test]
fn invalid_plans_name_the_asset_and_the_field() {
    let day = date(2025, 1, 1);
    let years = |cost| builder(cost, day).useful_life_years(5);
    refused(
        years("-1.00 EUR"),
        "cost",
        "invalid cost of `SN-1`: -1.00 EUR must not be negative",
    );
    refused(
        years("100 EUR").salvage(money("-1 EUR")),
        "salvage",
        "invalid salvage of `SN-1`: -1 EUR must not be negative",
    );
    refused(
        years("100 EUR").salvage(money("101 EUR")),
        "salvage",
        "invalid salvage of `SN-1`: 101 EUR must not be above the cost 100 EUR",
    );
    refused(
        years("100 EUR").salvage(money("1 USD")),
        "salvage",
        "invalid salvage of `SN-1`: 1 USD is not in the cost's currency EUR",
    );
    refused(
        builder("100 EUR", day).useful_life_months(0),
        "useful_life",
        "invalid useful_life of `SN-1`: 0 months is not between 1 and 1200 months (100 years)",
    );
    refused(
        builder("100 EUR", day).useful_life_years(101),
        "useful_life",
        "invalid useful_life of `SN-1`: 1212 months is not between 1 and 1200 months (100 years)",
    );
    refused(
        builder("100 EUR", day).useful_life_years(u32::MAX),
        "useful_life",
        "invalid useful_life of `SN-1`: 51539607540 months is not between 1 and 1200 months (100 years)",
    );
    refused(
        builder("100 EUR", day),
        "useful_life",
        "invalid useful_life of `SN-1`: is not set; give it in months or years",
    );
    for rate in ["0", "-0.1", "1.01"] {
        let rate = Decimal::from_str_exact(rate).unwrap();
        refused(
            years("100 EUR").method(DepreciationMethod::declining_balance(rate)),
            "rate",
            &format!("invalid rate of `SN-1`: {rate} is not above 0 and at most 1"),
        );
    }
    assert!(
        years("100 EUR")
            .method(DepreciationMethod::declining_balance(Decimal::ONE))
            .build()
            .is_ok()
    );
    assert!(
        builder("100 EUR", day)
            .useful_life_months(1200)
            .build()
            .is_ok()
    );
}

#[test]
fn serde_round_trips_and_validates() {
    let plan = builder("10000.00 EUR", date(2025, 1, 1))
        .salvage(money("1000.00 EUR"))
        .useful_life_years(5)
        .method(DepreciationMethod::declining_balance(half()))
        .convention(Convention::DailyProRata)
        .build()
        .unwrap();
    let json = serde_json::to_string(&plan).unwrap();
    assert_eq!(
        json,
        concat!(
            r#"{"asset":"SN-1","cost":{"amount":"10000.00","currency":"EUR"},"#,
            r#""salvage":{"amount":"1000.00","currency":"EUR"},"useful_life_months":60,"#,
            r#""in_service":"2025-01-01","method":{"declining_balance":{"rate":"0.5","#,
            r#""switch":"write_off_in_last_year"}},"convention":"daily_pro_rata"}"#
        )
    );
    let back: Depreciation = serde_json::from_str(&json).unwrap();
    assert_eq!(back, plan);

    let too_much_salvage = json.replace(r#""amount":"1000.00""#, r#""amount":"20000.00""#);
    let err = serde_json::from_str::<Depreciation>(&too_much_salvage).unwrap_err();
    assert!(
        err.to_string().contains("invalid salvage of `SN-1`"),
        "{err}"
    );
    let no_life = json.replace(r#""useful_life_months":60"#, r#""useful_life_months":0"#);
    assert!(serde_json::from_str::<Depreciation>(&no_life).is_err());
    let extra = json.replace(r#"{"asset""#, r#"{"x":1,"asset""#);
    assert!(serde_json::from_str::<Depreciation>(&extra).is_err());

    let period = plan.schedule_by_month()[0];
    let json = serde_json::to_string(&period).unwrap();
    assert_eq!(
        serde_json::from_str::<DepreciationPeriod>(&json).unwrap(),
        period
    );
}

// ---- extremes ----

fn conventions() -> [Convention; 3] {
    [
        Convention::FullMonths(FirstMonth::InServiceMonth),
        Convention::FullMonths(FirstMonth::FollowingMonth),
        Convention::DailyProRata,
    ]
}

fn methods() -> [DepreciationMethod; 5] {
    [
        DepreciationMethod::StraightLine,
        DepreciationMethod::declining_balance(half()),
        DepreciationMethod::DecliningBalance {
            rate: Decimal::new(1, 1),
            switch: DecliningSwitch::StraightLine,
        },
        DepreciationMethod::DoubleDecliningBalance,
        DepreciationMethod::SumOfYearsDigits,
    ]
}

#[test]
fn extreme_dates_never_panic_and_stop_at_the_last_date() {
    let near_max = NaiveDate::MAX.with_day(1).unwrap();
    for in_service in [NaiveDate::MIN, NaiveDate::MAX, near_max] {
        for convention in conventions() {
            for method in methods() {
                let plan = builder("1000.00 EUR", in_service)
                    .salvage(money("100.00 EUR"))
                    .useful_life_months(241)
                    .method(method)
                    .convention(convention)
                    .build()
                    .unwrap();
                // Under daily pro rata the in-service day itself is charged.
                if in_service > NaiveDate::MIN || convention != Convention::DailyProRata {
                    assert_eq!(plan.book_value(NaiveDate::MIN), plan.cost());
                }
                assert_eq!(plan.book_value(NaiveDate::MAX), plan.salvage());
                for schedule in [plan.schedule_by_month(), plan.schedule_by_year()] {
                    check_schedule(&plan, &schedule);
                }
            }
        }
    }
    let late = builder("1000.00 EUR", NaiveDate::MAX)
        .useful_life_years(5)
        .convention(Convention::FullMonths(FirstMonth::FollowingMonth))
        .build()
        .unwrap();
    assert_eq!(
        (late.starts_on(), late.ends_on()),
        (NaiveDate::MAX, NaiveDate::MAX)
    );
    let schedule = late.schedule_by_month();
    assert_eq!(schedule.len(), 1);
    assert_eq!(schedule[0].charge(), money("1000.00 EUR"));
}

#[test]
fn huge_amounts_never_panic() {
    let max = Money::new(Decimal::MAX, Currency::EUR);
    for convention in conventions() {
        for method in methods() {
            let plan = Depreciation::builder(id("SN-1"), max, date(2025, 1, 31))
                .useful_life_months(37)
                .method(method)
                .convention(convention)
                .build()
                .unwrap();
            let _ = plan.schedule_by_month();
            let _ = plan.schedule_by_year();
            assert_eq!(plan.book_value(NaiveDate::MAX).amount(), Decimal::ZERO);
            assert_eq!(plan.book_value(date(2024, 1, 1)), max);
        }
    }
}

// ---- properties ----

/// Checks a schedule against the plan: contiguous periods from the first
/// to the last day of depreciation, each opening at the previous closing,
/// closing at the plan's book value on its last day, and charges summing
/// exactly to cost minus salvage.
#[track_caller]
fn check_schedule(plan: &Depreciation, schedule: &[DepreciationPeriod]) {
    let first = schedule.first().expect("a schedule is never empty");
    let last = schedule.last().expect("a schedule is never empty");
    assert_eq!(first.start(), plan.starts_on());
    assert_eq!(first.opening(), plan.cost());
    assert_eq!(last.end(), plan.ends_on());
    assert_eq!(last.closing(), plan.salvage());
    assert_eq!(last.accumulated(), plan.depreciable());
    for pair in schedule.windows(2) {
        assert_eq!(pair[0].end().succ_opt(), Some(pair[1].start()));
        assert_eq!(pair[0].closing(), pair[1].opening());
    }
    for period in schedule {
        assert!(period.start() <= period.end());
        assert!(!period.charge().is_negative());
        assert_eq!(
            period.opening().checked_sub(period.charge()).unwrap(),
            period.closing()
        );
        assert_eq!(plan.book_value(period.end()), period.closing());
        assert_eq!(plan.accumulated(period.end()), period.accumulated());
    }
    let currency = plan.cost().currency();
    let total = Money::sum(currency, schedule.iter().map(DepreciationPeriod::charge)).unwrap();
    assert_eq!(total, plan.depreciable());
}

fn any_date() -> impl Strategy<Value = NaiveDate> {
    let days = |from: NaiveDate, to: NaiveDate| from.num_days_from_ce()..=to.num_days_from_ce();
    let from_days = |n| NaiveDate::from_num_days_from_ce_opt(n).expect("in range");
    prop_oneof![
        8 => days(date(1990, 1, 1), date(2100, 12, 31)).prop_map(from_days),
        1 => days(NaiveDate::MIN, NaiveDate::MAX).prop_map(from_days),
        1 => (0..800_i32).prop_map(move |n| from_days(NaiveDate::MAX.num_days_from_ce() - n)),
        1 => (0..800_i32).prop_map(move |n| from_days(NaiveDate::MIN.num_days_from_ce() + n)),
    ]
}

fn any_method() -> impl Strategy<Value = DepreciationMethod> {
    prop_oneof![
        Just(DepreciationMethod::StraightLine),
        Just(DepreciationMethod::DoubleDecliningBalance),
        Just(DepreciationMethod::SumOfYearsDigits),
        (1..=100_i64, any::<bool>()).prop_map(|(percent, switch)| {
            DepreciationMethod::DecliningBalance {
                rate: Decimal::new(percent, 2),
                switch: if switch {
                    DecliningSwitch::StraightLine
                } else {
                    DecliningSwitch::WriteOffInLastYear
                },
            }
        }),
    ]
}

fn any_plan() -> impl Strategy<Value = Depreciation> {
    let currency = proptest::sample::select(vec![
        Currency::EUR,
        Currency::JPY,
        Currency::new("KWD").unwrap(),
    ]);
    let life = prop_oneof![4 => 1..=120_u32, 1 => 1..=1200_u32];
    (
        currency,
        0..=1_000_000_000_000_i64,
        0..=100_i64,
        life,
        any_method(),
        proptest::sample::select(conventions().to_vec()),
        any_date(),
    )
        .prop_map(
            |(currency, minor, salvage_percent, life, method, convention, in_service)| {
                let cost = Money::from_minor(minor, currency);
                let salvage = Money::from_minor(minor / 100 * salvage_percent, currency);
                Depreciation::builder(id("SN-P"), cost, in_service)
                    .salvage(salvage)
                    .useful_life_months(life)
                    .method(method)
                    .convention(convention)
                    .build()
                    .expect("a valid plan")
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn book_value_only_goes_down_between_cost_and_salvage(
        plan in any_plan(),
        mut dates in proptest::collection::vec(any_date(), 1..12),
    ) {
        dates.push(plan.in_service());
        dates.push(plan.ends_on());
        dates.sort();
        let mut previous = plan.cost();
        for as_of in dates {
            let value = plan.book_value(as_of);
            prop_assert!(value.amount() <= previous.amount(), "{as_of}: {value} after {previous}");
            prop_assert!(value.amount() >= plan.salvage().amount(), "{as_of}: {value}");
            if as_of < plan.in_service() {
                prop_assert_eq!(value, plan.cost());
            }
            if as_of >= plan.ends_on() {
                prop_assert_eq!(value, plan.salvage());
            }
            previous = value;
        }
    }

    #[test]
    fn book_value_is_monotone_day_by_day_near_a_random_date(
        plan in any_plan(),
        offset in -40_i64..400,
    ) {
        let Some(from) = plan
            .starts_on()
            .checked_add_signed(chrono::TimeDelta::days(offset))
        else {
            return Ok(());
        };
        let mut previous = plan.book_value(from.pred_opt().unwrap_or(from));
        for day in from.iter_days().take(60) {
            let value = plan.book_value(day);
            prop_assert!(value.amount() <= previous.amount(), "{day}: {value} after {previous}");
            previous = value;
        }
    }

    #[test]
    fn schedules_sum_exactly_and_agree_with_book_values(plan in any_plan()) {
        let by_month = plan.schedule_by_month();
        let by_year = plan.schedule_by_year();
        check_schedule(&plan, &by_month);
        check_schedule(&plan, &by_year);
        // Charges land on whole minor units.
        let places = plan.cost().currency().minor_units();
        for period in &by_month {
            let charge = period.charge().amount();
            prop_assert_eq!(charge.round_dp(places), charge);
        }
        prop_assert!(by_month.len() <= 1201);
    }

    #[test]
    fn extreme_in_service_dates_never_panic(
        plan in any_plan(),
        at_end in any::<bool>(),
        back in 0..400_u64,
    ) {
        let edge = if at_end {
            NaiveDate::MAX - chrono::Days::new(back)
        } else {
            NaiveDate::MIN + chrono::Days::new(back)
        };
        let moved = Depreciation::builder(plan.asset().clone(), plan.cost(), edge)
            .salvage(plan.salvage())
            .useful_life_months(plan.useful_life_months())
            .method(plan.method())
            .convention(plan.convention())
            .build()
            .expect("moving a valid plan keeps it valid");
        if edge > NaiveDate::MIN {
            prop_assert_eq!(moved.book_value(NaiveDate::MIN), moved.cost());
        }
        prop_assert_eq!(moved.book_value(NaiveDate::MAX), moved.salvage());
        check_schedule(&moved, &moved.schedule_by_year());
    }
}
