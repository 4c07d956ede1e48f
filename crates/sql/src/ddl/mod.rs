//! DDL: builds the next catalog version and reshapes storage to match.
//!
//! Every change that touches a table's rows (PARTITION TABLE, unique indexes, ALTER TABLE)
//! goes through [`rebuild_table`], which builds the table's new per-partition storage aside,
//! checking every row against the new definition, and swaps it in only if all rows pass.
//! So a DDL statement that fails changes neither the catalog nor the data.

use std::sync::Arc;

use sqlparser::ast;
use voltrs_storage::{DataType, Partition, Row, Table, Value};
use voltrs_wire::Hashinator;

use crate::apply::{check_row, partition_of, rebuild_indexes};
use crate::binder::bind_standalone_expr;
use crate::catalog::{Catalog, ColumnDef, DefaultValue, IndexDef, Namespace, TableDef, UniqueKey, UniqueKind};
use crate::ddl_parser::{ColumnSpec, ConstraintSpec, CreateIndex, CreateTable};
use crate::error::{Error, Result, invalid, name_err};
use crate::expr::{Expr, ExprKind};
use crate::functions::FuncContext;
use crate::parser::DropKind;

mod alter;
mod view;
pub use alter::alter_table;
pub use view::{create_view, drop_view};

/// What a DDL statement needs besides the catalog.
pub struct DdlContext<'a> {
    pub partitions: &'a mut Vec<Partition>,
    pub hashinator: &'a Hashinator,
    pub func: FuncContext,
    /// Partition new tables on their first column where allowed (`voltrs-slt` mode).
    pub partition_first_column: bool,
}

fn ns_mut<'c>(cat: &'c mut Catalog, db: &str) -> Result<&'c mut Namespace> {
    match cat.databases.get_mut(db) {
        Some(ns) => Ok(Arc::make_mut(ns)),
        None => name_err(format!("database \"{db}\" does not exist")),
    }
}

fn column_expr(t: &TableDef, i: usize) -> Expr {
    Expr::column(i, t.columns[i].ty)
}

/// The plain columns of a key (None if it has expressions).
fn key_columns(u: &UniqueKey) -> Option<Vec<usize>> {
    u.exprs
        .iter()
        .map(|e| {
            if let ExprKind::Column(i) = e.kind {
                Some(i)
            } else {
                None
            }
        })
        .collect()
}

fn is_partitionable(ty: DataType) -> bool {
    ty.is_integer() || ty.is_string() || matches!(ty, DataType::Varbinary { .. })
}

/// Evaluates a DEFAULT expression to a stored value.
fn default_for(
    cat: &Catalog,
    ns: &Namespace,
    table: &str,
    col: &ColumnSpec,
    func: FuncContext,
) -> Result<Option<DefaultValue>> {
    let Some(e) = &col.default else {
        return Ok(None);
    };
    let is_now = match e {
        ast::Expr::Function(f) => {
            let n = f.name.to_string().to_ascii_uppercase();
            n == "NOW" || n == "CURRENT_TIMESTAMP"
        }
        ast::Expr::Identifier(id) => {
            let n = id.value.to_ascii_uppercase();
            n == "NOW" || n == "CURRENT_TIMESTAMP"
        }
        _ => false,
    };
    if is_now {
        if col.ty != DataType::Timestamp {
            return invalid(format!(
                "DEFAULT NOW is only allowed for TIMESTAMP column \"{}\"",
                col.name
            ));
        }
        return Ok(Some(DefaultValue::Now));
    }
    let bound = bind_standalone_expr(cat, ns, &[], table, e)
        .map_err(|err| Error::Invalid(format!("invalid DEFAULT for column \"{}\": {err}", col.name)))?;
    let h = Hashinator::new(1);
    let ctx = crate::exec::ExecContext::new(&[], &h, &[], func, None);
    let v = crate::exec::eval(&bound, &crate::exec::Env { row: &[], parent: None }, &ctx)?;
    let v = crate::cast::coerce_for_column(&v, col.ty, &col.name)?;
    if v.is_null() && col.not_null {
        return invalid(format!("column \"{}\" is NOT NULL but its DEFAULT is NULL", col.name));
    }
    Ok(if v.is_null() {
        None
    } else {
        Some(DefaultValue::Value(v))
    })
}

