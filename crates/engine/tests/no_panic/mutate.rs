//! Strategy B: valid seed statements mutated at token and character level.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------
// Strategy B: mutated seed statements
// ---------------------------------------------------------------------------------------

pub(crate) const SEEDS: &[&str] = &[
    "SELECT * FROM p",
    "SELECT id, s, d, f, t, b, ti FROM p WHERE id = 1",
    "SELECT COUNT(*), SUM(ti), AVG(f), MIN(t), MAX(s), MIN(d) FROM p",
    "SELECT s, COUNT(*) FROM p GROUP BY s HAVING COUNT(*) > 0 ORDER BY s LIMIT 10 OFFSET 1",
    "SELECT p.id, r.name FROM p JOIN r ON p.id = r.x WHERE r.amt > 0 ORDER BY p.id",
    "SELECT p.id, r.x FROM p LEFT JOIN r ON p.id = r.x ORDER BY 1, 2",
    "SELECT * FROM p WHERE id IN (SELECT x FROM r WHERE x < 10)",
    "SELECT * FROM p WHERE EXISTS (SELECT 1 FROM r WHERE r.x = p.id)",
    "SELECT id, (SELECT MAX(x) FROM r) FROM p WHERE s LIKE 'a%' ESCAPE '!'",
    "SELECT CASE WHEN d > 1 THEN 'big' WHEN d IS NULL THEN 'none' ELSE 'small' END FROM p",
    "SELECT ABS(ti), CEILING(d), FLOOR(f), ROUND(d, 2), MOD(id, 3), POWER(f, 2) FROM p WHERE id BETWEEN 0 AND 3",
    "SELECT SQRT(ABS(f)), EXP(1), LN(2), COALESCE(s, 'x'), DECODE(id, 1, 'one', 'other') FROM p",
    "SELECT SUBSTRING(s, 2, 3), CHAR_LENGTH(s), LOWER(s), UPPER(s), TRIM(s) FROM p",
    "SELECT LEFT(s, 2), RIGHT(s, 2), REPLACE(s, 'a', 'bb'), CONCAT(s, 'x', s), POSITION('a' IN s) FROM p",
    "SELECT EXTRACT(YEAR FROM t), DATEADD(DAY, 1, t), DATEDIFF(SECOND, t, NOW) FROM p WHERE id BETWEEN 0 AND 3",
    "SELECT TRUNCATE(MONTH, t), FORMAT_TIMESTAMP(t, '+01:00'), SINCE_EPOCH(MILLIS, t) FROM p",
    "SELECT TO_TIMESTAMP(SECOND, 86400), CAST(d AS VARCHAR(60)), CAST('12' AS INTEGER), CAST(ti AS DECIMAL) FROM p",
    "SELECT id, RANK() OVER (PARTITION BY s ORDER BY id DESC) FROM p",
    "SELECT id, ROW_NUMBER() OVER (ORDER BY d), COUNT(*) OVER (PARTITION BY ti) FROM p",
    "SELECT DISTINCT s FROM p UNION SELECT name FROM r ORDER BY 1",
    "SELECT id FROM p INTERSECT SELECT x FROM r",
    "SELECT id FROM p EXCEPT ALL SELECT x FROM r",
    "SELECT * FROM (SELECT id, s FROM p WHERE id > 0) AS sq WHERE sq.id < 100",
    "SELECT a.id, b.id FROM p a, p b WHERE a.id = b.id + 1",
    "SELECT s || s, -id, NOT (id > 1), id / 2, d * d, f / 2.0 FROM p WHERE id BETWEEN 0 AND 3",
    "SELECT * FROM p WHERE t BETWEEN '2000-01-01' AND NOW AND b = x'01'",
    "SELECT * FROM r WHERE name IS NOT NULL AND (x > 1 OR amt < 0) ORDER BY x DESC LIMIT 2",
    "SELECT MAX(id) FROM p WHERE id > 0 AND s <> ''",
    "INSERT INTO p VALUES (10, 'ten', 10.5, 1.5e10, '2010-10-10 10:10:10', x'0a', 10)",
    "INSERT INTO p (id, s) VALUES (11, 'x'), (12, NULL), (13, 'é')",
    "INSERT INTO r SELECT id + 100, s, d, t, f FROM p",
    "UPSERT INTO p (id, s, d) VALUES (1, 'up', 99.99)",
    "UPDATE p SET s = 'upd', d = d + 1 WHERE id > 0",
    "UPDATE p SET ti = ti + 100 WHERE id = 1",
    "UPDATE r SET amt = amt * 1000000000000000000000 WHERE x = 1",
    "DELETE FROM p WHERE s IS NULL",
    "DELETE FROM r WHERE x IN (SELECT id FROM p)",
    "DELETE FROM p WHERE id = 2 OR d < 0",
    "CREATE TABLE t1 (a INTEGER NOT NULL, b VARCHAR(10) DEFAULT 'x', PRIMARY KEY (a))",
    "ALTER TABLE p ADD COLUMN extra VARCHAR(4) DEFAULT 'abcd'",
    "CREATE INDEX ix1 ON p (s, ABS(id)) WHERE id > 0",
    "TRUNCATE TABLE r",
];

