//! ALTER TABLE: each change builds a new table definition and rebuilds the rows through
//! [`super::rebuild_table`], so a change the data does not satisfy changes nothing.

use std::sync::Arc;

use voltrs_storage::{Row, Value};

use super::{DdlContext, add_column_keys, add_key, column_def, default_for, identity, ns_mut, replace_table};
use crate::catalog::{Catalog, TableDef, UniqueKind};
use crate::ddl_parser::{AlterAction, AlterTable, ColumnSpec};
use crate::error::{Error, Result, invalid, name_err};
use crate::expr::{Expr, ExprKind};

/// Renumbers column references after a column is inserted or removed.
fn remap_table(t: &mut TableDef, map: &dyn Fn(usize) -> usize) {
    for u in &mut t.uniques {
        for e in &mut u.exprs {
            e.remap_columns(map);
        }
        if let Some(p) = &mut u.predicate {
            p.remap_columns(map);
        }
    }
    if let Some(pc) = &mut t.partition_column {
        *pc = map(*pc);
    }
}

fn uses_column(e: &Expr, col: usize) -> bool {
    let mut v = Vec::new();
    e.columns_used(&mut v);
    v.contains(&col)
}

pub fn alter_table(cat: &mut Catalog, db: &str, at: &AlterTable, ctx: &mut DdlContext) -> Result<String> {
    let ns = cat.database(db)?.clone();
    let old = ns.table(&at.table)?.clone();
    crate::views::check_alterable(&old, "ALTER TABLE")?;
    let mut new = (*old).clone();
    let tname = old.name.clone();
    let has_rows = ctx
        .partitions
        .iter()
        .any(|p| p.table(old.id).is_some_and(|t| !t.is_empty()));
    match &at.action {
        AlterAction::AddColumn { column, before } => {
            if new.column_index(&column.name).is_some() {
                return invalid(format!(
                    "column \"{}\" already exists in table \"{tname}\"",
                    column.name
                ));
            }
            let def = column_def(cat, &ns, &tname, column, ctx.func)?;
            if !def.nullable && def.default.is_none() && has_rows {
                return invalid(format!(
                    "cannot add NOT NULL column \"{}\" without a DEFAULT to table \"{tname}\", which has rows",
                    column.name
                ));
            }
            let at_index = match before {
                Some(b) => new
                    .column_index(b)
                    .ok_or_else(|| Error::Name(format!("column \"{b}\" does not exist in table \"{tname}\"")))?,
                None => new.columns.len(),
            };
            let fill = crate::apply::default_value(&def, ctx.func.now);
            remap_table(&mut new, &|i| if i >= at_index { i + 1 } else { i });
            new.columns.insert(at_index, def);
            add_column_keys(&mut new, column)?;
            let transform = move |r: &Row| -> Result<Vec<Value>> {
                let mut v = r.to_vec();
                v.insert(at_index, fill.clone());
                Ok(v)
            };
            replace_table(cat, db, &old, new, ctx, &transform)?;
            // Every index of the table (unique or not) shifts with the inserted column.
            let m = ns_mut(cat, db)?;
            for i in m.indexes.values_mut().filter(|i| i.table == tname) {
                for e in &mut i.exprs {
                    e.remap_columns(&|c| if c >= at_index { c + 1 } else { c });
                }
                if let Some(p) = &mut i.predicate {
                    p.remap_columns(&|c| if c >= at_index { c + 1 } else { c });
                }
            }
        }
        AlterAction::DropColumn { name, cascade } => {
            let c = new
                .column_index(name)
                .ok_or_else(|| Error::Name(format!("column \"{name}\" does not exist in table \"{tname}\"")))?;
            if new.partition_column == Some(c) {
                return invalid(format!("cannot drop partition column \"{name}\" of table \"{tname}\""));
            }
            if new.columns.len() == 1 {
                return invalid(format!("cannot drop the only column of table \"{tname}\""));
            }
            let users: Vec<String> = new
                .uniques
                .iter()
                .filter(|u| {
                    u.exprs.iter().any(|e| uses_column(e, c)) || u.predicate.as_ref().is_some_and(|p| uses_column(p, c))
                })
                .map(|u| u.name.clone())
                .chain(
                    ns.indexes
                        .values()
                        .filter(|i| i.table == tname && i.unique.is_none() && i.exprs.iter().any(|e| uses_column(e, c)))
                        .map(|i| i.name.clone()),
                )
                .fold(Vec::new(), |mut names, n| {
                    if !names.contains(&n) {
                        names.push(n);
                    }
                    names
                });
            if !users.is_empty() && !cascade {
                return invalid(format!(
                    "column \"{name}\" of table \"{tname}\" is used by {}; use CASCADE to drop them too",
                    users.join(", ")
                ));
            }
            new.uniques.retain(|u| !users.contains(&u.name));
            new.columns.remove(c);
            remap_table(&mut new, &|i| if i > c { i - 1 } else { i });
            let transform = move |r: &Row| -> Result<Vec<Value>> {
                let mut v = r.to_vec();
                v.remove(c);
                Ok(v)
            };
            replace_table(cat, db, &old, new, ctx, &transform)?;
            let m = ns_mut(cat, db)?;
            m.indexes.retain(|n, _| !users.contains(n));
            for i in m.indexes.values_mut().filter(|i| i.table == tname) {
                for e in &mut i.exprs {
                    e.remap_columns(&|i| if i > c { i - 1 } else { i });
                }
                if let Some(p) = &mut i.predicate {
                    p.remap_columns(&|i| if i > c { i - 1 } else { i });
                }
            }
        }
        AlterAction::AlterColumn { column, .. } => {
            let c = new.column_index(&column.name).ok_or_else(|| {
                Error::Name(format!(
                    "column \"{}\" does not exist in table \"{tname}\"",
                    column.name
                ))
            })?;
            let def = column_def(cat, &ns, &tname, column, ctx.func)?;
            let in_pk = new
                .primary_key()
                .is_some_and(|u| u.exprs.iter().any(|e| uses_column(e, c)));
            let mut def = def;
            if in_pk {
                def.nullable = false;
            }
            // A new length of the same type keeps expressions valid.
            let type_changed = new.columns[c].ty.name() != column.ty.name();
            new.columns[c] = def;
            // Keys and indexes over expressions of the column were bound for its old type;
            // they must be dropped and recreated by the user, not silently reinterpreted.
            let plain = |e: &Expr| matches!(e.kind, ExprKind::Column(_));
            if type_changed {
                let users = new
                    .uniques
                    .iter()
                    .filter(|u| {
                        u.exprs.iter().any(|e| !plain(e) && uses_column(e, c))
                            || u.predicate.as_ref().is_some_and(|p| uses_column(p, c))
                    })
                    .map(|u| u.name.clone())
                    .chain(
                        ns.indexes
                            .values()
                            .filter(|i| {
                                i.table == tname
                                    && (i.exprs.iter().any(|e| !plain(e) && uses_column(e, c))
                                        || i.predicate.as_ref().is_some_and(|p| uses_column(p, c)))
                            })
                            .map(|i| i.name.clone()),
                    )
                    .collect::<std::collections::BTreeSet<String>>();
                if !users.is_empty() {
                    return invalid(format!(
                        "cannot change the type of column \"{}\": index expressions use it ({}); drop them first",
                        column.name,
                        users.into_iter().collect::<Vec<_>>().join(", ")
                    ));
                }
            }
            for u in &mut new.uniques {
                for e in &mut u.exprs {
                    if let ExprKind::Column(i) = e.kind
                        && i == c
                    {
                        e.ty = column.ty;
                    }
                }
            }
            // Constraints written in the new definition are added (VoltDB's column definition
            // includes them).
            add_column_keys(&mut new, column)?;
            replace_table(cat, db, &old, new, ctx, &identity)?;
            let m = ns_mut(cat, db)?;
            for i in m.indexes.values_mut().filter(|i| i.table == tname) {
                for e in &mut i.exprs {
                    if let ExprKind::Column(k) = e.kind
                        && k == c
                    {
                        e.ty = column.ty;
                    }
                }
            }
        }
        AlterAction::SetDefault { column, default } => {
            let c = new
                .column_index(column)
                .ok_or_else(|| Error::Name(format!("column \"{column}\" does not exist in table \"{tname}\"")))?;
            let spec = ColumnSpec {
                name: column.clone(),
                ty: new.columns[c].ty,
                not_null: !new.columns[c].nullable,
                default: default.clone(),
                keys: Vec::new(),
            };
            new.columns[c].default = default_for(cat, &ns, &tname, &spec, ctx.func)?;
            ns_mut(cat, db)?.tables.insert(tname.clone(), Arc::new(new));
        }
        AlterAction::SetNullable { column, nullable } => {
            let c = new
                .column_index(column)
                .ok_or_else(|| Error::Name(format!("column \"{column}\" does not exist in table \"{tname}\"")))?;
            if *nullable
                && (new.partition_column == Some(c)
                    || new
                        .primary_key()
                        .is_some_and(|u| u.exprs.iter().any(|e| uses_column(e, c))))
            {
                return invalid(format!(
                    "column \"{column}\" of table \"{tname}\" is in the primary key or is the partition column and must stay NOT NULL"
                ));
            }
            new.columns[c].nullable = *nullable;
            replace_table(cat, db, &old, new, ctx, &identity)?;
        }
        AlterAction::AddConstraint(spec) => {
            add_key(&mut new, spec)?;
            replace_table(cat, db, &old, new, ctx, &identity)?;
        }
        AlterAction::DropConstraint { name } if new.row_limit_name.as_ref() == Some(name) => {
            new.row_limit = None;
            new.row_limit_name = None;
            ns_mut(cat, db)?.tables.insert(tname.clone(), Arc::new(new));
        }
        AlterAction::DropConstraint { name } => {
            let before = new.uniques.len();
            new.uniques.retain(|u| u.index || u.name != *name);
            if new.uniques.len() == before {
                return name_err(format!("constraint \"{name}\" does not exist on table \"{tname}\""));
            }
            replace_table(cat, db, &old, new, ctx, &identity)?;
        }
        AlterAction::DropPrimaryKey => {
            let before = new.uniques.len();
            new.uniques.retain(|u| u.kind != UniqueKind::PrimaryKey || u.index);
            if new.uniques.len() == before {
                return invalid(format!("table \"{tname}\" has no primary key"));
            }
            replace_table(cat, db, &old, new, ctx, &identity)?;
        }
        AlterAction::AddRowLimit { name, rows } => {
            if new.row_limit.is_some() {
                return invalid(format!(
                    "table \"{tname}\" already has a LIMIT PARTITION ROWS; drop it first"
                ));
            }
            if let Some(n) = name
                && new.uniques.iter().any(|u| &u.name == n)
            {
                return invalid(format!("constraint \"{n}\" already exists on table \"{tname}\""));
            }
            new.row_limit = Some(*rows);
            new.row_limit_name = name.clone();
            replace_table(cat, db, &old, new, ctx, &identity)?;
        }
        AlterAction::DropRowLimit => {
            if new.row_limit.is_none() {
                return invalid(format!("table \"{tname}\" has no LIMIT PARTITION ROWS"));
            }
            new.row_limit = None;
            new.row_limit_name = None;
            ns_mut(cat, db)?.tables.insert(tname.clone(), Arc::new(new));
        }
    }
    Ok("ALTER TABLE".into())
}
