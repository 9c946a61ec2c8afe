//! Exact money: [`Money`] is a decimal amount with a [`Currency`].
//!
//! Amounts are [`rust_decimal::Decimal`], never floating point, so `0.1 + 0.2`
//! is `0.3` and a total is the exact sum of its parts. Arithmetic between two
//! amounts refuses mixed currencies with [`Error::CurrencyMismatch`]: nothing
//! in this crate converts currencies.
//!
//! # Rounding
//!
//! Arithmetic never rounds on its own: a monthly share of an annual cost keeps
//! every decimal place it has. Rounding to the currency's minor unit (cents,
//! pence, yen, fils) is an explicit step: [`Money::round`] uses
//! [`Rounding::HalfAwayFromZero`] (commercial rounding, `2.345` -> `2.35`,
//! `-2.345` -> `-2.35`), and [`Money::round_with`] takes any [`Rounding`]
//! mode, such as [`Rounding::HalfEven`] (banker's rounding) where a ledger
//! requires it. The minor unit comes from ISO 4217 through
//! [`Currency::minor_units`]: 2 for EUR, 0 for JPY, 3 for KWD.

use std::fmt::{self, Write as _};
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, excerpt};

/// An active ISO 4217 currency, such as `EUR`, `USD` or `JPY`.
///
/// # Rules
///
/// A currency is exactly three uppercase ASCII letters *and* one of the active
/// ISO 4217 codes that have a minor unit (so `EUR` is accepted, `eur`, `EU`
/// and `ABC` are not; the precious-metal and testing codes such as `XAU` and
/// `XTS` are not currencies here). The check happens on construction and on
/// deserialisation.
///
/// # Example
///
/// ```
/// use itam_cmdb::Currency;
///
/// let gbp: Currency = "GBP".parse()?;
/// assert_eq!(gbp, Currency::GBP);
/// assert_eq!(gbp.minor_units(), 2);
/// assert_eq!(Currency::new("JPY")?.minor_units(), 0);
/// assert!(Currency::new("gbp").is_err());
/// assert!(Currency::new("ABC").is_err());
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency {
    code: [u8; 3],
    minor_units: u8,
}

/// Active ISO 4217 codes with their minor units, sorted by code.
const ISO_4217: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BOV", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHE", 2),
    ("CHF", 2),
    ("CHW", 2),
    ("CLF", 4),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("COU", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MXV", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("USN", 2),
    ("UYI", 0),
    ("UYU", 2),
    ("UYW", 4),
    ("UZS", 2),
    ("VED", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

impl Currency {
    /// The euro.
    pub const EUR: Self = Self::known(*b"EUR", 2);
    /// The United States dollar.
    pub const USD: Self = Self::known(*b"USD", 2);
    /// The pound sterling.
    pub const GBP: Self = Self::known(*b"GBP", 2);
    /// The Swiss franc.
    pub const CHF: Self = Self::known(*b"CHF", 2);
    /// The Japanese yen (no minor unit).
    pub const JPY: Self = Self::known(*b"JPY", 0);

    const fn known(code: [u8; 3], minor_units: u8) -> Self {
        Self { code, minor_units }
    }

    /// Validates `code` and returns the currency.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCurrency`] if `code` is not three uppercase ASCII
    /// letters, or is not an active ISO 4217 currency.
    pub fn new(code: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidCurrency {
            code: excerpt(code),
            reason,
        };
        let bytes: [u8; 3] = code
            .as_bytes()
            .try_into()
            .map_err(|_| invalid("must be exactly three letters"))?;
        if !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(invalid("must be three uppercase ascii letters"));
        }
        let index = ISO_4217
            .binary_search_by(|(known, _)| known.as_bytes().cmp(&bytes[..]))
            .map_err(|_| invalid("not an active iso 4217 currency"))?;
        Ok(Self::known(bytes, ISO_4217[index].1))
    }

    /// The three-letter code, e.g. `"EUR"`.
    #[must_use]
    pub fn code(&self) -> &str {
        // The bytes were checked to be ASCII uppercase letters on construction.
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// The number of decimal places of the currency's minor unit, from
    /// ISO 4217: 2 for EUR (cents), 0 for JPY, 3 for KWD (fils).
    #[must_use]
    pub fn minor_units(self) -> u32 {
        u32::from(self.minor_units)
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.code())
    }
}

impl FromStr for Currency {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::new(&text).map_err(serde::de::Error::custom)
    }
}

