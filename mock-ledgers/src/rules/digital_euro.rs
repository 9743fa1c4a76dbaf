//! The digital euro: a per-person holding limit. A wallet linked to a bank account never holds
//! more than the limit (the excess sweeps to the bank: the waterfall) and can pay more than it
//! holds (the shortfall is pulled from the bank: the reverse waterfall). A merchant wallet's
//! limit is zero, so everything it receives sweeps out. An unlinked wallet refuses what would
//! take it over the limit.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))] // money and limits: every sum is checked

use htlc::money::format_decimal;

use super::{LedgerRules, is_wallet, room_under, would_exceed};
use crate::server::book::AccountState;
use plugins::error::PluginError;

/// Digital euro rules.
#[derive(Debug, Clone)]
pub struct DigitalEuroRules {
    /// Holding limit per wallet, minor units.
    pub holding_limit: u64,
    /// Asset scale, for messages.
    pub scale: u8,
}

impl DigitalEuroRules {
    fn limit_of(&self, wallet: &AccountState) -> u64 {
        if wallet.terms.merchant {
            0
        } else {
            self.holding_limit
        }
    }
}

impl LedgerRules for DigitalEuroRules {
    fn receivable(&self, payee: &AccountState) -> Option<u64> {
        // Linked wallets sweep any excess to their bank account: no limit on what they receive.
        if !is_wallet(payee) || payee.terms.linked_account.is_some() {
            return None;
        }
        Some(room_under(self.limit_of(payee), payee))
    }

    fn check_incoming(&self, payee: &AccountState, amount: u64) -> Result<(), PluginError> {
        if !is_wallet(payee) || payee.terms.linked_account.is_some() {
            return Ok(());
        }
        let limit = self.limit_of(payee);
        if would_exceed(limit, payee, amount) {
            return Err(PluginError::LimitExceeded {
                account: payee.terms.id.clone(),
                limit: format!(
                    "digital euro holding limit {} (unlinked wallet; pending incoming transfers count)",
                    format_decimal(limit, self.scale)
                ),
            });
        }
        Ok(())
    }

    fn shortfall_pull(&self, payer: &AccountState, amount: u64) -> u64 {
        if !is_wallet(payer) || payer.terms.linked_account.is_none() {
            return 0;
        }
        let have = u64::try_from(payer.balance.max(0)).unwrap_or(0);
        amount.saturating_sub(have)
    }

    fn excess_sweep(&self, payee: &AccountState) -> u64 {
        if !is_wallet(payee) || payee.terms.linked_account.is_none() {
            return 0;
        }
        let have = u64::try_from(payee.balance.max(0)).unwrap_or(0);
        have.saturating_sub(self.limit_of(payee))
    }
}
