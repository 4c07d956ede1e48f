//! Scans, joins and aggregation.

use voltrs_storage::{DataType, Decimal, Value};

use super::*;

fn people(fx: &mut Fixture, def: &crate::catalog::TableDef) {
    fx.create(def);
    for (id, name) in [(1, "ann"), (2, "bob"), (3, "cid"), (4, "dan"), (5, "eve"), (6, "fay")] {
        fx.insert(def, vec![int(id), s(name)]);
    }
    fx.insert(def, vec![int(7), N]);
}

#[test]
fn exec_scan_partitioned_reads_every_partition() {
    let mut fx = Fixture::new();
    let def = table_def(1, "P", Some(0));
    people(&mut fx, &def);
    // The rows really are spread over both partitions.
    let per_part: Vec<usize> = fx.parts.iter().map(|p| p.table(1).map_or(0, |t| t.len())).collect();
    assert_eq!(per_part.iter().sum::<usize>(), 7);
    assert!(
        per_part.iter().all(|&n| n > 0),
        "rows all in one partition: {per_part:?}"
    );

    let all = fx
        .run(&Plan::Scan {
            table: def.clone(),
            filter: None,
            access: Default::default(),
            pin: None,
        })
        .unwrap();
    assert_eq!(all.len(), 7);
    let filter = bin(BinOp::GtEq, col(0), lit(int(4)));
    let some = fx
        .run(&Plan::Scan {
            table: def.clone(),
            filter: Some(filter),
            access: Default::default(),
            pin: None,
        })
        .unwrap();
    assert_eq!(
        sorted(some).into_iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
        vec![int(4), int(5), int(6), int(7)]
    );
    // A filter that is NULL for a row drops it.
    let null_filter = bin(BinOp::Eq, Expr::column(1, DataType::VARCHAR_MAX), lit(s("fay")));
    let fay = fx
        .run(&Plan::Scan {
            table: def,
            filter: Some(null_filter),
            access: Default::default(),
            pin: None,
        })
        .unwrap();
    assert_eq!(fay, vec![vec![int(6), s("fay")]]);
}

#[test]
fn exec_scan_replicated_reads_one_copy() {
    let mut fx = Fixture::new();
    let def = table_def(2, "R", None);
    people(&mut fx, &def);
    assert!(fx.parts.iter().all(|p| p.table(2).map_or(0, |t| t.len()) == 7));
    let all = fx
        .run(&Plan::Scan {
            table: def.clone(),
            filter: None,
            access: Default::default(),
            pin: None,
        })
        .unwrap();
    assert_eq!(all.len(), 7);
    assert_eq!(all[0], vec![int(1), s("ann")]);
    let filter = bin(BinOp::Lt, col(0), lit(int(3)));
    assert_eq!(
        fx.run(&Plan::Scan {
            table: def,
            filter: Some(filter),
            access: Default::default(),
            pin: None,
        })
        .unwrap()
        .len(),
        2
    );
}

#[test]
fn exec_scan_missing_table_is_an_error() {
    let fx = Fixture::new();
    let err = fx
        .run(&Plan::Scan {
            table: table_def(9, "GONE", Some(0)),
            filter: None,
            access: Default::default(),
            pin: None,
        })
        .unwrap_err();
    assert_eq!(err.kind(), "invalid");
    let err = fx
        .run(&Plan::Scan {
            table: table_def(9, "GONE", None),
            filter: None,
            access: Default::default(),
            pin: None,
        })
        .unwrap_err();
    assert_eq!(err.kind(), "invalid");
}

fn join_left() -> Plan {
    values(vec![
        vec![int(1), s("a")],
        vec![int(2), s("b")],
        vec![N, s("c")],
        vec![int(2), s("d")],
    ])
}

fn join_right() -> Plan {
    values(vec![
        vec![int(2), s("x")],
        vec![int(3), s("y")],
        vec![N, s("z")],
        vec![int(2), s("w")],
    ])
}

