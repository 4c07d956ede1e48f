//! DECIMAL: VoltDB's exact fixed-point number, precision 38 and scale 12.
//!
//! A [`Decimal`] holds its value multiplied by 10^12 in an `i128` (the *raw* value). A value is
//! valid when `|raw| < 10^38`, so the largest DECIMAL is
//! `99999999999999999999999999.999999999999` (26 integer digits and 12 decimals) and the
//! smallest is its negation. Every operation that would leave that range fails with
//! [`DecimalError::OutOfRange`]; nothing wraps, saturates or panics.
//!
//! # Rounding
//!
//! VoltDB stores every DECIMAL with exactly 12 decimals, rounding with Java's
//! `BigDecimal.setScale(12, RoundingMode.HALF_UP)`. This module follows the same rule
//! everywhere a value has more than 12 decimals:
//!
//! * **HALF_UP** means: round to the nearest representable value, and when the discarded part
//!   is exactly one half, round *away from zero*. Only the first discarded digit decides:
//!   `0.0000000000005` becomes `0.000000000001`, `-0.0000000000005` becomes
//!   `-0.000000000001`, `0.0000000000004999` becomes `0`.
//! * **Literals** ([`Decimal::parse`], [`str::parse`]): the text is read exactly (never through
//!   a binary float), including an exponent (`1.5e3`, `-2E-4`), and then rounded HALF_UP to 12
//!   decimals. The range check happens after rounding, so
//!   `99999999999999999999999999.9999999999994` is accepted (it rounds down to the maximum)
//!   while `…9999999999995` rounds up to 10^26 and is out of range.
//! * **Floats** ([`Decimal::from_f64`]): the double is first written as its shortest
//!   round-trip decimal text (what Java's `Double.toString` / `BigDecimal.valueOf(double)` use),
//!   and that text is rounded HALF_UP like a literal. So `0.1f64` becomes exactly `0.1`.
//! * **Scaled integers** ([`Decimal::from_i128_scaled`]) with a scale above 12 are rounded
//!   HALF_UP.
//! * **Addition, subtraction and remainder** are exact (no rounding ever happens); the
//!   remainder ([`Decimal::checked_rem`]) takes the sign of the dividend, like SQL `MOD`.
//! * **Multiplication and division** ([`Decimal::checked_mul`], [`Decimal::checked_div`]) are
//!   computed with a 256-bit intermediate, so the exact product or a quotient with 12 + 1
//!   decimals never overflows, and the result is rounded HALF_UP to 12 decimals:
//!   `1 / 3 = 0.333333333333`, `2 / 3 = 0.666666666667`, `-2 / 3 = -0.666666666667`.
//! * **Explicit rounding**: [`Decimal::round`] rounds HALF_UP to a number of decimals (a
//!   negative count rounds to tens, hundreds, …); [`Decimal::trunc`] drops the fraction
//!   (toward zero); [`Decimal::floor`] and [`Decimal::ceil`] round toward −∞ and +∞.
//!
//! # Text
//!
//! [`Display`](fmt::Display) prints the integer part, a point and always all 12 decimals
//! (`1.500000000000`, `-0.500000000000`, `0.000000000000`), as VoltDB's sqlcmd does;
//! [`Decimal::to_string_trimmed`] drops trailing zeros (`1.5`, `2`, `-0.001`).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use ethnum::I256;

/// Number of decimals every DECIMAL carries.
pub const SCALE: u32 = 12;
/// Maximum number of significant digits (integer digits + [`SCALE`] decimals).
pub const PRECISION: u32 = 38;
/// 10^SCALE: the raw value of 1.
const ONE_RAW: i128 = 1_000_000_000_000;
/// Largest magnitude (exclusive) of the raw value: 10^38, i.e. 38 significant digits.
const LIMIT: i128 = 100_000_000_000_000_000_000_000_000_000_000_000_000;
/// Exponents in literals are clamped to this magnitude; anything beyond is out of range for a
/// non-zero mantissa anyway (and zero stays zero).
const EXPONENT_CLAMP: i64 = 1_000_000_000;

/// An exact DECIMAL(38, 12) value: the value × 10^12 as an `i128` with `|raw| < 10^38`.
///
/// The derived ordering and equality compare the raw values, which is numeric order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Decimal(i128);

/// Why a DECIMAL could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    /// The result needs more than 26 integer digits (|value| ≥ 10^26 after rounding).
    #[error("DECIMAL value out of range (precision 38, scale 12)")]
    OutOfRange,
    /// The text is not a decimal number; holds the text as given.
    #[error("invalid DECIMAL literal '{0}'")]
    Invalid(String),
    /// Division or remainder by zero.
    #[error("division by zero")]
    DivideByZero,
}

impl Decimal {
    /// 0.
    pub const ZERO: Decimal = Decimal(0);
    /// 1.
    pub const ONE: Decimal = Decimal(ONE_RAW);
    /// The largest DECIMAL, `99999999999999999999999999.999999999999`.
    pub const MAX: Decimal = Decimal(LIMIT - 1);
    /// The smallest DECIMAL, `-99999999999999999999999999.999999999999`.
    pub const MIN: Decimal = Decimal(-(LIMIT - 1));

    /// Wraps a raw value (the value × 10^12); `OutOfRange` unless `|raw| < 10^38`.
    pub fn from_raw(raw: i128) -> Result<Decimal, DecimalError> {
        if raw > -LIMIT && raw < LIMIT {
            Ok(Decimal(raw))
        } else {
            Err(DecimalError::OutOfRange)
        }
    }

    /// The raw value: the value × 10^12.
    pub fn raw(self) -> i128 {
        self.0
    }

