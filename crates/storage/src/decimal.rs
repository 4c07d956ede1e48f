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
mod tests;
