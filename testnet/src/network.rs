//! The whitepaper's network on one machine, in one process: a digital-euro ledger and an e-CNY
//! ledger (the CBDC ledgers of `mock-ledgers`, with their fixture accounts), the clearing bank's
//! connector between them, Bank B's receiver on e-CNY and Bank A paying from its digital-euro
//! account. Every part is the real service on a real 127.0.0.1 port (chosen free), with SQLite
//! files in a given directory, speaking HTTPS with throwaway certificates made in that
//! directory ([`dev_certs`]). The demo, the end-to-end tests and the benchmark start it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use htlc::{Asset, Clock};
use mock_ledgers::config::{LedgerConfig, fixtures};
use mock_ledgers::server::{self, RunningLedger};
use plugins::{AccountId, LedgerPlugin, RestPlugin, RestPluginConfig};
use tls::dev::DevCerts;

use connector::LedgerId;
use connector::config::ConnectorConfig;
use connector::engine::EngineOptions;
use connector::receiver::{Receiver, ReceiverSeed, http as receiver_http};
use connector::runtime::{self, RunningConnector, StartError};
use connector::sender::Payer;
use connector::store::{Durability, Store};

/// How long a stop waits for one part's servers and tasks.
const STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs one part's stop, giving up after [`STOP_WAIT`]: a stop once hung in CI (2026-12-05,
/// after every payment had finished, with both ledgers' servers still accepting; cause not
/// found), and a network that cannot stop must not hold its caller. The runtime's shutdown
/// takes down whatever is left.
pub(crate) async fn stop_within(part: &str, stop: impl std::future::Future<Output = ()>) {
    if tokio::time::timeout(STOP_WAIT, stop).await.is_err() {
        tracing::warn!(
            part,
            wait_s = STOP_WAIT.as_secs(),
            "did not stop in time; left to the runtime's shutdown"
        );
    }
}

/// Stops a ledger's server and background tasks, within [`STOP_WAIT`]. Not graceful: idle long
/// polls would hold a graceful stop for their full wait.
pub(crate) async fn stop_ledger(id: &str, ledger: RunningLedger) {
    stop_within(id, async {
        ledger.stop_handle().stop(false).await;
        let _ = ledger.wait().await;
    })
    .await;
}

/// The connector configuration the demo network uses (fixtures/connector.toml).
pub const CONNECTOR_FIXTURE: &str = include_str!("../../fixtures/connector.toml");

