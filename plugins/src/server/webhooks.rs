//! Webhook deliveries: each event a key's participant may see is POSTed to the key's URL, in
//! cursor order, signed with that key exactly like an API request (so the receiver verifies
//! with the same code), carrying the event's unique id in `CypherLink-Event-Id`. A delivery
//! counts once the receiver answers 2xx; until then it is retried with exponential backoff
//! (from `webhooks.initial_backoff_ms`, doubling, capped at `webhooks.max_backoff_ms`). The
//! position and retry state live in SQLite, so a restart resumes where delivery stood; a
//! receiver may see an event twice around a crash and drops repeats by event id.

pub mod policy;

use std::sync::Arc;
use std::time::Duration;

use htlc::Clock;
use sqlx::SqlitePool;
use tokio::sync::Mutex;

use crate::api::Webhook;
use crate::auth;
use crate::config::LedgerConfig;
use crate::plugin::LedgerEvent;
use crate::server::feed::events_after;
use crate::server::metrics::Metrics;
use crate::server::store;
use crate::server::tail::EventTail;
use crate::server::writer::Signals;

/// Header carrying the event's unique id.
pub const EVENT_ID_HEADER: &str = "CypherLink-Event-Id";
/// Header carrying the attempt number (1 for the first).
pub const ATTEMPT_HEADER: &str = "CypherLink-Delivery-Attempt";

/// Delivers webhooks; one delivery round at a time.
pub struct WebhookWorker {
    config: Arc<LedgerConfig>,
    clock: Arc<dyn Clock>,
    pool: SqlitePool,
    tail: Arc<EventTail>,
    metrics: Arc<Metrics>,
    http: reqwest::Client,
    round: Mutex<()>,
}

impl WebhookWorker {
    /// A worker for one ledger.
    pub fn new(
        config: Arc<LedgerConfig>,
        clock: Arc<dyn Clock>,
        pool: SqlitePool,
        tail: Arc<EventTail>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let http = crate::client::http_client(Duration::from_millis(config.webhooks.timeout_ms));
        WebhookWorker {
            config,
            clock,
            pool,
            tail,
            metrics,
            http,
            round: Mutex::new(()),
        }
    }

    /// Runs a delivery round when a webhook is registered, after every commit while any is
    /// registered, and at least once a second (for retries).
    pub fn spawn(self: Arc<Self>, signals: Signals) -> tokio::task::JoinHandle<()> {
        let (mut events, mut registrations) = (signals.events, signals.webhooks);
        tokio::spawn(async move {
            loop {
                let (_, any_registered) = self.delivery_round().await;
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => break,
                        changed = registrations.changed() => {
                            if changed.is_err() { return }
                            break;
                        }
                        changed = events.changed() => {
                            if changed.is_err() { return }
                            // With no webhook registered a commit has nobody to notify.
                            if any_registered { break }
                        }
                    }
                }
            }
        })
    }

    /// Delivers everything due now; returns how many deliveries were acknowledged.
    pub async fn deliver_due(&self) -> usize {
        self.delivery_round().await.0
    }

    /// One delivery round: (deliveries acknowledged, whether any webhook is registered).
    async fn delivery_round(&self) -> (usize, bool) {
        let _round = self.round.lock().await;
        let hooks = match store::webhooks(&self.pool).await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read webhooks");
                return (0, true);
            }
        };
        let any_registered = !hooks.is_empty();
        let mut delivered = 0;
        for (participant, mut hook) in hooks {
            let now = self.clock.now();
            if hook.next_attempt_at.is_some_and(|t| t > now) {
                continue;
            }
            'hook: loop {
                let read = events_after(&self.pool, &self.tail, &participant, hook.delivered_through, 50);
                let events = match read.await {
                    Ok(e) if !e.is_empty() => e,
                    _ => break,
                };
                for event in events {
                    let attempt = hook.attempts + 1;
                    let outcome = self.post(&hook, &event, attempt).await;
                    let now = self.clock.now();
                    match outcome {
                        Ok(()) => {
                            self.metrics.webhook_deliveries.with_label_values(&["ok"]).inc();
                            hook.delivered_through = event.cursor;
                            hook.attempts = 0;
                            hook.next_attempt_at = None;
                            hook.last_error = None;
                            delivered += 1;
                        }
                        Err(reason) => {
                            self.metrics
                                .webhook_deliveries
                                .with_label_values(&["failed"])
                                .inc();
                            let w = &self.config.webhooks;
                            let factor = 1u64 << hook.attempts.min(30);
                            let backoff = w.initial_backoff_ms.saturating_mul(factor).min(w.max_backoff_ms);
                            hook.attempts = attempt;
                            hook.next_attempt_at =
                                now.checked_add_millis(i64::try_from(backoff).unwrap_or(i64::MAX));
                            tracing::info!(ledger = %self.config.info.ledger_id, key_id = %hook.key_id, cursor = event.cursor.0, attempt, %reason, backoff_ms = backoff, "webhook delivery failed");
                            hook.last_error = Some(reason);
                        }
                    }
                    if let Err(e) = store::webhook_progress(&self.pool, &hook).await {
                        tracing::warn!(error = %e, "cannot record webhook progress");
                        break 'hook;
                    }
                    if hook.attempts > 0 {
                        break 'hook;
                    }
                }
            }
        }
        (delivered, any_registered)
    }

    async fn post(&self, hook: &Webhook, event: &LedgerEvent, attempt: u32) -> Result<(), String> {
        let key = self
            .config
            .keys
            .get(&hook.key_id)
            .ok_or_else(|| format!("key {} is no longer configured", hook.key_id))?;
        let url = reqwest::Url::parse(&hook.url).map_err(|e| e.to_string())?;
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let body = serde_json::to_vec(event).map_err(|e| e.to_string())?;
        let now = self.clock.now().unix_secs();
        let signature = auth::sign(&hook.key_id, &key.secret, "POST", &path, now, &body);
        let mut request = self
            .http
            .post(url)
            .header("Content-Type", "application/json")
            .header(EVENT_ID_HEADER, event.id.to_string())
            .header(ATTEMPT_HEADER, attempt.to_string());
        for (name, value) in signature.pairs() {
            request = request.header(name, value);
        }
        let response = request.body(body).send().await.map_err(|e| e.to_string())?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("receiver answered {}", response.status()))
        }
    }
}
