//! Inclusion proofs with finality, checked offline by a light client holding only the genesis:
//! that a transaction is in a block, that it succeeded (its receipt is under the header's state
//! root), that the block is *final* under the chain's two-chain commit rule (not only
//! certified), and, for an anchor, that an off-chain item is under the anchored Merkle root.
//! An anchor certificate is such a proof of an anchor transaction with its `item` set.
//!
//! Finality of block B: the headers from B up to C' (each one's `parent_hash` is the hash of
//! the one before), where C' was proposed in view C.view + 1 on C, its parent, and the QC of
//! C'. C'.qc (inside C''s header) certifies C, the QC of C' certifies C': two aggregate BLS
//! checks, and C (with B, its ancestor) is committed. Every header must be of the committee's
//! epoch.
//!
//! The JSON form below is what `GET /v1/transactions/{id}/proof` returns and what
//! `cypherlink verify-certificate` and `cypherlink chain verify-proof` read. All byte strings
//! are hex; docs/chain.md ("Anchor certificates") describes each field. A proof names its
//! committee (`committee`: epoch and [`Committee::digest`]); until committees can change the
//! verifier takes it from the genesis and refuses any other. A later version adds an optional
//! `handovers` list (each committee signing its successor) beside it, without changing the
//! fields here.
//!
//! Checking lives in [`verify`]: [`CertificateVerifier`] remembers the blocks whose finality it
//! verified, so the next certificate of the same block costs only hashing.

#[cfg(any(test, feature = "sim"))]
pub mod fixture;
#[cfg(test)]
mod tests;
mod verify;

use serde::{Deserialize, Serialize};

pub use verify::{CertificateVerifier, DEFAULT_CACHE_BLOCKS, MAX_FINALITY_HEADERS};

use crate::codec::encode_to_vec;
use crate::committee::Committee;
use crate::consensus::core::FinalBy;
use crate::genesis::Genesis;
use crate::merkle::PathStep;
use crate::state::exec::StateCommitment;
use crate::state::tx::Transaction;
use crate::state::types::{AccountId, hex_of};
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
    /// The item: the 32-byte digest the submitter sent (its leaf is `SHA-256(0x00 || item)`).
    pub item: String,
    /// Its path to the anchored root ([`crate::merkle`] rules).
    pub path: Vec<Step>,
}

/// The committee a proof says signed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "client", derive(utoipa::ToSchema))]
pub struct CommitteeRef {
    /// Its epoch.
    pub epoch: u64,
    /// [`Committee::digest`] (hex).
    pub digest: String,
}

/// Why the block is final: the headers after it up to C' and the certificate of C'.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "client", derive(utoipa::ToSchema))]
pub struct FinalityJson {
    /// Canonical encodings of the headers after the block, in height order, the last one C'
    /// (so C, the committed block, is the one before it, or the block itself).
    pub headers: Vec<String>,
    /// The certificate of C'.
    pub qc: String,
}

/// A transaction's (or anchor's) inclusion and finality proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "client", derive(utoipa::ToSchema))]
pub struct InclusionProof {
    /// The chain id the proof is for.
    pub chain_id: String,
    /// The committee that signed the certificates.
    pub committee: CommitteeRef,
    /// The block header's canonical encoding.
    pub header: String,
    /// The certificate of the block (as carried in its child's header).
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
    /// Why the block is final.
    pub finality: FinalityJson,
    /// For an anchor: an item under the anchored root (added by whoever holds the items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<ItemProof>,
}

/// What a proven anchor establishes: its place in its (submitter, namespace) chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvenAnchor {
    /// Who anchored.
    pub submitter: AccountId,
    /// The namespace.
    pub namespace: String,
    /// The anchored Merkle root.
    pub root: [u8; 32],
    /// Items under it (as the submitter said).
    pub items: u64,
    /// Batch number.
    pub sequence: u64,
    /// The previous batch's hash.
    pub previous: [u8; 32],
    /// This batch's hash ([`crate::state::batch_hash`]).
    pub batch: [u8; 32],
    /// The item proven under the root, if the proof carries one.
    pub item: Option<[u8; 32]>,
}

/// What a valid proof establishes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvenInclusion {
    /// Height of the block holding the transaction.
    pub height: u64,
    /// Its timestamp (the same as `included_at_ms`).
    pub timestamp_ms: u64,
    /// Its hash.
    pub block_hash: [u8; 32],
    /// B.timestamp: when the block holding the transaction was proposed.
    pub included_at_ms: u64,
    /// Height of C', the block whose certificate made the block final.
    pub final_height: u64,
    /// Timestamp of C': the transaction was final by then (a timestamp attestation bounded by
    /// the committee's certificate).
    pub final_by_ms: u64,
    /// Epoch of the committee that signed.
    pub epoch: u64,
    /// The transaction, which succeeded.
    pub tx: Transaction,
    /// For an anchor: what it recorded, and the item proven under it.
    pub anchor: Option<ProvenAnchor>,
}

