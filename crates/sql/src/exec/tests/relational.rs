//! Window functions, sorting, LIMIT/OFFSET, DISTINCT and set operations.

use voltrs_storage::{DataType, Value};

use super::*;
use crate::expr::ExprKind;
use crate::plan::{WindowCall, WindowFunc};

fn window_call(func: WindowFunc, arg: Option<Expr>, order_by: Vec<SortKey>) -> WindowCall {
    WindowCall {
        func,
        arg,
        partition_by: vec![col(0)],
        order_by,
        ty: DataType::BigInt,
    }
}

#[test]
fn exec_window_ranks_and_running_aggregates() {
    let input = values(vec![
        vec![int(1), int(20)],
        vec![int(2), int(5)],
        vec![int(1), int(10)],
        vec![int(1), int(30)],
        vec![int(2), int(5)],
        vec![int(1), int(20)],
        vec![int(1), N],
    ]);
    let by_v = || vec![sort_key(1, false, true)];
    let funcs = vec![
        window_call(WindowFunc::Rank, None, by_v()),
        window_call(WindowFunc::DenseRank, None, by_v()),
        window_call(WindowFunc::RowNumber, None, by_v()),
        window_call(WindowFunc::Agg(AggFunc::Sum), Some(col(1)), by_v()),
        window_call(WindowFunc::Agg(AggFunc::Sum), Some(col(1)), Vec::new()),
        window_call(
            WindowFunc::Agg(AggFunc::Min),
            Some(col(1)),
            vec![sort_key(1, true, false)],
        ),
        window_call(WindowFunc::Agg(AggFunc::Count), Some(col(1)), by_v()),
        window_call(WindowFunc::Agg(AggFunc::CountStar), None, by_v()),
    ];
    let plan = Plan::Window {
        input: Box::new(input),
        funcs,
    };
    let i = int;
    assert_eq!(
        rows(&plan),
        vec![
            vec![i(1), i(20), i(3), i(3), i(3), i(50), i(80), i(20), i(3), i(4)],
            vec![i(2), i(5), i(1), i(1), i(1), i(10), i(10), i(5), i(2), i(2)],
            vec![i(1), i(10), i(2), i(2), i(2), i(10), i(80), i(10), i(1), i(2)],
            vec![i(1), i(30), i(5), i(4), i(5), i(80), i(80), i(30), i(4), i(5)],
            vec![i(2), i(5), i(1), i(1), i(2), i(10), i(10), i(5), i(2), i(2)],
            vec![i(1), i(20), i(3), i(3), i(4), i(50), i(80), i(20), i(3), i(4)],
            vec![i(1), N, i(1), i(1), i(1), N, i(80), i(10), i(0), i(1)],
        ]
    );
}

#[test]
fn exec_window_without_partition_or_order() {
    let input = values(vec![vec![int(3)], vec![int(1)], vec![int(2)]]);
    let call = |func| WindowCall {
        func,
        arg: None,
        partition_by: Vec::new(),
        order_by: Vec::new(),
        ty: DataType::BigInt,
    };
    let plan = Plan::Window {
        input: Box::new(input),
        funcs: vec![
            call(WindowFunc::RowNumber),
            call(WindowFunc::Rank),
            call(WindowFunc::Agg(AggFunc::CountStar)),
        ],
    };
    assert_eq!(
        rows(&plan),
        vec![
            vec![int(3), int(1), int(1), int(3)],
            vec![int(1), int(2), int(1), int(3)],
            vec![int(2), int(3), int(1), int(3)]
        ]
    );
}

fn sort_input() -> Plan {
    values(vec![
        vec![int(3), s("c")],
        vec![N, s("n")],
        vec![int(1), s("a")],
        vec![int(2), s("b")],
        vec![int(1), s("a2")],
    ])
}

fn sorted_names(keys: Vec<SortKey>) -> Vec<Value> {
    rows(&Plan::Sort {
        input: Box::new(sort_input()),
        keys,
    })
    .into_iter()
    .map(|r| r[1].clone())
    .collect()
}

