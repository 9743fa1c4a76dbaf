//! `plugins`: how every ledger looks to a CypherLink connector.
//!
//! - [`plugin`]: the [`LedgerPlugin`] trait and the types it speaks (accounts, transfers,
//!   balances, the resumable event log).
//! - [`error`]: [`PluginError`], one refusal vocabulary for every ledger, with stable codes.

pub mod error;
pub mod plugin;

pub use error::PluginError;
pub use plugin::{
    AccountId, Balance, EventCursor, EventKind, EventPage, LedgerEvent, LedgerInfo, LedgerPlugin,
    PrepareTransfer, Transfer, TransferId,
};
