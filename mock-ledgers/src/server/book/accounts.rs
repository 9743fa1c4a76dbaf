//! Accounts: their state, and settled movements between them — immediate payments and the
//! digital euro's waterfalls (a wallet over its holding limit sweeps the excess to its linked
//! bank account; one short of funds pulls the shortfall from it).

use htlc::Timestamp;
use uuid::Uuid;

use super::{Book, Outcome, Stage, negated, signed};
use crate::config::{AccountKind, AccountSpec, AccountTerms};
use plugins::api::{Payment, PaymentRequest};
use plugins::error::PluginError;
use plugins::plugin::{AccountId, Balance};

/// One account's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountState {
    /// What the configuration says of it (`terms.overdraft_limit`: how far below zero
    /// `balance` may go).
    pub terms: AccountTerms,
    /// Spendable funds, minor units.
    pub balance: i64,
    /// Locked in outgoing escrows.
    pub held: u64,
    /// Pending in incoming escrows (counted against holding limits).
    pub incoming: u64,
    /// Day number of `spent_day`.
    pub spent_day_key: i64,
    /// Paid out that day.
    pub spent_day: u64,
    /// Year of `spent_year`.
    pub spent_year_key: i64,
    /// Paid out that year.
    pub spent_year: u64,
}

impl AccountState {
    /// A new account from its configuration, empty.
    pub fn from_spec(spec: &AccountSpec) -> Self {
        AccountState {
            terms: spec.terms.clone(),
            balance: 0,
            held: 0,
            incoming: 0,
            spent_day_key: 0,
            spent_day: 0,
            spent_year_key: 0,
            spent_year: 0,
        }
    }

    /// Balance plus held: what a statement shows.
    pub fn booked(&self) -> i64 {
        self.balance
            .saturating_add(i64::try_from(self.held).unwrap_or(i64::MAX))
    }

    /// What may still be spent, overdraft included.
    pub fn spendable(&self) -> i128 {
        i128::from(self.balance).saturating_add(i128::from(self.terms.overdraft_limit))
    }

    /// As the API shows it.
    pub fn to_balance(&self) -> Balance {
        Balance {
            account: self.terms.id.clone(),
            available: i128::from(self.balance),
            held: self.held,
            overdraft_limit: self.terms.overdraft_limit,
        }
    }
}

impl Book {
    /// Credits an opening balance at first start (genesis): it adds to supply.
    pub fn open_account(
        &mut self,
        mut account: AccountState,
        opening: u64,
        now: Timestamp,
        stage: &mut Stage,
    ) {
        let id = account.terms.id.clone();
        let amount = i64::try_from(opening).unwrap_or(i64::MAX);
        account.balance = amount;
        self.supply = self.supply.saturating_add(amount);
        stage.supply_changed = true;
        if amount != 0 {
            stage.book(&account, amount, "opening", format!("opening:{id}"), None, now);
        }
        // Booked or not, a new account is written.
        stage.touched.insert(id.clone());
        self.accounts.insert(id, account);
    }

    /// Updates configured attributes of a known account.
    pub fn reconfigure(&mut self, spec: &AccountSpec, stage: &mut Stage) {
        if let Some(a) = self.accounts.get_mut(&spec.terms.id) {
            // The configured terms (not the money) of the same account.
            a.terms = spec.terms.clone();
            stage.touched.insert(spec.terms.id.clone());
        }
    }

    /// Everything that must hold before `payer` pays `amount` to `payee`; returns how much the
    /// reverse waterfall pulls from the payer's linked account.
    pub(super) fn check_movement(
        &self,
        payer: &AccountState,
        payee: &AccountState,
        amount: u64,
        now: Timestamp,
    ) -> Result<u64, PluginError> {
        if payer.terms.id == payee.terms.id {
            return Err(PluginError::Malformed {
                reason: "payer and payee are the same account".into(),
            });
        }
        for (who, a) in [("pay", payer), ("receive", payee)] {
            if a.terms.kind == AccountKind::CentralBank {
                return Err(PluginError::Forbidden {
                    reason: format!(
                        "the central bank account {} does not {who}: use issuance and redemption",
                        a.terms.id
                    ),
                });
            }
        }
        self.rules.check_outgoing(payer, amount, now)?;
        self.rules.check_incoming(payee, amount)?;
        let pull = self.rules.shortfall_pull(payer, amount);
        let mut spendable = payer.spendable().saturating_add(i128::from(pull));
        if pull > 0 {
            let linked = payer
                .terms
                .linked_account
                .as_ref()
                .and_then(|l| self.accounts.get(l))
                .ok_or_else(|| PluginError::Unavailable {
                    reason: format!("linked account of {} is missing", payer.terms.id),
                })?;
            if linked.spendable() < i128::from(pull) {
                spendable = payer.spendable().saturating_add(linked.spendable().max(0));
                return Err(PluginError::InsufficientFunds {
                    account: payer.terms.id.clone(),
                    needed: amount,
                    available: spendable,
                });
            }
        }
        if spendable < i128::from(amount) {
            return Err(PluginError::InsufficientFunds {
                account: payer.terms.id.clone(),
                needed: amount,
                available: payer.spendable(),
            });
        }
        Ok(pull)
    }

