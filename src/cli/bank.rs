//! `cypherlink bank`: runs the mock bank core ledger, the reference implementation of the REST
//! plugin API (see docs/rest-plugin-api.md), until Ctrl-C or SIGTERM.

use anyhow::Context;
use mock_ledgers::LedgerConfig;
use mock_ledgers::config::{LedgerConfigFile, LedgerKind, fixtures};

use super::{ServeArgs, ServeHelp};

/// `cypherlink bank` arguments.
pub(crate) type BankArgs = ServeArgs<BankHelp>;

/// How `cypherlink bank --help` words the options.
#[derive(Debug)]
pub(crate) enum BankHelp {}

impl ServeHelp for BankHelp {
    const CONFIG: &'static str = "Ledger configuration (TOML): ledger id and asset, participants with their signing keys, accounts. Default: fixtures/bank.toml (its built-in copy if the file is not there)";
}

/// Runs the mock bank.
pub(crate) fn run(args: BankArgs) -> anyhow::Result<()> {
    let config = load(&args, "fixtures/bank.toml", fixtures::BANK)?;
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

/// Reads `--config`, or `default_path`, or the built-in fixture, and applies the other options.
pub(crate) fn load<H: ServeHelp>(
    args: &ServeArgs<H>,
    default_path: &str,
    builtin: &str,
) -> anyhow::Result<LedgerConfig> {
    let (text, origin) = match &args.config {
        Some(p) => (
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
            p.display().to_string(),
        ),
        None => match std::fs::read_to_string(default_path) {
            Ok(t) => (t, default_path.to_owned()),
            Err(_) => (builtin.to_owned(), format!("built-in {default_path}")),
        },
    };
    let edit = |f: &mut LedgerConfigFile| {
        let server = &mut f.server;
        args.override_listener(&mut server.listen, &mut server.tls, &mut server.plain_http);
        if let Some(d) = &args.database {
            server.database = Some(d.clone());
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
