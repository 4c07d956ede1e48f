//! Scalar SQL functions with VoltDB names and semantics.
//!
//! [`resolve`] checks a call's arity and argument types when a statement is bound and gives
//! the [`Func`] with its result type; [`call`] evaluates it on values. Functions return NULL
//! when an argument is NULL unless documented otherwise (COALESCE, NULLIF, DECODE). Math and
//! conditional functions live here; string functions in `functions::strings`, date and time
//! functions in `functions::datetime`. Nothing reads the clock: NOW is the transaction
//! time in [`FuncContext`].
//!
//! Types the binder needs at run time are carried in the [`Func`] itself (`Mod`,
//! `Coalesce`, `NullIf`, `Decode`). EXTRACT: the binder should resolve `EXTRACT(f FROM ts)`
//! as the one-argument function named by the field (`resolve("SECOND", &[TIMESTAMP])`, see
//! [`DatePart::parse`]), which is typed exactly (INTEGER, or DECIMAL for SECOND); the generic
//! `EXTRACT('FIELD', ts)` form cannot see the field at resolve time and returns DECIMAL.

mod datetime;
mod strings;

pub use datetime::DatePart;

use voltrs_storage::{DataType, Decimal, Value};

use crate::arith::{arith, arith_type};
use crate::cast::{cast, common_type, value_type_name};
use crate::error::{Error, Result, range_err, type_err};
use crate::expr::BinOp;

const DECIMAL_ONE: i128 = 1_000_000_000_000;

/// What a function may read besides its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FuncContext {
    /// The transaction timestamp in microseconds since the epoch (NOW, CURRENT_TIMESTAMP).
    pub now: i64,
    /// Seed for deterministic pseudo-random functions (none implemented yet).
    pub seed: u64,
}

/// A resolved scalar function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Abs,
    Ceiling,
    Floor,
    /// ROUND(x[, places]): HALF_UP for DECIMAL, away from zero at .5 for FLOAT.
    Round,
    /// MOD(a, b), computed in the given type (BIGINT or DECIMAL).
    Mod(DataType),
    Power,
    Sqrt,
    Exp,
    /// LN and LOG.
    Ln,
    Log10,
    Pi,
    /// COALESCE(a, ...), the first non-NULL argument converted to the given result type.
    Coalesce(DataType),
    /// NULLIF(a, b), comparing in the given type.
    NullIf(DataType),
    /// DECODE(expr, search, result, ..., [default]).
    Decode {
        compare: DataType,
        result: DataType,
    },
    Substring,
    CharLength,
    OctetLength,
    Lower,
    Upper,
    Trim,
    LTrim,
    RTrim,
    Left,
    Right,
    Replace,
    Concat,
    Repeat,
    Space,
    /// POSITION(needle, haystack).
    Position,
    /// NOW and CURRENT_TIMESTAMP.
    Now,
    /// EXTRACT(field VARCHAR, ts): DECIMAL for every field.
    Extract,
    /// YEAR(ts), MONTH(ts), ...: one field of a TIMESTAMP.
    Part(DatePart),
    DateAdd,
    DateDiff,
    Truncate,
    SinceEpoch,
    ToTimestamp,
    FromUnixtime,
    FormatTimestamp,
}