    /// The integer `i` (always in range).
    pub fn from_i64(i: i64) -> Decimal {
        Decimal(i128::from(i) * ONE_RAW)
    }

    /// `value × 10^-scale`, rounded HALF_UP to 12 decimals when `scale > 12`.
    ///
    /// `from_i128_scaled(12345, 2)` is `123.45`. `OutOfRange` when the result has more than
    /// 26 integer digits.
    pub fn from_i128_scaled(value: i128, scale: u32) -> Result<Decimal, DecimalError> {
        if scale <= SCALE {
            let factor = 10i128.pow(SCALE - scale);
            let raw = value.checked_mul(factor).ok_or(DecimalError::OutOfRange)?;
            Decimal::from_raw(raw)
        } else {
            let mag = div_pow10_half_up(value.unsigned_abs(), scale - SCALE);
            from_magnitude(value < 0, mag)
        }
    }

    /// Converts a double through its shortest round-trip decimal text (so `0.1` becomes
    /// exactly `0.1`), rounded HALF_UP to 12 decimals. NaN and ±∞ are `OutOfRange`.
    pub fn from_f64(f: f64) -> Result<Decimal, DecimalError> {
        if !f.is_finite() {
            return Err(DecimalError::OutOfRange);
        }
        // `{:e}` is the shortest digit string that reads back as `f`, in scientific form
        // (`1.5e3`, `1e-1`), so the text never grows with the magnitude.
        Decimal::parse(&format!("{f:e}"))
    }

    /// Parses a DECIMAL literal exactly.
    ///
    /// Grammar (after trimming surrounding whitespace):
    /// `[+|-] digits [. [digits]] [(e|E) [+|-] digits]` or `[+|-] . digits [exponent]`.
    /// More than 12 decimals are rounded HALF_UP (see the [module docs](self)).
    /// Errors: `Invalid(text)` for anything else, `OutOfRange` when the rounded value has more
    /// than 26 integer digits.
    pub fn parse(s: &str) -> Result<Decimal, DecimalError> {
        let invalid = || DecimalError::Invalid(s.to_string());
        let text = s.trim().as_bytes();

        let (negative, rest) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            Some((b'+', rest)) => (false, rest),
            _ => (false, text),
        };
        let (int_digits, rest) = split_digits(rest);
        let (frac_digits, rest) = match rest.split_first() {
            Some((b'.', after_point)) => split_digits(after_point),
            _ => (&[][..], rest),
        };
        if int_digits.is_empty() && frac_digits.is_empty() {
            return Err(invalid());
        }
        let exponent = match rest.split_first() {
            None => 0,
            Some((b'e' | b'E', exp)) => parse_exponent(exp).ok_or_else(invalid)?,
            Some(_) => return Err(invalid()),
        };

