use super::table::decode_table;
use super::{Reader, Table, WireError, put_str, start_frame, status};

/// Everything of a response before its tables.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseHead<'a> {
    pub handle: i64,
    pub status: i8,
    pub status_string: Option<&'a str>,
    pub app_status: i8,
    pub app_status_string: Option<&'a str>,
    pub round_trip_ms: i32,
}

impl ResponseHead<'_> {
    /// A response with only a status and a message.
    pub fn failure(handle: i64, status: i8, message: &str) -> ResponseHead<'_> {
        ResponseHead {
            handle,
            status,
            status_string: Some(message),
            app_status: status::APP_STATUS_UNSET,
            app_status_string: None,
            round_trip_ms: 0,
        }
    }
}

/// Starts a response frame: everything up to and including the table count. The caller
/// appends `table_count` tables ([`super::encode_table`]) and then calls
/// [`super::finish_frame`] with the returned start.
pub fn begin_response(out: &mut Vec<u8>, head: &ResponseHead<'_>, table_count: usize) -> usize {
    let start = start_frame(out);
    out.push(0);
    out.extend_from_slice(&head.handle.to_be_bytes());
    let mut present = 0u8;
    if head.app_status_string.is_some() {
        present |= 0x80;
    }
    if head.status_string.is_some() {
        present |= 0x20;
    }
    out.push(present);
    out.push(head.status as u8);
    if head.status_string.is_some() {
        put_str(out, head.status_string);
    }
    out.push(head.app_status as u8);
    if head.app_status_string.is_some() {
        put_str(out, head.app_status_string);
    }
    out.extend_from_slice(&head.round_trip_ms.to_be_bytes());
    out.extend_from_slice(&(table_count as i16).to_be_bytes());
    start
}

/// A whole response frame with no tables.
pub fn encode_response(out: &mut Vec<u8>, head: &ResponseHead<'_>) {
    let start = begin_response(out, head, 0);
    super::finish_frame(out, start);
}

/// A decoded response (the client side).
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub handle: i64,
    pub status: i8,
    pub status_string: Option<String>,
    pub app_status: i8,
    pub app_status_string: Option<String>,
    pub round_trip_ms: i32,
    pub tables: Vec<Table>,
}

/// Decodes a response body.
pub fn decode_response(body: &[u8]) -> Result<Response, WireError> {
    let mut r = Reader::new(body);
    let version = r.i8("response version")?;
    if version != 0 {
        return Err(WireError::UnsupportedVersion {
            what: "response",
            version,
        });
    }
    let handle = r.i64("client handle")?;
    let present = r.i8("present fields")? as u8;
    if present & 0x50 != 0 {
        return Err(WireError::Invalid(
            "responses with an exception or a hash array are not supported".into(),
        ));
    }
    let status = r.i8("status")?;
    let status_string = if present & 0x20 != 0 {
        r.string("status string")?.map(str::to_string)
    } else {
        None
    };
    let app_status = r.i8("app status")?;
    let app_status_string = if present & 0x80 != 0 {
        r.string("app status string")?.map(str::to_string)
    } else {
        None
    };
    let round_trip_ms = r.i32("round trip time")?;
    let n = r.i16("table count")?;
    let n = r.count(i64::from(n), "table count")?;
    let mut tables = Vec::with_capacity(n.min(r.remaining() / 4));
    for _ in 0..n {
        tables.push(decode_table(&mut r)?);
    }
    Ok(Response {
        handle,
        status,
        status_string,
        app_status,
        app_status_string,
        round_trip_ms,
        tables,
    })
}
