//! Expressions, subqueries and the time limit.

use std::time::{Duration, Instant};

use voltrs_storage::{DataType, Value};

use super::*;
use crate::error::Error;
use crate::exec::{Env, eval};
use crate::expr::Subquery;

fn ev(e: &Expr) -> Result<Value> {
    let fx = Fixture::new();
    eval(e, &Env { row: &[], parent: None }, &fx.ctx())
}

fn val(e: &Expr) -> Value {
    match ev(e) {
        Ok(v) => v,
        Err(err) => panic!("eval failed: {err}"),
    }
}

fn b(x: bool) -> Value {
    Value::Boolean(x)
}

fn bl(x: Option<bool>) -> Expr {
    match x {
        Some(x) => lit(b(x)),
        None => Expr::literal(N, DataType::Boolean),
    }
}

fn missing_param() -> Expr {
    Expr::new(ExprKind::Param(99), DataType::Boolean)
}

#[test]
fn exec_three_valued_logic() {
    let vals = [Some(true), Some(false), None];
    let to_v = |x: Option<bool>| x.map_or(N, b);
    for l in vals {
        for r in vals {
            let and = match (l, r) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            };
            let or = match (l, r) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            };
            assert_eq!(val(&bin(BinOp::And, bl(l), bl(r))), to_v(and), "{l:?} AND {r:?}");
            assert_eq!(val(&bin(BinOp::Or, bl(l), bl(r))), to_v(or), "{l:?} OR {r:?}");
        }
        let not = Expr::new(ExprKind::Not(Box::new(bl(l))), DataType::Boolean);
        assert_eq!(val(&not), to_v(l.map(|x| !x)));
    }
    // Short-circuit: the right side is not evaluated (it would fail).
    assert_eq!(val(&bin(BinOp::And, bl(Some(false)), missing_param())), b(false));
    assert_eq!(val(&bin(BinOp::Or, bl(Some(true)), missing_param())), b(true));
    assert_eq!(
        ev(&bin(BinOp::And, bl(Some(true)), missing_param()))
            .unwrap_err()
            .kind(),
        "invalid"
    );
    assert_eq!(ev(&bin(BinOp::And, lit(int(1)), bl(None))).unwrap_err().kind(), "type");
}

#[test]
fn exec_comparisons_and_null_tests() {
    assert_eq!(val(&bin(BinOp::Lt, lit(int(1)), lit(Value::Float(1.5)))), b(true));
    assert_eq!(val(&bin(BinOp::Eq, lit(int(2)), lit(Value::Float(2.0)))), b(true));
    assert_eq!(val(&bin(BinOp::NotEq, lit(s("a")), lit(s("b")))), b(true));
    assert_eq!(val(&bin(BinOp::GtEq, lit(int(1)), lit(N))), N);
    assert_eq!(
        ev(&bin(BinOp::Eq, lit(int(1)), lit(s("1")))).unwrap_err().kind(),
        "type"
    );
    let nan = lit(Value::Float(f64::NAN));
    assert_eq!(val(&bin(BinOp::Gt, nan.clone(), lit(int(1)))), b(true));
    assert_eq!(val(&bin(BinOp::Eq, nan.clone(), nan)), b(true));
    let is_null = |v: Value, negated| {
        Expr::new(
            ExprKind::IsNull {
                expr: Box::new(lit(v)),
                negated,
            },
            DataType::Boolean,
        )
    };
    assert_eq!(val(&is_null(N, false)), b(true));
    assert_eq!(val(&is_null(int(1), true)), b(true));
    let distinct = |l: Value, r: Value, negated| {
        Expr::new(
            ExprKind::IsDistinct {
                left: Box::new(lit(l)),
                right: Box::new(lit(r)),
                negated,
            },
            DataType::Boolean,
        )
    };
    assert_eq!(val(&distinct(N, N, false)), b(false));
    assert_eq!(val(&distinct(N, int(1), false)), b(true));
    assert_eq!(val(&distinct(int(1), int(1), false)), b(false));
    assert_eq!(val(&distinct(int(1), int(2), true)), b(false));
    // Bad references are errors, never panics.
    assert_eq!(ev(&col(3)).unwrap_err().kind(), "invalid");
    let outer = Expr::new(ExprKind::Outer { depth: 1, index: 0 }, DataType::BigInt);
    assert_eq!(ev(&outer).unwrap_err().kind(), "invalid");
    assert_eq!(
        ev(&missing_param()).unwrap_err(),
        Error::Invalid("parameter 100 not supplied".into())
    );
}

