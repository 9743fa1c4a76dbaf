//! Why a transaction failed. A failed transaction is still recorded in its block with its
//! reason; it moves no money and changes no asset, escrow or anchor. If it was properly signed
//! and its nonce was fresh, the nonce is consumed, so the same signed bytes can never take
//! effect later (a payment that failed must not succeed when replayed after funds arrive).

use std::fmt;
use std::str::FromStr;

use htlc::EscrowStatus;
use serde::{Deserialize, Serialize};

use crate::state::types::AssetCode;

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
    UnknownAsset(AssetCode),
    /// An asset with this code exists.
    #[error("asset {0} already exists")]
    AssetExists(AssetCode),
    /// Only the asset's issuer may do this.
    #[error("only the issuer of {0} may issue or redeem it")]
    NotIssuer(AssetCode),
    /// Issuing would take the supply past 2^64 - 1.
    #[error("supply of {0} would overflow")]
    SupplyOverflow(AssetCode),
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
    /// An escrow would lock funds longer than the chain's `max_escrow_hold_ms` allows, or
    /// expire after 9999-12-31 (the last instant of `htlc`'s timestamps and of ILP packets).
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
    /// An anchor that is not the next batch of its (signer, namespace): its sequence is not the
    /// last one plus one, or its `previous` is not the last batch's hash.
    #[error(
        "anchor batch {got} is out of sequence: the next batch is {expected}, naming the last batch's hash"
    )]
    AnchorOutOfSequence {
        /// The batch number the chain expects next.
        expected: u64,
        /// The anchor's batch number.
        got: u64,
    },
}

