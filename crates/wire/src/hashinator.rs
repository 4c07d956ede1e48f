//! VoltDB's elastic hashinator: maps a partitioning value to a partition id.
//!
//! A value's hash bytes are hashed to a 32-bit token with
//! [`crate::murmur3::token`]; the token is then looked up on a sorted ring of
//! `(token, partition)` entries, and the value belongs to the partition of the
//! greatest ring token that is `<=` its token. The ring always starts at
//! `i32::MIN`, so every token has an owner and there is no wrap-around.
//!
//! Server and client must use the same ring: the server publishes it (as
//! [`Hashinator::config_bytes`], the `HASHCONFIG` of `@Statistics TOPO`) and
//! clients route single-partition calls with it.

use std::collections::BTreeSet;
use std::fmt;

use crate::murmur3;

/// Number of tokens on VoltDB's default elastic ring (`ELASTIC_TOTAL_TOKENS`).
pub const DEFAULT_TOTAL_TOKENS: u32 = 16_384;

/// Largest partition count the default ring supports (VoltDB requires fewer
/// partitions than tokens).
pub const MAX_PARTITIONS: u32 = DEFAULT_TOTAL_TOKENS - 1;

/// Spacing of the default ring's tokens: `i32::MAX / (16384 / 2)` = 262143.
const DEFAULT_TOKEN_INTERVAL: i64 = i32::MAX as i64 / (DEFAULT_TOTAL_TOKENS as i64 / 2);

/// Size of one serialized ring entry: `i32 token, i32 partition`.
const ENTRY_BYTES: usize = 8;

/// Size of the serialized entry count.
const COUNT_BYTES: usize = 4;

/// Why a ring configuration was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashinatorError {
    /// [`Hashinator::try_new`] was asked for 0 or more than
    /// [`MAX_PARTITIONS`] partitions.
    InvalidPartitionCount(u32),
    /// The config is shorter than its 4-byte entry count.
    MissingCount {
        /// Bytes actually present.
        len: usize,
    },
    /// The entry count is zero or negative.
    NonPositiveCount(i32),
    /// The byte length does not equal `4 + 8 * count`.
    LengthMismatch {
        /// Entry count read from the header.
        count: i32,
        /// Length implied by the count.
        expected: usize,
        /// Bytes actually present.
        actual: usize,
    },
    /// The first ring token is not `i32::MIN`.
    FirstTokenNotMin(i32),
    /// A token is not strictly greater than the one before it.
    TokensNotAscending {
        /// Index of the offending entry.
        index: usize,
        /// Token of the entry before it.
        previous: i32,
        /// The offending token.
        token: i32,
    },
    /// A partition id is negative.
    NegativePartition {
        /// Index of the offending entry.
        index: usize,
        /// The offending partition id.
        partition: i32,
    },
}

impl fmt::Display for HashinatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidPartitionCount(count) => write!(
                f,
                "invalid partition count {count}: must be between 1 and {MAX_PARTITIONS}"
            ),
            Self::MissingCount { len } => write!(
                f,
                "hashinator config too short: {len} bytes, need at least {COUNT_BYTES} for the entry count"
            ),
            Self::NonPositiveCount(count) => {
                write!(f, "hashinator config entry count must be positive, got {count}")
            }
            Self::LengthMismatch {
                count,
                expected,
                actual,
            } => write!(
                f,
                "hashinator config with {count} entries must be {expected} bytes, got {actual}"
            ),
            Self::FirstTokenNotMin(token) => {
                write!(f, "hashinator config must start at token {}, got {token}", i32::MIN)
            }
            Self::TokensNotAscending { index, previous, token } => write!(
                f,
                "hashinator config tokens must be strictly ascending: entry {index} has token {token} after {previous}"
            ),
            Self::NegativePartition { index, partition } => write!(
                f,
                "hashinator config entry {index} has negative partition id {partition}"
            ),
        }
    }
}

impl std::error::Error for HashinatorError {}

/// A VoltDB elastic hash ring: sorted `(token, partition)` entries whose first
/// token is `i32::MIN`.
///
/// **NULL handling is the caller's job:** a SQL NULL partitioning value
/// (including a type's NULL sentinel, e.g. BIGINT `i64::MIN`) goes to
/// partition 0 without hashing, as in VoltDB. The `partition_for_*` methods
/// always hash what they are given.
///
/// Hash bytes per type: TINYINT..BIGINT are widened to `i64` and hashed as 8
/// bytes little-endian ([`Hashinator::partition_for_integer`]), VARCHAR as its
/// UTF-8 bytes ([`Hashinator::partition_for_str`]), VARBINARY as its raw bytes
/// ([`Hashinator::partition_for_bytes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hashinator {
    /// Sorted by token, strictly ascending, first token `i32::MIN`.
    ring: Vec<(i32, u32)>,
    /// Number of distinct partition ids on the ring.
    partition_count: u32,
    /// The spacing of the tokens when they are evenly spaced from `i32::MIN` (every ring
    /// [`Hashinator::try_new`] builds): a token's entry is then found by a division instead
    /// of a binary search over 16384 entries.
    even_step: Option<i64>,
}

