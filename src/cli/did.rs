//! `cypherlink did ...`: the did:cypher registry from the command line. Create, update and
//! deactivate a DID on the committee chain (signed with an Ed25519 key from a file, or a
//! test-only key from a seed phrase), and resolve any did:cypher through a node or any did:key
//! locally, printing the W3C DID Resolution result.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use did::{Did, Document};
use ed25519_dalek::SigningKey;
use htlc::Timestamp;
use ledger_node::api::did::{VersionQuery, document_for_key, resolve_did_key};
use ledger_node::api::{ChainClient, Signer, TxState};
use ledger_node::state::account_of;

use crate::cli::{InputError, print_line};

/// `cypherlink did` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum DidCommand {
    /// Register a did:cypher: its id derives from the key and --nonce. Without --document the
    /// document has the key as its one method (authentication, assertionMethod,
    /// capabilityInvocation).
    ///
    /// Example: cypherlink did create --node http://127.0.0.1:7500 --key me.key
    Create {
        #[command(flatten)]
        signer: SignerArgs,
        /// Derives the identifier with the key (another nonce, another DID).
        #[arg(long, default_value_t = 0)]
        nonce: u64,
        /// The document (JSON) instead of the one built from the key.
        #[arg(long, value_name = "FILE")]
        document: Option<PathBuf>,
    },
    /// Replace a DID's document (signed by a current controller key). Rotation: a document
    /// with the new key and without the old one.
    ///
    /// Example: cypherlink did update --node http://127.0.0.1:7500 --key me.key --document new.json
    Update {
        #[command(flatten)]
        signer: SignerArgs,
        /// The new document (JSON); its id is the DID updated.
        #[arg(long, value_name = "FILE")]
        document: PathBuf,
        /// The DID's current version id (read from the node if not given).
        #[arg(long)]
        version: Option<u64>,
    },
    /// Deactivate a DID for good (signed by a current controller key).
    ///
    /// Example: cypherlink did deactivate --node http://127.0.0.1:7500 --key me.key --did did:cypher:...
    Deactivate {
        #[command(flatten)]
        signer: SignerArgs,
        /// The DID.
        #[arg(long)]
        did: String,
        /// Its current version id (read from the node if not given).
        #[arg(long)]
        version: Option<u64>,
    },
    /// Print the DID Resolution result of a DID: did:cypher through --node, did:key locally
    /// (no node needed). Exits 1 if resolution failed (the result names the error).
    ///
    /// Example: cypherlink did resolve did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK
    Resolve {
        /// The DID.
        did: String,
        /// The node's API (needed for did:cypher).
        #[arg(long)]
        node: Option<String>,
        /// Resolve this version.
        #[arg(long, conflicts_with = "version_time")]
        version_id: Option<u64>,
        /// Resolve the version in force at this time (RFC 3339).
        #[arg(long)]
        version_time: Option<String>,
    },
}

/// Who signs, and where.
#[derive(Debug, Args)]
pub(crate) struct SignerArgs {
    /// The node's API, e.g. http://127.0.0.1:7500.
    #[arg(long)]
    node: String,
    /// A file holding the Ed25519 secret key as 64 hex characters (lines starting with # are
    /// comments).
    #[arg(long, value_name = "FILE", required_unless_present = "test_seed")]
    key: Option<PathBuf>,
    /// TEST ONLY: the key is SHA-256 of this phrase (anyone knowing it holds the key).
    #[arg(long, conflicts_with = "key")]
    test_seed: Option<String>,
}

const PATIENCE: Duration = Duration::from_secs(60);

/// Runs a did subcommand.
pub(crate) fn run(cmd: DidCommand) -> anyhow::Result<()> {
    super::runtime()?.block_on(async move {
        match cmd {
            DidCommand::Create {
                signer,
                nonce,
                document,
            } => {
                let key = signing_key(&signer)?;
                let subject = did::cypher::did_cypher(&key.verifying_key(), nonce);
                let document = match document {
                    Some(file) => read_document(&file)?,
                    None => document_for_key(&subject, &key.verifying_key()),
                };
                let (client, mut s) = connect(&signer.node, key).await?;
                submit(&client, &s.did_create(nonce, &document), document.id.as_str()).await
            }
            DidCommand::Update {
                signer,
                document,
                version,
            } => {
                let document = read_document(&document)?;
                let (client, mut s) = connect(&signer.node, signing_key(&signer)?).await?;
                let version = current_version(&client, version, document.id.as_str()).await?;
                submit(&client, &s.did_update(version, &document), document.id.as_str()).await
            }
            DidCommand::Deactivate { signer, did, version } => {
                let subject = Did::parse(&did).map_err(|e| InputError(format!("--did: {e}")))?;
                let (client, mut s) = connect(&signer.node, signing_key(&signer)?).await?;
                let version = current_version(&client, version, &did).await?;
                submit(&client, &s.did_deactivate(&subject, version), &did).await
            }
            DidCommand::Resolve {
                did,
                node,
                version_id,
                version_time,
            } => resolve(&did, node.as_deref(), version_id, version_time.as_deref()).await,
        }
    })
}

