//! Binding of INSERT, UPSERT, UPDATE and DELETE.

use std::sync::Arc;

use sqlparser::ast;

use super::{Binder, Scope, ScopeColumn};
use crate::catalog::{DefaultValue, TableDef};
use crate::error::{Error, Result, invalid, name_err, unsupported};
use crate::expr::Expr;
use crate::plan::Plan;
use voltrs_storage::DataType;

/// A bound write. Values are converted to column types (and checked) when applied.
#[derive(Debug, Clone)]
pub enum BoundWrite {
    /// `targets[i]` is the table column that the source's i-th column fills; other
    /// columns take their DEFAULT (or NULL).
    Insert {
        table: Arc<TableDef>,
        targets: Vec<usize>,
        source: Plan,
        upsert: bool,
    },
    /// `scan` (a [`Plan::Scan`] of `table`) finds the rows to change.
    Update {
        table: Arc<TableDef>,
        scan: Plan,
        sets: Vec<(usize, Expr)>,
    },
    Delete {
        table: Arc<TableDef>,
        scan: Plan,
    },
}

/// The scan that finds a write's target rows, with its access path chosen.
fn target_scan(table: &Arc<TableDef>, filter: Option<Expr>) -> Plan {
    let mut scan = Plan::Scan {
        table: table.clone(),
        filter,
        access: Default::default(),
        pin: None,
    };
    crate::planner::choose_access(&mut scan);
    scan
}

fn object_name(n: &ast::ObjectName) -> String {
    n.0.last()
        .map(|p| p.to_string())
        .unwrap_or_default()
        .trim_matches('"')
        .to_ascii_uppercase()
}

