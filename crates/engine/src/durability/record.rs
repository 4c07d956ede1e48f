//! Command-log records and segment headers: encoding, and decoding that names what is
//! wrong and where (docs/STORAGE-FORMAT.md, "Command log").

use voltrs_storage::Value;
use voltrs_wire::codec::{Reader, VoltType, decode_value, encode_value};

/// The first bytes of every log segment.
pub const SEGMENT_MAGIC: &[u8; 8] = b"VOLTRSCL";
pub const FORMAT_VERSION: u16 = 1;
/// Checksum algorithm id: CRC32C (Castagnoli).
pub const CHECKSUM_CRC32C: u16 = 1;
/// Magic, version, checksum id, first LSN, header CRC, padding.
pub const SEGMENT_HEADER_LEN: usize = 32;
/// Length and CRC32C before each record's payload.
pub const FRAME_LEN: usize = 8;
/// No record is larger (a bulk load batch is far below it); a larger length is damage.
pub const MAX_RECORD: usize = 256 << 20;
/// `partition` of a multi-partition transaction.
pub const MULTI_PARTITION: i32 = -1;

/// What a logged transaction ran: enough to run it again.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// A stored or default procedure with its parameters.
    Procedure { name: String, params: Vec<Value> },
    /// SQL run as one transaction (`@AdHoc`): DML, a batch of DML, or one DDL statement.
    AdHoc { sql: String, params: Vec<Value> },
    /// Rows bulk-loaded into a table on one partition (`@Load*Table`).
    Load {
        table: String,
        upsert: bool,
        rows: Vec<Vec<Value>>,
    },
}

/// One committed transaction in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The record's position: consecutive from 1 across segments.
    pub lsn: u64,
    /// The transaction's unique id (its timestamp and random seed); replay reuses it.
    pub unique_id: i64,
    /// The transaction's timestamp, microseconds since the epoch (from the unique id).
    pub timestamp: i64,
    /// The partition it ran on, or [`MULTI_PARTITION`].
    pub partition: i32,
    /// The database (namespace) it ran in.
    pub database: String,
    pub command: Command,
}

const KIND_PROCEDURE: u8 = 1;
const KIND_ADHOC: u8 = 2;
const KIND_LOAD: u8 = 3;

/// The segment header for a segment whose first record is `first_lsn`.
pub fn segment_header(first_lsn: u64) -> [u8; SEGMENT_HEADER_LEN] {
    let mut h = [0u8; SEGMENT_HEADER_LEN];
    h[0..8].copy_from_slice(SEGMENT_MAGIC);
    h[8..10].copy_from_slice(&FORMAT_VERSION.to_be_bytes());
    h[10..12].copy_from_slice(&CHECKSUM_CRC32C.to_be_bytes());
    h[12..20].copy_from_slice(&first_lsn.to_be_bytes());
    let crc = crc32c::crc32c(&h[0..20]);
    h[20..24].copy_from_slice(&crc.to_be_bytes());
    h
}

/// The first LSN a segment header names, or what is wrong with it.
pub fn read_segment_header(bytes: &[u8]) -> Result<u64, String> {
    let Some(h) = bytes.get(..SEGMENT_HEADER_LEN) else {
        return Err(format!(
            "the segment header is cut short ({} of {SEGMENT_HEADER_LEN} bytes)",
            bytes.len()
        ));
    };
    if &h[0..8] != SEGMENT_MAGIC {
        return Err("not a voltrs command-log segment (wrong magic bytes)".into());
    }
    let crc = u32::from_be_bytes([h[20], h[21], h[22], h[23]]);
    if crc != crc32c::crc32c(&h[0..20]) {
        return Err("the segment header's checksum does not match".into());
    }
    let version = u16::from_be_bytes([h[8], h[9]]);
    if version != FORMAT_VERSION {
        return Err(format!(
            "format version {version} is not supported (this voltrs reads version {FORMAT_VERSION})"
        ));
    }
    let checksum = u16::from_be_bytes([h[10], h[11]]);
    if checksum != CHECKSUM_CRC32C {
        return Err(format!("unknown checksum algorithm {checksum}"));
    }
    let mut lsn = [0u8; 8];
    lsn.copy_from_slice(&h[12..20]);
    Ok(u64::from_be_bytes(lsn))
}

