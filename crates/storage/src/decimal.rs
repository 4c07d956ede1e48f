//! DECIMAL: VoltDB's fixed precision 38, scale 12, held as an `i128` scaled by 10^12.
//! FIRST DRAFT: a helper replaces this with the complete, tested implementation.

use std::cmp::Ordering;
use std::fmt;

pub const SCALE: u32 = 12;
const ONE: i128 = 1_000_000_000_000;
/// Largest magnitude (exclusive) of the scaled integer: 38 significant digits.
const LIMIT: i128 = 100_000_000_000_000_000_000_000_000_000_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Decimal(i128);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    #[error("DECIMAL value out of range (precision 38, scale 12)")]
    OutOfRange,
    #[error("invalid DECIMAL literal '{0}'")]
    Invalid(String),
    #[error("division by zero")]
    DivideByZero,
}

impl Decimal {
    pub const ZERO: Decimal = Decimal(0);

    pub fn from_raw(raw: i128) -> Result<Decimal, DecimalError> {
        if raw.abs() >= LIMIT { Err(DecimalError::OutOfRange) } else { Ok(Decimal(raw)) }
    }
    pub fn raw(self) -> i128 {
        self.0
    }
    pub fn from_i64(i: i64) -> Decimal {
        Decimal(i as i128 * ONE)
    }
    pub fn from_f64(f: f64) -> Result<Decimal, DecimalError> {
        if !f.is_finite() {
            return Err(DecimalError::OutOfRange);
        }
        Decimal::parse(&format!("{f}"))
    }
    pub fn parse(s: &str) -> Result<Decimal, DecimalError> {
        let f: f64 = s.trim().parse().map_err(|_| DecimalError::Invalid(s.to_string()))?;
        let raw = (f * ONE as f64).round();
        if raw.abs() >= 1e38 { Err(DecimalError::OutOfRange) } else { Ok(Decimal(raw as i128)) }
    }
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / ONE as f64
    }
    pub fn to_i64_exact(self) -> Option<i64> {
        if self.0 % ONE == 0 { i64::try_from(self.0 / ONE).ok() } else { None }
    }
    /// Truncates toward zero; `None` when the integer part does not fit an i64.
    pub fn to_i64_trunc(self) -> Option<i64> {
        i64::try_from(self.0 / ONE).ok()
    }
    pub fn cmp_i64(a: i64, b: &Decimal) -> Ordering {
        (a as i128 * ONE).cmp(&b.0)
    }
    pub fn checked_add(self, o: Decimal) -> Result<Decimal, DecimalError> {
        Decimal::from_raw(self.0.checked_add(o.0).ok_or(DecimalError::OutOfRange)?)
    }
    pub fn checked_sub(self, o: Decimal) -> Result<Decimal, DecimalError> {
        Decimal::from_raw(self.0.checked_sub(o.0).ok_or(DecimalError::OutOfRange)?)
    }
    pub fn checked_mul(self, o: Decimal) -> Result<Decimal, DecimalError> {
        let p = self.0.checked_mul(o.0).ok_or(DecimalError::OutOfRange)?;
        Decimal::from_raw(p / ONE)
    }
    pub fn checked_div(self, o: Decimal) -> Result<Decimal, DecimalError> {
        if o.0 == 0 {
            return Err(DecimalError::DivideByZero);
        }
        let n = self.0.checked_mul(ONE).ok_or(DecimalError::OutOfRange)?;
        Decimal::from_raw(n / o.0)
    }
    pub fn neg(self) -> Decimal {
        Decimal(-self.0)
    }
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }
}

/// Text form: the integer part, a point and all 12 decimals, as VoltDB prints DECIMAL.
impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:012}", a / ONE as u128, a % ONE as u128)
    }
}
