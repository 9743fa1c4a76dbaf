//! The single writer: every request that changes the ledger goes through one task, which
//! commits whatever arrived meanwhile as one SQLite transaction (group commit) and only then
//! answers each request. One fsync is shared by the whole batch, and since one task owns the
//! book ([`crate::server::book`]) there are no lock races between concurrent transfers.
//!
//! Idempotency lives here too: the first response to an `Idempotency-Key` is written in the
//! same transaction as its effect, so a repeat after a crash finds either both or neither.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use htlc::{Clock, Fulfillment, Timestamp};
use sqlx::sqlite::SqliteConnection;
use tokio::sync::{mpsc, oneshot, watch};

use crate::config::LedgerConfig;
use crate::rules;
use crate::server::batch;
use crate::server::book::{AccountState, Book, Outcome, Stage};
use crate::server::metrics::Metrics;
use crate::server::store::{self, Extra, IdemRecord, StoreError, WebhookRow};
use crate::server::tail::{EventTail, TAIL_CAPACITY};
use plugins::api::{IssuanceRequest, PaymentRequest, Problem, RedemptionRequest, Webhook};
use plugins::error::PluginError;
use plugins::plugin::{EventCursor, PrepareTransfer, TransferId};

/// A change a caller asks for.
#[derive(Debug, Clone)]
pub enum Op {
    /// Lock funds in an escrow.
    Prepare(PrepareTransfer),
    /// Release an escrow with its preimage.
    Fulfill(TransferId, Fulfillment),
    /// Decline an escrow.
    Reject(TransferId, Option<String>),
    /// Immediate payment.
    Pay(PaymentRequest),
    /// Central bank issuance.
    Issue(IssuanceRequest),
    /// Redemption to the central bank.
    Redeem(RedemptionRequest),
    /// Register (or replace) the webhook of a key.
    RegisterWebhook {
        /// The key.
        key_id: String,
        /// Target, as the HTTP layer checked it against the webhook policy and normalized it.
        url: String,
        /// Start after this cursor.
        after: Option<EventCursor>,
    },
    /// Remove the webhook of a key.
    RemoveWebhook {
        /// The key.
        key_id: String,
    },
}

impl Op {
    fn name(&self) -> &'static str {
        match self {
            Op::Prepare(_) => "prepare",
            Op::Fulfill(..) => "fulfill",
            Op::Reject(..) => "reject",
            Op::Pay(_) => "payment",
            Op::Issue(_) => "issuance",
            Op::Redeem(_) => "redemption",
            Op::RegisterWebhook { .. } => "webhook_register",
            Op::RemoveWebhook { .. } => "webhook_remove",
        }
    }
}

/// The idempotency scope of a request.
#[derive(Debug, Clone)]
pub struct Idem {
    /// Participant and key.
    pub scope_key: String,
    /// SHA-256 of method, path and body.
    pub request_hash: Vec<u8>,
}

/// An HTTP answer, as stored for idempotency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// JSON body (problem+json when status >= 400).
    pub body: Bytes,
    /// True if this is a stored first answer being repeated.
    pub replayed: bool,
}

impl Reply {
    /// A JSON success.
    pub fn json(status: u16, value: &impl serde::Serialize) -> Reply {
        match serde_json::to_vec(value) {
            Ok(body) => Reply {
                status,
                body: body.into(),
                replayed: false,
            },
            Err(e) => Reply::problem(&PluginError::Unavailable {
                reason: format!("cannot encode response: {e}"),
            }),
        }
    }

    /// A problem document for an error.
    pub fn problem(error: &PluginError) -> Reply {
        let problem = Problem::from(error);
        Reply {
            status: problem.status,
            body: serde_json::to_vec(&problem).unwrap_or_default().into(),
            replayed: false,
        }
    }
}

// Requests dominate; boxing them would add an allocation per request for nothing.
#[allow(clippy::large_enum_variant)]
enum Msg {
    Request {
        caller: String,
        idem: Option<Idem>,
        op: Op,
        reply: oneshot::Sender<Reply>,
    },
    Sweep(oneshot::Sender<Result<usize, PluginError>>),
}

/// Signals the writer publishes after each commit.
#[derive(Clone)]
pub struct Signals {
    /// Last committed event cursor.
    pub events: watch::Receiver<u64>,
    /// Earliest expiry among live escrows.
    pub next_expiry: watch::Receiver<Option<Timestamp>>,
    /// Bumped when a webhook is registered or removed.
    pub webhooks: watch::Receiver<u64>,
    /// The most recent committed events, appended before `events` moves.
    pub tail: Arc<EventTail>,
}