        // The value is digits × 10^(exponent - frac_len); the raw value is that × 10^12.
        let digits: Vec<u8> = int_digits
            .iter()
            .chain(frac_digits)
            .map(|d| d - b'0')
            .skip_while(|&d| d == 0)
            .collect();
        if digits.is_empty() {
            return Ok(Decimal::ZERO);
        }
        let len = i64::try_from(digits.len()).map_err(|_| DecimalError::OutOfRange)?;
        let frac_len = i64::try_from(frac_digits.len()).map_err(|_| DecimalError::OutOfRange)?;
        let shift = i64::from(SCALE) - frac_len + exponent;
        // Number of digits of the raw value before rounding; the leading digit is non-zero.
        let raw_len = len + shift;
        if raw_len > i64::from(PRECISION) {
            return Err(DecimalError::OutOfRange);
        }
        if raw_len < 0 {
            // Below half of 10^-12: rounds to zero.
            return Ok(Decimal::ZERO);
        }
        // 0 <= raw_len <= 38, so the kept digits fit a u128.
        let keep = usize::try_from(raw_len.min(len)).map_err(|_| DecimalError::OutOfRange)?;
        let mut mag = digits[..keep].iter().fold(0u128, |acc, &d| acc * 10 + u128::from(d));
        if shift > 0 {
            // raw_len = len + shift <= 38, so shift < 38 and the product stays below 10^38.
            let shift = u32::try_from(shift).map_err(|_| DecimalError::OutOfRange)?;
            mag = mag.checked_mul(10u128.pow(shift)).ok_or(DecimalError::OutOfRange)?;
        } else if digits.get(keep).is_some_and(|&d| d >= 5) {
            mag += 1;
        }
        from_magnitude(negative, mag)
    }

    /// The nearest double (correctly rounded).
    pub fn to_f64(self) -> f64 {
        const EXACT: i128 = 1 << 53;
        if self.0.abs() <= EXACT {
            // Both operands are exact doubles, so the IEEE division is correctly rounded.
            self.0 as f64 / 1e12
        } else {
            let approx = self.0 as f64 / 1e12;
            format!("{}e-12", self.0).parse().unwrap_or(approx)
        }
    }

    /// The value as an `i64` when it is an integer that fits; `None` otherwise.
    pub fn to_i64_exact(self) -> Option<i64> {
        if self.0 % ONE_RAW == 0 {
            i64::try_from(self.0 / ONE_RAW).ok()
        } else {
            None
        }
    }

    /// Truncates toward zero; `None` when the integer part does not fit an i64.
    pub fn to_i64_trunc(self) -> Option<i64> {
        i64::try_from(self.0 / ONE_RAW).ok()
    }

    /// Compares the integer `a` with the DECIMAL `b`, exactly.
    pub fn cmp_i64(a: i64, b: &Decimal) -> Ordering {
        (i128::from(a) * ONE_RAW).cmp(&b.0)
    }

    /// `self + o`, exact; `OutOfRange` on overflow.
    pub fn checked_add(self, o: Decimal) -> Result<Decimal, DecimalError> {
        Decimal::from_raw(self.0.checked_add(o.0).ok_or(DecimalError::OutOfRange)?)
    }

    /// `self - o`, exact; `OutOfRange` on overflow.
    pub fn checked_sub(self, o: Decimal) -> Result<Decimal, DecimalError> {
        Decimal::from_raw(self.0.checked_sub(o.0).ok_or(DecimalError::OutOfRange)?)
    }

    /// `self × o` rounded HALF_UP to 12 decimals (256-bit intermediate); `OutOfRange` when
    /// the rounded product has more than 26 integer digits.
    pub fn checked_mul(self, o: Decimal) -> Result<Decimal, DecimalError> {
        // |a|, |b| < 10^38, so |a × b| < 10^76 < 2^255: no overflow in 256 bits.
        let product = I256::new(self.0) * I256::new(o.0);
        narrow(div_half_up_i256(product, I256::new(ONE_RAW)))
    }

    /// `self ÷ o` rounded HALF_UP to 12 decimals (256-bit intermediate);
    /// `DivideByZero` when `o` is zero, `OutOfRange` when the quotient is too large.
    pub fn checked_div(self, o: Decimal) -> Result<Decimal, DecimalError> {
        if o.0 == 0 {
            return Err(DecimalError::DivideByZero);
        }
        // |a| × 10^12 < 10^50: no overflow in 256 bits.
        let numerator = I256::new(self.0) * I256::new(ONE_RAW);
        narrow(div_half_up_i256(numerator, I256::new(o.0)))
    }

    /// The remainder of truncated division, exact, with the sign of the dividend (SQL `MOD`):
    /// `7.5 % 2 = 1.5`, `-7.5 % 2 = -1.5`. `DivideByZero` when `o` is zero.
    pub fn checked_rem(self, o: Decimal) -> Result<Decimal, DecimalError> {
        if o.0 == 0 {
            return Err(DecimalError::DivideByZero);
        }
        // |raw| < 10^38 keeps `i128::MIN % -1` impossible, and |result| < |o|.
        Ok(Decimal(self.0 % o.0))
    }

    /// The negation (always in range).
    #[allow(clippy::should_implement_trait)] // `Neg` is implemented too; this predates it.
    pub fn neg(self) -> Decimal {
        Decimal(-self.0)
    }

    /// The absolute value (always in range).
    pub fn abs(self) -> Decimal {
        Decimal(self.0.abs())
    }

    /// True for values below zero.
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// True for zero.
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// -1, 0 or 1 according to the sign.
    pub fn signum(self) -> i32 {
        match self.0.cmp(&0) {
            Ordering::Less => -1,
            Ordering::Equal => 0,
            Ordering::Greater => 1,
        }
    }

    /// The integer part, rounding toward zero (always in range): `-1.7 → -1`.
    pub fn trunc(self) -> Decimal {
        Decimal(self.0 / ONE_RAW * ONE_RAW)
    }

    /// The largest integer ≤ `self`: `-1.2 → -2`. `OutOfRange` only just below −10^26 + 1.
    pub fn floor(self) -> Result<Decimal, DecimalError> {
        let t = self.trunc();
        if self.0 < t.0 {
            Decimal::from_raw(t.0 - ONE_RAW)
        } else {
            Ok(t)
        }
    }

    /// The smallest integer ≥ `self`: `1.2 → 2`. `OutOfRange` only just above 10^26 − 1.
    pub fn ceil(self) -> Result<Decimal, DecimalError> {
        let t = self.trunc();
        if self.0 > t.0 {
            Decimal::from_raw(t.0 + ONE_RAW)
        } else {
            Ok(t)
        }
    }

    /// Rounds HALF_UP (ties away from zero) to `places` decimals; a negative `places` rounds to
    /// tens (-1), hundreds (-2), …; `places >= 12` returns the value unchanged.
    /// `round(2.5, 0) = 3`, `round(-2.5, 0) = -3`, `round(1234.5, -2) = 1200`.
    /// `OutOfRange` when rounding up leaves the range.
    pub fn round(self, places: i32) -> Result<Decimal, DecimalError> {
        let dropped = i64::from(SCALE) - i64::from(places);
        if dropped <= 0 {
            return Ok(self);
        }
        let Ok(dropped) = u32::try_from(dropped) else {
            return Ok(Decimal::ZERO);
        };
        let Some(unit) = 10u128.checked_pow(dropped) else {
            // unit > 3.4 × 10^38 > 2 |raw|: everything rounds to zero.
            return Ok(Decimal::ZERO);
        };
        let quotient = div_pow10_half_up(self.0.unsigned_abs(), dropped);
        let mag = quotient.checked_mul(unit).ok_or(DecimalError::OutOfRange)?;
        from_magnitude(self.0 < 0, mag)
    }

    /// The text without trailing zeros in the fraction, and without the point for integers:
    /// `1.5`, `2`, `-0.001`, `0`.
    pub fn to_string_trimmed(self) -> String {
        let full = self.to_string();
        full.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Splits a leading run of ASCII digits off `s`.
fn split_digits(s: &[u8]) -> (&[u8], &[u8]) {
    let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
    s.split_at(n)
}

/// Parses the exponent after `e`/`E`: an optional sign and at least one digit, nothing else.
/// The magnitude is clamped to [`EXPONENT_CLAMP`].
fn parse_exponent(s: &[u8]) -> Option<i64> {
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mag = digits
        .iter()
        .fold(0i64, |acc, &d| (acc * 10 + i64::from(d - b'0')).min(EXPONENT_CLAMP));
    Some(if negative { -mag } else { mag })
}

/// `mag / 10^k` rounded HALF_UP; zero when 10^k does not fit a u128 (then 10^k > 2 × mag).
fn div_pow10_half_up(mag: u128, k: u32) -> u128 {
    match 10u128.checked_pow(k) {
        None => 0,
        Some(unit) => {
            let (q, r) = (mag / unit, mag % unit);
            // r >= unit / 2, without overflow and exact for odd units.
            if r >= unit - r { q + 1 } else { q }
        }
    }
}

/// `n / d` rounded HALF_UP (ties away from zero); `d` must not be zero.
fn div_half_up_i256(n: I256, d: I256) -> I256 {
    let q = n / d;
    let r = (n % d).unsigned_abs();
    let d_abs = d.unsigned_abs();
    if r >= d_abs - r {
        if n.is_negative() != d.is_negative() {
            q - I256::ONE
        } else {
            q + I256::ONE
        }
    } else {
        q
    }
}

/// A raw value computed in 256 bits back to a checked [`Decimal`].
fn narrow(raw: I256) -> Result<Decimal, DecimalError> {
    i128::try_from(raw)
        .map_err(|_| DecimalError::OutOfRange)
        .and_then(Decimal::from_raw)
}

/// A sign and a raw magnitude to a checked [`Decimal`].
fn from_magnitude(negative: bool, mag: u128) -> Result<Decimal, DecimalError> {
    let raw = i128::try_from(mag).map_err(|_| DecimalError::OutOfRange)?;
    Decimal::from_raw(if negative { -raw } else { raw })
}

/// Text form: the integer part, a point and all 12 decimals, as VoltDB prints DECIMAL
/// (`1.500000000000`, `-0.500000000000`). Width and alignment flags are honoured.
impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        let one = ONE_RAW.unsigned_abs();
        if f.width().is_some() {
            f.pad(&format!("{sign}{}.{:012}", a / one, a % one))
        } else {
            write!(f, "{sign}{}.{:012}", a / one, a % one)
        }
    }
}

