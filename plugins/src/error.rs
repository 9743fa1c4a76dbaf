//! Why a ledger refused a request. Each variant has a stable machine-readable code that the REST
//! plugin API carries in `application/problem+json`, so the same error arrives at the connector
//! whichever ledger produced it.

use htlc::{EscrowStatus, Timestamp};

use crate::plugin::{AccountId, TransferId};

/// A ledger's refusal, or a failure to reach it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    /// The payer's available balance (plus overdraft) does not cover the amount.
    #[error("insufficient funds in {account}: needed {needed}, available {available}")]
    InsufficientFunds {
        /// The paying account.
        account: AccountId,
        /// Minor units requested.
        needed: u64,
        /// Minor units available, overdraft included.
        available: i128,
    },
    /// No such account on this ledger.
    #[error("unknown account {account}")]
    UnknownAccount {
        /// The account asked for.
        account: AccountId,
    },
    /// No such transfer on this ledger (or not visible to the caller).
    #[error("unknown transfer {id}")]
    UnknownTransfer {
        /// The transfer asked for.
        id: TransferId,
    },
    /// A rule of the ledger (wallet tier, holding limit, per-payment or daily limit) forbids it.
    #[error("limit exceeded on {account}: {limit}")]
    LimitExceeded {
        /// The account whose limit applies.
        account: AccountId,
        /// Which limit, in words (e.g. "e-CNY tier 3 daily limit 2000.00").
        limit: String,
    },
    /// The preimage does not hash to the transfer's condition.
    #[error("wrong fulfillment for transfer {id}")]
    WrongCondition {
        /// The transfer.
        id: TransferId,
    },
    /// Too late: the transfer expired at `expires_at` (or a prepare asked for a past expiry).
    #[error("transfer expired at {expires_at}")]
    Expired {
        /// The expiry.
        expires_at: Timestamp,
    },
    /// An issuance would take the total supply above the ledger's cap.
    #[error(
        "supply cap exceeded: issuing {requested} would take the supply from {supply} above the cap of {cap}"
    )]
    SupplyCapExceeded {
        /// The configured cap, minor units.
        cap: u64,
        /// The supply before the issuance, minor units.
        supply: i64,
        /// What the issuance asked for, minor units.
        requested: u64,
    },
    /// A prepare's expiry is further ahead than the ledger holds escrows.
    #[error(
        "expiry {expires_at} is later than the latest this ledger accepts now ({latest}, a hold of at most {max_hold_ms} ms)"
    )]
    ExpiryTooFar {
        /// The expiry asked for.
        expires_at: Timestamp,
        /// The latest expiry accepted at the time of the request.
        latest: Timestamp,
        /// The ledger's longest hold, ms.
        max_hold_ms: u64,
    },
    /// A balance would leave the range the ledger can represent. The ledger's configured bounds
    /// make this unreachable; it exists so that a broken invariant refuses instead of wrapping.
    #[error("amount overflow on account {account}")]
    AmountOverflow {
        /// The account whose balance would overflow.
        account: AccountId,
    },
    /// The transfer is already final in another state.
    #[error("transfer {id} is already {}", status.as_str())]
    AlreadyFinal {
        /// The transfer.
        id: TransferId,
        /// Its final state.
        status: EscrowStatus,
    },
    /// An idempotency key (or transfer id) was reused with a different request.
    #[error("duplicate request id with different contents: {reason}")]
    Duplicate {
        /// What differed.
        reason: String,
    },
    /// Missing or invalid signature, unknown key, stale timestamp or replayed nonce.
    #[error("unauthorized: {reason}")]
    Unauthorized {
        /// Why.
        reason: String,
    },
    /// The caller may not act on this account or transfer.
    #[error("forbidden: {reason}")]
    Forbidden {
        /// Why.
        reason: String,
    },
    /// The request is syntactically or semantically invalid.
    #[error("malformed request: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// The ledger's webhook policy refuses the URL: a scheme it does not allow, credentials
    /// in the URL, or an internal address (loopback, link-local, private, ...).
    #[error("webhook url forbidden: {reason}")]
    WebhookUrlForbidden {
        /// Why.
        reason: String,
    },
    /// The request body is larger than the ledger accepts.
    #[error("request body larger than {limit} bytes")]
    TooLarge {
        /// The ledger's limit, bytes.
        limit: usize,
    },
    /// The ledger does not offer this operation or endpoint.
    #[error("unsupported: {what}")]
    Unsupported {
        /// What was asked for.
        what: String,
    },
    /// The ledger could not be reached or answered with an unexpected failure; retry later.
    #[error("ledger unavailable: {reason}")]
    Unavailable {
        /// What happened.
        reason: String,
    },
}

impl PluginError {
    /// The stable machine-readable code used in `application/problem+json` bodies.
    pub fn code(&self) -> &'static str {
        match self {
            PluginError::InsufficientFunds { .. } => "insufficient_funds",
            PluginError::UnknownAccount { .. } => "unknown_account",
            PluginError::UnknownTransfer { .. } => "unknown_transfer",
            PluginError::LimitExceeded { .. } => "limit_exceeded",
            PluginError::WrongCondition { .. } => "wrong_condition",
            PluginError::Expired { .. } => "expired",
            PluginError::AlreadyFinal { .. } => "already_final",
            PluginError::SupplyCapExceeded { .. } => "supply_cap_exceeded",
            PluginError::ExpiryTooFar { .. } => "expiry_too_far",
            PluginError::AmountOverflow { .. } => "amount_overflow",
            PluginError::Duplicate { .. } => "duplicate",
            PluginError::Unauthorized { .. } => "unauthorized",
            PluginError::Forbidden { .. } => "forbidden",
            PluginError::Malformed { .. } => "malformed",
            PluginError::WebhookUrlForbidden { .. } => "webhook_url_forbidden",
            PluginError::TooLarge { .. } => "too_large",
            PluginError::Unsupported { .. } => "unsupported",
            PluginError::Unavailable { .. } => "unavailable",
        }
    }

    /// True if retrying the same request later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, PluginError::Unavailable { .. })
    }
}
