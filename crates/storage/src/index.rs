//! Indexes of one table partition: keys (lists of values computed by the SQL layer) to row
//! ids. Ordered indexes (B-trees) answer equality, prefix, range and ordered scans; hash
//! indexes answer equality on the whole key only. Unique indexes map a key to one row;
//! non-unique ones keep `(key, row id)` pairs, so equal keys come out in row-id order and
//! every lookup is deterministic.
//!
//! Rows whose key holds a NULL are not entered (the SQL layer decides), so an index never
//! answers `IS NULL` and a planner only uses one for ordering when its keys cannot be NULL.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;

use rustc_hash::FxBuildHasher;

use crate::table::RowId;
use crate::value::Value;

/// An index key: one value per key expression.
pub type Key = Box<[Value]>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexMethod {
    /// A B-tree: equality, key prefixes, ranges and ordered scans.
    Tree,
    /// A hash table: equality on the whole key only.
    Hash,
}

/// What the storage needs to know to build an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSpec {
    pub unique: bool,
    pub method: IndexMethod,
    /// The key is one expression of an integer type: an ordered index then keeps plain
    /// `i64` keys (no allocation per key; see [`crate::index::int_key`]).
    pub integer_key: bool,
}

#[derive(Debug, Clone)]
pub struct Index {
    map: IndexMap,
}

#[derive(Debug, Clone)]
enum IndexMap {
    /// Ordered, one integer key expression (keys always `Value::Integer`).
    UniqueInt(BTreeMap<i64, RowId>),
    Int(BTreeSet<(i64, RowId)>),
    UniqueTree(BTreeMap<Key, RowId>),
    UniqueHash(HashMap<Key, RowId, FxBuildHasher>),
    Tree(BTreeSet<(Key, RowId)>),
    /// Row ids per key, ascending.
    Hash(HashMap<Key, Vec<RowId>, FxBuildHasher>),
}

/// One end of a range over the key component after an equality prefix.
pub type RangeEnd<'a> = Bound<&'a Value>;

impl Index {
    pub fn new(spec: IndexSpec) -> Index {
        let map = match (spec.unique, spec.method) {
            (true, IndexMethod::Tree) if spec.integer_key => IndexMap::UniqueInt(BTreeMap::new()),
            (false, IndexMethod::Tree) if spec.integer_key => IndexMap::Int(BTreeSet::new()),
            (true, IndexMethod::Tree) => IndexMap::UniqueTree(BTreeMap::new()),
            (true, IndexMethod::Hash) => IndexMap::UniqueHash(HashMap::default()),
            (false, IndexMethod::Tree) => IndexMap::Tree(BTreeSet::new()),
            (false, IndexMethod::Hash) => IndexMap::Hash(HashMap::default()),
        };
        Index { map }
    }

    pub fn spec(&self) -> IndexSpec {
        let (unique, method, integer_key) = match &self.map {
            IndexMap::UniqueInt(_) => (true, IndexMethod::Tree, true),
            IndexMap::Int(_) => (false, IndexMethod::Tree, true),
            IndexMap::UniqueTree(_) => (true, IndexMethod::Tree, false),
            IndexMap::UniqueHash(_) => (true, IndexMethod::Hash, false),
            IndexMap::Tree(_) => (false, IndexMethod::Tree, false),
            IndexMap::Hash(_) => (false, IndexMethod::Hash, false),
        };
        IndexSpec {
            unique,
            method,
            integer_key,
        }
    }

    /// The row holding `key` in a unique index (`None` for a non-unique one).
    pub fn get_unique(&self, key: &[Value]) -> Option<RowId> {
        match &self.map {
            IndexMap::UniqueInt(m) => m.get(&int_key::exact(key)?).copied(),
            IndexMap::UniqueTree(m) => m.get(key).copied(),
            IndexMap::UniqueHash(m) => m.get(key).copied(),
            _ => None,
        }
    }

    /// Enters a key. In a unique index the caller has checked the key is free; an existing
    /// entry is replaced.
    pub fn insert(&mut self, key: Key, id: RowId) {
        match &mut self.map {
            IndexMap::UniqueInt(m) => {
                if let Some(k) = int_key::exact(&key) {
                    m.insert(k, id);
                }
            }
            IndexMap::Int(s) => {
                if let Some(k) = int_key::exact(&key) {
                    s.insert((k, id));
                }
            }
            IndexMap::UniqueTree(m) => {
                m.insert(key, id);
            }
            IndexMap::UniqueHash(m) => {
                m.insert(key, id);
            }
            IndexMap::Tree(s) => {
                s.insert((key, id));
            }
            IndexMap::Hash(m) => {
                let ids = m.entry(key).or_default();
                if let Err(at) = ids.binary_search(&id) {
                    ids.insert(at, id);
                }
            }
        }
    }