fn signing_key(args: &SignerArgs) -> anyhow::Result<SigningKey> {
    if let Some(seed) = &args.test_seed {
        return Ok(SigningKey::from_bytes(&ledger_node::crypto::sha256(&[
            seed.as_bytes()
        ])));
    }
    let file = args
        .key
        .as_ref()
        .ok_or_else(|| InputError("--key or --test-seed".into()))?;
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let hex_key: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<String>()
        .trim()
        .to_owned();
    let bytes = hex::decode(&hex_key)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| InputError(format!("{}: not 64 hex characters", file.display())))?;
    Ok(SigningKey::from_bytes(&bytes))
}

fn read_document(file: &Path) -> anyhow::Result<Document> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    Document::from_json(&bytes).map_err(|e| InputError(format!("{}: {e}", file.display())).into())
}

async fn connect(node: &str, key: SigningKey) -> anyhow::Result<(ChainClient, Signer)> {
    let client = ChainClient::new(node);
    let chain_id = client.chain_id().await.context("reading the chain id")?;
    let account = client
        .account(&account_of(&key))
        .await
        .context("reading the account")?;
    Ok((client.clone(), Signer::new(key, chain_id, account.nonce)))
}

/// `given`, or the DID's current version id as the node resolves it.
async fn current_version(client: &ChainClient, given: Option<u64>, did: &str) -> anyhow::Result<u64> {
    if let Some(version) = given {
        return Ok(version);
    }
    let (_, result) = client.resolve_did(did, VersionQuery::Latest).await?;
    if let Some(error) = result.did_resolution_metadata.error {
        return Err(InputError(format!("{did}: {error}")).into());
    }
    result
        .did_document_metadata
        .version_id
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("{did}: the node gave no version id"))
}

async fn submit(client: &ChainClient, tx: &[u8], did: &str) -> anyhow::Result<()> {
    let status = client.submit_and_wait(tx, PATIENCE).await?;
    let line =
        serde_json::json!({ "did": did, "tx": status.id, "status": status.status, "reason": status.reason });
    print_line(&line.to_string())?;
    match status.status {
        TxState::Final => Ok(()),
        TxState::Failed => Err(anyhow::anyhow!(
            "{did}: the transaction failed: {}",
            status.detail.unwrap_or_default()
        )),
        other => Err(anyhow::anyhow!(
            "{did}: not final within {PATIENCE:?} ({other:?})"
        )),
    }
}

async fn resolve(
    did: &str,
    node: Option<&str>,
    version_id: Option<u64>,
    version_time: Option<&str>,
) -> anyhow::Result<()> {
    let query = match (version_id, version_time) {
        (Some(id), _) => VersionQuery::Id(id),
        (None, Some(t)) => VersionQuery::Time(
            Timestamp::parse_rfc3339(t).map_err(|e| InputError(format!("--version-time: {e}")))?,
        ),
        (None, None) => VersionQuery::Latest,
    };
    let result = match node {
        Some(node) => ChainClient::new(node).resolve_did(did, query).await?.1,
        None => {
            let subject = Did::parse(did).map_err(|e| InputError(format!("{did}: {e}")))?;
            if subject.method() != did::key::METHOD {
                return Err(InputError(format!(
                    "{did}: resolving a did:{} needs --node",
                    subject.method()
                ))
                .into());
            }
            resolve_did_key(&subject, query).result
        }
    };
    print_line(&serde_json::to_string_pretty(&result)?)?;
    match result.did_resolution_metadata.error {
        Some(error) => Err(anyhow::anyhow!("{did}: {error}")),
        None => Ok(()),
    }
}
