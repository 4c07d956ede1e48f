use std::ops::Bound;

use proptest::prelude::*;

use super::*;

fn key(a: i64, b: i64) -> Key {
    vec![Value::Integer(a), Value::Integer(b)].into_boxed_slice()
}

fn scan_all(ix: &Index, prefix: &[Value], lo: Bound<&Value>, hi: Bound<&Value>, desc: bool) -> Vec<RowId> {
    let mut out = Vec::new();
    ix.scan(prefix, lo, hi, desc, &mut |id| {
        out.push(id);
        true
    });
    out
}

/// The rows a scan must return, by brute force over (key, id) pairs, in key order.
fn expected(rows: &[(Key, RowId)], prefix: &[Value], lo: Bound<&Value>, hi: Bound<&Value>, desc: bool) -> Vec<RowId> {
    let mut hits: Vec<&(Key, RowId)> = rows
        .iter()
        .filter(|(k, _)| k.get(..prefix.len()) == Some(prefix))
        .filter(|(k, _)| {
            let c = &k[prefix.len()];
            (match lo {
                Bound::Included(v) => c >= v,
                Bound::Excluded(v) => c > v,
                Bound::Unbounded => true,
            }) && (match hi {
                Bound::Included(v) => c <= v,
                Bound::Excluded(v) => c < v,
                Bound::Unbounded => true,
            })
        })
        .collect();
    hits.sort();
    let mut ids: Vec<RowId> = hits.into_iter().map(|(_, id)| *id).collect();
    if desc {
        ids.reverse();
    }
    ids
}

fn bound(kind: u8, v: &Value) -> Bound<&Value> {
    match kind % 3 {
        0 => Bound::Unbounded,
        1 => Bound::Included(v),
        _ => Bound::Excluded(v),
    }
}

proptest! {
    #[test]
    fn tree_scans_match_brute_force(
        pairs in proptest::collection::vec((0i64..6, 0i64..6), 0..60),
        unique in any::<bool>(),
        use_prefix in any::<bool>(),
        p in 0i64..6, lo in 0i64..6, hi in 0i64..6,
        lo_kind in 0u8..3, hi_kind in 0u8..3, desc in any::<bool>(),
    ) {
        let mut ix = Index::new(IndexSpec { unique, method: IndexMethod::Tree, integer_key: false });
        let mut rows: Vec<(Key, RowId)> = Vec::new();
        for (i, (a, b)) in pairs.into_iter().enumerate() {
            let k = key(a, b);
            if unique && rows.iter().any(|(r, _)| *r == k) {
                continue;
            }
            ix.insert(k.clone(), i as RowId);
            rows.push((k, i as RowId));
        }
        // Remove every third row again.
        let mut kept = Vec::new();
        for (n, (k, id)) in rows.into_iter().enumerate() {
            if n % 3 == 2 { ix.remove(&k, id) } else { kept.push((k, id)) }
        }
        let (lo, hi) = (Value::Integer(lo), Value::Integer(hi));
        let prefix: Vec<Value> = if use_prefix { vec![Value::Integer(p)] } else { vec![] };
        let (lo_b, hi_b) = (bound(lo_kind, &lo), bound(hi_kind, &hi));
        prop_assert_eq!(scan_all(&ix, &prefix, lo_b, hi_b, desc), expected(&kept, &prefix, lo_b, hi_b, desc));
        prop_assert_eq!(ix.len(), kept.len());
    }
}

#[test]
fn hash_indexes_answer_whole_key_equality() {
    for unique in [true, false] {
        let mut ix = Index::new(IndexSpec {
            unique,
            method: IndexMethod::Hash,
            integer_key: false,
        });
        ix.insert(key(1, 2), 7);
        if !unique {
            ix.insert(key(1, 2), 3);
        }
        ix.insert(key(1, 3), 9);
        let mut out = Vec::new();
        ix.lookup(&key(1, 2), &mut out);
        assert_eq!(out, if unique { vec![7] } else { vec![3, 7] });
        assert!(scan_all(&ix, &key(1, 2), Bound::Unbounded, Bound::Unbounded, false).len() == out.len());
        // A prefix of the key finds nothing in a hash index.
        assert!(scan_all(&ix, &[Value::Integer(1)], Bound::Unbounded, Bound::Unbounded, false).is_empty());
        ix.remove(&key(1, 2), 7);
        out.clear();
        ix.lookup(&key(1, 2), &mut out);
        assert_eq!(out, if unique { vec![] } else { vec![3] });
    }
}

