use voltrs_storage::DataType;

use super::*;
use crate::parser::parse_script;

fn run(sql: &str) -> Parameterized {
    let mut v = parse_script(sql).expect("parses");
    assert_eq!(v.len(), 1, "{sql}");
    parameterize(&v.remove(0).statement).expect("cacheable")
}

fn types(sql: &str) -> Vec<DataType> {
    run(sql).params.iter().map(|p| p.ty).collect()
}

#[test]
fn point_shapes_share_a_key() {
    for (a, b) in [
        ("SELECT * FROM t WHERE pk = 5", "select * from t where pk = 7"),
        (
            "INSERT INTO t VALUES (1, 'a', 2.5)",
            "INSERT INTO t VALUES (2, 'bcd', 3.25)",
        ),
        (
            "UPDATE t SET x = x + 1 WHERE id = 7",
            "UPDATE t SET x = x + 2 WHERE id = 9",
        ),
        ("DELETE FROM t WHERE id = 3", "DELETE FROM t WHERE id = 4"),
        ("SELECT a FROM t WHERE s = 'x'", "SELECT a FROM t WHERE s = 'longer'"),
    ] {
        let (pa, pb) = (run(a), run(b));
        assert_eq!(pa.text, pb.text, "{a} / {b}");
        assert_eq!(types(a), types(b), "{a} / {b}");
    }
    assert_eq!(
        run("SELECT * FROM t WHERE pk = 5").text,
        "Q SELECT * FROM t WHERE pk = $1"
    );
}

#[test]
fn literal_types_make_different_keys() {
    let key = |sql: &str| {
        let p = run(sql);
        (p.text, types(sql))
    };
    let keys = [
        key("SELECT a FROM t WHERE a = 1"),
        key("SELECT a FROM t WHERE a = 1.5"),
        key("SELECT a FROM t WHERE a = 1e0"),
        key("SELECT a FROM t WHERE a = 3000000000"),
        key("SELECT a FROM t WHERE a = NULL"),
        key("SELECT a FROM t WHERE a = 'x'"),
        key("SELECT a FROM t WHERE a = X'AB'"),
        key("SELECT a FROM t WHERE a = TRUE"),
    ];
    for (i, a) in keys.iter().enumerate() {
        for b in &keys[i + 1..] {
            assert_ne!(a, b);
        }
    }
    assert_eq!(types("SELECT a FROM t WHERE a = 1"), vec![DataType::Integer]);
    assert_eq!(types("SELECT a FROM t WHERE a = 1.5"), vec![DataType::Decimal]);
    assert_eq!(types("SELECT a FROM t WHERE a = 1e0"), vec![DataType::Float]);
    assert_eq!(types("SELECT a FROM t WHERE a = -2147483648"), vec![DataType::Integer]);
    assert_eq!(types("SELECT a FROM t WHERE a = -2147483649"), vec![DataType::BigInt]);
    assert!(run("SELECT a FROM t WHERE a = NULL").params.is_empty());
}

#[test]
fn positions_limits_and_markers_stay_literal() {
    let p = run("SELECT a, b + 2 FROM t GROUP BY 1, b + 2 ORDER BY 2 DESC, 1 LIMIT 10 OFFSET 5");
    assert_eq!(
        p.text,
        "Q SELECT a, b + $1 FROM t GROUP BY 1, b + $1 ORDER BY 2 DESC, 1 LIMIT 10 OFFSET 5"
    );
    assert_eq!(p.params.len(), 1);
    assert_eq!(p.params[0].uses, 2);
    let p = run("SELECT a FROM t WHERE s STARTS WITH 'ab' AND d = DATEADD('DAY', 3, d)");
    assert!(p.text.contains("LIKE $1 ESCAPE '\u{1}'"), "{}", p.text);
    assert!(p.text.contains("DATEADD('DAY', $2, d)"), "{}", p.text);
    assert!(parameterize(&parse_script("CREATE TABLE t (a INT)").expect("parses")[0].statement).is_none());
}

#[test]
fn string_lengths_are_keyed_where_they_can_show() {
    // In the select list the length decides the VARCHAR(n) result type.
    assert_ne!(types("SELECT 'ab' FROM t"), types("SELECT 'abc' FROM t"));
    assert_eq!(
        types("SELECT 'ab' FROM t"),
        vec![DataType::Varchar { len: 2, bytes: false }]
    );
    // Compared, inserted or assigned, it cannot.
    assert_eq!(types("UPDATE t SET s = 'ab'"), types("UPDATE t SET s = 'abcdef'"));
    assert_eq!(
        types("SELECT a FROM t WHERE s IN ('a', 'bb')"),
        vec![DataType::VARCHAR_MAX; 2]
    );
}