impl FailReason {
    /// Which rule, without the particulars (API, storage, receipts).
    pub fn code(&self) -> FailCode {
        match self {
            FailReason::Malformed => FailCode::Malformed,
            FailReason::BadSignature => FailCode::BadSignature,
            FailReason::WrongChain => FailCode::WrongChain,
            FailReason::NonceReused { .. } => FailCode::NonceReused,
            FailReason::NonceTooFarAhead { .. } => FailCode::NonceTooFarAhead,
            FailReason::ZeroAmount => FailCode::ZeroAmount,
            FailReason::UnknownAsset(_) => FailCode::UnknownAsset,
            FailReason::AssetExists(_) => FailCode::AssetExists,
            FailReason::NotIssuer(_) => FailCode::NotIssuer,
            FailReason::SupplyOverflow(_) => FailCode::SupplyOverflow,
            FailReason::InsufficientFunds { .. } => FailCode::InsufficientFunds,
            FailReason::EscrowExists => FailCode::EscrowExists,
            FailReason::UnknownEscrow => FailCode::UnknownEscrow,
            FailReason::EscrowFinal(_) => FailCode::EscrowFinal,
            FailReason::WrongFulfillment => FailCode::WrongFulfillment,
            FailReason::EscrowExpired { .. } => FailCode::EscrowExpired,
            FailReason::NotYetExpired { .. } => FailCode::NotYetExpired,
            FailReason::ExpiryInPast { .. } => FailCode::ExpiryInPast,
            FailReason::ExpiryTooFar { .. } => FailCode::ExpiryTooFar,
            FailReason::NotPayee => FailCode::NotPayee,
            FailReason::SelfPayment => FailCode::SelfPayment,
            FailReason::AnchorOutOfSequence { .. } => FailCode::AnchorOutOfSequence,
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

/// The stable machine-readable name of a [`FailReason`]: what a receipt hashes, storage keeps,
/// and the API shows (`reason` of a failed transaction, `code` of a refusal). Clients match on
/// these values, never on the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailCode {
    /// [`FailReason::Malformed`].
    Malformed,
    /// [`FailReason::BadSignature`].
    BadSignature,
    /// [`FailReason::WrongChain`].
    WrongChain,
    /// [`FailReason::NonceReused`].
    NonceReused,
    /// [`FailReason::NonceTooFarAhead`].
    NonceTooFarAhead,
    /// [`FailReason::ZeroAmount`].
    ZeroAmount,
    /// [`FailReason::UnknownAsset`].
    UnknownAsset,
    /// [`FailReason::AssetExists`].
    AssetExists,
    /// [`FailReason::NotIssuer`].
    NotIssuer,
    /// [`FailReason::SupplyOverflow`].
    SupplyOverflow,
    /// [`FailReason::InsufficientFunds`].
    InsufficientFunds,
    /// [`FailReason::EscrowExists`].
    EscrowExists,
    /// [`FailReason::UnknownEscrow`].
    UnknownEscrow,
    /// [`FailReason::EscrowFinal`].
    EscrowFinal,
    /// [`FailReason::WrongFulfillment`].
    WrongFulfillment,
    /// [`FailReason::EscrowExpired`].
    EscrowExpired,
    /// [`FailReason::NotYetExpired`].
    NotYetExpired,
    /// [`FailReason::ExpiryInPast`].
    ExpiryInPast,
    /// [`FailReason::ExpiryTooFar`].
    ExpiryTooFar,
    /// [`FailReason::NotPayee`].
    NotPayee,
    /// [`FailReason::SelfPayment`].
    SelfPayment,
    /// [`FailReason::AnchorOutOfSequence`].
    AnchorOutOfSequence,
}

impl FailCode {
    /// Every code.
    pub const ALL: [FailCode; 22] = [
        FailCode::Malformed,
        FailCode::BadSignature,
        FailCode::WrongChain,
        FailCode::NonceReused,
        FailCode::NonceTooFarAhead,
        FailCode::ZeroAmount,
        FailCode::UnknownAsset,
        FailCode::AssetExists,
        FailCode::NotIssuer,
        FailCode::SupplyOverflow,
        FailCode::InsufficientFunds,
        FailCode::EscrowExists,
        FailCode::UnknownEscrow,
        FailCode::EscrowFinal,
        FailCode::WrongFulfillment,
        FailCode::EscrowExpired,
        FailCode::NotYetExpired,
        FailCode::ExpiryInPast,
        FailCode::ExpiryTooFar,
        FailCode::NotPayee,
        FailCode::SelfPayment,
        FailCode::AnchorOutOfSequence,
    ];

    /// The name (the same as its JSON form). Receipts hash these bytes, so they never change.
    pub fn as_str(self) -> &'static str {
        match self {
            FailCode::Malformed => "malformed",
            FailCode::BadSignature => "bad_signature",
            FailCode::WrongChain => "wrong_chain",
            FailCode::NonceReused => "nonce_reused",
            FailCode::NonceTooFarAhead => "nonce_too_far_ahead",
            FailCode::ZeroAmount => "zero_amount",
            FailCode::UnknownAsset => "unknown_asset",
            FailCode::AssetExists => "asset_exists",
            FailCode::NotIssuer => "not_issuer",
            FailCode::SupplyOverflow => "supply_overflow",
            FailCode::InsufficientFunds => "insufficient_funds",
            FailCode::EscrowExists => "escrow_exists",
            FailCode::UnknownEscrow => "unknown_escrow",
            FailCode::EscrowFinal => "escrow_final",
            FailCode::WrongFulfillment => "wrong_fulfillment",
            FailCode::EscrowExpired => "escrow_expired",
            FailCode::NotYetExpired => "not_yet_expired",
            FailCode::ExpiryInPast => "expiry_in_past",
            FailCode::ExpiryTooFar => "expiry_too_far",
            FailCode::NotPayee => "not_payee",
            FailCode::SelfPayment => "self_payment",
            FailCode::AnchorOutOfSequence => "anchor_out_of_sequence",
        }
    }
}

impl fmt::Display for FailCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no [`FailCode`]'s.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown failure code {0:?}")]
pub struct UnknownFailCode(pub String);

impl FromStr for FailCode {
    type Err = UnknownFailCode;
    /// The inverse of [`FailCode::as_str`] (how storage is read back).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FailCode::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownFailCode(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_as_written_in_text_and_json() {
        let mut seen = std::collections::HashSet::new();
        for code in FailCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert_eq!(code.as_str().parse(), Ok(code));
            let json = format!("\"{code}\"");
            assert_eq!(serde_json::to_string(&code).unwrap(), json);
            assert_eq!(serde_json::from_str::<FailCode>(&json).unwrap(), code);
        }
        assert_eq!(
            "melted".parse::<FailCode>(),
            Err(UnknownFailCode("melted".into()))
        );
        assert_eq!(
            FailReason::EscrowFinal(EscrowStatus::Fulfilled).code(),
            FailCode::EscrowFinal
        );
    }
}
