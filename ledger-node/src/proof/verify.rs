//! Checking proofs: [`CertificateVerifier`], with its per-block cache of verified finality.
//!
//! The cost floor of a proof is its finality: two aggregate BLS checks (one pairing each) on
//! the block's two certificates. Every other check is hashing. Certificates of one anchored
//! batch all sit in one block with the same header, certificate and finality evidence, so the
//! verifier remembers, per block, the digest of exactly those fields once they verified; a
//! later proof carrying the same bytes skips the pairings. The digest covers the bytes
//! themselves, so an altered finality field is never a cache hit, and a verdict never depends
//! on what was checked before.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::{InclusionProof, ProofError, ProvenAnchor, ProvenInclusion, Step};
use crate::codec::{MAX_TX_BYTES, Reader, decode_exact};
use crate::committee::Committee;
use crate::crypto::sha256;
use crate::genesis::Genesis;
use crate::merkle::{PathStep, leaf_hash, verify_path};
use crate::state::exec::StateCommitment;
use crate::state::tx::{Op, Transaction};
use crate::state::types::{batch_hash, hex_of, parse_hex32};
use crate::types::{BlockHeader, QuorumCert};

/// Most headers a finality proof may carry (the node serves far fewer: one per block committed
/// together, usually none but C').
pub const MAX_FINALITY_HEADERS: usize = 1024;
/// Blocks whose finality a [`CertificateVerifier::new`] remembers.
pub const DEFAULT_CACHE_BLOCKS: usize = 4096;
/// Longest Merkle path (a tree of 2^64 leaves).
const MAX_PATH: usize = 64;
/// Longest header or certificate encoding accepted (bytes); real ones are a few hundred.
const MAX_HEADER_BYTES: usize = 4096;

/// What a block's verified finality established, remembered per block.
#[derive(Clone, Copy, Debug)]
struct Final {
    final_height: u64,
    final_by_ms: u64,
}

/// Finality verdicts by digest of the fields they were checked from, oldest forgotten first.
#[derive(Debug, Default)]
struct FinalCache {
    map: HashMap<[u8; 32], Final>,
    order: VecDeque<[u8; 32]>,
}

/// Checks proofs against one genesis: its chain id and committee (formed once), with a bounded
/// per-block cache of verified finality (see the module doc).
#[derive(Debug)]
pub struct CertificateVerifier {
    chain_id: [u8; 32],
    committee: Committee,
    digest: [u8; 32],
    capacity: usize,
    cache: Mutex<FinalCache>,
}

impl CertificateVerifier {
    /// A verifier of `genesis`' proofs remembering [`DEFAULT_CACHE_BLOCKS`] blocks.
    pub fn new(genesis: &Genesis) -> Result<Self, ProofError> {
        Self::with_cache(genesis, DEFAULT_CACHE_BLOCKS)
    }

    /// A verifier remembering `blocks` blocks; with 0 it remembers nothing, not even the
    /// committee's verified certificates, so every proof pays its two pairings (what a
    /// one-shot check costs).
    pub fn with_cache(genesis: &Genesis, blocks: usize) -> Result<Self, ProofError> {
        let committee = genesis.committee().map_err(ProofError::Genesis)?;
        Ok(Self {
            chain_id: genesis.chain_id(),
            digest: committee.digest(),
            committee,
            capacity: blocks,
            cache: Mutex::new(FinalCache::default()),
        })
    }

    /// Checks `proof` entirely (see [`crate::proof`]); what it proves, or the first thing
    /// wrong with it.
    pub fn verify(&self, proof: &InclusionProof) -> Result<ProvenInclusion, ProofError> {
        if parse_hex32(&proof.chain_id) != Some(self.chain_id) {
            return Err(self.wrong_chain(&proof.chain_id));
        }
        if proof.committee.epoch != self.committee.epoch()
            || parse_hex32(&proof.committee.digest) != Some(self.digest)
        {
            return Err(ProofError::WrongCommittee {
                expected_epoch: self.committee.epoch(),
                expected_digest: hex_of(&self.digest),
                got_epoch: proof.committee.epoch,
                got_digest: proof.committee.digest.clone(),
            });
        }
        let header: BlockHeader = decode_field(&proof.header, "header", MAX_HEADER_BYTES)?;
        if header.epoch != self.committee.epoch() {
            return Err(self.wrong_epoch(header.epoch));
        }
        let fin = self.finality(proof, &header)?;

        let tx_bytes = unhex(&proof.tx, "tx", MAX_TX_BYTES)?;
        if !verify_path(
            &header.payload_root,
            &tx_bytes,
            &path_of(&proof.tx_path, "tx_path")?,
        ) {
            return Err(ProofError::PathMismatch { which: "tx_path" });
        }
        let c = &proof.commitment;
        let c = StateCommitment {
            parent_root: h32(&c.parent_root, "commitment.parent_root")?,
            height: c.height,
            changes_digest: h32(&c.changes_digest, "commitment.changes_digest")?,
            receipts_root: h32(&c.receipts_root, "commitment.receipts_root")?,
        };
        if c.height != header.height || c.root() != header.state_root {
            return Err(ProofError::CommitmentMismatch);
        }
        let receipt = unhex(&proof.receipt, "receipt", 256)?;
        if !verify_path(
            &c.receipts_root,
            &receipt,
            &path_of(&proof.receipt_path, "receipt_path")?,
        ) {
            return Err(ProofError::PathMismatch {
                which: "receipt_path",
            });
        }
        let (rid, failure) = decode_receipt(&receipt)?;
        if rid != leaf_hash(&tx_bytes) {
            return Err(ProofError::ReceiptMismatch);
        }
        if let Some(r) = failure {
            return Err(ProofError::Failed(r));
        }
        let tx = Transaction::decode(&tx_bytes).map_err(|_| ProofError::Malformed { field: "tx" })?;
        if tx.body.chain_id != self.chain_id {
            return Err(self.wrong_chain(&hex_of(&tx.body.chain_id)));
        }
        let anchor = self.anchor(proof, &tx)?;
        Ok(ProvenInclusion {
            height: header.height,
            timestamp_ms: header.timestamp_ms,
            block_hash: header.hash().0,
            included_at_ms: header.timestamp_ms,
            final_height: fin.final_height,
            final_by_ms: fin.final_by_ms,
            epoch: header.epoch,
            tx,
            anchor,
        })
    }