/// Why the network did not start.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// A ledger configuration or server failed.
    #[error("ledger: {0}")]
    Ledger(String),
    /// The connector failed to start.
    #[error("connector: {0}")]
    Connector(#[from] StartError),
    /// A client could not connect.
    #[error("client: {0}")]
    Client(#[from] plugins::PluginError),
    /// The development certificates could not be made or used.
    #[error("TLS: {0}")]
    Tls(#[from] tls::TlsError),
}

/// Throwaway certificates for the network under `dir` (in `dir/certs`): every server presents
/// the server certificate, every client trusts the CA.
pub fn dev_certs(dir: &Path) -> Result<DevCerts, NetworkError> {
    Ok(tls::dev::generate(&dir.join("certs"), &[])?)
}

/// The URL a client uses for a TLS server on `addr` (the name the certificates carry).
pub fn https_url(addr: SocketAddr) -> String {
    format!("https://localhost:{}", addr.port())
}

/// Choices for [`LocalNetwork::start`].
#[derive(Debug, Clone)]
pub struct NetworkOptions {
    /// Engine tuning (and, in debug builds, crash points).
    pub engine: EngineOptions,
    /// Start Bank B's receiver (false = the receiver is offline).
    pub receiver_online: bool,
    /// fsync policy of every SQLite file.
    pub durability: Durability,
}

impl Default for NetworkOptions {
    fn default() -> Self {
        NetworkOptions {
            engine: EngineOptions::default(),
            receiver_online: true,
            durability: Durability::Full,
        }
    }
}

/// One account's balance, for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountBalance {
    /// Ledger.
    pub ledger: LedgerId,
    /// Account.
    pub account: AccountId,
    /// Its holder.
    pub name: String,
    /// The ledger's asset.
    pub asset: Asset,
    /// Available, minor units.
    pub available: i128,
    /// Locked in escrows, minor units.
    pub held: u64,
}

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// A ledger fixture with a free port, TLS with `certs` and its database under `dir`.
pub fn ledger_config(
    fixture: &str,
    dir: &Path,
    durability: Durability,
    certs: &DevCerts,
) -> Result<LedgerConfig, NetworkError> {
    let mut config = LedgerConfig::from_toml(fixture).map_err(|e| NetworkError::Ledger(e.to_string()))?;
    config.server.listen = any_port();
    config.server.tls = Some(certs.server());
    config.server.plain_http = false;
    config.server.database = Some(dir.join(format!("{}.sqlite", config.info.ledger_id)));
    config.server.durability = match durability {
        Durability::Full => mock_ledgers::config::Durability::Full,
        Durability::Normal => mock_ledgers::config::Durability::Normal,
    };
    Ok(config)
}

/// The connector fixture pointed at the given ledgers (HTTPS, trusting `certs`' CA), with a
/// free port for its API (HTTPS with `certs`) and its journal in `dir`.
pub fn connector_config(
    digital_euro: SocketAddr,
    e_cny: SocketAddr,
    dir: &Path,
    durability: Durability,
    certs: &DevCerts,
) -> ConnectorConfig {
    let mut config = ConnectorConfig::from_toml(CONNECTOR_FIXTURE).expect("the connector fixture is valid");
    config.connector.database = dir.join("connector.sqlite");
    config.connector.durability = durability;
    serve_api_with(&mut config, certs);
    for ledger in &mut config.ledgers {
        let addr = if ledger.id.as_str() == "digital-euro" {
            digital_euro
        } else {
            e_cny
        };
        ledger.url = https_url(addr);
        ledger.tls = Some(certs.client());
    }
    config
}

/// Points the connector's API at a free port, over HTTPS with `certs`.
pub fn serve_api_with(config: &mut ConnectorConfig, certs: &DevCerts) {
    config.api.listen = any_port();
    config.api.tls = Some(certs.server());
    config.api.plain_http = false;
}

/// A ledger's clients, one per participant (e.g. `bank-a`), each signing with its key.
pub(crate) type ParticipantClients = BTreeMap<String, Arc<RestPlugin>>;

/// A client of the ledger at `addr` for each key in `config`, trusting `certs`' CA.
async fn ledger_readers(
    config: &LedgerConfig,
    addr: SocketAddr,
    clock: &Arc<dyn Clock>,
    certs: &DevCerts,
) -> Result<ParticipantClients, NetworkError> {
    let mut readers = BTreeMap::new();
    for (key_id, key) in &config.keys {
        let mut plugin_config = RestPluginConfig::new(https_url(addr), key_id, key.secret.clone());
        plugin_config.tls = Some(certs.client());
        let reader = RestPlugin::connect_with_clock(plugin_config, Arc::clone(clock)).await?;
        readers.insert(key.participant.clone(), Arc::new(reader));
    }
    Ok(readers)
}

/// Starts the ledger of `fixture` as [`ledger_config`] sets it up, with its participants'
/// clients.
pub(crate) async fn start_ledger(
    fixture: &str,
    dir: &Path,
    durability: Durability,
    certs: &DevCerts,
    clock: &Arc<dyn Clock>,
) -> Result<(LedgerConfig, RunningLedger, ParticipantClients), NetworkError> {
    let config = ledger_config(fixture, dir, durability, certs)?;
    let running = server::run_with_clock(config.clone(), Arc::clone(clock))
        .await
        .map_err(|e| NetworkError::Ledger(e.to_string()))?;
    let readers = ledger_readers(&config, running.addr(), clock, certs).await?;
    Ok((config, running, readers))
}

/// Bank A paying from its digital-euro account with `bank_a` (its digital-euro client) through
/// the connector API at `connector_url`, trusting `certs`' CA.
pub(crate) fn bank_a_payer(
    bank_a: Option<Arc<RestPlugin>>,
    connector_url: &str,
    clock: Arc<dyn Clock>,
    certs: &DevCerts,
) -> Result<Payer, NetworkError> {
    let bank_a = bank_a.ok_or_else(|| NetworkError::Ledger("no bank-a key on digital-euro".into()))?;
    Ok(Payer::new(
        bank_a,
        LedgerId::new("digital-euro"),
        AccountId::new("bank-a")?,
        connector_url,
        clock,
    )
    .with_tls(&certs.client())?)
}

/// The balance of every account in `config`, each read with its owner's client.
pub(crate) async fn ledger_balances(
    config: &LedgerConfig,
    readers: &ParticipantClients,
) -> Result<Vec<AccountBalance>, NetworkError> {
    let ledger = LedgerId::new(config.info.ledger_id.clone());
    let mut out = Vec::new();
    for account in config.accounts.iter().map(|a| &a.terms) {
        let Some(reader) = readers.get(&account.owner) else {
            continue;
        };
        let balance = reader.balance(&account.id).await?;
        out.push(AccountBalance {
            ledger: ledger.clone(),
            account: account.id.clone(),
            name: account.name.clone(),
            asset: config.info.asset.clone(),
            available: balance.available,
            held: balance.held,
        });
    }
    Ok(out)
}

/// Bank B's receiver: its setup endpoint serving, and following its ledger when `online`.
pub(crate) struct BankB {
    pub(crate) receiver: Arc<Receiver>,
    /// `.../.well-known/pay`.
    pub(crate) url: String,
    pub(crate) tasks: Vec<tokio::task::JoinHandle<()>>,
    pub(crate) server: actix_web::dev::ServerHandle,
}

impl BankB {
    /// Starts Bank B's receiver for `account` on `plugin`'s ledger, its journal under `dir`,
    /// its setup API on HTTPS with `certs`.
    pub(crate) async fn start(
        plugin: Arc<dyn LedgerPlugin>,
        account: AccountId,
        dir: &Path,
        durability: Durability,
        clock: Arc<dyn Clock>,
        online: bool,
        certs: &DevCerts,
    ) -> Result<BankB, NetworkError> {
        let failed = |e: &dyn std::fmt::Display| NetworkError::Ledger(format!("Bank B's receiver: {e}"));
        let store = Store::open(&dir.join("bank-b-receiver.sqlite"), durability)
            .await
            .map_err(|e| failed(&e))?;
        let receiver =
            Receiver::new(plugin, account, ReceiverSeed::random(), store, clock).map_err(|e| failed(&e))?;
        if online {
            // Fix the starting point before any payer can set up a payment.
            receiver.starting_cursor().await.map_err(|e| failed(&e))?;
        }
        let tls = certs.server().server_config()?;
        let (server, addr) =
            receiver_http::serve(Arc::clone(&receiver), any_port(), tls).map_err(|e| failed(&e))?;
        let handle = server.handle();
        let mut tasks = vec![tokio::spawn(async move {
            let _ = server.await;
        })];
        if online {
            let running = Arc::clone(&receiver);
            tasks.push(tokio::spawn(async move {
                if let Err(error) = running.run().await {
                    tracing::error!(%error, "receiver stopped");
                }
            }));
        }
        Ok(BankB {
            receiver,
            url: format!("{}/.well-known/pay", https_url(addr)),
            tasks,
            server: handle,
        })
    }

    /// Stops the receiver's tasks and server.
    pub(crate) async fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
        self.server.stop(false).await;
    }
}