    /// Removes the entry of `key` for row `id`, if present.
    pub fn remove(&mut self, key: &[Value], id: RowId) {
        match &mut self.map {
            IndexMap::UniqueInt(m) => {
                if let Some(k) = int_key::exact(key)
                    && m.get(&k) == Some(&id)
                {
                    m.remove(&k);
                }
            }
            IndexMap::Int(s) => {
                if let Some(k) = int_key::exact(key) {
                    s.remove(&(k, id));
                }
            }
            IndexMap::UniqueTree(m) => {
                if m.get(key) == Some(&id) {
                    m.remove(key);
                }
            }
            IndexMap::UniqueHash(m) => {
                if m.get(key) == Some(&id) {
                    m.remove(key);
                }
            }
            IndexMap::Tree(s) => {
                s.remove(&(Key::from(key), id));
            }
            IndexMap::Hash(m) => {
                if let Some(ids) = m.get_mut(key) {
                    if let Ok(at) = ids.binary_search(&id) {
                        ids.remove(at);
                    }
                    if ids.is_empty() {
                        m.remove(key);
                    }
                }
            }
        }
    }

    pub fn clear(&mut self) {
        match &mut self.map {
            IndexMap::UniqueInt(m) => m.clear(),
            IndexMap::Int(s) => s.clear(),
            IndexMap::UniqueTree(m) => m.clear(),
            IndexMap::UniqueHash(m) => m.clear(),
            IndexMap::Tree(s) => s.clear(),
            IndexMap::Hash(m) => m.clear(),
        }
    }

    /// Rows whose whole key equals `key`, in row-id order, appended to `out`.
    pub fn lookup(&self, key: &[Value], out: &mut Vec<RowId>) {
        match &self.map {
            IndexMap::UniqueInt(_) | IndexMap::UniqueTree(_) | IndexMap::UniqueHash(_) => {
                out.extend(self.get_unique(key))
            }
            IndexMap::Hash(m) => {
                if let Some(ids) = m.get(key) {
                    out.extend_from_slice(ids);
                }
            }
            IndexMap::Int(_) | IndexMap::Tree(_) => self.prefix(key, out),
        }
    }

    /// Rows whose key starts with `prefix` (in a hash index: whose whole key equals it), in
    /// key order, appended to `out`.
    pub fn prefix(&self, prefix: &[Value], out: &mut Vec<RowId>) {
        self.scan(prefix, Bound::Unbounded, Bound::Unbounded, false, &mut |id| {
            out.push(id);
            true
        });
    }