    /// How many blocks' finality is remembered now.
    pub fn cached_blocks(&self) -> usize {
        self.cache.lock().map_or(0, |c| c.map.len())
    }

    fn wrong_chain(&self, got: &str) -> ProofError {
        ProofError::WrongChain {
            expected: hex_of(&self.chain_id),
            got: got.chars().take(64).collect(),
        }
    }

    fn wrong_epoch(&self, got_epoch: u64) -> ProofError {
        ProofError::WrongCommittee {
            expected_epoch: self.committee.epoch(),
            expected_digest: hex_of(&self.digest),
            got_epoch,
            got_digest: hex_of(&self.digest),
        }
    }

    /// The block's finality, from the cache or checked (and then remembered).
    fn finality(&self, proof: &InclusionProof, header: &BlockHeader) -> Result<Final, ProofError> {
        let f = &proof.finality;
        if f.headers.is_empty() || f.headers.len() > MAX_FINALITY_HEADERS {
            return Err(ProofError::Malformed {
                field: "finality.headers",
            });
        }
        let key = self.cache_key(proof);
        if let Some(hit) = self.cached(&key) {
            return Ok(hit);
        }
        let qc: QuorumCert = decode_field(&proof.qc, "qc", MAX_HEADER_BYTES)?;
        let chain: Vec<BlockHeader> = f
            .headers
            .iter()
            .map(|h| decode_field(h, "finality.headers", MAX_HEADER_BYTES))
            .collect::<Result<_, _>>()?;
        let final_qc: QuorumCert = decode_field(&f.qc, "finality.qc", MAX_HEADER_BYTES)?;
        let mut prev = header;
        for (at, h) in chain.iter().enumerate() {
            if h.parent_hash != prev.hash() || h.height != prev.height + 1 {
                return Err(ProofError::BrokenHashChain { at });
            }
            if h.epoch != self.committee.epoch() {
                return Err(self.wrong_epoch(h.epoch));
            }
            prev = h;
        }
        let child = prev;
        let parent = chain.len().checked_sub(2).map_or(header, |i| &chain[i]);
        if child.view != parent.view.saturating_add(1) {
            return Err(ProofError::NotConsecutive {
                parent_view: parent.view,
                child_view: child.view,
            });
        }
        // The block's own certificate is the one its child's header carries.
        let own = chain.first().map_or(&child.qc, |h| &h.qc);
        if &qc != own || !names(&qc, header) {
            return Err(ProofError::WrongBlock { which: "qc" });
        }
        if !names(&child.qc, parent) {
            return Err(ProofError::WrongBlock {
                which: "finality.headers (the last one's certificate of its parent)",
            });
        }
        if !names(&final_qc, child) {
            return Err(ProofError::WrongBlock { which: "finality.qc" });
        }
        let fresh;
        let committee = if self.capacity == 0 {
            fresh = self.committee.detached();
            &fresh
        } else {
            &self.committee
        };
        child.qc.verify(committee).map_err(|e| ProofError::BadSignature {
            which: "finality.headers (the last one's certificate of its parent)",
            why: e.to_string(),
        })?;
        final_qc.verify(committee).map_err(|e| ProofError::BadSignature {
            which: "finality.qc",
            why: e.to_string(),
        })?;
        let fin = Final {
            final_height: child.height,
            final_by_ms: child.timestamp_ms,
        };
        self.remember(key, fin);
        Ok(fin)
    }