#[test]
fn exec_in_list_null_semantics() {
    let in_list = |v: Value, list: Vec<Value>, negated| {
        let list = list.into_iter().map(lit).collect();
        Expr::new(
            ExprKind::InList {
                expr: Box::new(lit(v)),
                list,
                negated,
            },
            DataType::Boolean,
        )
    };
    assert_eq!(val(&in_list(int(1), vec![int(1), N], false)), b(true));
    assert_eq!(val(&in_list(int(2), vec![int(1), N], false)), N);
    assert_eq!(val(&in_list(int(2), vec![int(1), int(3)], false)), b(false));
    assert_eq!(val(&in_list(N, vec![int(1)], false)), N);
    assert_eq!(val(&in_list(int(1), vec![int(1), N], true)), b(false));
    assert_eq!(val(&in_list(int(2), vec![int(1), N], true)), N);
    assert_eq!(val(&in_list(int(2), vec![int(1), int(3)], true)), b(true));
    assert_eq!(val(&in_list(N, vec![int(1)], true)), N);
}

fn like(text: Value, pattern: &str, escape: Option<&str>, negated: bool) -> Result<Value> {
    let e = Expr::new(
        ExprKind::Like {
            expr: Box::new(lit(text)),
            pattern: Box::new(lit(s(pattern))),
            escape: escape.map(|x| Box::new(lit(s(x)))),
            negated,
        },
        DataType::Boolean,
    );
    ev(&e)
}

#[test]
fn exec_like_patterns() {
    let m = |t: &str, p: &str| like(s(t), p, None, false).unwrap();
    assert_eq!(m("hello", "h%"), b(true));
    assert_eq!(m("hello", "%LL%"), b(false));
    assert_eq!(m("hello", "h_llo"), b(true));
    assert_eq!(m("héllo", "h_llo"), b(true));
    assert_eq!(m("hello", "h_lo"), b(false));
    assert_eq!(m("", "%"), b(true));
    assert_eq!(like(s("hello"), "h%", None, true).unwrap(), b(false));
    assert_eq!(like(N, "h%", None, false).unwrap(), N);
    // Escapes make % and _ literal.
    assert_eq!(like(s("50%"), "50!%", Some("!"), false).unwrap(), b(true));
    assert_eq!(like(s("500"), "50!%", Some("!"), false).unwrap(), b(false));
    assert_eq!(like(s("a_b"), "a#_b", Some("#"), false).unwrap(), b(true));
    assert_eq!(like(s("axb"), "a#_b", Some("#"), false).unwrap(), b(false));
    assert_eq!(like(s("a#b"), "a##b", Some("#"), false).unwrap(), b(true));
    assert_eq!(like(s("ab"), "ab#", Some("#"), false).unwrap_err().kind(), "invalid");
    assert_eq!(like(s("ab"), "ab", Some("##"), false).unwrap_err().kind(), "invalid");
    // Pathological pattern over a long string finishes fast.
    let long = "a".repeat(200_000);
    let start = Instant::now();
    assert_eq!(
        like(Value::str(&long), "%a%a%a%a%a%a%a%a%b", None, false).unwrap(),
        b(false)
    );
    let mut with_b = long.clone();
    with_b.push('b');
    assert_eq!(
        like(Value::str(&with_b), "%a%a%a%a%a%a%a%a%b", None, false).unwrap(),
        b(true)
    );
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "LIKE took {:?}",
        start.elapsed()
    );
}

