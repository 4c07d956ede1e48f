use voltrs_storage::{DataType, Value};

/// VoltDB's type codes (`VoltType.java`), as parameters and result columns carry them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VoltType {
    Null,
    TinyInt,
    SmallInt,
    Integer,
    BigInt,
    Float,
    String,
    Timestamp,
    Date,
    VoltTable,
    Decimal,
    Boolean,
    Varbinary,
    GeographyPoint,
    Geography,
}

impl VoltType {
    /// The type a value goes as when nothing else says: integers BIGINT, FLOAT, DECIMAL,
    /// STRING, VARBINARY, TIMESTAMP, a boolean TINYINT, NULL as type NULL.
    pub fn natural(v: &Value) -> VoltType {
        match v {
            Value::Null => VoltType::Null,
            Value::Integer(_) => VoltType::BigInt,
            Value::Float(_) => VoltType::Float,
            Value::Decimal(_) => VoltType::Decimal,
            Value::Varchar(_) => VoltType::String,
            Value::Varbinary(_) => VoltType::Varbinary,
            Value::Timestamp(_) => VoltType::Timestamp,
            Value::Boolean(_) => VoltType::TinyInt,
        }
    }

    pub fn code(self) -> i8 {
        match self {
            VoltType::Null => 1,
            VoltType::TinyInt => 3,
            VoltType::SmallInt => 4,
            VoltType::Integer => 5,
            VoltType::BigInt => 6,
            VoltType::Float => 8,
            VoltType::String => 9,
            VoltType::Timestamp => 11,
            VoltType::Date => 12,
            VoltType::VoltTable => 21,
            VoltType::Decimal => 22,
            VoltType::Boolean => 23,
            VoltType::Varbinary => 25,
            VoltType::GeographyPoint => 26,
            VoltType::Geography => 27,
        }
    }

    pub fn from_code(code: i8) -> Option<VoltType> {
        Some(match code {
            1 => VoltType::Null,
            3 => VoltType::TinyInt,
            4 => VoltType::SmallInt,
            5 => VoltType::Integer,
            6 => VoltType::BigInt,
            8 => VoltType::Float,
            9 => VoltType::String,
            11 => VoltType::Timestamp,
            12 => VoltType::Date,
            21 => VoltType::VoltTable,
            22 => VoltType::Decimal,
            23 => VoltType::Boolean,
            25 => VoltType::Varbinary,
            26 => VoltType::GeographyPoint,
            27 => VoltType::Geography,
            _ => return None,
        })
    }

    /// The wire type of a result column of SQL type `ty`. VoltDB has no BOOLEAN column:
    /// a boolean result travels as TINYINT 1 / 0.
    pub fn of(ty: DataType) -> VoltType {
        match ty {
            DataType::TinyInt | DataType::Boolean => VoltType::TinyInt,
            DataType::SmallInt => VoltType::SmallInt,
            DataType::Integer => VoltType::Integer,
            DataType::BigInt => VoltType::BigInt,
            DataType::Float => VoltType::Float,
            DataType::Decimal => VoltType::Decimal,
            DataType::Varchar { .. } => VoltType::String,
            DataType::Varbinary { .. } => VoltType::Varbinary,
            DataType::Timestamp => VoltType::Timestamp,
            DataType::Null => VoltType::Integer,
        }
    }

    /// The SQL type of a column of this wire type (`None` for types the engine lacks).
    pub fn data_type(self) -> Option<DataType> {
        Some(match self {
            VoltType::TinyInt => DataType::TinyInt,
            VoltType::SmallInt => DataType::SmallInt,
            VoltType::Integer => DataType::Integer,
            VoltType::BigInt => DataType::BigInt,
            VoltType::Float => DataType::Float,
            VoltType::Decimal => DataType::Decimal,
            VoltType::String => DataType::VARCHAR_MAX,
            VoltType::Varbinary => DataType::VARBINARY_MAX,
            VoltType::Timestamp | VoltType::Date => DataType::Timestamp,
            VoltType::Boolean => DataType::Boolean,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            VoltType::Null => "NULL",
            VoltType::TinyInt => "TINYINT",
            VoltType::SmallInt => "SMALLINT",
            VoltType::Integer => "INTEGER",
            VoltType::BigInt => "BIGINT",
            VoltType::Float => "FLOAT",
            VoltType::String => "STRING",
            VoltType::Timestamp => "TIMESTAMP",
            VoltType::Date => "DATE",
            VoltType::VoltTable => "VOLTTABLE",
            VoltType::Decimal => "DECIMAL",
            VoltType::Boolean => "BOOLEAN",
            VoltType::Varbinary => "VARBINARY",
            VoltType::GeographyPoint => "GEOGRAPHY_POINT",
            VoltType::Geography => "GEOGRAPHY",
        }
    }
}

/// Response status codes (`ClientResponse.java`).
pub mod status {
    pub const SUCCESS: i8 = 1;
    pub const USER_ABORT: i8 = -1;
    pub const GRACEFUL_FAILURE: i8 = -2;
    pub const UNEXPECTED_FAILURE: i8 = -3;
    pub const CONNECTION_LOST: i8 = -4;
    pub const SERVER_UNAVAILABLE: i8 = -5;
    pub const CONNECTION_TIMEOUT: i8 = -6;
    pub const RESPONSE_UNKNOWN: i8 = -7;
    pub const TXN_RESTART: i8 = -8;
    pub const OPERATIONAL_FAILURE: i8 = -9;
    /// The application status byte's "not set" value.
    pub const APP_STATUS_UNSET: i8 = -128;
}
