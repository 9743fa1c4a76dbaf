//! CBDC supply: the central bank issues new money to intermediaries, and intermediaries redeem
//! it, taking it out of circulation. Both change the total supply, which is capped.

use htlc::Timestamp;
use uuid::Uuid;

use super::{Book, Outcome, Stage, negated, overflow, signed};
use crate::config::AccountKind;
use plugins::api::SupplyChange;
use plugins::error::PluginError;
use plugins::plugin::AccountId;

impl Book {
    fn central_bank_of(&self, caller: &str) -> Option<AccountId> {
        self.accounts
            .values()
            .find(|a| a.terms.kind == AccountKind::CentralBank && a.terms.owner == caller)
            .map(|a| a.terms.id.clone())
    }

    /// New money from the central bank to an intermediary.
    pub fn issue(
        &mut self,
        caller: &str,
        to: AccountId,
        amount: u64,
        now: Timestamp,
        stage: &mut Stage,
    ) -> Result<Outcome, PluginError> {
        Self::check_amount(amount)?;
        let cb = self
            .central_bank_of(caller)
            .ok_or_else(|| PluginError::Forbidden {
                reason: format!("{caller} operates no central bank account on this ledger"),
            })?;
        let target = self.existing(&to)?;
        if target.terms.kind != AccountKind::Intermediary {
            return Err(PluginError::Forbidden {
                reason: format!(
                    "issuance goes to intermediaries only; {to} is {}",
                    target.terms.kind.as_str()
                ),
            });
        }
        let credit = signed(amount, &to)?;
        let cap_exceeded = || PluginError::SupplyCapExceeded {
            cap: self.max_supply,
            supply: self.supply,
            requested: amount,
        };
        let supply = self
            .supply
            .checked_add(credit)
            .filter(|s| u64::try_from(*s).is_ok_and(|s| s <= self.max_supply))
            .ok_or_else(cap_exceeded)?;
        let balance = self.balance_after(&to, credit)?;
        let id = Uuid::new_v4();
        self.supply = supply;
        stage.supply_changed = true;
        if let Some(a) = self.accounts.get_mut(&to) {
            a.balance = balance;
            stage.book(a, credit, "issuance", id.to_string(), Some(cb), now);
        }
        Ok(Outcome::Supply(SupplyChange {
            id,
            account: to,
            amount: credit,
            total_supply: self.supply,
        }))
    }

    /// Money an intermediary returns to the central bank, leaving circulation.
    pub fn redeem(
        &mut self,
        caller: &str,
        from: AccountId,
        amount: u64,
        now: Timestamp,
        stage: &mut Stage,
    ) -> Result<Outcome, PluginError> {
        Self::check_amount(amount)?;
        let account = self.owned(caller, &from)?;
        if account.terms.kind != AccountKind::Intermediary {
            return Err(PluginError::Forbidden {
                reason: format!(
                    "only intermediaries redeem; {from} is {}",
                    account.terms.kind.as_str()
                ),
            });
        }
        if i128::from(account.balance) < i128::from(amount) {
            return Err(PluginError::InsufficientFunds {
                account: from,
                needed: amount,
                available: i128::from(account.balance),
            });
        }
        let cb = self
            .accounts
            .values()
            .find(|a| a.terms.kind == AccountKind::CentralBank)
            .map(|a| a.terms.id.clone());
        let debit = negated(amount, &from)?;
        let supply = self.supply.checked_add(debit).ok_or_else(|| overflow(&from))?;
        let balance = self.balance_after(&from, debit)?;
        let id = Uuid::new_v4();
        self.supply = supply;
        stage.supply_changed = true;
        if let Some(a) = self.accounts.get_mut(&from) {
            a.balance = balance;
            stage.book(a, debit, "redemption", id.to_string(), cb, now);
        }
        Ok(Outcome::Supply(SupplyChange {
            id,
            account: from,
            amount: debit,
            total_supply: self.supply,
        }))
    }
}
