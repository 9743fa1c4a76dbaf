//! `cypherlink verify-certificate`: checks anchor certificates (and any inclusion proof)
//! offline, with nothing but the chain's genesis: Merkle paths, the transaction and its
//! receipt, the header, finality under the two-chain rule, and the committee's signatures
//! ([`ledger_node::proof::CertificateVerifier`]). Exit 0 with a one-line summary; 1 when a
//! certificate does not hold (the reason on stderr); 2 when the files cannot be read.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use ledger_node::node::GenesisFile;
use ledger_node::proof::{CertificateVerifier, InclusionProof, ProvenInclusion};
use ledger_node::state::types::block_time;

use crate::cli::{InputError, print_line};

/// Largest certificate file read (an array of 10,000 certificates is about 40 MiB).
const MAX_FILE_BYTES: u64 = 256 << 20;

/// `cypherlink verify-certificate` arguments.
#[derive(Debug, Args)]
pub(crate) struct VerifyCertificateArgs {
    /// A certificate (JSON, as the anchoring service or GET /v1/transactions/{id}/proof
    /// returns it), or a JSON array of them.
    pub file: PathBuf,
    /// The chain's genesis file.
    #[arg(long)]
    pub genesis: PathBuf,
}

/// One certificate or many.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Certificates {
    One(Box<InclusionProof>),
    Many(Vec<InclusionProof>),
}

/// Runs `verify-certificate`.
pub(crate) fn run(args: VerifyCertificateArgs) -> anyhow::Result<()> {
    let (verifier, certs) = load(&args.file, &args.genesis)?;
    match certs {
        Certificates::One(cert) => {
            let proven = verifier
                .verify(&cert)
                .map_err(|e| anyhow::anyhow!("certificate does NOT hold: {e}"))?;
            print_line(&summary(&proven))
        }
        Certificates::Many(certs) => {
            let mut last = None;
            for (i, cert) in certs.iter().enumerate() {
                let proven = verifier
                    .verify(cert)
                    .map_err(|e| anyhow::anyhow!("certificate {i} does NOT hold: {e}"))?;
                last = Some(proven);
            }
            let Some(last) = last else {
                return Err(InputError(format!("{}: an empty array", args.file.display())).into());
            };
            print_line(&format!(
                "ok {} certificates in {} blocks; last: {}",
                certs.len(),
                verifier.cached_blocks(),
                summary(&last).trim_start_matches("ok ")
            ))
        }
    }
}

/// Reads the genesis and the certificate file; unreadable input is an [`InputError`].
fn load(file: &Path, genesis: &Path) -> anyhow::Result<(CertificateVerifier, Certificates)> {
    let g = GenesisFile::load(genesis).map_err(|e| InputError(e.to_string()))?;
    let verifier = CertificateVerifier::new(&g).map_err(|e| InputError(e.to_string()))?;
    let len = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))
        .map_err(|e| InputError(format!("{e:#}")))?
        .len();
    if len > MAX_FILE_BYTES {
        return Err(InputError(format!("{}: larger than {MAX_FILE_BYTES} bytes", file.display())).into());
    }
    let text =
        std::fs::read_to_string(file).map_err(|e| InputError(format!("reading {}: {e}", file.display())))?;
    let certs = serde_json::from_str(&text).map_err(|e| {
        InputError(format!(
            "{}: not a certificate nor an array of them: {e}",
            file.display()
        ))
    })?;
    Ok((verifier, certs))
}

/// `ok item=<hex> namespace=<ns> batch=<n> time=<RFC 3339 of final_by> height=<h>` for an
/// anchor; the transaction id and kind for anything else.
pub(crate) fn summary(p: &ProvenInclusion) -> String {
    let time = block_time(p.final_by_ms).map_or_else(|| format!("{} ms", p.final_by_ms), |t| t.to_rfc3339());
    match &p.anchor {
        Some(a) => format!(
            "ok item={} namespace={} batch={} time={time} height={}",
            a.item.map_or_else(|| "none".to_owned(), hex::encode),
            a.namespace,
            a.sequence,
            p.height
        ),
        None => format!(
            "ok tx={} kind={} time={time} height={}",
            hex::encode(p.tx.id),
            p.tx.body.op.kind(),
            p.height
        ),
    }
}

/// What `chain verify-proof` runs: the same check of one certificate, with the longer report.
pub(crate) fn verify_one(file: &Path, genesis: &Path) -> anyhow::Result<ProvenInclusion> {
    let (verifier, certs) = load(file, genesis)?;
    let Certificates::One(cert) = certs else {
        return Err(InputError(format!("{}: one proof expected, found an array", file.display())).into());
    };
    verifier
        .verify(&cert)
        .map_err(|e| anyhow::anyhow!("proof does NOT hold: {e}"))
}
