//! `connector`: the product a clearing bank runs. It holds accounts on several ledgers through
//! [`plugins::LedgerPlugin`]s and turns an escrow arriving on one ledger into an escrow on the
//! next, locked by the same condition, then settles the pair when the preimage or the refusal
//! comes back.
//!
//! - [`layers`] and [`switch`]: the pure switching decision (validation, routing, limits,
//!   pricing, the timeout ladder), assembled in [`switch::decide`].
//! - [`payment`]: a payment's two legs and its states; [`store`]: the durable journal
//!   (SQLite, group commit) every state is written to before it is acted on.
//! - [`engine`]: the running connector: follows ledgers, drives payments, recovers after a crash.
//! - [`metrics`]: Prometheus metrics.
//! - [`config`] and [`runtime`]: the TOML configuration and starting a connector from it;
//!   [`api`]: its HTTP API (quotes, payment status, receiver setup, operator routes).
//! - [`quote`]: what a payment costs, with the expiry its escrow needs.
//! - [`sender`]: the paying bank's side: quote, packet, escrow, wait.
//! - [`receiver`]: the receiving bank's side: SPSP-style setup and claiming escrows.
//! - [`payment_data`]: the end-to-end data (UETR, minimum amount) senders put in packets.
//! - [`reconcile`]: the journal against each ledger's statement, every difference listed.

pub mod api;
pub mod config;
pub mod engine;
pub mod layers;
pub mod metrics;
pub mod payment;
pub mod payment_data;
pub mod quote;
pub mod receiver;
pub mod reconcile;
pub mod runtime;
pub mod sender;
pub mod store;
pub mod switch;

use std::fmt;

use serde::{Deserialize, Serialize};

/// The connector's name for one of the ledgers it holds an account on.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, example = "digital-euro")]
pub struct LedgerId(String);

impl LedgerId {
    /// Wraps a ledger name.
    pub fn new(id: impl Into<String>) -> Self {
        LedgerId(id.into())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LedgerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for LedgerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LedgerId({})", self.0)
    }
}
