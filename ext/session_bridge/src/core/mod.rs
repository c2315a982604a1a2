//! The pure-Rust core: no Ruby types here, so every piece is tested with plain `cargo test`.
//!
//! - [`token`]: where tokens are minted and checked.
//! - [`codec`]: where the stored JSON comes from, and the limits it is read back with (the
//!   binding's `ruby/json_read.rs` reads it, with serde_json).
//! - [`connection`]: one Redis connection with deadlines and an interrupt handle (replies are
//!   read with the redis crate's parser).
//! - [`tls`]: TLS settings for `rediss://`.
//! - [`store`]: the storage layout and the connection pool, one round trip per operation.
//! - [`error`]: every failure the core can report.

pub mod codec;
pub mod connection;
pub mod error;
pub mod store;
pub mod tls;
pub mod token;

pub use error::Error;
