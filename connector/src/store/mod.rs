//! The connector's durable journal in SQLite (WAL).
//!
//! All writes go through one writer task with group commit: callers hand it a batch of
//! [`Write`]s and wait; it gathers every batch that is waiting, commits them in one
//! transaction, then answers each. A caller's writes are durable when `commit` returns — the
//! connector acts on a state only after that — yet a thousand concurrent payments cost a
//! handful of fsyncs, not a thousand. Reads use a small pool and see committed data only.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use htlc::{Condition, ErrorCode, Fulfillment, Timestamp};
use plugins::{AccountId, EventCursor, TransferId};
use serde::Deserialize;
use sqlx::Row;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::LedgerId;
use crate::payment::{IncomingLeg, OutgoingLeg, Payment, PaymentState, TrailEntry};
use crate::receiver::ReceivedPayment;

mod commit;

/// Most batches folded into one transaction.
const MAX_BATCHES_PER_COMMIT: usize = 512;

pub use plumbing::{Durability, StoreError};

/// One change to the journal.
#[derive(Debug, Clone)]
pub enum Write {
    /// Insert or replace the whole payment row.
    Payment(Box<Payment>),
    /// Append to a payment's trail.
    Trail {
        /// The payment.
        payment: Uuid,
        /// The entry.
        entry: TrailEntry,
    },
    /// Record that a ledger's events up to `cursor` are processed.
    Cursor(LedgerId, EventCursor),
    /// Record what a receiver did with an offered escrow.
    Received(ReceivedPayment),
    /// Keep a quote.
    Quote {
        /// Its id.
        id: Uuid,
        /// Issued.
        created_at: Timestamp,
        /// Valid until.
        expires_at: Timestamp,
        /// The quote as JSON.
        body: String,
    },
}

type Batch = (Vec<Write>, oneshot::Sender<Result<(), StoreError>>);

/// Hands writes to the writer task; cheap to clone.
#[derive(Debug, Clone)]
pub struct Journal {
    tx: mpsc::Sender<Batch>,
}

impl Journal {
    /// Commits `writes` atomically and durably (together with other callers' writes).
    pub async fn commit(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        let (ack, done) = oneshot::channel();
        self.tx
            .send((writes, ack))
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        done.await.map_err(|_| StoreError::WriterStopped)?
    }
}

/// The journal: a writer for changes and a pool for reads.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    journal: Journal,
}

fn migrator() -> Migrator {
    plumbing::sqlite::migrator(&[(1, "connector journal", include_str!("schema.sql"))])
}

impl Store {
    /// Opens (creating if needed) the database at `path` and starts the writer task.
    pub async fn open(path: &Path, durability: Durability) -> Result<Store, StoreError> {
        let options = plumbing::sqlite::options(path, durability);
        let opened = plumbing::sqlite::open(path, options.clone(), options, &migrator()).await?;
        let (writer, pool) = (opened.writer, opened.readers);
        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(write_loop(writer, rx));
        Ok(Store {
            pool,
            journal: Journal { tx },
        })
    }

    /// The writer handle.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Commits writes (see [`Journal::commit`]).
    pub async fn commit(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.journal.commit(writes).await
    }

