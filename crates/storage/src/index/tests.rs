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
        let mut ix = Index::new(IndexSpec { unique, method: IndexMethod::Tree });
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
    });
    ix.insert(vec![Value::Integer(5)].into_boxed_slice(), 1);
    let probe = [Value::Decimal(crate::Decimal::parse("5.0").unwrap())];
    assert_eq!(ix.get_unique(&probe), Some(1));
}