fn column_def(cat: &Catalog, ns: &Namespace, table: &str, c: &ColumnSpec, func: FuncContext) -> Result<ColumnDef> {
    Ok(ColumnDef {
        name: c.name.clone(),
        ty: c.ty,
        nullable: !c.not_null,
        default: default_for(cat, ns, table, c, func)?,
    })
}

fn key_name(kind: UniqueKind, table: &str, cols: &[String]) -> String {
    let prefix = match kind {
        UniqueKind::PrimaryKey => "PK",
        UniqueKind::Unique => "UNIQUE",
        UniqueKind::AssumeUnique => "ASSUMEUNIQUE",
        UniqueKind::NotUnique => "INDEX",
    };
    format!("VOLTDB_AUTOGEN_{prefix}_{table}_{}", cols.join("_"))
}

/// Adds the PRIMARY KEY / UNIQUE / ASSUMEUNIQUE written inline in a column definition.
fn add_column_keys(t: &mut TableDef, column: &ColumnSpec) -> Result<()> {
    for (name, kind) in &column.keys {
        add_key(
            t,
            &ConstraintSpec {
                name: name.clone(),
                kind: *kind,
                columns: vec![column.name.clone()],
            },
        )?;
    }
    Ok(())
}

fn add_key(t: &mut TableDef, spec: &ConstraintSpec) -> Result<()> {
    let mut exprs = Vec::with_capacity(spec.columns.len());
    for c in &spec.columns {
        let i = t.column_index(c).ok_or_else(|| {
            Error::Name(format!(
                "column \"{c}\" of constraint does not exist in table \"{}\"",
                t.name
            ))
        })?;
        if spec.kind == UniqueKind::PrimaryKey {
            t.columns[i].nullable = false;
        }
        exprs.push(column_expr(t, i));
    }
    if spec.kind == UniqueKind::PrimaryKey && t.primary_key().is_some() {
        return invalid(format!("table \"{}\" already has a primary key", t.name));
    }
    let name = spec
        .name
        .clone()
        .unwrap_or_else(|| key_name(spec.kind, &t.name, &spec.columns));
    if t.uniques.iter().any(|u| u.name == name) || t.row_limit_name.as_ref() == Some(&name) {
        return invalid(format!("constraint \"{name}\" already exists on table \"{}\"", t.name));
    }
    let key = UniqueKey {
        name,
        kind: spec.kind,
        exprs,
        predicate: None,
        index: false,
    };
    // Constraints come before index keys in storage order.
    let at = t.uniques.iter().position(|u| u.index).unwrap_or(t.uniques.len());
    t.uniques.insert(at, key);
    Ok(())
}

/// VoltDB's partitioning rules for a table (checked whenever either side changes).
fn check_partitioning(t: &TableDef) -> Result<()> {
    let Some(pc) = t.partition_column else {
        return Ok(());
    };
    let col = &t.columns[pc];
    if !is_partitionable(col.ty) {
        return invalid(format!(
            "partition column \"{}\" of table \"{}\" has type {}; it must be an integer or string type",
            col.name,
            t.name,
            col.ty.name()
        ));
    }
    if col.nullable {
        return invalid(format!(
            "partition column \"{}\" of table \"{}\" must be NOT NULL",
            col.name, t.name
        ));
    }
    for u in &t.uniques {
        if !matches!(u.kind, UniqueKind::Unique | UniqueKind::PrimaryKey) {
            continue;
        }
        let has = key_columns(u).is_some_and(|cols| cols.contains(&pc));
        if !has {
            return invalid(format!(
                "the {} \"{}\" of partitioned table \"{}\" does not include the partition column \"{}\" (use ASSUMEUNIQUE for a key that is unique across partitions by design)",
                if u.kind == UniqueKind::PrimaryKey {
                    "primary key"
                } else {
                    "unique constraint"
                },
                u.name,
                t.name,
                col.name
            ));
        }
    }
    Ok(())
}

