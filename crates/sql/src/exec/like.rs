//! SQL `LIKE` matching by characters: `%` matches any run, `_` exactly one character, and the
//! escape character makes the next pattern character literal.
//!
//! The matcher is the greedy two-pointer wildcard algorithm: it backtracks only to the most
//! recent `%`, so it runs in O(text × pattern) time at worst and never recurses.

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(char),
    /// `_`
    One,
    /// `%` (consecutive ones are merged)
    Many,
}

/// Whether `text` matches `pattern`. An error when the pattern ends with the escape character.
pub(super) fn like(text: &str, pattern: &str, escape: Option<char>) -> Result<bool> {
    let toks = compile(pattern, escape)?;
    let chars: Vec<char> = text.chars().collect();
    Ok(matches(&chars, &toks))
}

fn compile(pattern: &str, escape: Option<char>) -> Result<Vec<Tok>> {
    let mut toks = Vec::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        let tok = if Some(c) == escape {
            match chars.next() {
                Some(next) => Tok::Lit(next),
                None => {
                    return Err(Error::Invalid(format!(
                        "LIKE pattern '{pattern}' must not end with the escape character"
                    )));
                }
            }
        } else if c == '%' {
            if toks.last() == Some(&Tok::Many) {
                continue;
            }
            Tok::Many
        } else if c == '_' {
            Tok::One
        } else {
            Tok::Lit(c)
        };
        toks.push(tok);
    }
    Ok(toks)
}

fn matches(text: &[char], pat: &[Tok]) -> bool {
    let (mut t, mut p) = (0usize, 0usize);
    // After a `%`: the pattern position just past it and the text position it now covers up to.
    let mut resume: Option<(usize, usize)> = None;
    while let Some(&c) = text.get(t) {
        match pat.get(p) {
            Some(Tok::Many) => {
                resume = Some((p + 1, t));
                p += 1;
                continue;
            }
            Some(Tok::One) => {
                t += 1;
                p += 1;
                continue;
            }
            Some(Tok::Lit(l)) if *l == c => {
                t += 1;
                p += 1;
                continue;
            }
            _ => {}
        }
        // Mismatch: let the last `%` swallow one more character, or fail.
        match resume {
            Some((rp, rt)) => {
                p = rp;
                t = rt + 1;
                resume = Some((rp, rt + 1));
            }
            None => return false,
        }
    }
    pat.get(p..).is_some_and(|rest| rest.iter().all(|t| *t == Tok::Many))
}

#[cfg(test)]
mod tests {
    use super::like;

    #[test]
    fn exec_like_basics() {
        let m = |t: &str, p: &str| like(t, p, None).unwrap_or(false);
        assert!(m("", ""));
        assert!(m("", "%"));
        assert!(!m("", "_"));
        assert!(m("abc", "abc"));
        assert!(m("abc", "a%"));
        assert!(m("abc", "%c"));
        assert!(m("abc", "%b%"));
        assert!(m("abc", "a_c"));
        assert!(!m("abc", "a_"));
        assert!(!m("abc", "ab"));
        assert!(m("aXbXc", "a%b%c"));
        assert!(!m("acb", "a%b%c"));
        assert!(m("mississippi", "%iss%ppi"));
        assert!(m("héllo", "h_llo"));
        assert!(m("ab", "%%%ab%%"));
    }
}