#[test]
fn exec_starts_with_and_case() {
    let sw = |t: Value, p: Value| {
        Expr::new(
            ExprKind::StartsWith {
                expr: Box::new(lit(t)),
                prefix: Box::new(lit(p)),
            },
            DataType::Boolean,
        )
    };
    assert_eq!(val(&sw(s("hello"), s("he"))), b(true));
    assert_eq!(val(&sw(s("hello"), s("lo"))), b(false));
    assert_eq!(val(&sw(N, s("lo"))), N);
    let case = |operand: Option<Value>, whens: Vec<(Expr, Value)>, else_: Option<Value>| {
        let kind = ExprKind::Case {
            operand: operand.map(|o| Box::new(lit(o))),
            whens: whens.into_iter().map(|(w, t)| (w, lit(t))).collect(),
            else_: else_.map(|e| Box::new(lit(e))),
        };
        val(&Expr::new(kind, DataType::VARCHAR_MAX))
    };
    let whens = || vec![(lit(int(1)), s("one")), (lit(int(2)), s("two"))];
    assert_eq!(case(Some(int(2)), whens(), Some(s("other"))), s("two"));
    assert_eq!(case(Some(int(3)), whens(), Some(s("other"))), s("other"));
    assert_eq!(case(Some(N), vec![(lit(N), s("null"))], None), N);
    let searched = vec![(bl(None), s("a")), (bl(Some(false)), s("b")), (bl(Some(true)), s("c"))];
    assert_eq!(case(None, searched, None), s("c"));
    assert_eq!(case(None, vec![(bl(Some(false)), s("b"))], None), N);
}

#[test]
fn exec_arithmetic_via_arith() {
    assert_eq!(val(&bin(BinOp::Add, lit(int(1)), lit(int(2)))), int(3));
    assert_eq!(
        val(&Expr::new(ExprKind::Neg(Box::new(lit(int(5)))), DataType::BigInt)),
        int(-5)
    );
    assert_eq!(val(&bin(BinOp::Mul, lit(int(3)), lit(N))), N);
}

fn subquery(plan: Plan, correlated: bool, id: usize) -> Box<Subquery> {
    Box::new(Subquery { plan, correlated, id })
}

fn outer_ref(depth: usize, index: usize) -> Expr {
    Expr::new(ExprKind::Outer { depth, index }, DataType::BigInt)
}

#[test]
fn exec_correlated_scalar_subquery() {
    let mut fx = Fixture::new();
    let def = table_def(3, "T", Some(0));
    fx.create(&def);
    for (id, name) in [(1, "one"), (2, "two"), (3, "three")] {
        fx.insert(&def, vec![int(id), s(name)]);
    }
    // SELECT x, (SELECT name FROM t WHERE id = x), (SELECT COUNT(*) FROM t WHERE id < x) FROM (VALUES 1,2,4)
    let name_of = Plan::Project {
        input: Box::new(Plan::Scan {
            table: def.clone(),
            filter: Some(bin(BinOp::Eq, col(0), outer_ref(1, 0))),
            access: Default::default(),
            pin: None,
        }),
        exprs: vec![Expr::column(1, DataType::VARCHAR_MAX)],
    };
    let count_below = Plan::Aggregate {
        input: Box::new(Plan::Filter {
            input: Box::new(Plan::Scan {
                table: def.clone(),
                filter: None,
                access: Default::default(),
                pin: None,
            }),
            predicate: bin(BinOp::Lt, col(0), outer_ref(1, 0)),
        }),
        group_by: Vec::new(),
        aggs: vec![agg(AggFunc::CountStar, None, false, DataType::BigInt)],
    };
    let plan = Plan::Project {
        input: Box::new(values(vec![vec![int(1)], vec![int(2)], vec![int(4)]])),
        exprs: vec![
            col(0),
            Expr::new(
                ExprKind::ScalarSubquery(subquery(name_of, true, 0)),
                DataType::VARCHAR_MAX,
            ),
            Expr::new(
                ExprKind::ScalarSubquery(subquery(count_below, true, 1)),
                DataType::BigInt,
            ),
        ],
    };
    assert_eq!(
        fx.run(&plan).unwrap(),
        vec![
            vec![int(1), s("one"), int(0)],
            vec![int(2), s("two"), int(1)],
            vec![int(4), N, int(3)]
        ]
    );
    // Two levels up: the subquery of a subquery reads the outermost row.
    let inner = Plan::Values {
        rows: vec![vec![outer_ref(2, 0)]],
        types: vec![DataType::BigInt],
    };
    let middle = Plan::Values {
        rows: vec![vec![Expr::new(
            ExprKind::ScalarSubquery(subquery(inner, true, 2)),
            DataType::BigInt,
        )]],
        types: vec![DataType::BigInt],
    };
    let nested = Plan::Project {
        input: Box::new(values(vec![vec![int(7)]])),
        exprs: vec![Expr::new(
            ExprKind::ScalarSubquery(subquery(middle, true, 3)),
            DataType::BigInt,
        )],
    };
    assert_eq!(fx.run(&nested).unwrap(), vec![vec![int(7)]]);
}