/// In `partition_first_column` mode: partition on column 0 where VoltDB's rules allow it.
/// UNIQUE keys without column 0 become ASSUMEUNIQUE; a primary key without it leaves the
/// table replicated (a primary key cannot be downgraded: UPSERT and the default procedures
/// rely on it).
fn auto_partition(t: &mut TableDef) {
    let Some(first) = t.columns.first() else { return };
    if first.nullable || !is_partitionable(first.ty) {
        return;
    }
    let has_first = |u: &UniqueKey| key_columns(u).is_some_and(|c| c.contains(&0));
    if t.uniques
        .iter()
        .any(|u| u.kind == UniqueKind::PrimaryKey && !has_first(u))
    {
        return;
    }
    for u in &mut t.uniques {
        if u.kind == UniqueKind::Unique && !has_first(u) {
            u.kind = UniqueKind::AssumeUnique;
        }
    }
    t.partition_column = Some(0);
}

pub fn create_table(cat: &mut Catalog, db: &str, ct: &CreateTable, ctx: &mut DdlContext) -> Result<String> {
    let ns = cat.database(db)?.clone();
    if ns.tables.contains_key(&ct.name) {
        if ct.if_not_exists {
            return Ok("CREATE TABLE".into());
        }
        return invalid(format!("object name already exists: table \"{}\"", ct.name));
    }
    if ct.columns.is_empty() {
        return invalid(format!("table \"{}\" needs at least one column", ct.name));
    }
    let mut t = TableDef {
        id: cat.next_table_id,
        name: ct.name.clone(),
        columns: Vec::new(),
        partition_column: None,
        uniques: Vec::new(),
        row_limit: ct.row_limit,
        row_limit_name: ct.row_limit_name.clone(),
        view: None,
        views: Vec::new(),
    };
    for c in &ct.columns {
        if t.column_index(&c.name).is_some() {
            return invalid(format!("column \"{}\" appears twice in table \"{}\"", c.name, ct.name));
        }
        t.columns.push(column_def(cat, &ns, &ct.name, c, ctx.func)?);
    }
    for c in &ct.columns {
        add_column_keys(&mut t, c)?;
    }
    for spec in &ct.constraints {
        add_key(&mut t, spec)?;
    }
    if ctx.partition_first_column {
        auto_partition(&mut t);
    }
    cat.next_table_id += 1;
    let storage = t.new_storage();
    let id = t.id;
    ns_mut(cat, db)?.tables.insert(t.name.clone(), Arc::new(t));
    for p in ctx.partitions.iter_mut() {
        p.tables.insert(id, storage.clone());
    }
    Ok("CREATE TABLE".into())
}

/// Rebuilds a table's storage for a new definition: every row (one copy of a replicated
/// table) goes through `transform`, is checked against `new`, and is placed by `new`'s
/// partitioning. Nothing changes unless every row passes.
pub fn rebuild_table(
    old: &TableDef,
    new: &TableDef,
    ctx: &mut DdlContext,
    transform: &dyn Fn(&Row) -> Result<Vec<Value>>,
) -> Result<()> {
    let count = ctx.partitions.len();
    let mut rows: Vec<(usize, Row)> = Vec::new();
    for (p, part) in ctx.partitions.iter().enumerate() {
        if !old.is_partitioned() && p > 0 {
            break;
        }
        if let Some(t) = part.table(old.id) {
            rows.extend(t.scan().map(|(_, r)| (p, r)));
        }
    }
    let mut tables: Vec<Table> = (0..count).map(|_| new.new_storage()).collect();
    for (at, r) in &rows {
        let row = check_row(new, transform(r)?)?;
        match new.partition_column {
            Some(c) => {
                let p = partition_of(&row[c], ctx.hashinator).min(count - 1);
                tables[p].insert(&row)?;
            }
            // A view's partial rows stay in the partition they aggregate.
            None if new.is_partitioned() => {
                if let Some(t) = tables.get_mut(*at) {
                    t.insert(&row)?;
                }
            }
            None => {
                for t in tables.iter_mut() {
                    t.insert(&row)?;
                }
            }
        }
    }
    for t in tables.iter_mut() {
        rebuild_indexes(new, t)?;
        if let Some(limit) = new.row_limit
            && t.len() as u64 > limit
        {
            return invalid(format!(
                "table \"{}\" has more than {limit} rows in a partition",
                new.name
            ));
        }
    }
    for (part, t) in ctx.partitions.iter_mut().zip(tables) {
        part.tables.insert(new.id, t);
    }
    Ok(())
}

