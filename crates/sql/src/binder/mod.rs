//! The binder: turns parsed statements into typed, name-resolved plans.
//!
//! 1. Names resolve against the session's database in the catalog (case-insensitive).
//! 2. A query's FROM clause becomes a [`Scope`]: the columns of every FROM item in order.
//!    Expressions bind to positions in that scope; names of enclosing queries bind to
//!    `Outer { depth }` references, which mark the subquery correlated.
//! 3. The FROM items and the WHERE conjuncts go to the join planner ([`join`]), which
//!    pushes single-table predicates into scans, turns equalities into hash-join keys and
//!    picks a greedy join order.
//! 4. GROUP BY, aggregates, HAVING, window functions, the select list, DISTINCT, ORDER BY
//!    and LIMIT are stacked on top ([`select`]).

mod aggregate;
mod ast_walk;
mod call;
mod dml;
mod expr;
mod from;
pub(crate) mod join;
mod literal;
mod params;
mod select;
mod view;

use std::sync::Arc;

use voltrs_storage::{DataType, TableId};

use crate::catalog::{Catalog, Namespace, TableDef};
use crate::error::{Error, Result};
use crate::outcome::ResultColumn;
use crate::plan::Plan;

pub use dml::BoundWrite;
pub use expr::bind_standalone_expr;
pub(crate) use literal::number_literal;
pub use params::ParamMode;
pub use view::BoundView;

/// Row-count estimates for the join planner.
pub trait Stats {
    fn row_count(&self, table: TableId) -> usize;
}

/// A bound statement with the types of its parameters, ready to run with their values
/// (a plan-cache entry, a prepared statement, a stored procedure's statement).
#[derive(Debug)]
pub struct Prepared {
    pub bound: Bound,
    /// The type of each parameter (values are converted to it before executing).
    pub param_types: Vec<DataType>,
    /// Row counts the join order was chosen from; empty when no join was planned.
    pub guard: Vec<(TableId, usize)>,
}

/// A statement ready to execute.
#[derive(Debug, Clone)]
pub enum Bound {
    Query { plan: Plan, columns: Vec<ResultColumn> },
    Write(BoundWrite),
}

/// One column visible to expressions.
#[derive(Debug, Clone)]
pub(crate) struct ScopeColumn {
    /// The FROM item's name or alias (upper-case), if any.
    pub table: Option<String>,
    pub name: String,
    pub ty: DataType,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    pub columns: Vec<ScopeColumn>,
}

/// A named query from a WITH clause.
#[derive(Clone)]
pub(crate) struct CteDef {
    pub name: String,
    pub query: std::rc::Rc<sqlparser::ast::Query>,
    pub columns: Vec<String>,
}

pub struct Binder<'a> {
    pub(crate) catalog: &'a Catalog,
    pub(crate) ns: &'a Namespace,
    pub(crate) stats: &'a dyn Stats,
    /// Scopes of the queries being bound, outermost first.
    pub(crate) scopes: Vec<Scope>,
    /// Per scope level: whether the query at that level references an enclosing level.
    pub(crate) correlated: Vec<bool>,
    pub(crate) ctes: Vec<CteDef>,
    pub(crate) next_subquery_id: usize,
    /// Types of `?` / `$n` parameters seen so far (Null = not yet known).
    pub params: Vec<DataType>,
    /// Where the parameters come from ([`params`]).
    pub(crate) param_mode: ParamMode,
    pub(crate) depth: usize,
    /// Current query nesting, bounded by [`MAX_QUERY_DEPTH`].
    pub(crate) query_depth: usize,
    /// Aggregate and window mode per scope level (see [`expr`]).
    /// Names of the FROM items of the FROM clause being bound (to reject duplicates).
    pub(crate) from_aliases: Vec<String>,
    /// FROM scopes of aggregated enclosing queries, hidden while their subqueries bind (for
    /// the GROUP BY error message).
    pub(crate) hidden_from_scopes: Vec<Scope>,
    pub(crate) modes: Vec<(Option<aggregate::AggContext>, Option<aggregate::WindowContext>)>,
}

/// Deepest expression or query nesting the binder accepts.
pub const MAX_BIND_DEPTH: usize = 200;

/// Deepest nesting of queries (subqueries, derived tables, WITH references): each level
/// costs several kilobytes of stack in the binder and the executor.
pub const MAX_QUERY_DEPTH: usize = 64;

/// Most FROM items in one query (SQLite's corpus joins up to 64 tables).
pub const MAX_FROM_ITEMS: usize = 128;

/// Longest left-deep chain of one non-logical binary operator (`1+1+...`) accepted; AND / OR
/// chains of any length bind as balanced trees.
pub const MAX_EXPR_CHAIN: usize = 1000;

impl<'a> Binder<'a> {
    pub fn new(catalog: &'a Catalog, ns: &'a Namespace, stats: &'a dyn Stats) -> Binder<'a> {
        Binder {
            catalog,
            ns,
            stats,
            scopes: Vec::new(),
            correlated: Vec::new(),
            ctes: Vec::new(),
            next_subquery_id: 0,
            params: Vec::new(),
            param_mode: ParamMode::Explicit,
            depth: 0,
            query_depth: 0,
            from_aliases: Vec::new(),
            hidden_from_scopes: Vec::new(),
            modes: Vec::new(),
        }
    }

    pub fn bind_query(&mut self, query: &sqlparser::ast::Query) -> Result<Bound> {
        let (plan, columns, _) = self.query(query)?;
        Ok(Bound::Query { plan, columns })
    }

    /// Resolves `table` or `database.table`.
    pub(crate) fn table(&self, name: &sqlparser::ast::ObjectName) -> Result<Arc<TableDef>> {
        let parts: Vec<String> = name
            .0
            .iter()
            .map(|p| p.to_string().trim_matches('"').to_ascii_uppercase())
            .collect();
        match parts.as_slice() {
            [table] => self.ns.table(table).cloned(),
            [db, table] => self.catalog.database(db)?.table(table).cloned(),
            _ => Err(Error::Name(format!("invalid table name {name}"))),
        }
    }

    pub(crate) fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_BIND_DEPTH {
            return Err(Error::Invalid(format!(
                "statement nested too deeply (limit {MAX_BIND_DEPTH})"
            )));
        }
        Ok(())
    }

    pub(crate) fn leave(&mut self) {
        self.depth -= 1;
    }

    pub(crate) fn current_scope(&self) -> &Scope {
        static EMPTY: Scope = Scope { columns: Vec::new() };
        self.scopes.last().unwrap_or(&EMPTY)
    }
}
