//! Properties of exact money: same-currency arithmetic is exact and
//! well-behaved, mixed currencies are always refused, and rounding lands on
//! the currency's minor unit.

use itam_cmdb::{Currency, Error, Money, Rounding};
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::util::money;

/// Currencies with 0, 2, 3 and 4 decimal places.
fn currency() -> impl Strategy<Value = Currency> {
    proptest::sample::select(
        [
            "EUR", "USD", "GBP", "CHF", "JPY", "KWD", "BHD", "CLF", "UYW",
        ]
        .map(|code| Currency::new(code).unwrap())
        .to_vec(),
    )
}

/// Two different currencies.
fn two_currencies() -> impl Strategy<Value = (Currency, Currency)> {
    (currency(), currency()).prop_filter("different currencies", |(a, b)| a != b)
}

/// Minor units small enough that sums of a few never overflow.
const MINOR: std::ops::RangeInclusive<i64> = -1_000_000_000_000..=1_000_000_000_000;

/// An amount in `currency` with any scale from 0 to 8 decimal places, so
/// that rounding has digits to drop (or none, or fewer than the minor unit).
fn amount_in(currency: Currency) -> impl Strategy<Value = Money> {
    (MINOR, 0..=8_u32).prop_map(move |(n, scale)| Money::new(Decimal::new(n, scale), currency))
}

/// An amount in whole minor units, built with `Money::from_minor`.
fn minor_in(currency: Currency) -> impl Strategy<Value = Money> {
    MINOR.prop_map(move |n| Money::from_minor(n, currency))
}

fn any_amount() -> impl Strategy<Value = Money> {
    currency().prop_flat_map(|c| prop_oneof![amount_in(c), minor_in(c)])
}

/// Three amounts in one currency.
fn three_amounts() -> impl Strategy<Value = (Money, Money, Money)> {
    currency().prop_flat_map(|c| (amount_in(c), minor_in(c), amount_in(c)))
}

/// The exact value of an amount of at most 8 decimal places, in units of
/// 10^-8, computed with integers: an oracle independent of `Decimal`'s own
/// arithmetic.
fn hundred_millionths(money: Money) -> i128 {
    let amount = money.amount();
    assert!(
        amount.scale() <= 8,
        "{money} has more than 8 decimal places"
    );
    amount.mantissa() * 10_i128.pow(8 - amount.scale())
}

/// Half of the currency's minor unit: 0.005 for EUR, 0.5 for JPY.
fn half_minor_unit(currency: Currency) -> Decimal {
    Decimal::new(5, currency.minor_units() + 1)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn addition_is_commutative_and_associative((a, b, c) in three_amounts()) {
        let ab = a.checked_add(b).unwrap();
        prop_assert_eq!(ab, b.checked_add(a).unwrap());
        prop_assert_eq!(ab.currency(), a.currency());
        prop_assert_eq!(
            ab.checked_add(c).unwrap(),
            a.checked_add(b.checked_add(c).unwrap()).unwrap()
        );
        // Exact: nothing is rounded away.
        prop_assert_eq!(
            hundred_millionths(ab),
            hundred_millionths(a) + hundred_millionths(b)
        );
    }

    #[test]
    fn subtraction_undoes_addition((a, b, _) in three_amounts()) {
        prop_assert_eq!(a.checked_add(b).unwrap().checked_sub(b).unwrap(), a);
        prop_assert_eq!(a.checked_sub(b).unwrap().checked_add(b).unwrap(), a);
        prop_assert!(a.checked_sub(a).unwrap().is_zero());
        let zero = Money::zero(a.currency());
        prop_assert_eq!(a.checked_add(zero).unwrap(), a);
        prop_assert_eq!(
            zero.checked_sub(a).unwrap().is_negative(),
            !a.is_zero() && !a.is_negative()
        );
    }

    #[test]
    fn mixing_currencies_is_always_refused(
        (left, right) in two_currencies(),
        n in MINOR,
        m in MINOR,
    ) {
        let a = Money::from_minor(n, left);
        let b = Money::from_minor(m, right);
        prop_assert_eq!(
            a.checked_add(b).unwrap_err(),
            Error::CurrencyMismatch { operation: "add", left, right }
        );
        prop_assert_eq!(
            a.checked_sub(b).unwrap_err(),
            Error::CurrencyMismatch { operation: "subtract", left, right }
        );
        // A sum in one currency refuses an amount in another, wherever it is.
        prop_assert_eq!(
            Money::sum(left, [a, b, a]).unwrap_err(),
            Error::CurrencyMismatch { operation: "add", left, right }
        );
        prop_assert_eq!(
            Money::sum(left, [b]).unwrap_err(),
            Error::CurrencyMismatch { operation: "add", left, right }
        );
        // Even zero amounts do not mix.
        prop_assert!(Money::zero(left).checked_add(Money::zero(right)).is_err());
    }

    #[test]
    fn round_lands_on_the_minor_unit_within_half_a_unit(money in any_amount()) {
        let currency = money.currency();
        let rounded = money.round();
        prop_assert_eq!(rounded.currency(), currency);
        prop_assert_eq!(rounded.amount().scale(), currency.minor_units(), "{}", rounded);
        prop_assert!(
            (rounded.amount() - money.amount()).abs() <= half_minor_unit(currency),
            "{} rounds to {}", money, rounded
        );
        // Commercial rounding keeps the sign, and rounding twice changes nothing.
        prop_assert!(!(rounded.is_negative() && !money.is_negative() && !money.is_zero()));
        prop_assert_eq!(rounded.round(), rounded);
        prop_assert_eq!(rounded.round().to_string(), rounded.to_string());
        prop_assert_eq!(money.round_with(Rounding::default()), rounded);
    }

    #[test]
    fn every_rounding_mode_lands_on_the_minor_unit(money in any_amount()) {
        let currency = money.currency();
        let unit = Decimal::new(1, currency.minor_units());
        for mode in [
            Rounding::HalfAwayFromZero,
            Rounding::HalfEven,
            Rounding::TowardZero,
            Rounding::AwayFromZero,
        ] {
            let rounded = money.round_with(mode);
            prop_assert_eq!(rounded.amount().scale(), currency.minor_units(), "{:?}", mode);
            let distance = (rounded.amount() - money.amount()).abs();
            prop_assert!(distance < unit, "{:?}: {} rounds to {}", mode, money, rounded);
        }
        let toward_zero = money.round_with(Rounding::TowardZero).amount();
        let away_from_zero = money.round_with(Rounding::AwayFromZero).amount();
        prop_assert!(toward_zero.abs() <= money.amount().abs(), "{} -> {}", money, toward_zero);
        prop_assert!(away_from_zero.abs() >= money.amount().abs(), "{} -> {}", money, away_from_zero);
        // Truncation never crosses zero.
        prop_assert!(toward_zero.is_zero() || toward_zero.is_sign_negative() == money.amount().is_sign_negative());
        // Half-even is within half a unit, like commercial rounding.
        let half_even = money.round_with(Rounding::HalfEven).amount();
        prop_assert!((half_even - money.amount()).abs() <= half_minor_unit(currency));
    }

    #[test]
    fn amounts_in_minor_units_do_not_change_when_rounded(currency in currency(), n in MINOR) {
        let money = Money::from_minor(n, currency);
        prop_assert_eq!(money.amount().scale(), currency.minor_units());
        for mode in [Rounding::HalfEven, Rounding::TowardZero, Rounding::AwayFromZero] {
            prop_assert_eq!(money.round_with(mode).to_string(), money.to_string());
        }
    }

    #[test]
    fn sum_equals_folding_checked_add(
        amounts in currency().prop_flat_map(|c| {
            (Just(c), proptest::collection::vec(amount_in(c), 0..12))
        }),
    ) {
        let (currency, amounts) = amounts;
        let folded = amounts
            .iter()
            .try_fold(Money::zero(currency), |total, &m| total.checked_add(m))
            .unwrap();
        let sum = Money::sum(currency, amounts.iter().copied()).unwrap();
        prop_assert_eq!(sum, folded);
        prop_assert_eq!(sum.currency(), currency);
        prop_assert_eq!(
            hundred_millionths(sum),
            amounts.iter().copied().map(hundred_millionths).sum::<i128>()
        );
        // The order of the amounts does not matter.
        let reversed = Money::sum(currency, amounts.iter().rev().copied()).unwrap();
        prop_assert_eq!(reversed, sum);
    }

    #[test]
    fn multiplying_by_an_integer_is_repeated_addition(money in any_amount(), times in 0..20_i64) {
        let product = money.checked_mul(Decimal::from(times)).unwrap();
        let repeated = Money::sum(money.currency(), (0..times).map(|_| money)).unwrap();
        prop_assert_eq!(product, repeated);
    }
}

