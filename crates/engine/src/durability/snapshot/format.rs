//! The byte layer every snapshot file shares (docs/STORAGE-FORMAT.md, "Snapshots"): the
//! 12-byte file header, checksummed chunks, and the big-endian fields inside a chunk.
//!
//! Writing: [`FileWriter`] writes the header, then one chunk per [`FileWriter::chunk`]
//! call, keeping the file's length and CRC32C for the completion marker, and syncs the
//! file in [`FileWriter::finish`]. Reading: [`check_header`], then [`Chunks`] walks the
//! frames and checks each checksum before anyone looks inside; [`Fields`] reads a chunk's
//! payload. Every reading failure is a [`Corrupt`] holding the absolute file offset of
//! the bad frame or field; the caller adds the snapshot and file names.

use std::io;
use std::path::Path;

use voltrs_storage::{DataType, Value};
use voltrs_wire::codec::VoltType;

use crate::durability::io::{Storage, WriteFile};

/// The first 8 bytes of every snapshot file.
pub const MAGIC: [u8; 8] = *b"VOLTSNAP";
/// The format version this build writes and reads.
pub const VERSION: u16 = 1;
/// Checksum algorithm id 1: CRC32C (Castagnoli). The only one.
pub const CRC32C: u8 = 1;
/// Magic, version, checksum algorithm, file kind.
pub const HEADER_LEN: usize = 12;
/// A chunk frame before its payload: length (u32), kind (u8), CRC32C (u32).
const FRAME_LEN: usize = 9;

/// What a file holds (byte 11 of its header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Catalog = 1,
    Table = 2,
    Marker = 3,
}

impl FileKind {
    fn name(self) -> &'static str {
        match self {
            FileKind::Catalog => "catalog",
            FileKind::Table => "table data",
            FileKind::Marker => "completion marker",
        }
    }
}

/// Chunk kinds (the byte after a chunk's length).
pub mod kind {
    /// catalog.vsnap: nonce, LSN, creation time, partition count, DDL count.
    pub const META: u8 = 1;
    /// catalog.vsnap: one DDL statement and its database.
    pub const DDL: u8 = 2;
    /// catalog.vsnap: every table data file and what it holds.
    pub const TABLES: u8 = 3;
    /// Table data file: database, table, partition, replicated, columns.
    pub const TABLE_HEADER: u8 = 4;
    /// Table data file: one VoltTable of rows.
    pub const ROWS: u8 = 5;
    /// Table data file: the row and chunk counts, last.
    pub const TABLE_END: u8 = 6;
    /// COMPLETE: every other file's name, length and CRC32C.
    pub const DIGEST: u8 = 7;

    pub fn name(kind: u8) -> &'static str {
        match kind {
            META => "meta",
            DDL => "DDL",
            TABLES => "table list",
            TABLE_HEADER => "table header",
            ROWS => "rows",
            TABLE_END => "table end",
            DIGEST => "digest",
            _ => "unknown",
        }
    }
}

/// A file's name, length and CRC32C of its whole content, as the marker records them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    pub name: String,
    pub len: u64,
    pub crc: u32,
}

/// One snapshot file being written: appends chunks, tracks length and checksum.
pub struct FileWriter {
    file: Box<dyn WriteFile>,
    name: String,
    len: u64,
    crc: u32,
}

impl FileWriter {
    /// Creates `dir/name` and writes its header.
    pub fn create(storage: &dyn Storage, dir: &Path, name: &str, kind: FileKind) -> io::Result<FileWriter> {
        let file = storage.create(&dir.join(name))?;
        let mut w = FileWriter {
            file,
            name: name.to_string(),
            len: 0,
            crc: 0,
        };
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(&MAGIC);
        header.extend_from_slice(&VERSION.to_be_bytes());
        header.push(CRC32C);
        header.push(kind as u8);
        w.append(&header)?;
        Ok(w)
    }

