//! MurmurHash3 x64_128, the hash behind VoltDB's partition tokens.
//!
//! This is a straight port of the canonical C implementation
//! (`MurmurHash3_x64_128` in Austin Appleby's `MurmurHash3.cpp`): blocks of 16
//! bytes are read as two little-endian `u64`s, and the 1..=15 tail bytes are
//! treated as **unsigned** (VoltDB patched its Java port to match this).
//!
//! VoltDB hashes with seed 0 and keeps only the high 32 bits of the first
//! 64-bit half (`h1`) as the partition token; see [`token`].

/// First multiplication constant of MurmurHash3 x64_128.
const C1: u64 = 0x87c3_7b91_1142_53d5;
/// Second multiplication constant of MurmurHash3 x64_128.
const C2: u64 = 0x4cf5_ad43_2745_937f;

/// Hashes `bytes` with MurmurHash3 x64_128 and returns `(h1, h2)`.
///
/// `h1` is the first 64-bit half of the 128-bit result (the low half of the
/// `u128` some crates return), `h2` the second. Does not allocate.
///
/// VoltDB always uses `seed = 0`.
#[must_use]
pub fn murmur3_x64_128(bytes: &[u8], seed: u32) -> (u64, u64) {
    let mut h1 = u64::from(seed);
    let mut h2 = u64::from(seed);

    let mut blocks = bytes.chunks_exact(16);
    for block in &mut blocks {
        let (k1_bytes, k2_bytes) = block.split_at(8);
        let k1 = read_u64_le(k1_bytes);
        let k2 = read_u64_le(k2_bytes);

        h1 ^= mix_k1(k1);
        h1 = h1.rotate_left(27).wrapping_add(h2);
        h1 = h1.wrapping_mul(5).wrapping_add(0x52dc_e729);

        h2 ^= mix_k2(k2);
        h2 = h2.rotate_left(31).wrapping_add(h1);
        h2 = h2.wrapping_mul(5).wrapping_add(0x3849_5ab5);
    }

    // Tail: up to 15 bytes, little-endian, unsigned. Bytes 0..8 go to k1 and
    // bytes 8..15 to k2. Mixing a zero k is a no-op, so running both mixes
    // unconditionally matches the C switch fall-through exactly.
    let tail = blocks.remainder();
    let (tail_k1, tail_k2) = tail.split_at(tail.len().min(8));
    h2 ^= mix_k2(read_u64_le(tail_k2));
    h1 ^= mix_k1(read_u64_le(tail_k1));

    // Finalization. `usize` is at most 64 bits on every supported target.
    let length = bytes.len() as u64;
    h1 ^= length;
    h2 ^= length;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (h1, h2)
}

/// VoltDB's 32-bit partition token for `bytes`: `(int)(h1 >>> 32)` of
/// MurmurHash3 x64_128 with seed 0.
///
/// The bytes are the value's hash bytes (integers widened to 8 bytes
/// little-endian, strings as UTF-8, varbinary raw); see
/// [`crate::Hashinator`].
#[must_use]
pub fn token(bytes: &[u8]) -> i32 {
    let (h1, _h2) = murmur3_x64_128(bytes, 0);
    // Reinterpret the high 32 bits as a signed int, as Java's `(int)` does.
    (h1 >> 32) as u32 as i32
}

/// Reads up to 8 bytes as an unsigned little-endian integer (missing high
/// bytes are zero).
fn read_u64_le(bytes: &[u8]) -> u64 {
    bytes.iter().rev().fold(0u64, |acc, &byte| (acc << 8) | u64::from(byte))
}

/// Scrambles a k1 word before it is folded into h1.
fn mix_k1(k1: u64) -> u64 {
    k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2)
}

/// Scrambles a k2 word before it is folded into h2.
fn mix_k2(k2: u64) -> u64 {
    k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1)
}

/// MurmurHash3's 64-bit finalization mix (avalanche).
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

#[cfg(test)]
mod tests {
    use super::{murmur3_x64_128, token};
    use proptest::prelude::*;
    use std::io::Cursor;

    /// Known-answer tokens from the reference docs (rust-stack.md §3.6 and
    /// voltdb-wire-protocol.md §9).
    #[test]
    fn known_answer_tokens() {
        let cases: &[(&[u8], i32)] = &[
            (&0i64.to_le_bytes(), 685_728_695),
            (&1i64.to_le_bytes(), 4_457_399),
            (&(-1i64).to_le_bytes(), -1_595_624_838),
            (&42i64.to_le_bytes(), -1_230_191_719),
            (&123_456_789i64.to_le_bytes(), 636_466_778),
            (&5_551_234_567i64.to_le_bytes(), -1_381_700_295),
            (b"", 0),
            (b"a", -2_058_005_147),
            (b"hello", -874_993_741),
            (b"VoltDB", -560_481_132),
            ("Ünïcode".as_bytes(), -1_606_301_344),
            ("héllo".as_bytes(), 1_311_865_617),
            (b"abcdefghijklmnopq", 1_969_517_695),
            (b"0123456789abcdefXYZ", -1_714_195_198),
            (&[0x00, 0x01, 0x02], -1_200_447_185),
        ];
        for &(bytes, expected) in cases {
            assert_eq!(token(bytes), expected, "token of {bytes:02x?}");
        }
    }

    /// The hash bytes listed in the reference tables are what we feed in.
    #[test]
    fn integer_hash_bytes_match_reference() {
        assert_eq!(123_456_789i64.to_le_bytes(), [0x15, 0xcd, 0x5b, 0x07, 0, 0, 0, 0]);
        assert_eq!(5_551_234_567i64.to_le_bytes(), [0x07, 0x1e, 0xe1, 0x4a, 0x01, 0, 0, 0]);
        assert_eq!(
            "Ünïcode".as_bytes(),
            [0xc3, 0x9c, 0x6e, 0xc3, 0xaf, 0x63, 0x6f, 0x64, 0x65]
        );
    }

    #[test]
    fn empty_input_with_seed_zero_is_zero() {
        assert_eq!(murmur3_x64_128(b"", 0), (0, 0));
    }

    /// Our `(h1, h2)` in the `murmur3` crate's `u128` layout.
    fn as_u128(bytes: &[u8]) -> u128 {
        let (h1, h2) = murmur3_x64_128(bytes, 0);
        (u128::from(h2) << 64) | u128::from(h1)
    }

    /// Reference result from the `murmur3` crate.
    fn reference_u128(bytes: &[u8]) -> u128 {
        murmur3::murmur3_x64_128(&mut Cursor::new(bytes), 0).expect("in-memory read cannot fail")
    }

    #[test]
    fn every_tail_length_matches_reference_crate() {
        // High-bit bytes check that tail bytes are treated as unsigned.
        let data: Vec<u8> = (0u8..=80).map(|i| i.wrapping_mul(37) | 0x80).collect();
        for len in 0..=data.len() {
            let bytes = &data[..len];
            assert_eq!(as_u128(bytes), reference_u128(bytes), "length {len}");
        }
    }

    proptest! {
        #[test]
        fn token_matches_reference_crate(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let reference = reference_u128(&bytes);
            let reference_token = ((reference as u64) >> 32) as u32 as i32;
            prop_assert_eq!(token(&bytes), reference_token);
            prop_assert_eq!(as_u128(&bytes), reference);
        }
    }
}