impl Hashinator {
    /// Builds VoltDB's default elastic ring for `partitions` partitions
    /// (`ElasticHashinator.getConfigureBytes(n, 16384)`).
    ///
    /// # Panics
    ///
    /// Panics if `partitions` is 0 or greater than [`MAX_PARTITIONS`]; use
    /// [`Hashinator::try_new`] when the count has not been validated.
    #[must_use]
    pub fn new(partitions: u32) -> Self {
        match Self::try_new(partitions) {
            Ok(hashinator) => hashinator,
            Err(error) => panic!("{error}"),
        }
    }

    /// Builds VoltDB's default elastic ring for `partitions` partitions, or
    /// fails if `partitions` is 0 or greater than [`MAX_PARTITIONS`].
    ///
    /// The ring has [`DEFAULT_TOTAL_TOKENS`] tokens spaced 262143 apart from
    /// `i32::MIN`, all first owned by partition 0. Each further partition is
    /// then balanced in as VoltDB's `Buckets.addPartitions` does: repeatedly
    /// the lowest token of the most-loaded partition (ties: higher id) moves
    /// to the least-loaded one (ties: lower id), until loads differ by at most
    /// one token.
    pub fn try_new(partitions: u32) -> Result<Self, HashinatorError> {
        if partitions == 0 || partitions > MAX_PARTITIONS {
            return Err(HashinatorError::InvalidPartitionCount(partitions));
        }
        let first_partition: BTreeSet<i32> = (0..i64::from(DEFAULT_TOTAL_TOKENS))
            .map(|index| i32::MIN as i64 + index * DEFAULT_TOKEN_INTERVAL)
            .filter_map(|token| i32::try_from(token).ok())
            .collect();
        // Ordered by (load, partition id): first = least loaded with the
        // lowest id, last = most loaded with the highest id (as VoltDB's
        // `LoadPair` ordering).
        let mut loads = BTreeSet::from([(first_partition.len(), 0u32)]);
        let mut tokens_by_partition = vec![first_partition];
        for new_partition in 1..partitions {
            tokens_by_partition.push(BTreeSet::new());
            loads.insert((0, new_partition));
            while let (Some(&most), Some(&least)) = (loads.last(), loads.first()) {
                if most.0 <= least.0 + 1 {
                    break;
                }
                // Indices come from `loads`, which only holds partitions
                // already pushed onto `tokens_by_partition`.
                let Some(token) = tokens_by_partition[most.1 as usize].pop_first() else {
                    break;
                };
                tokens_by_partition[least.1 as usize].insert(token);
                loads.remove(&most);
                loads.remove(&least);
                loads.insert((most.0 - 1, most.1));
                loads.insert((least.0 + 1, least.1));
            }
        }
        let mut ring: Vec<(i32, u32)> = (0..partitions)
            .zip(&tokens_by_partition)
            .flat_map(|(partition, tokens)| tokens.iter().map(move |&token| (token, partition)))
            .collect();
        ring.sort_unstable();
        Ok(Self::from_ring(ring, partitions))
    }

    /// Parses the raw `HASHCONFIG` form: big-endian
    /// `i32 count | count × (i32 token, i32 partition)`.
    ///
    /// Rejects a non-positive count, a length other than `4 + 8 * count`, a
    /// first token other than `i32::MIN`, tokens that are not strictly
    /// ascending, and negative partition ids.
    pub fn from_config_bytes(bytes: &[u8]) -> Result<Self, HashinatorError> {
        let (count_bytes, entries) = bytes
            .split_first_chunk::<COUNT_BYTES>()
            .ok_or(HashinatorError::MissingCount { len: bytes.len() })?;
        let count = i32::from_be_bytes(*count_bytes);
        let entry_count = usize::try_from(count)
            .ok()
            .filter(|&entry_count| entry_count > 0)
            .ok_or(HashinatorError::NonPositiveCount(count))?;
        let expected = entry_count
            .checked_mul(ENTRY_BYTES)
            .and_then(|entry_bytes| entry_bytes.checked_add(COUNT_BYTES));
        if expected != Some(bytes.len()) {
            return Err(HashinatorError::LengthMismatch {
                count,
                expected: expected.unwrap_or(usize::MAX),
                actual: bytes.len(),
            });
        }

        let mut ring = Vec::with_capacity(entry_count);
        let mut partitions = BTreeSet::new();
        for (index, entry) in entries.chunks_exact(ENTRY_BYTES).enumerate() {
            let (token_bytes, partition_bytes) = entry.split_at(ENTRY_BYTES / 2);
            let token = read_i32_be(token_bytes);
            let raw_partition = read_i32_be(partition_bytes);
            match ring.last() {
                None if token != i32::MIN => return Err(HashinatorError::FirstTokenNotMin(token)),
                Some(&(previous, _)) if token <= previous => {
                    return Err(HashinatorError::TokensNotAscending { index, previous, token });
                }
                _ => {}
            }
            let partition = u32::try_from(raw_partition).map_err(|_| HashinatorError::NegativePartition {
                index,
                partition: raw_partition,
            })?;
            partitions.insert(partition);
            ring.push((token, partition));
        }
        let partition_count = u32::try_from(partitions.len()).unwrap_or(u32::MAX);
        Ok(Self::from_ring(ring, partition_count))
    }