/// Appends `record` framed (length, CRC32C, payload) to `out`.
pub fn encode_record(out: &mut Vec<u8>, head: &RecordHead<'_>, command: &CommandRef<'_>) {
    let start = out.len();
    out.extend_from_slice(&[0u8; FRAME_LEN]);
    out.extend_from_slice(&head.lsn.to_be_bytes());
    out.extend_from_slice(&head.unique_id.to_be_bytes());
    out.extend_from_slice(&head.timestamp.to_be_bytes());
    out.extend_from_slice(&head.partition.to_be_bytes());
    put_str(out, head.database);
    match command {
        CommandRef::Procedure { name, params } => {
            out.push(KIND_PROCEDURE);
            put_str(out, name);
            put_values(out, params);
        }
        CommandRef::AdHoc { sql, params } => {
            out.push(KIND_ADHOC);
            put_str(out, sql);
            put_values(out, params);
        }
        CommandRef::Load { table, upsert, rows } => {
            out.push(KIND_LOAD);
            put_str(out, table);
            out.push(u8::from(*upsert));
            out.extend_from_slice(&(rows.len() as u32).to_be_bytes());
            for row in *rows {
                put_values(out, row);
            }
        }
    }
    let len = (out.len() - start - FRAME_LEN) as u32;
    let crc = crc32c::crc32c(&out[start + FRAME_LEN..]);
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_be_bytes());
}

/// A record's fixed fields, for encoding.
pub struct RecordHead<'a> {
    pub lsn: u64,
    pub unique_id: i64,
    pub timestamp: i64,
    pub partition: i32,
    pub database: &'a str,
}

/// A command by reference, for encoding without copying parameters.
pub enum CommandRef<'a> {
    Procedure {
        name: &'a str,
        params: &'a [Value],
    },
    AdHoc {
        sql: &'a str,
        params: &'a [Value],
    },
    Load {
        table: &'a str,
        upsert: bool,
        rows: &'a [Vec<Value>],
    },
}

