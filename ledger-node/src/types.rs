//! Consensus data: blocks, votes, quorum certificates (QC), timeouts and timeout certificates (TC).
//!
//! What is signed: a vote signs `(epoch, view, block hash)` and a timeout signs `(epoch, view)`,
//! each behind a kind byte. Because every vote of a view for one block signs identical bytes, 2f+1
//! of them add up to one signature checked with one pairing; the same holds for timeouts, so a TC is
//! as cheap to check as a QC. A block's hash covers its whole header, including the QC of its
//! parent, so a chain of hashes is also a chain of certificates.

use std::sync::Arc;

use crate::codec;
use crate::committee::{Committee, ValidatorIndex};
use crate::crypto::{self, Signature};
use crate::error::{Error, Result};
use crate::merkle;

/// A consensus round number. View 0 belongs to the genesis block only.
pub type View = u64;

/// SHA-256 of a block header's canonical encoding.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct BlockHash(pub [u8; 32]);

impl std::fmt::Debug for BlockHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in &self.0[..4] {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

const KIND_VOTE: u8 = 1;
const KIND_TIMEOUT: u8 = 2;

/// The bytes a vote signs.
pub fn vote_signing_bytes(epoch: u64, view: View, block: &BlockHash) -> [u8; 49] {
    let mut m = [0u8; 49];
    m[0] = KIND_VOTE;
    m[1..9].copy_from_slice(&epoch.to_be_bytes());
    m[9..17].copy_from_slice(&view.to_be_bytes());
    m[17..].copy_from_slice(&block.0);
    m
}

/// The bytes a timeout signs.
pub fn timeout_signing_bytes(epoch: u64, view: View) -> [u8; 17] {
    let mut m = [0u8; 17];
    m[0] = KIND_TIMEOUT;
    m[1..9].copy_from_slice(&epoch.to_be_bytes());
    m[9..17].copy_from_slice(&view.to_be_bytes());
    m
}

/// Which committee members signed a certificate: bit i (little-endian within bytes) is member i.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SignerBitmap {
    n: u16,
    bits: Vec<u8>,
}

impl SignerBitmap {
    /// An empty bitmap for a committee of `n`.
    pub fn new(n: usize) -> Self {
        let n = n.min(crate::committee::MAX_COMMITTEE) as u16;
        Self {
            n,
            bits: vec![0; usize::from(n).div_ceil(8)],
        }
    }
    /// Rebuilds a decoded bitmap; refuses a wrong byte count or bits set past `n`.
    pub fn from_parts(n: u16, bits: Vec<u8>) -> Result<Self> {
        let want = usize::from(n).div_ceil(8);
        let tail_ok = n.is_multiple_of(8) || bits.last().is_none_or(|b| b >> (n % 8) == 0);
        if bits.len() != want || !tail_ok || usize::from(n) > crate::committee::MAX_COMMITTEE {
            return Err(Error::Malformed {
                what: "signer bitmap",
                why: "length does not match its committee size",
            });
        }
        Ok(Self { n, bits })
    }
    /// Committee size the bitmap is for.
    pub fn len(&self) -> usize {
        usize::from(self.n)
    }
    /// Whether the bitmap is for an empty committee.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bits
    }
    /// Marks member `i`.
    pub fn set(&mut self, i: ValidatorIndex) {
        if i < self.n {
            self.bits[usize::from(i / 8)] |= 1 << (i % 8);
        }
    }
    /// Whether member `i` is marked.
    pub fn contains(&self, i: ValidatorIndex) -> bool {
        i < self.n && self.bits[usize::from(i / 8)] & (1 << (i % 8)) != 0
    }
    /// Number of members marked.
    pub fn count(&self) -> usize {
        self.bits.iter().map(|b| b.count_ones() as usize).sum()
    }
    /// Marked members in index order.
    pub fn iter(&self) -> impl Iterator<Item = ValidatorIndex> + '_ {
        (0..self.n).filter(|&i| self.contains(i))
    }
}

/// Checks an aggregate over the marked members' keys on `msg`, consulting the committee's cache
/// keyed by `digest` (the certificate's exact bytes).
fn verify_aggregate(
    committee: &Committee,
    what: &'static str,
    signers: &SignerBitmap,
    sig: &Signature,
    msg: &[u8],
    digest: [u8; 32],
) -> Result<()> {
    if signers.len() != committee.size() {
        return Err(Error::Malformed {
            what,
            why: "bitmap size differs from the committee",
        });
    }
    let count = signers.count();
    if count < committee.quorum() {
        return Err(Error::NoQuorum {
            what,
            signers: count,
            quorum: committee.quorum(),
        });
    }
    if committee.cache().contains(&digest) {
        return Ok(());
    }
    committee.cache().count_check();
    let pks: Vec<_> = signers.iter().filter_map(|i| committee.public_key(i)).collect();
    if crypto::fast_aggregate_verify(&pks, msg, sig) {
        committee.cache().insert(digest);
        Ok(())
    } else {
        Err(Error::BadSignature { what })
    }
}