/// How [`Money::round_with`] treats the digits it drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Rounding {
    /// Halves go away from zero: `2.345` -> `2.35`, `-2.345` -> `-2.35`.
    /// Commercial rounding, and the default.
    #[default]
    HalfAwayFromZero,
    /// Halves go to the even neighbour: `2.345` -> `2.34`, `2.355` -> `2.36`.
    /// Banker's rounding.
    HalfEven,
    /// Drop the extra digits: `2.349` -> `2.34`, `-2.349` -> `-2.34`.
    TowardZero,
    /// Round up in magnitude: `2.341` -> `2.35`, `-2.341` -> `-2.35`.
    AwayFromZero,
}

impl Rounding {
    fn strategy(self) -> RoundingStrategy {
        match self {
            Self::HalfAwayFromZero => RoundingStrategy::MidpointAwayFromZero,
            Self::HalfEven => RoundingStrategy::MidpointNearestEven,
            Self::TowardZero => RoundingStrategy::ToZero,
            Self::AwayFromZero => RoundingStrategy::AwayFromZero,
        }
    }
}

/// An exact amount of money in one currency.
///
/// Amounts may be negative (a credit note, a refund). Operations that combine
/// two amounts return [`Error::CurrencyMismatch`] when the currencies differ
/// and [`Error::Overflow`] when the result does not fit. Nothing rounds
/// implicitly; see the [module docs](crate::money) for the rounding rules.
///
/// # Equality
///
/// Two amounts are equal when their currency and numeric value are equal:
/// `10.0 EUR == 10.00 EUR`. [`Display`](fmt::Display) keeps the scale the
/// amount carries.
///
/// # Display
///
/// The amount with the scale it carries, a space and the currency code:
/// `412.30 EUR`. Width, fill and alignment apply to the whole text, so
/// `{:>12}` right-aligns it in a column (left is the default, as for a
/// string). Precision is ignored: formatting never rounds or cuts an
/// amount; round it with [`Money::round`] first.
///
/// # Serde
///
/// `{"amount": "1234.50", "currency": "EUR"}`: the amount is a string so that
/// no JSON reader turns it into a float.
///
/// # Example
///
/// ```
/// use itam_cmdb::{Currency, Money};
///
/// let vm: Money = "412.30 EUR".parse()?;
/// let disk = Money::new("87.70".parse()?, Currency::EUR);
/// assert_eq!(vm.checked_add(disk)?.to_string(), "500.00 EUR");
///
/// // A third of it, rounded to cents only when asked.
/// let share = vm.checked_mul("0.3333".parse()?)?;
/// assert_eq!(share.to_string(), "137.419590 EUR");
/// assert_eq!(share.round().to_string(), "137.42 EUR");
///
/// // Mixing currencies is an error, not a silent conversion.
/// let usd: Money = "10 USD".parse()?;
/// assert!(vm.checked_add(usd).is_err());
///
/// // Aligned in a column.
/// assert_eq!(format!("[{vm:>12}]"), "[  412.30 EUR]");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "MoneyRecord")]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

/// The serialised form of [`Money`]: the amount must be a string.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MoneyRecord {
    amount: String,
    currency: Currency,
}

impl TryFrom<MoneyRecord> for Money {
    type Error = Error;

    fn try_from(record: MoneyRecord) -> Result<Self, Error> {
        let amount = Decimal::from_str_exact(&record.amount).map_err(|_| Error::Parse {
            what: "money amount",
            input: excerpt(&record.amount),
            reason: "invalid decimal amount".to_owned(),
        })?;
        Ok(Self::new(amount, record.currency))
    }
}

impl Money {
    /// An amount in a currency.
    #[must_use]
    pub const fn new(amount: Decimal, currency: Currency) -> Self {
        Self { amount, currency }
    }

    /// Zero in `currency`.
    #[must_use]
    pub const fn zero(currency: Currency) -> Self {
        Self::new(Decimal::ZERO, currency)
    }

