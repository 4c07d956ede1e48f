//! Strategy A, typed half: well-typed expressions over p's columns, so that a good share
//! of generated statements binds and runs; and the mix of all generated statements.

#[allow(unused_imports)]
use super::*;

// A typed grammar over p's columns: expressions of each type (numeric, string, timestamp,
// boolean) built from each other, so that many statements bind and actually execute.

#[derive(Debug, Clone)]
pub(crate) struct Typed {
    num: String,
    text: String,
    ts: String,
    cond: String,
}

pub(crate) const NUM_LEAVES: &[&str] = &[
    "id",
    "ti",
    "d",
    "f",
    "0",
    "1",
    "-1",
    "2",
    "3",
    "7",
    "127",
    "-128",
    "2147483647",
    "-2147483647",
    "9223372036854775807",
    "-9223372036854775807",
    "1.5",
    "-0.25",
    "1e10",
    "1e308",
    "0.000000000001",
    "99999999999999999999999999.999999999999",
    "NULL",
];
pub(crate) const TEXT_LEAVES: &[&str] = &[
    "s",
    "'a'",
    "''",
    "'it''s'",
    "'é😀'",
    "'ABCDEFGHIJ'",
    "'%'",
    "'a_c'",
    "' pad '",
    "NULL",
];
pub(crate) const TS_LEAVES: &[&str] = &[
    "t",
    "NOW",
    "CURRENT_TIMESTAMP",
    "TIMESTAMP '2020-01-01 00:00:00'",
    "CAST('1583-01-01 00:00:00' AS TIMESTAMP)",
    "TIMESTAMP '9999-12-31 23:59:59.999999'",
    "TIMESTAMP '1970-01-01 00:00:00'",
    "NULL",
];
pub(crate) const COND_LEAVES: &[&str] = &[
    "TRUE",
    "FALSE",
    "id > 0",
    "s IS NULL",
    "d < 0",
    "t > '2000-01-01 00:00:00'",
    "ti = 1",
    "NULL",
];
pub(crate) const SMALL_UNITS: &[&str] = &[
    "YEAR",
    "QUARTER",
    "MONTH",
    "WEEK",
    "DAY",
    "HOUR",
    "MINUTE",
    "SECOND",
    "MILLISECOND",
    "MICROSECOND",
];

pub(crate) fn combine_num(i: u8, a: &Typed, b: &Typed, n: i64, unit: &str) -> String {
    let (x, y) = (&a.num, &b.num);
    match i % 24 {
        0 => format!("({x} + {y})"),
        1 => format!("({x} - {y})"),
        2 => format!("({x} * {y})"),
        3 => format!("({x} / {y})"),
        4 => format!("-({x})"),
        5 => format!("ABS({x})"),
        6 => format!("ROUND({x}, {})", n % 14),
        7 => format!("MOD(CAST({x} AS BIGINT), {n})"),
        8 => format!("CEILING({x})"),
        9 => format!("FLOOR({x})"),
        10 => format!("POWER({x}, {})", n % 5),
        11 => format!("SQRT(ABS({x}))"),
        12 => format!("CHAR_LENGTH({})", a.text),
        13 => format!("EXTRACT({unit} FROM {})", a.ts),
        14 => format!("SINCE_EPOCH({unit}, {})", a.ts),
        15 => format!("DATEDIFF({unit}, {}, {})", a.ts, b.ts),
        16 => format!("COALESCE({x}, {y})"),
        17 => format!("CASE WHEN {} THEN {x} ELSE {y} END", a.cond),
        18 => format!("POSITION({} IN {})", a.text, b.text),
        19 => format!("(SELECT COUNT(*) FROM r WHERE r.x > {x})"),
        20 => format!(
            "CAST({x} AS {})",
            ["INTEGER", "TINYINT", "BIGINT", "FLOAT", "DECIMAL"][(n as usize) % 5]
        ),
        21 => format!("EXP({x})"),
        22 => format!("LN({x})"),
        _ => format!("DECODE({x}, 1, {y}, 2, {x}, {y})"),
    }
}

pub(crate) fn combine_text(i: u8, a: &Typed, b: &Typed, n: i64) -> String {
    let (x, y) = (&a.text, &b.text);
    match i % 14 {
        0 => format!("({x} || {y})"),
        1 => format!("LOWER({x})"),
        2 => format!("UPPER({x})"),
        3 => format!("TRIM({x})"),
        4 => format!("SUBSTRING({x}, {}, {})", n % 5, n % 7),
        5 => format!("LEFT({x}, {})", n % 6),
        6 => format!("RIGHT({x}, {})", n % 6),
        7 => format!("REPLACE({x}, {y}, 'zz')"),
        8 => format!("CONCAT({x}, {y}, {x})"),
        9 => format!("CAST({} AS VARCHAR(60))", a.num),
        10 => format!("FORMAT_TIMESTAMP({}, '+01:00')", a.ts),
        11 => format!("COALESCE({x}, {y})"),
        12 => format!("CASE WHEN {} THEN {x} ELSE {y} END", a.cond),
        _ => format!("TRIM(LEADING {y} FROM {x})"),
    }
}