    /// A hashinator over a sorted ring whose first token is `i32::MIN`.
    fn from_ring(ring: Vec<(i32, u32)>, partition_count: u32) -> Self {
        let step = match ring.as_slice() {
            [(first, _), (second, _), ..] => i64::from(*second) - i64::from(*first),
            _ => 0,
        };
        let even = step > 0
            && ring
                .iter()
                .enumerate()
                .all(|(k, &(token, _))| i64::from(token) == i64::from(i32::MIN) + k as i64 * step);
        Self {
            ring,
            partition_count,
            even_step: even.then_some(step),
        }
    }

    /// Serializes the ring in the raw `HASHCONFIG` form read by
    /// [`Hashinator::from_config_bytes`].
    #[must_use]
    pub fn config_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(COUNT_BYTES + self.ring.len() * ENTRY_BYTES);
        // Rings come from `try_new` (16384 entries) or from a parsed i32 count.
        let count = i32::try_from(self.ring.len()).unwrap_or(i32::MAX);
        bytes.extend_from_slice(&count.to_be_bytes());
        for &(token, partition) in &self.ring {
            bytes.extend_from_slice(&token.to_be_bytes());
            // Partitions were non-negative i32s or come from a u32 below
            // MAX_PARTITIONS, so this never saturates.
            let partition = i32::try_from(partition).unwrap_or(i32::MAX);
            bytes.extend_from_slice(&partition.to_be_bytes());
        }
        bytes
    }

    /// The ring entries `(token, partition)`, sorted by token, first token
    /// `i32::MIN`.
    #[must_use]
    pub fn ring(&self) -> &[(i32, u32)] {
        &self.ring
    }

    /// Number of distinct partition ids on the ring.
    #[must_use]
    pub fn partition_count(&self) -> u32 {
        self.partition_count
    }

    /// Partition owning `token`: that of the greatest ring token `<= token`.
    #[must_use]
    pub fn partition_for_token(&self, token: i32) -> u32 {
        if let Some(step) = self.even_step {
            let index = ((i64::from(token) - i64::from(i32::MIN)) / step) as usize;
            let last = self.ring.len().saturating_sub(1);
            return self.ring.get(index.min(last)).map_or(0, |&(_, partition)| partition);
        }
        let after = self.ring.partition_point(|&(ring_token, _)| ring_token <= token);
        // `after >= 1` because the first ring token is i32::MIN.
        after
            .checked_sub(1)
            .and_then(|index| self.ring.get(index))
            .map_or(0, |&(_, partition)| partition)
    }

    /// Partition of a value given by its hash bytes (VARBINARY: raw bytes).
    #[must_use]
    pub fn partition_for_bytes(&self, bytes: &[u8]) -> u32 {
        self.partition_for_token(murmur3::token(bytes))
    }

    /// Partition of an integer value (TINYINT..BIGINT widened to `i64`),
    /// hashed as 8 bytes little-endian. NULL sentinels are the caller's.
    #[must_use]
    pub fn partition_for_integer(&self, value: i64) -> u32 {
        self.partition_for_bytes(&value.to_le_bytes())
    }

    /// Partition of a VARCHAR value, hashed as its UTF-8 bytes.
    #[must_use]
    pub fn partition_for_str(&self, value: &str) -> u32 {
        self.partition_for_bytes(value.as_bytes())
    }
}

/// Reads a big-endian `i32` from exactly 4 bytes (fewer bytes read as 0).
fn read_i32_be(bytes: &[u8]) -> i32 {
    bytes.first_chunk::<4>().map_or(0, |chunk| i32::from_be_bytes(*chunk))
}

#[cfg(test)]
mod tests;
