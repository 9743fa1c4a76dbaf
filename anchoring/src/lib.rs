//! # anchoring: digests in, certificates out (`cypherlink anchor`)
//!
//! Authorized submitters (an ISP, a merchant, the connector's journal) send 32-byte digests,
//! never the data, to their own namespaces over a signed REST API. The service acknowledges a
//! digest only once it is durable in SQLite, batches each namespace's digests into a Merkle tree
//! (closing a batch after N digests or T milliseconds), and anchors the root on the committee
//! chain in one transaction that also carries the batch's **sequence attestation**: its number
//! and the previous batch's hash, so the anchors of a namespace form one hash chain the chain
//! itself enforces (no gap, reordering or deleted batch). When the anchor's block is final, each
//! item gets a **certificate**: the block's inclusion proof of the anchor with the item's digest
//! and Merkle path, which anyone checks offline against the chain's genesis.
//!
//! Modules:
//! - pure rules: [`tree`] (a batch's Merkle tree and every path), [`batch`] (when a batch
//!   closes, the sequence chain, the life of a batch that recovery follows);
//! - [`config`]: the TOML configuration with its built-in defaults;
//! - [`store`]: the SQLite schema, the writer's scripts and the reads;
//! - [`engine`]: the one writing task (group commit of digests, sealing, recording outcomes);
//! - [`submit`]: sends anchors to the chain in order and fetches proofs of final blocks;
//! - [`http`]: the API, its problem documents and OpenAPI document; [`client`]: a signed
//!   client; [`metrics`]: Prometheus.
//!
//! Crash safety: a batch is sealed (number, previous hash, root, the signed transaction with
//! its nonce, and every item's path) in one SQLite transaction before its transaction is sent;
//! on start every batch not final is resent with its stored bytes (the chain answers a
//! transaction it has already with its status), open digests wait for their batch again, and
//! the nonce counter continues after the highest stored. So a kill at any point loses no
//! acknowledged digest, anchors none twice and leaves no gap in a namespace's sequence.

pub mod batch;
pub mod client;
pub mod config;
pub mod engine;
pub mod http;
pub mod metrics;
pub mod store;
pub mod submit;
pub mod tree;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ledger_node::api::{ChainClient, ClientError};
use ledger_node::state::{AccountId, account_of};
use plumbing::{ConfigError, StoreError};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

pub use config::AnchorConfig;

/// Why the service cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration or the key file.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The chain node did not answer.
    #[error("chain node {url}")]
    Chain {
        /// Its URL.
        url: String,
        /// What failed.
        source: ClientError,
    },
    /// The TLS files.
    #[error("TLS: {0}")]
    Tls(#[from] tls::TlsError),
    /// The listener.
    #[error("listening on {addr}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why not.
        source: std::io::Error,
    },
}

/// A started service.
pub struct Running {
    /// Where the API listens.
    pub addr: SocketAddr,
    /// The HTTP server (spawn or await it).
    pub server: actix_web::dev::Server,
    /// The engine: ends with an error if the database fails.
    pub engine: JoinHandle<Result<(), StoreError>>,
    /// The service's chain account.
    pub account: AccountId,
    /// Batches recovered unfinished at start (resent).
    pub resent: usize,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("addr", &self.addr)
            .field("account", &self.account)
            .field("resent", &self.resent)
            .finish_non_exhaustive()
    }
}

fn unix_secs() -> i64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// Opens the database, resumes unfinished work and starts the engine, the submitter and the
/// API (within a Tokio runtime).
pub async fn start(config: AnchorConfig) -> Result<Running, StartError> {
    let key = config.chain_key()?;
    let account = account_of(&key);
    let url = config.chain.url.clone();
    let chain_err = |source| StartError::Chain {
        url: url.clone(),
        source,
    };
    let mut chain = ChainClient::new(&config.chain.url);
    if let Some(t) = &config.chain.tls {
        chain = chain.with_tls(t).map_err(chain_err)?;
    }
    let chain_id = chain.chain_id().await.map_err(chain_err)?;
    let chain_nonce = chain.account(&account).await.map_err(chain_err)?.nonce;
    let store = store::open(&config.database, config.durability).await?;
    let recovered = store::recover(&store.readers).await?;
    let resent = recovered.unfinished.len();
    tracing::info!(
        open = recovered.open.iter().map(|(_, items)| items.len()).sum::<usize>(),
        unfinished = resent,
        last_nonce = recovered.last_nonce,
        chain_nonce,
        "resuming"
    );
    let metrics = metrics::Metrics::new();
    let finality = Arc::new(Notify::new());
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let (cmd_tx, cmd_rx) = mpsc::channel(4096);
    let engine = engine::Engine::new(
        store.writer,
        config.batch.rule(),
        key,
        chain_id,
        chain_nonce,
        recovered,
        out_tx,
        metrics.clone(),
        Arc::clone(&finality),
    );
    let engine = tokio::spawn(engine.run(cmd_rx));
    tokio::spawn(submit::run(chain, out_rx, cmd_tx.clone()));
    let started = unix_secs();
    let state = http::AppState {
        submitters: config.submitters(),
        nonces: plugins::auth::NonceStore::started_at(config.auth_window_secs, started),
        auth_window_secs: config.auth_window_secs,
        clock: Box::new(unix_secs),
        max_body_bytes: config.max_body_bytes,
        max_digests: config.max_digests_per_request,
        engine: cmd_tx,
        readers: store.readers,
        metrics,
        finality,
    };
    let tls = tls::server_config(config.tls.as_ref())?;
    let (server, addr) = http::serve(state, config.listen, tls).map_err(|source| StartError::Listen {
        addr: config.listen,
        source,
    })?;
    Ok(Running {
        addr,
        server,
        engine,
        account,
        resent,
    })
}
