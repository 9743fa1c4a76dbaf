//! Building and starting a connector from its configuration: connect to every ledger, turn the
//! configured decimals into minor units with each ledger's scale, open the journal, recover,
//! follow the ledgers, watch liquidity, and serve the HTTP API.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use htlc::{Clock, Rate, money};
use plugins::chain::{ChainPlugin, ChainPluginConfig, signing_key_from_hex};
use plugins::{LedgerPlugin, PluginError, RestPlugin, RestPluginConfig};

use crate::LedgerId;
use crate::api::{self, ApiState};
use crate::config::{ChainLedgerSection, ConnectorConfig, LedgerKind, LedgerSection};
use crate::engine::{Connector, EngineOptions};
use crate::layers::limits::AccountLimits;
use crate::layers::pricing::{Pricing, PricingError};
use crate::layers::route::{NextHop, Route, RoutingTable};
use crate::store::{Store, StoreError};
use crate::switch::{LedgerEntry, SwitchTables};

/// Why a connector could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A ledger could not be reached or refused the connector's key.
    #[error("ledger {ledger}: {source}")]
    Ledger {
        /// Which.
        ledger: LedgerId,
        /// Why.
        source: PluginError,
    },
    /// A configured amount or rate is not valid for its ledger's asset.
    #[error("{0}")]
    Config(String),
    /// The journal could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The HTTP API could not bind.
    #[error("HTTP API: {0}")]
    Api(#[from] std::io::Error),
    /// The API's certificate or key could not be used.
    #[error("API TLS: {0}")]
    Tls(#[from] tls::TlsError),
}

/// A started connector.
pub struct RunningConnector {
    /// The engine.
    pub connector: Arc<Connector>,
    /// Where the HTTP API listens.
    pub api_addr: SocketAddr,
    /// `https` or `http`.
    pub scheme: &'static str,
    /// Where the token-free metrics listener listens, if configured.
    pub metrics_addr: Option<SocketAddr>,
    server: actix_web::dev::ServerHandle,
    metrics_server: Option<actix_web::dev::ServerHandle>,
}

impl std::fmt::Debug for RunningConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningConnector")
            .field("api_addr", &self.api_addr)
            .finish_non_exhaustive()
    }
}

impl RunningConnector {
    /// `https://localhost:<port>` (the name development certificates carry) or
    /// `http://<api_addr>`.
    pub fn base_url(&self) -> String {
        match self.scheme {
            "https" => format!("https://localhost:{}", self.api_addr.port()),
            _ => format!("http://{}", self.api_addr),
        }
    }

    /// Stops following the ledgers and the HTTP API.
    pub async fn stop(self) {
        self.connector.stop_following();
        if let Some(metrics) = self.metrics_server {
            metrics.stop(false).await;
        }
        self.server.stop(false).await;
    }
}

/// Connects to every configured ledger: over the REST plugin API, or to a chain node (whose
/// plugin then refunds the connector's expired escrows in the background).
pub async fn connect_ledgers(
    config: &ConnectorConfig,
    clock: Arc<dyn Clock>,
) -> Result<BTreeMap<LedgerId, Arc<dyn LedgerPlugin>>, StartError> {
    let mut ledgers: BTreeMap<LedgerId, Arc<dyn LedgerPlugin>> = BTreeMap::new();
    for section in &config.ledgers {
        let failed = |source| StartError::Ledger {
            ledger: section.id.clone(),
            source,
        };
        let plugin: Arc<dyn LedgerPlugin> = match (section.kind, &section.chain) {
            (LedgerKind::Chain, Some(chain)) => {
                let plugin = Arc::new(connect_chain(section, chain, &clock).await.map_err(failed)?);
                if plugin.account() != &section.account {
                    return Err(StartError::Config(format!(
                        "ledger {}: account {} is not the key's account {}",
                        section.id,
                        section.account,
                        plugin.account()
                    )));
                }
                plugin.spawn_refunder(Duration::from_millis(chain.refund_every_ms.max(100)));
                plugin
            }
            _ => {
                let mut plugin_config =
                    RestPluginConfig::new(&section.url, &section.key_id, section.key_secret.as_bytes());
                plugin_config.tls = section.tls.clone();
                Arc::new(
                    RestPlugin::connect_with_clock(plugin_config, Arc::clone(&clock))
                        .await
                        .map_err(failed)?,
                )
            }
        };
        ledgers.insert(section.id.clone(), plugin);
    }
    Ok(ledgers)
}