fn replace_table(
    cat: &mut Catalog,
    db: &str,
    old: &TableDef,
    new: TableDef,
    ctx: &mut DdlContext,
    transform: &dyn Fn(&Row) -> Result<Vec<Value>>,
) -> Result<()> {
    check_partitioning(&new)?;
    rebuild_table(old, &new, ctx, transform)?;
    ns_mut(cat, db)?.tables.insert(new.name.clone(), Arc::new(new));
    // Sources hold their views' definitions: point them at the new one.
    crate::views::relink(cat, db)
}

fn identity(r: &Row) -> Result<Vec<Value>> {
    Ok(r.to_vec())
}

pub fn partition_table(cat: &mut Catalog, db: &str, table: &str, column: &str, ctx: &mut DdlContext) -> Result<String> {
    let old = cat.database(db)?.table(table)?.clone();
    crate::views::check_alterable(&old, "PARTITION TABLE")?;
    let Some(c) = old.column_index(column) else {
        return name_err(format!("column \"{column}\" does not exist in table \"{table}\""));
    };
    match old.partition_column {
        Some(pc) if pc == c => return Ok("PARTITION TABLE".into()),
        Some(pc) => {
            return invalid(format!(
                "table \"{table}\" is already partitioned on column \"{}\"",
                old.columns[pc].name
            ));
        }
        None => {}
    }
    let mut new = (*old).clone();
    new.partition_column = Some(c);
    replace_table(cat, db, &old, new, ctx, &identity)?;
    Ok("PARTITION TABLE".into())
}

pub fn create_index(cat: &mut Catalog, db: &str, ci: &CreateIndex, ctx: &mut DdlContext) -> Result<String> {
    let ns = cat.database(db)?.clone();
    if ns.indexes.contains_key(&ci.name) {
        if ci.if_not_exists {
            return Ok("CREATE INDEX".into());
        }
        return invalid(format!("object name already exists: index \"{}\"", ci.name));
    }
    let old = ns.table(&ci.table)?.clone();
    let cols: Vec<(String, DataType)> = old.columns.iter().map(|c| (c.name.clone(), c.ty)).collect();
    let mut exprs = Vec::with_capacity(ci.exprs.len());
    for e in &ci.exprs {
        exprs.push(bind_standalone_expr(cat, &ns, &cols, &old.name, e)?);
    }
    let predicate = match &ci.predicate {
        Some(p) => Some(bind_standalone_expr(cat, &ns, &cols, &old.name, p)?),
        None => None,
    };
    if exprs.iter().chain(predicate.as_ref()).any(reads_clock) {
        return invalid(format!(
            "index \"{}\" uses NOW / CURRENT_TIMESTAMP: index expressions must be deterministic",
            ci.name
        ));
    }
    let mut unique = ci.unique;
    if unique.is_some() && old.is_view() {
        return invalid(format!(
            "A UNIQUE or ASSUMEUNIQUE index is not allowed on a materialized view: index \"{}\" on view \"{}\"",
            ci.name, old.name
        ));
    }
    if let (Some(UniqueKind::Unique), Some(pc)) = (unique, old.partition_column) {
        let has = exprs.iter().any(|e| matches!(e.kind, ExprKind::Column(i) if i == pc));
        if !has {
            if ctx.partition_first_column {
                unique = Some(UniqueKind::AssumeUnique);
            } else {
                return invalid(format!(
                    "unique index \"{}\" on partitioned table \"{}\" does not include the partition column \"{}\" (use ASSUMEUNIQUE)",
                    ci.name, old.name, old.columns[pc].name
                ));
            }
        }
    }
    let index = IndexDef {
        name: ci.name.clone(),
        table: old.name.clone(),
        unique,
        exprs: exprs.clone(),
        text: ci.exprs.iter().map(|e| e.to_string()).collect(),
        predicate: predicate.clone(),
    };
    let mut new = (*old).clone();
    new.uniques.push(UniqueKey {
        name: ci.name.clone(),
        kind: unique.unwrap_or(UniqueKind::NotUnique),
        exprs,
        predicate,
        index: true,
    });
    replace_table(cat, db, &old, new, ctx, &identity)?;
    ns_mut(cat, db)?.indexes.insert(ci.name.clone(), index);
    Ok("CREATE INDEX".into())
}

