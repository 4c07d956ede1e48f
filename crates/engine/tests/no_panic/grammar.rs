//! Strategy A: a small SQL grammar (queries, DML, DDL) with random expressions.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------
// Strategy A: a small SQL grammar
// ---------------------------------------------------------------------------------------

pub(crate) fn pick(items: &'static [&'static str]) -> BoxedStrategy<String> {
    select(items).prop_map(str::to_string).boxed()
}

pub(crate) const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "127",
    "128",
    "-128",
    "255",
    "32767",
    "-32768",
    "2147483647",
    "-2147483647",
    "-2147483648",
    "2147483648",
    "9223372036854775807",
    "-9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "18446744073709551616",
    "99999999999999999999999999999999999999",
    "-99999999999999999999999999999999999999",
    "999999999999999999999999999999999999999999999",
    "99999999999999999999999999.999999999999",
    "12345678901234567890123456789.1234567890123456789",
    "0.000000000001",
    "0.0000000000001",
    "1e308",
    "1.7976931348623157e308",
    "1e309",
    "-1e309",
    "4.9e-324",
    "1e-400",
    "0.0",
    "-0.0",
    "1.5",
    "-2.5",
    "0.5",
    "1e0",
    "00012",
    ".5",
    "5.",
    "1e",
    "0x10",
];

pub(crate) const MISC_LITERALS: &[&str] = &[
    "NULL",
    "TRUE",
    "FALSE",
    "x'00ff'",
    "X''",
    "x'0'",
    "X'zz'",
    "x'0102030405'",
    "TIMESTAMP '2020-01-01 00:00:00'",
    "TIMESTAMP 'nope'",
    "'2020-01-01'",
    "'1970-01-01 00:00:00.000000'",
    "'9999-12-31 23:59:59.999999'",
    "'0001-01-01 00:00:00'",
    "'2020-02-30 00:00:00'",
    "?",
    "CURRENT_TIMESTAMP",
    "NOW",
    "NOW()",
    "DATE '2020-01-01'",
    "INTERVAL '1' DAY",
];

pub(crate) fn string_literal() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "[a-z0-9 %_'é😀\\\\]{0,12}".prop_map(|s| format!("'{}'", s.replace('\'', "''"))),
        2 => "\\PC{0,10}".prop_map(|s| format!("'{}'", s.replace('\'', "''"))),
        1 => (0usize..400).prop_map(|n| format!("'{}'", "x".repeat(n))),
        1 => pick(&["'", "'unterminated", "'a''", "''''", "N'abc'", "E'\\n'", "'%'", "'_'", "'\\'", "'\u{0}'"]),
    ]
    .boxed()
}

pub(crate) fn literal() -> BoxedStrategy<String> {
    prop_oneof![
        4 => pick(NUMBERS),
        2 => any::<i64>().prop_map(|v| v.to_string()),
        1 => any::<i16>().prop_map(|v| v.to_string()),
        1 => any::<f64>().prop_map(|v| format!("{v:e}")),
        1 => (any::<u64>(), any::<u64>(), 0usize..40)
            .prop_map(|(a, b, scale)| {
                let digits = format!("{a}{b}");
                let cut = scale.min(digits.len());
                format!("{}.{}", &digits[..digits.len() - cut], &digits[digits.len() - cut..])
            }),
        3 => string_literal(),
        3 => pick(MISC_LITERALS),
    ]
    .boxed()
}

pub(crate) const COLUMNS: &[&str] = &[
    "id", "s", "d", "f", "t", "b", "ti", "p.id", "p.s", "p.d", "p.t", "r.x", "x", "name", "amt", "ts", "fl", "a.id",
    "q.x", "nope", "p.nope", "zz.id", "\"id\"", "\"ID\"", "ID", "sq.c1", "c",
];

pub(crate) fn column() -> BoxedStrategy<String> {
    pick(COLUMNS)
}