/// Why a proof does not hold. Each names what was wrong; nothing is partly accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// A field does not decode (or is too long).
    #[error("malformed proof: field {field} does not decode")]
    Malformed {
        /// The field, as named in the JSON.
        field: &'static str,
    },
    /// The proof (or its transaction) is for another chain than the genesis'.
    #[error("proof is for chain {got}, not {expected} (the genesis given)")]
    WrongChain {
        /// The genesis' chain id (hex).
        expected: String,
        /// What the proof or its transaction names (hex).
        got: String,
    },
    /// The proof names another committee than the genesis', or a header is of another epoch.
    #[error(
        "proof names committee epoch {got_epoch} digest {got_digest}, not the genesis committee (epoch {expected_epoch} digest {expected_digest})"
    )]
    WrongCommittee {
        /// The genesis committee's epoch.
        expected_epoch: u64,
        /// Its digest (hex).
        expected_digest: String,
        /// The epoch named.
        got_epoch: u64,
        /// The digest named (hex).
        got_digest: String,
    },
    /// A finality header does not extend the one before it (index into `finality.headers`).
    #[error("finality.headers[{at}] does not extend the block before it (parent hash or height)")]
    BrokenHashChain {
        /// Index of the header.
        at: usize,
    },
    /// C' was not proposed in the view right after C: C is certified, not committed.
    #[error(
        "the last finality header (view {child_view}) is not in the view right after its parent's ({parent_view}): certified, not final"
    )]
    NotConsecutive {
        /// C's view.
        parent_view: u64,
        /// C''s view.
        child_view: u64,
    },
    /// A certificate does not name the block it should (hash or view).
    #[error("certificate {which} does not name its block")]
    WrongBlock {
        /// Which certificate.
        which: &'static str,
    },
    /// A certificate's aggregate signature (or quorum) does not verify.
    #[error("certificate {which} does not verify against the committee: {why}")]
    BadSignature {
        /// Which certificate.
        which: &'static str,
        /// What the check said.
        why: String,
    },
    /// A Merkle path does not lead to its root.
    #[error("{which} does not lead to its Merkle root")]
    PathMismatch {
        /// Which path.
        which: &'static str,
    },
    /// The state commitment does not hash to the header's state root (or is of another height).
    #[error("commitment does not give the header's state root")]
    CommitmentMismatch,
    /// The receipt is for another transaction.
    #[error("receipt is for another transaction")]
    ReceiptMismatch,
    /// The transaction is in the block but failed.
    #[error("transaction is in the block but failed: {0}")]
    Failed(String),
    /// An item was given for a transaction that is no anchor.
    #[error("an item proof needs an anchor transaction, this one is {0}")]
    NotAnAnchor(&'static str),
    /// The genesis does not form a committee.
    #[error("genesis: {0}")]
    Genesis(crate::Error),
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

impl InclusionProof {
    /// Assembles a proof (server side): the block `header` with its certificate `qc`, the
    /// transaction and its receipt with their paths, the state commitment, and the finality
    /// evidence: the headers `between` the block and C (empty when the block is C), then C'
    /// and its certificate.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        chain_id: &[u8; 32],
        committee: &Committee,
        header: &BlockHeader,
        qc: &QuorumCert,
        tx: &[u8],
        tx_path: &[PathStep],
        receipt: &[u8],
        receipt_path: &[PathStep],
        c: &StateCommitment,
        between: &[BlockHeader],
        final_by: &FinalBy,
    ) -> Self {
        let headers = between
            .iter()
            .chain(std::iter::once(&final_by.child))
            .map(|h| hex_of(&encode_to_vec(h)))
            .collect();
        Self {
            chain_id: hex_of(chain_id),
            committee: CommitteeRef {
                epoch: committee.epoch(),
                digest: hex_of(&committee.digest()),
            },
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
            finality: FinalityJson {
                headers,
                qc: hex_of(&encode_to_vec(&final_by.child_qc)),
            },
            item: None,
        }
    }

    /// Adds an off-chain item (the 32-byte digest) and its path under the anchored root.
    pub fn with_item(mut self, item: &[u8], path: &[PathStep]) -> Self {
        self.item = Some(ItemProof {
            item: hex_of(item),
            path: steps_of(path),
        });
        self
    }

    /// Checks the whole proof against the genesis (see the module doc). To check many, keep
    /// one [`CertificateVerifier`]: this forms the committee again on every call.
    pub fn verify(&self, genesis: &Genesis) -> Result<ProvenInclusion, ProofError> {
        CertificateVerifier::new(genesis)?.verify(self)
    }
}