#[test]
fn overflow_is_an_error_not_a_wrap() {
    let max = Money::new(Decimal::MAX, Currency::EUR);
    let min = Money::new(Decimal::MIN, Currency::EUR);
    let one = money("1 EUR");
    assert_eq!(
        max.checked_add(one).unwrap_err(),
        Error::Overflow { operation: "add" }
    );
    assert_eq!(
        min.checked_sub(one).unwrap_err(),
        Error::Overflow {
            operation: "subtract"
        }
    );
    assert_eq!(
        max.checked_mul(Decimal::TWO).unwrap_err(),
        Error::Overflow {
            operation: "multiply"
        }
    );
    assert_eq!(
        Money::sum(Currency::EUR, [max, one]).unwrap_err(),
        Error::Overflow { operation: "add" }
    );
    assert_eq!(
        max.checked_add(one).unwrap_err().to_string(),
        "arithmetic overflow in add"
    );
    // The currency check comes before the arithmetic.
    assert_eq!(
        max.checked_add(Money::new(Decimal::MAX, Currency::USD))
            .unwrap_err(),
        Error::CurrencyMismatch {
            operation: "add",
            left: Currency::EUR,
            right: Currency::USD
        }
    );
}

#[test]
fn rounding_examples_per_currency() {
    let cases = [
        ("2.345 EUR", Rounding::HalfAwayFromZero, "2.35 EUR"),
        ("-2.345 EUR", Rounding::HalfAwayFromZero, "-2.35 EUR"),
        ("2.345 EUR", Rounding::HalfEven, "2.34 EUR"),
        ("-2.349 EUR", Rounding::TowardZero, "-2.34 EUR"),
        ("-2.341 EUR", Rounding::AwayFromZero, "-2.35 EUR"),
        ("7 EUR", Rounding::HalfAwayFromZero, "7.00 EUR"),
        ("0.5 JPY", Rounding::HalfEven, "0 JPY"),
        ("1.5 JPY", Rounding::HalfEven, "2 JPY"),
        ("-0.5 JPY", Rounding::HalfAwayFromZero, "-1 JPY"),
        ("1.0005 KWD", Rounding::HalfAwayFromZero, "1.001 KWD"),
        ("1.23456 CLF", Rounding::HalfAwayFromZero, "1.2346 CLF"),
    ];
    for (input, mode, expected) in cases {
        assert_eq!(
            money(input).round_with(mode).to_string(),
            expected,
            "{input} {mode:?}"
        );
    }
}
