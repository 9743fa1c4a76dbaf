//! Blocks: the signed header and the transactions it commits to, with their canonical
//! encodings. A block's hash covers its whole header, including the QC of its parent, so a chain
//! of hashes is also a chain of certificates.

use std::sync::Arc;

use super::cert::QuorumCert;
use crate::codec::{self, Decode, Encode, Reader, get_txs, put_txs};
use crate::committee::Committee;
use crate::crypto;
use crate::error::{Error, Result};
use crate::ids::{BlockHash, ValidatorIndex, View};
use crate::merkle;

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
    /// Application state commitment, filled and checked by [`crate::consensus::core::Application`].
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

impl Encode for BlockHeader {
    fn encode(&self, out: &mut Vec<u8>) {
        for x in [self.epoch, self.view, self.height, self.timestamp_ms] {
            out.extend_from_slice(&x.to_be_bytes());
        }
        self.parent_hash.encode(out);
        out.extend_from_slice(&self.payload_root);
        out.extend_from_slice(&self.state_root);
        out.extend_from_slice(&self.proposer.to_be_bytes());
        self.qc.encode(out);
    }
}
impl Decode for BlockHeader {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            epoch: r.u64("block epoch")?,
            view: r.u64("block view")?,
            height: r.u64("block height")?,
            timestamp_ms: r.u64("block timestamp")?,
            parent_hash: BlockHash::decode(r)?,
            payload_root: r.bytes32("payload root")?,
            state_root: r.bytes32("state root")?,
            proposer: r.u16("proposer")?,
            qc: QuorumCert::decode(r)?,
        })
    }
}

impl Encode for Block {
    fn encode(&self, out: &mut Vec<u8>) {
        self.header().encode(out);
        put_txs(out, self.payload());
    }
}
impl Decode for Block {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let header = BlockHeader::decode(r)?;
        let payload = get_txs(r)?;
        Block::from_parts(header, payload)
    }
}
