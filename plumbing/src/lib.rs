//! `plumbing`: what every CypherLink service (the ledgers, the connector, the chain node) shares
//! below its own logic, so that each does it one way.
//!
//! - [`sqlite`]: opening a database (WAL, a [`Durability`], migrations, one writer connection
//!   and a read pool), committing a group of changes in one script that is rolled back whole
//!   when any statement fails, and [`StoreError`].
//! - [`body`]: reading a request body under a size limit.
//! - [`config`]: reading a TOML configuration file, and [`ConfigError`].
//! - [`metrics`]: registering Prometheus counters and gauges, and their text exposition.
//!
//! It knows nothing of CypherLink's domain and depends on no other crate of the workspace.

pub mod body;
pub mod config;
pub mod metrics;
pub mod sqlite;

pub use config::ConfigError;
pub use sqlite::{Durability, StoreError};
