//! `plugins`: how every ledger looks to a CypherLink connector, and the ledgers themselves.
//!
//! The contract:
//! - [`plugin`]: the [`LedgerPlugin`] trait and the types it speaks (accounts, transfers,
//!   balances, the resumable event log); [`subscribe()`] turns its event log into a `Stream`.
//! - [`error`]: [`PluginError`], one refusal vocabulary for every ledger, with stable codes.
//!
//! The REST plugin API, which any bank core ledger can implement:
//! - [`api`]: wire types, problem+json errors, the OpenAPI document.
//! - [`auth`]: HMAC-SHA256 request signing (client, server and webhooks share it).
//! - [`client`]: [`RestPlugin`], the `LedgerPlugin` over that API.
//!
//! The ledgers behind it:
//! - [`server`]: the reference implementation (actix-web + SQLite): the mock bank, and with
//!   [`rules`] for the digital euro and e-CNY, the CBDC ledgers. [`server::run`] starts one
//!   in-process and returns its address.
//! - [`config`]: the TOML configuration ([`LedgerConfig::from_file`]).
//!
//! With the `chain` feature, [`chain`] is the committee chain as a `LedgerPlugin`.
//!
//! With the `conformance` feature, [`conformance`] is the behaviour suite every `LedgerPlugin`
//! must pass.

pub mod api;
pub mod auth;
#[cfg(feature = "chain")]
pub mod chain;
pub mod client;
pub mod config;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod error;
pub mod plugin;
pub mod rules;
pub mod server;
pub mod subscribe;

pub use client::{RestPlugin, RestPluginConfig};
pub use config::LedgerConfig;
pub use error::PluginError;
pub use plugin::{
    AccountId, Balance, EventCursor, EventKind, EventPage, LedgerEvent, LedgerInfo, LedgerPlugin,
    PrepareTransfer, Transfer, TransferId,
};
pub use subscribe::subscribe;