pub(crate) const BINARY_OPS: &[&str] = &[
    "+",
    "-",
    "*",
    "/",
    "%",
    "||",
    "=",
    "<>",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "AND",
    "OR",
    "LIKE",
    "NOT LIKE",
    "IS DISTINCT FROM",
    "&",
    "|",
    "^",
    "<<",
    ">>",
];

pub(crate) const UNARY_OPS: &[&str] = &["-", "+", "NOT", "- -", "NOT NOT", "~"];

pub(crate) const FUNCTIONS: &[&str] = &[
    "ABS",
    "CEILING",
    "FLOOR",
    "ROUND",
    "MOD",
    "POWER",
    "SQRT",
    "EXP",
    "LN",
    "LOG",
    "LOG10",
    "COALESCE",
    "DECODE",
    "SUBSTRING",
    "CHAR_LENGTH",
    "OCTET_LENGTH",
    "LOWER",
    "UPPER",
    "TRIM",
    "LTRIM",
    "RTRIM",
    "LEFT",
    "RIGHT",
    "REPLACE",
    "CONCAT",
    "POSITION",
    "REPEAT",
    "SPACE",
    "LPAD",
    "HEX",
    "BIN",
    "FORMAT_TIMESTAMP",
    "TO_TIMESTAMP",
    "SINCE_EPOCH",
    "NOW",
    "CURRENT_TIMESTAMP",
    "NULLIF",
    "ISNULL",
    "SIGN",
    "PI",
    "SIN",
    "COS",
    "TAN",
    "DEGREES",
    "BITAND",
    "BITOR",
    "BIT_SHIFT_LEFT",
    "FROM_UNIXTIME",
    "CAST",
    "NO_SUCH_FUNCTION",
];

pub(crate) const UNIT_FUNCTIONS: &[&str] = &[
    "DATEADD",
    "DATEDIFF",
    "TRUNCATE",
    "SINCE_EPOCH",
    "TO_TIMESTAMP",
    "EXTRACT",
    "DATE_ADD",
];

pub(crate) const UNITS: &[&str] = &[
    "YEAR",
    "QUARTER",
    "MONTH",
    "WEEK",
    "DAY",
    "HOUR",
    "MINUTE",
    "SECOND",
    "MILLISECOND",
    "MILLIS",
    "MICROSECOND",
    "MICROS",
    "DAY_OF_WEEK",
    "DAY_OF_MONTH",
    "DAY_OF_YEAR",
    "WEEK_OF_YEAR",
    "WEEKDAY",
    "BOGUS",
    "1",
];

pub(crate) const TYPES: &[&str] = &[
    "INTEGER",
    "INT",
    "TINYINT",
    "SMALLINT",
    "BIGINT",
    "FLOAT",
    "REAL",
    "DOUBLE",
    "DECIMAL",
    "DECIMAL(10,2)",
    "DECIMAL(38,12)",
    "NUMERIC(50,60)",
    "VARCHAR",
    "VARCHAR(0)",
    "VARCHAR(1)",
    "VARCHAR(8)",
    "VARCHAR(3 BYTES)",
    "VARCHAR(1048577)",
    "VARCHAR(99999999999999999999)",
    "VARCHAR(-1)",
    "VARBINARY",
    "VARBINARY(1)",
    "VARBINARY(4)",
    "TIMESTAMP",
    "BOOLEAN",
    "CHAR(3)",
    "TEXT",
    "GEOGRAPHY",
    "GEOGRAPHY_POINT",
    "NOPE",
];

pub(crate) const AGGREGATES: &[&str] = &[
    "COUNT",
    "SUM",
    "AVG",
    "MIN",
    "MAX",
    "APPROX_COUNT_DISTINCT",
    "COUNT(DISTINCT",
];

pub(crate) const WINDOW_FUNCTIONS: &[&str] = &[
    "RANK()",
    "DENSE_RANK()",
    "ROW_NUMBER()",
    "COUNT(*)",
    "NTILE(2)",
    "LAG(id)",
    "FIRST_VALUE(id)",
];

pub(crate) const TABLES: &[&str] = &["p", "r", "p AS a", "r q", "nope", "p p2"];

