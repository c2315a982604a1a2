//! The pure-Rust core: no Ruby types here, so every piece is tested with plain `cargo test`.
//!
//! - [`token`]: where tokens are minted and checked.
//! - [`codec`]: where the stored JSON comes from; [`parse`]: how it is read back.
//! - [`connection`]: one Redis connection with deadlines and an interrupt handle (replies are
//!   read with the redis crate's parser).
//! - [`tls`]: TLS settings for `rediss://`.
//! - [`store`]: the storage layout and the connection pool, one round trip per operation.
//! - [`error`]: every failure the core can report.

pub mod codec;
pub mod connection;
pub mod error;
pub mod parse;
pub mod store;
pub mod tls;
pub mod token;

pub use error::Error;
