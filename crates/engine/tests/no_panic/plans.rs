//! Strategy A, plan half: EXPLAIN of generated statements, and materialized views of
//! VoltDB's shape (so most are created and then maintained by the generated writes), indexes
//! on them, and dropping them.

#[allow(unused_imports)]
use super::*;

/// `EXPLAIN` of a generated query or write: planned, never run.
pub(crate) fn explain_stmt() -> BoxedStrategy<String> {
    prop_oneof![
        2 => typed_statement(),
        1 => select_stmt(),
        1 => update_stmt(),
        1 => delete_stmt(),
    ]
    .prop_map(|s| format!("EXPLAIN {s}"))
    .boxed()
}

/// A view over p (partitioned), r (replicated) or their join, with a GROUP BY of p's or r's
/// columns or expressions, `COUNT(*)` and up to three more aggregates; or an index on a
/// view, or DROP VIEW.
pub(crate) fn view_stmt() -> BoxedStrategy<String> {
    let single = (
        pick(&["v1", "v2", "v3"]),
        pick(&["s", "ti", "id", "d", "t", "b", "ABS(ti)", "s || 'x'", "ti / 2", "f"]),
        vec(
            pick(&[
                "SUM(d)", "SUM(ti)", "SUM(f)", "MIN(s)", "MAX(s)", "MIN(t)", "MAX(t)", "COUNT(f)", "MIN(d)", "MAX(f)",
                "MAX(b)", "SUM(id)",
            ]),
            0..4,
        ),
        proptest::option::of(pick(&["ti > 0", "s IS NOT NULL", "d < 100", "id <> 2", "f > 0.5"])),
    )
        .prop_map(|(v, g, aggs, filter)| {
            let mut cols = vec![g.to_string(), "COUNT(*)".to_string()];
            cols.extend(aggs.iter().map(|a| a.to_string()));
            let filter = filter.map(|w| format!(" WHERE {w}")).unwrap_or_default();
            format!(
                "CREATE VIEW {v} AS SELECT {} FROM p{filter} GROUP BY {g}",
                cols.join(", ")
            )
        });
    let joined = (
        pick(&["v1", "v4"]),
        pick(&["p.s", "r.name", "p.ti", "r.x"]),
        pick(&["SUM(r.amt)", "MAX(p.d)", "MIN(r.ts)", "COUNT(p.s)"]),
    )
        .prop_map(|(v, g, agg)| {
            format!("CREATE VIEW {v} AS SELECT {g}, COUNT(*), {agg} FROM p JOIN r ON p.id = r.x GROUP BY {g}")
        });
    let other = pick(&[
        "CREATE INDEX v1_c ON v1 (C2)",
        "CREATE INDEX v2_g ON v2 (C1, C2)",
        "DROP VIEW v1",
        "DROP VIEW IF EXISTS v2",
        "DROP VIEW v3",
        "DROP VIEW v4",
        "SELECT * FROM v1 ORDER BY 1",
        "SELECT * FROM v2 WHERE C2 > 1",
        "SELECT COUNT(*) FROM v3",
        "SELECT * FROM v4 JOIN p ON v4.C1 = p.s",
        "EXPLAIN SELECT * FROM v1",
    ]);
    prop_oneof![4 => single, 2 => joined, 3 => other].boxed()
}
