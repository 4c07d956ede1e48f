//! VoltDB voter's workload (`client/voter/PhoneCallGenerator.java`), with generated area
//! codes in place of VoltDB's fixed list of 305.
//!
//! A call: a random area code; phone = area code × 10^7 + uniform [0, 10^7). Each area code
//! has a favourite contestant chosen at start (contestant 1 with 30 % odds, else
//! |sin(i) · N| mod N + 1); a call votes for the favourite, or with odds ½ for a uniform
//! contestant in 1..N, and with odds 1/100 for contestant 999, which does not exist.

/// Number of area codes, as in VoltDB's voter.
pub const AREA_CODES: usize = 305;

/// The contestant an invalid vote names.
pub const INVALID_CONTESTANT: i64 = 999;

/// U.S. state codes the generated area codes are spread over.
const STATES: [&str; 51] = [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA",
    "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR",
    "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
];

/// The `i`-th area code (201, 202, ...: 305 three-digit codes) and its state.
pub fn area_code(i: usize) -> (i64, &'static str) {
    (201 + i as i64, STATES[i % STATES.len()])
}

/// A small, fast generator (SplitMix64): the benchmark needs speed, not quality.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// One vote: the caller's phone, its area code's index and the contestant voted for.
#[derive(Debug, Clone, Copy)]
pub struct Call {
    pub phone: i64,
    pub area: usize,
    pub contestant: i64,
}

/// Generates voter's calls.
pub struct Generator {
    rng: Rng,
    contestants: u64,
    favourite: Vec<i64>,
}

impl Generator {
    pub fn new(seed: u64, contestants: u64) -> Generator {
        let mut rng = Rng::new(seed);
        let favourite = (0..AREA_CODES)
            .map(|i| {
                if rng.below(100) < 30 {
                    1
                } else {
                    ((i as f64).sin() * contestants as f64).abs() as i64 % contestants as i64 + 1
                }
            })
            .collect();
        Generator {
            rng,
            contestants,
            favourite,
        }
    }

    pub fn next_call(&mut self) -> Call {
        let area = self.rng.below(AREA_CODES as u64) as usize;
        let phone = area_code(area).0 * 10_000_000 + self.rng.below(10_000_000) as i64;
        let contestant = if self.rng.below(100) == 0 {
            INVALID_CONTESTANT
        } else if self.rng.below(2) == 0 {
            self.rng.below(self.contestants) as i64 + 1
        } else {
            self.favourite[area]
        };
        Call {
            phone,
            area,
            contestant,
        }
    }
}
