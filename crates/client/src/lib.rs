//! `voltrs-client`: an async Rust client for VoltDB's binary protocol, as voltrs (and
//! VoltDB) serve it on the client port.
//!
//! What this crate owns: connections and logins ([`connection`](crate::connection) is
//! private), matching many in-flight calls to their responses by handle, routing calls to
//! the host that leads their partition ([`Topology`]), reconnecting after a connection is
//! lost, and all-partition calls. What it must not touch: the byte formats (they are
//! `voltrs-wire`'s codec and hashinator) and any server internals: everything it knows
//! about the cluster it learns through the protocol.
//!
//! The life of a call:
//! 1. [`Client::call`] looks up the procedure in the [`Topology`] read at connect time
//!    (`@Statistics TOPO`, `@SystemCatalog PROCEDURES`); a single-partition procedure's
//!    partition parameter is hashed with the server's ring to pick the leader's connection.
//! 2. The invocation is encoded with a fresh handle, registered in that connection's
//!    pending map and queued for its writer task, which batches queued frames into one
//!    write.
//! 3. The connection's reader task decodes the response and completes the call's oneshot;
//!    the caller gets the [`Response`]: a failure status is still `Ok`, only transport
//!    problems are [`ClientError`]s (a lost connection fails every call waiting on it).
//!
//! ```no_run
//! # async fn demo() -> Result<(), voltrs_client::ClientError> {
//! use voltrs_client::{Client, ClientConfig, Value};
//! let client = Client::connect(ClientConfig::new(["localhost:21212"])).await?;
//! let r = client.call("@AdHoc", vec![Value::str("SELECT 1 + 1 AS two")]).await?;
//! assert_eq!(r.tables[0].rows[0][0], Value::Integer(2));
//! # Ok(()) }
//! ```

mod client;
mod connection;
mod error;
mod topology;

pub use client::{Client, ClientConfig, DEFAULT_PORT, PartitionResponse, with_port};
pub use error::ClientError;
pub use topology::{MP_PARTITION, ProcedureRoute, Topology};
pub use voltrs_storage::Value;
pub use voltrs_wire::codec::{Column, Response, Table, VoltType, status};