async fn connect_chain(
    section: &LedgerSection,
    chain: &ChainLedgerSection,
    clock: &Arc<dyn Clock>,
) -> Result<ChainPlugin, PluginError> {
    let config = ChainPluginConfig {
        node_url: section.url.clone(),
        key: signing_key_from_hex(&section.key_secret)?,
        asset: chain.asset.clone(),
        ledger_id: section.id.to_string(),
        ilp_prefix: chain.ilp_prefix.clone(),
        expected_finality_ms: chain.expected_finality_ms,
        finality_timeout: Duration::from_secs(30),
        tls: section.tls.clone(),
    };
    ChainPlugin::connect_with_clock(config, Arc::clone(clock)).await
}

/// The switching tables the configuration describes, given the ledgers' own descriptions.
pub fn build_tables(
    config: &ConnectorConfig,
    ledgers: &BTreeMap<LedgerId, Arc<dyn LedgerPlugin>>,
) -> Result<SwitchTables, StartError> {
    let invalid = |what: String| StartError::Config(what);
    let scale_of = |id: &LedgerId| ledgers.get(id).map(|p| p.info().asset.scale);
    let amount = |id: &LedgerId, text: &str| -> Result<u64, StartError> {
        let scale = scale_of(id).ok_or_else(|| invalid(format!("unknown ledger {id}")))?;
        money::parse_decimal(text, scale).map_err(|e| invalid(format!("{id}: amount {text:?}: {e}")))
    };
    let mut entries = BTreeMap::new();
    let mut routes = Vec::new();
    for section in &config.ledgers {
        let info = ledgers
            .get(&section.id)
            .map(|p| p.info().clone())
            .ok_or_else(|| invalid(format!("ledger {} not connected", section.id)))?;
        if section.route_prefix {
            routes.push(Route {
                prefix: info.ilp_prefix.to_string(),
                ledger: section.id.clone(),
                next_hop: NextHop::AccountFromAddress,
            });
        }
        entries.insert(
            section.id.clone(),
            LedgerEntry {
                info,
                account: section.account.clone(),
            },
        );
    }
    routes.extend(config.routes.iter().map(|r| {
        Route {
            prefix: r.prefix.clone(),
            ledger: r.ledger.clone(),
            next_hop: r
                .account
                .clone()
                .map_or(NextHop::AccountFromAddress, NextHop::Account),
        }
    }));
    let mut pricing = BTreeMap::new();
    for c in &config.corridors {
        let (from, to) = (
            scale_of(&c.from).unwrap_or_default(),
            scale_of(&c.to).unwrap_or_default(),
        );
        let rate = Rate::from_decimal(&c.rate, from, to)
            .map_err(|e| invalid(format!("corridor {} -> {}: rate {:?}: {e}", c.from, c.to, c.rate)))?;
        let price = Pricing::new(rate, amount(&c.from, &c.fee_fixed)?, c.fee_bps)
            .map_err(|e: PricingError| invalid(format!("corridor {} -> {}: {e}", c.from, c.to)))?;
        pricing.insert((c.from.clone(), c.to.clone()), price);
    }
    let mut limits = BTreeMap::new();
    let mut ledger_limits = BTreeMap::new();
    for l in &config.limits {
        let parsed = AccountLimits {
            max_packet_amount: l
                .max_packet_amount
                .as_deref()
                .map(|a| amount(&l.ledger, a))
                .transpose()?,
            exposure_limit: l
                .exposure_limit
                .as_deref()
                .map(|a| amount(&l.ledger, a))
                .transpose()?,
        };
        match &l.account {
            Some(account) => limits.insert((l.ledger.clone(), account.clone()), parsed),
            None => ledger_limits.insert(l.ledger.clone(), parsed),
        };
    }
    Ok(SwitchTables {
        address: config.connector.ilp_address.clone(),
        ledgers: entries,
        routes: RoutingTable::new(routes),
        pricing,
        limits,
        ledger_limits,
        default_limits: AccountLimits::default(),
        expiry: config.timeouts,
    })
}

