//! The contract between a connector and any ledger: [`LedgerPlugin`].
//!
//! A ledger holds accounts and hash-time-locked transfers (escrows). The connector prepares
//! transfers with a condition and an expiry, fulfils or rejects transfers addressed to it, reads
//! balances, and follows an ordered event log of what happens to its accounts. Events are
//! numbered by a per-ledger [`EventCursor`]; a consumer stores the cursor of the last event it
//! processed (in the same database transaction as the processing) and resumes after it, so it
//! never misses an event and never processes one twice.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use htlc::{Address, Asset, Condition, EscrowStatus, Fulfillment, Timestamp};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::PluginError;

/// The longest account identifier a ledger accepts.
pub const MAX_ACCOUNT_ID_LEN: usize = 64;
/// The longest reject reason a ledger keeps.
pub const MAX_REJECT_REASON_LEN: usize = 512;
/// The largest memo (it carries an ILP Prepare, whose data alone may be 32 KiB).
pub const MAX_MEMO_LEN: usize = 40 * 1024;

/// An account on one ledger, e.g. `clearing-bank` or an IBAN-like identifier.
/// 1 to 64 characters from `A-Z a-z 0-9 . _ - :`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, ToSchema)]
#[schema(value_type = String, pattern = "^[A-Za-z0-9._:-]{1,64}$", example = "bank-a")]
pub struct AccountId(String);

impl AccountId {
    /// Validates and wraps an account identifier.
    pub fn new(id: impl Into<String>) -> Result<Self, PluginError> {
        let id = id.into();
        let ok = !id.is_empty()
            && id.len() <= MAX_ACCOUNT_ID_LEN
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'));
        if ok {
            Ok(AccountId(id))
        } else {
            Err(PluginError::Malformed {
                reason: format!("invalid account id {id:?}: 1-64 characters of A-Z a-z 0-9 . _ - :"),
            })
        }
    }

    /// The identifier text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.0)
    }
}

impl FromStr for AccountId {
    type Err = PluginError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AccountId::new(s)
    }
}

impl Serialize for AccountId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AccountId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        AccountId::new(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// The caller-chosen identifier of a transfer. Preparing twice with the same id and the same
/// terms returns the first transfer; with different terms it is an idempotency conflict.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, format = Uuid, example = "9f0e7c4e-6a8e-4d6b-9a59-4f1d2b6c8e01")]
pub struct TransferId(pub Uuid);

impl TransferId {
    /// A fresh id: time-ordered (UUIDv7: milliseconds since 1970, then 74 random bits), so a
    /// ledger's indexes keyed by transfer id (and the idempotency keys derived from it) grow at
    /// their right edge instead of touching a random page per transfer.
    pub fn random() -> Self {
        TransferId(Uuid::now_v7())
    }
}

impl fmt::Display for TransferId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for TransferId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TransferId({})", self.0)
    }
}

/// Position in a ledger's event log. Cursors increase strictly; `EventCursor::START` is before
/// the first event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = u64)]
pub struct EventCursor(pub u64);

impl EventCursor {
    /// Before the first event.
    pub const START: EventCursor = EventCursor(0);
}

/// What a connector needs to know about a ledger to route and time payments across it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LedgerInfo {
    /// A stable identifier, e.g. `digital-euro` or `bank-a-core`.
    pub ledger_id: String,
    /// The asset its accounts hold, with its scale.
    pub asset: Asset,
    /// The ILP address prefix of accounts reached through this ledger.
    pub ilp_prefix: Address,
    /// How long after a request a transfer change is final on this ledger, in milliseconds.
    /// The connector's expiry margins are built from this.
    pub expected_finality_ms: u64,
}

/// A request to lock `amount` from `from` for `to` until the preimage of `condition` is shown
/// or `expires_at` passes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PrepareTransfer {
    /// Idempotency id chosen by the caller.
    pub id: TransferId,
    /// Paying account (must be owned by the caller).
    pub from: AccountId,
    /// Receiving account.
    pub to: AccountId,
    /// Minor units of the ledger's asset.
    pub amount: u64,
    /// The hash lock.
    pub condition: Condition,
    /// When the transfer stops being fulfillable and is refunded.
    pub expires_at: Timestamp,
    /// Opaque bytes for the receiver, usually an encoded ILP Prepare (at most [`MAX_MEMO_LEN`]).
    #[serde(with = "memo_base64")]
    #[schema(value_type = String, format = Byte)]
    pub memo: Vec<u8>,
}

/// A transfer as the ledger records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Transfer {
    /// The caller-chosen id.
    pub id: TransferId,
    /// Paying account.
    pub from: AccountId,
    /// Receiving account.
    pub to: AccountId,
    /// Minor units.
    pub amount: u64,
    /// The hash lock.
    pub condition: Condition,
    /// Expiry.
    pub expires_at: Timestamp,
    /// The memo as given at prepare time.
    #[serde(with = "memo_base64")]
    #[schema(value_type = String, format = Byte)]
    pub memo: Vec<u8>,
    /// Where it stands.
    pub status: EscrowStatus,
    /// The preimage, once fulfilled.
    pub fulfillment: Option<Fulfillment>,
    /// When the ledger accepted the prepare.
    pub prepared_at: Timestamp,
    /// When it reached its final state.
    pub finalized_at: Option<Timestamp>,
    /// Why the payee rejected it, as the payee stated. Connectors put the ILP error code
    /// first (`"F05 condition does not match"`) so the payer learns the real cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reject_reason: Option<String>,
}

