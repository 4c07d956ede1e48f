//! Procedure statements through `parse_script`: CREATE / DROP / PARTITION PROCEDURE, EXEC and
//! CALL, script splitting around `BEGIN ... END` and `$$ ... $$`, and their error messages.

use proptest::prelude::*;
use voltrs_sql::Error;
use voltrs_sql::parser::{Parsed, Statement, parse_script};
use voltrs_sql::proc_parser::{CreateProcedure, ExecArg, FROM_CLASS_UNSUPPORTED, ProcBody, ProcPartition};
use voltrs_storage::DataType;

fn one(sql: &str) -> Statement {
    let mut v = parse_script(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert_eq!(v.len(), 1, "{sql}");
    v.remove(0).statement
}

fn create(sql: &str) -> CreateProcedure {
    match one(sql) {
        Statement::CreateProcedure(p) => p,
        other => panic!("{sql}: not CREATE PROCEDURE: {other:?}"),
    }
}

fn sql_body(p: &CreateProcedure) -> &[Parsed] {
    match &p.body {
        ProcBody::Sql(stmts) => stmts,
        ProcBody::Lua(_) => panic!("{}: a Lua body", p.name),
    }
}

fn lua_body(p: &CreateProcedure) -> &str {
    match &p.body {
        ProcBody::Lua(src) => src,
        ProcBody::Sql(_) => panic!("{}: a SQL body", p.name),
    }
}

fn err(sql: &str) -> Error {
    match parse_script(sql) {
        Ok(v) => panic!(
            "{sql}: parsed as {:?}",
            v.iter().map(|p| &p.statement).collect::<Vec<_>>()
        ),
        Err(e) => e,
    }
}

fn syntax_message(sql: &str) -> (String, u64, u64) {
    match err(sql) {
        Error::Syntax { message, line, column } => (message, line, column),
        other => panic!("{sql}: not a syntax error: {other:?}"),
    }
}

fn exec(sql: &str) -> (String, Vec<ExecArg>) {
    match one(sql) {
        Statement::Exec { name, args } => (name, args),
        other => panic!("{sql}: not EXEC: {other:?}"),
    }
}

fn partition(table: &str, column: &str, parameter: Option<usize>) -> Option<ProcPartition> {
    Some(ProcPartition {
        table: table.into(),
        column: column.into(),
        parameter,
    })
}

#[test]
fn single_statement_procedure() {
    let p = create("CREATE PROCEDURE AddUser AS INSERT INTO users VALUES (?, ?, CURRENT_TIMESTAMP);");
    assert_eq!(p.name, "AddUser", "the name keeps its case");
    assert_eq!((p.params.clone(), p.partition.clone(), p.allow.len()), (None, None, 0));
    let body = sql_body(&p);
    assert_eq!(body.len(), 1);
    assert_eq!(body[0].text, "INSERT INTO users VALUES (?, ?, CURRENT_TIMESTAMP)");
    assert_eq!(body[0].params, 2);
    assert!(matches!(body[0].statement, Statement::Insert { upsert: false, .. }));
    let v = parse_script("create procedure q as select * from t where a = ? and b = ?").expect("parses");
    assert_eq!(v[0].params, 0, "CREATE PROCEDURE itself takes no parameters");
    let p = create("create procedure q as select * from t where s starts with ?");
    assert_eq!(
        sql_body(&p)[0].text,
        "select * from t where s starts with ?",
        "the text is the source"
    );
    assert_eq!(sql_body(&p)[0].params, 1);
}

#[test]
fn partition_and_allow_in_either_order() {
    let a = create("CREATE PROCEDURE p PARTITION ON TABLE votes COLUMN phone PARAMETER 1 ALLOW ops, Admin AS SELECT 1");
    let b = create("CREATE PROCEDURE p ALLOW ops, Admin PARTITION ON TABLE votes COLUMN phone PARAMETER 1 AS SELECT 1");
    for p in [&a, &b] {
        assert_eq!(p.partition, partition("VOTES", "PHONE", Some(1)));
        assert_eq!(p.allow, vec!["OPS".to_string(), "ADMIN".to_string()]);
    }
    let c = create("create procedure p partition on table t column c as delete from t where c = ?");
    assert_eq!(c.partition, partition("T", "C", None));
    let (m, ..) = syntax_message("CREATE PROCEDURE p ALLOW a ALLOW b AS SELECT 1");
    assert_eq!(m, "ALLOW is given twice");
    let (m, ..) =
        syntax_message("CREATE PROCEDURE p PARTITION ON TABLE t COLUMN c PARTITION ON TABLE t COLUMN c AS SELECT 1");
    assert_eq!(m, "PARTITION ON is given twice");
}

#[test]
fn begin_end_block_with_case_end_inside() {
    let sql = "CREATE PROCEDURE p AS BEGIN\n  SELECT CASE WHEN a = ? THEN 1 ELSE 2 END FROM t;\n  \
               UPDATE t SET a = ? WHERE b = ?;\nEND;\nSELECT 3;";
    let v = parse_script(sql).expect("parses");
    assert_eq!(v.len(), 2, "the procedure and SELECT 3");
    assert!(
        v[0].text.starts_with("CREATE PROCEDURE p AS BEGIN") && v[0].text.ends_with("END"),
        "{}",
        v[0].text
    );
    assert_eq!(v[1].text, "SELECT 3");
    let Statement::CreateProcedure(p) = &v[0].statement else {
        panic!("not CREATE PROCEDURE")
    };
    let body = sql_body(p);
    let texts: Vec<&str> = body.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "SELECT CASE WHEN a = ? THEN 1 ELSE 2 END FROM t",
            "UPDATE t SET a = ? WHERE b = ?"
        ]
    );
    assert_eq!(
        body.iter().map(|s| s.params).collect::<Vec<_>>(),
        [1, 2],
        "markers numbered per statement"
    );
    assert!(matches!(body[0].statement, Statement::Query(_)));
    assert!(matches!(body[1].statement, Statement::Update(_)));
}

