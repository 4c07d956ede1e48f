//! `voltrs-wire`: the pieces of the VoltDB client protocol shared by the
//! voltrs server and its clients.
//!
//! What this crate owns:
//! * the **hashinator** ([`Hashinator`], [`murmur3`]): VoltDB's
//!   MurmurHash3-based mapping of partitioning values to partitions, which
//!   server and affinity-routing clients must compute bit for bit alike;
//! * the **VoltDB wire codec** ([`codec`]): framing, login, invocation, response
//!   and VoltTable (de)serialization, as pure byte-level encode/decode.
//!
//! What it must not touch: no threads, no I/O (sockets, files, clocks), no
//! async runtime. Everything here is a pure function of its inputs over byte
//! slices and values, so the server's networking layer and any client can
//! drive it however they like.

pub mod codec;
pub mod hashinator;
pub mod murmur3;

pub use hashinator::Hashinator;
