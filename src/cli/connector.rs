//! `cypherlink connector`: runs a clearing bank's connector until Ctrl-C or SIGTERM. On start it
//! recovers every unfinished payment from its journal and resumes each ledger's events from the
//! saved cursor, so a restart after a crash finishes what was in flight.

use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use connector::config::ConnectorConfig;
#[cfg(debug_assertions)]
use connector::engine::CrashPoint;
use connector::engine::EngineOptions;
use htlc::{Clock, SystemClock};

use super::{ServeArgs, ServeHelp};

/// `cypherlink connector` arguments.
#[derive(Debug, Args)]
pub(crate) struct ConnectorArgs {
    /// Its configuration file, and the API's listener and the journal.
    #[command(flatten)]
    pub serve: ServeArgs<ConnectorHelp>,
    /// Freeze at this step of the first payment that reaches it (recovery tests only; not in
    /// release builds).
    #[cfg(debug_assertions)]
    #[arg(long, env = "CYPHERLINK_CRASH_AT", hide = true)]
    pub crash_at: Option<String>,
}

/// How `cypherlink connector --help` words the options.
#[derive(Debug)]
pub(crate) enum ConnectorHelp {}

impl ServeHelp for ConnectorHelp {
    const CONFIG: &'static str = "Connector configuration (TOML): its ILP address, the ledgers and keys, corridors (rates and fees), limits and timeouts. Default: fixtures/connector.toml (or its built-in copy)";
    const LISTEN: &'static str =
        "Serve the API on this address instead of the configured one (port 0 picks a free port)";
    const DATABASE: &'static str = "Use this SQLite journal instead of the configured one";
}

/// Runs the connector.
pub(crate) fn run(args: ConnectorArgs) -> anyhow::Result<()> {
    super::init_tracing("info");
    let serve = &args.serve;
    let mut config = match &serve.config {
        Some(path) => ConnectorConfig::from_file(path).map_err(|e| super::InputError(e.to_string()))?,
        None => match ConnectorConfig::from_file(std::path::Path::new("fixtures/connector.toml")) {
            Ok(c) => c,
            Err(_) => ConnectorConfig::from_toml(testnet::network::CONNECTOR_FIXTURE)
                .map_err(|e| super::InputError(e.to_string()))?,
        },
    };
    let api = &mut config.api;
    serve.override_listener(&mut api.listen, &mut api.tls, &mut api.plain_http);
    if let Some(database) = &serve.database {
        config.connector.database = database.clone();
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
