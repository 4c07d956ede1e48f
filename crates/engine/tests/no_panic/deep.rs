//! Strategy C: deeply nested and very long SQL, run one case per child process.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------
// Strategy C: deep nesting and very long expressions on a 2 MiB stack
// ---------------------------------------------------------------------------------------

pub(crate) fn nested(depth: usize, open: &str, inner: &str, close: &str) -> String {
    let mut s = String::with_capacity(depth * (open.len() + close.len()) + inner.len());
    for _ in 0..depth {
        s.push_str(open);
    }
    s.push_str(inner);
    for _ in 0..depth {
        s.push_str(close);
    }
    s
}

pub(crate) fn chain(terms: usize, term: &str, op: &str) -> String {
    let mut s = String::with_capacity(terms * (term.len() + op.len()));
    for i in 0..terms {
        if i > 0 {
            s.push_str(op);
        }
        s.push_str(term);
    }
    s
}

pub(crate) fn deep_cases() -> Vec<(String, String)> {
    let mut cases = Vec::new();
    for depth in [1_000usize, 10_000] {
        cases.push((
            format!("parens_{depth}"),
            format!("SELECT {} FROM p", nested(depth, "(", "1", ")")),
        ));
        cases.push((
            format!("not_{depth}"),
            format!("SELECT * FROM p WHERE {}", chain(depth, "NOT", " ") + " TRUE"),
        ));
        cases.push((
            format!("neg_parens_{depth}"),
            format!("SELECT {} FROM p", nested(depth, "-(", "1", ")")),
        ));
        cases.push((
            format!("neg_chain_{depth}"),
            format!("SELECT {}1 FROM p", "- ".repeat(depth)),
        ));
        cases.push((
            format!("abs_{depth}"),
            format!("SELECT {} FROM p", nested(depth, "ABS(", "id", ")")),
        ));
        cases.push((
            format!("cast_{depth}"),
            format!("SELECT {} FROM p", nested(depth, "CAST(", "id", " AS BIGINT)")),
        ));
        cases.push((
            format!("case_{depth}"),
            format!(
                "SELECT {} FROM p",
                nested(depth, "CASE WHEN id > 0 THEN ", "1", " ELSE 0 END")
            ),
        ));
        cases.push((
            format!("right_nested_plus_{depth}"),
            format!("SELECT {} FROM p", nested(depth, "1 + (", "1", ")")),
        ));
        cases.push((
            format!("where_parens_{depth}"),
            format!("DELETE FROM p WHERE {}", nested(depth, "(", "id < 0", ")")),
        ));
        cases.push((
            format!("insert_parens_{depth}"),
            format!("INSERT INTO p (id) VALUES ({})", nested(depth, "(", "99", ")")),
        ));
        cases.push((
            format!("update_neg_{depth}"),
            format!("UPDATE p SET d = {} WHERE id = 1", nested(depth, "-(", "d", ")")),
        ));
    }
    for depth in [200usize, 1_000, 10_000] {
        cases.push((
            format!("from_subquery_{depth}"),
            format!("SELECT * FROM {} AS t", nested(depth, "(SELECT * FROM ", "p", ") AS t")),
        ));
        cases.push((
            format!("in_subquery_{depth}"),
            format!(
                "SELECT * FROM p WHERE id IN {}",
                nested(depth, "(SELECT id FROM p WHERE id IN ", "(1)", ")")
            ),
        ));
        cases.push((
            format!("exists_subquery_{depth}"),
            format!(
                "SELECT * FROM p WHERE {}",
                nested(depth, "EXISTS (SELECT 1 FROM r WHERE ", "TRUE", ")")
            ),
        ));
        cases.push((
            format!("scalar_subquery_{depth}"),
            format!("SELECT {}", nested(depth, "(SELECT ", "1", ")")),
        ));
    }
    for terms in [1_000usize, 10_000, 100_000] {
        cases.push((format!("plus_{terms}"), format!("SELECT {}", chain(terms, "1", "+"))));
        cases.push((
            format!("plus_from_p_{terms}"),
            format!("SELECT {} FROM p", chain(terms, "1", "+")),
        ));
        cases.push((
            format!("concat_{terms}"),
            format!("SELECT {} FROM p", chain(terms, "s", "||")),
        ));
        cases.push((
            format!("or_{terms}"),
            format!("SELECT * FROM p WHERE {}", chain(terms, "id = 1", " OR ")),
        ));
        cases.push((
            format!("and_{terms}"),
            format!("DELETE FROM p WHERE {}", chain(terms, "id > 5", " AND ")),
        ));
        cases.push((
            format!("in_list_{terms}"),
            format!("SELECT * FROM p WHERE id IN ({})", chain(terms, "1", ",")),
        ));
        cases.push((
            format!("select_list_{terms}"),
            format!("SELECT {} FROM p", chain(terms, "id", ",")),
        ));
        cases.push((
            format!("union_all_{terms}"),
            chain(terms, "SELECT id FROM p", " UNION ALL "),
        ));
        cases.push((
            format!("values_rows_{terms}"),
            format!("INSERT INTO r (x) VALUES {}", chain(terms, "(7)", ",")),
        ));
        cases.push((format!("script_{terms}"), chain(terms, "SELECT 1", ";")));
        cases.push((
            format!("comparison_chain_{terms}"),
            format!("SELECT {} FROM p", chain(terms, "1", " = ")),
        ));
    }
    // Left-deep chains of the less common operators and postfix forms.
    for terms in [10_000usize, 100_000] {
        for (kind, term, op) in [
            ("bitor", "1", " | "),
            ("bitand", "1", " & "),
            ("caret", "1", " ^ "),
            ("shift", "1", " << "),
            ("like", "s", " LIKE "),
            ("distinct_from", "id", " IS DISTINCT FROM "),
            ("div", "1", " DIV "),
            ("xor", "TRUE", " XOR "),
            ("regexp", "s", " REGEXP "),
            ("similar_to", "s", " SIMILAR TO "),
            ("arrow", "s", " -> "),
            ("long_arrow", "s", " ->> "),
            ("tilde", "s", " ~ "),
            ("not_tilde", "s", " !~ "),
            ("spaceship", "1", " <=> "),
            ("contains", "b", " @> "),
            ("hash_arrow", "s", " #> "),
            ("overlaps", "t", " OVERLAPS "),
        ] {
            cases.push((
                format!("{kind}_{terms}"),
                format!("SELECT {} FROM p", chain(terms, term, op)),
            ));
        }
        cases.push((
            format!("is_null_{terms}"),
            format!("SELECT id{} FROM p", " IS NULL".repeat(terms)),
        ));
        cases.push((
            format!("double_colon_{terms}"),
            format!("SELECT id{} FROM p", "::BIGINT".repeat(terms)),
        ));
        cases.push((
            format!("collate_{terms}"),
            format!("SELECT s{} FROM p", " COLLATE c".repeat(terms)),
        ));
        cases.push((
            format!("at_time_zone_{terms}"),
            format!("SELECT t{} FROM p", " AT TIME ZONE 'UTC'".repeat(terms)),
        ));
        cases.push((
            format!("subscript_{terms}"),
            format!("SELECT s{} FROM p", "[1]".repeat(terms)),
        ));
        cases.push((
            format!("field_access_{terms}"),
            format!("SELECT (s){} FROM p", ".a".repeat(terms)),
        ));
    }
    // Long FROM clauses and WITH chains.
    for n in [1_000usize, 10_000] {
        let joins: String = (0..n).map(|i| format!(" JOIN p j{i} ON j{i}.id = p.id")).collect();
        cases.push((format!("join_chain_{n}"), format!("SELECT COUNT(*) FROM p{joins}")));
        let tables: Vec<String> = (0..n).map(|i| format!("p c{i}")).collect();
        cases.push((
            format!("comma_join_{n}"),
            format!("SELECT COUNT(*) FROM {} WHERE c0.id = 1", tables.join(", ")),
        ));
        let ctes: Vec<String> = (1..n).map(|i| format!("w{i} AS (SELECT id FROM w{})", i - 1)).collect();
        cases.push((
            format!("with_chain_{n}"),
            format!(
                "WITH w0 AS (SELECT id FROM p), {} SELECT * FROM w{}",
                ctes.join(", "),
                n - 1
            ),
        ));
        cases.push((
            format!("from_parens_{n}"),
            format!("SELECT * FROM {}", nested(n, "(", "p", ")")),
        ));
    }
    // Parenthesised groups, each a long chain, nested: the tree is as deep as all groups together.
    for (groups, per_group) in [(5usize, 19_000usize), (20, 5_000)] {
        let mut e = "1".to_string();
        for _ in 0..groups {
            e = format!("({e}{})", "+1".repeat(per_group));
        }
        cases.push((
            format!("grouped_plus_{groups}x{per_group}"),
            format!("SELECT {e} FROM p"),
        ));
    }
    cases.push((
        "long_string_1m".into(),
        format!("SELECT '{}' FROM p", "x".repeat(1 << 20)),
    ));
    cases.push((
        "long_identifier_100k".into(),
        format!("SELECT {} FROM p", "a".repeat(100_000)),
    ));
    cases.push((
        "long_number_100k".into(),
        format!("SELECT {} FROM p", "9".repeat(100_000)),
    ));
    cases.push(("unclosed_parens_100k".into(), format!("SELECT {}", "(".repeat(100_000))));
    cases.push((
        "nested_comment_10k".into(),
        format!("SELECT 1 {}", nested(10_000, "/* ", "x", " */")),
    ));
    cases
}

/// Runs one deep case in this process, on a 2 MiB thread: `Ok(description)` or
/// `Err(failure)`. A stack overflow aborts the process.
pub(crate) fn run_deep_case(name: &str, sql: String) -> Result<String, String> {
    let (result, elapsed) = on_small_stack(&format!("deep:{name}"), move || {
        let mut checker = Checker::new();
        let start = std::time::Instant::now();
        let result = checker.run(&sql).map(|()| checker.errors == 0);
        (result, start.elapsed())
    });
    match result {
        Ok(ok) => Ok(format!(
            "{name}: {} in {elapsed:?}",
            if ok { "result" } else { "error" }
        )),
        Err(e) => Err(format!("{name}: {e}")),
    }
}

pub(crate) const DEEP_CASE_VAR: &str = "NO_PANIC_DEEP_CASE";
