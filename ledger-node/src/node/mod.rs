//! The node process (feature `node`): one validator, or a non-voting full node, of the committee
//! chain. [`start`] wires the pieces and returns once they run:
//!
//! - [`config`]: the configuration and genesis files;
//! - [`store`]: SQLite (blocks, certificates, transactions, state, events, the safety record);
//! - [`frame`], [`handshake`], [`peers`]: authenticated TCP links with bounded per-peer queues;
//! - [`warm`]: the thread that checks gossiped transactions' signatures in batches, then
//!   hands them to the driver;
//! - [`driver`]: the consensus thread (the sans-IO core, timers, commits, catching up);
//! - [`writer`]: group commits to SQLite and notifications;
//! - [`http`]: the HTTP API (see `docs/openapi/chain-api.json`), with [`metrics`]; what it
//!   takes goes through [`admission`] (rate limits from [`limits`], signatures, the state's
//!   [`crate::state::admission`]), and clients waiting for a final status through [`waiters`];
//! - [`local`]: a whole committee inside one process (the demo network, tests).
//!
//! Data flow: frames are decoded and verified on the network tasks (certificates checked, a
//! proposal's unknown transaction signatures batch-verified into a shared cache; gossiped
//! transactions take a detour through [`warm`], which verifies them in larger batches), then
//! handed to the driver, which runs the core and the state machine; committed blocks go to
//! the writer, whose commit makes transactions "final" for the API.

pub mod admission;
pub mod config;
pub mod driver;
pub mod frame;
pub mod handshake;
pub mod http;
pub mod limits;
pub mod local;
pub mod metrics;
pub mod peers;
pub mod store;
pub mod waiters;
pub mod warm;
pub mod writer;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot, watch};

use crate::committee::Committee;
use crate::consensus::core::Config;
use crate::consensus::mempool::{Mempool, MempoolConfig};
use crate::consensus::messages::VerifiedMessage;
use crate::consensus::pacemaker::PacemakerConfig;
use crate::crypto::KeyPair;
use crate::genesis::Genesis;
use crate::state::exec::genesis_state_root;
use crate::state::{Ledger, SigCache};
use crate::types::QuorumCert;

pub use config::{AdmissionLimits, ConfigError, GenesisFile, NodeConfig, chain_id};

/// What the driver is fed.
// Inputs move once through a channel; boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum DriverInput {
    /// A verified message from a validator.
    Message(VerifiedMessage),
    /// A client transaction (already decoded and signature-checked by the API).
    Submit(Vec<u8>),
}

/// The last persisted commit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Committed {
    /// Height.
    pub height: u64,
    /// State root after it.
    pub state_root: [u8; 32],
    /// Cursor of the last event.
    pub last_event: u64,
}

/// State shared by the network tasks, the driver, the writer and the API.
pub struct Shared {
    /// Chain id.
    pub chain_id: [u8; 32],
    /// The genesis.
    pub genesis: Genesis,
    /// The committee (with its shared certificate cache).
    pub committee: Committee,
    /// Our validator index and key (none for a full node).
    pub identity: Option<(u16, KeyPair)>,
    /// Signature verdicts.
    pub sigs: Arc<SigCache>,
    /// Checks gossiped transactions into `sigs`, then hands them to the driver.
    pub warmer: warm::Warmer,
    /// Database reads.
    pub reader: store::Reader,
    /// Links to validators.
    pub peers: peers::Peers,
    /// What carries them: mutual TLS or plain TCP.
    pub transport: peers::Transport,
    /// Into the driver.
    pub inbox: mpsc::Sender<DriverInput>,
    /// Catch-up replies into the driver.
    pub sync_tx: mpsc::UnboundedSender<driver::SyncReply>,
    /// The last persisted commit.
    pub committed: watch::Sender<Committed>,
    /// Transactions someone waits on, until final.
    pub waiters: Mutex<HashMap<[u8; 32], Vec<oneshot::Sender<crate::api::types::TxStatus>>>>,
    /// Transactions accepted here and not yet committed (with acceptance time, ms).
    pub pending: Mutex<HashMap<[u8; 32], u64>>,
    /// Current view (for status).
    pub view: AtomicU64,
    /// Mempool size (for status).
    pub mempool: AtomicU64,
    /// Whether catching up.
    pub catching_up: AtomicBool,
    /// Metrics.
    pub metrics: metrics::Metrics,
    /// Submission rate limits per client address and per signing account.
    pub limits: Mutex<limits::RateLimits>,
    /// The node's time: the wall clock in production; tests move it to reach expiries.
    pub clock: Arc<dyn htlc::Clock>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("validator", &self.identity.as_ref().map(|(i, _)| *i))
            .finish()
    }
}

