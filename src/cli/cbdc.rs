//! `cypherlink cbdc --kind digital-euro|e-cny`: runs a central-bank digital currency ledger.
//! It speaks the same REST plugin API as the mock bank, with the CBDC's rules: two-tier
//! issuance, and the digital euro's holding limit and waterfalls or e-CNY's wallet tiers.

use clap::{Args, ValueEnum};
use mock_ledgers::config::{LedgerKind, fixtures};

use super::{ServeArgs, ServeHelp};

/// Which CBDC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CbdcKind {
    /// The digital euro (asset DE): 3000 EUR holding limit, waterfall to linked bank accounts.
    DigitalEuro,
    /// e-CNY / DC/EP (asset DC/EP): wallet tiers 1-4 with balance, per-payment, daily and
    /// annual limits.
    ECny,
}

/// `cypherlink cbdc` arguments.
#[derive(Debug, Args)]
pub(crate) struct CbdcArgs {
    /// Which CBDC ledger to run.
    #[arg(long, value_enum)]
    pub kind: CbdcKind,
    /// Its configuration file, listener and database.
    #[command(flatten)]
    pub serve: ServeArgs<CbdcHelp>,
}

/// How `cypherlink cbdc --help` words the options.
#[derive(Debug)]
pub(crate) enum CbdcHelp {}

impl ServeHelp for CbdcHelp {
    const CONFIG: &'static str = "Ledger configuration (TOML). Default: fixtures/digital-euro.toml or fixtures/e-cny.toml (their built-in copies if the files are not there)";
}

/// Runs the CBDC ledger.
pub(crate) fn run(args: CbdcArgs) -> anyhow::Result<()> {
    let (default_path, builtin, kind) = match args.kind {
        CbdcKind::DigitalEuro => (
            "fixtures/digital-euro.toml",
            fixtures::DIGITAL_EURO,
            LedgerKind::DigitalEuro,
        ),
        CbdcKind::ECny => ("fixtures/e-cny.toml", fixtures::E_CNY, LedgerKind::ECny),
    };
    let config = super::bank::load(&args.serve, default_path, builtin)?;
    if config.kind != kind {
        return Err(super::InputError(format!(
            "--kind {} but the config describes a {} ledger",
            kind.as_str(),
            config.kind.as_str()
        ))
        .into());
    }
    super::bank::serve(config)
}