/// Starts a connector: connects, recovers, follows the ledgers and serves the API.
pub async fn start(
    config: &ConnectorConfig,
    clock: Arc<dyn Clock>,
    options: EngineOptions,
) -> Result<RunningConnector, StartError> {
    let ledgers = connect_ledgers(config, Arc::clone(&clock)).await?;
    let tables = build_tables(config, &ledgers)?;
    let floors = liquidity_floors(config, &ledgers)?;
    let store = Store::open(&config.connector.database, config.connector.durability).await?;
    let connector = Connector::new(tables, ledgers, store, clock, options);
    connector.start().await?;
    tokio::spawn(watch_liquidity(
        Arc::clone(&connector),
        floors,
        Duration::from_secs(config.connector.liquidity_check_secs.max(1)),
    ));
    let state = ApiState {
        connector: Arc::clone(&connector),
        operator_token: config.api.operator_token.clone(),
        quote_policy: config.quotes,
    };
    let (metrics_addr, metrics_server) = match config.api.metrics_listen {
        Some(listen) => {
            let (server, addr) = api::serve_metrics(state.clone(), listen)?;
            let handle = server.handle();
            tokio::spawn(server);
            tracing::info!(metrics_addr = %addr, "metrics listener running (no token)");
            (Some(addr), Some(handle))
        }
        None => (None, None),
    };
    let tls = tls::server_config(config.api.tls.as_ref())?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let (server, api_addr) = api::serve(state, config.api.listen, config.api.max_body_bytes, tls)?;
    let handle = server.handle();
    tokio::spawn(server);
    tracing::info!(%api_addr, scheme, address = %config.connector.ilp_address, "connector running");
    if scheme == "http" {
        tracing::warn!(%api_addr, "API on plain HTTP (api.plain_http = true): the operator token travels unencrypted");
    }
    Ok(RunningConnector {
        connector,
        api_addr,
        scheme,
        metrics_addr,
        server: handle,
        metrics_server,
    })
}

fn liquidity_floors(
    config: &ConnectorConfig,
    ledgers: &BTreeMap<LedgerId, Arc<dyn LedgerPlugin>>,
) -> Result<BTreeMap<LedgerId, u64>, StartError> {
    let mut floors = BTreeMap::new();
    for section in &config.ledgers {
        if let (Some(text), Some(plugin)) = (&section.liquidity_floor, ledgers.get(&section.id)) {
            let floor = money::parse_decimal(text, plugin.info().asset.scale)
                .map_err(|e| StartError::Config(format!("{}: liquidity_floor {text:?}: {e}", section.id)))?;
            floors.insert(section.id.clone(), floor);
        }
    }
    Ok(floors)
}

/// Polls each ledger account's balance, publishes it as a metric, and raises an alert (a
/// warning log and a counter) each time it falls below its floor.
async fn watch_liquidity(connector: Arc<Connector>, floors: BTreeMap<LedgerId, u64>, every: Duration) {
    let mut below: BTreeMap<LedgerId, bool> = BTreeMap::new();
    loop {
        let tables = connector.tables();
        for (id, entry) in &tables.ledgers {
            let Some(plugin) = connector.ledger(id) else {
                continue;
            };
            let Ok(balance) = plugin.balance(&entry.account).await else {
                continue;
            };
            let available = i64::try_from(balance.available).unwrap_or(i64::MAX);
            connector
                .metrics()
                .liquidity
                .with_label_values(&[id.as_str()])
                .set(available);
            let Some(floor) = floors.get(id) else { continue };
            let is_below = balance.available < i128::from(*floor);
            if is_below && !below.get(id).copied().unwrap_or(false) {
                tracing::warn!(ledger = %id, available = balance.available, floor, "liquidity below floor");
                connector
                    .metrics()
                    .liquidity_alerts
                    .with_label_values(&[id.as_str()])
                    .inc();
            }
            below.insert(id.clone(), is_below);
        }
        tokio::time::sleep(every).await;
    }
}