    /// Ordered scan (tree indexes only): rows whose key starts with `prefix` and whose next
    /// component lies between `lo` and `hi`, in key order (descending if `desc`), calling
    /// `visit` until it returns false. Key components past the range one are not checked;
    /// the caller filters rows with the full predicate. On a hash index only a whole-key
    /// equality (no range) finds rows.
    pub fn scan(&self, prefix: &[Value], lo: RangeEnd, hi: RangeEnd, desc: bool, visit: &mut dyn FnMut(RowId) -> bool) {
        if matches!(self.map, IndexMap::UniqueInt(_) | IndexMap::Int(_)) {
            int_key::scan(self, prefix, lo, hi, desc, visit);
            return;
        }
        if matches!(self.map, IndexMap::UniqueHash(_) | IndexMap::Hash(_)) {
            if lo == Bound::Unbounded && hi == Bound::Unbounded {
                let mut ids = Vec::new();
                self.lookup(prefix, &mut ids);
                ids.into_iter().all(visit);
            }
            return;
        }
        let n = prefix.len();
        let with = |v: &Value| -> Key { prefix.iter().chain([v]).cloned().collect() };
        let has_prefix = |key: &[Value]| key.get(..n) == Some(prefix);
        let above_lo = |key: &[Value]| match (lo, key.get(n)) {
            (Bound::Unbounded, _) => true,
            (_, None) => false,
            (Bound::Included(v), Some(c)) => c >= v,
            (Bound::Excluded(v), Some(c)) => c > v,
        };
        let below_hi = |key: &[Value]| match (hi, key.get(n)) {
            (Bound::Unbounded, _) => true,
            (_, None) => true,
            (Bound::Included(v), Some(c)) => c <= v,
            (Bound::Excluded(v), Some(c)) => c < v,
        };
        let lo_key: Key = match lo {
            Bound::Included(v) | Bound::Excluded(v) => with(v),
            Bound::Unbounded => prefix.into(),
        };
        if !desc {
            for (key, id) in self.entries(Bound::Included(&lo_key), Bound::Unbounded) {
                if !has_prefix(key) || !below_hi(key) {
                    return;
                }
                if above_lo(key) && !visit(id) {
                    return;
                }
            }
            return;
        }
        // Descending: first the keys whose range component equals an inclusive `hi` (they
        // sort above the bound key itself), then everything below the bound key, backwards.
        let (tail, upper): (Vec<RowId>, Option<Key>) = match hi {
            Bound::Unbounded if n == 0 => (Vec::new(), None),
            Bound::Unbounded => {
                // Above every key of the prefix's run except NaN floats and VARBINARY ones
                // (the highest class): those are collected forward, the rest walked back.
                let top: Key = prefix
                    .iter()
                    .cloned()
                    .chain([Value::Varbinary(Vec::new().into())])
                    .collect();
                (self.run(&top, prefix, &|k| above_lo(k)), Some(top))
            }
            Bound::Included(v) => {
                let top = with(v);
                (self.run(&top, &top, &|k| above_lo(k)), Some(top))
            }
            Bound::Excluded(v) => (Vec::new(), Some(with(v))),
        };
        if !tail.into_iter().rev().all(&mut *visit) {
            return;
        }
        let below = match &upper {
            None => Bound::Unbounded,
            Some(k) if *k <= lo_key => return,
            Some(k) => Bound::Excluded(k),
        };
        for (key, id) in self.entries(Bound::Included(&lo_key), below).rev() {
            if !has_prefix(key) || !above_lo(key) {
                return;
            }
            if !visit(id) {
                return;
            }
        }
    }

    /// Row ids of the keys starting with `run`, walking forward from `from`, that pass `keep`.
    fn run(&self, from: &Key, run: &[Value], keep: &dyn Fn(&[Value]) -> bool) -> Vec<RowId> {
        let mut ids = Vec::new();
        for (key, id) in self.entries(Bound::Included(from), Bound::Unbounded) {
            if key.get(..run.len()) != Some(run) {
                break;
            }
            if keep(key) {
                ids.push(id);
            }
        }
        ids
    }