    /// Appends one chunk: its frame, then `payload`.
    pub fn chunk(&mut self, kind: u8, payload: &[u8]) -> io::Result<()> {
        let Ok(len) = u32::try_from(payload.len()) else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "chunk over 4 GiB"));
        };
        let mut frame = [0u8; FRAME_LEN];
        frame[..4].copy_from_slice(&len.to_be_bytes());
        frame[4] = kind;
        let crc = crc32c::crc32c_append(crc32c::crc32c(&frame[..5]), payload);
        frame[5..].copy_from_slice(&crc.to_be_bytes());
        self.append(&frame)?;
        self.append(payload)
    }

    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_at(self.len, bytes)?;
        self.len += bytes.len() as u64;
        self.crc = crc32c::crc32c_append(self.crc, bytes);
        Ok(())
    }

    /// Syncs the file; its digest for the marker.
    pub fn finish(mut self) -> io::Result<FileDigest> {
        self.file.sync()?;
        Ok(FileDigest {
            name: self.name,
            len: self.len,
            crc: self.crc,
        })
    }
}

/// What is wrong at which byte of a file being read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrupt {
    pub offset: u64,
    pub what: String,
}

pub fn bad(offset: usize, what: impl Into<String>) -> Corrupt {
    Corrupt {
        offset: offset as u64,
        what: what.into(),
    }
}

pub fn corrupt<T>(offset: usize, what: impl Into<String>) -> Result<T, Corrupt> {
    Err(bad(offset, what))
}

/// Checks a file's header: magic, a version this build reads, CRC32C, and the kind.
pub fn check_header(bytes: &[u8], expected: FileKind) -> Result<(), Corrupt> {
    check_format(bytes)?;
    if bytes[11] != expected as u8 {
        return corrupt(
            11,
            format!("file kind {} where a {} file was expected", bytes[11], expected.name()),
        );
    }
    Ok(())
}

/// Checks a file's framing whatever its kind: the header's magic, version and checksum
/// algorithm, then every chunk's frame and checksum.
pub fn check_frames(bytes: &[u8]) -> Result<(), Corrupt> {
    check_format(bytes)?;
    if !matches!(bytes[11], 1..=3) {
        return corrupt(11, format!("unknown file kind {}", bytes[11]));
    }
    Chunks::new(bytes).all().map(drop)
}

/// The header up to the file kind: magic, version, checksum algorithm.
fn check_format(bytes: &[u8]) -> Result<(), Corrupt> {
    if bytes.len() < HEADER_LEN {
        return corrupt(
            bytes.len(),
            format!("file ends inside its {HEADER_LEN}-byte header ({} bytes)", bytes.len()),
        );
    }
    if bytes[..8] != MAGIC {
        return corrupt(0, "not a voltrs snapshot file (bad magic bytes)");
    }
    let version = u16::from_be_bytes([bytes[8], bytes[9]]);
    if version != VERSION {
        return corrupt(
            8,
            format!("format version {version} is not supported (this build reads version {VERSION})"),
        );
    }
    if bytes[10] != CRC32C {
        return corrupt(10, format!("unknown checksum algorithm {}", bytes[10]));
    }
    Ok(())
}

/// One checked chunk.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    /// Where its frame starts in the file.
    pub offset: usize,
    pub kind: u8,
    pub payload: &'a [u8],
}

impl<'a> Chunk<'a> {
    /// A reader over the payload that reports absolute file offsets.
    pub fn fields(&self) -> Fields<'a> {
        Fields {
            buf: self.payload,
            pos: 0,
            base: self.offset + FRAME_LEN,
        }
    }
}

