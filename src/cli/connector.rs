//! `cypherlink connector`: runs a clearing bank's connector until Ctrl-C or SIGTERM. On start it
//! recovers every unfinished payment from its journal and resumes each ledger's events from the
//! saved cursor, so a restart after a crash finishes what was in flight.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use connector::config::ConnectorConfig;
#[cfg(debug_assertions)]
use connector::engine::CrashPoint;
use connector::engine::EngineOptions;
use htlc::{Clock, SystemClock};

/// `cypherlink connector` arguments.
#[derive(Debug, Args)]
pub struct ConnectorArgs {
    /// Connector configuration (TOML): its ILP address, the ledgers and keys, corridors (rates
    /// and fees), limits and timeouts. Default: fixtures/connector.toml (or its built-in copy).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Serve the API on this address instead of the configured one (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Use this SQLite journal instead of the configured one.
    #[arg(long, value_name = "FILE")]
    pub database: Option<PathBuf>,
    /// HTTPS for the API instead of what the configuration says.
    #[command(flatten)]
    pub tls: super::TlsListenArgs,
    /// Freeze at this step of the first payment that reaches it (recovery tests only; not in
    /// release builds).
    #[cfg(debug_assertions)]
    #[arg(long, env = "CYPHERLINK_CRASH_AT", hide = true)]
    pub crash_at: Option<String>,
}

/// Runs the connector.
pub fn run(args: ConnectorArgs) -> anyhow::Result<()> {
    super::init_tracing("info");
    let mut config = match &args.config {
        Some(path) => ConnectorConfig::from_file(path).map_err(|e| super::InputError(e.to_string()))?,
        None => match ConnectorConfig::from_file(std::path::Path::new("fixtures/connector.toml")) {
            Ok(c) => c,
            Err(_) => ConnectorConfig::from_toml(testnet::network::CONNECTOR_FIXTURE)
                .map_err(|e| super::InputError(e.to_string()))?,
        },
    };
    if let Some(listen) = args.listen {
        config.api.listen = listen;
    }
    if let Some(database) = args.database {
        config.connector.database = database;
    }
    if let Some(tls) = args.tls.server_tls() {
        config.api.tls = Some(tls);
        config.api.plain_http = false;
    }
    let options = EngineOptions {
        #[cfg(debug_assertions)]
        crash_at: args
            .crash_at
            .as_deref()
            .map(|p| p.parse::<CrashPoint>().map_err(super::InputError))
            .transpose()?,
        ..EngineOptions::default()
    };
    super::runtime()?.block_on(async move {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let running = connector::runtime::start(&config, clock, options)
            .await
            .context("starting the connector")?;
        super::print_line(&format!(
            "connector {} listening on {} (journal {})",
            config.connector.ilp_address,
            running.base_url(),
            config.connector.database.display()
        ))?;
        let engine = Arc::clone(&running.connector);
        let halted = tokio::select! {
            _ = super::shutdown_signal() => None,
            reason = engine.halted() => Some(reason),
        };
        running.stop().await;
        match halted {
            None => Ok(()),
            Some(reason) => Err(anyhow::anyhow!(
                "the connector halted: {reason}; restart it to recover"
            )),
        }
    })
}
