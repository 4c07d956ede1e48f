//! `@GetPartitionKeys`: one key per partition that hashes to it, for every key type.

use voltrs_wire::Hashinator;

use super::*;
use crate::sysproc::partition_keys;

/// The partition the ring gives a key value.
fn partition_of(ring: &Hashinator, key: &Value) -> u32 {
    match key {
        Value::Integer(i) => ring.partition_for_integer(*i),
        Value::Varchar(s) => ring.partition_for_str(s),
        Value::Varbinary(b) => ring.partition_for_bytes(b),
        other => panic!("unexpected key {other:?}"),
    }
}

#[test]
fn every_partition_gets_a_key_that_hashes_to_it() {
    for partitions in [1u32, 2, 8] {
        let ring = Hashinator::new(partitions);
        for (ty, key_type) in [
            ("INTEGER", DataType::Integer),
            ("STRING", S),
            ("VARCHAR", S),
            ("VARBINARY", DataType::VARBINARY_MAX),
        ] {
            let t = partition_keys(ty, &ring).expect("supported type");
            assert_shape(&t, &[("PARTITION_ID", DataType::Integer), ("PARTITION_KEY", key_type)]);
            assert_eq!(t.rows.len(), partitions as usize, "{ty} at {partitions}");
            let mut seen = Vec::new();
            for row in &t.rows {
                let Value::Integer(id) = row[0] else {
                    panic!("PARTITION_ID is an integer: {row:?}");
                };
                let id = u32::try_from(id).expect("partition ids are non-negative");
                assert_eq!(partition_of(&ring, &row[1]), id, "{ty} key {:?}", row[1]);
                seen.push(id);
            }
            seen.sort_unstable();
            assert_eq!(seen, (0..partitions).collect::<Vec<_>>(), "{ty} at {partitions}");
        }
    }
}

#[test]
fn keys_are_the_first_candidates_found_in_discovery_order() {
    // One partition: candidate 0 of each type.
    let one = Hashinator::new(1);
    assert_eq!(
        project(
            &partition_keys("INTEGER", &one).expect("INTEGER"),
            &["PARTITION_ID", "PARTITION_KEY"]
        ),
        ["0|0"]
    );
    assert_eq!(
        project(&partition_keys("string", &one).expect("string"), &["PARTITION_KEY"]),
        ["0"]
    );
    assert_eq!(
        project(
            &partition_keys("varbinary", &one).expect("varbinary"),
            &["PARTITION_KEY"]
        ),
        ["00000000"]
    );

    // Eight partitions: each key is the smallest candidate reaching its partition, and the
    // rows come in increasing key order (the order partitions were reached).
    let ring = Hashinator::new(8);
    let t = partition_keys(" integer ", &ring).expect("integer");
    let keys: Vec<i64> = t
        .rows
        .iter()
        .map(|r| match r[1] {
            Value::Integer(k) => k,
            ref other => panic!("INTEGER key: {other:?}"),
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
    for (row, &key) in t.rows.iter().zip(&keys) {
        let mut earlier = (0..key).map(|k| ring.partition_for_integer(k));
        assert!(
            earlier.all(|p| Value::Integer(i64::from(p)) != row[0]),
            "{key} is the first key of its partition"
        );
    }
}

#[test]
fn unsupported_types_are_rejected_by_name() {
    let ring = Hashinator::new(2);
    for ty in ["BIGINT", "", "FLOAT"] {
        let err = partition_keys(ty, &ring).expect_err("unsupported");
        assert_eq!(
            err.to_string(),
            format!(
                "type \"{ty}\" is not a supported type of partition key: expected one of INTEGER, STRING, VARCHAR, \
                 VARBINARY"
            )
        );
    }
}