/// Walks the chunks after a file's header, checking each frame and checksum.
pub struct Chunks<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Chunks<'a> {
    /// The chunks of a file whose header [`check_header`] accepted.
    pub fn new(bytes: &'a [u8]) -> Chunks<'a> {
        Chunks {
            bytes,
            pos: HEADER_LEN.min(bytes.len()),
        }
    }

    /// The next chunk, `None` at the end of the file.
    pub fn next_chunk(&mut self) -> Result<Option<Chunk<'a>>, Corrupt> {
        let at = self.pos;
        let left = self.bytes.len() - at;
        if left == 0 {
            return Ok(None);
        }
        if left < FRAME_LEN {
            return corrupt(
                at,
                format!("truncated: a chunk frame needs {FRAME_LEN} bytes, {left} left"),
            );
        }
        let frame = &self.bytes[at..at + FRAME_LEN];
        let len = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
        let crc = u32::from_be_bytes([frame[5], frame[6], frame[7], frame[8]]);
        if len > left - FRAME_LEN {
            return corrupt(
                at,
                format!("truncated: chunk of {len} bytes, {} left in the file", left - FRAME_LEN),
            );
        }
        let payload = &self.bytes[at + FRAME_LEN..at + FRAME_LEN + len];
        if crc32c::crc32c_append(crc32c::crc32c(&frame[..5]), payload) != crc {
            return corrupt(at, "checksum mismatch");
        }
        self.pos = at + FRAME_LEN + len;
        Ok(Some(Chunk {
            offset: at,
            kind: frame[4],
            payload,
        }))
    }

    /// The next chunk, which must be of `kind`.
    pub fn expect(&mut self, kind: u8) -> Result<Chunk<'a>, Corrupt> {
        match self.next_chunk()? {
            Some(c) if c.kind == kind => Ok(c),
            Some(c) => corrupt(
                c.offset,
                format!(
                    "{} chunk (kind {}) where a {} chunk was expected",
                    kind::name(c.kind),
                    c.kind,
                    kind::name(kind)
                ),
            ),
            None => corrupt(self.pos, format!("file ends before its {} chunk", kind::name(kind))),
        }
    }

    /// Checks that nothing follows.
    pub fn end(&mut self) -> Result<(), Corrupt> {
        match self.next_chunk()? {
            None => Ok(()),
            Some(c) => corrupt(
                c.offset,
                format!("unexpected {} chunk after the last one", kind::name(c.kind)),
            ),
        }
    }

    /// Checks every remaining chunk's frame and checksum, returning them.
    pub fn all(mut self) -> Result<Vec<Chunk<'a>>, Corrupt> {
        let mut out = Vec::new();
        while let Some(c) = self.next_chunk()? {
            out.push(c);
        }
        Ok(out)
    }
}

/// Reads big-endian fields from a chunk payload.
pub struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    /// The payload's offset in the file.
    base: usize,
}

impl<'a> Fields<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], Corrupt> {
        let left = self.buf.len() - self.pos;
        if n > left {
            return corrupt(
                self.base + self.pos,
                format!("{what} needs {n} bytes, the chunk has {left} left"),
            );
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], Corrupt> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }

    pub fn u8(&mut self, what: &str) -> Result<u8, Corrupt> {
        Ok(self.array::<1>(what)?[0])
    }

    pub fn u16(&mut self, what: &str) -> Result<u16, Corrupt> {
        self.array(what).map(u16::from_be_bytes)
    }

    pub fn u32(&mut self, what: &str) -> Result<u32, Corrupt> {
        self.array(what).map(u32::from_be_bytes)
    }

    pub fn u64(&mut self, what: &str) -> Result<u64, Corrupt> {
        self.array(what).map(u64::from_be_bytes)
    }

    pub fn i64(&mut self, what: &str) -> Result<i64, Corrupt> {
        self.array(what).map(i64::from_be_bytes)
    }

    pub fn bool(&mut self, what: &str) -> Result<bool, Corrupt> {
        let at = self.base + self.pos;
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            b => corrupt(at, format!("{what} is {b}, not 0 or 1")),
        }
    }

    /// `i32 length` + UTF-8 (never NULL here).
    pub fn str(&mut self, what: &str) -> Result<String, Corrupt> {
        let at = self.base + self.pos;
        let len = i32::from_be_bytes(self.array(what)?);
        let Ok(len) = usize::try_from(len) else {
            return corrupt(at, format!("{what} has negative length {len}"));
        };
        let bytes = self.take(len, what)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => corrupt(at + 4, format!("{what} is not valid UTF-8")),
        }
    }

    /// A column type: wire code, length, flags.
    pub fn data_type(&mut self, what: &str) -> Result<DataType, Corrupt> {
        let at = self.base + self.pos;
        let code = self.u8(what)?;
        let len = self.u32(what)?;
        let flags = self.u8(what)?;
        Ok(match code {
            3 => DataType::TinyInt,
            4 => DataType::SmallInt,
            5 => DataType::Integer,
            6 => DataType::BigInt,
            8 => DataType::Float,
            9 => DataType::Varchar {
                len,
                bytes: flags & 1 != 0,
            },
            11 => DataType::Timestamp,
            22 => DataType::Decimal,
            23 => DataType::Boolean,
            25 => DataType::Varbinary { len },
            1 => DataType::Null,
            _ => return corrupt(at, format!("{what}: unknown type code {code}")),
        })
    }

    /// Checks that the payload has been read to its end.
    pub fn done(&self, what: &str) -> Result<(), Corrupt> {
        let left = self.buf.len() - self.pos;
        if left != 0 {
            return corrupt(self.base + self.pos, format!("{left} stray bytes after the {what}"));
        }
        Ok(())
    }
}

