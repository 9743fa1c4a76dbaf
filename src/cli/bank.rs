//! `cypherlink bank`: runs the mock bank core ledger, the reference implementation of the REST
//! plugin API (see docs/rest-plugin-api.md), until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use mock_ledgers::LedgerConfig;
use mock_ledgers::config::{LedgerConfigFile, LedgerKind, fixtures};

/// `cypherlink bank` arguments.
#[derive(Debug, Args)]
pub struct BankArgs {
    /// Ledger configuration (TOML): ledger id and asset, participants with their signing keys,
    /// accounts. Default: fixtures/bank.toml (its built-in copy if the file is not there).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Listen on this address instead of the configured one (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Use this SQLite file instead of the configured one.
    #[arg(long, value_name = "FILE")]
    pub database: Option<PathBuf>,
    /// HTTPS instead of what the configuration says.
    #[command(flatten)]
    pub tls: super::TlsListenArgs,
}

/// Runs the mock bank.
pub fn run(args: BankArgs) -> anyhow::Result<()> {
    let config = load(
        args.config,
        "fixtures/bank.toml",
        fixtures::BANK,
        args.listen,
        args.database,
        args.tls.server_tls(),
    )?;
    if config.kind != LedgerKind::Bank {
        return Err(super::InputError(format!(
            "the config describes a {} ledger; start it with `cypherlink cbdc --kind {}`",
            config.kind.as_str(),
            config.kind.as_str()
        ))
        .into());
    }
    serve(config)
}

/// Reads `path`, or `default_path`, or the built-in fixture, and applies the overrides.
pub(crate) fn load(
    path: Option<PathBuf>,
    default_path: &str,
    builtin: &str,
    listen: Option<SocketAddr>,
    database: Option<PathBuf>,
    tls: Option<tls::ServerTls>,
) -> anyhow::Result<LedgerConfig> {
    let (text, origin) = match path {
        Some(p) => (
            std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?,
            p.display().to_string(),
        ),
        None => match std::fs::read_to_string(default_path) {
            Ok(t) => (t, default_path.to_owned()),
            Err(_) => (builtin.to_owned(), format!("built-in {default_path}")),
        },
    };
    let edit = |f: &mut LedgerConfigFile| {
        if let Some(l) = listen {
            f.server.listen = l;
        }
        if let Some(d) = database {
            f.server.database = Some(d);
        }
        if let Some(tls) = tls {
            f.server.tls = Some(tls);
            f.server.plain_http = false;
        }
    };
    LedgerConfig::from_toml_with(&text, edit)
        .map_err(|e| super::InputError(format!("{origin}: {e}")))
        .map_err(Into::into)
}

/// Starts the ledger and serves until Ctrl-C or SIGTERM; everything acknowledged is on disk.
pub(crate) fn serve(config: LedgerConfig) -> anyhow::Result<()> {
    super::init_tracing("info");
    let runtime = super::runtime()?;
    runtime.block_on(async move {
        let id = config.info.ledger_id.clone();
        let database = config.database_path();
        let ledger = mock_ledgers::server::run(config)
            .await
            .with_context(|| format!("starting ledger {id}"))?;
        super::print_line(&format!(
            "{id} listening on {} (database {}); Ctrl-C to stop",
            ledger.base_url(),
            database.display()
        ))?;
        super::shutdown_signal().await;
        tracing::info!(ledger = %id, "stopping");
        ledger.shutdown().await;
        Ok(())
    })
}