impl Func {
    /// The canonical SQL name (for messages and EXPLAIN).
    pub fn name(self) -> &'static str {
        match self {
            Func::Abs => "ABS",
            Func::Ceiling => "CEILING",
            Func::Floor => "FLOOR",
            Func::Round => "ROUND",
            Func::Mod(_) => "MOD",
            Func::Power => "POWER",
            Func::Sqrt => "SQRT",
            Func::Exp => "EXP",
            Func::Ln => "LN",
            Func::Log10 => "LOG10",
            Func::Pi => "PI",
            Func::Coalesce(_) => "COALESCE",
            Func::NullIf(_) => "NULLIF",
            Func::Decode { .. } => "DECODE",
            Func::Substring => "SUBSTRING",
            Func::CharLength => "CHAR_LENGTH",
            Func::OctetLength => "OCTET_LENGTH",
            Func::Lower => "LOWER",
            Func::Upper => "UPPER",
            Func::Trim => "TRIM",
            Func::LTrim => "LTRIM",
            Func::RTrim => "RTRIM",
            Func::Left => "LEFT",
            Func::Right => "RIGHT",
            Func::Replace => "REPLACE",
            Func::Concat => "CONCAT",
            Func::Repeat => "REPEAT",
            Func::Space => "SPACE",
            Func::Position => "POSITION",
            Func::Now => "NOW",
            Func::Extract => "EXTRACT",
            Func::Part(p) => p.name(),
            Func::DateAdd => "DATEADD",
            Func::DateDiff => "DATEDIFF",
            Func::Truncate => "TRUNCATE",
            Func::SinceEpoch => "SINCE_EPOCH",
            Func::ToTimestamp => "TO_TIMESTAMP",
            Func::FromUnixtime => "FROM_UNIXTIME",
            Func::FormatTimestamp => "FORMAT_TIMESTAMP",
        }
    }

    /// The smallest and largest number of arguments.
    pub fn arity(self) -> (usize, usize) {
        match self {
            Func::Pi | Func::Now => (0, 0),
            Func::Round | Func::Trim | Func::LTrim | Func::RTrim | Func::FormatTimestamp => (1, 2),
            Func::Mod(_)
            | Func::Power
            | Func::NullIf(_)
            | Func::Left
            | Func::Right
            | Func::Repeat
            | Func::Position
            | Func::Extract
            | Func::Truncate
            | Func::SinceEpoch
            | Func::ToTimestamp => (2, 2),
            Func::Substring => (2, 3),
            Func::Replace | Func::DateAdd | Func::DateDiff => (3, 3),
            Func::Coalesce(_) => (1, usize::MAX),
            Func::Concat => (2, usize::MAX),
            Func::Decode { .. } => (3, usize::MAX),
            _ => (1, 1),
        }
    }
}

/// Resolves a call of the upper-case function `name` with arguments of `arg_types`:
/// `Ok(None)` for an unknown name, a type error for a known function called with the
/// wrong number or types of arguments, else the function and its result type.
pub fn resolve(name: &str, arg_types: &[DataType]) -> Result<Option<(Func, DataType)>> {
    let func = match name {
        "ABS" => Func::Abs,
        "CEILING" | "CEIL" => Func::Ceiling,
        "FLOOR" => Func::Floor,
        "ROUND" => Func::Round,
        "MOD" => Func::Mod(DataType::BigInt),
        "POWER" => Func::Power,
        "SQRT" => Func::Sqrt,
        "EXP" => Func::Exp,
        "LN" | "LOG" => Func::Ln,
        "LOG10" => Func::Log10,
        "PI" => Func::Pi,
        "COALESCE" => Func::Coalesce(DataType::Null),
        "NULLIF" => Func::NullIf(DataType::Null),
        "DECODE" => Func::Decode {
            compare: DataType::Null,
            result: DataType::Null,
        },
        other => match strings::lookup(other).or_else(|| datetime::lookup(other)) {
            Some(f) => f,
            None => return Ok(None),
        },
    };
    let (min, max) = func.arity();
    check_arity(name, arg_types.len(), min, max)?;
    let args = arg_types;
    let resolved = match func {
        Func::Abs | Func::Ceiling | Func::Floor => {
            expect(name, args, &[is_num])?;
            (func, same_numeric(args[0]))
        }
        Func::Round => {
            expect(name, args, &[is_num, is_int])?;
            (func, same_numeric(args[0]))
        }
        Func::Mod(_) => {
            let int_or_dec = |t: DataType| is_int(t) || t == DataType::Decimal;
            expect(name, args, &[int_or_dec, int_or_dec])?;
            let ty = arith_type(BinOp::Mod, args[0], args[1])?;
            (Func::Mod(ty), ty)
        }
        Func::Power | Func::Sqrt | Func::Exp | Func::Ln | Func::Log10 => {
            expect(name, args, &[is_num, is_num])?;
            (func, DataType::Float)
        }
        Func::Pi => (func, DataType::Float),
        Func::Coalesce(_) => {
            let ty = unify(name, args.iter().copied())?;
            (Func::Coalesce(ty), ty)
        }
        Func::NullIf(_) => {
            let compare = unify(name, args.iter().copied())?;
            let result = if args[0] == DataType::Null { args[1] } else { args[0] };
            (Func::NullIf(compare), result)
        }
        Func::Decode { .. } => {
            let pairs = (args.len() - 1) / 2;
            let searches = (0..pairs).map(|i| args[1 + 2 * i]);
            let compare = unify(name, std::iter::once(args[0]).chain(searches))?;
            let results = (0..pairs).map(|i| args[2 + 2 * i]);
            let default = args.len().is_multiple_of(2).then(|| args[args.len() - 1]);
            let result = unify(name, results.chain(default))?;
            (Func::Decode { compare, result }, result)
        }
        Func::Part(_)
        | Func::Now
        | Func::Extract
        | Func::DateAdd
        | Func::DateDiff
        | Func::Truncate
        | Func::SinceEpoch
        | Func::ToTimestamp
        | Func::FromUnixtime
        | Func::FormatTimestamp => (func, datetime::result_type(name, func, args)?),
        _ => (func, strings::result_type(name, func, args)?),
    };
    Ok(Some(resolved))
}