pub(crate) const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "NULL",
    "(",
    ")",
    ",",
    ".",
    "*",
    "+",
    "-",
    "/",
    "||",
    "=",
    "<",
    ">=",
    "<>",
    "IN",
    "EXISTS",
    "BETWEEN",
    "LIKE",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "GROUP BY",
    "HAVING",
    "ORDER BY",
    "LIMIT",
    "OFFSET",
    "UNION",
    "ALL",
    "DISTINCT",
    "JOIN",
    "ON",
    "LEFT",
    "INSERT",
    "INTO",
    "VALUES",
    "UPDATE",
    "SET",
    "DELETE",
    "CAST",
    "AS",
    "OVER",
    "PARTITION BY",
    "COUNT(*)",
    "?",
    "'x'",
    "''",
    "0",
    "-1",
    "9223372036854775808",
    "-9223372036854775808",
    "1e400",
    "99999999999999999999999999999999999999.9",
    "X'00'",
    "TIMESTAMP",
    "p",
    "r",
    "id",
    "s",
    "DECIMAL",
    "VARCHAR(1)",
    "TINYINT",
    "DEFAULT",
    "PRIMARY KEY",
    "ABS(",
    "DATEADD(",
    "\"",
    "'",
    "--",
    "/*",
    "$1",
    ":x",
    "@x",
    "[",
    "]",
];

pub(crate) const UNICODE: &[&str] = &[
    "é",
    "😀",
    "\u{0}",
    "\u{200b}",
    "\u{feff}",
    "\u{202e}",
    "𝔘",
    "ß",
    "İ",
    "ﬃ",
    "\u{301}",
    "中文",
    "\t",
    "\n",
    "\r",
    "\u{7f}",
    "\u{10ffff}",
    "\u{fffd}",
];

/// Replacements for words: names of this schema, unknown names, functions and keywords.
pub(crate) const WORD_SWAPS: &[&str] = &[
    "id",
    "s",
    "d",
    "f",
    "t",
    "b",
    "ti",
    "x",
    "name",
    "amt",
    "ts",
    "fl",
    "p",
    "r",
    "nope",
    "NULL",
    "ABS",
    "MOD",
    "SUBSTRING",
    "DATEADD",
    "COUNT",
    "SUM",
    "MIN",
    "DISTINCT",
    "ALL",
    "NOT",
    "AND",
    "OR",
    "DAY",
    "MICROS",
    "DESC",
    "TIMESTAMP",
    "VARBINARY",
    "DECIMAL",
];

/// Replacements for literals: extreme numbers, odd strings and NULL.
pub(crate) const LITERAL_SWAPS: &[&str] = &[
    "0",
    "-1",
    "127",
    "-128",
    "2147483647",
    "-2147483648",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "1e308",
    "1e309",
    "-0.0",
    "4.9e-324",
    "99999999999999999999999999999999999999",
    "0.0000000000001",
    "12345678901234567890123456789.1234567890123",
    "NULL",
    "''",
    "'x'",
    "'ééééééééé'",
    "'2020-13-45 99:99:99'",
    "'9999-12-31 23:59:59.999999'",
    "x'ff'",
    "TRUE",
    "?",
];