fn expected(kind: JoinKind) -> Vec<Row> {
    let mut out = Vec::new();
    let pairs = |l: Value, ln: &str| vec![vec![l.clone(), s(ln), int(2), s("x")], vec![l, s(ln), int(2), s("w")]];
    let outer_left = matches!(kind, JoinKind::Left | JoinKind::Full);
    if outer_left {
        out.push(vec![int(1), s("a"), N, N]);
    }
    out.extend(pairs(int(2), "b"));
    if outer_left {
        out.push(vec![N, s("c"), N, N]);
    }
    out.extend(pairs(int(2), "d"));
    if matches!(kind, JoinKind::Right | JoinKind::Full) {
        out.push(vec![N, N, int(3), s("y")]);
        out.push(vec![N, N, N, s("z")]);
    }
    out
}

#[test]
fn exec_hash_joins_with_null_keys() {
    for kind in [JoinKind::Inner, JoinKind::Left, JoinKind::Right, JoinKind::Full] {
        let plan = join(join_left(), join_right(), kind, vec![(col(0), col(0))], None);
        assert_eq!(rows(&plan), expected(kind), "{kind:?}");
    }
}

#[test]
fn exec_nested_loop_joins_with_null_keys() {
    for kind in [JoinKind::Inner, JoinKind::Left, JoinKind::Right, JoinKind::Full] {
        let on = bin(BinOp::Eq, col(0), col(2));
        let plan = join(join_left(), join_right(), kind, Vec::new(), Some(on));
        assert_eq!(rows(&plan), expected(kind), "{kind:?}");
    }
}

#[test]
fn exec_join_residual_and_cross() {
    // Hash join plus a residual ON: only the 'x' partner passes, 'w' becomes unmatched.
    let on = bin(BinOp::Eq, Expr::column(3, DataType::VARCHAR_MAX), lit(s("x")));
    let plan = join(
        join_left(),
        join_right(),
        JoinKind::Full,
        vec![(col(0), col(0))],
        Some(on),
    );
    assert_eq!(
        rows(&plan),
        vec![
            vec![int(1), s("a"), N, N],
            vec![int(2), s("b"), int(2), s("x")],
            vec![N, s("c"), N, N],
            vec![int(2), s("d"), int(2), s("x")],
            vec![N, N, int(3), s("y")],
            vec![N, N, N, s("z")],
            vec![N, N, int(2), s("w")],
        ]
    );
    let cross = join(join_left(), join_right(), JoinKind::Inner, Vec::new(), None);
    let out = rows(&cross);
    assert_eq!(out.len(), 16);
    assert_eq!(out[1], vec![int(1), s("a"), int(3), s("y")]);
    // Outer joins against an empty side.
    let empty = values_w(Vec::new(), 2);
    let left = join(join_left(), empty.clone(), JoinKind::Left, vec![(col(0), col(0))], None);
    assert_eq!(rows(&left)[2], vec![N, s("c"), N, N]);
    let right = join(empty, join_right(), JoinKind::Right, Vec::new(), None);
    assert_eq!(rows(&right)[1], vec![N, N, int(3), s("y")]);
}

fn agg_input() -> Plan {
    values(vec![
        vec![s("a"), int(1)],
        vec![s("b"), int(2)],
        vec![s("a"), int(3)],
        vec![N, int(4)],
        vec![s("a"), N],
        vec![s("b"), int(2)],
    ])
}

fn all_aggs() -> Vec<AggCall> {
    let v = || Some(col(1));
    vec![
        agg(AggFunc::CountStar, None, false, DataType::BigInt),
        agg(AggFunc::Count, v(), false, DataType::BigInt),
        agg(AggFunc::Sum, v(), false, DataType::BigInt),
        agg(AggFunc::Avg, v(), false, DataType::BigInt),
        agg(AggFunc::Min, v(), false, DataType::BigInt),
        agg(AggFunc::Max, v(), false, DataType::BigInt),
        agg(AggFunc::Count, v(), true, DataType::BigInt),
        agg(AggFunc::Sum, v(), true, DataType::BigInt),
    ]
}

