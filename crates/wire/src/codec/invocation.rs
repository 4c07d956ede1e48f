use std::sync::Arc;

use voltrs_storage::Value;

use super::table::{decode_table, decode_value, encode_value};
use super::{Reader, Table, VoltType, WireError, finish_frame, put_str, start_frame};

/// The array marker before an array parameter's element type.
const ARRAY: i8 = -99;
/// More parameters than this is not a real call (VoltDB's limit is 1025 per statement).
const MAX_PARAMS: usize = 32_767;

/// One parameter of an invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// A scalar; each type's NULL sentinel arrives as `Value::Null`. A TINYINT array (a
    /// Java `byte[]`) arrives as a VARBINARY value.
    Value(Value),
    /// An array of another element type (for `IN ?`).
    Array(Vec<Value>),
    /// A VOLTTABLE (the bulk-load procedures).
    Table(Table),
}

/// A procedure call.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    pub procedure: String,
    pub handle: i64,
    /// The client's query timeout override (extension BATCH_TIMEOUT or version 1).
    pub batch_timeout_ms: Option<i32>,
    /// The call is one leg of an all-partition call.
    pub all_partition: bool,
    /// The partition this leg runs on (PARTITION_DESTINATION).
    pub partition_destination: Option<i32>,
    pub params: Vec<Param>,
}

/// A call that could not be decoded. With the handle known the server answers the call
/// with the error; without it the connection cannot be trusted and is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvocationError {
    pub handle: Option<i64>,
    pub error: WireError,
}

/// Decodes an invocation body (versions 0, 1 and 2).
pub fn decode_invocation(body: &[u8]) -> Result<Invocation, InvocationError> {
    let mut r = Reader::new(body);
    let head = |e| InvocationError { handle: None, error: e };
    let version = r.i8("invocation version").map_err(head)?;
    let mut batch_timeout_ms = None;
    if version == 1 {
        let kind = r.i8("batch timeout kind").map_err(head)?;
        if kind == 1 {
            batch_timeout_ms = Some(r.i32("batch timeout").map_err(head)?);
        }
    } else if version != 0 && version != 2 {
        return Err(head(WireError::UnsupportedVersion {
            what: "invocation",
            version,
        }));
    }
    // The name's bytes are checked only once the handle after them is known, so a name
    // that is NULL, empty or not UTF-8 is answered on the caller's handle.
    let name_at = r.position();
    let name = r.bytes("procedure name").map_err(head)?;
    let handle = r.i64("client handle").map_err(head)?;
    let with_handle = |e| InvocationError {
        handle: Some(handle),
        error: e,
    };
    let name = match name.map(std::str::from_utf8) {
        None => return Err(with_handle(WireError::Invalid("the procedure name is NULL".into()))),
        Some(Err(_)) => {
            return Err(with_handle(WireError::InvalidUtf8 {
                what: "procedure name",
                offset: name_at + 4,
            }));
        }
        Some(Ok("")) => return Err(with_handle(WireError::Invalid("the procedure name is empty".into()))),
        Some(Ok(name)) => name,
    };
    let mut call = Invocation {
        procedure: name.to_string(),
        handle,
        batch_timeout_ms,
        all_partition: false,
        partition_destination: None,
        params: Vec::new(),
    };
    if version == 2 {
        read_extensions(&mut r, &mut call).map_err(with_handle)?;
    }
    call.params = read_params(&mut r).map_err(with_handle)?;
    if r.remaining() != 0 {
        return Err(with_handle(WireError::Invalid(format!(
            "{} bytes after the last parameter",
            r.remaining()
        ))));
    }
    Ok(call)
}