impl Binder<'_> {
    pub fn bind_insert(&mut self, ins: &ast::Insert, upsert: bool) -> Result<BoundWrite> {
        let verb = if upsert { "UPSERT" } else { "INSERT" };
        if ins.on.is_some() || ins.returning.is_some() || ins.or.is_some() || ins.ignore || ins.replace_into {
            return unsupported(format!("this form of {verb}"));
        }
        let ast::TableObject::TableName(name) = &ins.table else {
            return unsupported(format!("{verb} into a table function"));
        };
        let table = self.table(name)?;
        crate::views::check_writable(&table, verb)?;
        let targets: Vec<usize> = if ins.columns.is_empty() {
            (0..table.columns.len()).collect()
        } else {
            let mut t = Vec::with_capacity(ins.columns.len());
            for c in &ins.columns {
                let cname = object_name(c);
                let idx = table.column_index(&cname).ok_or_else(|| {
                    Error::Name(format!("column \"{cname}\" does not exist in table \"{}\"", table.name))
                })?;
                if t.contains(&idx) {
                    return invalid(format!("column \"{cname}\" is listed twice"));
                }
                t.push(idx);
            }
            t
        };
        if upsert {
            let Some(pk) = table.primary_key() else {
                return invalid(format!("UPSERT needs a primary key on table \"{}\"", table.name));
            };
            if ins.columns.is_empty()
                || pk
                    .exprs
                    .iter()
                    .all(|e| matches!(e.kind, crate::expr::ExprKind::Column(i) if targets.contains(&i)))
            {
            } else {
                return invalid(format!(
                    "UPSERT into \"{}\" must supply every primary key column",
                    table.name
                ));
            }
        }
        let Some(source) = &ins.source else {
            return invalid(format!("{verb} needs VALUES or a SELECT"));
        };
        let plain_values = source.with.is_none() && source.order_by.is_none() && source.limit_clause.is_none();
        let (plan, cols) = match source.body.as_ref() {
            ast::SetExpr::Values(v) if plain_values => self.insert_values(v, &table, &targets)?,
            _ => {
                let (plan, cols, _) = self.query(source)?;
                (plan, cols)
            }
        };
        if cols.len() != targets.len() {
            return invalid(format!(
                "{verb} into \"{}\" has {} target columns but {} values",
                table.name,
                targets.len(),
                cols.len()
            ));
        }
        Ok(BoundWrite::Insert {
            table,
            targets,
            source: plan,
            upsert,
        })
    }

    /// `VALUES` rows of an INSERT, where `DEFAULT` stands for the column's default value.
    fn insert_values(
        &mut self,
        v: &ast::Values,
        table: &TableDef,
        targets: &[usize],
    ) -> Result<(Plan, Vec<crate::outcome::ResultColumn>)> {
        self.scopes.push(Scope::default());
        self.correlated.push(false);
        let r = (|| {
            let mut rows = Vec::with_capacity(v.rows.len());
            for row in &v.rows {
                if row.len() != targets.len() {
                    return invalid(format!(
                        "INSERT into \"{}\" has {} target columns but {} values",
                        table.name,
                        targets.len(),
                        row.len()
                    ));
                }
                let mut out = Vec::with_capacity(row.len());
                for (e, &col) in row.iter().zip(targets) {
                    let is_default = matches!(e, ast::Expr::Identifier(id)
                        if id.quote_style.is_none() && id.value.eq_ignore_ascii_case("DEFAULT"));
                    out.push(if is_default {
                        self.default_expr(&table.columns[col])?
                    } else {
                        let mut x = self.expr(e)?;
                        self.infer_param(&mut x, table.columns[col].ty);
                        x
                    });
                }
                rows.push(out);
            }
            // Each value is converted to its column's type when the row is stored.
            let types: Vec<DataType> = targets.iter().map(|&c| table.columns[c].ty).collect();
            let cols = targets
                .iter()
                .map(|&c| crate::outcome::ResultColumn {
                    name: table.columns[c].name.clone(),
                    ty: table.columns[c].ty,
                })
                .collect();
            Ok((Plan::Values { rows, types }, cols))
        })();
        self.scopes.pop();
        self.correlated.pop();
        r
    }

    fn default_expr(&mut self, c: &crate::catalog::ColumnDef) -> Result<Expr> {
        match &c.default {
            Some(DefaultValue::Value(v)) => Ok(Expr::literal(v.clone(), c.ty)),
            Some(DefaultValue::Now) => self.call_scalar("NOW", Vec::new()),
            None => Ok(Expr::literal(voltrs_storage::Value::Null, c.ty)),
        }
    }

    /// Puts a single table in scope for UPDATE / DELETE.
    fn single_table_scope(&mut self, twj: &ast::TableWithJoins) -> Result<Arc<TableDef>> {
        if !twj.joins.is_empty() {
            return unsupported("joins in UPDATE / DELETE");
        }
        let ast::TableFactor::Table { name, alias, .. } = &twj.relation else {
            return unsupported("UPDATE / DELETE of a derived table");
        };
        let table = self.table(name)?;
        let alias = alias
            .as_ref()
            .map(|a| a.name.value.to_ascii_uppercase())
            .unwrap_or_else(|| table.name.clone());
        self.scopes.push(Scope {
            columns: table
                .columns
                .iter()
                .map(|c| ScopeColumn {
                    table: Some(alias.clone()),
                    name: c.name.clone(),
                    ty: c.ty,
                })
                .collect(),
        });
        self.correlated.push(false);
        Ok(table)
    }

    fn predicate(&mut self, e: Option<&ast::Expr>) -> Result<Option<Expr>> {
        let Some(e) = e else { return Ok(None) };
        if super::ast_walk::contains_aggregate(e) {
            return invalid("aggregate functions are not allowed in WHERE");
        }
        let x = self.expr(e)?;
        if !matches!(x.ty, voltrs_storage::DataType::Boolean | voltrs_storage::DataType::Null) {
            return Err(Error::Type(format!(
                "WHERE needs a boolean expression, not {}",
                x.ty.name()
            )));
        }
        Ok(Some(x))
    }

    pub fn bind_update(&mut self, stmt: &ast::Statement) -> Result<BoundWrite> {
        let ast::Statement::Update(u) = stmt else {
            return unsupported("statement");
        };
        if u.from.is_some() || u.returning.is_some() || !u.order_by.is_empty() || u.limit.is_some() {
            return unsupported("this form of UPDATE");
        }
        let table = self.single_table_scope(&u.table)?;
        crate::views::check_writable(&table, "UPDATE")?;
        let r = (|| {
            let filter = self.predicate(u.selection.as_ref())?;
            let mut sets = Vec::with_capacity(u.assignments.len());
            for a in &u.assignments {
                let ast::AssignmentTarget::ColumnName(n) = &a.target else {
                    return unsupported("tuple assignment in UPDATE");
                };
                let cname = object_name(n);
                let Some(idx) = table.column_index(&cname) else {
                    return name_err(format!("column \"{cname}\" does not exist in table \"{}\"", table.name));
                };
                if sets.iter().any(|(i, _)| *i == idx) {
                    return invalid(format!("column \"{cname}\" is assigned twice"));
                }
                if super::ast_walk::contains_aggregate(&a.value) {
                    return invalid("aggregate functions are not allowed in UPDATE ... SET");
                }
                let mut x = self.expr(&a.value)?;
                self.infer_param(&mut x, table.columns[idx].ty);
                sets.push((idx, x));
            }
            Ok(BoundWrite::Update {
                table: table.clone(),
                scan: target_scan(&table, filter),
                sets,
            })
        })();
        self.scopes.pop();
        self.correlated.pop();
        r
    }

    pub fn bind_delete(&mut self, stmt: &ast::Statement) -> Result<BoundWrite> {
        let ast::Statement::Delete(d) = stmt else {
            return unsupported("statement");
        };
        if d.using.is_some()
            || d.returning.is_some()
            || !d.order_by.is_empty()
            || d.limit.is_some()
            || !d.tables.is_empty()
        {
            return unsupported("this form of DELETE");
        }
        let from = match &d.from {
            ast::FromTable::WithFromKeyword(v) | ast::FromTable::WithoutKeyword(v) => v,
        };
        let [twj] = from.as_slice() else {
            return unsupported("DELETE from several tables");
        };
        let table = self.single_table_scope(twj)?;
        crate::views::check_writable(&table, "DELETE")?;
        let r = self.predicate(d.selection.as_ref());
        self.scopes.pop();
        self.correlated.pop();
        let scan = target_scan(&table, r?);
        Ok(BoundWrite::Delete { table, scan })
    }
}