#[test]
fn exec_sort_nulls_and_direction() {
    let names = |v: &[&str]| v.iter().map(|x| s(x)).collect::<Vec<_>>();
    assert_eq!(
        sorted_names(vec![sort_key(0, false, true)]),
        names(&["n", "a", "a2", "b", "c"])
    );
    assert_eq!(
        sorted_names(vec![sort_key(0, false, false)]),
        names(&["a", "a2", "b", "c", "n"])
    );
    assert_eq!(
        sorted_names(vec![sort_key(0, true, true)]),
        names(&["n", "c", "b", "a", "a2"])
    );
    assert_eq!(
        sorted_names(vec![sort_key(0, true, false)]),
        names(&["c", "b", "a", "a2", "n"])
    );
    let second = SortKey {
        expr: Expr::column(1, DataType::VARCHAR_MAX),
        desc: true,
        nulls_first: false,
    };
    assert_eq!(
        sorted_names(vec![sort_key(0, false, false), second]),
        names(&["a2", "a", "b", "c", "n"])
    );
}

fn limit(l: Option<Expr>, o: Option<Expr>) -> Plan {
    let input = values((1..=5).map(|i| vec![int(i)]).collect());
    Plan::Limit {
        input: Box::new(input),
        limit: l,
        offset: o,
    }
}

fn firsts(rows: Vec<Row>) -> Vec<Value> {
    rows.into_iter().map(|r| r[0].clone()).collect()
}

#[test]
fn exec_limit_offset() {
    let n = |i| Some(lit(int(i)));
    assert_eq!(firsts(rows(&limit(n(2), n(1)))), vec![int(2), int(3)]);
    assert_eq!(firsts(rows(&limit(n(2), None))), vec![int(1), int(2)]);
    assert_eq!(firsts(rows(&limit(Some(lit(N)), n(3)))), vec![int(4), int(5)]);
    assert_eq!(firsts(rows(&limit(None, Some(lit(N))))).len(), 5);
    assert_eq!(firsts(rows(&limit(n(0), None))), Vec::<Value>::new());
    assert_eq!(firsts(rows(&limit(n(10), n(9)))), Vec::<Value>::new());
    assert_eq!(run(&limit(n(-1), None)).unwrap_err().kind(), "invalid");
    assert_eq!(run(&limit(None, n(-1))).unwrap_err().kind(), "invalid");
    // From parameters.
    let mut fx = Fixture::new();
    fx.params = vec![int(1), int(3)];
    let p = |i| Some(Expr::new(ExprKind::Param(i), DataType::BigInt));
    assert_eq!(firsts(fx.run(&limit(p(0), p(1))).unwrap()), vec![int(4)]);
    assert_eq!(
        fx.run(&limit(p(2), None)).unwrap_err(),
        crate::error::Error::Invalid("parameter 3 not supplied".into())
    );
}

#[test]
fn exec_distinct_keeps_first_occurrence() {
    let input = values(vec![
        vec![int(2), s("a")],
        vec![int(1), N],
        vec![int(2), s("a")],
        vec![int(1), N],
        vec![Value::Float(2.0), s("a")],
        vec![int(1), s("b")],
    ]);
    assert_eq!(
        rows(&Plan::Distinct { input: Box::new(input) }),
        vec![vec![int(2), s("a")], vec![int(1), N], vec![int(1), s("b")]]
    );
}

fn column(vals: &[Value]) -> Plan {
    values_w(vals.iter().map(|v| vec![v.clone()]).collect(), 1)
}

#[test]
fn exec_set_operations() {
    let left = || column(&[int(1), int(1), int(2), N, N, int(3)]);
    let right = || column(&[int(1), N, int(4), N, N]);
    let run_op = |op, all| firsts(rows(&set_op(op, all, left(), right())));
    assert_eq!(run_op(SetOpKind::Union, true).len(), 11);
    assert_eq!(run_op(SetOpKind::Union, false), vec![int(1), int(2), N, int(3), int(4)]);
    assert_eq!(run_op(SetOpKind::Intersect, false), vec![int(1), N]);
    assert_eq!(run_op(SetOpKind::Intersect, true), vec![int(1), N, N]);
    assert_eq!(run_op(SetOpKind::Except, false), vec![int(2), int(3)]);
    assert_eq!(run_op(SetOpKind::Except, true), vec![int(1), int(2), int(3)]);
    // Multi-column rows compare as a whole.
    let l = values(vec![vec![int(1), s("a")], vec![int(1), s("b")]]);
    let r = values(vec![vec![int(1), s("b")]]);
    assert_eq!(
        rows(&set_op(SetOpKind::Except, false, l, r)),
        vec![vec![int(1), s("a")]]
    );
}