    /// Each ledger's last processed event.
    pub async fn cursors(&self) -> Result<HashMap<LedgerId, EventCursor>, StoreError> {
        let rows = sqlx::query("SELECT ledger, cursor FROM ledger_cursors")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    LedgerId::new(r.try_get::<String, _>("ledger")?),
                    EventCursor(u64_of(r.try_get("cursor")?)),
                ))
            })
            .collect()
    }

    /// Every payment not yet final, oldest first (what recovery drives on).
    pub async fn unfinished(&self) -> Result<Vec<Payment>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM payments WHERE state NOT IN ('fulfilled', 'rejected', 'lost') ORDER BY created_at",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(payment_of).collect()
    }

    /// One payment by id.
    pub async fn payment(&self, id: Uuid) -> Result<Option<Payment>, StoreError> {
        let row = sqlx::query("SELECT * FROM payments WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(payment_of).transpose()
    }

    /// Payments matching `filter`, newest first.
    pub async fn payments(&self, filter: &PaymentFilter) -> Result<Vec<Payment>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM payments
             WHERE (?1 IS NULL OR state = ?1)
               AND (?2 IS NULL OR uetr = ?2)
               AND (?3 IS NULL OR created_at >= ?3)
               AND (?4 IS NULL OR created_at < ?4)
             ORDER BY created_at DESC LIMIT ?5",
        )
        .bind(filter.state.map(PaymentState::as_str))
        .bind(filter.uetr.map(|u| u.to_string()))
        .bind(filter.since.map(Timestamp::unix_millis))
        .bind(filter.until.map(Timestamp::unix_millis))
        .bind(i64::from(filter.limit.clamp(1, 10_000)))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(payment_of).collect()
    }

    /// A payment's event trail, oldest first.
    pub async fn trail(&self, id: Uuid) -> Result<Vec<TrailEntry>, StoreError> {
        let rows =
            sqlx::query("SELECT at, kind, detail FROM payment_events WHERE payment_id = ? ORDER BY seq")
                .bind(id.to_string())
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(TrailEntry {
                    at: ts(r.try_get("at")?)?,
                    kind: r.try_get("kind")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }

    /// What a receiver recorded for an end-to-end id.
    pub async fn received_by_uetr(&self, uetr: Uuid) -> Result<Vec<ReceivedPayment>, StoreError> {
        let rows = sqlx::query("SELECT * FROM received WHERE uetr = ? ORDER BY at")
            .bind(uetr.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ReceivedPayment {
                    transfer: TransferId(parse(&r.try_get::<String, _>("transfer")?)?),
                    uetr: r
                        .try_get::<Option<String>, _>("uetr")?
                        .map(|u| parse(&u))
                        .transpose()?,
                    amount: u64_of(r.try_get("amount")?),
                    reference: r.try_get("reference")?,
                    outcome: r.try_get("outcome")?,
                    reject_code: r.try_get("reject_code")?,
                    reject_message: r.try_get("reject_message")?,
                    at: ts(r.try_get("at")?)?,
                })
            })
            .collect()
    }

    /// Net effect of finished payments on the connector's account at each ledger, per ledger:
    /// (received on incoming legs, paid on outgoing legs), from payments fulfilled between
    /// `since` and `until` (by last update). Reconciliation compares this with the ledgers.
    pub async fn settled_flows(
        &self,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<SettledFlow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, in_ledger, in_transfer, in_amount, out_ledger, out_transfer, out_amount, state
             FROM payments WHERE state IN ('fulfilled', 'lost') AND updated_at >= ? AND updated_at < ?",
        )
        .bind(since.unix_millis())
        .bind(until.unix_millis())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let state: String = r.try_get("state")?;
                Ok(SettledFlow {
                    payment: parse(&r.try_get::<String, _>("id")?)?,
                    incoming_ledger: LedgerId::new(r.try_get::<String, _>("in_ledger")?),
                    incoming_transfer: TransferId(parse(&r.try_get::<String, _>("in_transfer")?)?),
                    incoming_amount: if state == "fulfilled" {
                        u64_of(r.try_get("in_amount")?)
                    } else {
                        0
                    },
                    outgoing_ledger: LedgerId::new(
                        r.try_get::<Option<String>, _>("out_ledger")?.unwrap_or_default(),
                    ),
                    outgoing_transfer: r
                        .try_get::<Option<String>, _>("out_transfer")?
                        .map(|t| parse(&t).map(TransferId))
                        .transpose()?,
                    outgoing_amount: u64_of(r.try_get::<Option<i64>, _>("out_amount")?.unwrap_or(0)),
                })
            })
            .collect()
    }
}

/// A fulfilled payment's movements, for reconciliation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettledFlow {
    /// The payment.
    pub payment: Uuid,
    /// Where the connector was paid.
    pub incoming_ledger: LedgerId,
    /// The transfer that paid it.
    pub incoming_transfer: TransferId,
    /// What it received (0 for a lost payment).
    pub incoming_amount: u64,
    /// Where it paid.
    pub outgoing_ledger: LedgerId,
    /// The transfer it paid with.
    pub outgoing_transfer: Option<TransferId>,
    /// What it paid.
    pub outgoing_amount: u64,
}

/// Which payments to list. The default lists the latest 100 of any state.
#[derive(Debug, Clone, Deserialize)]
pub struct PaymentFilter {
    /// Only this state.
    pub state: Option<PaymentState>,
    /// Only this end-to-end id.
    pub uetr: Option<Uuid>,
    /// Created at or after.
    pub since: Option<Timestamp>,
    /// Created before.
    pub until: Option<Timestamp>,
    /// At most this many (default 100).
    #[serde(default = "default_limit")]
    pub limit: u32,
}

fn default_limit() -> u32 {
    100
}

impl Default for PaymentFilter {
    fn default() -> Self {
        PaymentFilter {
            state: None,
            uetr: None,
            since: None,
            until: None,
            limit: default_limit(),
        }
    }
}