#[test]
fn numbers_of_different_classes_find_each_other() {
    let mut ix = Index::new(IndexSpec {
        unique: true,
        method: IndexMethod::Hash,
        integer_key: false,
    });
    ix.insert(vec![Value::Integer(5)].into_boxed_slice(), 1);
    let probe = [Value::Decimal(crate::Decimal::parse("5.0").unwrap())];
    assert_eq!(ix.get_unique(&probe), Some(1));
}

/// A probe value of any numeric class: an integer, a half (as DECIMAL) or a float.
fn probe(n: i64, class: u8) -> Value {
    match class % 3 {
        0 => Value::Integer(n),
        1 => Value::Decimal(crate::Decimal::parse(&format!("{n}.5")).unwrap()),
        _ => Value::Float(n as f64 - 0.25),
    }
}

proptest! {
    #[test]
    fn integer_key_scans_match_brute_force(
        keys in proptest::collection::vec(-8i64..8, 0..60),
        unique in any::<bool>(),
        eq in proptest::option::of((-8i64..8, 0u8..3)),
        lo in -9i64..9, hi in -9i64..9, lo_class in 0u8..3, hi_class in 0u8..3,
        lo_kind in 0u8..3, hi_kind in 0u8..3, desc in any::<bool>(),
    ) {
        let spec = IndexSpec { unique, method: IndexMethod::Tree, integer_key: true };
        let mut ix = Index::new(spec);
        let mut rows: Vec<(Key, RowId)> = Vec::new();
        for (i, k) in keys.into_iter().enumerate() {
            let key: Key = vec![Value::Integer(k)].into_boxed_slice();
            if unique && rows.iter().any(|(r, _)| *r == key) {
                continue;
            }
            ix.insert(key.clone(), i as RowId);
            rows.push((key, i as RowId));
        }
        let mut kept = Vec::new();
        for (n, (k, id)) in rows.into_iter().enumerate() {
            if n % 4 == 3 { ix.remove(&k, id) } else { kept.push((k, id)) }
        }
        prop_assert_eq!(ix.len(), kept.len());
        match eq {
            Some((v, class)) => {
                let p = [probe(v, class)];
                let mut want: Vec<RowId> = kept.iter().filter(|(k, _)| k[0] == p[0]).map(|(_, id)| *id).collect();
                want.sort();
                let mut got = Vec::new();
                ix.lookup(&p, &mut got);
                prop_assert_eq!(&got, &want);
                prop_assert_eq!(ix.get_unique(&p).is_some(), unique && !want.is_empty());
            }
            None => {
                let (lo, hi) = (probe(lo, lo_class), probe(hi, hi_class));
                let (lo_b, hi_b) = (bound(lo_kind, &lo), bound(hi_kind, &hi));
                prop_assert_eq!(scan_all(&ix, &[], lo_b, hi_b, desc), expected(&kept, &[], lo_b, hi_b, desc));
            }
        }
    }
}

#[test]
fn descending_prefix_walks_keep_varbinary_and_nan_keys() {
    for unique in [true, false] {
        let mut ix = Index::new(IndexSpec {
            unique,
            method: IndexMethod::Tree,
            integer_key: false,
        });
        let seconds = [
            Value::bytes(&[]),
            Value::bytes(&[1]),
            Value::bytes(&[0, 9]),
            Value::Float(f64::NAN),
            Value::Float(2.0),
            Value::str("z"),
        ];
        for (i, v) in seconds.iter().enumerate() {
            ix.insert(vec![Value::Integer(1), v.clone()].into_boxed_slice(), i as RowId);
            ix.insert(vec![Value::Integer(2), v.clone()].into_boxed_slice(), 100 + i as RowId);
        }
        let prefix = [Value::Integer(1)];
        let asc = scan_all(&ix, &prefix, Bound::Unbounded, Bound::Unbounded, false);
        let mut desc = scan_all(&ix, &prefix, Bound::Unbounded, Bound::Unbounded, true);
        assert_eq!(asc.len(), seconds.len());
        desc.reverse();
        assert_eq!(asc, desc, "a descending walk is the ascending one reversed");
    }
}