fn check_arity(name: &str, n: usize, min: usize, max: usize) -> Result<()> {
    if n >= min && n <= max {
        return Ok(());
    }
    let plural = |k: usize| if k == 1 { "" } else { "s" };
    let what = match (min, max) {
        (0, 0) => "no arguments".to_string(),
        (a, b) if a == b => format!("{a} argument{}", plural(a)),
        (a, usize::MAX) => format!("at least {a} argument{}", plural(a)),
        (a, b) if b == a + 1 => format!("{a} or {b} arguments"),
        (a, b) => format!("{a} to {b} arguments"),
    };
    type_err(format!("function {name} takes {what}"))
}

/// Checks each argument type against its predicate (the last predicate repeats).
fn expect(name: &str, args: &[DataType], preds: &[fn(DataType) -> bool]) -> Result<()> {
    for (i, t) in args.iter().enumerate() {
        let ok = preds.get(i).or(preds.last()).is_none_or(|p| p(*t));
        if !ok {
            return type_err(format!("function {name} does not accept {}", t.name()));
        }
    }
    Ok(())
}

fn is_num(t: DataType) -> bool {
    t.is_numeric() || t == DataType::Null
}
fn is_int(t: DataType) -> bool {
    t.is_integer() || t == DataType::Null
}
fn is_str(t: DataType) -> bool {
    t.is_string() || t == DataType::Null
}
fn is_ts(t: DataType) -> bool {
    matches!(t, DataType::Timestamp | DataType::Null)
}

/// The result type of a function returning its numeric argument's type.
fn same_numeric(t: DataType) -> DataType {
    if t == DataType::Null { DataType::BigInt } else { t }
}

fn unify(name: &str, types: impl Iterator<Item = DataType>) -> Result<DataType> {
    let mut acc = DataType::Null;
    for t in types {
        acc = match common_type(acc, t) {
            Some(c) => c,
            None => {
                return type_err(format!(
                    "function {name}: incompatible argument types {} and {}",
                    acc.name(),
                    t.name()
                ));
            }
        };
    }
    Ok(acc)
}

static NULL: Value = Value::Null;

/// The i-th argument, NULL when missing.
fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&NULL)
}

fn wrong_arg<T>(func: Func, v: &Value) -> Result<T> {
    type_err(format!(
        "function {} does not accept {}",
        func.name(),
        value_type_name(v)
    ))
}