    /// Moves settled funds between two accounts with entries on both (used for payments and
    /// the waterfalls). Checks were done by the caller.
    #[allow(clippy::too_many_arguments)] // a booking's full description, each field used once
    fn move_settled(
        &mut self,
        from: &AccountId,
        to: &AccountId,
        amount: u64,
        kind: &'static str,
        reference: &str,
        now: Timestamp,
        stage: &mut Stage,
    ) -> Result<(), PluginError> {
        let (debit, credit) = (negated(amount, from)?, signed(amount, to)?);
        let from_after = self.balance_after(from, debit)?;
        let to_after = self.balance_after(to, credit)?;
        for (id, delta, after, other) in [(from, debit, from_after, to), (to, credit, to_after, from)] {
            if let Some(a) = self.accounts.get_mut(id) {
                a.balance = after;
                stage.book(a, delta, kind, reference.to_owned(), Some(other.clone()), now);
            }
        }
        Ok(())
    }

    /// After crediting a wallet: the waterfall. The credit is already booked, so a sweep that
    /// cannot be booked (only on a broken invariant) is logged and the excess stays put.
    pub(super) fn sweep_excess(
        &mut self,
        id: &AccountId,
        reference: &str,
        now: Timestamp,
        stage: &mut Stage,
    ) {
        let Some(account) = self.accounts.get(id) else {
            return;
        };
        let excess = self.rules.excess_sweep(account);
        if let (true, Some(linked)) = (excess > 0, account.terms.linked_account.clone())
            && let Err(e) = self.move_settled(id, &linked, excess, "sweep", reference, now, stage)
        {
            tracing::error!(account = %id, %linked, excess, error = %e, "waterfall sweep not booked");
        }
    }

    /// Before debiting a wallet: the reverse waterfall.
    pub(super) fn pull_shortfall(
        &mut self,
        id: &AccountId,
        pull: u64,
        reference: &str,
        now: Timestamp,
        stage: &mut Stage,
    ) -> Result<(), PluginError> {
        let linked = self.accounts.get(id).and_then(|a| a.terms.linked_account.clone());
        match (pull > 0, linked) {
            (true, Some(linked)) => self.move_settled(&linked, id, pull, "top-up", reference, now, stage),
            _ => Ok(()),
        }
    }

    /// An immediate transfer between two accounts.
    pub fn pay(
        &mut self,
        caller: &str,
        req: PaymentRequest,
        now: Timestamp,
        stage: &mut Stage,
    ) -> Result<Outcome, PluginError> {
        Self::check_amount(req.amount)?;
        let payer = self.owned(caller, &req.from)?;
        let payee = self.existing(&req.to)?;
        let pull = self.check_movement(payer, payee, req.amount, now)?;
        // The payee's credit is the one sum the pull and the debit do not already bound.
        self.balance_after(&req.to, signed(req.amount, &req.to)?)?;
        let id = Uuid::new_v4();
        let reference = id.to_string();
        self.pull_shortfall(&req.from, pull, &reference, now, stage)?;
        if let Some(p) = self.accounts.get_mut(&req.from) {
            self.rules.record_outgoing(p, req.amount, now);
        }
        self.move_settled(&req.from, &req.to, req.amount, "payment", &reference, now, stage)?;
        self.sweep_excess(&req.to, &reference, now, stage);
        Ok(Outcome::Payment(Payment {
            id,
            from: req.from,
            to: req.to,
            amount: req.amount,
            booked_at: now,
        }))
    }
}