/// How the rest of the server talks to the writer.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Msg>,
}

fn gone() -> PluginError {
    PluginError::Unavailable {
        reason: "the ledger is shutting down".into(),
    }
}

impl WriterHandle {
    /// Applies a change and returns the HTTP answer to give.
    pub async fn submit(&self, caller: String, idem: Option<Idem>, op: Op) -> Reply {
        let (reply, rx) = oneshot::channel();
        if self
            .tx
            .send(Msg::Request {
                caller,
                idem,
                op,
                reply,
            })
            .await
            .is_err()
        {
            return Reply::problem(&gone());
        }
        rx.await.unwrap_or_else(|_| Reply::problem(&gone()))
    }

    /// Refunds every escrow expired by the ledger's clock now; returns how many.
    pub async fn sweep(&self) -> Result<usize, PluginError> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Msg::Sweep(reply)).await.map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }
}

/// The writer task's state.
pub struct Writer {
    config: Arc<LedgerConfig>,
    clock: Arc<dyn Clock>,
    conn: SqliteConnection,
    book: Book,
    events_tx: watch::Sender<u64>,
    expiry_tx: watch::Sender<Option<Timestamp>>,
    webhooks_tx: watch::Sender<u64>,
    tail: Arc<EventTail>,
    metrics: Arc<Metrics>,
}

async fn load_book(config: &LedgerConfig, conn: &mut SqliteConnection) -> Result<Book, StoreError> {
    let loaded = store::load(conn).await?;
    Ok(Book::new(
        config,
        rules::for_config(config),
        loaded.accounts,
        loaded.live,
        loaded.supply,
        loaded.last_cursor,
    ))
}

/// Loads the ledger, opens configured accounts that are new (crediting their opening
/// balances), and starts the writer task.
pub async fn start(
    config: Arc<LedgerConfig>,
    clock: Arc<dyn Clock>,
    mut conn: SqliteConnection,
    metrics: Arc<Metrics>,
) -> Result<(WriterHandle, Signals, tokio::task::JoinHandle<()>), StoreError> {
    let mut book = load_book(&config, &mut conn).await?;
    let now = clock.now();
    let mut stage = Stage::default();
    for spec in &config.accounts {
        if book.account(&spec.terms.id).is_some() {
            book.reconfigure(spec, &mut stage);
        } else {
            book.open_account(
                AccountState::from_spec(spec),
                spec.opening_balance,
                now,
                &mut stage,
            );
        }
    }
    let touched: Vec<AccountState> = stage
        .touched
        .iter()
        .filter_map(|id| book.account(id).cloned())
        .collect();
    batch::commit(&mut conn, &stage, &touched, book.supply(), &Extra::default(), now).await?;

    let (events_tx, events) = watch::channel(book.last_cursor());
    let (expiry_tx, next_expiry) = watch::channel(book.next_expiry());
    let (webhooks_tx, webhooks) = watch::channel(0);
    let tail = Arc::new(EventTail::new(book.last_cursor(), TAIL_CAPACITY));
    metrics.set_live_escrows(book.live_count());
    let (tx, rx) = mpsc::channel(16 * 1024);
    let writer = Writer {
        config,
        clock,
        conn,
        book,
        events_tx,
        expiry_tx,
        webhooks_tx,
        tail: Arc::clone(&tail),
        metrics,
    };
    let task = tokio::spawn(writer.run(rx));
    Ok((
        WriterHandle { tx },
        Signals {
            events,
            next_expiry,
            webhooks,
            tail,
        },
        task,
    ))
}

impl Writer {
    async fn run(mut self, mut rx: mpsc::Receiver<Msg>) {
        let max = self.config.server.max_batch;
        let mut batch = Vec::with_capacity(max);
        // One request or more: whatever else is queued when the first arrives joins its commit.
        while rx.recv_many(&mut batch, max).await > 0 {
            self.process(&mut batch).await;
        }
        tracing::debug!(ledger = %self.config.info.ledger_id, "writer stopped");
    }