impl Command {
    pub fn as_ref(&self) -> CommandRef<'_> {
        match self {
            Command::Procedure { name, params } => CommandRef::Procedure { name, params },
            Command::AdHoc { sql, params } => CommandRef::AdHoc { sql, params },
            Command::Load { table, upsert, rows } => CommandRef::Load {
                table,
                upsert: *upsert,
                rows,
            },
        }
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// A count, then each value as its type code and the VoltDB wire encoding of that type.
fn put_values(out: &mut Vec<u8>, values: &[Value]) {
    out.extend_from_slice(&(values.len() as u32).to_be_bytes());
    for v in values {
        let ty = VoltType::natural(v);
        out.push(ty.code() as u8);
        if ty != VoltType::Null {
            encode_value(out, ty, v);
        }
    }
}

/// What reading the record at an offset found.
#[derive(Debug, PartialEq)]
pub enum Frame {
    /// A whole record and the offset after it.
    Record(Box<Record>, usize),
    /// Zero bytes where the next frame would start: the end of what was written (segments
    /// are preallocated, so the rest of the file is zeros).
    End,
    /// A frame that is cut short, fails its checksum or does not decode.
    Damaged(String),
}

/// Reads the frame at `offset` of a segment.
pub fn read_frame(bytes: &[u8], offset: usize) -> Frame {
    let rest = bytes.get(offset..).unwrap_or(&[]);
    if rest.is_empty() {
        return Frame::End;
    }
    let Some(head) = rest.get(..FRAME_LEN) else {
        if rest.iter().all(|&b| b == 0) {
            return Frame::End;
        }
        return Frame::Damaged(format!("a record header is cut short ({} bytes)", rest.len()));
    };
    let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let crc = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
    if len == 0 && crc == 0 {
        return Frame::End;
    }
    if len > MAX_RECORD {
        return Frame::Damaged(format!("a record length of {len} bytes is not plausible"));
    }
    let Some(payload) = rest.get(FRAME_LEN..FRAME_LEN + len) else {
        return Frame::Damaged(format!(
            "a record of {len} bytes is cut short ({} bytes present)",
            rest.len() - FRAME_LEN
        ));
    };
    if crc32c::crc32c(payload) != crc {
        return Frame::Damaged("a record's checksum does not match".into());
    }
    match decode_payload(payload) {
        Ok(r) => Frame::Record(Box::new(r), offset + FRAME_LEN + len),
        Err(e) => Frame::Damaged(format!("a record with a valid checksum does not decode: {e}")),
    }
}

fn decode_payload(payload: &[u8]) -> Result<Record, String> {
    let mut r = Reader::new(payload);
    let e = |e: voltrs_wire::codec::WireError| e.to_string();
    let lsn = r.i64("lsn").map_err(e)? as u64;
    let unique_id = r.i64("unique id").map_err(e)?;
    let timestamp = r.i64("timestamp").map_err(e)?;
    let partition = r.i32("partition").map_err(e)?;
    let database = get_str(&mut r, "database")?;
    let kind = r.i8("kind").map_err(e)? as u8;
    let command = match kind {
        KIND_PROCEDURE => Command::Procedure {
            name: get_str(&mut r, "procedure name")?,
            params: get_values(&mut r)?,
        },
        KIND_ADHOC => Command::AdHoc {
            sql: get_str(&mut r, "sql")?,
            params: get_values(&mut r)?,
        },
        KIND_LOAD => {
            let table = get_str(&mut r, "table")?;
            let upsert = r.i8("upsert").map_err(e)? != 0;
            let n = r.i32("row count").map_err(e)? as u32 as usize;
            let mut rows = Vec::with_capacity(n.min(1 << 16));
            for _ in 0..n {
                rows.push(get_values(&mut r)?);
            }
            Command::Load { table, upsert, rows }
        }
        k => return Err(format!("unknown record kind {k}")),
    };
    if r.remaining() != 0 {
        return Err(format!("{} bytes follow the record's last field", r.remaining()));
    }
    Ok(Record {
        lsn,
        unique_id,
        timestamp,
        partition,
        database,
        command,
    })
}

fn get_str(r: &mut Reader<'_>, what: &'static str) -> Result<String, String> {
    let len = r.i32(what).map_err(|e| e.to_string())? as u32 as usize;
    let bytes = r.take(len, what).map_err(|e| e.to_string())?;
    String::from_utf8(bytes.to_vec()).map_err(|_| format!("{what} is not UTF-8"))
}

fn get_values(r: &mut Reader<'_>) -> Result<Vec<Value>, String> {
    let n = r.i32("value count").map_err(|e| e.to_string())? as u32 as usize;
    let mut values = Vec::with_capacity(n.min(1 << 12));
    for _ in 0..n {
        let code = r.i8("value type").map_err(|e| e.to_string())?;
        let ty = VoltType::from_code(code).ok_or_else(|| format!("unknown value type {code}"))?;
        if ty == VoltType::Null {
            values.push(Value::Null);
        } else {
            let at = r.position();
            values.push(decode_value(r, ty, at).map_err(|e| e.to_string())?);
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(lsn: u64, command: Command) -> Record {
        Record {
            lsn,
            unique_id: 42 << 23,
            timestamp: 1_700_000_000_000_000,
            partition: 3,
            database: "VOLTRS".into(),
            command,
        }
    }

    fn encode(r: &Record) -> Vec<u8> {
        let mut out = Vec::new();
        let head = RecordHead {
            lsn: r.lsn,
            unique_id: r.unique_id,
            timestamp: r.timestamp,
            partition: r.partition,
            database: &r.database,
        };
        encode_record(&mut out, &head, &r.command.as_ref());
        out
    }

    #[test]
    fn records_round_trip() {
        let values = vec![
            Value::Null,
            Value::Integer(-7),
            Value::Float(1.5),
            Value::str("päss"),
            Value::bytes(&[0, 1, 255]),
            Value::Timestamp(123_456),
        ];
        let all = [
            record(
                1,
                Command::Procedure {
                    name: "Vote".into(),
                    params: values.clone(),
                },
            ),
            record(
                2,
                Command::AdHoc {
                    sql: "INSERT INTO t VALUES (?, ?)".into(),
                    params: vec![Value::Integer(1), Value::Null],
                },
            ),
            record(
                3,
                Command::Load {
                    table: "T".into(),
                    upsert: true,
                    rows: vec![values.clone(), vec![]],
                },
            ),
        ];
        let mut bytes = Vec::new();
        for r in &all {
            bytes.extend(encode(r));
        }
        let mut at = 0;
        for r in &all {
            match read_frame(&bytes, at) {
                Frame::Record(got, next) => {
                    assert_eq!(*got, *r);
                    at = next;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(read_frame(&bytes, at), Frame::End);
        bytes.extend([0u8; 100]);
        assert_eq!(read_frame(&bytes, at), Frame::End);
    }

    #[test]
    fn every_flipped_bit_and_every_cut_is_detected() {
        let r = record(
            9,
            Command::AdHoc {
                sql: "DELETE FROM t WHERE id = ?".into(),
                params: vec![Value::Integer(5)],
            },
        );
        let bytes = encode(&r);
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                assert!(
                    !matches!(read_frame(&b, 0), Frame::Record(..)),
                    "byte {i} bit {bit} went unnoticed"
                );
            }
        }
        // A cut record is never read as one (a cut inside the zero high bytes of the
        // length reads as the end of the log, which it then is).
        for cut in 1..bytes.len() {
            assert!(
                !matches!(read_frame(&bytes[..cut], 0), Frame::Record(..)),
                "cut at {cut}"
            );
        }
        assert!(matches!(read_frame(&bytes[..FRAME_LEN + 3], 0), Frame::Damaged(_)));
    }

    #[test]
    fn headers_are_checked() {
        let h = segment_header(77);
        assert_eq!(read_segment_header(&h), Ok(77));
        let mut bad = h;
        bad[13] ^= 1;
        assert!(read_segment_header(&bad).unwrap_err().contains("checksum"));
        let mut other = h;
        other[0] = b'X';
        assert!(read_segment_header(&other).unwrap_err().contains("magic"));
        assert!(read_segment_header(&h[..10]).unwrap_err().contains("cut short"));
    }
}