    /// An amount given in minor units: `from_minor(12345, EUR)` is 123.45 EUR,
    /// `from_minor(500, JPY)` is 500 JPY.
    #[must_use]
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        Self::new(Decimal::new(minor, currency.minor_units()), currency)
    }

    /// The decimal amount.
    #[must_use]
    pub const fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency.
    #[must_use]
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// Whether the amount is below zero.
    #[must_use]
    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    /// Whether the amount is zero.
    #[must_use]
    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    /// The exact sum of two amounts in the same currency.
    ///
    /// # Errors
    ///
    /// [`Error::CurrencyMismatch`] if the currencies differ;
    /// [`Error::Overflow`] if the sum does not fit, or could only be stored
    /// rounded (a decimal holds 28 significant digits).
    pub fn checked_add(self, other: Self) -> Result<Self, Error> {
        self.same_currency("add", other)?;
        let sum = exact(
            self.amount.checked_add(other.amount),
            "add",
            [self.amount, other.amount],
        )?;
        Ok(Self::new(sum, self.currency))
    }

    /// The exact difference of two amounts in the same currency.
    ///
    /// # Errors
    ///
    /// [`Error::CurrencyMismatch`] if the currencies differ;
    /// [`Error::Overflow`] if the difference does not fit, or could only be
    /// stored rounded (a decimal holds 28 significant digits).
    pub fn checked_sub(self, other: Self) -> Result<Self, Error> {
        self.same_currency("subtract", other)?;
        let difference = exact(
            self.amount.checked_sub(other.amount),
            "subtract",
            [self.amount, other.amount],
        )?;
        Ok(Self::new(difference, self.currency))
    }

    /// The amount multiplied by a quantity (a unit count, a share, a rate).
    /// The result keeps every decimal place a decimal can hold (28
    /// significant digits; a product with more, such as a price times a
    /// repeating fraction, keeps its 28 most significant); round it with
    /// [`Money::round`].
    ///
    /// # Errors
    ///
    /// [`Error::Overflow`] if the product does not fit.
    pub fn checked_mul(self, quantity: Decimal) -> Result<Self, Error> {
        self.amount
            .checked_mul(quantity)
            .map(|amount| Self::new(amount, self.currency))
            .ok_or(Error::Overflow {
                operation: "multiply",
            })
    }

    /// The sum of `amounts`, all in `currency`; zero when there are none.
    ///
    /// # Errors
    ///
    /// [`Error::CurrencyMismatch`] at the first amount in another currency;
    /// [`Error::Overflow`] if the sum does not fit.
    pub fn sum(currency: Currency, amounts: impl IntoIterator<Item = Self>) -> Result<Self, Error> {
        amounts
            .into_iter()
            .try_fold(Self::zero(currency), Self::checked_add)
    }

    /// The amount rounded to the currency's minor unit with
    /// [`Rounding::HalfAwayFromZero`], scaled to exactly that many decimals
    /// (`12.5 EUR` becomes `12.50 EUR`).
    #[must_use]
    pub fn round(self) -> Self {
        self.round_with(Rounding::HalfAwayFromZero)
    }

    /// The amount rounded to the currency's minor unit with `mode`, scaled to
    /// exactly that many decimals (an amount too large to carry them, above
    /// about 7.9 x 10^26, keeps fewer).
    #[must_use]
    pub fn round_with(self, mode: Rounding) -> Self {
        let places = self.currency.minor_units();
        let mut amount = self.amount.round_dp_with_strategy(places, mode.strategy());
        amount.rescale(places);
        Self::new(amount, self.currency)
    }

    fn same_currency(self, operation: &'static str, other: Self) -> Result<(), Error> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(Error::CurrencyMismatch {
                operation,
                left: self.currency,
                right: other.currency,
            })
        }
    }
}

/// Checks that a sum or difference exists and is exact: `rust_decimal`
/// rounds a result to fewer decimals when its digits do not fit, and the
/// result is exact only if both operands are representable at its scale.
fn exact(
    result: Option<Decimal>,
    operation: &'static str,
    operands: [Decimal; 2],
) -> Result<Decimal, Error> {
    result
        .filter(|value| {
            let scale = value.scale();
            operands
                .iter()
                .all(|operand| operand.scale() <= scale || operand.round_dp(scale) == *operand)
        })
        .ok_or(Error::Overflow { operation })
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({} {})", self.amount, self.currency)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        pad_whole(f, format_args!("{} {}", self.amount, self.currency))
    }
}