/// An integer argument (DECIMAL and FLOAT truncate toward zero); `None` for NULL.
fn int_arg(func: Func, v: &Value) -> Result<Option<i64>> {
    match v {
        Value::Null => Ok(None),
        Value::Integer(i) => Ok(Some(*i)),
        Value::Decimal(_) | Value::Float(_) => match cast(v, DataType::BigInt) {
            Ok(Value::Integer(i)) => Ok(Some(i)),
            _ => range_err(format!("argument of function {} out of range", func.name())),
        },
        other => wrong_arg(func, other),
    }
}

/// A string argument; `None` for NULL.
fn str_arg(func: Func, v: &Value) -> Result<Option<&str>> {
    match v {
        Value::Null => Ok(None),
        Value::Varchar(s) => Ok(Some(s)),
        other => wrong_arg(func, other),
    }
}

/// Evaluates a resolved function on argument values.
pub fn call(func: Func, args: &[Value], ctx: &FuncContext) -> Result<Value> {
    let (min, max) = func.arity();
    if args.len() < min || args.len() > max {
        return Err(Error::Invalid(format!(
            "function {} called with {} arguments",
            func.name(),
            args.len()
        )));
    }
    let a0 = arg(args, 0);
    match func {
        Func::Abs => abs(a0),
        Func::Ceiling | Func::Floor => ceil_floor(func, a0),
        Func::Round => round(a0, arg(args, 1), args.len() > 1),
        Func::Mod(ty) => arith(BinOp::Mod, a0, arg(args, 1), ty),
        Func::Power | Func::Sqrt | Func::Exp | Func::Ln | Func::Log10 => float_fn(func, args),
        Func::Pi => Ok(Value::Float(std::f64::consts::PI)),
        Func::Coalesce(ty) => match args.iter().find(|v| !v.is_null()) {
            Some(v) => cast(v, ty),
            None => Ok(Value::Null),
        },
        Func::NullIf(compare) => {
            let b = arg(args, 1);
            if a0.is_null() || b.is_null() {
                return Ok(a0.clone());
            }
            let equal = cast(a0, compare)?.sql_cmp(&cast(b, compare)?) == Some(std::cmp::Ordering::Equal);
            Ok(if equal { Value::Null } else { a0.clone() })
        }
        Func::Decode { compare, result } => decode(args, compare, result),
        Func::Now
        | Func::Extract
        | Func::Part(_)
        | Func::DateAdd
        | Func::DateDiff
        | Func::Truncate
        | Func::SinceEpoch
        | Func::ToTimestamp
        | Func::FromUnixtime
        | Func::FormatTimestamp => datetime::call(func, args, ctx),
        _ => strings::call(func, args),
    }
}

fn decimal(raw: i128, func: Func) -> Result<Value> {
    Decimal::from_raw(raw)
        .map(Value::Decimal)
        .map_err(|_| Error::Range(format!("numeric value out of range in function {}", func.name())))
}

fn abs(v: &Value) -> Result<Value> {
    match v {
        Value::Null => Ok(Value::Null),
        Value::Integer(i) => match i.checked_abs() {
            Some(a) => Ok(Value::Integer(a)),
            None => range_err(format!("numeric value out of range: ABS({i})")),
        },
        Value::Float(f) => Ok(Value::Float(f.abs())),
        Value::Decimal(d) => decimal(d.raw().saturating_abs(), Func::Abs),
        other => wrong_arg(Func::Abs, other),
    }
}

fn ceil_floor(func: Func, v: &Value) -> Result<Value> {
    let up = func == Func::Ceiling;
    match v {
        Value::Null | Value::Integer(_) => Ok(v.clone()),
        Value::Float(f) => Ok(Value::Float(if up { f.ceil() } else { f.floor() })),
        Value::Decimal(d) => {
            let raw = d.raw();
            let frac = raw.rem_euclid(DECIMAL_ONE);
            let down = raw - frac;
            decimal(if up && frac != 0 { down + DECIMAL_ONE } else { down }, func)
        }
        other => wrong_arg(func, other),
    }
}

