//! `cypherlink node --config <file>`: one validator (or a non-voting full node) of the committee
//! chain. See docs/chain.md for the configuration and the fixture network.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use ledger_node::node::{NodeConfig, start};

use crate::cli::{InputError, init_tracing, print_line, runtime, shutdown_signal};

/// Arguments of `cypherlink node`.
#[derive(Debug, Args)]
pub(crate) struct NodeArgs {
    /// The node's configuration file (TOML).
    #[arg(long)]
    pub config: PathBuf,
}

/// Runs the node until Ctrl-C or SIGTERM.
pub(crate) fn run(args: NodeArgs) -> anyhow::Result<()> {
    init_tracing("info,sqlx=warn,actix_server=warn");
    let config = NodeConfig::load(&args.config).map_err(|e| InputError(e.to_string()))?;
    let role = match &config.validator {
        Some(v) => format!("validator {}", v.index),
        None => "full node".to_string(),
    };
    runtime()?.block_on(async move {
        let node = start(config).await.context("starting the node")?;
        print_line(&format!(
            "{role} running: api http://{} p2p {} chain {}",
            node.api_addr,
            node.p2p_addr,
            hex::encode(node.shared.chain_id)
        ))?;
        let server = node.server;
        let handle = server.handle();
        tokio::select! {
            r = server => r.context("API server")?,
            _ = shutdown_signal() => handle.stop(true).await,
        }
        Ok(())
    })
}
