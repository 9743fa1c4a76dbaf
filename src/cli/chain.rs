//! `cypherlink chain ...`: tools around the committee chain: write a local test network's files,
//! and verify an inclusion proof with finality offline (a light client; the check is
//! `verify-certificate`'s).

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use ledger_node::genesis::Genesis;
use ledger_node::node::GenesisFile;

use crate::cli::{InputError, print_line};

/// `cypherlink chain` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum ChainCommand {
    /// Write the files of a local test network: genesis.toml, TEST-ONLY validator keys, and
    /// one node config per validator (validator i listens on base_port + i, its API on
    /// api_base_port + i).
    ///
    /// Example: cypherlink chain init-testnet --dir fixtures/chain
    InitTestnet {
        /// Output directory.
        #[arg(long)]
        dir: PathBuf,
        /// Committee size (3f+1).
        #[arg(long, default_value_t = 4)]
        validators: u16,
        /// First peer-to-peer port.
        #[arg(long, default_value_t = 7400)]
        base_port: u16,
        /// First API port.
        #[arg(long, default_value_t = 7500)]
        api_base_port: u16,
        /// Seed of the (insecure, test-only) keys.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Check an inclusion proof (from GET /v1/transactions/{id}/proof) against a genesis file,
    /// offline: the transaction's inclusion and success, the block's finality under the
    /// two-chain rule and the committee's signatures, and for an anchor the item under the
    /// anchored root (the same check as `cypherlink verify-certificate`).
    ///
    /// Example: cypherlink chain verify-proof proof.json --genesis fixtures/chain/genesis.toml
    VerifyProof {
        /// The proof (JSON).
        file: PathBuf,
        /// The chain's genesis file.
        #[arg(long)]
        genesis: PathBuf,
    },
}

/// Runs a chain subcommand.
pub(crate) fn run(cmd: ChainCommand) -> anyhow::Result<()> {
    match cmd {
        ChainCommand::InitTestnet {
            dir,
            validators,
            base_port,
            api_base_port,
            seed,
        } => init_testnet(&dir, validators, base_port, api_base_port, seed),
        ChainCommand::VerifyProof { file, genesis } => verify_proof(&file, &genesis),
    }
}

fn verify_proof(file: &std::path::Path, genesis: &std::path::Path) -> anyhow::Result<()> {
    let proven = crate::cli::certificate::verify_one(file, genesis)?;
    print_line(&format!(
        "proof holds: transaction {} ({}) succeeded in block {} (time {} ms), final by block {} \
         (time {} ms) under the two-chain rule, signed by the committee of epoch {}",
        hex::encode(proven.tx.id),
        proven.tx.body.op.kind(),
        proven.height,
        proven.included_at_ms,
        proven.final_height,
        proven.final_by_ms,
        proven.epoch
    ))?;
    if let Some(a) = &proven.anchor {
        print_line(&format!(
            "anchor: namespace {:?}, batch {}, root {}, batch hash {}{}",
            a.namespace,
            a.sequence,
            hex::encode(a.root),
            hex::encode(a.batch),
            a.item
                .map(|i| format!(", item {} proven under it", hex::encode(i)))
                .unwrap_or_default()
        ))?;
    }
    Ok(())
}

/// Test-only key material for validator `i`.
fn test_ikm(seed: u64, i: u64) -> [u8; 32] {
    ledger_node::crypto::sha256(&[
        b"cypherlink TEST-ONLY validator key",
        &seed.to_be_bytes(),
        &i.to_be_bytes(),
    ])
}

fn init_testnet(
    dir: &std::path::Path,
    n: u16,
    base_port: u16,
    api_base_port: u16,
    seed: u64,
) -> anyhow::Result<()> {
    if n < 4 || !(n - 1).is_multiple_of(3) {
        return Err(InputError(format!("--validators {n} must be 3f+1 and at least 4")).into());
    }
    std::fs::create_dir_all(dir.join("keys")).with_context(|| format!("creating {}", dir.display()))?;
    let seeds: Vec<[u8; 32]> = (0..n).map(|i| test_ikm(seed, u64::from(i))).collect();
    for (i, ikm) in seeds.iter().enumerate() {
        std::fs::write(
            dir.join(format!("keys/validator{i}.key")),
            format!(
                "# TEST ONLY: derived from a public seed; never use for a real network.\n{}\n",
                hex::encode(ikm)
            ),
        )?;
    }
    let genesis = Genesis::for_test_keys(&seeds).map_err(|e| anyhow::anyhow!("{e}"))?;
    let text = toml::to_string(&GenesisFile::from_genesis(&genesis))?;
    std::fs::write(
        dir.join("genesis.toml"),
        format!("# The committee of a local TEST network (keys in keys/, test-only).\n{text}"),
    )?;
    // Throwaway certificates for the validators' mutual-TLS links (`run-local.sh` makes new ones
    // when they are missing: they expire, so they are not committed with the fixture).
    tls::dev::generate(&dir.join("certs"), &[])
        .with_context(|| format!("writing certificates into {}", dir.join("certs").display()))?;
    for i in 0..n {
        let mut c = format!(
            "# Validator {i} of the local test network. Start with:\n#   cypherlink node --config {}\n\
             genesis = \"genesis.toml\"\ndata_dir = \"data/node{i}\"\nlisten = \"127.0.0.1:{}\"\napi = \"127.0.0.1:{}\"\n# Plain HTTP, said explicitly, for a local test network; elsewhere use api_tls = {{ cert = ..., key = ... }}.\napi_plain_http = true\n             # Mutual TLS between validators, with the throwaway certificates in certs/ (`cypherlink dev-certs`).\n             peer_tls = {{ cert = \"certs/server.pem\", key = \"certs/server-key.pem\", ca = \"certs/ca.pem\" }}\n\n\
             [validator]\nindex = {i}\nkey_file = \"keys/validator{i}.key\"\n",
            dir.join(format!("node{i}.toml")).display(),
            base_port + i,
            api_base_port + i
        );
        for j in (0..n).filter(|j| *j != i) {
            c.push_str(&format!(
                "\n[[peers]]\nindex = {j}\naddress = \"127.0.0.1:{}\"\n",
                base_port + j
            ));
        }
        std::fs::write(dir.join(format!("node{i}.toml")), c)?;
    }
    print_line(&format!(
        "wrote a {n}-validator test network to {}",
        dir.display()
    ))?;
    Ok(())
}
