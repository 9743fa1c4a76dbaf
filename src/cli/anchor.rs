//! `cypherlink anchor`: runs the anchoring service until Ctrl-C or SIGTERM. Submitters send
//! 32-byte digests over its signed API; it batches them per namespace, anchors each batch's
//! Merkle root on the committee chain with the batch's sequence attestation, and serves each
//! digest's certificate once the anchor's block is final. It resumes unfinished batches after a
//! restart. See docs/chain.md ("Anchoring API").

use std::net::SocketAddr;
use std::path::PathBuf;

use anchoring::AnchorConfig;
use anyhow::Context;
use clap::Args;

use crate::cli::{InputError, init_tracing, print_line, runtime, shutdown_signal};

/// Arguments of `cypherlink anchor`.
#[derive(Debug, Args)]
pub(crate) struct AnchorArgs {
    /// The configuration file (TOML): listener, database, batch window (`[batch] max_items`,
    /// `max_wait_ms`), the chain node's URL and the service's chain key file, and the submitters
    /// (key id, HMAC secret, namespaces). Fields left out take their defaults; without this
    /// option the built-in file (anchoring/anchor.toml, test secrets only) is used.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Listen on this address instead of the configured one (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Use this SQLite file instead of the configured one.
    #[arg(long, value_name = "FILE")]
    pub database: Option<PathBuf>,
    /// Anchor on the chain node at this URL instead of the configured one.
    #[arg(long, value_name = "URL")]
    pub chain: Option<String>,
}

/// Runs the service.
pub(crate) fn run(args: AnchorArgs) -> anyhow::Result<()> {
    init_tracing("info,sqlx=warn,actix_server=warn");
    let mut config = match &args.config {
        Some(path) => AnchorConfig::load(path),
        None => AnchorConfig::built_in(),
    }
    .map_err(|e| InputError(e.to_string()))?;
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(database) = args.database {
        config.database = database;
    }
    if let Some(chain) = args.chain {
        config.chain.url = chain;
    }
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    runtime()?.block_on(async move {
        let chain = config.chain.url.clone();
        let running = anchoring::start(config).await.context("starting the anchoring service")?;
        let stop = running.server.handle();
        tokio::spawn(running.server);
        print_line(&format!(
            "anchoring service listening on {scheme}://{} (chain {chain}, account {}, {} unfinished batches resent)",
            running.addr, running.account, running.resent
        ))?;
        let outcome = tokio::select! {
            _ = shutdown_signal() => Ok(()),
            r = running.engine => match r {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(anyhow::Error::new(e).context("the anchoring engine stopped: its database failed; restart it to resume")),
                Err(e) => Err(anyhow::Error::new(e).context("the anchoring engine panicked")),
            },
        };
        stop.stop(true).await;
        outcome
    })
}
