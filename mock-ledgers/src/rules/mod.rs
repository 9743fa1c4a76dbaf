//! Ledger rules: what makes a bank ledger, the digital euro and e-CNY different, as one trait
//! the ledger's book calls inside the transaction of every money movement.
//!
//! The book ([`crate::server::book`]) owns the bookkeeping (balances, holds, overdrafts, entries); a rule set only
//! answers questions about one account at a time: may it pay this much, may it receive this
//! much (pending incoming escrows counted, so a limit that an escrow's completion would break
//! is refused when the escrow is created), how much must be pulled in before a payment
//! (reverse waterfall) and how much swept out after a credit (waterfall).
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))] // money and limits: every sum is checked

mod bank;
mod digital_euro;
mod ecny;

use htlc::Timestamp;

use crate::config::{AccountKind, LedgerConfig, LedgerKind};
use crate::server::book::AccountState;
use plugins::error::PluginError;

pub use bank::BankRules;
pub use digital_euro::DigitalEuroRules;
pub use ecny::ECnyRules;

/// A ledger's rule set. Every method sees the account as it stands before the movement.
pub trait LedgerRules: Send + Sync + 'static {
    /// May `payer` pay `amount` out now (per-payment, daily, annual limits)?
    fn check_outgoing(
        &self,
        _payer: &AccountState,
        _amount: u64,
        _now: Timestamp,
    ) -> Result<(), PluginError> {
        Ok(())
    }

    /// Counts a payment that was just made against the payer's spending limits.
    fn record_outgoing(&self, _payer: &mut AccountState, _amount: u64, _now: Timestamp) {}

    /// Un-counts a refunded payment made at `made_at` (an escrow rejected or expired).
    fn release_outgoing(
        &self,
        _payer: &mut AccountState,
        _amount: u64,
        _made_at: Timestamp,
        _now: Timestamp,
    ) {
    }

    /// May `payee` receive `amount` more, on top of its balance and pending incoming escrows?
    fn check_incoming(&self, _payee: &AccountState, _amount: u64) -> Result<(), PluginError> {
        Ok(())
    }

    /// How much more `payee` can receive now (its limit less its balance and pending incoming
    /// escrows), or `None` if no limit applies. Connectors ask before quoting.
    fn receivable(&self, _payee: &AccountState) -> Option<u64> {
        None
    }

    /// How much to move from the payer's linked account into it before paying `amount`.
    fn shortfall_pull(&self, _payer: &AccountState, _amount: u64) -> u64 {
        0
    }

    /// How much to move from `payee` to its linked account after it was credited.
    fn excess_sweep(&self, _payee: &AccountState) -> u64 {
        0
    }
}

/// The rule set a configuration asks for.
pub fn for_config(config: &LedgerConfig) -> Box<dyn LedgerRules> {
    match config.kind {
        LedgerKind::Bank => Box::new(BankRules),
        LedgerKind::DigitalEuro => Box::new(DigitalEuroRules {
            holding_limit: config.holding_limit,
            scale: config.info.asset.scale,
        }),
        LedgerKind::ECny => Box::new(ECnyRules {
            tiers: config.tiers.clone(),
            utc_offset_minutes: config.ecny_utc_offset_minutes,
            scale: config.info.asset.scale,
        }),
    }
}

/// What counts against a wallet's holding or balance limit: its balance plus what is pending
/// towards it in escrows.
fn holds(account: &AccountState) -> i128 {
    i128::from(account.balance).saturating_add(i128::from(account.incoming))
}

/// How much more `account` may receive under `limit`.
pub(crate) fn room_under(limit: u64, account: &AccountState) -> u64 {
    let room = i128::from(limit).saturating_sub(holds(account)).max(0);
    u64::try_from(room).unwrap_or(u64::MAX)
}

/// Whether receiving `amount` more would take `account` over `limit`.
pub(crate) fn would_exceed(limit: u64, account: &AccountState, amount: u64) -> bool {
    holds(account).saturating_add(i128::from(amount)) > i128::from(limit)
}

/// True for accounts retail limits apply to.
pub(crate) fn is_wallet(account: &AccountState) -> bool {
    account.terms.kind == AccountKind::Wallet
}