pub(crate) fn wrap(paren: bool, s: String) -> String {
    if paren { format!("({s})") } else { s }
}

/// Arguments at the edges: extreme numbers, multi-byte strings, odd time zones, NULL, columns.
pub(crate) const EDGE_ARGS: &[&str] = &[
    "0",
    "-1",
    "1",
    "2",
    "-2147483648",
    "2147483647",
    "9223372036854775807",
    "-9223372036854775807",
    "-9223372036854775808",
    "1e308",
    "-1e308",
    "0.5",
    "-0.5",
    "1e-300",
    "99999999999999999999999999.999999999999",
    "NULL",
    "''",
    "' '",
    "'é'",
    "'😀😀'",
    "'aé😀b'",
    "'\u{301}'",
    "'%'",
    "'+99:99'",
    "'Z'",
    "'UTC'",
    "'-14:00'",
    "'2020-01-01 00:00:00'",
    "x'ff'",
    "id",
    "s",
    "d",
    "f",
    "t",
    "b",
    "ti",
    "NOW",
    "TRUE",
    "TIMESTAMP '1583-01-01 00:00:00'",
    "TIMESTAMP '9999-12-31 23:59:59.999999'",
    "YEAR",
    "MICROS",
    "DAY",
];

/// A function called with edge arguments (random arity).
pub(crate) fn edge_call() -> BoxedStrategy<String> {
    (
        prop_oneof![3 => pick(FUNCTIONS), 2 => pick(UNIT_FUNCTIONS), 1 => pick(AGGREGATES)],
        vec(pick(EDGE_ARGS), 0..5),
    )
        .prop_map(|(f, args)| {
            let open = if f.ends_with('(') { "" } else { "(" };
            format!("{f}{open}{})", args.join(", "))
        })
        .boxed()
}