/// Writes `text` as [`fmt::Formatter::pad`] would, honouring the width, the
/// fill and the alignment (left by default, as for a string), but not the
/// precision: `pad` would cut the text short, and an amount or a count cut
/// short is a wrong one.
pub(crate) fn pad_whole(f: &mut fmt::Formatter<'_>, text: fmt::Arguments<'_>) -> fmt::Result {
    let Some(width) = f.width() else {
        return f.write_fmt(text);
    };
    let text = text.to_string();
    let padding = width.saturating_sub(text.chars().count());
    let (before, after) = match f.align() {
        Some(fmt::Alignment::Right) => (padding, 0),
        Some(fmt::Alignment::Center) => (padding / 2, padding - padding / 2),
        Some(fmt::Alignment::Left) | None => (0, padding),
    };
    let fill = f.fill();
    for _ in 0..before {
        f.write_char(fill)?;
    }
    f.write_str(&text)?;
    for _ in 0..after {
        f.write_char(fill)?;
    }
    Ok(())
}

/// Parses `"<amount> <code>"`, such as `"1234.50 EUR"` or `"-12 USD"`.
impl FromStr for Money {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parse_error = |reason: &str| Error::Parse {
            what: "money",
            input: excerpt(s),
            reason: reason.to_owned(),
        };
        let (amount, code) = s
            .split_once(' ')
            .ok_or_else(|| parse_error("expected an amount, a space and a currency code"))?;
        let amount =
            Decimal::from_str_exact(amount).map_err(|_| parse_error("invalid decimal amount"))?;
        Ok(Self::new(amount, Currency::new(code)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(text: &str) -> Money {
        text.parse().unwrap()
    }

    #[test]
    fn display_honours_width_fill_and_alignment_but_never_cuts() {
        let vm = money("412.30 GBP");
        assert_eq!(format!("{vm}"), "412.30 GBP");
        assert_eq!(format!("[{vm:>12}]"), "[  412.30 GBP]");
        assert_eq!(format!("[{vm:12}]"), "[412.30 GBP  ]");
        assert_eq!(format!("[{vm:<12}]"), "[412.30 GBP  ]");
        assert_eq!(format!("[{vm:*^13}]"), "[*412.30 GBP**]");
        assert_eq!(format!("[{vm:>4}]"), "[412.30 GBP]");
        // Precision neither rounds nor truncates an amount.
        assert_eq!(format!("[{vm:.1}]"), "[412.30 GBP]");
        assert_eq!(format!("[{vm:>12.1}]"), "[  412.30 GBP]");
        assert_eq!(format!("{:>12}", money("-0.005 KWD")), "  -0.005 KWD");
    }

    #[test]
    fn iso_table_is_sorted_unique_and_well_formed() {
        assert!(ISO_4217.windows(2).all(|w| w[0].0 < w[1].0));
        for (code, _) in ISO_4217 {
            assert_eq!(Currency::new(code).unwrap().code(), *code);
        }
        assert_eq!(Currency::new("EUR").unwrap(), Currency::EUR);
        assert_eq!(Currency::new("USD").unwrap(), Currency::USD);
        assert_eq!(Currency::new("GBP").unwrap(), Currency::GBP);
        assert_eq!(Currency::new("CHF").unwrap(), Currency::CHF);
        assert_eq!(Currency::new("JPY").unwrap(), Currency::JPY);
    }

    #[test]
    fn currency_rules() {
        for bad in ["", "EU", "EURO", "eur", "E1R", "ÉUR", "XAU", "ABC"] {
            let err = Currency::new(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidCurrency { .. }), "{bad}: {err}");
        }
        assert_eq!(Currency::new("KWD").unwrap().minor_units(), 3);
    }

    #[test]
    fn add_sub_mul_are_exact() {
        let a = money("0.1 EUR");
        let b = money("0.2 EUR");
        assert_eq!(a.checked_add(b).unwrap(), money("0.3 EUR"));
        assert_eq!(b.checked_sub(a).unwrap(), money("0.1 EUR"));
        assert_eq!(
            money("19.99 EUR").checked_mul(Decimal::from(3)).unwrap(),
            money("59.97 EUR")
        );
        assert!(
            money("1 EUR")
                .checked_sub(money("2 EUR"))
                .unwrap()
                .is_negative()
        );
    }

    #[test]
    fn mixed_currencies_are_refused() {
        let err = money("1 EUR").checked_add(money("1 USD")).unwrap_err();
        assert_eq!(
            err,
            Error::CurrencyMismatch {
                operation: "add",
                left: Currency::EUR,
                right: Currency::USD
            }
        );
        assert_eq!(err.to_string(), "currency mismatch in add: EUR and USD");
        assert!(money("1 EUR").checked_sub(money("1 GBP")).is_err());
        assert!(Money::sum(Currency::EUR, [money("1 EUR"), money("1 USD")]).is_err());
    }

    #[test]
    fn overflow_is_an_error() {
        let max = Money::new(Decimal::MAX, Currency::EUR);
        assert_eq!(
            max.checked_add(money("1 EUR")).unwrap_err(),
            Error::Overflow { operation: "add" }
        );
        assert!(max.checked_mul(Decimal::TWO).is_err());
        assert!(
            Money::new(Decimal::MIN, Currency::EUR)
                .checked_sub(money("1 EUR"))
                .is_err()
        );
    }

    #[test]
    fn arithmetic_never_rounds_silently() {
        let tiny = Money::new(Decimal::new(1, 28), Currency::EUR);
        let million = money("1000000 EUR");
        assert_eq!(
            tiny.checked_add(million).unwrap_err(),
            Error::Overflow { operation: "add" }
        );
        assert_eq!(
            tiny.checked_sub(million).unwrap_err(),
            Error::Overflow {
                operation: "subtract"
            }
        );
        let max = Money::new(Decimal::MAX, Currency::EUR);
        assert!(max.checked_add(money("0.01 EUR")).is_err());
    }

    #[test]
    fn rounding_modes() {
        let cases = [
            ("2.345 EUR", Rounding::HalfAwayFromZero, "2.35 EUR"),
            ("-2.345 EUR", Rounding::HalfAwayFromZero, "-2.35 EUR"),
            ("2.345 EUR", Rounding::HalfEven, "2.34 EUR"),
            ("2.355 EUR", Rounding::HalfEven, "2.36 EUR"),
            ("2.349 EUR", Rounding::TowardZero, "2.34 EUR"),
            ("2.341 EUR", Rounding::AwayFromZero, "2.35 EUR"),
            ("12.5 EUR", Rounding::HalfAwayFromZero, "12.50 EUR"),
            ("1234.5 JPY", Rounding::HalfAwayFromZero, "1235 JPY"),
            ("1.23456 KWD", Rounding::HalfAwayFromZero, "1.235 KWD"),
        ];
        for (input, mode, expected) in cases {
            assert_eq!(
                money(input).round_with(mode).to_string(),
                expected,
                "{input} {mode:?}"
            );
        }
    }

    #[test]
    fn from_minor_uses_the_minor_unit() {
        assert_eq!(
            Money::from_minor(12345, Currency::EUR).to_string(),
            "123.45 EUR"
        );
        assert_eq!(Money::from_minor(500, Currency::JPY).to_string(), "500 JPY");
    }

    #[test]
    fn parse_errors_name_the_input() {
        for bad in ["12", "12EUR", "abc EUR", "12 eur", "1.2.3 EUR"] {
            assert!(bad.parse::<Money>().is_err(), "{bad}");
        }
        let err = "abc EUR".parse::<Money>().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"cannot parse money from "abc EUR": invalid decimal amount"#
        );
    }

    #[test]
    fn serde_keeps_the_amount_as_a_string() {
        let m = money("1234.50 EUR");
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"amount":"1234.50","currency":"EUR"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.to_string(), "1234.50 EUR");
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1","currency":"eur"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":0.1,"currency":"EUR"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1","currency":"EUR","x":1}"#).is_err());
    }

    #[test]
    fn equality_ignores_scale() {
        assert_eq!(money("10.0 EUR"), money("10.00 EUR"));
        assert_ne!(money("10 EUR"), money("10 USD"));
    }
}
