//! `cypherlink receiver`: runs a receiving bank's receiver until Ctrl-C or SIGTERM. It serves
//! the SPSP-style setup endpoint that hands each payer an address and a shared secret, follows
//! the bank's ledger account, and claims every escrow whose condition it can fulfil from the
//! secret and whose amount is what the packet promised (refusing the others with the ILP code
//! that says why). It resumes from its saved event cursor after a restart.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use connector::receiver::config::ReceiverConfig;
use connector::receiver::{Receiver, http};
use connector::store::Store;
use htlc::{Clock, SystemClock};
use plugins::{LedgerPlugin, RestPlugin, RestPluginConfig};

/// `cypherlink receiver` arguments.
#[derive(Debug, Args)]
pub(crate) struct ReceiverArgs {
    /// Receiver configuration (TOML): the ledger URL, the bank's key and account, the 32-byte
    /// hex seed its shared secrets derive from, where to listen and its database.
    #[arg(long, value_name = "FILE", default_value = "fixtures/bank-b-receiver.toml")]
    pub config: PathBuf,
    /// Listen on this address instead of the configured one (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Use this SQLite file instead of the configured one.
    #[arg(long, value_name = "FILE")]
    pub database: Option<PathBuf>,
}

/// Runs the receiver.
pub(crate) fn run(args: ReceiverArgs) -> anyhow::Result<()> {
    super::init_tracing("info");
    let mut config = ReceiverConfig::from_file(&args.config)
        .map_err(|e| super::InputError(format!("{}: {e}", args.config.display())))?;
    if let Some(listen) = args.listen {
        config.receiver.listen = listen;
    }
    if let Some(database) = args.database {
        config.receiver.database = database;
    }
    let seed = config.seed().map_err(|e| super::InputError(e.to_string()))?;
    super::runtime()?.block_on(async move {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let section = &config.ledger;
        let mut plugin_config = RestPluginConfig::new(&section.url, &section.key_id, section.key_secret.as_bytes());
        plugin_config.tls = section.tls.clone();
        let plugin = RestPlugin::connect_with_clock(plugin_config, Arc::clone(&clock))
            .await
            .with_context(|| format!("connecting to the ledger at {}", section.url))?;
        // Fail now, not at the first payment, if the key cannot see the account.
        plugin.balance(&section.account).await.with_context(|| {
            format!(
                "key {} cannot read account {} on {}",
                section.key_id,
                section.account,
                plugin.info().ledger_id
            )
        })?;
        let info = plugin.info().clone();
        let store = Store::open(&config.receiver.database, config.receiver.durability)
            .await
            .with_context(|| format!("opening {}", config.receiver.database.display()))?;
        let receiver = Receiver::new(Arc::new(plugin), section.account.clone(), seed, store, clock)
            .with_context(|| format!("{} is not a valid address segment", section.account))?;
        // Fix the starting point before the setup endpoint answers anyone: an escrow made
        // after a payer's setup is then never before the cursor.
        let cursor = receiver
            .starting_cursor()
            .await
            .with_context(|| format!("saving the starting cursor in {}", config.receiver.database.display()))?;
        tracing::info!(cursor = cursor.0, "receiver starting cursor");
        let tls = config.receiver.tls.server_config().with_context(|| {
            "receiver.tls (make throwaway certificates with `cypherlink dev-certs`)".to_owned()
        })?;
        let (server, addr) = http::serve(Arc::clone(&receiver), config.receiver.listen, tls)
            .with_context(|| format!("listening on {}", config.receiver.listen))?;
        let stop = server.handle();
        tokio::spawn(server);
        super::print_line(&format!(
            "receiver {} ({} on {}, {}) listening on https://{addr}; setup URL https://localhost:{}/.well-known/pay",
            receiver.address(),
            section.account,
            info.ledger_id,
            info.asset.code,
            addr.port(),
        ))?;
        let outcome = tokio::select! {
            _ = super::shutdown_signal() => Ok(()),
            result = Arc::clone(&receiver).run() => {
                result.context("the receiver stopped: its database failed; restart it to resume")
            }
        };
        stop.stop(true).await;
        outcome
    })
}
