//! The ledger service: the reference implementation of the REST plugin API, used as the mock
//! bank and, with other rules and config, as the digital euro and e-CNY ledgers.
//!
//! - [`book`] — the ledger's book: accounts, escrows and supply in memory, owned by the writer.
//! - [`writer`] — the single writer task: group commit, idempotency, notifications.
//! - [`store`] — SQLite (WAL, embedded migrations): opening, loading and read queries.
//! - [`batch`] — the writer's prefetch and commit of a batch, as constant SQL scripts.
//! - [`http`] — actix-web routes: authentication, body limits, problem+json.
//! - [`feed`] — the event feed as long poll and server-sent events.
//! - [`tail`] — the most recent events in memory, so the feed's subscribers rarely query SQLite.
//! - [`webhooks`] — signed webhook deliveries with retries.
//! - [`sweeper`] — refunds expired escrows.
//! - [`metrics`] — Prometheus.
//!
//! Start one with [`run`] (wall clock) or [`run_with_clock`] (tests pass a `ManualClock`).

pub mod batch;
pub mod book;
pub mod feed;
pub mod http;
pub mod metrics;
pub mod store;
pub mod sweeper;
pub mod tail;
pub mod webhooks;
pub mod writer;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use htlc::{Clock, SystemClock};
use sqlx::SqlitePool;

use crate::config::LedgerConfig;
use plugins::api::Supply;
use plugins::auth::NonceStore;
use plugins::error::PluginError;
use plugins::plugin::AccountId;

/// Why a ledger could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The database could not be opened, migrated or loaded.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// Metrics could not be registered.
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// The TLS certificate or key could not be used.
    #[error("TLS: {0}")]
    Tls(#[from] tls::TlsError),
    /// The webhook delivery client could not be built.
    #[error("webhook client: {0}")]
    WebhookClient(#[from] reqwest::Error),
}

/// Shared by every HTTP worker.
pub struct AppState {
    /// The configuration.
    pub config: Arc<LedgerConfig>,
    /// The ledger's clock (expiries, signature windows).
    pub clock: Arc<dyn Clock>,
    /// The writer.
    pub writer: writer::WriterHandle,
    /// Read pool.
    pub pool: SqlitePool,
    /// Seen nonces.
    pub nonces: NonceStore,
    /// Commit notifications.
    pub signals: writer::Signals,
    /// Metrics.
    pub metrics: Arc<metrics::Metrics>,
    /// Accounts by id, as configured (accounts are fixed by configuration, so this never goes
    /// stale and the HTTP layer reads it without asking the writer).
    pub accounts: HashMap<AccountId, crate::config::AccountTerms>,
}

/// A ledger running in this process.
pub struct RunningLedger {
    addr: SocketAddr,
    state: Arc<AppState>,
    server: actix_web::dev::ServerHandle,
    server_task: tokio::task::JoinHandle<std::io::Result<()>>,
    background: Vec<tokio::task::JoinHandle<()>>,
    webhooks: Arc<webhooks::WebhookWorker>,
}

/// Starts a ledger on the wall clock.
pub async fn run(config: LedgerConfig) -> Result<RunningLedger, ServerError> {
    run_with_clock(config, Arc::new(SystemClock)).await
}

/// Starts a ledger reading time from `clock`: expiries, the sweeper, signature windows and
/// webhook backoff all follow it.
pub async fn run_with_clock(
    config: LedgerConfig,
    clock: Arc<dyn Clock>,
) -> Result<RunningLedger, ServerError> {
    let config = Arc::new(config);
    let ledger_id = config.info.ledger_id.clone();
    // Certificates first: a bad file fails the start before the database is touched.
    let tls = tls::server_config(config.server.tls.as_ref())?;
    let plain = tls.is_none();
    let metrics = Arc::new(metrics::Metrics::new(&ledger_id)?);
    let (conn, pool) = store::open(&config).await?;
    let (writer, signals, writer_task) =
        writer::start(config.clone(), clock.clone(), conn, metrics.clone()).await?;
    let accounts = config
        .accounts
        .iter()
        .map(|a| (a.terms.id.clone(), a.terms.clone()))
        .collect();
    let state = Arc::new(AppState {
        config: config.clone(),
        clock: clock.clone(),
        writer: writer.clone(),
        pool: pool.clone(),
        nonces: NonceStore::started_at(config.auth_window_secs, clock.now().unix_secs()),
        signals: signals.clone(),
        metrics: metrics.clone(),
        accounts,
    });
    let sweeper_task = sweeper::spawn(writer.clone(), clock.clone(), signals.next_expiry.clone());
    let checkpoint_pool = pool.clone();
    let checkpoint_task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
        loop {
            tick.tick().await;
            if let Err(e) = store::checkpoint(&checkpoint_pool).await {
                tracing::warn!(error = %e, "WAL checkpoint failed");
            }
        }
    });
    let webhooks = Arc::new(webhooks::WebhookWorker::new(
        config.clone(),
        clock.clone(),
        pool.clone(),
        signals.tail.clone(),
        metrics.clone(),
    )?);
    let webhook_task = webhooks.clone().spawn(signals.clone());

    let listen = config.server.listen;
    let (server, addr) = http::serve(state.clone(), listen, tls)
        .map_err(|source| ServerError::Bind { addr: listen, source })?;
    if plain {
        tracing::warn!(ledger = %ledger_id, %addr, "serving plain HTTP (server.plain_http = true): requests and answers travel unencrypted");
    }
    let handle = server.handle();
    let server_task = tokio::spawn(server);
    tracing::info!(ledger = %ledger_id, kind = config.kind.as_str(), %addr, database = %config.database_path().display(), "ledger listening");
    // The writer task ends when its last handle is dropped (at shutdown).
    drop(writer_task);
    Ok(RunningLedger {
        addr,
        state,
        server: handle,
        server_task,
        background: vec![sweeper_task, webhook_task, checkpoint_task],
        webhooks,
    })
}

