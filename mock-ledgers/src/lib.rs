//! `mock-ledgers`: the ledgers a CypherLink network runs against on one machine.
//!
//! - [`server`]: the reference implementation of the REST plugin API (actix-web + SQLite),
//!   the mock bank core ledger; with [`rules`] for the digital euro and e-CNY, the CBDC
//!   ledgers. [`server::run`] starts one in-process and returns its address.
//! - [`config`]: their TOML configuration ([`LedgerConfig::from_file`]) and the fixtures.
//! - [`openapi`]: the OpenAPI document of the ledger API, generated from the handlers.
//! - [`conformance`]: the harness that runs `plugins`' conformance suite against these
//!   servers through the REST client.
//!
//! Only the servers live here: the contract, the wire types and the client a connector needs
//! are in `plugins`, which this crate depends on (never the other way). "Mock" means the bank
//! is mocked, not the service: each is a real HTTPS server with real persistence.

pub mod config;
pub mod conformance;
pub mod openapi;
pub mod rules;
pub mod server;

pub use config::LedgerConfig;