pub fn drop(
    cat: &mut Catalog,
    db: &str,
    kind: DropKind,
    name: &str,
    if_exists: bool,
    cascade: bool,
    ctx: &mut DdlContext,
) -> Result<String> {
    let ns = cat.database(db)?.clone();
    match kind {
        DropKind::Table => {
            let Some(t) = ns.tables.get(name).cloned() else {
                if if_exists {
                    return Ok("DROP TABLE".into());
                }
                return name_err(format!("object not found: table \"{name}\" does not exist"));
            };
            view::before_drop_table(cat, db, &t, cascade, ctx)?;
            let m = ns_mut(cat, db)?;
            m.tables.remove(name);
            m.indexes.retain(|_, i| i.table != t.name);
            for p in ctx.partitions.iter_mut() {
                p.tables.remove(&t.id);
            }
            Ok("DROP TABLE".into())
        }
        DropKind::Index => {
            let Some(idx) = ns.indexes.get(name).cloned() else {
                if if_exists {
                    return Ok("DROP INDEX".into());
                }
                return name_err(format!("object not found: index \"{name}\" does not exist"));
            };
            let old = ns.table(&idx.table)?.clone();
            let mut new = (*old).clone();
            new.uniques.retain(|u| !(u.index && u.name == idx.name));
            replace_table(cat, db, &old, new, ctx, &identity)?;
            ns_mut(cat, db)?.indexes.remove(name);
            Ok("DROP INDEX".into())
        }
        DropKind::View => drop_view(cat, db, name, if_exists, ctx),
    }
}

pub fn create_database(cat: &mut Catalog, name: &str, if_not_exists: bool) -> Result<String> {
    if cat.databases.contains_key(name) {
        if if_not_exists {
            return Ok("CREATE DATABASE".into());
        }
        return invalid(format!("database \"{name}\" already exists"));
    }
    cat.databases.insert(
        name.to_string(),
        Arc::new(Namespace {
            name: name.to_string(),
            ..Namespace::default()
        }),
    );
    Ok("CREATE DATABASE".into())
}

pub fn drop_database(cat: &mut Catalog, name: &str, if_exists: bool, ctx: &mut DdlContext) -> Result<String> {
    if name == crate::catalog::DEFAULT_DATABASE {
        return invalid(format!("the default database \"{name}\" cannot be dropped"));
    }
    let Some(ns) = cat.databases.remove(name) else {
        if if_exists {
            return Ok("DROP DATABASE".into());
        }
        return name_err(format!("database \"{name}\" does not exist"));
    };
    for t in ns.tables.values() {
        for p in ctx.partitions.iter_mut() {
            p.tables.remove(&t.id);
        }
    }
    Ok("DROP DATABASE".into())
}

/// Whether an expression reads the transaction time (not allowed in index keys, whose value
/// must depend on the row alone).
fn reads_clock(e: &Expr) -> bool {
    if let ExprKind::Func { func, .. } = &e.kind
        && *func == crate::functions::Func::Now
    {
        return true;
    }
    let mut found = false;
    e.for_each_child(&mut |c| found |= reads_clock(c));
    found
}