    async fn prefetch(
        &mut self,
        batch: &[Msg],
    ) -> Result<
        (
            HashMap<String, IdemRecord>,
            HashMap<TransferId, plugins::plugin::Transfer>,
        ),
        StoreError,
    > {
        let mut keys = Vec::new();
        let mut ids = Vec::new();
        for m in batch {
            if let Msg::Request { idem, op, .. } = m {
                if let Some(i) = idem {
                    keys.push(i.scope_key.clone());
                }
                let id = match op {
                    Op::Prepare(p) => Some(p.id),
                    Op::Fulfill(id, _) | Op::Reject(id, _) => Some(*id),
                    _ => None,
                };
                if let Some(id) = id.filter(|id| self.book.live(id).is_none()) {
                    ids.push(id);
                }
            }
        }
        batch::prefetch(&mut self.conn, &keys, &ids).await
    }

    async fn process(&mut self, batch: &mut Vec<Msg>) {
        let started = Instant::now();
        let now = self.clock.now();
        self.metrics.batch_size.observe(batch.len() as f64);
        let (mut seen, stored) = match self.prefetch(batch).await {
            Ok(x) => x,
            Err(e) => {
                tracing::error!(ledger = %self.config.info.ledger_id, error = %e, "reading before a batch failed");
                let error = PluginError::Unavailable {
                    reason: e.to_string(),
                };
                for m in batch.drain(..) {
                    answer_failure(m, &error);
                }
                return;
            }
        };
        let mut stage = Stage::default();
        let mut extra = Extra::default();
        let mut replies = Vec::with_capacity(batch.len());
        let mut sweeps = Vec::new();
        for m in batch.drain(..) {
            match m {
                Msg::Sweep(reply) => {
                    let n = self.book.expire_due(now, &mut stage);
                    if n > 0 {
                        tracing::info!(ledger = %self.config.info.ledger_id, refunded = n, "expired escrows refunded");
                    }
                    sweeps.push((reply, n));
                }
                Msg::Request {
                    caller,
                    idem,
                    op,
                    reply,
                } => {
                    if let Some(i) = &idem
                        && let Some(rec) = seen.get(&i.scope_key)
                    {
                        let answer = if rec.request_hash == i.request_hash {
                            Reply {
                                status: rec.status,
                                body: Bytes::from(rec.body.clone()),
                                replayed: true,
                            }
                        } else {
                            Reply::problem(&PluginError::Duplicate {
                                reason: "this Idempotency-Key was already used with a different request"
                                    .into(),
                            })
                        };
                        replies.push((reply, answer));
                        continue;
                    }
                    let name = op.name();
                    let answer = self.apply(&caller, op, now, &mut stage, &mut extra, &stored);
                    self.metrics
                        .requests
                        .with_label_values(&[name, &answer.status.to_string()])
                        .inc();
                    if let Some(i) = idem
                        && answer.status != 503
                    {
                        let rec = IdemRecord {
                            request_hash: i.request_hash,
                            status: answer.status,
                            body: answer.body.to_vec(),
                        };
                        seen.insert(i.scope_key.clone(), rec.clone());
                        extra.idempotency.push((i.scope_key, rec));
                    }
                    replies.push((reply, answer));
                }
            }
        }

        let nothing_to_write = stage.transfers.is_empty()
            && stage.entries.is_empty()
            && stage.touched.is_empty()
            && !stage.supply_changed
            && extra.idempotency.is_empty()
            && extra.webhooks.is_empty()
            && extra.webhook_removals.is_empty();
        let committed = if nothing_to_write {
            Ok(())
        } else {
            let touched: Vec<AccountState> = stage
                .touched
                .iter()
                .filter_map(|id| self.book.account(id).cloned())
                .collect();
            batch::commit(&mut self.conn, &stage, &touched, self.book.supply(), &extra, now).await
        };
        match committed {
            Ok(()) => {
                // The tail first: a caller that reads the feed right after its answer must
                // find the events its request produced.
                self.tail.append(&stage.events);
                self.metrics.events.inc_by(stage.events.len() as u64);
                for (reply, answer) in replies {
                    let _ = reply.send(answer);
                }
                for (reply, n) in sweeps {
                    let _ = reply.send(Ok(n));
                }
                if !extra.webhooks.is_empty() || !extra.webhook_removals.is_empty() {
                    self.webhooks_tx.send_modify(|n| *n += 1);
                }
                self.metrics.set_live_escrows(self.book.live_count());
                let last = self.book.last_cursor();
                self.events_tx
                    .send_if_modified(|c| std::mem::replace(c, last) != last);
                let next = self.book.next_expiry();
                self.expiry_tx
                    .send_if_modified(|c| std::mem::replace(c, next) != next);
            }
            Err(e) => {
                tracing::error!(ledger = %self.config.info.ledger_id, error = %e, "commit failed; reloading state from the database");
                let error = PluginError::Unavailable {
                    reason: format!("the ledger could not record the change: {e}"),
                };
                for (reply, _) in replies {
                    let _ = reply.send(Reply::problem(&error));
                }
                for (reply, _) in sweeps {
                    let _ = reply.send(Err(error.clone()));
                }
                match load_book(&self.config, &mut self.conn).await {
                    Ok(book) => self.book = book,
                    Err(e) => {
                        tracing::error!(ledger = %self.config.info.ledger_id, error = %e, "reload failed")
                    }
                }
            }
        }
        self.metrics
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
    }