async fn write_loop(mut conn: SqliteConnection, mut rx: mpsc::Receiver<Batch>) {
    let mut batches: Vec<Batch> = Vec::new();
    // One batch or more: whatever else is queued when the first arrives joins its commit.
    while rx.recv_many(&mut batches, MAX_BATCHES_PER_COMMIT).await > 0 {
        let result = commit::apply(&mut conn, &batches).await;
        if let Err(e) = &result {
            tracing::error!(error = %e, batches = batches.len(), "journal commit failed");
        }
        for (_, ack) in batches.drain(..) {
            let _ = ack.send(result.clone());
        }
    }
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn i64_of(v: u64) -> i64 {
    // Amounts above i64::MAX cannot come from any ledger we speak to; store them saturated
    // rather than wrapped so a corrupt value is visible.
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn ts(ms: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_unix_millis(ms).map_err(corrupt)
}

fn parse<T: FromStr>(text: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e| corrupt(format!("{text:?}: {e}")))
}

fn account(text: String) -> Result<AccountId, StoreError> {
    AccountId::new(text).map_err(corrupt)
}

fn payment_of(r: &SqliteRow) -> Result<Payment, StoreError> {
    let state: String = r.try_get("state")?;
    let outgoing = match r.try_get::<Option<String>, _>("out_ledger")? {
        None => None,
        Some(ledger) => Some(OutgoingLeg {
            ledger: LedgerId::new(ledger),
            transfer: TransferId(parse(&r.try_get::<String, _>("out_transfer")?)?),
            from: account(r.try_get("out_from")?)?,
            to: account(r.try_get("out_to")?)?,
            amount: u64_of(r.try_get("out_amount")?),
            expires_at: ts(r.try_get("out_expires_at")?)?,
        }),
    };
    Ok(Payment {
        id: parse(&r.try_get::<String, _>("id")?)?,
        uetr: r
            .try_get::<Option<String>, _>("uetr")?
            .map(|u| parse(&u))
            .transpose()?,
        state: PaymentState::parse(&state).ok_or_else(|| corrupt(format!("state {state}")))?,
        condition: Condition::from_hex(&r.try_get::<String, _>("condition")?).map_err(corrupt)?,
        destination: r.try_get("destination")?,
        incoming: IncomingLeg {
            ledger: LedgerId::new(r.try_get::<String, _>("in_ledger")?),
            transfer: TransferId(parse(&r.try_get::<String, _>("in_transfer")?)?),
            from: account(r.try_get("in_from")?)?,
            amount: u64_of(r.try_get("in_amount")?),
            expires_at: ts(r.try_get("in_expires_at")?)?,
        },
        outgoing,
        fee: u64_of(r.try_get("fee")?),
        outgoing_memo: r.try_get("out_memo")?,
        fulfillment: r
            .try_get::<Option<String>, _>("fulfillment")?
            .map(|f| Fulfillment::from_hex(&f).map_err(corrupt))
            .transpose()?,
        reject_code: r
            .try_get::<Option<String>, _>("reject_code")?
            .map(|c| ErrorCode::parse(&c).map_err(corrupt))
            .transpose()?,
        reject_message: r.try_get("reject_message")?,
        created_at: ts(r.try_get("created_at")?)?,
        updated_at: ts(r.try_get("updated_at")?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(id: u128, state: PaymentState) -> Payment {
        let t = Timestamp::from_unix_millis(1_000).unwrap();
        Payment {
            id: Uuid::from_u128(id),
            uetr: Some(Uuid::from_u128(id + 1000)),
            state,
            condition: Condition::from_bytes([3; 32]),
            destination: "test.ecny.bank-b.x".into(),
            incoming: IncomingLeg {
                ledger: LedgerId::new("digital-euro"),
                transfer: TransferId(Uuid::from_u128(id + 2000)),
                from: AccountId::new("bank-a").unwrap(),
                amount: 100_100,
                expires_at: t,
            },
            outgoing: Some(OutgoingLeg {
                ledger: LedgerId::new("e-cny"),
                transfer: TransferId(Uuid::from_u128(id + 3000)),
                from: AccountId::new("clearing-bank").unwrap(),
                to: AccountId::new("bank-b").unwrap(),
                amount: 200_000,
                expires_at: t,
            }),
            fee: 100,
            outgoing_memo: Some(vec![1, 2, 3]),
            fulfillment: Some(Fulfillment::from_bytes([9; 32])),
            reject_code: None,
            reject_message: None,
            created_at: t,
            updated_at: t,
        }
    }

    #[tokio::test]
    async fn writes_are_durable_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("connector.sqlite");
        let store = Store::open(&path, Durability::Normal).await.unwrap();
        let a = sample(1, PaymentState::Forwarded);
        let b = sample(2, PaymentState::Fulfilled);
        let entry = TrailEntry {
            at: a.created_at,
            kind: "incoming_seen".into(),
            detail: "1001.00 DE from bank-a".into(),
        };
        // Concurrent callers share commits.
        let (r1, r2) = tokio::join!(
            store.commit(vec![
                Write::Payment(Box::new(a.clone())),
                Write::Trail {
                    payment: a.id,
                    entry: entry.clone()
                },
                Write::Cursor(LedgerId::new("digital-euro"), EventCursor(7)),
            ]),
            store.commit(vec![
                Write::Payment(Box::new(b.clone())),
                Write::Cursor(LedgerId::new("digital-euro"), EventCursor(5))
            ]),
        );
        r1.unwrap();
        r2.unwrap();
        drop(store);

        let store = Store::open(&path, Durability::Normal).await.unwrap();
        assert_eq!(store.payment(a.id).await.unwrap(), Some(a.clone()));
        assert_eq!(store.unfinished().await.unwrap(), vec![a.clone()]);
        assert_eq!(store.trail(a.id).await.unwrap(), vec![entry]);
        assert_eq!(
            store.cursors().await.unwrap().get(&LedgerId::new("digital-euro")),
            Some(&EventCursor(7)),
            "cursors never move backwards"
        );
        let filter = PaymentFilter {
            state: Some(PaymentState::Fulfilled),
            limit: 10,
            ..PaymentFilter::default()
        };
        assert_eq!(store.payments(&filter).await.unwrap(), vec![b.clone()]);
        let by_uetr = PaymentFilter {
            uetr: a.uetr,
            limit: 10,
            ..PaymentFilter::default()
        };
        assert_eq!(store.payments(&by_uetr).await.unwrap(), vec![a]);
    }

    #[tokio::test]
    async fn one_commit_applies_its_writes_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("connector.sqlite");
        let store = Store::open(&path, Durability::Normal).await.unwrap();
        let forwarding = sample(1, PaymentState::Forwarding);
        let mut rejected = forwarding.clone();
        rejected.state = PaymentState::Rejected;
        rejected.outgoing_memo = None;
        rejected.fulfillment = None;
        rejected.reject_code = Some(ErrorCode::F05_WRONG_CONDITION);
        rejected.reject_message = Some("next hop: \"wrong\" condition".into());
        let step = |kind: &str| TrailEntry {
            at: forwarding.created_at,
            kind: kind.into(),
            detail: format!("{kind} detail"),
        };
        let quote = |body: &str| Write::Quote {
            id: Uuid::from_u128(5),
            created_at: forwarding.created_at,
            expires_at: forwarding.created_at,
            body: body.into(),
        };
        let received = ReceivedPayment {
            transfer: TransferId(Uuid::from_u128(77)),
            uetr: Some(Uuid::from_u128(88)),
            amount: 200_000,
            reference: "invoice 7".into(),
            outcome: "rejected".into(),
            reject_code: Some("F04".into()),
            reject_message: Some("too little".into()),
            at: forwarding.created_at,
        };
        store
            .commit(vec![
                Write::Payment(Box::new(forwarding.clone())),
                Write::Trail {
                    payment: forwarding.id,
                    entry: step("incoming_seen"),
                },
                Write::Payment(Box::new(rejected.clone())),
                Write::Trail {
                    payment: forwarding.id,
                    entry: step("incoming_rejected"),
                },
                Write::Cursor(LedgerId::new("e-cny"), EventCursor(9)),
                Write::Cursor(LedgerId::new("e-cny"), EventCursor(4)),
                Write::Received(received.clone()),
                quote("first"),
                quote("second"),
            ])
            .await
            .unwrap();

        assert_eq!(
            store.payment(forwarding.id).await.unwrap(),
            Some(rejected),
            "the later state wins"
        );
        assert_eq!(
            store.trail(forwarding.id).await.unwrap(),
            vec![step("incoming_seen"), step("incoming_rejected")]
        );
        assert!(store.unfinished().await.unwrap().is_empty());
        assert_eq!(
            store.cursors().await.unwrap().get(&LedgerId::new("e-cny")),
            Some(&EventCursor(9))
        );
        assert_eq!(
            store.received_by_uetr(Uuid::from_u128(88)).await.unwrap(),
            vec![received]
        );
        let quotes: Vec<(String, String)> = sqlx::query_as("SELECT id, body FROM quotes")
            .fetch_all(&store.pool)
            .await
            .unwrap();
        assert_eq!(
            quotes,
            vec![(Uuid::from_u128(5).to_string(), "second".to_owned())]
        );
    }
}
