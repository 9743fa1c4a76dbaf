//! Webhook deliveries: each event a key's participant may see is POSTed to the key's URL, in
//! cursor order, signed with that key exactly like an API request (so the receiver verifies
//! with the same code), carrying the event's unique id in `CypherLink-Event-Id`. A delivery
//! counts once the receiver answers 2xx; until then it is retried with exponential backoff
//! (from `webhooks.initial_backoff_ms`, doubling, capped at `webhooks.max_backoff_ms`). The
//! position and retry state live in SQLite, so a restart resumes where delivery stood; a
//! receiver may see an event twice around a crash and drops repeats by event id.
//!
//! Deliveries go only where the ledger's [`policy`] allows (`webhooks.schemes`,
//! `webhooks.allow`): the URL is checked again before every attempt, a host name is resolved
//! by `PolicyResolver` once per new connection and the connection is made only to the
//! addresses it checked, and redirects and proxies are never followed. A delivery the policy
//! refuses is logged, counted (`webhook_deliveries_total{result="refused"}`) and retried with
//! the same backoff as any failure, since the operator may fix the configuration.

pub mod policy;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use htlc::Clock;
use sqlx::SqlitePool;
use tokio::sync::Mutex;

use crate::config::LedgerConfig;
use crate::server::feed::events_after;
use crate::server::metrics::Metrics;
use crate::server::store;
use crate::server::tail::EventTail;
use crate::server::writer::Signals;
use plugins::api::Webhook;
use plugins::auth;
use plugins::plugin::LedgerEvent;

use self::policy::{UrlRefused, WebhookPolicy};

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
    policy: Arc<WebhookPolicy>,
    http: reqwest::Client,
    round: Mutex<()>,
}

/// Why an attempt did not count as delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum DeliveryError {
    /// The webhook policy refuses the URL or what its host resolves to; nothing was sent.
    #[error("refused by the ledger's webhook policy: {0}")]
    Refused(#[from] UrlRefused),
    /// Sending failed, or the receiver did not answer 2xx.
    #[error("{0}")]
    Failed(String),
}

impl DeliveryError {
    /// The `result` label of `webhook_deliveries_total`.
    fn label(&self) -> &'static str {
        match self {
            DeliveryError::Refused(_) => "refused",
            DeliveryError::Failed(_) => "failed",
        }
    }

    /// A refusal carried out of reqwest from [`PolicyResolver`], or the failure in words.
    fn from_send(error: reqwest::Error) -> Self {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        while let Some(e) = source {
            if let Some(refused) = e.downcast_ref::<UrlRefused>() {
                return DeliveryError::Refused(refused.clone());
            }
            source = e.source();
        }
        DeliveryError::Failed(error.to_string())
    }
}

/// The delivery client's DNS resolver: resolves a host name once per new connection, checks
/// every address against the policy, and hands the connector exactly the addresses it checked,
/// so a second (rebinding) DNS answer is never asked for. IP literals never reach a resolver;
/// [`WebhookPolicy::check_url`] covers them before each attempt.
struct PolicyResolver {
    policy: Arc<WebhookPolicy>,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let ips: Vec<IpAddr> = addrs.iter().map(SocketAddr::ip).collect();
            policy.check_resolved(&host, &ips)?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

impl WebhookWorker {
    /// A worker for one ledger. Fails only if the HTTP client cannot be built (it has no
    /// fallback: a default client would follow redirects and proxies).
    pub fn new(
        config: Arc<LedgerConfig>,
        clock: Arc<dyn Clock>,
        pool: SqlitePool,
        tail: Arc<EventTail>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(config.webhooks.policy());
        let http = plugins::client::http_client_builder(Duration::from_millis(config.webhooks.timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(PolicyResolver {
                policy: policy.clone(),
            })
            .build()?;
        Ok(WebhookWorker {
            config,
            clock,
            pool,
            tail,
            metrics,
            policy,
            http,
            round: Mutex::new(()),
        })
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
                        Err(error) => {
                            self.metrics
                                .webhook_deliveries
                                .with_label_values(&[error.label()])
                                .inc();
                            let w = &self.config.webhooks;
                            let factor = 1u64 << hook.attempts.min(30);
                            let backoff = w.initial_backoff_ms.saturating_mul(factor).min(w.max_backoff_ms);
                            hook.attempts = attempt;
                            hook.next_attempt_at =
                                now.checked_add_millis(i64::try_from(backoff).unwrap_or(i64::MAX));
                            let ledger = &self.config.info.ledger_id;
                            match &error {
                                DeliveryError::Refused(refused) => {
                                    // The participant sees only `last_error`; the operator sees
                                    // the address and range here.
                                    let (addr, range) = match refused {
                                        UrlRefused::ResolvesToDenied { addr, range, .. }
                                        | UrlRefused::DeniedAddress { addr, range } => {
                                            (Some(*addr), Some(range.as_str()))
                                        }
                                        _ => (None, None),
                                    };
                                    tracing::warn!(%ledger, %participant, key_id = %hook.key_id, url = %hook.url, ?addr, ?range, cursor = event.cursor.0, attempt, reason = %refused, backoff_ms = backoff, "webhook delivery refused by the webhook policy");
                                }
                                DeliveryError::Failed(reason) => {
                                    tracing::info!(%ledger, key_id = %hook.key_id, cursor = event.cursor.0, attempt, %reason, backoff_ms = backoff, "webhook delivery failed");
                                }
                            }
                            hook.last_error = Some(error.to_string());
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

    async fn post(&self, hook: &Webhook, event: &LedgerEvent, attempt: u32) -> Result<(), DeliveryError> {
        let key =
            self.config.keys.get(&hook.key_id).ok_or_else(|| {
                DeliveryError::Failed(format!("key {} is no longer configured", hook.key_id))
            })?;
        // Again at every attempt: the policy may be stricter than at registration, and an IP
        // literal never reaches the resolver.
        let url = self.policy.check_url(&hook.url)?;
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let body = serde_json::to_vec(event).map_err(|e| DeliveryError::Failed(e.to_string()))?;
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
        let response = request
            .body(body)
            .send()
            .await
            .map_err(DeliveryError::from_send)?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.is_redirection() {
            Err(DeliveryError::Failed(format!(
                "receiver answered {status}; redirects are not followed"
            )))
        } else {
            Err(DeliveryError::Failed(format!("receiver answered {status}")))
        }
    }
}