    fn apply(
        &mut self,
        caller: &str,
        op: Op,
        now: Timestamp,
        stage: &mut Stage,
        extra: &mut Extra,
        stored: &HashMap<TransferId, plugins::plugin::Transfer>,
    ) -> Reply {
        let ledger = &self.config.info.ledger_id;
        let result = match op {
            Op::Prepare(req) => {
                let (id, from, to) = (req.id, req.from.clone(), req.to.clone());
                let r = self.book.prepare(caller, req, now, stage, stored);
                if let Err(e) = &r {
                    tracing::debug!(%ledger, transfer = %id, %from, %to, code = e.code(), "prepare refused");
                }
                r
            }
            Op::Fulfill(id, f) => {
                let r = self.book.fulfill(caller, id, f, now, stage, stored);
                match &r {
                    Ok(_) => tracing::debug!(%ledger, transfer = %id, participant = caller, "fulfilled"),
                    Err(e) => {
                        tracing::debug!(%ledger, transfer = %id, participant = caller, code = e.code(), "fulfil refused")
                    }
                }
                r
            }
            Op::Reject(id, reason) => {
                let r = self.book.reject(caller, id, reason, now, stage, stored);
                if let Err(e) = &r {
                    tracing::debug!(%ledger, transfer = %id, participant = caller, code = e.code(), "reject refused");
                } else {
                    tracing::debug!(%ledger, transfer = %id, participant = caller, "rejected");
                }
                r
            }
            Op::Pay(req) => self.book.pay(caller, req, now, stage),
            Op::Issue(req) => self.book.issue(caller, req.to, req.amount, now, stage),
            Op::Redeem(req) => self.book.redeem(caller, req.from, req.amount, now, stage),
            Op::RegisterWebhook { key_id, url, after } => {
                let cursor = after.map(|c| c.0).unwrap_or(self.book.last_cursor());
                extra.webhooks.push(WebhookRow {
                    key_id: key_id.clone(),
                    participant: caller.to_owned(),
                    url: url.clone(),
                    cursor,
                });
                tracing::info!(%ledger, participant = caller, %key_id, %url, "webhook registered");
                return Reply::json(
                    201,
                    &Webhook {
                        key_id,
                        url,
                        delivered_through: EventCursor(cursor),
                        attempts: 0,
                        next_attempt_at: None,
                        last_error: None,
                    },
                );
            }
            Op::RemoveWebhook { key_id } => {
                extra.webhook_removals.push(key_id);
                return Reply {
                    status: 204,
                    body: Bytes::new(),
                    replayed: false,
                };
            }
        };
        match result {
            Ok(Outcome::Transfer { transfer, created }) => {
                if created {
                    tracing::debug!(%ledger, transfer = %transfer.id, from = %transfer.from, to = %transfer.to, amount = %self.book.display(transfer.amount), "prepared");
                }
                Reply::json(if created { 201 } else { 200 }, &transfer)
            }
            Ok(Outcome::Payment(p)) => Reply::json(201, &p),
            Ok(Outcome::Supply(s)) => Reply::json(201, &s),
            Err(e) => Reply::problem(&e),
        }
    }
}

fn answer_failure(m: Msg, error: &PluginError) {
    match m {
        Msg::Request { reply, .. } => {
            let _ = reply.send(Reply::problem(error));
        }
        Msg::Sweep(reply) => {
            let _ = reply.send(Err(error.clone()));
        }
    }
}