pub(crate) fn combine_ts(i: u8, a: &Typed, b: &Typed, n: i64, unit: &str) -> String {
    match i % 6 {
        0 => format!("DATEADD({unit}, {n}, {})", a.ts),
        1 => format!("TRUNCATE({unit}, {})", a.ts),
        2 => format!("TO_TIMESTAMP({unit}, CAST({} AS BIGINT))", a.num),
        3 => format!("COALESCE({}, {})", a.ts, b.ts),
        4 => format!("CAST({} AS TIMESTAMP)", a.text),
        _ => format!("DATEADD({unit}, CAST({} AS INTEGER), {})", a.num, b.ts),
    }
}

pub(crate) fn combine_cond(i: u8, a: &Typed, b: &Typed, op: &str) -> String {
    match i % 14 {
        0 => format!("{} {op} {}", a.num, b.num),
        1 => format!("{} {op} {}", a.text, b.text),
        2 => format!("{} {op} {}", a.ts, b.ts),
        3 => format!("({} AND {})", a.cond, b.cond),
        4 => format!("({} OR {})", a.cond, b.cond),
        5 => format!("NOT ({})", a.cond),
        6 => format!("{} IS NULL", a.num),
        7 => format!("{} LIKE {}", a.text, b.text),
        8 => format!("{} BETWEEN {} AND {}", a.num, b.num, a.num),
        9 => format!("{} IN ({}, {}, 1)", a.num, b.num, a.num),
        10 => format!("EXISTS (SELECT 1 FROM r WHERE r.x = {})", a.num),
        11 => format!("{} IN (SELECT x FROM r WHERE {} {op} r.x)", a.num, b.num),
        12 => format!("{} IS NOT NULL", a.text),
        _ => format!("{} {op} ALL (SELECT x FROM r)", a.num),
    }
}

pub(crate) fn typed() -> BoxedStrategy<Typed> {
    let leaf = (pick(NUM_LEAVES), pick(TEXT_LEAVES), pick(TS_LEAVES), pick(COND_LEAVES))
        .prop_map(|(num, text, ts, cond)| Typed { num, text, ts, cond });
    leaf.prop_recursive(3, 16, 2, |inner| {
        (
            inner.clone(),
            inner,
            any::<[u8; 4]>(),
            -3i64..40,
            select(SMALL_UNITS),
            select(&["=", "<>", "<", "<=", ">", ">="][..]),
        )
            .prop_map(|(a, b, [i, j, k, l], n, unit, op)| Typed {
                num: combine_num(i, &a, &b, n, unit),
                text: combine_text(j, &a, &b, n),
                ts: combine_ts(k, &a, &b, n, unit),
                cond: combine_cond(l, &a, &b, op),
            })
    })
    .boxed()
}

pub(crate) fn typed_statement() -> BoxedStrategy<String> {
    (
        typed(),
        any::<u8>(),
        -2i64..5,
        pick(&["ASC", "DESC"]),
        pick(&["SUM", "MIN", "MAX", "AVG", "COUNT"]),
    )
        .prop_map(|(e, kind, n, dir, agg)| {
            let Typed { num, text, ts, cond } = e;
            match kind % 14 {
                0 | 1 => format!("SELECT id, {num}, {text}, {ts} FROM p WHERE {cond} ORDER BY id {dir}"),
                2 => format!("SELECT DISTINCT {text} FROM p WHERE {cond} ORDER BY 1 LIMIT {n}"),
                3 => format!(
                    "SELECT {text}, {agg}({num}), COUNT(*) FROM p WHERE {cond} GROUP BY {text} \
                     HAVING COUNT(*) > {n} ORDER BY 1 {dir}"
                ),
                4 => format!("SELECT {agg}({num}), MIN({ts}), MAX({text}) FROM p WHERE {cond}"),
                5 => format!(
                    "SELECT id, RANK() OVER (PARTITION BY ti ORDER BY {num} {dir}), \
                     {agg}(f) OVER (PARTITION BY {text}) FROM p"
                ),
                6 => format!(
                    "SELECT p.id, r.x, {num} FROM p LEFT JOIN r ON p.id = r.x AND {cond} ORDER BY 1, 2 \
                     LIMIT {n} OFFSET 1"
                ),
                7 => format!("SELECT * FROM (SELECT id, {num} AS v FROM p WHERE {cond}) AS sq ORDER BY id"),
                8 => format!(
                    "INSERT INTO p (id, s, d, f, t, ti) SELECT id + {}, {text}, {num}, {num}, {ts}, ti \
                     FROM p WHERE {cond}",
                    n * 1000 + 17
                ),
                9 => format!("UPSERT INTO p (id, s, d) SELECT id, {text}, {num} FROM p WHERE {cond}"),
                10 => format!("UPDATE p SET s = {text}, d = {num}, t = {ts} WHERE {cond}"),
                11 => format!("UPDATE p SET f = {num}, ti = {n} WHERE {cond}"),
                12 => format!("DELETE FROM p WHERE {cond}"),
                _ => format!("SELECT id FROM p WHERE {cond} UNION SELECT x FROM r WHERE {num} > 0 ORDER BY 1"),
            }
        })
        .boxed()
}

pub(crate) fn statement() -> BoxedStrategy<String> {
    prop_oneof![
        8 => typed_statement(),
        3 => (edge_call(), edge_call(), pick(&["p", "r", "p WHERE id BETWEEN 0 AND 3"]))
            .prop_map(|(a, b, from)| format!("SELECT {a}, {b} FROM {from}")),
        4 => select_stmt(),
        2 => insert_stmt(),
        1 => update_stmt(),
        1 => delete_stmt(),
        2 => ddl_stmt(),
        1 => explain_stmt(),
        2 => view_stmt(),
    ]
    .boxed()
}
