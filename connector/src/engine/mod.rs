//! The running connector: it follows each ledger's event log, decides what to do with escrows
//! addressed to it ([`crate::switch::decide`]), and drives every payment through its states
//! ([`crate::payment::PaymentState`]).
//!
//! - `follow`: one task per ledger reads event pages from the saved cursor and turns events into
//!   state changes, committing a whole page (and the new cursor) in one journal write.
//! - `drive`: one task per payment that needs an action (prepare outgoing, fulfil or reject
//!   incoming), started only after the state that calls for it is committed.
//! - `inflight`: the in-memory index of unfinished payments.
//! - `crash`: crash points for the recovery tests (debug builds only).
//!
//! Recovery is the same code as normal operation: at start, every unfinished payment in the
//! journal is loaded and driven, and each ledger is followed from its saved cursor.

#[cfg(debug_assertions)]
mod crash;
mod drive;
mod follow;
mod inflight;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use htlc::{Clock, Timestamp};
use plugins::LedgerPlugin;
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

#[cfg(debug_assertions)]
pub use crash::CrashPoint;

use crate::LedgerId;
use crate::metrics::Metrics;
use crate::payment::{Payment, TrailEntry};
use crate::store::{Store, StoreError, Write};
use crate::switch::SwitchTables;
#[cfg(debug_assertions)]
use crash::CrashPoints;
use inflight::InFlight;

/// Tuning of the engine.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Longest wait of one event long poll.
    pub event_wait: Duration,
    /// Events per page.
    pub page_size: u32,
    /// First retry delay after a ledger is unavailable (doubles up to `max_retry_delay`).
    pub retry_delay: Duration,
    /// Longest retry delay.
    pub max_retry_delay: Duration,
    /// Freeze at this step (recovery tests only; debug builds have it, release builds do not).
    #[cfg(debug_assertions)]
    pub crash_at: Option<CrashPoint>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            event_wait: Duration::from_secs(10),
            page_size: 500,
            retry_delay: Duration::from_millis(50),
            max_retry_delay: Duration::from_secs(2),
            #[cfg(debug_assertions)]
            crash_at: None,
        }
    }
}

