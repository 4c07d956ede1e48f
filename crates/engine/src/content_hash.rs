//! Content hashes: one 64-bit digest per partition of everything it stores, independent of
//! row order and row ids, so two databases that ran the same invocations (replay, replicas,
//! the determinism tests) can be compared partition by partition.
//!
//! Each row is encoded canonically (a type tag, then the value's bytes: integers and
//! timestamps as 8 bytes little-endian, FLOAT as its bit pattern, DECIMAL as its 16-byte
//! scaled integer, strings and binaries length-prefixed) and hashed with MurmurHash3; a
//! table's digest is the wrapping sum of its rows' hashes with its row count, and a
//! partition's digest hashes its tables' (id, count, sum) in table-id order.

use voltrs_storage::{Partition, Value};
use voltrs_wire::murmur3::murmur3_x64_128;

fn encode(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.push(0),
        Value::Integer(i) => {
            out.push(1);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Float(f) => {
            out.push(2);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        Value::Decimal(d) => {
            out.push(3);
            out.extend_from_slice(&d.raw().to_le_bytes());
        }
        Value::Varchar(s) => {
            out.push(4);
            out.extend_from_slice(&(s.len() as u64).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        Value::Varbinary(b) => {
            out.push(5);
            out.extend_from_slice(&(b.len() as u64).to_le_bytes());
            out.extend_from_slice(b);
        }
        Value::Timestamp(t) => {
            out.push(6);
            out.extend_from_slice(&t.to_le_bytes());
        }
        Value::Boolean(b) => {
            out.push(7);
            out.push(u8::from(*b));
        }
    }
}

/// The digest of one partition's contents.
pub(crate) fn partition_hash(part: &Partition) -> u64 {
    let mut summary = Vec::new();
    let mut buf = Vec::new();
    for (id, table) in &part.tables {
        let mut sum = 0u64;
        let mut count = 0u64;
        let _ = table.for_each(|_, row| {
            buf.clear();
            for v in row {
                encode(v, &mut buf);
            }
            sum = sum.wrapping_add(murmur3_x64_128(&buf, 0).0);
            count += 1;
            Ok::<bool, voltrs_sql::error::Error>(true)
        });
        summary.extend_from_slice(&id.to_le_bytes());
        summary.extend_from_slice(&count.to_le_bytes());
        summary.extend_from_slice(&sum.to_le_bytes());
    }
    murmur3_x64_128(&summary, 0).0
}