/// A running node.
pub struct NodeHandle {
    /// Shared state.
    pub shared: Arc<Shared>,
    /// Where the API listens.
    pub api_addr: SocketAddr,
    /// Where peers connect.
    pub p2p_addr: SocketAddr,
    /// The API server (await it, or stop it).
    pub server: actix_web::dev::Server,
}

impl std::fmt::Debug for NodeHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeHandle")
            .field("api_addr", &self.api_addr)
            .field("p2p_addr", &self.p2p_addr)
            .finish()
    }
}

/// Why the node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Storage.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// Committee formation.
    #[error("genesis: {0}")]
    Genesis(#[from] crate::Error),
    /// Binding a socket.
    #[error("binding {addr}: {source}")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Starting a thread (the consensus thread, the signature checker).
    #[error("starting a thread: {0}")]
    Thread(std::io::Error),
    /// The API's certificate or key could not be used.
    #[error("API TLS: {0}")]
    Tls(#[from] tls::TlsError),
}

fn core_config(c: &NodeConfig) -> Config {
    let t = &c.consensus;
    Config {
        pacemaker: PacemakerConfig {
            base_timeout_ms: t.base_timeout_ms,
            ..PacemakerConfig::default()
        },
        mempool: MempoolConfig {
            max_pending: t.mempool_max,
            ..MempoolConfig::default()
        },
        max_block_txs: t.max_block_txs,
        batch_delay_ms: t.batch_delay_ms,
        idle_delay_ms: t.idle_delay_ms,
        retain_committed_blocks: t.retain_committed_blocks,
        ..Config::default()
    }
}

/// Starts a node from its configuration: opens storage, loads the state, binds the sockets,
/// starts the links, the consensus thread, the writer and the API.
pub async fn start(config: NodeConfig) -> Result<NodeHandle, StartError> {
    start_with_clock(config, Arc::new(htlc::SystemClock)).await
}

/// [`start`] with the time source the consensus thread uses for block timestamps and timers.
/// Every validator of a committee must read the same time (block timestamps more than
/// `max_clock_skew_ms` ahead of a validator's clock are refused), so tests that jump over
/// expiries give all of them one shared [`htlc::OffsetClock`].
pub async fn start_with_clock(
    config: NodeConfig,
    clock: Arc<dyn htlc::Clock>,
) -> Result<NodeHandle, StartError> {
    let genesis = GenesisFile::load(&config.genesis)?;
    let committee = genesis.committee()?;
    let chain_id = chain_id(&genesis);
    let key = match &config.validator {
        Some(v) => {
            let k = config::load_key(&v.key_file)?;
            if committee.public_key(v.index) != Some(k.public()) {
                return Err(ConfigError::Invalid(format!(
                    "validator.key_file does not hold the key of member {} in the genesis",
                    v.index
                ))
                .into());
            }
            Some((v.index, k))
        }
        None => None,
    };
    let db_path = config.database_path();
    let mut store = store::Store::open(&db_path).await?;
    let loaded = store.load(&chain_id).await?;
    let core_config = core_config(&config);
    // A validator must go on refusing what was committed before it stopped, as the others do.
    let mempool = match key {
        Some(_) => {
            let recent = store
                .recent_tx_ids(core_config.mempool.remember_committed)
                .await?;
            Some(Mempool::recovered(core_config.mempool.clone(), &recent))
        }
        None => None,
    };
    let genesis_block = genesis.block(&committee, genesis_state_root(&chain_id));
    let last = loaded.last.clone().unwrap_or_else(|| {
        let qc = QuorumCert::genesis(committee.epoch(), genesis_block.hash(), committee.size());
        (genesis_block.clone(), qc)
    });
    let sigs = Arc::new(SigCache::new(config.consensus.mempool_max.max(100_000) * 2));
    let ledger = Arc::new(Mutex::new(Ledger::new(
        chain_id,
        genesis.params,
        loaded.state,
        last.0.hash(),
        sigs.clone(),
    )));

    let (inbox_tx, inbox_rx) = mpsc::channel(65_536);
    let (sync_tx, sync_rx) = mpsc::unbounded_channel();
    let (commit_tx, commit_rx) = mpsc::unbounded_channel();
    let (committed, _) = watch::channel(Committed {
        height: last.0.height(),
        state_root: last.0.header().state_root,
        last_event: loaded.next_event.saturating_sub(1),
    });
    let metrics = metrics::Metrics::new();
    metrics.height.set(metrics::gauge_value(last.0.height()));
    let shared = Arc::new(Shared {
        chain_id,
        genesis,
        committee: committee.clone(),
        identity: key.clone(),
        warmer: warm::Warmer::start(sigs.clone(), inbox_tx.clone()).map_err(StartError::Thread)?,
        sigs,
        reader: store.reader(),
        peers: peers::Peers::default(),
        transport: peers::Transport::new(config.peer_tls.as_ref())?,
        inbox: inbox_tx,
        sync_tx,
        committed,
        waiters: Mutex::new(HashMap::new()),
        pending: Mutex::new(HashMap::new()),
        view: AtomicU64::new(0),
        mempool: AtomicU64::new(0),
        catching_up: AtomicBool::new(true),
        metrics,
        limits: Mutex::new(limits::RateLimits::new(&config.limits)),
        clock,
    });

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
    let p2p_addr = listener.local_addr().unwrap_or(config.listen);
    tokio::spawn(peers::listen(listener, shared.clone()));
    let my_index = key.as_ref().map(|(i, _)| *i);
    for p in &config.peers {
        // One connection per pair: the lower index dials; a full node dials everyone.
        if my_index.is_none_or(|me| p.index > me) {
            tokio::spawn(peers::dial(p.index, p.address, shared.clone()));
        }
    }
    tokio::spawn(writer::run(store, commit_rx, shared.clone()));
    tokio::spawn(checkpoints(shared.reader.clone()));

    let api_tls = tls::server_config(config.api_tls.as_ref())?;
    let (server, api_addr) =
        http::server(shared.clone(), config.api, api_tls).map_err(|source| StartError::Bind {
            addr: config.api,
            source,
        })?;

    let waits = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
    let driver = driver::Driver {
        shared: shared.clone(),
        rt: tokio::runtime::Handle::current(),
        waits,
        config: core_config,
        key: key.map(|(_, k)| k),
        safety_path: config.safety_path(),
        ledger,
        inbox: inbox_rx,
        sync_rx,
        commits: commit_tx,
        last,
        core: None,
        mempool,
        timers: Default::default(),
        timer_seq: 0,
        far_behind: false,
        probe: None,
        sync_turn: my_index.map_or(0, usize::from),
    };
    std::thread::Builder::new()
        .name("consensus".into())
        .spawn(move || driver.run())
        .map_err(StartError::Thread)?;
    Ok(NodeHandle {
        shared,
        api_addr,
        p2p_addr,
        server,
    })
}

/// Keeps the WAL short by copying pages back into the database in the background.
async fn checkpoints(reader: store::Reader) {
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let _ = reader.checkpoint().await;
    }
}