    /// Tree entries between two key bounds, in key order.
    fn entries<'s>(
        &'s self,
        from: Bound<&Key>,
        to: Bound<&Key>,
    ) -> Box<dyn DoubleEndedIterator<Item = (&'s [Value], RowId)> + 's> {
        match &self.map {
            IndexMap::UniqueTree(m) => Box::new(m.range::<Key, _>((from, to)).map(|(k, id)| (&**k, *id))),
            IndexMap::Tree(s) => {
                // `(key, 0)` is the first pair of a key, so these bounds select whole keys.
                let pair = |b: Bound<&Key>| match b {
                    Bound::Included(k) => Bound::Included((k.clone(), 0)),
                    Bound::Excluded(k) => Bound::Excluded((k.clone(), 0)),
                    Bound::Unbounded => Bound::Unbounded,
                };
                Box::new(s.range((pair(from), pair(to))).map(|(k, id)| (&**k, *id)))
            }
            _ => Box::new(std::iter::empty()),
        }
    }

    /// Integer-keyed entries between two bounds, in key order.
    fn int_entries<'s>(&'s self, lo: Bound<i64>, hi: Bound<i64>) -> Box<dyn DoubleEndedIterator<Item = RowId> + 's> {
        match &self.map {
            IndexMap::UniqueInt(m) => Box::new(m.range((lo, hi)).map(|(_, id)| *id)),
            IndexMap::Int(s) => {
                let lo = match lo {
                    Bound::Included(k) => Bound::Included((k, RowId::MIN)),
                    Bound::Excluded(k) => Bound::Excluded((k, RowId::MAX)),
                    Bound::Unbounded => Bound::Unbounded,
                };
                let hi = match hi {
                    Bound::Included(k) => Bound::Included((k, RowId::MAX)),
                    Bound::Excluded(k) => Bound::Excluded((k, RowId::MIN)),
                    Bound::Unbounded => Bound::Unbounded,
                };
                Box::new(s.range((lo, hi)).map(|(_, id)| *id))
            }
            _ => Box::new(std::iter::empty()),
        }
    }

    pub fn len(&self) -> usize {
        match &self.map {
            IndexMap::UniqueInt(m) => m.len(),
            IndexMap::Int(s) => s.len(),
            IndexMap::UniqueTree(m) => m.len(),
            IndexMap::UniqueHash(m) => m.len(),
            IndexMap::Tree(s) => s.len(),
            IndexMap::Hash(m) => m.values().map(Vec::len).sum(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Integer-keyed ordered indexes: probe values of any numeric class become `i64` bounds
/// that select exactly the keys the value comparisons would.
mod int_key {
    use std::ops::Bound;

    use super::{Index, RangeEnd, RowId};
    use crate::value::Value;

    /// The key of a one-value key that is an exact integer.
    pub(super) fn exact(key: &[Value]) -> Option<i64> {
        match key {
            [v] => as_exact(v),
            _ => None,
        }
    }

    fn as_exact(v: &Value) -> Option<i64> {
        match v {
            Value::Integer(i) => Some(*i),
            Value::Decimal(d) => d.to_i64_exact(),
            Value::Float(f) if f.fract() == 0.0 && *f >= -9.2e18 && *f <= 9.2e18 => Some(*f as i64),
            _ => None,
        }
    }

    /// A numeric value as a real number: (floor as i64, whether it is an integer), clamped
    /// to the i64 range; `None` for NaN or a non-number.
    fn floor_of(v: &Value) -> Option<(i128, bool)> {
        match v {
            Value::Integer(i) => Some((i128::from(*i), true)),
            Value::Decimal(d) => {
                let t = d.trunc();
                let whole = t.to_i64_trunc()?;
                let exact = t == *d;
                let floor = if !exact && d.is_negative() {
                    i128::from(whole) - 1
                } else {
                    i128::from(whole)
                };
                Some((floor, exact))
            }
            Value::Float(f) if f.is_nan() => None,
            Value::Float(f) => {
                let fl = f.floor();
                let clamped = fl.clamp(-1.0e19, 1.0e19);
                Some((clamped as i128, fl == *f))
            }
            _ => None,
        }
    }

    /// The i64 bound selecting keys `>= v` / `> v` (a lower end); `None`: no key can pass.
    fn lower(end: RangeEnd) -> Option<Bound<i64>> {
        let (v, inclusive) = match end {
            Bound::Unbounded => return Some(Bound::Unbounded),
            Bound::Included(v) => (v, true),
            Bound::Excluded(v) => (v, false),
        };
        let (floor, exact) = floor_of(v)?;
        // Smallest integer key that passes.
        let first = if exact && inclusive { floor } else { floor + 1 };
        if first > i128::from(i64::MAX) {
            return None;
        }
        Some(if first < i128::from(i64::MIN) {
            Bound::Unbounded
        } else {
            Bound::Included(first as i64)
        })
    }

    /// The i64 bound selecting keys `<= v` / `< v` (an upper end); `None`: no key can pass.
    fn upper(end: RangeEnd) -> Option<Bound<i64>> {
        let (v, inclusive) = match end {
            Bound::Unbounded => return Some(Bound::Unbounded),
            Bound::Included(v) => (v, true),
            Bound::Excluded(v) => (v, false),
        };
        let (floor, exact) = floor_of(v)?;
        // Largest integer key that passes.
        let last = if exact && !inclusive { floor - 1 } else { floor };
        if last < i128::from(i64::MIN) {
            return None;
        }
        Some(if last > i128::from(i64::MAX) {
            Bound::Unbounded
        } else {
            Bound::Included(last as i64)
        })
    }

    pub(super) fn scan(
        ix: &Index,
        prefix: &[Value],
        lo: RangeEnd,
        hi: RangeEnd,
        desc: bool,
        visit: &mut dyn FnMut(RowId) -> bool,
    ) {
        let bounds = match prefix {
            [] => lower(lo).zip(upper(hi)),
            [v] => as_exact(v).map(|k| (Bound::Included(k), Bound::Included(k))),
            _ => None,
        };
        let Some((lo, hi)) = bounds else { return };
        if let (Bound::Included(a), Bound::Included(b)) = (lo, hi) {
            if a > b {
                return;
            }
            // A point lookup on a unique index (the commonest plan): no range walk.
            if a == b
                && let super::IndexMap::UniqueInt(m) = &ix.map
            {
                if let Some(id) = m.get(&a) {
                    visit(*id);
                }
                return;
            }
        }
        let ids = ix.int_entries(lo, hi);
        if desc {
            for id in ids.rev() {
                if !visit(id) {
                    return;
                }
            }
        } else {
            for id in ids {
                if !visit(id) {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
