//! `math.random` for procedures: SplitMix64 seeded per transaction, with Lua 5.4's argument
//! rules, so every replica draws the same numbers.

use mlua::Value as LuaValue;

/// SplitMix64 (Steele, Lea, Flood 2014): a 64-bit state advanced by a constant, then mixed.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform value in `0..=n`, by rejection on the smallest all-ones mask covering `n`
    /// (no modulo bias), as Lua's `project` does.
    fn below_or_equal(&mut self, n: u64) -> u64 {
        // A one-value interval (`random(1)`, `random(m, m)`): no mask covers 0 (shifting by
        // 64 would overflow, and a wrapped full mask would loop until a draw of exactly 0).
        if n == 0 {
            return 0;
        }
        let mask = u64::MAX >> n.leading_zeros();
        loop {
            let r = self.next_u64() & mask;
            if r <= n {
                return r;
            }
        }
    }

    /// `math.random(...)` with Lua 5.4's rules: no argument → a float in [0, 1); `(m)` → an
    /// integer in [1, m]; `(m, n)` → an integer in [m, n]; `(0)` → a random 64-bit integer.
    pub(super) fn lua_random(&mut self, args: &[LuaValue]) -> Result<LuaValue, String> {
        let (low, high) = match args {
            [] => {
                // The top 53 bits scaled by 2^-53: every value in [0, 1) a double can hold evenly.
                let f = (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
                return Ok(LuaValue::Number(f));
            }
            [m] => {
                let m = integer_arg(m, 1)?;
                if m == 0 {
                    return Ok(LuaValue::Integer(self.next_u64() as i64));
                }
                (1, m)
            }
            [m, n] => (integer_arg(m, 1)?, integer_arg(n, 2)?),
            _ => return Err("bad argument to 'random' (wrong number of arguments)".into()),
        };
        if low > high {
            let position = if args.len() == 1 { 1 } else { 2 };
            return Err(format!("bad argument #{position} to 'random' (interval is empty)"));
        }
        let span = high.wrapping_sub(low) as u64;
        Ok(LuaValue::Integer(low.wrapping_add(self.below_or_equal(span) as i64)))
    }
}

/// An integer argument as Lua reads one: an integer, or a float with an integral value.
fn integer_arg(v: &LuaValue, position: usize) -> Result<i64, String> {
    match v {
        LuaValue::Integer(i) => Ok(*i),
        LuaValue::Number(f) if f.fract() == 0.0 && *f >= -9.223_372_036_854_776e18 && *f < 9.223_372_036_854_776e18 => {
            Ok(*f as i64)
        }
        LuaValue::Number(_) => Err(format!(
            "bad argument #{position} to 'random' (number has no integer representation)"
        )),
        other => Err(format!(
            "bad argument #{position} to 'random' (number expected, got {})",
            other.type_name()
        )),
    }
}
