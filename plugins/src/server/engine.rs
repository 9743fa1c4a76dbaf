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

use std::collections::{BTreeSet, HashMap, HashSet};

use htlc::money::format_decimal;
use htlc::{Clock, Escrow, EscrowError, EscrowStatus, Fulfillment, Timestamp, Transition};
use uuid::Uuid;

use crate::api::{Payment, PaymentRequest, SupplyChange};
use crate::config::{AccountKind, AccountSpec, LedgerConfig};
use crate::error::PluginError;
use crate::plugin::{
    AccountId, Balance, EventCursor, EventKind, LedgerEvent, MAX_MEMO_LEN, PrepareTransfer, Transfer,
    TransferId,
};
use crate::rules::LedgerRules;

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
        i128::from(self.balance) + i128::from(self.overdraft_limit)
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
    last_cursor: u64,
}

/// Largest amount accepted: balances are SQLite integers.
const MAX_AMOUNT: u64 = i64::MAX as u64 / 4;

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
        let mut spendable = payer.spendable() + i128::from(pull);
        if pull > 0 {
            let linked = payer
                .linked_account
                .as_ref()
                .and_then(|l| self.accounts.get(l))
                .ok_or_else(|| PluginError::Unavailable {
                    reason: format!("linked account of {} is missing", payer.id),
                })?;
            if linked.spendable() < i128::from(pull) {
                spendable = payer.spendable() + linked.spendable().max(0);
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
    ) {
        let amount = amount as i64; // amount <= MAX_AMOUNT
        for (id, delta, other) in [(from, -amount, to), (to, amount, from)] {
            if let Some(a) = self.accounts.get_mut(id) {
                a.balance = a.balance.saturating_add(delta);
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
    }

    /// After crediting a wallet: the waterfall.
    fn sweep_excess(&mut self, id: &AccountId, reference: &str, now: Timestamp, stage: &mut Stage) {
        let Some(account) = self.accounts.get(id) else {
            return;
        };
        let excess = self.rules.excess_sweep(account);
        if let (true, Some(linked)) = (excess > 0, account.linked_account.clone()) {
            self.book(id, &linked, excess, "sweep", reference, now, stage);
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
    ) {
        let linked = self.accounts.get(id).and_then(|a| a.linked_account.clone());
        if let (true, Some(linked)) = (pull > 0, linked) {
            self.book(&linked, id, pull, "top-up", reference, now, stage);
        }
    }

    fn push_event(&mut self, kind: EventKind, transfer: &Transfer, now: Timestamp, stage: &mut Stage) {
        self.last_cursor += 1;
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
        let pull = self.check_movement(payer, payee, req.amount, now)?;

        let reference = req.id.to_string();
        self.pull_shortfall(&req.from, pull, &reference, now, stage);
        if let Some(p) = self.accounts.get_mut(&req.from) {
            p.balance -= req.amount as i64;
            p.held += req.amount;
            self.rules.record_outgoing(p, req.amount, now);
        }
        if let Some(p) = self.accounts.get_mut(&req.to) {
            p.incoming += req.amount;
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
                if let Some(p) = self.accounts.get_mut(&transfer.from) {
                    p.held -= amount;
                }
                if let Some(p) = self.accounts.get_mut(&transfer.to) {
                    p.incoming = p.incoming.saturating_sub(amount);
                }
                // The booked balance moves now: payer down, payee up.
                let reference = id.to_string();
                for (account, delta, other) in [
                    (&transfer.from, -(amount as i64), &transfer.to),
                    (&transfer.to, amount as i64, &transfer.from),
                ] {
                    if let Some(a) = self.accounts.get_mut(account) {
                        if delta > 0 {
                            a.balance += delta;
                        }
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
                let done = self.refund(transfer, EscrowStatus::Rejected, now, stage);
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
        for id in &due {
            if let Some(t) = self.live.get(id).cloned() {
                self.refund(t, EscrowStatus::Expired, now, stage);
            }
        }
        due.len()
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
                if transfer.status == EscrowStatus::Prepared {
                    self.refund(transfer, EscrowStatus::Expired, now, stage);
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
    ) -> Transfer {
        let amount = transfer.amount;
        if let Some(p) = self.accounts.get_mut(&transfer.from) {
            p.held -= amount;
            p.balance += amount as i64;
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
        done
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
        let id = Uuid::new_v4();
        let reference = id.to_string();
        self.pull_shortfall(&req.from, pull, &reference, now, stage);
        if let Some(p) = self.accounts.get_mut(&req.from) {
            self.rules.record_outgoing(p, req.amount, now);
        }
        self.book(&req.from, &req.to, req.amount, "payment", &reference, now, stage);
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
        let signed = amount as i64;
        let id = Uuid::new_v4();
        self.supply += signed;
        stage.supply_changed = true;
        if let Some(a) = self.accounts.get_mut(&to) {
            a.balance += signed;
            stage.entries.push(EntryRow {
                account: to.clone(),
                booked_at: now,
                amount: signed,
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
            amount: signed,
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
        let signed = amount as i64;
        let id = Uuid::new_v4();
        self.supply -= signed;
        stage.supply_changed = true;
        if let Some(a) = self.accounts.get_mut(&from) {
            a.balance -= signed;
            stage.entries.push(EntryRow {
                account: from.clone(),
                booked_at: now,
                amount: -signed,
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
            amount: -signed,
            total_supply: self.supply,
        }))
    }

    /// Human-readable amount, for logs.
    pub fn display(&self, minor: u64) -> String {
        format_decimal(minor, self.scale)
    }
}
