//! The chain's state machine: what the committee records. Pure and deterministic: no clock (the
//! block's agreed timestamp is the only time), no IO, no randomness.
//!
//! - [`types`]: accounts (Ed25519 keys), transaction ids, assets (`htlc`'s asset codes),
//!   escrows (`htlc`'s lock with the chain's parties and heights), anchors;
//! - [`tx`]: signed transactions, their canonical encoding, and the signature rule;
//! - [`reason`]: why a transaction failed (recorded, with no state change), and its stable
//!   code;
//! - [`exec`]: executing a block's transactions: changes, receipts, events and the state root;
//! - [`ledger`]: the committed state, speculative states of uncommitted blocks, and the
//!   consensus hook that fills and checks state roots;
//! - [`admission`]: the node's filter before its mempool (what cannot succeed from what the
//!   chain knows is refused), a filter only: execution still decides.
//!
//! Rules, in one place:
//! - every transaction is signed by its account and carries a nonce the account never used,
//!   at most 63 below its highest (so pipelined transactions may be ordered differently than
//!   signed) and at most the genesis's `max_nonce_gap` above it (`nonce_too_far_ahead`, so no
//!   transaction can use up an account's nonces); a replay fails (`nonce_reused`) and changes
//!   nothing;
//! - an asset is created by an issuer account; only it issues (to anyone) and redeems (from its
//!   own balance); per asset, balances plus open escrows always equal the supply;
//! - an escrow locks the payer's funds under a SHA-256 hash lock until an expiry, and steps
//!   through `htlc`'s escrow state machine ([`htlc::Escrow`], the one every ledger applies)
//!   with the block's timestamp as its clock: fulfil with the preimage strictly before the
//!   expiry (anyone may send it; the payee is paid), reject by the payee before the expiry,
//!   refund at or after the expiry (anyone; the payer is paid).
//!   An expiry is at most the genesis's `max_escrow_hold_ms` after the creating block's time
//!   (`expiry_too_far`), so no escrow locks funds for good. "Now" is the block's timestamp,
//!   which consensus makes strictly increasing;
//! - an anchor records a Merkle root with a namespace and its submitter, as the next batch of
//!   that (submitter, namespace): its sequence is the last one plus one (1 for the first) and
//!   it names the last batch's hash ([`types::batch_hash`]), or it fails
//!   (`anchor_out_of_sequence`) and changes nothing, so each namespace's batches form one hash
//!   chain with no gap, reordering or deletion;
//! - a rule violation is a failed transaction with a [`reason::FailReason`]: recorded in the
//!   block's receipts, no money moves (a fresh, authentic transaction still consumes its nonce).

pub mod admission;
pub mod exec;
pub mod ledger;
pub mod reason;
pub mod tx;
pub mod types;

#[cfg(test)]
mod tests;

pub use admission::{Admission, Refusal};
pub use exec::{BlockContext, BlockOutcome, Changes, Event, PreparedTx, Receipt, StateCommitment, StateView};
pub use ledger::{ApplyError, Executed, Ledger, SharedLedger, SigCache, State};
pub use reason::{FailCode, FailReason};
pub use tx::{Op, Transaction, TxBody, account_of};
pub use types::{
    Account, AccountId, Anchor, AnchorTip, AssetCode, AssetInfo, ChainParams, Escrow, EscrowId, TxId,
    batch_hash,
};