pub(crate) fn expr() -> BoxedStrategy<String> {
    let leaf = prop_oneof![3 => literal(), 3 => column()];
    leaf.prop_recursive(4, 40, 4, |inner| {
        let e = || inner.clone();
        let operators = prop_oneof![
            4 => (e(), pick(BINARY_OPS), e(), any::<bool>())
                .prop_map(|(a, op, b, paren)| wrap(paren, format!("{a} {op} {b}"))),
            2 => (pick(UNARY_OPS), e()).prop_map(|(op, a)| format!("{op} {a}")),
            1 => (e(), any::<bool>()).prop_map(|(a, not)| format!("{a} IS {}NULL", if not { "NOT " } else { "" })),
            1 => (e(), e(), e(), any::<bool>())
                .prop_map(|(a, b, c, not)| format!("{a} {}BETWEEN {b} AND {c}", if not { "NOT " } else { "" })),
            1 => (e(), vec(e(), 0..4), any::<bool>()).prop_map(|(a, list, not)| {
                format!("{a} {}IN ({})", if not { "NOT " } else { "" }, list.join(", "))
            }),
            1 => (e(), e(), e()).prop_map(|(a, b, c)| format!("{a} LIKE {b} ESCAPE {c}")),
            1 => e().prop_map(|a| format!("({a})")),
        ];
        let functions = prop_oneof![
            5 => (pick(FUNCTIONS), vec(e(), 0..5)).prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
            3 => edge_call(),
            2 => (pick(UNIT_FUNCTIONS), pick(UNITS), vec(e(), 0..3)).prop_map(|(f, unit, args)| {
                let mut all = vec![unit];
                all.extend(args);
                format!("{f}({})", all.join(", "))
            }),
            2 => (e(), pick(TYPES)).prop_map(|(a, ty)| format!("CAST({a} AS {ty})")),
            1 => (pick(UNITS), e()).prop_map(|(u, a)| format!("EXTRACT({u} FROM {a})")),
            1 => (e(), e()).prop_map(|(a, b)| format!("POSITION({a} IN {b})")),
            1 => (e(), e(), proptest::option::of(e()))
                .prop_map(|(a, b, c)| match c {
                    Some(c) => format!("SUBSTRING({a} FROM {b} FOR {c})"),
                    None => format!("SUBSTRING({a} FROM {b})"),
                }),
            1 => (pick(&["LEADING", "TRAILING", "BOTH", ""]), e(), e())
                .prop_map(|(w, a, b)| format!("TRIM({w} {a} FROM {b})")),
            1 => (e(), e(), e(), proptest::option::of(e())).prop_map(|(a, b, c, d)| match d {
                Some(d) => format!("CASE WHEN {a} THEN {b} WHEN {c} THEN {d} END"),
                None => format!("CASE {a} WHEN {b} THEN {c} ELSE NULL END"),
            }),
        ];
        let aggregates = prop_oneof![
            3 => (pick(AGGREGATES), e()).prop_map(|(f, a)| {
                if f.ends_with('(') { format!("{f} {a})") } else { format!("{f}({a})") }
            }),
            1 => Just("COUNT(*)".to_string()),
            2 => (pick(WINDOW_FUNCTIONS), proptest::option::of(e()), proptest::option::of(e()), any::<bool>())
                .prop_map(|(f, part, order, desc)| {
                    let mut over = String::new();
                    if let Some(p) = part {
                        over.push_str(&format!("PARTITION BY {p} "));
                    }
                    if let Some(o) = order {
                        over.push_str(&format!("ORDER BY {o}{}", if desc { " DESC" } else { "" }));
                    }
                    format!("{f} OVER ({over})")
                }),
            1 => (pick(&["SUM", "MIN", "MAX", "AVG"]), e(), e()).prop_map(|(f, a, o)| format!("{f}({a}) OVER (ORDER BY {o})")),
        ];
        let subqueries = prop_oneof![
            2 => (e(), pick(TABLES), e(), pick(LIMITS))
                .prop_map(|(a, t, w, l)| format!("(SELECT {a} FROM {t} WHERE {w} LIMIT {l})")),
            1 => (pick(TABLES), e()).prop_map(|(t, w)| format!("EXISTS (SELECT * FROM {t} WHERE {w})")),
            1 => (e(), pick(&["id", "x", "s", "name", "*", "id, s"]), pick(TABLES), e())
                .prop_map(|(a, c, t, w)| format!("{a} IN (SELECT {c} FROM {t} WHERE {w})")),
            1 => (e(), pick(&["=", "<", ">="]), pick(&["ANY", "ALL", "SOME"]), pick(TABLES))
                .prop_map(|(a, op, q, t)| format!("{a} {op} {q} (SELECT id FROM {t})")),
            1 => (e(), pick(TABLES)).prop_map(|(a, t)| format!("(SELECT COUNT(*) FROM {t} WHERE {a} = {a})")),
        ];
        prop_oneof![4 => operators, 4 => functions, 1 => aggregates, 1 => subqueries].boxed()
    })
    .boxed()
}

pub(crate) const LIMITS: &[&str] = &[
    "-1",
    "0",
    "1",
    "2",
    "3",
    "100",
    "2147483647",
    "2147483648",
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999",
    "NULL",
    "1.5",
    "'a'",
    "?",
    "ALL",
    "-0",
    "1 + 1",
    "id",
];

pub(crate) const FROMS: &[&str] = &[
    "p",
    "r",
    "p AS a",
    "p, r",
    "p a JOIN r q ON a.id = q.x",
    "p LEFT JOIN r ON {e}",
    "p RIGHT JOIN r ON {e}",
    "p FULL JOIN r ON {e}",
    "p FULL OUTER JOIN p p2 ON {e}",
    "p INNER JOIN p q ON {e}",
    "p CROSS JOIN r",
    "p JOIN r ON {e} JOIN p p3 ON {e}",
    "p JOIN r USING (id)",
    "p NATURAL JOIN r",
    "(SELECT * FROM p) AS sq",
    "(SELECT id, COUNT(*) AS c FROM p GROUP BY id) sq",
    "(SELECT {e} AS c1 FROM r) AS sq",
    "(SELECT * FROM p WHERE {e}) sq JOIN r ON {e}",
    "nope",
    "p, p p2, r",
    "p, p",
    "p LEFT JOIN r ON p.id = r.x LEFT JOIN p p2 ON {e}",
];

