//! The ledger's book: every account and every live (prepared) escrow, in memory, owned by the
//! single writer task.
//!
//! Each operation checks everything first and changes nothing on refusal; when it succeeds it
//! changes the in-memory state and appends the rows to write ([`Stage`]) — the writer commits a
//! whole batch of operations in one SQLite transaction and only then answers. If that commit
//! fails, the writer reloads the book from the database, so memory never runs ahead of disk.
//!
//! Money model: `balance` is what an account can spend (negative only within its overdraft);
//! preparing a transfer moves the amount from the payer's `balance` to its `held`; fulfilling
//! moves it from `held` to the payee's `balance`; rejecting or expiring moves it back. So
//! `sum(balance) + sum(held) == supply` at all times, and the booked balance of a statement
//! (`balance + held`) changes only when money actually leaves or arrives.
//!
//! Overflow: the configuration bounds the supply and the overdrafts (see
//! [`crate::config::MAX_LEDGER_AMOUNT`]), which keeps every balance far inside `i64`; on top of
//! that every sum here is checked (clippy's `arithmetic_side_effects` is denied in this module
//! and its children), and each operation computes its new balances before changing any, so a
//! refusal changes nothing.
//!
//! - `accounts`: account state, settled movements between accounts (payments, the digital
//!   euro's waterfalls).
//! - `escrow`: the escrow lifecycle: prepare, fulfil, reject, expire.
//! - `supply`: CBDC issuance and redemption.
//! - `stage`: the rows a batch will write, and the events staged with them.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

mod accounts;
mod escrow;
mod stage;
mod supply;

use std::collections::{BTreeSet, HashMap};

use htlc::Timestamp;
use htlc::money::format_decimal;

use crate::config::{LedgerConfig, MAX_LEDGER_AMOUNT};
use crate::rules::LedgerRules;
use plugins::error::PluginError;
use plugins::plugin::{AccountId, Transfer, TransferId};

pub use accounts::AccountState;
pub use stage::{EntryRow, EventRow, Outcome, Stage};

/// The ledger's book, in memory: accounts, live escrows and the supply.
pub struct Book {
    rules: Box<dyn LedgerRules>,
    scale: u8,
    accounts: HashMap<AccountId, AccountState>,
    live: HashMap<TransferId, Transfer>,
    by_expiry: BTreeSet<(Timestamp, TransferId)>,
    supply: i64,
    max_supply: u64,
    max_hold_ms: u64,
    last_cursor: u64,
}

/// Largest single amount accepted.
const MAX_AMOUNT: u64 = MAX_LEDGER_AMOUNT;

/// The refusal for a sum that leaves the representable range on `account`.
fn overflow(account: &AccountId) -> PluginError {
    PluginError::AmountOverflow {
        account: account.clone(),
    }
}

/// `amount` as a signed balance change (amounts are at most [`MAX_AMOUNT`], so this holds).
fn signed(amount: u64, account: &AccountId) -> Result<i64, PluginError> {
    i64::try_from(amount).map_err(|_| overflow(account))
}

/// `-amount` as a signed balance change.
fn negated(amount: u64, account: &AccountId) -> Result<i64, PluginError> {
    0i64.checked_sub(signed(amount, account)?)
        .ok_or_else(|| overflow(account))
}

impl Book {
    /// A book over loaded state.
    pub fn new(
        config: &LedgerConfig,
        rules: Box<dyn LedgerRules>,
        accounts: Vec<AccountState>,
        live: Vec<Transfer>,
        supply: i64,
        last_cursor: u64,
    ) -> Self {
        let by_expiry = live.iter().map(|t| (t.expires_at, t.id)).collect();
        Book {
            rules,
            scale: config.info.asset.scale,
            accounts: accounts.into_iter().map(|a| (a.terms.id.clone(), a)).collect(),
            live: live.into_iter().map(|t| (t.id, t)).collect(),
            by_expiry,
            supply,
            max_supply: config.max_supply,
            max_hold_ms: config.max_hold_ms,
            last_cursor,
        }
    }

    /// An account's state.
    pub fn account(&self, id: &AccountId) -> Option<&AccountState> {
        self.accounts.get(id)
    }

    /// Total supply.
    pub fn supply(&self) -> i64 {
        self.supply
    }

    /// The last event cursor handed out.
    pub fn last_cursor(&self) -> u64 {
        self.last_cursor
    }

    /// Number of live escrows.
    pub fn live_count(&self) -> usize {
        self.live.len()
    }

    /// The earliest expiry among live escrows.
    pub fn next_expiry(&self) -> Option<Timestamp> {
        self.by_expiry.first().map(|(t, _)| *t)
    }

    /// A live escrow, if any.
    pub fn live(&self, id: &TransferId) -> Option<&Transfer> {
        self.live.get(id)
    }

    fn owned(&self, caller: &str, id: &AccountId) -> Result<&AccountState, PluginError> {
        let account = self
            .accounts
            .get(id)
            .ok_or_else(|| PluginError::UnknownAccount { account: id.clone() })?;
        if account.terms.owner != caller {
            return Err(PluginError::Forbidden {
                reason: format!("account {id} is not operated by {caller}"),
            });
        }
        Ok(account)
    }

    fn existing(&self, id: &AccountId) -> Result<&AccountState, PluginError> {
        self.accounts
            .get(id)
            .ok_or_else(|| PluginError::UnknownAccount { account: id.clone() })
    }

    fn check_amount(amount: u64) -> Result<(), PluginError> {
        if amount == 0 || amount > MAX_AMOUNT {
            return Err(PluginError::Malformed {
                reason: format!("amount must be between 1 and {MAX_AMOUNT} minor units"),
            });
        }
        Ok(())
    }

    /// An account's balance after adding `delta`, checked.
    fn balance_after(&self, id: &AccountId, delta: i64) -> Result<i64, PluginError> {
        self.existing(id)?
            .balance
            .checked_add(delta)
            .ok_or_else(|| overflow(id))
    }

    /// Whether `caller` may see a transfer (operates its payer or payee account).
    pub fn visible_to(&self, caller: &str, transfer: &Transfer) -> bool {
        [&transfer.from, &transfer.to]
            .iter()
            .any(|id| self.accounts.get(*id).is_some_and(|a| a.terms.owner == caller))
    }

    /// Human-readable amount, for logs.
    pub fn display(&self, minor: u64) -> String {
        format_decimal(minor, self.scale)
    }
}