/// A quorum certificate: 2f+1 votes for one block in one view, aggregated.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct QuorumCert {
    /// Epoch of the signing committee.
    pub epoch: u64,
    /// View in which the block was voted.
    pub view: View,
    /// The certified block.
    pub block_hash: BlockHash,
    /// Who signed.
    pub signers: SignerBitmap,
    /// Aggregate signature; `None` only for the genesis certificate (view 0).
    pub signature: Option<Signature>,
}

impl QuorumCert {
    /// The certificate every chain starts from: it certifies the genesis block by definition.
    pub fn genesis(epoch: u64, genesis: BlockHash, n: usize) -> Self {
        Self {
            epoch,
            view: 0,
            block_hash: genesis,
            signers: SignerBitmap::new(n),
            signature: None,
        }
    }

    /// Checks epoch, quorum size and the aggregate signature (one pairing, or a cache hit).
    /// A view-0 certificate must be unsigned with no signers; which block it may name is the
    /// caller's business (only the genesis block has view 0).
    pub fn verify(&self, committee: &Committee) -> Result<()> {
        if self.epoch != committee.epoch() {
            return Err(Error::WrongEpoch {
                got: self.epoch,
                expected: committee.epoch(),
            });
        }
        match (&self.signature, self.view) {
            (None, 0) if self.signers.count() == 0 => Ok(()),
            (Some(sig), v) if v > 0 => verify_aggregate(
                committee,
                "quorum certificate",
                &self.signers,
                sig,
                &vote_signing_bytes(self.epoch, self.view, &self.block_hash),
                crypto::sha256(&[b"qc", &codec::encode_to_vec(self)]),
            ),
            _ => Err(Error::Malformed {
                what: "quorum certificate",
                why: "only view 0 is unsigned",
            }),
        }
    }
}

/// A timeout certificate: 2f+1 validators gave up on `view`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TimeoutCert {
    /// Epoch of the signing committee.
    pub epoch: u64,
    /// The view that timed out.
    pub view: View,
    /// Who signed.
    pub signers: SignerBitmap,
    /// Aggregate signature over the timeout bytes.
    pub signature: Signature,
}

impl TimeoutCert {
    /// Checks epoch, quorum size and the aggregate signature.
    pub fn verify(&self, committee: &Committee) -> Result<()> {
        if self.epoch != committee.epoch() {
            return Err(Error::WrongEpoch {
                got: self.epoch,
                expected: committee.epoch(),
            });
        }
        verify_aggregate(
            committee,
            "timeout certificate",
            &self.signers,
            &self.signature,
            &timeout_signing_bytes(self.epoch, self.view),
            crypto::sha256(&[b"tc", &codec::encode_to_vec(self)]),
        )
    }
}

/// One validator's vote for a block.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Vote {
    /// Epoch of the voter's committee.
    pub epoch: u64,
    /// View of the block.
    pub view: View,
    /// The block voted for.
    pub block_hash: BlockHash,
    /// The voter.
    pub signer: ValidatorIndex,
    /// Its signature over [`vote_signing_bytes`].
    pub signature: Signature,
}

/// One validator giving up on a view, with the highest QC it knows (so the next leader can extend
/// the highest certified block).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Timeout {
    /// Epoch of the signer's committee.
    pub epoch: u64,
    /// The view given up on.
    pub view: View,
    /// The signer's highest QC.
    pub high_qc: QuorumCert,
    /// The signer.
    pub signer: ValidatorIndex,
    /// Its signature over [`timeout_signing_bytes`].
    pub signature: Signature,
}

/// The signed part of a block: everything except the transactions, which it commits to through
/// `payload_root`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BlockHeader {
    /// Committee epoch.
    pub epoch: u64,
    /// View in which it was proposed.
    pub view: View,
    /// Distance from genesis.
    pub height: u64,
    /// Proposer's time, milliseconds since the Unix epoch; strictly above the parent's.
    pub timestamp_ms: u64,
    /// Hash of the parent block (equals `qc.block_hash`).
    pub parent_hash: BlockHash,
    /// Merkle root of the transactions ([`crate::merkle`]).
    pub payload_root: [u8; 32],
    /// Application state commitment, filled and checked by [`crate::core::Application`].
    pub state_root: [u8; 32],
    /// Leader of `view`.
    pub proposer: ValidatorIndex,
    /// Certificate of the parent.
    pub qc: QuorumCert,
}