#[test]
fn exec_uncorrelated_subqueries() {
    let fx = Fixture::new();
    let ctx = fx.ctx();
    let list = || values_w(vec![vec![int(1)], vec![N], vec![int(3)]], 1);
    let env = Env { row: &[], parent: None };
    let in_sub = |v: Value, negated, plan: Plan| {
        let kind = ExprKind::InSubquery {
            expr: Box::new(lit(v)),
            subquery: subquery(plan, false, 10),
            negated,
        };
        eval(&Expr::new(kind, DataType::Boolean), &env, &ctx).unwrap()
    };
    assert_eq!(in_sub(int(3), false, list()), b(true));
    assert!(ctx.subquery_cache.borrow().contains_key(&10));
    // The cached rows are reused even though this plan differs (same id).
    assert_eq!(in_sub(int(3), false, values_w(Vec::new(), 1)), b(true));
    assert_eq!(in_sub(int(2), false, list()), N);
    assert_eq!(in_sub(int(2), true, list()), N);
    let fresh = Fixture::new();
    let ev_fresh = |e: &Expr| eval(e, &env, &fresh.ctx());
    let in_empty = ExprKind::InSubquery {
        expr: Box::new(lit(N)),
        subquery: subquery(values_w(Vec::new(), 1), false, 1),
        negated: false,
    };
    assert_eq!(ev_fresh(&Expr::new(in_empty, DataType::Boolean)).unwrap(), b(false));
    let exists = |plan, negated| ExprKind::Exists {
        subquery: subquery(plan, false, 2),
        negated,
    };
    assert_eq!(
        ev_fresh(&Expr::new(exists(list(), false), DataType::Boolean)).unwrap(),
        b(true)
    );
    assert_eq!(
        ev_fresh(&Expr::new(exists(values_w(Vec::new(), 1), true), DataType::Boolean)).unwrap(),
        b(true)
    );
    let scalar = |plan| Expr::new(ExprKind::ScalarSubquery(subquery(plan, false, 3)), DataType::BigInt);
    assert_eq!(ev_fresh(&scalar(values_w(Vec::new(), 1))).unwrap(), N);
    assert_eq!(
        ev_fresh(&scalar(list())).unwrap_err(),
        Error::Invalid("scalar subquery returned more than one row".into())
    );
}

#[test]
fn exec_deadline_in_the_past_times_out() {
    let mut fx = Fixture::new();
    let def = table_def(4, "T", Some(0));
    fx.create(&def);
    fx.insert(&def, vec![int(1), s("x")]);
    let past = Instant::now()
        .checked_sub(Duration::from_millis(10))
        .unwrap_or_else(|| {
            let now = Instant::now();
            std::thread::sleep(Duration::from_millis(2));
            now
        });
    let mut ctx = fx.ctx();
    ctx.deadline = Some((past, 25));
    let scan = Plan::Scan {
        table: def.clone(),
        filter: None,
        access: Default::default(),
        pin: None,
    };
    assert_eq!(execute(&scan, &ctx, None).unwrap_err(), Error::Timeout(25));
    let values_only = values(vec![vec![int(2)], vec![int(1)]]);
    for plan in [
        Plan::Sort {
            input: Box::new(values_only.clone()),
            keys: vec![sort_key(0, false, true)],
        },
        Plan::Aggregate {
            input: Box::new(values_only.clone()),
            group_by: Vec::new(),
            aggs: Vec::new(),
        },
        join(
            values_only.clone(),
            values_only,
            JoinKind::Inner,
            vec![(col(0), col(0))],
            None,
        ),
    ] {
        assert_eq!(execute(&plan, &ctx, None).unwrap_err(), Error::Timeout(25));
    }
    // Without a deadline the same plan runs.
    ctx.deadline = None;
    assert_eq!(execute(&scan, &ctx, None).unwrap().len(), 1);
}
