//! Why a transaction failed. A failed transaction is still recorded in its block with its
//! reason; it moves no money and changes no asset, escrow or anchor. If it was properly signed
//! and its nonce was fresh, the nonce is consumed, so the same signed bytes can never take
//! effect later (a payment that failed must not succeed when replayed after funds arrive).

use htlc::EscrowStatus;

/// A rule a transaction broke.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FailReason {
    /// The bytes are not a transaction.
    #[error("malformed transaction")]
    Malformed,
    /// The signature does not verify under the signer's key.
    #[error("invalid signature")]
    BadSignature,
    /// Signed for another chain.
    #[error("transaction is for another chain")]
    WrongChain,
    /// The nonce was used already, or is more than the window below the highest used (a
    /// replay, or a stale transaction).
    #[error("nonce {nonce} already used or too old (highest nonce used {last})")]
    NonceReused {
        /// The transaction's nonce.
        nonce: u64,
        /// The signer's last nonce.
        last: u64,
    },
    /// The nonce is more than the chain's `max_nonce_gap` above the highest the signer used
    /// (see [`crate::state::ChainParams`]). Not consumed: it is the nonce that must not be.
    #[error("nonce {nonce} is more than {max_gap} above the highest nonce used ({last})")]
    NonceTooFarAhead {
        /// The transaction's nonce.
        nonce: u64,
        /// The signer's highest used nonce.
        last: u64,
        /// The chain's bound.
        max_gap: u64,
    },
    /// The amount is zero.
    #[error("amount must be positive")]
    ZeroAmount,
    /// No such asset.
    #[error("unknown asset {0}")]
    UnknownAsset(String),
    /// An asset with this code exists.
    #[error("asset {0} already exists")]
    AssetExists(String),
    /// Only the asset's issuer may do this.
    #[error("only the issuer of {0} may issue or redeem it")]
    NotIssuer(String),
    /// Issuing would take the supply past 2^64 - 1.
    #[error("supply of {0} would overflow")]
    SupplyOverflow(String),
    /// Not enough funds.
    #[error("insufficient funds: {available} available, {needed} needed")]
    InsufficientFunds {
        /// Balance.
        available: u64,
        /// Amount asked.
        needed: u64,
    },
    /// The escrow id is taken (the payer used this reference before).
    #[error("an escrow with this reference already exists")]
    EscrowExists,
    /// No such escrow.
    #[error("unknown escrow")]
    UnknownEscrow,
    /// The escrow is already fulfilled, rejected or refunded.
    #[error("escrow is already {}", .0.as_str())]
    EscrowFinal(EscrowStatus),
    /// The preimage does not hash to the condition.
    #[error("fulfillment does not match the condition")]
    WrongFulfillment,
    /// Fulfil or reject at or after the expiry.
    #[error("escrow expired at {expires_at_ms} (block time {now_ms})")]
    EscrowExpired {
        /// Expiry.
        expires_at_ms: u64,
        /// Block time.
        now_ms: u64,
    },
    /// Refund before the expiry.
    #[error("escrow does not expire until {expires_at_ms} (block time {now_ms})")]
    NotYetExpired {
        /// Expiry.
        expires_at_ms: u64,
        /// Block time.
        now_ms: u64,
    },
    /// An escrow created already expired.
    #[error("expiry {expires_at_ms} is not after the block time {now_ms}")]
    ExpiryInPast {
        /// Expiry.
        expires_at_ms: u64,
        /// Block time.
        now_ms: u64,
    },
    /// An escrow would lock funds longer than the chain's `max_escrow_hold_ms` allows.
    #[error("expiry {expires_at_ms} is more than {max_hold_ms} ms after the block time {now_ms}")]
    ExpiryTooFar {
        /// Expiry.
        expires_at_ms: u64,
        /// Block time.
        now_ms: u64,
        /// The chain's bound.
        max_hold_ms: u64,
    },
    /// Only the payee may reject.
    #[error("only the payee may reject an escrow")]
    NotPayee,
    /// Paying oneself.
    #[error("payer and payee are the same account")]
    SelfPayment,
}

impl FailReason {
    /// Stable machine-readable code (API, storage, receipts).
    pub fn code(&self) -> &'static str {
        match self {
            FailReason::Malformed => "malformed",
            FailReason::BadSignature => "bad_signature",
            FailReason::WrongChain => "wrong_chain",
            FailReason::NonceReused { .. } => "nonce_reused",
            FailReason::NonceTooFarAhead { .. } => "nonce_too_far_ahead",
            FailReason::ZeroAmount => "zero_amount",
            FailReason::UnknownAsset(_) => "unknown_asset",
            FailReason::AssetExists(_) => "asset_exists",
            FailReason::NotIssuer(_) => "not_issuer",
            FailReason::SupplyOverflow(_) => "supply_overflow",
            FailReason::InsufficientFunds { .. } => "insufficient_funds",
            FailReason::EscrowExists => "escrow_exists",
            FailReason::UnknownEscrow => "unknown_escrow",
            FailReason::EscrowFinal(_) => "escrow_final",
            FailReason::WrongFulfillment => "wrong_fulfillment",
            FailReason::EscrowExpired { .. } => "escrow_expired",
            FailReason::NotYetExpired { .. } => "not_yet_expired",
            FailReason::ExpiryInPast { .. } => "expiry_in_past",
            FailReason::ExpiryTooFar { .. } => "expiry_too_far",
            FailReason::NotPayee => "not_payee",
            FailReason::SelfPayment => "self_payment",
        }
    }

    /// Whether the signer's nonce is consumed by this failure (an authentic, fresh
    /// transaction that broke a ledger rule).
    pub fn consumes_nonce(&self) -> bool {
        !matches!(
            self,
            FailReason::Malformed
                | FailReason::BadSignature
                | FailReason::WrongChain
                | FailReason::NonceReused { .. }
                | FailReason::NonceTooFarAhead { .. }
        )
    }
}
