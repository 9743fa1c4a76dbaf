//! Inclusion proofs a light client checks offline, holding only the committee's public keys
//! (from the genesis): that a block header is certified by 2f+1 of them, that a transaction is
//! in that block, that it succeeded (its receipt is under the header's state root), and, for an
//! anchor, that an off-chain item is under the anchored Merkle root.
//!
//! The JSON form below is what `GET /v1/transactions/{id}/proof` returns and what
//! `cypherlink chain verify-proof` reads. All byte strings are hex.

use serde::{Deserialize, Serialize};

use crate::codec::{Reader, decode_exact, encode_to_vec};
use crate::genesis::Genesis;
use crate::light::verify_certified_header;
use crate::merkle::{PathStep, leaf_hash, verify_path};
use crate::state::exec::StateCommitment;
use crate::state::tx::{Op, Transaction};
use crate::state::types::{hex_of, parse_hex32};
use crate::types::{BlockHeader, QuorumCert};

/// One step of a Merkle path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "client", derive(utoipa::ToSchema))]
pub struct Step {
    /// Sibling hash.
    pub sibling: String,
    /// Whether the sibling is on the left.
    pub left: bool,
}

/// How the header's state root was formed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "client", derive(utoipa::ToSchema))]
pub struct CommitmentJson {
    /// Parent's state root.
    pub parent_root: String,
    /// Block height.
    pub height: u64,
    /// Digest of the block's state changes.
    pub changes_digest: String,
    /// Merkle root of the receipts.
    pub receipts_root: String,
}

/// An off-chain item under an anchor's root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "client", derive(utoipa::ToSchema))]
pub struct ItemProof {
    /// The item's bytes.
    pub item: String,
    /// Its path to the anchored root ([`crate::merkle`] rules).
    pub path: Vec<Step>,
}

/// A transaction's (or anchor's) inclusion proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "client", derive(utoipa::ToSchema))]
pub struct InclusionProof {
    /// The chain id the proof is for.
    pub chain_id: String,
    /// The block header's canonical encoding.
    pub header: String,
    /// The certificate of the block.
    pub qc: String,
    /// The transaction's bytes.
    pub tx: String,
    /// Its path to the header's payload root.
    pub tx_path: Vec<Step>,
    /// Its receipt's bytes.
    pub receipt: String,
    /// The receipt's path to the receipts root.
    pub receipt_path: Vec<Step>,
    /// The parts of the state root.
    pub commitment: CommitmentJson,
    /// For an anchor: an item under the anchored root (added by whoever holds the items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<ItemProof>,
}

/// What a valid proof establishes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvenInclusion {
    /// Height of the certified block.
    pub height: u64,
    /// Its timestamp.
    pub timestamp_ms: u64,
    /// The transaction, which succeeded.
    pub tx: Transaction,
    /// For an anchor: (namespace, root), and whether an item was proven under it.
    pub anchor: Option<(String, [u8; 32], bool)>,
}