#[test]
fn exec_group_by_aggregates() {
    let plan = Plan::Aggregate {
        input: Box::new(agg_input()),
        group_by: vec![col(0)],
        aggs: all_aggs(),
    };
    let i = int;
    assert_eq!(
        rows(&plan),
        vec![
            vec![s("a"), i(3), i(2), i(4), i(2), i(1), i(3), i(2), i(4)],
            vec![s("b"), i(2), i(2), i(4), i(2), i(2), i(2), i(1), i(2)],
            vec![N, i(1), i(1), i(4), i(4), i(4), i(4), i(1), i(4)],
        ]
    );
    let whole = Plan::Aggregate {
        input: Box::new(agg_input()),
        group_by: Vec::new(),
        aggs: all_aggs(),
    };
    assert_eq!(
        rows(&whole),
        vec![vec![i(6), i(5), i(12), i(2), i(1), i(4), i(4), i(10)]]
    );
}

#[test]
fn exec_aggregates_on_empty_input() {
    let empty = || Box::new(values_w(Vec::new(), 2));
    let plan = Plan::Aggregate {
        input: empty(),
        group_by: Vec::new(),
        aggs: all_aggs(),
    };
    assert_eq!(rows(&plan), vec![vec![int(0), int(0), N, N, N, N, int(0), N]]);
    let grouped = Plan::Aggregate {
        input: empty(),
        group_by: vec![col(0)],
        aggs: all_aggs(),
    };
    assert_eq!(rows(&grouped), Vec::<Row>::new());
    // All-NULL input behaves like no input for everything but COUNT(*).
    let nulls = Plan::Aggregate {
        input: Box::new(values_w(vec![vec![N, N]], 2)),
        group_by: Vec::new(),
        aggs: all_aggs(),
    };
    assert_eq!(rows(&nulls), vec![vec![int(1), int(0), N, N, N, N, int(0), N]]);
}

#[test]
fn exec_avg_and_sum_types() {
    let avg = |input: Vec<Value>, ty: DataType| {
        let plan = Plan::Aggregate {
            input: Box::new(values(input.into_iter().map(|v| vec![v]).collect())),
            group_by: Vec::new(),
            aggs: vec![
                agg(AggFunc::Avg, Some(col(0)), false, ty),
                agg(AggFunc::Sum, Some(col(0)), false, ty),
            ],
        };
        run(&plan)
    };
    // Integer average truncates toward zero.
    assert_eq!(
        avg(vec![int(1), int(2)], DataType::BigInt).unwrap(),
        vec![vec![int(1), int(3)]]
    );
    assert_eq!(
        avg(vec![int(-1), int(-2)], DataType::BigInt).unwrap(),
        vec![vec![int(-1), int(-3)]]
    );
    assert_eq!(
        avg(vec![int(-7), int(0)], DataType::Integer).unwrap(),
        vec![vec![int(-3), int(-7)]]
    );
    let f = avg(vec![Value::Float(1.0), Value::Float(2.0)], DataType::Float).unwrap();
    assert_eq!(f, vec![vec![Value::Float(1.5), Value::Float(3.0)]]);
    let d = |x: &str| Value::Decimal(Decimal::parse(x).unwrap());
    let dec = avg(vec![d("1.5"), d("2.25"), d("1")], DataType::Decimal).unwrap();
    assert_eq!(dec, vec![vec![d("1.583333333333"), d("4.75")]]);
    // Integer overflow is a range error.
    let err = avg(vec![int(i64::MAX), int(1)], DataType::BigInt).unwrap_err();
    assert_eq!(err.kind(), "range");
}

#[test]
fn exec_group_by_two_keys_with_nulls() {
    let input = values(vec![
        vec![N, int(1), int(10)],
        vec![int(1), N, int(20)],
        vec![N, int(1), int(30)],
        vec![int(1), N, int(40)],
        vec![N, N, int(50)],
    ]);
    let plan = Plan::Aggregate {
        input: Box::new(input),
        group_by: vec![col(0), col(1)],
        aggs: vec![agg(AggFunc::Sum, Some(col(2)), false, DataType::BigInt)],
    };
    assert_eq!(
        rows(&plan),
        vec![vec![N, int(1), int(40)], vec![int(1), N, int(60)], vec![N, N, int(50)]]
    );
}
