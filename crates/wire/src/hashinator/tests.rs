//! Unit tests for [`super::Hashinator`]: reference vectors, ring layout,
//! config round trips and malformed configs.

use super::{DEFAULT_TOTAL_TOKENS, Hashinator, HashinatorError, MAX_PARTITIONS};

/// Builds raw config bytes from `(token, partition)` entries.
fn config(entries: &[(i32, i32)]) -> Vec<u8> {
    let count = i32::try_from(entries.len()).expect("test config fits in i32");
    let mut bytes = count.to_be_bytes().to_vec();
    for &(token, partition) in entries {
        bytes.extend_from_slice(&token.to_be_bytes());
        bytes.extend_from_slice(&partition.to_be_bytes());
    }
    bytes
}

/// Token counts per partition id.
fn loads(hashinator: &Hashinator) -> Vec<usize> {
    let mut loads = vec![0; hashinator.partition_count() as usize];
    for &(_, partition) in hashinator.ring() {
        loads[partition as usize] += 1;
    }
    loads
}

/// Partition column of the 8-partition default-ring table (rust-stack.md §3.6).
#[test]
fn eight_partition_default_ring_reference_table() {
    let ring = Hashinator::new(8);
    assert_eq!(ring.partition_for_integer(0), 2, "BIGINT 0");
    assert_eq!(ring.partition_for_integer(1), 6, "BIGINT 1");
    assert_eq!(ring.partition_for_integer(-1), 4, "BIGINT -1");
    assert_eq!(ring.partition_for_integer(i64::from(42i32)), 3, "INTEGER 42");
    assert_eq!(ring.partition_for_integer(123_456_789), 2, "BIGINT 123456789");
    assert_eq!(ring.partition_for_str(""), 6, "VARCHAR ''");
    assert_eq!(ring.partition_for_str("a"), 6, "VARCHAR 'a'");
    assert_eq!(ring.partition_for_str("hello"), 4, "VARCHAR 'hello'");
    assert_eq!(ring.partition_for_str("VoltDB"), 7, "VARCHAR 'VoltDB'");
    assert_eq!(ring.partition_for_str("Ünïcode"), 4, "VARCHAR 'Ünïcode'");
    assert_eq!(
        ring.partition_for_str("abcdefghijklmnopq"),
        0,
        "VARCHAR 'abcdefghijklmnopq'"
    );
}

/// The 4-entry ring example of voltdb-wire-protocol.md §9.
#[test]
fn four_entry_ring_example() {
    let hex = "00000004 80000000 00000000 c0000000 00000001 \
               00000000 00000002 40000000 00000003";
    let digits: Vec<u8> = hex.bytes().filter(u8::is_ascii_hexdigit).collect();
    let bytes: Vec<u8> = digits
        .chunks_exact(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair).expect("ascii hex");
            u8::from_str_radix(text, 16).expect("hex digit pair")
        })
        .collect();
    let ring = Hashinator::from_config_bytes(&bytes).expect("valid example config");
    assert_eq!(ring.ring(), &[(i32::MIN, 0), (-(1 << 30), 1), (0, 2), (1 << 30, 3)]);
    assert_eq!(ring.partition_count(), 4);
    assert_eq!(ring.partition_for_integer(5_551_234_567), 0, "BIGINT 5551234567");
    assert_eq!(ring.partition_for_integer(1), 2, "INTEGER 1");
    assert_eq!(ring.partition_for_str("hello"), 1, "'hello'");
    assert_eq!(ring.config_bytes(), bytes);
}

#[test]
fn partition_for_varbinary_and_token_boundaries() {
    let ring = Hashinator::from_config_bytes(&config(&[(i32::MIN, 0), (-5, 1), (10, 2)])).expect("valid config");
    assert_eq!(ring.partition_for_token(i32::MIN), 0);
    assert_eq!(ring.partition_for_token(-6), 0);
    assert_eq!(ring.partition_for_token(-5), 1);
    assert_eq!(ring.partition_for_token(9), 1);
    assert_eq!(ring.partition_for_token(10), 2);
    assert_eq!(ring.partition_for_token(i32::MAX), 2);
    // VARBINARY 000102 has token -1200447185, below -5.
    assert_eq!(ring.partition_for_bytes(&[0x00, 0x01, 0x02]), 0);
}

#[test]
fn default_ring_layout() {
    let ring = Hashinator::new(3);
    let entries = ring.ring();
    assert_eq!(entries.len(), DEFAULT_TOTAL_TOKENS as usize);
    assert_eq!(entries[0].0, i32::MIN);
    for (index, pair) in entries.windows(2).enumerate() {
        assert_eq!(
            i64::from(pair[1].0) - i64::from(pair[0].0),
            262_143,
            "interval after entry {index}"
        );
    }
    // Partition 0 gives away its lowest tokens first, so it keeps the top.
    assert_eq!(entries[entries.len() - 1].1, 0);
}

#[test]
fn single_partition_ring_maps_everything_to_zero() {
    let ring = Hashinator::new(1);
    assert_eq!(ring.partition_count(), 1);
    assert!(ring.ring().iter().all(|&(_, partition)| partition == 0));
    assert_eq!(ring.partition_for_str("VoltDB"), 0);
}

