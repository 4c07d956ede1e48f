//! `@GetPartitionKeys(type)`: one value per partition that hashes to it, so a client can
//! run a procedure once on every partition (`VoltClient.call_all_partitions`, the Java
//! `callAllPartitionProcedure`).
//!
//! Source: VoltDB `TheHashinator.getSupplierForType` and `ClientInterface`'s dispatch of
//! `@GetPartitionKeys` (2022). The type is trimmed and upper-cased; `INTEGER`, `STRING` (or
//! `VARCHAR`) and `VARBINARY` are accepted. Candidates are tried in order `i = 0, 1, 2, ...`
//! (at most 500000): the integer `i`, the string of its decimal digits, or its 4 bytes
//! big-endian; each partition keeps the first candidate that lands on it, and rows come in
//! the order partitions were found (not sorted by partition), as in VoltDB.

use std::collections::BTreeSet;

use voltrs_storage::{DataType, Value};
use voltrs_wire::Hashinator;

use super::{STRING, columns, int};
use crate::{Error, ResultTable};

/// How many candidates VoltDB tries before giving up on unreached partitions.
const MAX_CANDIDATES: u32 = 500_000;

/// The key types `@GetPartitionKeys` accepts.
pub const TYPES: &[&str] = &["INTEGER", "STRING", "VARCHAR", "VARBINARY"];

/// `PARTITION_ID INTEGER, PARTITION_KEY <type>`: one row per partition of `hashinator`, each
/// key hashing to its partition.
pub fn partition_keys(ty: &str, hashinator: &Hashinator) -> Result<ResultTable, Error> {
    let kind = ty.trim().to_ascii_uppercase();
    let key_type = match kind.as_str() {
        "INTEGER" => DataType::Integer,
        "STRING" | "VARCHAR" => STRING,
        "VARBINARY" => DataType::VARBINARY_MAX,
        _ => {
            return Err(Error::Invalid(format!(
                "type \"{ty}\" is not a supported type of partition key: expected one of {}",
                TYPES.join(", ")
            )));
        }
    };
    // Every partition id on the ring (VoltDB `pGetPartitions`).
    let mut missing: BTreeSet<u32> = hashinator.ring().iter().map(|&(_, p)| p).collect();
    let mut rows = Vec::with_capacity(missing.len());
    for i in 0..MAX_CANDIDATES {
        if missing.is_empty() {
            break;
        }
        let (partition, key) = match key_type {
            DataType::Integer => (hashinator.partition_for_integer(i64::from(i)), int(i)),
            DataType::Varbinary { .. } => {
                let bytes = i.to_be_bytes();
                (hashinator.partition_for_bytes(&bytes), Value::bytes(&bytes))
            }
            _ => {
                let s = i.to_string();
                (hashinator.partition_for_str(&s), Value::str(&s))
            }
        };
        if missing.remove(&partition) {
            rows.push(vec![int(partition), key]);
        }
    }
    Ok(ResultTable {
        columns: columns(&[("PARTITION_ID", DataType::Integer), ("PARTITION_KEY", key_type)]),
        rows,
    })
}