pub(crate) fn select_stmt() -> BoxedStrategy<String> {
    let item = prop_oneof![
        1 => Just("*".to_string()),
        1 => pick(&["p.*", "r.*", "nope.*", "COUNT(*)", "id, s", "DISTINCT id"]),
        6 => (expr(), proptest::option::of(pick(&["a1", "c", "id", "\"weird name\"", "x"])))
            .prop_map(|(e, alias)| match alias {
                Some(a) => format!("{e} AS {a}"),
                None => e,
            }),
    ];
    let order =
        (expr(), pick(&["", " ASC", " DESC", " NULLS FIRST", " DESC NULLS LAST"])).prop_map(|(e, d)| format!("{e}{d}"));
    let core = (
        any::<bool>(),
        vec(item, 1..4),
        proptest::option::of((pick(FROMS), expr())),
        proptest::option::of(expr()),
        proptest::option::of(vec(
            prop_oneof![3 => expr(), 1 => pick(&["1", "2", "0", "-1", "id", "s"])],
            1..3,
        )),
        proptest::option::of(expr()),
        proptest::option::of(vec(
            prop_oneof![3 => order, 1 => pick(&["1", "2", "0", "-1", "99"])],
            1..3,
        )),
        proptest::option::of(prop_oneof![3 => pick(LIMITS), 1 => expr()]),
        proptest::option::of(pick(LIMITS)),
    )
        .prop_map(|(distinct, items, from, filter, group, having, order, limit, offset)| {
            let mut sql = format!("SELECT {}{}", if distinct { "DISTINCT " } else { "" }, items.join(", "));
            if let Some((f, e)) = from {
                sql.push_str(&format!(" FROM {}", f.replace("{e}", &e)));
            }
            if let Some(w) = filter {
                sql.push_str(&format!(" WHERE {w}"));
            }
            if let Some(g) = group {
                sql.push_str(&format!(" GROUP BY {}", g.join(", ")));
            }
            if let Some(h) = having {
                sql.push_str(&format!(" HAVING {h}"));
            }
            if let Some(o) = order {
                sql.push_str(&format!(" ORDER BY {}", o.join(", ")));
            }
            if let Some(l) = limit {
                sql.push_str(&format!(" LIMIT {l}"));
            }
            if let Some(o) = offset {
                sql.push_str(&format!(" OFFSET {o}"));
            }
            sql
        });
    (
        core.clone(),
        proptest::option::of((
            pick(&[
                "UNION",
                "UNION ALL",
                "INTERSECT",
                "INTERSECT ALL",
                "EXCEPT",
                "EXCEPT ALL",
            ]),
            core,
            proptest::option::of(pick(LIMITS)),
        )),
    )
        .prop_map(|(a, rest)| match rest {
            Some((op, b, None)) => format!("{a} {op} {b}"),
            Some((op, b, Some(l))) => format!("({a}) {op} ({b}) ORDER BY 1 LIMIT {l}"),
            None => a,
        })
        .boxed()
}

pub(crate) const P_COLUMNS: &[&str] = &["id", "s", "d", "f", "t", "b", "ti", "nope", "x", "name"];
pub(crate) const DML_TABLES: &[&str] = &["p", "p", "p", "r", "r", "nope", "t1"];

