//! Decimal arithmetic that never panics. The amounts here are never
//! negative and never above the cost, so an overflow can only come from an
//! amount near `Decimal::MAX`; it then saturates instead of panicking.

use rust_decimal::Decimal;

/// `a + b`, saturating at `Decimal::MAX`.
pub(super) fn add(a: Decimal, b: Decimal) -> Decimal {
    a.checked_add(b).unwrap_or(Decimal::MAX)
}

/// `a - b` for `a >= b >= 0`; zero if that does not hold or cannot be
/// computed.
pub(super) fn sub(a: Decimal, b: Decimal) -> Decimal {
    a.checked_sub(b)
        .filter(|d| !d.is_sign_negative())
        .unwrap_or(Decimal::ZERO)
}

/// `amount * numerator / denominator` for `numerator <= denominator`,
/// multiplying first so that whole shares stay exact (`15000 * 5 / 15` is
/// exactly 5000). A zero denominator gives the whole amount.
pub(super) fn share(amount: Decimal, numerator: u32, denominator: u32) -> Decimal {
    share_of(amount, Decimal::from(numerator), Decimal::from(denominator))
}

/// [`share`] with decimal parts, such as days.
pub(super) fn share_of(amount: Decimal, numerator: Decimal, denominator: Decimal) -> Decimal {
    if denominator.is_zero() || numerator >= denominator {
        return amount;
    }
    amount
        .checked_mul(numerator)
        .and_then(|product| product.checked_div(denominator))
        .or_else(|| {
            numerator
                .checked_div(denominator)
                .and_then(|fraction| fraction.checked_mul(amount))
        })
        .unwrap_or(Decimal::ZERO)
        .min(amount)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_exact_when_they_can_be_and_never_panic() {
        assert_eq!(share(Decimal::from(15000), 5, 15), Decimal::from(5000));
        assert_eq!(share(Decimal::from(7), 3, 0), Decimal::from(7));
        let two_thirds = share(Decimal::MAX, 2, 3);
        assert!(two_thirds < Decimal::MAX && two_thirds > Decimal::MAX / Decimal::TWO);
        assert_eq!(add(Decimal::MAX, Decimal::ONE), Decimal::MAX);
        assert_eq!(sub(Decimal::ONE, Decimal::TWO), Decimal::ZERO);
    }
}
