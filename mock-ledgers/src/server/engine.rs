//! The ledger's bookkeeping in memory, owned by the single writer task.
//!
//! The engine holds every account and every live (prepared) escrow. Each operation checks
//! everything first and changes nothing on refusal; when it succeeds it changes the in-memory
//! state and appends the rows to write ([`Stage`]) — the writer commits a whole batch of
//! operations in one SQLite transaction and only then answers. If that commit fails, the writer
//! reloads the engine from the database, so memory never runs ahead of disk.
//!
//! Money model: `balance` is what an account can spend (negative only within its overdraft);
//! preparing a transfer moves the amount from the payer's `balance` to its `held`; fulfilling
//! moves it from `held` to the payee's `balance`; rejecting or expiring moves it back. So
//! `sum(balance) + sum(held) == supply` at all times, and the booked balance of a statement
//! (`balance + held`) changes only when money actually leaves or arrives.
//!
//! Overflow: the configuration bounds the supply and the overdrafts (see
//! [`crate::config::MAX_LEDGER_AMOUNT`]), which keeps every balance far inside `i64`; on top of
//! that every sum here is checked (clippy's `arithmetic_side_effects` is denied in this file),
//! and each operation computes its new balances before changing any, so a refusal changes
//! nothing.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use std::collections::{BTreeSet, HashMap, HashSet};

use htlc::money::format_decimal;
use htlc::{Clock, Escrow, EscrowError, EscrowStatus, Fulfillment, Timestamp, Transition};
use uuid::Uuid;

use crate::config::{AccountKind, AccountSpec, LedgerConfig, MAX_LEDGER_AMOUNT};
use crate::rules::LedgerRules;
use plugins::api::{Payment, PaymentRequest, SupplyChange};
use plugins::error::PluginError;
use plugins::plugin::{
    AccountId, Balance, EventCursor, EventKind, LedgerEvent, MAX_MEMO_LEN, PrepareTransfer, Transfer,
    TransferId,
};

/// One account's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountState {
    /// Id.
    pub id: AccountId,
    /// Holder name.
    pub name: String,
    /// Owning participant.
    pub owner: String,
    /// Kind.
    pub kind: AccountKind,
    /// How far below zero `balance` may go.
    pub overdraft_limit: u64,
    /// e-CNY tier.
    pub tier: Option<u8>,
    /// Digital euro linked account.
    pub linked_account: Option<AccountId>,
    /// Digital euro merchant wallet.
    pub merchant: bool,
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
            id: spec.id.clone(),
            name: spec.name.clone(),
            owner: spec.owner.clone(),
            kind: spec.kind,
            overdraft_limit: spec.overdraft_limit,
            tier: spec.tier,
            linked_account: spec.linked_account.clone(),
            merchant: spec.merchant,
            balance: 0,
            held: 0,
            incoming: 0,
            spent_day_key: 0,
            spent_day: 0,
            spent_year_key: 0,
            spent_year: 0,
        }
    }

    /// Takes the configured attributes (not the money) from `spec`.
    pub fn apply_spec(&mut self, spec: &AccountSpec) {
        self.name = spec.name.clone();
        self.owner = spec.owner.clone();
        self.kind = spec.kind;
        self.overdraft_limit = spec.overdraft_limit;
        self.tier = spec.tier;
        self.linked_account = spec.linked_account.clone();
        self.merchant = spec.merchant;
    }

    /// Balance plus held: what a statement shows.
    pub fn booked(&self) -> i64 {
        self.balance
            .saturating_add(i64::try_from(self.held).unwrap_or(i64::MAX))
    }

    /// What may still be spent, overdraft included.
    pub fn spendable(&self) -> i128 {
        i128::from(self.balance).saturating_add(i128::from(self.overdraft_limit))
    }

    /// As the API shows it.
    pub fn to_balance(&self) -> Balance {
        Balance {
            account: self.id.clone(),
            available: i128::from(self.balance),
            held: self.held,
            overdraft_limit: self.overdraft_limit,
        }
    }
}

/// An event with the owners that may see it.
#[derive(Debug, Clone)]
pub struct EventRow {
    /// The event.
    pub event: LedgerEvent,
    /// Owner of the payer account.
    pub payer_owner: String,
    /// Owner of the payee account.
    pub payee_owner: String,
}