impl RunningLedger {
    /// The bound address (the real port when the config said port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://localhost:<port>` (TLS; the name development certificates carry) or
    /// `http://<addr>`, for clients.
    pub fn base_url(&self) -> String {
        match self.config().server.tls {
            Some(_) => format!("https://localhost:{}", self.addr.port()),
            None => format!("http://{}", self.addr),
        }
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &LedgerConfig {
        &self.state.config
    }

    /// Refunds every escrow the ledger's clock says has expired, now; returns how many.
    pub async fn sweep_now(&self) -> Result<usize, PluginError> {
        self.state.writer.sweep().await
    }

    /// Attempts every due webhook delivery now; returns how many were acknowledged.
    pub async fn deliver_webhooks_now(&self) -> usize {
        self.webhooks.deliver_due().await
    }

    /// Total supply against the sum of balances and escrows.
    pub async fn supply(&self) -> Result<Supply, PluginError> {
        let (total, balances, held) =
            store::supply(&self.state.pool)
                .await
                .map_err(|e| PluginError::Unavailable {
                    reason: e.to_string(),
                })?;
        Ok(Supply {
            total_supply: total,
            balances,
            escrowed: held,
            max_supply: self.state.config.max_supply,
        })
    }

    /// Waits until the HTTP server stops (e.g. after [`RunningLedger::stop_handle`] is used).
    pub async fn wait(mut self) -> std::io::Result<()> {
        let result = (&mut self.server_task).await.unwrap_or(Ok(()));
        self.stop_background().await;
        result
    }

    /// A handle that stops the HTTP server gracefully (in-flight requests finish).
    pub fn stop_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.clone()
    }

    /// Stops accepting requests, lets in-flight ones finish, and stops the background tasks.
    /// Everything acknowledged is already on disk.
    pub async fn shutdown(self) {
        self.server.stop(true).await;
        let _ = self.wait().await;
    }

    async fn stop_background(&mut self) {
        for task in self.background.drain(..) {
            task.abort();
            let _ = task.await;
        }
        self.state.pool.close().await;
    }
}
