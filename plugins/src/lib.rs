//! `plugins`: how every ledger looks to a CypherLink connector: the contract, the REST plugin
//! API's wire types and client, and the committee chain's plugin. Nothing here serves a
//! ledger; the mock bank and the CBDC ledgers live in the `mock-ledgers` crate, which depends
//! on this one.
//!
//! The contract:
//! - [`plugin`]: the [`LedgerPlugin`] trait and the types it speaks (accounts, transfers,
//!   balances, the resumable event log); [`subscribe()`] turns its event log into a `Stream`.
//! - [`error`]: [`PluginError`], one refusal vocabulary for every ledger, with stable codes.
//!
//! The REST plugin API, which any bank core ledger can implement:
//! - [`api`]: wire types and problem+json errors.
//! - [`auth`]: HMAC-SHA256 request signing (client, server and webhooks share it).
//! - [`client`]: [`RestPlugin`], the `LedgerPlugin` over that API.
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
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod error;
pub mod plugin;
pub mod subscribe;

pub use client::{RestPlugin, RestPluginConfig};
pub use error::PluginError;
pub use plugin::{
    AccountId, Balance, EventCursor, EventKind, EventPage, LedgerEvent, LedgerInfo, LedgerPlugin,
    PrepareTransfer, Transfer, TransferId,
};
pub use subscribe::subscribe;