/// A booked entry.
#[derive(Debug, Clone)]
pub struct EntryRow {
    /// Account.
    pub account: AccountId,
    /// Time.
    pub booked_at: Timestamp,
    /// Signed change of the booked balance.
    pub amount: i64,
    /// Booked balance after.
    pub balance_after: i64,
    /// Kind of booking.
    pub kind: &'static str,
    /// Transfer, payment or booking id.
    pub reference: String,
    /// Other side.
    pub counterparty: Option<AccountId>,
}

/// Rows one batch will write.
#[derive(Debug, Default)]
pub struct Stage {
    /// Transfers created or changed (latest version).
    pub transfers: HashMap<TransferId, Transfer>,
    /// New events in cursor order.
    pub events: Vec<EventRow>,
    /// New entries in booking order.
    pub entries: Vec<EntryRow>,
    /// Accounts whose state changed.
    pub touched: HashSet<AccountId>,
    /// Supply changed.
    pub supply_changed: bool,
}

/// What a successful operation returns.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A transfer; `created` if this call prepared it.
    Transfer {
        /// As it stands.
        transfer: Transfer,
        /// Newly prepared.
        created: bool,
    },
    /// A booked payment.
    Payment(Payment),
    /// An issuance or redemption.
    Supply(SupplyChange),
}

/// A clock stopped at one instant: every step of a batch sees the same "now".
struct At(Timestamp);

impl Clock for At {
    fn now(&self) -> Timestamp {
        self.0
    }
}