/// Why a proof does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// A field does not decode.
    #[error("malformed proof: {0}")]
    Malformed(&'static str),
    /// The certificate does not verify against the committee.
    #[error("certificate: {0}")]
    Certificate(crate::Error),
    /// A Merkle path or the state commitment does not match.
    #[error("proof does not hold: {0}")]
    Mismatch(&'static str),
    /// The transaction is in the block but failed.
    #[error("transaction is in the block but failed: {0}")]
    Failed(String),
}

fn unhex(s: &str, what: &'static str) -> Result<Vec<u8>, ProofError> {
    if s.len() > 2 * (crate::codec::MAX_TX_BYTES + 4096) {
        return Err(ProofError::Malformed(what));
    }
    hex::decode(s).map_err(|_| ProofError::Malformed(what))
}

fn h32(s: &str, what: &'static str) -> Result<[u8; 32], ProofError> {
    parse_hex32(s).ok_or(ProofError::Malformed(what))
}

fn path_of(steps: &[Step]) -> Result<Vec<PathStep>, ProofError> {
    if steps.len() > 64 {
        return Err(ProofError::Malformed("path too long"));
    }
    steps
        .iter()
        .map(|s| {
            Ok(PathStep {
                sibling: h32(&s.sibling, "path sibling")?,
                sibling_on_left: s.left,
            })
        })
        .collect()
}

/// The JSON form of a Merkle path.
pub fn steps_of(path: &[PathStep]) -> Vec<Step> {
    path.iter()
        .map(|p| Step {
            sibling: hex_of(&p.sibling),
            left: p.sibling_on_left,
        })
        .collect()
}

/// A receipt decoded: (tx id, index, failure code if it failed).
fn decode_receipt(bytes: &[u8]) -> Result<([u8; 32], u32, Option<String>), ProofError> {
    let mut r = Reader::new(bytes);
    let bad = |_| ProofError::Malformed("receipt");
    let id = r.bytes32("receipt id").map_err(bad)?;
    let index = r.u32("receipt index").map_err(bad)?;
    let reason = match r.u8("receipt status").map_err(bad)? {
        0 => None,
        1 => Some(String::from_utf8_lossy(r.var_bytes("reason", 64).map_err(bad)?).into_owned()),
        _ => return Err(ProofError::Malformed("receipt status")),
    };
    if r.remaining() != 0 {
        return Err(ProofError::Malformed("receipt"));
    }
    Ok((id, index, reason))
}

impl InclusionProof {
    /// Assembles a proof (server side).
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        chain_id: &[u8; 32],
        header: &BlockHeader,
        qc: &QuorumCert,
        tx: &[u8],
        tx_path: &[PathStep],
        receipt: &[u8],
        receipt_path: &[PathStep],
        c: &StateCommitment,
    ) -> Self {
        Self {
            chain_id: hex_of(chain_id),
            header: hex_of(&encode_to_vec(header)),
            qc: hex_of(&encode_to_vec(qc)),
            tx: hex_of(tx),
            tx_path: steps_of(tx_path),
            receipt: hex_of(receipt),
            receipt_path: steps_of(receipt_path),
            commitment: CommitmentJson {
                parent_root: hex_of(&c.parent_root),
                height: c.height,
                changes_digest: hex_of(&c.changes_digest),
                receipts_root: hex_of(&c.receipts_root),
            },
            item: None,
        }
    }

    /// Adds an off-chain item and its path under the anchored root.
    pub fn with_item(mut self, item: &[u8], path: &[PathStep]) -> Self {
        self.item = Some(ItemProof {
            item: hex_of(item),
            path: steps_of(path),
        });
        self
    }

    /// Checks the whole proof against the genesis committee; see the module doc.
    pub fn verify(&self, genesis: &Genesis) -> Result<ProvenInclusion, ProofError> {
        let committee = genesis.committee().map_err(ProofError::Certificate)?;
        let header: BlockHeader =
            decode_exact(&unhex(&self.header, "header")?).map_err(|_| ProofError::Malformed("header"))?;
        let qc: QuorumCert =
            decode_exact(&unhex(&self.qc, "qc")?).map_err(|_| ProofError::Malformed("qc"))?;
        verify_certified_header(&committee, &header, &qc).map_err(ProofError::Certificate)?;
        let tx_bytes = unhex(&self.tx, "tx")?;
        if !verify_path(&header.payload_root, &tx_bytes, &path_of(&self.tx_path)?) {
            return Err(ProofError::Mismatch(
                "transaction path does not lead to the payload root",
            ));
        }
        let c = StateCommitment {
            parent_root: h32(&self.commitment.parent_root, "parent root")?,
            height: self.commitment.height,
            changes_digest: h32(&self.commitment.changes_digest, "changes digest")?,
            receipts_root: h32(&self.commitment.receipts_root, "receipts root")?,
        };
        if c.height != header.height || c.root() != header.state_root {
            return Err(ProofError::Mismatch(
                "state commitment does not give the header's state root",
            ));
        }
        let receipt = unhex(&self.receipt, "receipt")?;
        if !verify_path(&c.receipts_root, &receipt, &path_of(&self.receipt_path)?) {
            return Err(ProofError::Mismatch(
                "receipt path does not lead to the receipts root",
            ));
        }
        let (rid, _, reason) = decode_receipt(&receipt)?;
        if rid != leaf_hash(&tx_bytes) {
            return Err(ProofError::Mismatch("receipt is for another transaction"));
        }
        if let Some(r) = reason {
            return Err(ProofError::Failed(r));
        }
        let tx = Transaction::decode(&tx_bytes).map_err(|_| ProofError::Malformed("transaction"))?;
        if hex_of(&tx.body.chain_id) != self.chain_id {
            return Err(ProofError::Mismatch("transaction is for another chain"));
        }
        let anchor = match &tx.body.op {
            Op::Anchor { namespace, root, .. } => {
                let item_ok = match &self.item {
                    None => false,
                    Some(i) => {
                        if !verify_path(root, &unhex(&i.item, "item")?, &path_of(&i.path)?) {
                            return Err(ProofError::Mismatch(
                                "item path does not lead to the anchored root",
                            ));
                        }
                        true
                    }
                };
                Some((namespace.clone(), *root, item_ok))
            }
            _ if self.item.is_some() => return Err(ProofError::Mismatch("an item proof needs an anchor")),
            _ => None,
        };
        Ok(ProvenInclusion {
            height: header.height,
            timestamp_ms: header.timestamp_ms,
            tx,
            anchor,
        })
    }
}