/// A connector between ledgers. Create with [`Connector::new`], then [`Connector::start`].
pub struct Connector {
    tables: RwLock<SwitchTables>,
    ledgers: BTreeMap<LedgerId, Arc<dyn LedgerPlugin>>,
    store: Store,
    clock: Arc<dyn Clock>,
    options: EngineOptions,
    metrics: Metrics,
    inflight: Mutex<InFlight>,
    #[cfg(debug_assertions)]
    crash: CrashPoints,
    halted: watch::Sender<Option<String>>,
    updates: broadcast::Sender<Payment>,
    followers: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("ledgers", &self.ledgers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Connector {
    /// A connector over `ledgers` (one plugin per ledger of `tables`), journaling to `store`.
    pub fn new(
        tables: SwitchTables,
        ledgers: BTreeMap<LedgerId, Arc<dyn LedgerPlugin>>,
        store: Store,
        clock: Arc<dyn Clock>,
        options: EngineOptions,
    ) -> Arc<Self> {
        Arc::new(Connector {
            tables: RwLock::new(tables),
            ledgers,
            store,
            clock,
            #[cfg(debug_assertions)]
            crash: CrashPoints::new(options.crash_at),
            options,
            metrics: Metrics::new(),
            inflight: Mutex::new(InFlight::default()),
            halted: watch::channel(None).0,
            updates: broadcast::channel(4096).0,
            followers: Mutex::new(Vec::new()),
        })
    }

    /// Loads unfinished payments and starts driving them and following every ledger.
    pub async fn start(self: &Arc<Self>) -> Result<(), StoreError> {
        let unfinished = self.store.unfinished().await?;
        let cursors = self.store.cursors().await?;
        tracing::info!(unfinished = unfinished.len(), "recovering unfinished payments");
        let ids: Vec<Uuid> = unfinished.iter().map(|p| p.id).collect();
        {
            let mut inflight = self.lock_inflight();
            for payment in unfinished {
                inflight.insert(payment);
            }
            self.metrics.set_in_flight(inflight.len());
        }
        for id in ids {
            self.spawn_driver(id);
        }
        let mut starts = Vec::new();
        for (ledger, plugin) in &self.ledgers {
            let after = match cursors.get(ledger) {
                Some(cursor) => *cursor,
                None => self.first_cursor(ledger, plugin.as_ref()).await?,
            };
            starts.push((ledger.clone(), after));
        }
        let mut followers = self.followers.lock().unwrap_or_else(|e| e.into_inner());
        for (ledger, after) in starts {
            followers.push(tokio::spawn(follow::follow(Arc::clone(self), ledger, after)));
        }
        Ok(())
    }

    /// Where a new journal starts on a ledger: its current head, saved at once, so the
    /// connector acts on escrows from now on and not on the ledger's history.
    async fn first_cursor(
        &self,
        ledger: &LedgerId,
        plugin: &dyn LedgerPlugin,
    ) -> Result<plugins::EventCursor, StoreError> {
        let mut delay = self.options.retry_delay;
        let head = loop {
            match plugin.head().await {
                Ok(head) => break head,
                Err(error) => {
                    tracing::warn!(%ledger, %error, "reading the ledger's head failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(self.options.max_retry_delay);
                }
            }
        };
        tracing::info!(%ledger, cursor = head.0, "new journal: following from the ledger's head");
        self.store
            .commit(vec![Write::Cursor(ledger.clone(), head)])
            .await?;
        Ok(head)
    }

    /// Stops following the ledgers (payment drivers finish their current step and stop when
    /// the runtime does). What is committed is recovered by the next start.
    pub fn stop_following(&self) {
        for task in self.followers.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            task.abort();
        }
    }

    /// The switching tables (routes, rates, limits) as they are now.
    pub fn tables(&self) -> SwitchTables {
        self.tables.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Changes the switching tables (operator API).
    pub fn update_tables<R>(&self, change: impl FnOnce(&mut SwitchTables) -> R) -> R {
        change(&mut self.tables.write().unwrap_or_else(|e| e.into_inner()))
    }

    /// The plugin of a ledger.
    pub fn ledger(&self, id: &LedgerId) -> Option<&Arc<dyn LedgerPlugin>> {
        self.ledgers.get(id)
    }

    /// Every ledger's plugin.
    pub fn ledgers(&self) -> &BTreeMap<LedgerId, Arc<dyn LedgerPlugin>> {
        &self.ledgers
    }

    /// The journal.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The clock decisions are made with.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Payments not yet final.
    pub fn in_flight_count(&self) -> usize {
        self.lock_inflight().len()
    }

    /// Resolves when the engine stops acting because its journal failed; the reason.
    pub async fn halted(&self) -> String {
        let mut rx = self.halted.subscribe();
        loop {
            if let Some(reason) = rx.borrow_and_update().clone() {
                return reason;
            }
            if rx.changed().await.is_err() {
                return "engine dropped".into();
            }
        }
    }

    /// Every payment change, as it is committed. A receiver that falls more than 4096 changes
    /// behind skips the oldest (and is told so by `recv`).
    pub fn payment_updates(&self) -> broadcast::Receiver<Payment> {
        self.updates.subscribe()
    }

    /// Why the engine halted, if it did.
    pub fn halt_reason(&self) -> Option<String> {
        self.halted.borrow().clone()
    }

    /// Stops all further action: the journal can no longer be trusted to record it. A restart
    /// recovers from what was committed.
    fn halt(&self, error: &StoreError) {
        tracing::error!(%error, "journal write failed: connector halting; restart to recover");
        self.halted.send_replace(Some(error.to_string()));
    }

    fn lock_inflight(&self) -> std::sync::MutexGuard<'_, InFlight> {
        self.inflight.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies `change` to an unfinished payment; if it returns a trail entry, the new version
    /// replaces the old in memory and its writes are appended to `writes`. Returns the new
    /// version, or `None` if the payment is unknown, final, or `change` declined.
    fn stage(
        &self,
        id: Uuid,
        writes: &mut Vec<Write>,
        change: impl FnOnce(&mut Payment, Timestamp) -> Option<TrailEntry>,
    ) -> Option<Payment> {
        let now = self.clock.now();
        let mut inflight = self.lock_inflight();
        let mut next = inflight.get(&id)?.clone();
        let entry = change(&mut next, now)?;
        next.updated_at = now;
        if next.state.is_final() {
            self.record_outcome(&next);
        }
        inflight.replace(next.clone());
        self.metrics.set_in_flight(inflight.len());
        writes.push(Write::Payment(Box::new(next.clone())));
        writes.push(Write::Trail { payment: id, entry });
        Some(next)
    }

    /// [`Connector::stage`] and commit at once. `None` if nothing changed or the commit failed.
    async fn transition(
        &self,
        id: Uuid,
        change: impl FnOnce(&mut Payment, Timestamp) -> Option<TrailEntry>,
    ) -> Option<Payment> {
        let mut writes = Vec::new();
        let next = self.stage(id, &mut writes, change)?;
        self.commit(writes).await.then_some(next)
    }

    /// Commits, halting the engine on failure. True if committed.
    async fn commit(&self, writes: Vec<Write>) -> bool {
        #[cfg(debug_assertions)]
        self.crash.gate().await;
        if self.halt_reason().is_some() {
            std::future::pending::<()>().await;
        }
        let changed: Vec<Payment> = writes
            .iter()
            .filter_map(|w| match w {
                Write::Payment(p) => Some((**p).clone()),
                _ => None,
            })
            .collect();
        match self.store.commit(writes).await {
            Ok(()) => {
                #[cfg(debug_assertions)]
                self.crash.recorded(&changed);
                if self.updates.receiver_count() > 0 {
                    for payment in changed {
                        let _ = self.updates.send(payment);
                    }
                }
                true
            }
            Err(e) => {
                self.halt(&e);
                false
            }
        }
    }

    fn record_outcome(&self, p: &Payment) {
        let code = p.reject_code.map(|c| c.as_str().to_owned()).unwrap_or_default();
        self.metrics
            .payments
            .with_label_values(&[p.state.as_str(), &code])
            .inc();
        let elapsed = p.updated_at.millis_since(p.created_at).max(0) as f64 / 1000.0;
        self.metrics.latency.observe(elapsed);
        if p.state == crate::payment::PaymentState::Fulfilled {
            self.metrics
                .amounts
                .with_label_values(&[p.incoming.ledger.as_str(), "in"])
                .inc_by(p.incoming.amount);
            self.metrics
                .fees
                .with_label_values(&[p.incoming.ledger.as_str()])
                .inc_by(p.fee);
            if let Some(out) = &p.outgoing {
                self.metrics
                    .amounts
                    .with_label_values(&[out.ledger.as_str(), "out"])
                    .inc_by(out.amount);
            }
        }
    }

    /// Starts a driver for the payment unless one is running.
    fn spawn_driver(self: &Arc<Self>, id: Uuid) {
        if self.lock_inflight().claim_driver(id) {
            tokio::spawn(drive::drive(Arc::clone(self), id));
        }
    }
}

/// A trail entry at `at`.
fn trail(at: Timestamp, kind: &str, detail: impl Into<String>) -> TrailEntry {
    TrailEntry {
        at,
        kind: kind.to_owned(),
        detail: detail.into(),
    }
}