/// Same as [`Decimal::parse`].
impl FromStr for Decimal {
    type Err = DecimalError;

    fn from_str(s: &str) -> Result<Decimal, DecimalError> {
        Decimal::parse(s)
    }
}

impl From<i64> for Decimal {
    fn from(i: i64) -> Decimal {
        Decimal::from_i64(i)
    }
}

impl std::ops::Neg for Decimal {
    type Output = Decimal;

    fn neg(self) -> Decimal {
        Decimal(-self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap_or_else(|e| panic!("parse {s:?}: {e}"))
    }

    fn raw(s: &str) -> i128 {
        d(s).raw()
    }

    const MAX_TEXT: &str = "99999999999999999999999999.999999999999";

    #[test]
    fn parse_plain_forms() {
        assert_eq!(raw("0"), 0);
        assert_eq!(raw("1"), ONE_RAW);
        assert_eq!(raw("-1"), -ONE_RAW);
        assert_eq!(raw("+1"), ONE_RAW);
        assert_eq!(raw("1.5"), 1_500_000_000_000);
        assert_eq!(raw("-0.5"), -500_000_000_000);
        assert_eq!(raw(".5"), 500_000_000_000);
        assert_eq!(raw("-.5"), -500_000_000_000);
        assert_eq!(raw("5."), 5 * ONE_RAW);
        assert_eq!(raw("007.0700"), 7_070_000_000_000);
        assert_eq!(raw("  42  "), 42 * ONE_RAW);
        assert_eq!(raw("\t-3.25\n"), -3_250_000_000_000);
        assert_eq!(raw("0.000000000001"), 1);
        assert_eq!(raw("-0"), 0);
        assert_eq!(raw("-0.000"), 0);
        assert_eq!(
            raw("56789012345678901234567890"),
            56_789_012_345_678_901_234_567_890i128 * ONE_RAW
        );
    }

    #[test]
    fn parse_exponent_forms() {
        assert_eq!(d("1.5e3"), Decimal::from_i64(1500));
        assert_eq!(d("1.5E3"), Decimal::from_i64(1500));
        assert_eq!(d("1.5e+3"), Decimal::from_i64(1500));
        assert_eq!(raw("-2E-4"), -200_000_000);
        assert_eq!(raw("2e-12"), 2);
        assert_eq!(raw("5e-13"), 1);
        assert_eq!(raw("-5e-13"), -1);
        assert_eq!(raw("4.9e-13"), 0);
        assert_eq!(raw("1e-100"), 0);
        assert_eq!(raw("1e-1000000000000000000000"), 0);
        assert_eq!(raw("0e1000000000000000000000"), 0);
        assert_eq!(d("1e25"), Decimal::from_i128_scaled(10i128.pow(25), 0).unwrap());
        assert_eq!(d(".1e1"), Decimal::ONE);
        assert_eq!(d("12345e-2"), d("123.45"));
        assert_eq!(d("0.00012345e4"), d("1.2345"));
        assert_eq!(Decimal::parse("1e26"), Err(DecimalError::OutOfRange));
        assert_eq!(Decimal::parse("1e999999999999"), Err(DecimalError::OutOfRange));
        assert_eq!(Decimal::parse("-1e26"), Err(DecimalError::OutOfRange));
    }

    #[test]
    fn parse_rounds_half_up_beyond_12_decimals() {
        assert_eq!(raw("0.0000000000005"), 1);
        assert_eq!(raw("-0.0000000000005"), -1);
        assert_eq!(raw("0.0000000000004"), 0);
        assert_eq!(raw("-0.0000000000004"), 0);
        assert_eq!(raw("0.00000000000049999999"), 0);
        assert_eq!(raw("1.1234567890125"), 1_123_456_789_013);
        assert_eq!(raw("-1.1234567890125"), -1_123_456_789_013);
        assert_eq!(raw("1.1234567890124999"), 1_123_456_789_012);
        assert_eq!(raw("2.9999999999995"), 3 * ONE_RAW);
        assert_eq!(raw("-2.9999999999995"), -3 * ONE_RAW);
        assert_eq!(raw("0.9999999999999999999999999"), ONE_RAW);
        assert_eq!(raw("0.0000000000015"), 2);
        assert_eq!(raw("0.0000000000025"), 3); // HALF_UP, not banker's rounding
    }

    #[test]
    fn range_boundary() {
        assert_eq!(d(MAX_TEXT), Decimal::MAX);
        assert_eq!(d(&format!("-{MAX_TEXT}")), Decimal::MIN);
        assert_eq!(Decimal::MAX.raw(), LIMIT - 1);
        // Rounds down to the maximum.
        assert_eq!(d(&format!("{MAX_TEXT}4")), Decimal::MAX);
        assert_eq!(d(&format!("-{MAX_TEXT}49999")), Decimal::MIN);
        // One more digit, or rounding up past the maximum, is out of range.
        for s in [
            "999999999999999999999999999.999999999999".to_string(),
            "100000000000000000000000000".to_string(),
            "100000000000000000000000000.0".to_string(),
            format!("{MAX_TEXT}5"),
            format!("-{MAX_TEXT}5"),
            format!("{MAX_TEXT}9"),
            "9.9999999999999999999999999999999999999999e25".to_string(),
        ] {
            assert_eq!(Decimal::parse(&s), Err(DecimalError::OutOfRange), "{s}");
        }
        assert_eq!(d("99999999999999999999999999"), d("9.9999999999999999999999999e25"));
        assert_eq!(Decimal::from_raw(LIMIT), Err(DecimalError::OutOfRange));
        assert_eq!(Decimal::from_raw(-LIMIT), Err(DecimalError::OutOfRange));
        assert_eq!(Decimal::from_raw(i128::MIN), Err(DecimalError::OutOfRange));
        assert_eq!(Decimal::from_raw(LIMIT - 1), Ok(Decimal::MAX));
    }

    #[test]
    fn parse_rejects_malformed() {
        for s in [
            "", " ", "-", "+", ".", "-.", "e5", ".e5", "1e", "1e+", "1e-", "1.2.3", "1 2", "1,5", "1_000", "abc",
            "0x10", "+-1", "--1", "1e5.5", "1e5e5", "NaN", "inf", "Infinity", "1-", "1.5f", "١", "1e 5", "- 1",
        ] {
            assert_eq!(Decimal::parse(s), Err(DecimalError::Invalid(s.to_string())), "{s:?}");
        }
    }

    #[test]
    fn display_and_trimmed() {
        assert_eq!(d("1.5").to_string(), "1.500000000000");
        assert_eq!(d("-0.5").to_string(), "-0.500000000000");
        assert_eq!(Decimal::ZERO.to_string(), "0.000000000000");
        assert_eq!(Decimal::MAX.to_string(), MAX_TEXT);
        assert_eq!(Decimal::MIN.to_string(), format!("-{MAX_TEXT}"));
        assert_eq!(d("1.5").to_string_trimmed(), "1.5");
        assert_eq!(d("2").to_string_trimmed(), "2");
        assert_eq!(d("20").to_string_trimmed(), "20");
        assert_eq!(d("-0.001").to_string_trimmed(), "-0.001");
        assert_eq!(Decimal::ZERO.to_string_trimmed(), "0");
        assert_eq!(d("-100.10").to_string_trimmed(), "-100.1");
        assert_eq!(format!("{:>16}", d("1.5")), "  1.500000000000");
        assert_eq!(format!("{:<15}|", d("1")), "1.000000000000 |");
    }

    #[test]
    fn from_f64_uses_shortest_text() {
        assert_eq!(Decimal::from_f64(0.1), Ok(d("0.1")));
        assert_eq!(Decimal::from_f64(-2.5), Ok(d("-2.5")));
        assert_eq!(Decimal::from_f64(1.5e3), Ok(d("1500")));
        assert_eq!(Decimal::from_f64(1e-13), Ok(Decimal::ZERO));
        assert_eq!(Decimal::from_f64(5e-13), Ok(d("0.000000000001")));
        assert_eq!(Decimal::from_f64(-0.0), Ok(Decimal::ZERO));
        assert_eq!(Decimal::from_f64(1e25), Ok(d("1e25")));
        assert_eq!(Decimal::from_f64(1e26), Err(DecimalError::OutOfRange));
        assert_eq!(Decimal::from_f64(f64::MAX), Err(DecimalError::OutOfRange));
        assert_eq!(Decimal::from_f64(f64::MIN_POSITIVE), Ok(Decimal::ZERO));
        assert_eq!(Decimal::from_f64(f64::NAN), Err(DecimalError::OutOfRange));
        assert_eq!(Decimal::from_f64(f64::INFINITY), Err(DecimalError::OutOfRange));
        assert_eq!(Decimal::from_f64(f64::NEG_INFINITY), Err(DecimalError::OutOfRange));
    }

    #[test]
    fn to_f64_is_accurate() {
        assert_eq!(d("0.1").to_f64(), 0.1);
        assert_eq!(d("-2.5").to_f64(), -2.5);
        assert_eq!(d("123456.789").to_f64(), 123456.789);
        assert_eq!(Decimal::MAX.to_f64(), 1e26);
        assert_eq!(Decimal::MIN.to_f64(), -1e26);
        // Beyond 2^53 raw units the conversion must still be correctly rounded.
        for text in [
            "12345678901234.123456789012",
            "33333333333333333333.333333333333",
            "-9007.199254740993",
            "9007.199254740993",
            "0.000000000001",
        ] {
            let expected: f64 = text.parse().unwrap_or(f64::NAN);
            assert_eq!(d(text).to_f64(), expected, "{text}");
        }
        assert_eq!(Decimal::ZERO.to_f64(), 0.0);
    }

    #[test]
    fn integer_conversions() {
        assert_eq!(d("42").to_i64_exact(), Some(42));
        assert_eq!(d("42.5").to_i64_exact(), None);
        assert_eq!(d("-42.9").to_i64_trunc(), Some(-42));
        assert_eq!(d("1e20").to_i64_exact(), None);
        assert_eq!(d("1e20").to_i64_trunc(), None);
        assert_eq!(Decimal::from_i64(i64::MIN).to_i64_exact(), Some(i64::MIN));
        assert_eq!(Decimal::from_i64(i64::MAX).to_i64_trunc(), Some(i64::MAX));
        assert_eq!(Decimal::cmp_i64(2, &d("1.5")), Ordering::Greater);
        assert_eq!(Decimal::cmp_i64(-2, &d("-1.5")), Ordering::Less);
        assert_eq!(Decimal::cmp_i64(3, &d("3")), Ordering::Equal);
    }

    #[test]
    fn from_i128_scaled() {
        assert_eq!(Decimal::from_i128_scaled(12345, 2), Ok(d("123.45")));
        assert_eq!(Decimal::from_i128_scaled(-12345, 0), Ok(d("-12345")));
        assert_eq!(Decimal::from_i128_scaled(15, 13), Ok(d("0.000000000002")));
        assert_eq!(Decimal::from_i128_scaled(-15, 13), Ok(d("-0.000000000002")));
        assert_eq!(Decimal::from_i128_scaled(14, 13), Ok(d("0.000000000001")));
        assert_eq!(Decimal::from_i128_scaled(1, 12), Ok(Decimal(1)));
        assert_eq!(
            Decimal::from_i128_scaled(i128::MAX, 50),
            Ok(d("1.7014118346046923173168730371588410572e-12"))
        );
        assert_eq!(Decimal::from_i128_scaled(i128::MIN, 50), Ok(d("-0.000000000002")));
        assert_eq!(Decimal::from_i128_scaled(i128::MAX, 51), Ok(Decimal::ZERO));
        assert_eq!(Decimal::from_i128_scaled(i128::MIN, u32::MAX), Ok(Decimal::ZERO));
        assert_eq!(Decimal::from_i128_scaled(LIMIT - 1, 12), Ok(Decimal::MAX));
        assert_eq!(Decimal::from_i128_scaled(LIMIT, 12), Err(DecimalError::OutOfRange));
        assert_eq!(
            Decimal::from_i128_scaled(10i128.pow(26), 0),
            Err(DecimalError::OutOfRange)
        );
        assert_eq!(Decimal::from_i128_scaled(i128::MAX, 0), Err(DecimalError::OutOfRange));
    }

    #[test]
    fn add_sub() {
        assert_eq!(d("1.5").checked_add(d("2.25")), Ok(d("3.75")));
        assert_eq!(d("1.5").checked_sub(d("2.25")), Ok(d("-0.75")));
        assert_eq!(
            Decimal::MAX.checked_add(d("0.000000000001")),
            Err(DecimalError::OutOfRange)
        );
        assert_eq!(
            Decimal::MIN.checked_sub(d("0.000000000001")),
            Err(DecimalError::OutOfRange)
        );
        assert_eq!(Decimal::MAX.checked_sub(Decimal::MIN), Err(DecimalError::OutOfRange));
        assert_eq!(Decimal::MAX.checked_add(Decimal::MIN), Ok(Decimal::ZERO));
    }

    #[test]
    fn mul() {
        assert_eq!(d("1.5").checked_mul(d("2")), Ok(d("3")));
        assert_eq!(d("-1.5").checked_mul(d("1.5")), Ok(d("-2.25")));
        assert_eq!(d("0.000001").checked_mul(d("0.000001")), Ok(d("0.000000000001")));
        // 0.0000005 × 0.000001 = 5e-13 → HALF_UP to 1e-12, both signs.
        assert_eq!(d("0.0000005").checked_mul(d("0.000001")), Ok(Decimal(1)));
        assert_eq!(d("-0.0000005").checked_mul(d("0.000001")), Ok(Decimal(-1)));
        assert_eq!(d("0.0000004").checked_mul(d("0.000001")), Ok(Decimal::ZERO));
        assert_eq!(d("-0.0000004").checked_mul(d("-0.000001")), Ok(Decimal::ZERO));
        // Large operands need the 256-bit path: raw × raw is ~10^62 and ~10^75.
        assert_eq!(
            d("12345678901234.5").checked_mul(d("1000000000")),
            Ok(d("12345678901234500000000"))
        );
        assert_eq!(Decimal::MAX.checked_mul(Decimal::ONE), Ok(Decimal::MAX));
        assert_eq!(Decimal::MIN.checked_mul(Decimal::ONE), Ok(Decimal::MIN));
        assert_eq!(Decimal::MAX.checked_mul(d("-1")), Ok(Decimal::MIN));
        assert_eq!(Decimal::MAX.checked_mul(d("0.1")), Ok(d("10000000000000000000000000")));
        assert_eq!(
            d("9999999999999.999999999999").checked_mul(d("9999999999999.999999999999")),
            // Exact: 10^26 - 20 + 10^-24.
            Ok(d("99999999999999999999999980"))
        );
        assert_eq!(
            d("10000000000000").checked_mul(d("10000000000000")),
            Err(DecimalError::OutOfRange)
        );
        assert_eq!(Decimal::MAX.checked_mul(Decimal::MAX), Err(DecimalError::OutOfRange));
        assert_eq!(Decimal::MIN.checked_mul(Decimal::MAX), Err(DecimalError::OutOfRange));
        assert_eq!(Decimal::MAX.checked_mul(Decimal::ZERO), Ok(Decimal::ZERO));
    }

    #[test]
    fn div() {
        let one = Decimal::ONE;
        assert_eq!(one.checked_div(d("3")), Ok(d("0.333333333333")));
        assert_eq!(d("2").checked_div(d("3")), Ok(d("0.666666666667")));
        assert_eq!(d("-2").checked_div(d("3")), Ok(d("-0.666666666667")));
        assert_eq!(d("2").checked_div(d("-3")), Ok(d("-0.666666666667")));
        assert_eq!(d("-2").checked_div(d("-3")), Ok(d("0.666666666667")));
        assert_eq!(d("-1").checked_div(d("3")), Ok(d("-0.333333333333")));
        // Exactly half an ulp: 1e-12 / 2 → 1e-12 (away from zero), both signs.
        assert_eq!(Decimal(1).checked_div(d("2")), Ok(Decimal(1)));
        assert_eq!(Decimal(-1).checked_div(d("2")), Ok(Decimal(-1)));
        assert_eq!(Decimal(1).checked_div(d("-2")), Ok(Decimal(-1)));
        assert_eq!(Decimal(1).checked_div(d("3")), Ok(Decimal::ZERO));
        assert_eq!(d("7.5").checked_div(d("2.5")), Ok(d("3")));
        // Large operands need the 256-bit path (raw × 10^12 overflows i128).
        assert_eq!(Decimal::MAX.checked_div(one), Ok(Decimal::MAX));
        assert_eq!(Decimal::MIN.checked_div(one), Ok(Decimal::MIN));
        assert_eq!(Decimal::MAX.checked_div(Decimal::MAX), Ok(one));
        assert_eq!(
            Decimal::MAX.checked_div(d("3")),
            Ok(d("33333333333333333333333333.333333333333"))
        );
        assert_eq!(Decimal::MIN.checked_div(d("-2")), Ok(d("50000000000000000000000000")));
        assert_eq!(
            d("12345678901234567890123456").checked_div(d("1234567890123.456789012345")),
            Ok(d("10000000000000.000000000005"))
        );
        assert_eq!(d("1").checked_div(Decimal::MAX), Ok(Decimal::ZERO));
        assert_eq!(d("1e13").checked_div(d("1e-12")), Ok(d("1e25")));
        assert_eq!(d("1e14").checked_div(d("1e-12")), Err(DecimalError::OutOfRange));
        assert_eq!(Decimal::MAX.checked_div(d("0.5")), Err(DecimalError::OutOfRange));
        assert_eq!(one.checked_div(Decimal::ZERO), Err(DecimalError::DivideByZero));
        assert_eq!(
            Decimal::ZERO.checked_div(Decimal::ZERO),
            Err(DecimalError::DivideByZero)
        );
    }

    #[test]
    fn rem() {
        assert_eq!(d("7.5").checked_rem(d("2")), Ok(d("1.5")));
        assert_eq!(d("-7.5").checked_rem(d("2")), Ok(d("-1.5")));
        assert_eq!(d("7.5").checked_rem(d("-2")), Ok(d("1.5")));
        assert_eq!(d("-7.5").checked_rem(d("-2")), Ok(d("-1.5")));
        assert_eq!(d("6").checked_rem(d("3")), Ok(Decimal::ZERO));
        assert_eq!(Decimal::MAX.checked_rem(Decimal::MIN), Ok(Decimal::ZERO));
        assert_eq!(Decimal::MAX.checked_rem(d("10")), Ok(d("9.999999999999")));
        assert_eq!(d("1").checked_rem(Decimal::ZERO), Err(DecimalError::DivideByZero));
    }

    #[test]
    fn sign_helpers() {
        assert_eq!(d("-1.5").abs(), d("1.5"));
        assert_eq!(Decimal::MIN.abs(), Decimal::MAX);
        assert_eq!(d("-1.5").neg(), d("1.5"));
        assert_eq!(-d("1.5"), d("-1.5"));
        assert_eq!(d("-1.5").signum(), -1);
        assert_eq!(Decimal::ZERO.signum(), 0);
        assert_eq!(d("0.000000000001").signum(), 1);
        assert!(Decimal::ZERO.is_zero());
        assert!(!Decimal(1).is_zero());
        assert!(d("-0.1").is_negative());
        assert!(!Decimal::ZERO.is_negative());
        assert_eq!(Decimal::default(), Decimal::ZERO);
        assert_eq!(Decimal::from(7i64), d("7"));
        assert_eq!("2.5".parse::<Decimal>(), Ok(d("2.5")));
    }

    #[test]
    fn trunc_floor_ceil() {
        assert_eq!(d("1.7").trunc(), d("1"));
        assert_eq!(d("-1.7").trunc(), d("-1"));
        assert_eq!(d("-0.7").trunc(), Decimal::ZERO);
        assert_eq!(d("1.2").floor(), Ok(d("1")));
        assert_eq!(d("-1.2").floor(), Ok(d("-2")));
        assert_eq!(d("-1").floor(), Ok(d("-1")));
        assert_eq!(d("1.2").ceil(), Ok(d("2")));
        assert_eq!(d("-1.2").ceil(), Ok(d("-1")));
        assert_eq!(d("-0.2").ceil(), Ok(Decimal::ZERO));
        assert_eq!(d("3").ceil(), Ok(d("3")));
        assert_eq!(Decimal::MAX.trunc(), d("99999999999999999999999999"));
        assert_eq!(Decimal::MAX.floor(), Ok(d("99999999999999999999999999")));
        assert_eq!(Decimal::MAX.ceil(), Err(DecimalError::OutOfRange));
        assert_eq!(Decimal::MIN.floor(), Err(DecimalError::OutOfRange));
        assert_eq!(Decimal::MIN.ceil(), Ok(d("-99999999999999999999999999")));
    }

    #[test]
    fn round_half_up() {
        assert_eq!(d("2.5").round(0), Ok(d("3")));
        assert_eq!(d("-2.5").round(0), Ok(d("-3")));
        assert_eq!(d("2.4999").round(0), Ok(d("2")));
        assert_eq!(d("-2.4999").round(0), Ok(d("-2")));
        assert_eq!(d("1.005").round(2), Ok(d("1.01")));
        assert_eq!(d("-1.005").round(2), Ok(d("-1.01")));
        assert_eq!(d("1.004").round(2), Ok(d("1")));
        assert_eq!(d("1234.5").round(-2), Ok(d("1200")));
        assert_eq!(d("1250").round(-2), Ok(d("1300")));
        assert_eq!(d("-1250").round(-2), Ok(d("-1300")));
        assert_eq!(d("-1249.99").round(-2), Ok(d("-1200")));
        assert_eq!(d("0.000000000001").round(12), Ok(Decimal(1)));
        assert_eq!(d("0.000000000005").round(11), Ok(d("0.00000000001")));
        assert_eq!(d("1.23").round(100), Ok(d("1.23")));
        assert_eq!(d("1.23").round(i32::MAX), Ok(d("1.23")));
        assert_eq!(d("5e25").round(-26), Err(DecimalError::OutOfRange));
        assert_eq!(d("4.9e25").round(-26), Ok(Decimal::ZERO));
        assert_eq!(d("4.9e25").round(-25), Ok(d("5e25")));
        assert_eq!(Decimal::MAX.round(-27), Ok(Decimal::ZERO));
        assert_eq!(Decimal::MAX.round(i32::MIN), Ok(Decimal::ZERO));
        assert_eq!(Decimal::MAX.round(0), Err(DecimalError::OutOfRange));
        assert_eq!(Decimal::MAX.round(12), Ok(Decimal::MAX));
        assert_eq!(Decimal::MIN.round(11), Err(DecimalError::OutOfRange));
    }

    fn any_decimal() -> impl Strategy<Value = Decimal> {
        prop_oneof![
            (-(LIMIT - 1)..LIMIT).prop_map(Decimal),
            (-1_000_000_000_000_000i128..1_000_000_000_000_000).prop_map(Decimal),
            any::<i64>().prop_map(Decimal::from_i64),
        ]
    }

    proptest! {
        #[test]
        fn parse_display_round_trip(x in any_decimal()) {
            prop_assert_eq!(Decimal::parse(&x.to_string()), Ok(x));
            prop_assert_eq!(Decimal::parse(&x.to_string_trimmed()), Ok(x));
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = Decimal::parse(&s);
        }

        #[test]
        fn parse_numeric_text_never_panics(s in "[-+ ]?[0-9]{0,45}\\.?[0-9]{0,45}([eE][-+]?[0-9]{0,25})?") {
            let _ = Decimal::parse(&s);
        }

        #[test]
        fn to_f64_matches_parsing_the_text(x in any_decimal()) {
            let expected: f64 = x.to_string().parse().unwrap_or(f64::NAN);
            prop_assert_eq!(x.to_f64(), expected);
        }

        #[test]
        fn from_f64_round_trips_short_values(i in -1_000_000_000i64..1_000_000_000, scale in 0u32..7) {
            let x = Decimal::from_i128_scaled(i128::from(i), scale).unwrap_or(Decimal::ZERO);
            prop_assert_eq!(Decimal::from_f64(x.to_f64()), Ok(x));
        }

        #[test]
        fn div_then_mul_is_close(a in any_decimal(), b in (1i128..1_000_000_000_000_000_000).prop_map(Decimal)) {
            if let Ok(q) = a.checked_div(b) {
                // a = q × b + r with |r| ≤ |b| × 0.5e-12 (plus rounding of the product).
                if let Ok(back) = q.checked_mul(b) {
                    let diff = (back.raw() - a.raw()).abs();
                    prop_assert!(diff <= b.raw().abs() / ONE_RAW + 1, "a={a} b={b} q={q} back={back}");
                }
            }
        }

        #[test]
        fn rem_matches_definition(a in any_decimal(), b in any_decimal()) {
            if !b.is_zero() {
                let r = a.checked_rem(b).unwrap_or(Decimal::ZERO);
                prop_assert!(r.abs() < b.abs());
                prop_assert!(r.is_zero() || r.is_negative() == a.is_negative());
                prop_assert_eq!((a.raw() - r.raw()) % b.raw(), 0);
            }
        }
    }
}