pub(crate) fn insert_stmt() -> BoxedStrategy<String> {
    let values = (
        pick(&["INSERT", "INSERT", "UPSERT"]),
        pick(DML_TABLES),
        proptest::option::of(vec(pick(P_COLUMNS), 0..8)),
        vec(vec(expr(), 0..8), 1..3),
    )
        .prop_map(|(verb, table, cols, rows)| {
            let cols = cols.map(|c| format!(" ({})", c.join(", "))).unwrap_or_default();
            let rows: Vec<String> = rows.iter().map(|r| format!("({})", r.join(", "))).collect();
            format!("{verb} INTO {table}{cols} VALUES {}", rows.join(", "))
        });
    // Mostly well-typed rows with random ids, so inserts often succeed.
    let typed = (
        pick(&["INSERT", "UPSERT"]),
        any::<i32>(),
        prop_oneof![string_literal(), Just("NULL".to_string())],
        prop_oneof![pick(NUMBERS), Just("NULL".to_string())],
        prop_oneof![pick(NUMBERS), Just("NULL".to_string())],
        prop_oneof![pick(MISC_LITERALS), Just("NULL".to_string())],
        prop_oneof![
            pick(&["x'00'", "x'ffffffff'", "x'0102030405'", "NULL", "''"]),
            Just("NULL".to_string())
        ],
        prop_oneof![pick(NUMBERS), Just("NULL".to_string())],
    )
        .prop_map(|(verb, id, s, d, f, t, b, ti)| {
            format!("{verb} INTO p VALUES ({id}, {s}, {d}, {f}, {t}, {b}, {ti})")
        });
    let from_select = (
        pick(&["INSERT", "UPSERT"]),
        pick(&["p", "r", "p (id, s)", "r (x)"]),
        select_stmt(),
    )
        .prop_map(|(verb, t, q)| format!("{verb} INTO {t} {q}"));
    let shifted = (pick(&["INSERT", "UPSERT"]), pick(NUMBERS), expr())
        .prop_map(|(verb, n, e)| format!("{verb} INTO p (id, s, d) SELECT id + {n}, s, {e} FROM p"));
    prop_oneof![3 => values, 3 => typed, 1 => from_select, 1 => shifted].boxed()
}

pub(crate) fn update_stmt() -> BoxedStrategy<String> {
    (
        pick(DML_TABLES),
        vec((pick(P_COLUMNS), expr()), 1..4),
        proptest::option::of(expr()),
    )
        .prop_map(|(table, sets, filter)| {
            let sets: Vec<String> = sets.iter().map(|(c, e)| format!("{c} = {e}")).collect();
            let filter = filter.map(|w| format!(" WHERE {w}")).unwrap_or_default();
            format!("UPDATE {table} SET {}{filter}", sets.join(", "))
        })
        .boxed()
}

pub(crate) fn delete_stmt() -> BoxedStrategy<String> {
    (
        pick(DML_TABLES),
        proptest::option::of(expr()),
        proptest::option::of((pick(&["id", "s", "x", "d DESC", "1"]), pick(LIMITS))),
    )
        .prop_map(|(table, filter, order)| {
            let mut sql = format!("DELETE FROM {table}");
            if let Some(w) = filter {
                sql.push_str(&format!(" WHERE {w}"));
            }
            if let Some((o, l)) = order {
                sql.push_str(&format!(" ORDER BY {o} LIMIT {l}"));
            }
            sql
        })
        .boxed()
}