/// The two CBDC ledgers with Bank A and Bank B on them, Bank B's receiver running (or not):
/// everything but the connector. Dropping it stops nothing; call [`Ledgers::stop`].
pub struct Ledgers {
    /// The clock every part reads.
    pub clock: Arc<dyn Clock>,
    /// The digital-euro ledger.
    pub digital_euro: RunningLedger,
    /// The e-CNY ledger.
    pub e_cny: RunningLedger,
    /// Bank B's receiver on e-CNY.
    pub receiver: Arc<Receiver>,
    /// Bank B's setup URL (`.../.well-known/pay`).
    pub receiver_url: String,
    /// Where the SQLite files are.
    pub dir: PathBuf,
    /// The certificates every part uses (under `dir/certs`).
    pub certs: DevCerts,
    durability: Durability,
    /// Per ledger: its configuration and a client per participant.
    ledgers: BTreeMap<LedgerId, (LedgerConfig, ParticipantClients)>,
    bank_b: BankB,
}

impl std::fmt::Debug for Ledgers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledgers")
            .field("digital_euro", &self.digital_euro.addr())
            .field("e_cny", &self.e_cny.addr())
            .field("receiver", &self.receiver_url)
            .finish_non_exhaustive()
    }
}

impl Ledgers {
    /// Starts both ledgers and Bank B's receiver, with files under `dir`.
    pub async fn start(
        dir: &Path,
        clock: Arc<dyn Clock>,
        receiver_online: bool,
        durability: Durability,
    ) -> Result<Self, NetworkError> {
        let certs = dev_certs(dir)?;
        let (de_config, digital_euro, de_readers) =
            start_ledger(fixtures::DIGITAL_EURO, dir, durability, &certs, &clock).await?;
        let (ecny_config, e_cny, ecny_readers) =
            start_ledger(fixtures::E_CNY, dir, durability, &certs, &clock).await?;
        let ledgers: BTreeMap<_, _> = [(de_config, de_readers), (ecny_config, ecny_readers)]
            .into_iter()
            .map(|(config, readers)| (LedgerId::new(config.info.ledger_id.clone()), (config, readers)))
            .collect();
        let bank_b_plugin = ledgers
            .get(&LedgerId::new("e-cny"))
            .and_then(|(_, readers)| readers.get("bank-b").cloned())
            .ok_or_else(|| NetworkError::Ledger("no bank-b key on e-cny".into()))?;
        let bank_b = BankB::start(
            bank_b_plugin,
            AccountId::new("bank-b")?,
            dir,
            durability,
            Arc::clone(&clock),
            receiver_online,
            &certs,
        )
        .await?;
        Ok(Ledgers {
            clock,
            digital_euro,
            e_cny,
            receiver: Arc::clone(&bank_b.receiver),
            receiver_url: bank_b.url.clone(),
            dir: dir.to_owned(),
            certs,
            durability,
            ledgers,
            bank_b,
        })
    }