#[derive(Debug, Clone)]
pub(crate) enum Mutation {
    DeleteToken(Index),
    DuplicateToken(Index),
    SwapTokens(Index, Index),
    InsertKeyword(Index, &'static str),
    ReplaceToken(Index, &'static str),
    ReplaceWord(Index, &'static str),
    ReplaceLiteral(Index, &'static str),
    Truncate(Index),
    InsertUnicode(Index, String),
    DeleteChar(Index),
    DuplicateChar(Index),
    ReplaceChar(Index, char),
}

pub(crate) fn mutation() -> BoxedStrategy<Mutation> {
    let unicode = prop_oneof![select(UNICODE).prop_map(str::to_string), "\\PC{1,3}".boxed()];
    prop_oneof![
        2 => any::<Index>().prop_map(Mutation::DeleteToken),
        2 => any::<Index>().prop_map(Mutation::DuplicateToken),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapTokens(a, b)),
        3 => (any::<Index>(), select(KEYWORDS)).prop_map(|(i, k)| Mutation::InsertKeyword(i, k)),
        2 => (any::<Index>(), select(KEYWORDS)).prop_map(|(i, k)| Mutation::ReplaceToken(i, k)),
        5 => (any::<Index>(), select(WORD_SWAPS)).prop_map(|(i, w)| Mutation::ReplaceWord(i, w)),
        5 => (any::<Index>(), select(LITERAL_SWAPS)).prop_map(|(i, l)| Mutation::ReplaceLiteral(i, l)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), unicode).prop_map(|(i, u)| Mutation::InsertUnicode(i, u)),
        1 => any::<Index>().prop_map(Mutation::DeleteChar),
        1 => any::<Index>().prop_map(Mutation::DuplicateChar),
        1 => (any::<Index>(), any::<char>()).prop_map(|(i, c)| Mutation::ReplaceChar(i, c)),
    ]
    .boxed()
}

/// Splits SQL into words, quoted strings, single punctuation characters and whitespace.
pub(crate) fn tokens(sql: &str) -> Vec<String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c == '\'' || c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += 1;
            }
            i = (i + 1).min(chars.len());
        } else if c.is_alphanumeric() || c == '_' {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                i += 1;
            }
        } else if c.is_whitespace() {
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
        } else {
            i += 1;
        }
        out.push(chars[start..i].iter().collect());
    }
    out
}

/// Positions of the tokens that satisfy `keep`.
pub(crate) fn positions(toks: &[String], keep: impl Fn(&str) -> bool) -> Vec<usize> {
    toks.iter()
        .enumerate()
        .filter(|(_, t)| keep(t))
        .map(|(i, _)| i)
        .collect()
}

pub(crate) fn apply_mutation(sql: &str, m: &Mutation) -> String {
    let mut toks = tokens(sql);
    let mut chars: Vec<char> = sql.chars().collect();
    // Token operations pick among the non-blank tokens.
    let solid = positions(&toks, |t| !t.trim().is_empty());
    let words = positions(&toks, |t| t.starts_with(|c: char| c.is_alphabetic() || c == '_'));
    let literals = positions(&toks, |t| t.starts_with(|c: char| c.is_ascii_digit() || c == '\''));
    match m {
        Mutation::DeleteToken(i) if !solid.is_empty() => {
            toks.remove(solid[i.index(solid.len())]);
        }
        Mutation::DuplicateToken(i) if !solid.is_empty() => {
            let at = solid[i.index(solid.len())];
            let t = toks[at].clone();
            toks.insert(at, format!("{t} "));
        }
        Mutation::SwapTokens(a, b) if !solid.is_empty() => {
            toks.swap(solid[a.index(solid.len())], solid[b.index(solid.len())]);
        }
        Mutation::InsertKeyword(i, k) => {
            let at = i.index(toks.len() + 1);
            toks.insert(at, format!(" {k} "));
        }
        Mutation::ReplaceToken(i, k) if !solid.is_empty() => {
            toks[solid[i.index(solid.len())]] = k.to_string();
        }
        // Keeps the statement's leading keyword, so the statement kind survives.
        Mutation::ReplaceWord(i, w) if words.len() > 1 => {
            toks[words[1 + i.index(words.len() - 1)]] = w.to_string();
        }
        Mutation::ReplaceLiteral(i, l) if !literals.is_empty() => {
            toks[literals[i.index(literals.len())]] = l.to_string();
        }
        Mutation::Truncate(i) => {
            chars.truncate(i.index(chars.len() + 1));
            return chars.into_iter().collect();
        }
        Mutation::InsertUnicode(i, u) => {
            let at = i.index(chars.len() + 1);
            chars.splice(at..at, u.chars());
            return chars.into_iter().collect();
        }
        Mutation::DeleteChar(i) if !chars.is_empty() => {
            chars.remove(i.index(chars.len()));
            return chars.into_iter().collect();
        }
        Mutation::DuplicateChar(i) if !chars.is_empty() => {
            let at = i.index(chars.len());
            chars.insert(at, chars[at]);
            return chars.into_iter().collect();
        }
        Mutation::ReplaceChar(i, c) if !chars.is_empty() => {
            let at = i.index(chars.len());
            chars[at] = *c;
            return chars.into_iter().collect();
        }
        _ => {}
    }
    toks.concat()
}

pub(crate) fn mutated_statement() -> BoxedStrategy<String> {
    (select(SEEDS), vec(mutation(), 1..4))
        .prop_map(|(seed, mutations)| {
            mutations
                .iter()
                .fold(seed.to_string(), |sql, m| apply_mutation(&sql, m))
        })
        .boxed()
}