pub(crate) fn ddl_stmt() -> BoxedStrategy<String> {
    let col_def = (
        pick(&["c1", "c2", "c3", "id", "s", "x"]),
        pick(TYPES),
        pick(&[
            "",
            " NOT NULL",
            " NULL",
            " PRIMARY KEY",
            " UNIQUE",
            " ASSUMEUNIQUE",
            " DEFAULT 1",
            " DEFAULT 'z'",
        ]),
        proptest::option::of(literal()),
    )
        .prop_map(|(n, ty, extra, default)| match default {
            Some(d) => format!("{n} {ty} DEFAULT {d}{extra}"),
            None => format!("{n} {ty}{extra}"),
        });
    let create_table = (
        pick(&["t1", "t2", "p", "r", "t1"]),
        any::<bool>(),
        vec(col_def.clone(), 0..5),
        pick(&[
            "",
            ", PRIMARY KEY (c1)",
            ", UNIQUE (c1, c2)",
            ", LIMIT PARTITION ROWS 2",
            ", PRIMARY KEY (nope)",
        ]),
    )
        .prop_map(|(t, ine, cols, extra)| {
            format!(
                "CREATE TABLE {}{t} ({}{extra})",
                if ine { "IF NOT EXISTS " } else { "" },
                cols.join(", ")
            )
        });
    let partition = (
        pick(&["t1", "t2", "p", "r", "nope"]),
        pick(&["c1", "c2", "id", "x", "nope"]),
    )
        .prop_map(|(t, c)| format!("PARTITION TABLE {t} ON COLUMN {c}"));
    let index = (
        pick(&["", "UNIQUE ", "ASSUMEUNIQUE "]),
        pick(&["ix1", "ix2", "p_s", "r_name"]),
        pick(&["p", "r", "t1", "nope"]),
        vec(prop_oneof![3 => pick(P_COLUMNS), 1 => expr()], 1..3),
        proptest::option::of(expr()),
    )
        .prop_map(|(u, name, t, cols, filter)| {
            let filter = filter.map(|w| format!(" WHERE {w}")).unwrap_or_default();
            format!("CREATE {u}INDEX {name} ON {t} ({}){filter}", cols.join(", "))
        });
    let alter = (
        pick(&["p", "p", "r", "t1", "nope"]),
        prop_oneof![
            3 => col_def.clone().prop_map(|c| format!("ADD COLUMN {c}")),
            1 => (col_def.clone(), pick(P_COLUMNS)).prop_map(|(c, b)| format!("ADD {c} BEFORE {b}")),
            2 => pick(P_COLUMNS).prop_map(|c| format!("DROP COLUMN {c}")),
            1 => pick(P_COLUMNS).prop_map(|c| format!("DROP COLUMN {c} CASCADE")),
            3 => (pick(P_COLUMNS), pick(TYPES), pick(&["", " NOT NULL", " NULL", " DEFAULT 0"]))
                .prop_map(|(c, ty, x)| format!("ALTER COLUMN {c} {ty}{x}")),
            1 => (pick(P_COLUMNS), literal()).prop_map(|(c, d)| format!("ALTER COLUMN {c} SET DEFAULT {d}")),
            1 => (pick(P_COLUMNS), pick(&["SET NOT NULL", "SET NULL", "DROP DEFAULT"]))
                .prop_map(|(c, x)| format!("ALTER COLUMN {c} {x}")),
            1 => pick(&[
                "ADD PRIMARY KEY (id)",
                "ADD PRIMARY KEY (s)",
                "DROP PRIMARY KEY",
                "ADD CONSTRAINT u1 UNIQUE (s)",
                "ADD CONSTRAINT u2 ASSUMEUNIQUE (d)",
                "DROP CONSTRAINT u1",
                "ADD LIMIT PARTITION ROWS 1",
                "ADD LIMIT PARTITION ROWS 0",
                "DROP LIMIT PARTITION ROWS",
                "FROBNICATE",
            ]),
        ],
    )
        .prop_map(|(t, action)| format!("ALTER TABLE {t} {action}"));
    let drop = pick(&[
        "DROP TABLE t1",
        "DROP TABLE t2 IF EXISTS",
        "DROP TABLE IF EXISTS t1",
        "DROP TABLE r",
        "DROP TABLE r CASCADE",
        "DROP TABLE nope",
        "DROP INDEX ix1",
        "DROP INDEX p_s",
        "DROP INDEX r_name IF EXISTS",
        "DROP VIEW v1",
        "DROP TABLE p",
        "TRUNCATE TABLE p",
        "TRUNCATE TABLE r",
        "TRUNCATE TABLE nope",
        "CREATE DATABASE d1",
        "DROP DATABASE d1",
        "DROP DATABASE IF EXISTS d1",
        "USE nope",
    ]);
    let view = (select_stmt(), pick(&["v1", "p"])).prop_map(|(q, n)| format!("CREATE VIEW {n} AS {q}"));
    prop_oneof![3 => create_table, 2 => partition, 3 => index, 6 => alter, 1 => drop, 1 => view].boxed()
}