    /// The digest of every field finality is checked from (length-prefixed, so no two field
    /// lists share one).
    fn cache_key(&self, proof: &InclusionProof) -> [u8; 32] {
        let f = &proof.finality;
        let mut parts: Vec<&[u8]> = Vec::with_capacity(4 + 2 * f.headers.len());
        let lens: Vec<[u8; 8]> = std::iter::once(&proof.header)
            .chain([&proof.qc, &f.qc])
            .chain(&f.headers)
            .map(|s| u64::try_from(s.len()).unwrap_or(u64::MAX).to_be_bytes())
            .collect();
        parts.push(b"CYPHERLINK-FINALITY-CACHE-V1");
        for (s, len) in std::iter::once(&proof.header)
            .chain([&proof.qc, &f.qc])
            .chain(&f.headers)
            .zip(&lens)
        {
            parts.push(len);
            parts.push(s.as_bytes());
        }
        sha256(&parts)
    }

    fn cached(&self, key: &[u8; 32]) -> Option<Final> {
        if self.capacity == 0 {
            return None;
        }
        self.cache.lock().ok()?.map.get(key).copied()
    }

    fn remember(&self, key: [u8; 32], fin: Final) {
        if self.capacity == 0 {
            return;
        }
        if let Ok(mut c) = self.cache.lock()
            && c.map.insert(key, fin).is_none()
        {
            c.order.push_back(key);
            while c.order.len() > self.capacity {
                if let Some(old) = c.order.pop_front() {
                    c.map.remove(&old);
                }
            }
        }
    }

    /// For an anchor: its fields, batch hash and the item under its root.
    fn anchor(&self, proof: &InclusionProof, tx: &Transaction) -> Result<Option<ProvenAnchor>, ProofError> {
        let Op::Anchor {
            namespace,
            root,
            items,
            sequence,
            previous,
        } = &tx.body.op
        else {
            return match proof.item {
                Some(_) => Err(ProofError::NotAnAnchor(tx.body.op.kind())),
                None => Ok(None),
            };
        };
        let item = match &proof.item {
            None => None,
            Some(i) => {
                let digest = h32(&i.item, "item.item")?;
                if !verify_path(root, &digest, &path_of(&i.path, "item.path")?) {
                    return Err(ProofError::PathMismatch { which: "item.path" });
                }
                Some(digest)
            }
        };
        let signer = tx.body.signer;
        Ok(Some(ProvenAnchor {
            submitter: signer,
            namespace: namespace.clone(),
            root: *root,
            items: *items,
            sequence: *sequence,
            previous: *previous,
            batch: batch_hash(&signer, namespace, *sequence, previous, root, *items),
            item,
        }))
    }
}

/// Whether `qc` certifies `header` (names its hash in its view).
fn names(qc: &QuorumCert, header: &BlockHeader) -> bool {
    qc.block_hash == header.hash() && qc.view == header.view
}

fn unhex(s: &str, field: &'static str, max_bytes: usize) -> Result<Vec<u8>, ProofError> {
    if s.len() > 2 * max_bytes {
        return Err(ProofError::Malformed { field });
    }
    hex::decode(s).map_err(|_| ProofError::Malformed { field })
}

fn decode_field<T: crate::codec::Decode>(
    s: &str,
    field: &'static str,
    max_bytes: usize,
) -> Result<T, ProofError> {
    decode_exact(&unhex(s, field, max_bytes)?).map_err(|_| ProofError::Malformed { field })
}

fn h32(s: &str, field: &'static str) -> Result<[u8; 32], ProofError> {
    parse_hex32(s).ok_or(ProofError::Malformed { field })
}

fn path_of(steps: &[Step], field: &'static str) -> Result<Vec<PathStep>, ProofError> {
    if steps.len() > MAX_PATH {
        return Err(ProofError::Malformed { field });
    }
    steps
        .iter()
        .map(|s| {
            Ok(PathStep {
                sibling: h32(&s.sibling, field)?,
                sibling_on_left: s.left,
            })
        })
        .collect()
}

/// A receipt decoded: (tx id, failure code if it failed); see
/// [`crate::state::exec::receipt_bytes`].
fn decode_receipt(bytes: &[u8]) -> Result<([u8; 32], Option<String>), ProofError> {
    let mut r = Reader::new(bytes);
    let bad = |_| ProofError::Malformed { field: "receipt" };
    let id = r.bytes32("receipt id").map_err(bad)?;
    let _index = r.u32("receipt index").map_err(bad)?;
    let reason = match r.u8("receipt status").map_err(bad)? {
        0 => None,
        1 => Some(String::from_utf8_lossy(r.var_bytes("reason", 64).map_err(bad)?).into_owned()),
        _ => return Err(ProofError::Malformed { field: "receipt" }),
    };
    if r.remaining() != 0 {
        return Err(ProofError::Malformed { field: "receipt" });
    }
    Ok((id, reason))
}
