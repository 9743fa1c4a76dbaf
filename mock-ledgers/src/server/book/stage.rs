//! What a batch of operations will write: the transfers it changed, the events and entries it
//! booked, the accounts it touched; the writer commits all of it in one transaction.

use std::collections::{HashMap, HashSet};

use htlc::Timestamp;
use uuid::Uuid;

use super::{AccountState, Book};
use plugins::api::{Payment, SupplyChange};
use plugins::plugin::{AccountId, EventCursor, EventKind, LedgerEvent, Transfer, TransferId};

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

impl Stage {
    /// Journals a change of `amount` to `account`'s booked balance, already applied to it, and
    /// marks the account for writing.
    pub fn book(
        &mut self,
        account: &AccountState,
        amount: i64,
        kind: &'static str,
        reference: String,
        counterparty: Option<AccountId>,
        now: Timestamp,
    ) {
        self.entries.push(EntryRow {
            account: account.terms.id.clone(),
            booked_at: now,
            amount,
            balance_after: account.booked(),
            kind,
            reference,
            counterparty,
        });
        self.touched.insert(account.terms.id.clone());
    }
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

impl Book {
    pub(super) fn push_event(
        &mut self,
        kind: EventKind,
        transfer: &Transfer,
        now: Timestamp,
        stage: &mut Stage,
    ) {
        self.last_cursor = self.last_cursor.saturating_add(1);
        let owner = |id: &AccountId| {
            self.accounts
                .get(id)
                .map(|a| a.terms.owner.clone())
                .unwrap_or_default()
        };
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
}