/// The in-memory ledger.
pub struct Engine {
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

impl Engine {
    /// An engine over loaded state.
    pub fn new(
        config: &LedgerConfig,
        rules: Box<dyn LedgerRules>,
        accounts: Vec<AccountState>,
        live: Vec<Transfer>,
        supply: i64,
        last_cursor: u64,
    ) -> Self {
        let by_expiry = live.iter().map(|t| (t.expires_at, t.id)).collect();
        Engine {
            rules,
            scale: config.info.asset.scale,
            accounts: accounts.into_iter().map(|a| (a.id.clone(), a)).collect(),
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

    /// Credits an opening balance at first start (genesis): it adds to supply.
    pub fn open_account(
        &mut self,
        mut account: AccountState,
        opening: u64,
        now: Timestamp,
        stage: &mut Stage,
    ) {
        let id = account.id.clone();
        let amount = i64::try_from(opening).unwrap_or(i64::MAX);
        account.balance = amount;
        self.supply = self.supply.saturating_add(amount);
        stage.supply_changed = true;
        if amount != 0 {
            stage.entries.push(EntryRow {
                account: id.clone(),
                booked_at: now,
                amount,
                balance_after: account.booked(),
                kind: "opening",
                reference: format!("opening:{id}"),
                counterparty: None,
            });
        }
        stage.touched.insert(id.clone());
        self.accounts.insert(id, account);
    }

    /// Updates configured attributes of a known account.
    pub fn reconfigure(&mut self, spec: &AccountSpec, stage: &mut Stage) {
        if let Some(a) = self.accounts.get_mut(&spec.id) {
            a.apply_spec(spec);
            stage.touched.insert(spec.id.clone());
        }
    }

    fn owned(&self, caller: &str, id: &AccountId) -> Result<&AccountState, PluginError> {
        let account = self
            .accounts
            .get(id)
            .ok_or_else(|| PluginError::UnknownAccount { account: id.clone() })?;
        if account.owner != caller {
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

    /// Everything that must hold before `payer` pays `amount` to `payee`; returns how much the
    /// reverse waterfall pulls from the payer's linked account.
    fn check_movement(
        &self,
        payer: &AccountState,
        payee: &AccountState,
        amount: u64,
        now: Timestamp,
    ) -> Result<u64, PluginError> {
        if payer.id == payee.id {
            return Err(PluginError::Malformed {
                reason: "payer and payee are the same account".into(),
            });
        }
        for (who, a) in [("pay", payer), ("receive", payee)] {
            if a.kind == AccountKind::CentralBank {
                return Err(PluginError::Forbidden {
                    reason: format!(
                        "the central bank account {} does not {who}: use issuance and redemption",
                        a.id
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
                .linked_account
                .as_ref()
                .and_then(|l| self.accounts.get(l))
                .ok_or_else(|| PluginError::Unavailable {
                    reason: format!("linked account of {} is missing", payer.id),
                })?;
            if linked.spendable() < i128::from(pull) {
                spendable = payer.spendable().saturating_add(linked.spendable().max(0));
                return Err(PluginError::InsufficientFunds {
                    account: payer.id.clone(),
                    needed: amount,
                    available: spendable,
                });
            }
        }
        if spendable < i128::from(amount) {
            return Err(PluginError::InsufficientFunds {
                account: payer.id.clone(),
                needed: amount,
                available: payer.spendable(),
            });
        }
        Ok(pull)
    }

    /// Moves settled funds between two accounts with entries on both (used for payments and
    /// the waterfalls). Checks were done by the caller.
    #[allow(clippy::too_many_arguments)] // a booking's full description, each field used once
    fn book(
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
                stage.entries.push(EntryRow {
                    account: id.clone(),
                    booked_at: now,
                    amount: delta,
                    balance_after: a.booked(),
                    kind,
                    reference: reference.to_owned(),
                    counterparty: Some(other.clone()),
                });
                stage.touched.insert(id.clone());
            }
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

    /// After crediting a wallet: the waterfall. The credit is already booked, so a sweep that
    /// cannot be booked (only on a broken invariant) is logged and the excess stays put.
    fn sweep_excess(&mut self, id: &AccountId, reference: &str, now: Timestamp, stage: &mut Stage) {
        let Some(account) = self.accounts.get(id) else {
            return;
        };
        let excess = self.rules.excess_sweep(account);
        if let (true, Some(linked)) = (excess > 0, account.linked_account.clone())
            && let Err(e) = self.book(id, &linked, excess, "sweep", reference, now, stage)
        {
            tracing::error!(account = %id, %linked, excess, error = %e, "waterfall sweep not booked");
        }
    }

    /// Before debiting a wallet: the reverse waterfall.
    fn pull_shortfall(
        &mut self,
        id: &AccountId,
        pull: u64,
        reference: &str,
        now: Timestamp,
        stage: &mut Stage,
    ) -> Result<(), PluginError> {
        let linked = self.accounts.get(id).and_then(|a| a.linked_account.clone());
        match (pull > 0, linked) {
            (true, Some(linked)) => self.book(&linked, id, pull, "top-up", reference, now, stage),
            _ => Ok(()),
        }
    }

    fn push_event(&mut self, kind: EventKind, transfer: &Transfer, now: Timestamp, stage: &mut Stage) {
        self.last_cursor = self.last_cursor.saturating_add(1);
        let owner = |id: &AccountId| self.accounts.get(id).map(|a| a.owner.clone()).unwrap_or_default();
        stage.events.push(EventRow {
            event: LedgerEvent {
                cursor: EventCursor(self.last_cursor),
                id: Uuid::new_v4(),
                kind,
                transfer: transfer.clone(),
                occurred_at: now,
            },
            payer_owner: owner(&transfer.from),
            payee_owner: owner(&transfer.to),
        });
        stage.transfers.insert(transfer.id, transfer.clone());
    }

    /// Finds a transfer by id: live, changed in this batch, or stored (`stored` is what the
    /// writer prefetched from the database for this batch).
    fn find(
        &self,
        id: &TransferId,
        stage: &Stage,
        stored: &HashMap<TransferId, Transfer>,
    ) -> Option<Transfer> {
        self.live
            .get(id)
            .or_else(|| stage.transfers.get(id))
            .or_else(|| stored.get(id))
            .cloned()
    }

    /// Whether `caller` may see a transfer (operates its payer or payee account).
    pub fn visible_to(&self, caller: &str, transfer: &Transfer) -> bool {
        [&transfer.from, &transfer.to]
            .iter()
            .any(|id| self.accounts.get(*id).is_some_and(|a| a.owner == caller))
    }

    /// Locks funds in a new escrow, or returns the existing one with the same id and terms.
    pub fn prepare(
        &mut self,
        caller: &str,
        req: PrepareTransfer,
        now: Timestamp,
        stage: &mut Stage,
        stored: &HashMap<TransferId, Transfer>,
    ) -> Result<Outcome, PluginError> {
        if let Some(existing) = self.find(&req.id, stage, stored) {
            let same = existing.from == req.from
                && existing.to == req.to
                && existing.amount == req.amount
                && existing.condition == req.condition
                && existing.expires_at == req.expires_at
                && existing.memo == req.memo;
            if same && self.visible_to(caller, &existing) {
                return Ok(Outcome::Transfer {
                    transfer: existing,
                    created: false,
                });
            }
            return Err(PluginError::Duplicate {
                reason: format!("transfer {} already exists with different terms", req.id),
            });
        }
        Self::check_amount(req.amount)?;
        if req.memo.len() > MAX_MEMO_LEN {
            return Err(PluginError::Malformed {
                reason: format!("memo longer than {MAX_MEMO_LEN} bytes"),
            });
        }
        let payer = self.owned(caller, &req.from)?;
        let payee = self.existing(&req.to)?;
        if req.expires_at <= now {
            return Err(PluginError::Expired {
                expires_at: req.expires_at,
            });
        }
        let latest = now
            .checked_add_millis(i64::try_from(self.max_hold_ms).unwrap_or(i64::MAX))
            .unwrap_or(Timestamp::MAX);
        if req.expires_at > latest {
            return Err(PluginError::ExpiryTooFar {
                expires_at: req.expires_at,
                latest,
                max_hold_ms: self.max_hold_ms,
            });
        }
        let pull = self.check_movement(payer, payee, req.amount, now)?;
        // Every new figure first, so an overflow refuses before anything moves.
        let payer_balance = payer
            .balance
            .checked_add(signed(pull, &req.from)?)
            .and_then(|b| b.checked_sub(signed(req.amount, &req.from).ok()?))
            .ok_or_else(|| overflow(&req.from))?;
        let payer_held = payer
            .held
            .checked_add(req.amount)
            .ok_or_else(|| overflow(&req.from))?;
        let payee_incoming = payee
            .incoming
            .checked_add(req.amount)
            .ok_or_else(|| overflow(&req.to))?;

        let reference = req.id.to_string();
        self.pull_shortfall(&req.from, pull, &reference, now, stage)?;
        if let Some(p) = self.accounts.get_mut(&req.from) {
            p.balance = payer_balance;
            p.held = payer_held;
            self.rules.record_outgoing(p, req.amount, now);
        }
        if let Some(p) = self.accounts.get_mut(&req.to) {
            p.incoming = payee_incoming;
        }
        stage.touched.insert(req.from.clone());
        stage.touched.insert(req.to.clone());
        let transfer = Transfer {
            id: req.id,
            from: req.from,
            to: req.to,
            amount: req.amount,
            condition: req.condition,
            expires_at: req.expires_at,
            memo: req.memo,
            status: EscrowStatus::Prepared,
            fulfillment: None,
            prepared_at: now,
            finalized_at: None,
            reject_reason: None,
        };
        self.live.insert(transfer.id, transfer.clone());
        self.by_expiry.insert((transfer.expires_at, transfer.id));
        self.push_event(EventKind::Prepared, &transfer, now, stage);
        Ok(Outcome::Transfer {
            transfer,
            created: true,
        })
    }

    fn restore(t: &Transfer) -> Result<Escrow, PluginError> {
        Escrow::restore(t.amount, t.condition, t.expires_at, t.status, t.fulfillment).map_err(|e| {
            PluginError::Unavailable {
                reason: format!("stored transfer {} is inconsistent: {e}", t.id),
            }
        })
    }

    /// Releases an escrow to its payee.
    pub fn fulfill(
        &mut self,
        caller: &str,
        id: TransferId,
        fulfillment: Fulfillment,
        now: Timestamp,
        stage: &mut Stage,
        stored: &HashMap<TransferId, Transfer>,
    ) -> Result<Outcome, PluginError> {
        let transfer = self.payee_side(caller, id, stage, stored)?;
        let mut escrow = Self::restore(&transfer)?;
        match escrow.fulfill(&fulfillment, &At(now)) {
            Ok(Transition::Moved(_)) => {
                let amount = transfer.amount;
                let (from, to) = (&transfer.from, &transfer.to);
                let payer_held = self
                    .existing(from)?
                    .held
                    .checked_sub(amount)
                    .ok_or_else(|| overflow(from))?;
                let (debit, credit) = (negated(amount, from)?, signed(amount, to)?);
                let payee_balance = self.balance_after(to, credit)?;
                if let Some(p) = self.accounts.get_mut(from) {
                    p.held = payer_held;
                }
                if let Some(p) = self.accounts.get_mut(to) {
                    p.incoming = p.incoming.saturating_sub(amount);
                    p.balance = payee_balance;
                }
                // The booked balance moves now: payer down, payee up.
                let reference = id.to_string();
                for (account, delta, other) in [(from, debit, to), (to, credit, from)] {
                    if let Some(a) = self.accounts.get(account) {
                        stage.entries.push(EntryRow {
                            account: account.clone(),
                            booked_at: now,
                            amount: delta,
                            balance_after: a.booked(),
                            kind: "transfer",
                            reference: reference.clone(),
                            counterparty: Some(other.clone()),
                        });
                        stage.touched.insert(account.clone());
                    }
                }
                self.sweep_excess(&transfer.to, &reference, now, stage);
                let done = self.finish(transfer, EscrowStatus::Fulfilled, Some(fulfillment), now);
                self.push_event(EventKind::Fulfilled, &done, now, stage);
                Ok(Outcome::Transfer {
                    transfer: done,
                    created: false,
                })
            }
            Ok(Transition::AlreadyDone(_)) => Ok(Outcome::Transfer {
                transfer,
                created: false,
            }),
            Err(e) => Err(self.escrow_refusal(e, transfer, now, stage)),
        }
    }

    /// Declines an escrow before expiry; a repeat answers with the rejected transfer.
    pub fn reject(
        &mut self,
        caller: &str,
        id: TransferId,
        reason: Option<String>,
        now: Timestamp,
        stage: &mut Stage,
        stored: &HashMap<TransferId, Transfer>,
    ) -> Result<Outcome, PluginError> {
        let mut transfer = self.payee_side(caller, id, stage, stored)?;
        if transfer.status == EscrowStatus::Rejected {
            return Ok(Outcome::Transfer {
                transfer,
                created: false,
            });
        }
        let mut escrow = Self::restore(&transfer)?;
        match escrow.reject(&At(now)) {
            Ok(_) => {
                transfer.reject_reason = reason;
                let done = self.refund(transfer, EscrowStatus::Rejected, now, stage)?;
                Ok(Outcome::Transfer {
                    transfer: done,
                    created: false,
                })
            }
            Err(e) => Err(self.escrow_refusal(e, transfer, now, stage)),
        }
    }

    /// Refunds every live escrow whose expiry is at or before `now`; returns how many.
    pub fn expire_due(&mut self, now: Timestamp, stage: &mut Stage) -> usize {
        let due: Vec<TransferId> = self
            .by_expiry
            .iter()
            .take_while(|(t, _)| *t <= now)
            .map(|(_, id)| *id)
            .collect();
        let mut refunded = 0usize;
        for id in &due {
            if let Some(t) = self.live.get(id).cloned() {
                match self.refund(t, EscrowStatus::Expired, now, stage) {
                    Ok(_) => refunded = refunded.saturating_add(1),
                    Err(e) => tracing::error!(transfer = %id, error = %e, "expired escrow not refunded"),
                }
            }
        }
        refunded
    }

    /// Maps a refused escrow step to the API error; a step refused because the escrow expired
    /// refunds it on the spot (the sweeper would do so moments later anyway).
    fn escrow_refusal(
        &mut self,
        e: EscrowError,
        transfer: Transfer,
        now: Timestamp,
        stage: &mut Stage,
    ) -> PluginError {
        match e {
            EscrowError::WrongFulfillment { .. } => PluginError::WrongCondition { id: transfer.id },
            EscrowError::Expired { expires_at, .. } => {
                let id = transfer.id;
                if transfer.status == EscrowStatus::Prepared
                    && let Err(e) = self.refund(transfer, EscrowStatus::Expired, now, stage)
                {
                    tracing::error!(transfer = %id, error = %e, "expired escrow not refunded");
                }
                PluginError::Expired { expires_at }
            }
            EscrowError::AlreadyFinal { status } => {
                if status == EscrowStatus::Expired {
                    PluginError::Expired {
                        expires_at: transfer.expires_at,
                    }
                } else {
                    PluginError::AlreadyFinal {
                        id: transfer.id,
                        status,
                    }
                }
            }
            EscrowError::NotYetExpired { .. } => PluginError::Unavailable {
                reason: "refund attempted before expiry".into(),
            },
        }
    }

    fn payee_side(
        &self,
        caller: &str,
        id: TransferId,
        stage: &Stage,
        stored: &HashMap<TransferId, Transfer>,
    ) -> Result<Transfer, PluginError> {
        let transfer = self
            .find(&id, stage, stored)
            .filter(|t| self.visible_to(caller, t))
            .ok_or(PluginError::UnknownTransfer { id })?;
        let payee_owner = self.accounts.get(&transfer.to).map(|a| a.owner.as_str());
        if payee_owner != Some(caller) {
            return Err(PluginError::Forbidden {
                reason: format!("only the payee's operator may fulfil or reject transfer {id}"),
            });
        }
        Ok(transfer)
    }

    fn finish(
        &mut self,
        mut t: Transfer,
        status: EscrowStatus,
        fulfillment: Option<Fulfillment>,
        now: Timestamp,
    ) -> Transfer {
        self.live.remove(&t.id);
        self.by_expiry.remove(&(t.expires_at, t.id));
        t.status = status;
        t.fulfillment = fulfillment;
        t.finalized_at = Some(now);
        t
    }

    fn refund(
        &mut self,
        transfer: Transfer,
        status: EscrowStatus,
        now: Timestamp,
        stage: &mut Stage,
    ) -> Result<Transfer, PluginError> {
        let amount = transfer.amount;
        let from = &transfer.from;
        let payer_held = self
            .existing(from)?
            .held
            .checked_sub(amount)
            .ok_or_else(|| overflow(from))?;
        let payer_balance = self.balance_after(from, signed(amount, from)?)?;
        if let Some(p) = self.accounts.get_mut(from) {
            p.held = payer_held;
            p.balance = payer_balance;
            self.rules.release_outgoing(p, amount, transfer.prepared_at, now);
        }
        if let Some(p) = self.accounts.get_mut(&transfer.to) {
            p.incoming = p.incoming.saturating_sub(amount);
        }
        stage.touched.insert(transfer.from.clone());
        stage.touched.insert(transfer.to.clone());
        // A linked wallet refunded above its limit sweeps the excess back to its bank.
        self.sweep_excess(&transfer.from, &transfer.id.to_string(), now, stage);
        let kind = if status == EscrowStatus::Expired {
            EventKind::Expired
        } else {
            EventKind::Rejected
        };
        let done = self.finish(transfer, status, None, now);
        self.push_event(kind, &done, now, stage);
        Ok(done)
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
        self.book(&req.from, &req.to, req.amount, "payment", &reference, now, stage)?;
        self.sweep_excess(&req.to, &reference, now, stage);
        Ok(Outcome::Payment(Payment {
            id,
            from: req.from,
            to: req.to,
            amount: req.amount,
            booked_at: now,
        }))
    }

    fn central_bank_of(&self, caller: &str) -> Option<AccountId> {
        self.accounts
            .values()
            .find(|a| a.kind == AccountKind::CentralBank && a.owner == caller)
            .map(|a| a.id.clone())
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
        if target.kind != AccountKind::Intermediary {
            return Err(PluginError::Forbidden {
                reason: format!(
                    "issuance goes to intermediaries only; {to} is {}",
                    target.kind.as_str()
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
            stage.entries.push(EntryRow {
                account: to.clone(),
                booked_at: now,
                amount: credit,
                balance_after: a.booked(),
                kind: "issuance",
                reference: id.to_string(),
                counterparty: Some(cb),
            });
        }
        stage.touched.insert(to.clone());
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
        if account.kind != AccountKind::Intermediary {
            return Err(PluginError::Forbidden {
                reason: format!("only intermediaries redeem; {from} is {}", account.kind.as_str()),
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
            .find(|a| a.kind == AccountKind::CentralBank)
            .map(|a| a.id.clone());
        let debit = negated(amount, &from)?;
        let supply = self.supply.checked_add(debit).ok_or_else(|| overflow(&from))?;
        let balance = self.balance_after(&from, debit)?;
        let id = Uuid::new_v4();
        self.supply = supply;
        stage.supply_changed = true;
        if let Some(a) = self.accounts.get_mut(&from) {
            a.balance = balance;
            stage.entries.push(EntryRow {
                account: from.clone(),
                booked_at: now,
                amount: debit,
                balance_after: a.booked(),
                kind: "redemption",
                reference: id.to_string(),
                counterparty: cb,
            });
        }
        stage.touched.insert(from.clone());
        Ok(Outcome::Supply(SupplyChange {
            id,
            account: from,
            amount: debit,
            total_supply: self.supply,
        }))
    }

    /// Human-readable amount, for logs.
    pub fn display(&self, minor: u64) -> String {
        format_decimal(minor, self.scale)
    }
}
