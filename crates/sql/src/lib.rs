//! voltrs SQL: parsing, binding, planning and executing SQL over partitioned storage.
//!
//! Owns: the VoltDB-flavoured parser front ([`parser`], [`ddl_parser`], [`proc_parser`]), the catalog types
//! ([`catalog`]), the binder and join planner ([`binder`]), plans ([`plan`]), expressions
//! ([`expr`]), value semantics ([`arith`], [`cast`], [`functions`]), the executor
//! ([`exec`]), statement application ([`apply`], [`ddl`]) and materialized views ([`views`]). Must not touch: threads,
//! sockets, files, clocks (the transaction timestamp comes in through the context).
//!
//! Life of a statement:
//! 1. [`parser::parse_script`] splits the text and parses each statement.
//! 2. [`binder::Binder`] resolves names against an immutable [`catalog::Catalog`] and builds
//!    a typed [`plan::Plan`] (queries) or a [`binder::BoundWrite`] (DML); DDL goes to
//!    [`ddl`], which builds the next catalog version.
//! 3. [`exec::execute`] runs plans over the partitions, touching one partition per call in
//!    scans; [`apply`] applies writes with an undo log so a failing statement changes nothing.
pub mod apply;
pub mod arith;
pub mod binder;
pub mod cast;
pub mod catalog;
pub mod ddl;
pub mod ddl_parser;
pub mod error;
pub mod exec;
pub mod expr;
pub mod functions;
pub mod outcome;
pub mod parameterize;
pub mod parser;
pub mod plan;
pub mod planner;
pub mod proc_parser;
pub mod procedures;
pub mod route;
pub mod views;

pub use error::{Error, Result};