impl BlockHeader {
    /// SHA-256 of the domain tag and the canonical header encoding.
    pub fn hash(&self) -> BlockHash {
        BlockHash(crypto::sha256(&[
            b"CYPHERBFT-BLOCK-V1",
            &codec::encode_to_vec(self),
        ]))
    }
}

/// A header with its transactions (opaque bytes) and its cached hash.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Block {
    header: BlockHeader,
    payload: Vec<Vec<u8>>,
    tx_ids: Vec<[u8; 32]>,
    hash: BlockHash,
}

impl Block {
    /// Builds a block, computing the payload root and the hash.
    pub fn new(mut header: BlockHeader, payload: Vec<Vec<u8>>) -> Self {
        let tx_ids: Vec<[u8; 32]> = payload.iter().map(|t| merkle::leaf_hash(t)).collect();
        header.payload_root = merkle::root_of_leaves(&tx_ids);
        let hash = header.hash();
        Self {
            header,
            payload,
            tx_ids,
            hash,
        }
    }

    /// Rebuilds a decoded block, refusing a payload that does not match the header's root.
    pub fn from_parts(header: BlockHeader, payload: Vec<Vec<u8>>) -> Result<Self> {
        let tx_ids: Vec<[u8; 32]> = payload.iter().map(|t| merkle::leaf_hash(t)).collect();
        if merkle::root_of_leaves(&tx_ids) != header.payload_root {
            return Err(Error::Malformed {
                what: "block",
                why: "payload does not match its root",
            });
        }
        let hash = header.hash();
        Ok(Self {
            header,
            payload,
            tx_ids,
            hash,
        })
    }

    /// The genesis block of a committee: view 0, height 0, agreed start time.
    pub fn genesis(committee: &Committee, timestamp_ms: u64, state_root: [u8; 32]) -> Arc<Self> {
        Arc::new(Self::new(
            BlockHeader {
                epoch: committee.epoch(),
                view: 0,
                height: 0,
                timestamp_ms,
                parent_hash: BlockHash::default(),
                payload_root: [0; 32],
                state_root,
                proposer: 0,
                qc: QuorumCert::genesis(committee.epoch(), BlockHash::default(), committee.size()),
            },
            Vec::new(),
        ))
    }

    /// The header.
    pub fn header(&self) -> &BlockHeader {
        &self.header
    }
    /// The transactions.
    pub fn payload(&self) -> &[Vec<u8>] {
        &self.payload
    }
    /// Transaction ids (Merkle leaf hashes), in payload order.
    pub fn tx_ids(&self) -> &[[u8; 32]] {
        &self.tx_ids
    }
    /// The block's hash.
    pub fn hash(&self) -> BlockHash {
        self.hash
    }
    /// View it was proposed in.
    pub fn view(&self) -> View {
        self.header.view
    }
    /// Height.
    pub fn height(&self) -> u64 {
        self.header.height
    }
    /// Parent hash.
    pub fn parent_hash(&self) -> BlockHash {
        self.header.parent_hash
    }
    /// QC of the parent.
    pub fn qc(&self) -> &QuorumCert {
        &self.header.qc
    }
    /// Agreed timestamp.
    pub fn timestamp_ms(&self) -> u64 {
        self.header.timestamp_ms
    }
    /// Size in bytes of the transactions (without framing).
    pub fn payload_bytes(&self) -> usize {
        self.payload.iter().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitmap_sets_counts_and_refuses_stray_bits() {
        let mut b = SignerBitmap::new(10);
        b.set(0);
        b.set(9);
        b.set(12);
        assert_eq!(b.count(), 2);
        assert_eq!(b.iter().collect::<Vec<_>>(), vec![0, 9]);
        assert!(SignerBitmap::from_parts(10, vec![0, 0b100]).is_err());
        assert!(SignerBitmap::from_parts(10, vec![0]).is_err());
        assert!(SignerBitmap::from_parts(10, vec![1, 0b10]).is_ok());
    }

    #[test]
    fn signing_bytes_differ_by_kind() {
        let v = vote_signing_bytes(1, 2, &BlockHash([0; 32]));
        let t = timeout_signing_bytes(1, 2);
        assert_ne!(v[0], t[0]);
        assert_eq!(v[1..17], t[1..17]);
    }
}