/// ROUND(x[, places]): DECIMAL rounds HALF_UP, FLOAT rounds .5 away from zero, integers
/// change only for negative `places`.
fn round(x: &Value, places: &Value, has_places: bool) -> Result<Value> {
    let p = if has_places {
        match int_arg(Func::Round, places)? {
            Some(p) => p,
            None => return Ok(Value::Null),
        }
    } else {
        0
    };
    match x {
        Value::Null => Ok(Value::Null),
        Value::Integer(i) if p >= 0 => Ok(Value::Integer(*i)),
        Value::Integer(i) => {
            let digits = p.unsigned_abs().min(20) as u32;
            let r = round_half_up(*i as i128, 10i128.pow(digits));
            match i64::try_from(r) {
                Ok(v) if v != i64::MIN => Ok(Value::Integer(v)),
                _ => range_err(format!("numeric value out of range: ROUND({i}, {p})")),
            }
        }
        Value::Decimal(d) if p >= 12 => Ok(Value::Decimal(*d)),
        Value::Decimal(d) => {
            // 10^(12 - p); beyond 10^38 every DECIMAL rounds to zero.
            let digits = 12i64.saturating_sub(p).min(39) as u32;
            let r = if digits > 38 {
                0
            } else {
                round_half_up(d.raw(), 10i128.pow(digits))
            };
            decimal(r, Func::Round)
        }
        Value::Float(f) => {
            let r = if p > 308 {
                *f
            } else if p >= 0 {
                let scale = 10f64.powi(p as i32);
                let y = f * scale;
                if y.is_finite() { y.round() / scale } else { *f }
            } else if p < -308 {
                0.0
            } else {
                (f / 10f64.powi((-p) as i32)).round() * 10f64.powi((-p) as i32)
            };
            if r.is_finite() {
                Ok(Value::Float(r))
            } else {
                range_err("numeric value out of range in function ROUND")
            }
        }
        other => wrong_arg(Func::Round, other),
    }
}

/// Rounds `v` to a multiple of `unit` (> 0), halves away from zero.
fn round_half_up(v: i128, unit: i128) -> i128 {
    let rem = v % unit;
    let base = v - rem;
    if rem.unsigned_abs() * 2 >= unit.unsigned_abs() {
        base + unit * v.signum()
    } else {
        base
    }
}

fn float_fn(func: Func, args: &[Value]) -> Result<Value> {
    let mut xs = [0.0f64; 2];
    for (i, v) in args.iter().enumerate().take(2) {
        match v {
            Value::Null => return Ok(Value::Null),
            other => match other.as_f64() {
                Some(f) => xs[i] = f,
                None => return wrong_arg(func, other),
            },
        }
    }
    let [x, y] = xs;
    let r = match func {
        Func::Power => x.powf(y),
        Func::Sqrt => x.sqrt(),
        Func::Exp => x.exp(),
        Func::Ln => x.ln(),
        _ => x.log10(),
    };
    if r.is_finite() {
        Ok(Value::Float(r))
    } else {
        range_err(format!(
            "invalid result value ({}) from function {}",
            voltrs_storage::text::render_float(r),
            func.name()
        ))
    }
}

fn decode(args: &[Value], compare: DataType, result: DataType) -> Result<Value> {
    let expr = arg(args, 0);
    let key = if expr.is_null() {
        Value::Null
    } else {
        cast(expr, compare)?
    };
    let pairs = (args.len().saturating_sub(1)) / 2;
    for i in 0..pairs {
        let search = arg(args, 1 + 2 * i);
        let hit = match (key.is_null(), search.is_null()) {
            (true, true) => true,
            (false, false) => key.sql_cmp(&cast(search, compare)?) == Some(std::cmp::Ordering::Equal),
            _ => false,
        };
        if hit {
            return cast(arg(args, 2 + 2 * i), result);
        }
    }
    if args.len().is_multiple_of(2) {
        cast(arg(args, args.len() - 1), result)
    } else {
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests;