#[test]
fn block_forms() {
    // Nested CASE, lower case, no `;` before END, stray `;`, comments, TRUNCATE and UPSERT.
    let p = create(
        "create procedure p as begin -- the body\n select case when a then case when b then 1 end else 2 end from t;; \
         upsert into t values (?, ?); truncate table t; delete from t where a = ? end",
    );
    let kinds: Vec<&str> = sql_body(&p)
        .iter()
        .map(|s| match s.statement {
            Statement::Query(_) => "query",
            Statement::Insert { upsert: true, .. } => "upsert",
            Statement::Truncate { .. } => "truncate",
            Statement::Delete(_) => "delete",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["query", "upsert", "truncate", "delete"]);
    // A first AS not followed by BEGIN is a one-statement body: its CASE ... END splits nothing.
    let v = parse_script("CREATE PROCEDURE p AS SELECT CASE WHEN a THEN 1 END AS x FROM t; SELECT 2").expect("parses");
    assert_eq!(v.len(), 2);
    // A quoted "END" is a name, not the block's END.
    let p = create("CREATE PROCEDURE p AS BEGIN SELECT \"END\" FROM t; END");
    assert_eq!(sql_body(&p)[0].text, "SELECT \"END\" FROM t");
}

#[test]
fn declared_parameters_use_column_types() {
    let p =
        create("CREATE PROCEDURE p (a BIGINT, Name VARCHAR(10), c DECIMAL, d TIMESTAMP, e VARBINARY(4)) AS SELECT 1");
    assert_eq!(
        p.params,
        Some(vec![
            ("a".to_string(), DataType::BigInt),
            ("Name".to_string(), DataType::Varchar { len: 10, bytes: false }),
            ("c".to_string(), DataType::Decimal),
            ("d".to_string(), DataType::Timestamp),
            ("e".to_string(), DataType::Varbinary { len: 4 }),
        ])
    );
    assert_eq!(create("CREATE PROCEDURE p () AS SELECT 1").params, Some(vec![]));
    let (m, ..) = syntax_message("CREATE PROCEDURE p (a INT, A BIGINT) AS SELECT 1");
    assert_eq!(m, "parameter A is declared twice");
    let (m, ..) = syntax_message("CREATE PROCEDURE p (a BOGUS) AS SELECT 1");
    assert_eq!(m, "unknown data type BOGUS");
    let e = err("CREATE PROCEDURE p (a INT) PARTITION ON TABLE t COLUMN c PARAMETER 1 AS SELECT 1");
    assert_eq!(
        e,
        Error::Invalid(
            "procedure p is partitioned on PARAMETER 1 but declares 1 parameter; PARAMETER counts from 0".into()
        )
    );
    let e = err("CREATE PROCEDURE p () PARTITION ON TABLE t COLUMN c AS SELECT 1");
    assert_eq!(
        e,
        Error::Invalid(
            "procedure p is partitioned on PARAMETER 0 but declares 0 parameters; PARAMETER counts from 0".into()
        )
    );
}

#[test]
fn lua_procedures() {
    let sql = "CREATE PROCEDURE lp (id BIGINT, name VARCHAR(20)) PARTITION ON TABLE t COLUMN id\n\
               LANGUAGE LUA AS $$ local n = 1; -- ; inside\nreturn 'a;b' $$;\nSELECT 1;";
    let v = parse_script(sql).expect("parses");
    assert_eq!(v.len(), 2, "the ; inside $$ ... $$ does not split");
    let Statement::CreateProcedure(p) = &v[0].statement else {
        panic!("not CREATE PROCEDURE")
    };
    assert_eq!(lua_body(p), " local n = 1; -- ; inside\nreturn 'a;b' ");
    assert_eq!(p.partition, partition("T", "ID", None));
    assert_eq!(p.params.as_ref().map(Vec::len), Some(2));
    let p = create("CREATE PROCEDURE lp () LANGUAGE lua AS 'return ''x''; -- y'");
    assert_eq!(lua_body(&p), "return 'x'; -- y");
    let p = create("CREATE PROCEDURE lp () LANGUAGE LUA AS $body$ return '$$' $body$");
    assert_eq!(lua_body(&p), " return '$$' ");
    let (m, line, column) = syntax_message("CREATE PROCEDURE lp\nLANGUAGE LUA AS $$ return 1 $$");
    assert_eq!(
        (m.as_str(), line, column),
        (
            "a Lua procedure declares its parameters: CREATE PROCEDURE lp (name TYPE, ...) LANGUAGE LUA AS $$ ... $$ (write () for none)",
            2,
            10
        )
    );
    let (m, ..) = syntax_message("CREATE PROCEDURE lp () LANGUAGE JAVA AS $$ x $$");
    assert_eq!(
        m,
        "unknown procedure language 'JAVA': voltrs procedures are SQL (AS ...) or Lua (LANGUAGE LUA AS $$ ... $$)"
    );
    let (m, ..) = syntax_message("CREATE PROCEDURE lp () LANGUAGE LUA AS return 1");
    assert_eq!(m, "expected the Lua source as $$ ... $$ or '...', found 'return'");
    let (m, ..) = syntax_message("CREATE PROCEDURE lp () LANGUAGE LUA AS $$ a $$ junk");
    assert_eq!(m, "expected end of statement, found 'junk'");
    let (m, ..) = syntax_message("CREATE PROCEDURE lp () LANGUAGE LUA AS $$ never closed;");
    assert_eq!(m, "Unterminated dollar-quoted string");
}

#[test]
fn from_class_directed_and_two_partition_are_refused() {
    let expected = Error::Unsupported(FROM_CLASS_UNSUPPORTED.into());
    assert_eq!(
        expected.to_string(),
        "not supported: CREATE PROCEDURE ... FROM CLASS needs compiled Java classes, which voltrs does not run; \
         write the procedure in SQL (AS ..., AS BEGIN ... END) or Lua (LANGUAGE LUA AS $$ ... $$); see docs/PROCEDURES.md"
    );
    for sql in [
        "CREATE PROCEDURE FROM CLASS voter.procedures.Vote",
        "create procedure from class voter.Vote",
        "CREATE PROCEDURE PARTITION ON TABLE t COLUMN c PARAMETER 1 FROM CLASS x.Y",
        "CREATE PROCEDURE ALLOW r1, r2 PARTITION ON TABLE t COLUMN c FROM CLASS x.Y",
        "CREATE PROCEDURE Vote FROM CLASS voter.Vote",
    ] {
        assert_eq!(err(sql), expected, "{sql}");
    }
    assert_eq!(
        err("CREATE PROCEDURE DIRECTED FROM CLASS x.Y"),
        Error::Unsupported("DIRECTED procedures (they run a Java class on every partition)".into())
    );
    assert_eq!(
        err("CREATE PROCEDURE p PARTITION ON TABLE a COLUMN x AND ON TABLE b COLUMN y PARAMETER 1 AS SELECT 1"),
        Error::Unsupported("two-partition procedures (PARTITION ON TABLE ... AND ON TABLE ...)".into())
    );
}

#[test]
fn missing_end_is_reported_at_begin() {
    let (m, line, column) = syntax_message("SELECT 1;\nCREATE PROCEDURE p AS BEGIN\n SELECT 1;\n SELECT 2;");
    assert_eq!(
        (m.as_str(), line, column),
        ("procedure p: AS BEGIN has no matching END", 2, 23)
    );
    // An END that closes a CASE does not close the block.
    let (m, ..) = syntax_message("CREATE PROCEDURE p AS BEGIN SELECT CASE WHEN a THEN 1 END FROM t;");
    assert_eq!(m, "procedure p: AS BEGIN has no matching END");
    let (m, ..) = syntax_message("CREATE PROCEDURE p AS BEGIN END");
    assert_eq!(m, "procedure p: AS BEGIN ... END holds no statement");
    let (m, ..) = syntax_message("CREATE PROCEDURE p AS BEGIN SELECT 1; END junk");
    assert_eq!(m, "expected end of statement after END, found 'junk'");
    let (m, ..) = syntax_message("CREATE PROCEDURE p AS");
    assert_eq!(m, "expected a statement after AS, found end of statement");
}

#[test]
fn only_queries_and_dml_inside_a_procedure() {
    let (m, line, column) = syntax_message("CREATE PROCEDURE p AS CREATE TABLE t (a INT)");
    assert_eq!(
        (m.as_str(), line, column),
        (
            "procedure p: statement 1 is CREATE TABLE; a procedure holds only SELECT, INSERT, UPSERT, UPDATE, DELETE \
             and TRUNCATE TABLE statements",
            1,
            23
        )
    );
    let (m, line, column) = syntax_message("CREATE PROCEDURE p AS BEGIN\n SELECT 1;\n DROP TABLE t;\nEND;");
    assert!(m.starts_with("procedure p: statement 2 is DROP TABLE; "), "{m}");
    assert_eq!((line, column), (3, 2));
    for (sql, what) in [
        (
            "CREATE PROCEDURE p AS BEGIN CREATE PROCEDURE q AS SELECT 1; END",
            "CREATE PROCEDURE",
        ),
        ("CREATE PROCEDURE p AS EXEC q 1", "EXEC Q"),
        ("CREATE PROCEDURE p AS USE db", "USE DB"),
        ("CREATE PROCEDURE p AS EXPLAIN SELECT 1", "EXPLAIN SELECT"),
        ("CREATE PROCEDURE p AS PARTITION TABLE t ON COLUMN c", "PARTITION TABLE"),
    ] {
        let (m, ..) = syntax_message(sql);
        assert!(m.contains(&format!("is {what}; a procedure holds only")), "{sql}: {m}");
    }
    // A body statement's own syntax error keeps its script position.
    let (m, line, column) = syntax_message("CREATE PROCEDURE p AS BEGIN\n SELECT 1;\n SELECT FROM WHERE;\nEND;");
    assert_eq!(
        (m.as_str(), line, column),
        ("Expected: table name, found: WHERE", 3, 14)
    );
}

#[test]
fn bad_partition_parameter() {
    let msg = |found: &str| {
        format!(
            "PARAMETER takes the 0-based index of the partitioning parameter (an integer from 0 to 1023), found {found}"
        )
    };
    for (sql, found) in [
        (
            "CREATE PROCEDURE p PARTITION ON TABLE t COLUMN c PARAMETER -1 AS SELECT 1",
            "-1",
        ),
        (
            "CREATE PROCEDURE p PARTITION ON TABLE t COLUMN c PARAMETER 1.5 AS SELECT 1",
            "1.5",
        ),
        (
            "CREATE PROCEDURE p PARTITION ON TABLE t COLUMN c PARAMETER x AS SELECT 1",
            "'x'",
        ),
        (
            "CREATE PROCEDURE p PARTITION ON TABLE t COLUMN c PARAMETER",
            "end of statement",
        ),
        (
            "PARTITION PROCEDURE p ON TABLE t COLUMN c PARAMETER 99999999999999999999999",
            "99999999999999999999999",
        ),
    ] {
        let (m, ..) = syntax_message(sql);
        assert_eq!(m, msg(found), "{sql}");
    }
    let (_, line, column) = syntax_message("CREATE PROCEDURE p PARTITION ON TABLE t COLUMN c PARAMETER -1 AS SELECT 1");
    assert_eq!((line, column), (1, 60));
}

#[test]
fn names_of_created_procedures() {
    let (m, ..) = syntax_message("CREATE PROCEDURE votes.insert AS SELECT 1");
    assert!(
        m.starts_with("procedure name votes.insert: names with '.' belong to the default procedures"),
        "{m}"
    );
    let (m, ..) = syntax_message("CREATE PROCEDURE @Mine AS SELECT 1");
    assert_eq!(
        m,
        "cannot create procedure @Mine: names starting with @ belong to system procedures"
    );
    let (m, ..) = syntax_message("CREATE PROCEDURE AS SELECT 1");
    assert_eq!(m, "expected a procedure name, found 'AS'");
    let (m, ..) = syntax_message("CREATE PROCEDURE PARTITION ON TABLE t COLUMN c AS SELECT 1");
    assert_eq!(m, "expected a procedure name after CREATE PROCEDURE");
    assert_eq!(create("CREATE PROCEDURE \"My Proc\" AS SELECT 1").name, "My Proc");
    assert_eq!(create("CREATE PROCEDURE allow AS SELECT 1").name, "allow");
    assert_eq!(create("CREATE PROCEDURE Allow (a INT) AS SELECT 1").name, "Allow");
    assert_eq!(
        create("CREATE PROCEDURE allow PARTITION ON TABLE t COLUMN c AS SELECT 1").name,
        "allow"
    );
    let (m, ..) = syntax_message("CREATE PROCEDURE p SELECT 1");
    assert_eq!(m, "expected AS, LANGUAGE LUA AS or FROM CLASS, found 'SELECT'");
}

#[test]
fn drop_and_partition_procedure() {
    for (sql, name, if_exists) in [
        ("DROP PROCEDURE AddUser", "AddUser", false),
        ("drop procedure if exists AddUser", "AddUser", true),
        ("DROP PROCEDURE voter.Vote IF EXISTS", "voter.Vote", true),
    ] {
        match one(sql) {
            Statement::DropProcedure { name: n, if_exists: e } => {
                assert_eq!((n.as_str(), e), (name, if_exists), "{sql}")
            }
            other => panic!("{sql}: {other:?}"),
        }
    }
    let (m, ..) = syntax_message("DROP PROCEDURE p CASCADE");
    assert_eq!(m, "expected end of statement, found 'CASCADE'");
    match one("PARTITION PROCEDURE AddUser ON TABLE users COLUMN user_id PARAMETER 2;") {
        Statement::PartitionProcedure { name, partition: part } => {
            assert_eq!(name, "AddUser");
            assert_eq!(Some(part), partition("USERS", "USER_ID", Some(2)));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        one("partition procedure p on table t column c"),
        Statement::PartitionProcedure {
            partition: ProcPartition { parameter: None, .. },
            ..
        }
    ));
    let (m, ..) = syntax_message("PARTITION PROCEDURE p ON COLUMN c");
    assert_eq!(m, "expected TABLE, found 'COLUMN'");
    assert!(matches!(
        one("PARTITION TABLE t ON COLUMN c"),
        Statement::PartitionTable { .. }
    ));
}

#[test]
fn exec_and_call() {
    let (name, args) = exec(
        "EXEC votes.insert 1, -2, 'it''s', NULL, x'0A0b', -1.5, 1e3, +7, 9223372036854775808, -9223372036854775808, ''",
    );
    assert_eq!(name, "votes.insert");
    assert_eq!(
        args,
        vec![
            ExecArg::Integer(1),
            ExecArg::Integer(-2),
            ExecArg::String("it's".into()),
            ExecArg::Null,
            ExecArg::Binary(vec![0x0a, 0x0b]),
            ExecArg::Number("-1.5".into()),
            ExecArg::Number("1e3".into()),
            ExecArg::Integer(7),
            ExecArg::Number("9223372036854775808".into()),
            ExecArg::Integer(i64::MIN),
            ExecArg::String(String::new()),
        ]
    );
    assert_eq!(
        exec("exec @SystemCatalog 'TABLES'"),
        ("@SystemCatalog".into(), vec![ExecArg::String("TABLES".into())])
    );
    assert_eq!(
        exec("EXECUTE AddUser 5, .5"),
        (
            "AddUser".into(),
            vec![ExecArg::Integer(5), ExecArg::Number(".5".into())]
        )
    );
    assert_eq!(exec("EXEC @Ping"), ("@Ping".into(), vec![]));
    assert_eq!(
        exec("CALL AddUser(1, 'a')"),
        ("AddUser".into(), vec![ExecArg::Integer(1), ExecArg::String("a".into())])
    );
    assert_eq!(exec("call p()"), ("p".into(), vec![]));
    assert_eq!(exec("CALL p"), ("p".into(), vec![]));
    let v = parse_script("EXEC p 'a;b'; EXEC q").expect("parses");
    assert_eq!((v.len(), v[0].params), (2, 0));
}

#[test]
fn exec_arguments_must_be_literals() {
    let msg =
        |found: &str| format!("EXEC arguments must be literals (numbers, 'strings', x'hex' or NULL), found {found}");
    for (sql, found, column) in [
        ("EXEC p a", "'a'", 8),
        ("EXEC p 1, ?", "'?'", 11),
        ("EXEC p 1 + 2", "'+'", 10),
        ("EXEC p 1, \"col\"", "'\"col\"'", 11),
        ("EXEC p TRUE", "'TRUE'", 8),
        ("EXEC p 1L", "'1L'", 8),
        ("EXEC p (1)", "'('", 8),
        ("EXEC p 1,", "end of statement", 10),
    ] {
        let (m, line, col) = syntax_message(sql);
        assert_eq!((m, line, col), (msg(found), 1, column), "{sql}");
    }
    let (m, ..) = syntax_message("CALL p(1, x)");
    assert_eq!(
        m,
        "CALL arguments must be literals (numbers, 'strings', x'hex' or NULL), found 'x'"
    );
    let (m, ..) = syntax_message("EXEC p x'ABC'");
    assert_eq!(m, "binary literal x'ABC' has an odd number of hex digits (3)");
    let (m, ..) = syntax_message("EXEC p 1 2");
    assert_eq!(m, "expected ',' between EXEC arguments, found '2'");
    let (m, ..) = syntax_message("EXEC p -'a'");
    assert_eq!(m, "expected a number after '-', found ''a''");
    let (m, ..) = syntax_message("CALL p(1");
    assert_eq!(m, "expected ',' or ')', found end of statement");
    let (m, ..) = syntax_message("CALL p 1");
    assert_eq!(m, "expected '(' or end of statement, found '1'");
    let (m, ..) = syntax_message("EXEC");
    assert_eq!(m, "expected a procedure name, found end of statement");
    let (m, ..) = syntax_message("EXEC votes. 1");
    assert_eq!(m, "expected a name after 'votes.', found '1'");
    assert!(matches!(err("EXPLAIN EXEC p 1"), Error::Syntax { message, .. } if message.starts_with("EXPLAIN takes")));
}

#[test]
fn script_splitting_keeps_strings_and_blocks_whole() {
    let sql = "CREATE TABLE t (a INT);\n\
               CREATE PROCEDURE p1 AS BEGIN INSERT INTO t VALUES (?); SELECT 'x;y' FROM t; END;\n\
               CREATE PROCEDURE p2 () LANGUAGE LUA AS $$ a(); b() $$;\n\
               CREATE PROCEDURE p3 AS SELECT ';' FROM t;\n\
               EXEC p1 1; CALL p3();";
    let v = parse_script(sql).expect("parses");
    let heads: Vec<String> = v
        .iter()
        .map(|p| p.text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        heads,
        [
            "CREATE TABLE t",
            "CREATE PROCEDURE p1",
            "CREATE PROCEDURE p2",
            "CREATE PROCEDURE p3",
            "EXEC p1 1",
            "CALL p3()"
        ]
    );
    let Statement::CreateProcedure(p1) = &v[1].statement else {
        panic!("not CREATE PROCEDURE")
    };
    assert_eq!(sql_body(p1)[1].text, "SELECT 'x;y' FROM t");
    assert!(
        v[1].text.contains("VALUES (?); SELECT"),
        "the text keeps the inner ';': {}",
        v[1].text
    );
}

/// Valid scripts whose every prefix must parse or fail cleanly.
const SCRIPTS: &[&str] = &[
    "CREATE PROCEDURE p (a BIGINT, b VARCHAR(10)) PARTITION ON TABLE t COLUMN c PARAMETER 0 ALLOW r1, r2 AS BEGIN \
     SELECT CASE WHEN a = ? THEN 'x;' ELSE 'y' END FROM t WHERE b = ?; UPSERT INTO t VALUES (?, ?); END; SELECT 1;",
    "CREATE PROCEDURE lp (id BIGINT) LANGUAGE LUA AS $$ local x = 1; return x $$; EXEC lp 1, -2.5, 'a''b', NULL, x'0A';",
    "CREATE PROCEDURE q ALLOW r PARTITION ON TABLE t COLUMN c AS DELETE FROM t WHERE c = ?; \
     PARTITION PROCEDURE q ON TABLE t COLUMN c PARAMETER 1; DROP PROCEDURE q IF EXISTS; CALL q(1, 'z');",
];

#[test]
fn sample_scripts_parse() {
    for sql in SCRIPTS {
        let v = parse_script(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert!(v.len() >= 2, "{sql}");
    }
}

fn char_prefix(s: &str, cut: usize) -> &str {
    let cut = cut.min(s.len());
    let end = (0..=cut).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
    &s[..end]
}

#[test]
fn every_prefix_of_a_sample_script_parses_or_fails_cleanly() {
    for sql in SCRIPTS {
        for cut in (0..=sql.len()).filter(|&i| sql.is_char_boundary(i)) {
            if let Err(e) = parse_script(&sql[..cut]) {
                assert!(!e.to_string().is_empty());
            }
        }
    }
}

proptest! {
    #[test]
    fn truncated_procedure_scripts_never_panic(which in 0..SCRIPTS.len(), cut in 0usize..400, skip in 0usize..400) {
        let sql = SCRIPTS[which];
        // A prefix, and the prefix with a middle chunk removed.
        let _ = parse_script(char_prefix(sql, cut));
        let head = char_prefix(sql, cut);
        let tail_start = (head.len() + skip).min(sql.len());
        if sql.is_char_boundary(tail_start) {
            let _ = parse_script(&format!("{head}{}", &sql[tail_start..]));
        }
    }
}