#[test]
fn default_ring_is_balanced_for_1_to_16_partitions() {
    for partitions in 1..=16 {
        let ring = Hashinator::new(partitions);
        assert_eq!(ring.partition_count(), partitions);
        let loads = loads(&ring);
        assert_eq!(loads.iter().sum::<usize>(), DEFAULT_TOTAL_TOKENS as usize);
        let max = loads.iter().max().copied().unwrap_or(0);
        let min = loads.iter().min().copied().unwrap_or(0);
        assert!(max - min <= 1, "{partitions} partitions: loads {loads:?}");
    }
}

#[test]
fn partition_count_limits() {
    assert_eq!(Hashinator::try_new(0), Err(HashinatorError::InvalidPartitionCount(0)));
    assert_eq!(
        Hashinator::try_new(MAX_PARTITIONS + 1),
        Err(HashinatorError::InvalidPartitionCount(MAX_PARTITIONS + 1))
    );
    assert_eq!(
        Hashinator::try_new(MAX_PARTITIONS).map(|ring| loads(&ring).len()),
        Ok(16_383)
    );
}

#[test]
#[should_panic(expected = "invalid partition count 0")]
fn new_panics_on_zero_partitions() {
    let _ = Hashinator::new(0);
}

#[test]
fn config_round_trip() {
    for partitions in [1, 2, 8, 13] {
        let ring = Hashinator::new(partitions);
        let bytes = ring.config_bytes();
        assert_eq!(bytes.len(), 4 + 8 * DEFAULT_TOTAL_TOKENS as usize);
        let parsed = Hashinator::from_config_bytes(&bytes).expect("own config parses");
        assert_eq!(parsed, ring);
        assert_eq!(parsed.config_bytes(), bytes);
    }
}

#[test]
fn sparse_partition_ids_count_distinct() {
    let ring = Hashinator::from_config_bytes(&config(&[(i32::MIN, 7), (0, 3), (5, 7)])).expect("valid config");
    assert_eq!(ring.partition_count(), 2);
}

#[test]
fn malformed_configs_are_rejected() {
    let valid = config(&[(i32::MIN, 0), (0, 1)]);
    let cases: Vec<(Vec<u8>, HashinatorError)> = vec![
        (vec![], HashinatorError::MissingCount { len: 0 }),
        (vec![0, 0, 1], HashinatorError::MissingCount { len: 3 }),
        (config(&[]), HashinatorError::NonPositiveCount(0)),
        ((-1i32).to_be_bytes().to_vec(), HashinatorError::NonPositiveCount(-1)),
        (
            valid[..valid.len() - 1].to_vec(),
            HashinatorError::LengthMismatch {
                count: 2,
                expected: 20,
                actual: 19,
            },
        ),
        (
            [valid.as_slice(), &[0]].concat(),
            HashinatorError::LengthMismatch {
                count: 2,
                expected: 20,
                actual: 21,
            },
        ),
        (
            i32::MAX.to_be_bytes().to_vec(),
            HashinatorError::LengthMismatch {
                count: i32::MAX,
                expected: 4 + 8 * i32::MAX as usize,
                actual: 4,
            },
        ),
        (config(&[(0, 0)]), HashinatorError::FirstTokenNotMin(0)),
        (
            config(&[(i32::MIN, 0), (5, 1), (5, 2)]),
            HashinatorError::TokensNotAscending {
                index: 2,
                previous: 5,
                token: 5,
            },
        ),
        (
            config(&[(i32::MIN, 0), (5, 1), (4, 2)]),
            HashinatorError::TokensNotAscending {
                index: 2,
                previous: 5,
                token: 4,
            },
        ),
        (
            config(&[(i32::MIN, 0), (5, -1)]),
            HashinatorError::NegativePartition {
                index: 1,
                partition: -1,
            },
        ),
    ];
    for (bytes, expected) in cases {
        let result = Hashinator::from_config_bytes(&bytes);
        assert_eq!(result, Err(expected.clone()), "config {bytes:02x?}");
        assert!(!expected.to_string().is_empty());
    }
}

/// The division used for evenly spaced rings finds the same entry as the binary search,
/// at every ring token, next to it, and at the ends of the token range.
#[test]
fn even_ring_lookup_matches_binary_search() {
    for partitions in [1, 2, 3, 8, 61] {
        let even = Hashinator::new(partitions);
        let searched = Hashinator {
            even_step: None,
            ..even.clone()
        };
        assert!(even.even_step.is_some(), "{partitions} partitions");
        let mut tokens = vec![i32::MIN, i32::MIN + 1, i32::MAX - 1, i32::MAX, 0, -1, 1];
        for &(token, _) in even.ring() {
            tokens.extend([token, token.saturating_sub(1), token.saturating_add(1)]);
        }
        for token in tokens {
            assert_eq!(
                even.partition_for_token(token),
                searched.partition_for_token(token),
                "{partitions} partitions, token {token}"
            );
        }
    }
    // A ring read from a config with uneven tokens keeps the binary search.
    let uneven = Hashinator::from_config_bytes(&config(&[(i32::MIN, 0), (-5, 1), (100, 2)])).expect("valid");
    assert!(uneven.even_step.is_none());
    assert_eq!(uneven.partition_for_token(-6), 0);
    assert_eq!(uneven.partition_for_token(-5), 1);
    assert_eq!(uneven.partition_for_token(i32::MAX), 2);
}