fn read_extensions(r: &mut Reader<'_>, call: &mut Invocation) -> Result<(), WireError> {
    let count = r.i8("extension count")?;
    let count = r.count(i64::from(count), "extension count")?;
    for _ in 0..count {
        let ty = r.i8("extension type")? as u8;
        let size_code = r.i8("extension size")? as u8;
        if size_code > 8 {
            return Err(WireError::Invalid(format!(
                "extension size code {size_code} is too large"
            )));
        }
        let size = if size_code == 0 { 0 } else { 1usize << (size_code - 1) };
        let payload = r.take(size, "extension payload")?;
        let int32 = || -> Result<i32, WireError> {
            let mut b = Reader::new(payload);
            b.i32("extension value")
        };
        match ty {
            1 => call.batch_timeout_ms = Some(int32()?),
            2 => call.all_partition = true,
            3 => {
                call.all_partition = true;
                call.partition_destination = Some(int32()?);
            }
            4 => {
                return Err(WireError::Invalid(
                    "batch calls (extension BATCH_CALL) are not supported".into(),
                ));
            }
            // REQUEST_PRIORITY, REQUEST_TIMEOUT and unknown extensions: skipped.
            _ => {}
        }
    }
    Ok(())
}

fn read_params(r: &mut Reader<'_>) -> Result<Vec<Param>, WireError> {
    let count = r.i16("parameter count")?;
    let count = r.count(i64::from(count), "parameter count")?;
    if count > MAX_PARAMS || count > r.remaining() {
        return Err(WireError::BadLength {
            what: "parameter count",
            len: count as i64,
            offset: r.position(),
        });
    }
    let mut params = Vec::with_capacity(count);
    for _ in 0..count {
        params.push(read_param(r)?);
    }
    Ok(params)
}

fn read_param(r: &mut Reader<'_>) -> Result<Param, WireError> {
    let at = r.position();
    let code = r.i8("parameter type")?;
    if code == ARRAY {
        return read_array(r);
    }
    let ty = VoltType::from_code(code).ok_or(WireError::UnknownType { code, offset: at })?;
    if ty == VoltType::VoltTable {
        return decode_table(r).map(Param::Table);
    }
    decode_value(r, ty, at + 1).map(Param::Value)
}

fn read_array(r: &mut Reader<'_>) -> Result<Param, WireError> {
    let at = r.position();
    let code = r.i8("array element type")?;
    let ty = VoltType::from_code(code).ok_or(WireError::UnknownType { code, offset: at })?;
    if ty == VoltType::TinyInt {
        let len = r.i32("byte array length")?;
        let len = r.count(i64::from(len), "byte array length")?;
        let b = r.take(len, "byte array")?;
        return Ok(Param::Value(Value::Varbinary(Arc::from(b))));
    }
    if matches!(ty, VoltType::Null | VoltType::VoltTable) {
        return Err(WireError::Invalid(format!("arrays of {} are not supported", ty.name())));
    }
    let n = r.i16("array length")?;
    let n = r.count(i64::from(n), "array length")?;
    if n > r.remaining() {
        return Err(WireError::BadLength {
            what: "array length",
            len: n as i64,
            offset: at,
        });
    }
    let mut items = Vec::with_capacity(n);
    for _ in 0..n {
        let p = r.position();
        items.push(decode_value(r, ty, p)?);
    }
    Ok(Param::Array(items))
}

/// A whole version-0 invocation frame (version 2 when `partition_destination` is set).
/// Each value goes as the natural type of its kind: integers BIGINT, FLOAT, DECIMAL,
/// STRING, VARBINARY, TIMESTAMP; NULL as type NULL.
pub fn encode_invocation(
    out: &mut Vec<u8>,
    procedure: &str,
    handle: i64,
    partition_destination: Option<i32>,
    params: &[Value],
) {
    let start = start_frame(out);
    out.push(if partition_destination.is_some() { 2 } else { 0 });
    put_str(out, Some(procedure));
    out.extend_from_slice(&handle.to_be_bytes());
    if let Some(p) = partition_destination {
        out.extend_from_slice(&[2, 2, 0, 3, 3]);
        out.extend_from_slice(&p.to_be_bytes());
    }
    out.extend_from_slice(&(params.len() as i16).to_be_bytes());
    for v in params {
        let ty = VoltType::natural(v);
        out.push(ty.code() as u8);
        if ty != VoltType::Null {
            encode_value(out, ty, v);
        }
    }
    finish_frame(out, start);
}

/// A typed parameter for [`encode_typed_param`]: the value, sent as `ty`.
pub fn encode_typed_param(out: &mut Vec<u8>, ty: VoltType, v: &Value) {
    out.push(ty.code() as u8);
    encode_value(out, ty, v);
}