    /// The running ledger called `id`.
    pub fn ledger(&self, id: &str) -> Option<&RunningLedger> {
        match id {
            "digital-euro" => Some(&self.digital_euro),
            "e-cny" => Some(&self.e_cny),
            _ => None,
        }
    }

    /// The connector fixture pointed at these ledgers, with its journal under the same dir.
    pub fn connector_config(&self) -> ConnectorConfig {
        connector_config(
            self.digital_euro.addr(),
            self.e_cny.addr(),
            &self.dir,
            self.durability,
            &self.certs,
        )
    }

    /// An HTTP client trusting the network's CA, for calling its HTTPS APIs directly.
    pub fn https_client(&self) -> Result<reqwest::Client, NetworkError> {
        Ok(plugins::client::tls_http_client(
            std::time::Duration::from_secs(30),
            &self.certs.client(),
        )?)
    }

    /// A client of ledger `ledger` signing as `participant` (e.g. `bank-a`).
    pub fn client(&self, ledger: &str, participant: &str) -> Option<Arc<RestPlugin>> {
        self.ledgers
            .get(&LedgerId::new(ledger))
            .and_then(|(_, readers)| readers.get(participant).cloned())
    }

    /// Bank A paying from its digital-euro account through the connector API at `connector_url`.
    pub fn payer(&self, connector_url: &str) -> Result<Payer, NetworkError> {
        bank_a_payer(
            self.client("digital-euro", "bank-a"),
            connector_url,
            Arc::clone(&self.clock),
            &self.certs,
        )
    }

    /// Every account on both ledgers, read with its owner's key.
    pub async fn balances(&self) -> Result<Vec<AccountBalance>, NetworkError> {
        let mut out = Vec::new();
        for (config, readers) in self.ledgers.values() {
            out.extend(ledger_balances(config, readers).await?);
        }
        Ok(out)
    }

    /// Stops every server and task.
    pub async fn stop(self) {
        stop_within("Bank B's receiver", self.bank_b.stop()).await;
        stop_ledger("digital-euro", self.digital_euro).await;
        stop_ledger("e-cny", self.e_cny).await;
    }
}

/// [`Ledgers`] plus the clearing bank's connector, in process, and Bank A's payer using it.
pub struct LocalNetwork {
    /// Ledgers, Bank B's receiver.
    pub ledgers: Ledgers,
    /// The clearing bank's connector.
    pub connector: RunningConnector,
    /// Bank A paying from its digital-euro account.
    pub payer: Payer,
    /// The connector configuration in use (with the real ports).
    pub connector_config: ConnectorConfig,
}

impl std::fmt::Debug for LocalNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalNetwork")
            .field("ledgers", &self.ledgers)
            .field("connector", &self.connector.api_addr)
            .finish_non_exhaustive()
    }
}

impl LocalNetwork {
    /// Starts everything with its files under `dir`.
    pub async fn start(
        dir: &Path,
        clock: Arc<dyn Clock>,
        options: NetworkOptions,
    ) -> Result<Self, NetworkError> {
        let ledgers = Ledgers::start(
            dir,
            Arc::clone(&clock),
            options.receiver_online,
            options.durability,
        )
        .await?;
        let connector_config = ledgers.connector_config();
        let connector = runtime::start(&connector_config, clock, options.engine.clone()).await?;
        let payer = ledgers.payer(&connector.base_url())?;
        Ok(LocalNetwork {
            ledgers,
            connector,
            payer,
            connector_config,
        })
    }

    /// Every account on both ledgers.
    pub async fn balances(&self) -> Result<Vec<AccountBalance>, NetworkError> {
        self.ledgers.balances().await
    }

    /// Stops every server and task.
    pub async fn stop(self) {
        stop_within("the connector", self.connector.stop()).await;
        self.ledgers.stop().await;
    }
}