pub fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// `i32 length` + UTF-8. Strings here are names and DDL text, far below 2 GiB.
pub fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as i32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// A column type: wire code (u8), length (u32: VARCHAR and VARBINARY, else 0), flags
/// (u8: bit 0 set for VARCHAR measured in bytes).
pub fn put_data_type(out: &mut Vec<u8>, ty: DataType) {
    let (len, flags) = match ty {
        DataType::Varchar { len, bytes } => (len, u8::from(bytes)),
        DataType::Varbinary { len } => (len, 0),
        _ => (0, 0),
    };
    out.push(ty.wire_code() as u8);
    put_u32(out, len);
    out.push(flags);
}

/// The VoltTable column type rows of `ty` are encoded as. [`VoltType::of`] sends BOOLEAN as
/// TINYINT (VoltDB has no BOOLEAN column); a snapshot keeps the value class, so it uses
/// VoltDB's BOOLEAN type code, which the codec reads back as a boolean.
pub fn wire_type(ty: DataType) -> VoltType {
    match ty {
        DataType::Boolean => VoltType::Boolean,
        other => VoltType::of(other),
    }
}

/// VoltDB's FLOAT NULL on the wire (`voltrs_wire`'s codec reads any double at or below it
/// as NULL, as a Java client does).
const FLOAT_NULL: f64 = -1.7e308;

/// The bytes `v` takes in a VoltTable row as a column of type `ty`; `None` when the codec
/// could not bring it back unchanged: a value of another class, or one the codec reads as
/// its type's NULL (an integer at the bottom of its range, a FLOAT at or below -1.7E308,
/// TIMESTAMP `i64::MIN`).
pub fn cell_size(ty: DataType, v: &Value) -> Option<usize> {
    let in_range = |i: i64| ty.integer_range().is_some_and(|(lo, hi)| (lo..=hi).contains(&i));
    match (ty, v) {
        (DataType::TinyInt | DataType::Boolean, Value::Null) => Some(1),
        (DataType::SmallInt, Value::Null) => Some(2),
        (DataType::Integer | DataType::Null, Value::Null) => Some(4),
        (DataType::BigInt | DataType::Float | DataType::Timestamp, Value::Null) => Some(8),
        (DataType::Decimal, Value::Null) => Some(16),
        (DataType::Varchar { .. } | DataType::Varbinary { .. }, Value::Null) => Some(4),
        (DataType::TinyInt, Value::Integer(i)) if in_range(*i) => Some(1),
        (DataType::SmallInt, Value::Integer(i)) if in_range(*i) => Some(2),
        (DataType::Integer, Value::Integer(i)) if in_range(*i) => Some(4),
        (DataType::BigInt, Value::Integer(i)) if in_range(*i) => Some(8),
        (DataType::Float, Value::Float(f)) if f.is_nan() || *f > FLOAT_NULL => Some(8),
        (DataType::Decimal, Value::Decimal(_)) => Some(16),
        (DataType::Timestamp, Value::Timestamp(t)) if *t != i64::MIN => Some(8),
        (DataType::Boolean, Value::Boolean(_)) => Some(1),
        (DataType::Varchar { .. }, Value::Varchar(s)) => Some(4 + s.len()),
        (DataType::Varbinary { .. }, Value::Varbinary(b)) => Some(4 + b.len()),
        _ => None,
    }
}
