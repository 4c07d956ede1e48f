//! SQL column types, exactly VoltDB's (see shared reference voltdb-surface.md §1).

use std::fmt;

/// Largest VARCHAR / VARBINARY length VoltDB accepts (1 MiB of bytes).
pub const MAX_VALUE_BYTES: u32 = 1_048_576;
/// Largest VARCHAR length in characters (VoltDB: 262144).
pub const MAX_VARCHAR_CHARS: u32 = 262_144;
/// VoltDB's default VARCHAR length when none is given.
pub const DEFAULT_VARCHAR_LEN: u32 = 1;

/// A column or expression type.
///
/// `Boolean` exists only for predicates (VoltDB has no BOOLEAN column type);
/// `Null` is the type of an untyped NULL literal before context fixes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataType {
    TinyInt,
    SmallInt,
    Integer,
    BigInt,
    Float,
    Decimal,
    /// VARCHAR(n) counted in characters, or in bytes when `bytes` is set.
    Varchar {
        len: u32,
        bytes: bool,
    },
    Varbinary {
        len: u32,
    },
    Timestamp,
    Boolean,
    Null,
}

impl DataType {
    /// VARCHAR with VoltDB's largest length, the type of string expressions.
    pub const VARCHAR_MAX: DataType = DataType::Varchar {
        len: MAX_VARCHAR_CHARS,
        bytes: false,
    };
    pub const VARBINARY_MAX: DataType = DataType::Varbinary { len: MAX_VALUE_BYTES };

    pub fn is_integer(self) -> bool {
        matches!(
            self,
            DataType::TinyInt | DataType::SmallInt | DataType::Integer | DataType::BigInt
        )
    }

    pub fn is_numeric(self) -> bool {
        self.is_integer() || matches!(self, DataType::Float | DataType::Decimal)
    }

    pub fn is_string(self) -> bool {
        matches!(self, DataType::Varchar { .. })
    }

    /// The inclusive range of valid data for an integer type; the value just below is NULL.
    pub fn integer_range(self) -> Option<(i64, i64)> {
        match self {
            DataType::TinyInt => Some((i8::MIN as i64 + 1, i8::MAX as i64)),
            DataType::SmallInt => Some((i16::MIN as i64 + 1, i16::MAX as i64)),
            DataType::Integer => Some((i32::MIN as i64 + 1, i32::MAX as i64)),
            DataType::BigInt => Some((i64::MIN + 1, i64::MAX)),
            _ => None,
        }
    }

    /// VoltDB's wire type code (VoltType.java).
    pub fn wire_code(self) -> i8 {
        match self {
            DataType::TinyInt => 3,
            DataType::SmallInt => 4,
            DataType::Integer => 5,
            DataType::BigInt => 6,
            DataType::Float => 8,
            DataType::Varchar { .. } => 9,
            DataType::Timestamp => 11,
            DataType::Decimal => 22,
            DataType::Boolean => 23,
            DataType::Varbinary { .. } => 25,
            DataType::Null => 1,
        }
    }

    /// The upper-case name used in messages and catalog listings (`VARCHAR`, not `VARCHAR(10)`).
    pub fn name(self) -> &'static str {
        match self {
            DataType::TinyInt => "TINYINT",
            DataType::SmallInt => "SMALLINT",
            DataType::Integer => "INTEGER",
            DataType::BigInt => "BIGINT",
            DataType::Float => "FLOAT",
            DataType::Decimal => "DECIMAL",
            DataType::Varchar { .. } => "VARCHAR",
            DataType::Varbinary { .. } => "VARBINARY",
            DataType::Timestamp => "TIMESTAMP",
            DataType::Boolean => "BOOLEAN",
            DataType::Null => "NULL",
        }
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataType::Varchar { len, bytes: false } => write!(f, "VARCHAR({len})"),
            DataType::Varchar { len, bytes: true } => write!(f, "VARCHAR({len} BYTES)"),
            DataType::Varbinary { len } => write!(f, "VARBINARY({len})"),
            other => f.write_str(other.name()),
        }
    }
}