/// An account's funds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Balance {
    /// The account.
    pub account: AccountId,
    /// Settled funds available to spend, minor units (may be negative only within an overdraft).
    #[schema(value_type = i64)]
    pub available: i128,
    /// Funds locked in outgoing transfers not yet final.
    pub held: u64,
    /// The most the account may go below zero.
    pub overdraft_limit: u64,
}

/// What happened to a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A transfer was prepared (seen by both parties).
    Prepared,
    /// It was fulfilled; the event's transfer carries the preimage.
    Fulfilled,
    /// It was rejected before expiry.
    Rejected,
    /// It expired and was refunded.
    Expired,
}

impl EventKind {
    /// The status the event leaves its transfer in.
    pub fn status(self) -> EscrowStatus {
        match self {
            EventKind::Prepared => EscrowStatus::Prepared,
            EventKind::Fulfilled => EscrowStatus::Fulfilled,
            EventKind::Rejected => EscrowStatus::Rejected,
            EventKind::Expired => EscrowStatus::Expired,
        }
    }
}

/// One entry of a ledger's event log, visible to the accounts it involves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LedgerEvent {
    /// Its position in the log; resume after it.
    pub cursor: EventCursor,
    /// Globally unique id (webhook deliveries carry it, so receivers can drop repeats).
    pub id: Uuid,
    /// What happened.
    pub kind: EventKind,
    /// The transfer as it stood right after the event.
    pub transfer: Transfer,
    /// When the ledger recorded it.
    pub occurred_at: Timestamp,
}

/// A batch of events after a cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventPage {
    /// Events in cursor order (may be empty if the wait ran out).
    pub events: Vec<LedgerEvent>,
    /// Where to resume: the cursor of the last event, or the cursor asked for if none.
    pub next: EventCursor,
}

/// Any ledger, as a connector uses it. Implementations: the REST plugin client (bank core
/// ledgers, the mock bank, the CBDC ledgers) and the chain plugin.
///
/// Every method that moves or locks money is idempotent: retrying after a timeout or crash is
/// always safe and returns the transfer as it now stands.
#[async_trait]
pub trait LedgerPlugin: Send + Sync {
    /// The ledger's identity, asset and timing.
    fn info(&self) -> &LedgerInfo;

    /// Locks funds in a hash-time-locked transfer. Fails with insufficient funds, unknown
    /// account, limit exceeded, expired (expiry not in the future) or an idempotency conflict.
    async fn prepare(&self, request: PrepareTransfer) -> Result<Transfer, PluginError>;

    /// Releases a transfer to its payee with the preimage. Only the payee's side calls this.
    async fn fulfill(&self, id: TransferId, fulfillment: Fulfillment) -> Result<Transfer, PluginError>;

    /// Declines a transfer before expiry; the funds return to the payer, who can read
    /// `reason` (at most [`MAX_REJECT_REASON_LEN`] bytes) on the transfer.
    async fn reject(&self, id: TransferId, reason: Option<String>) -> Result<Transfer, PluginError>;

    /// Looks a transfer up (used after a restart to learn what happened meanwhile).
    async fn transfer(&self, id: TransferId) -> Result<Transfer, PluginError>;

    /// The balance of an account the caller owns.
    async fn balance(&self, account: &AccountId) -> Result<Balance, PluginError>;

    /// How much `account` can receive right now (wallet tier, holding or balance limits), or
    /// `None` if the ledger sets no such limit. Quotes check it before promising anything.
    async fn receivable(&self, account: &AccountId) -> Result<Option<u64>, PluginError> {
        let _ = account;
        Ok(None)
    }

    /// The cursor of the latest event visible to the caller: where a consumer with no saved
    /// cursor starts, so it acts on what happens from now on rather than on history. The
    /// default pages through the log; ledgers with an index should answer directly.
    async fn head(&self) -> Result<EventCursor, PluginError> {
        let mut cursor = EventCursor::START;
        loop {
            let page = self.events(cursor, 1000, Duration::ZERO).await?;
            let next = page.events.last().map_or(page.next, |e| e.cursor.max(page.next));
            if page.events.is_empty() || next <= cursor {
                return Ok(next.max(cursor));
            }
            cursor = next;
        }
    }

    /// Events after `after` for the caller's accounts, waiting up to `wait` for the first one
    /// (long poll), at most `limit` of them.
    async fn events(&self, after: EventCursor, limit: u32, wait: Duration) -> Result<EventPage, PluginError>;

    /// The booked statement of an account the caller owns for `[from, to)`: opening balance,
    /// entries, closing balance. The connector's reconciliation compares it with its journal.
    /// Not every ledger keeps statements, so the default answers that it is unsupported (with
    /// a non-retryable error, since asking again will not help).
    async fn statement(
        &self,
        account: &AccountId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<crate::api::Statement, PluginError> {
        let _ = (from, to);
        Err(PluginError::Unsupported {
            what: format!(
                "the {} ledger plugin does not provide statements (asked for {account})",
                self.info().ledger_id
            ),
        })
    }
}

mod memo_base64 {
    use serde::{Deserialize, Deserializer, Serializer};

    const ENGINE: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        use base64::Engine as _;
        serializer.serialize_str(&ENGINE.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        use base64::Engine as _;
        let text = String::deserialize(deserializer)?;
        ENGINE.decode(text).map_err(serde::de::Error::custom)
    }
}
