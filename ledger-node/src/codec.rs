//! Canonical binary encoding of every consensus type and message.
//!
//! Hand-written so that the bytes are fixed by this file alone: integers are big-endian, byte
//! strings carry a u32 length, lists a u32 (or u16) count, options a 0/1 tag. There is exactly one
//! encoding per value, so block hashes and signatures computed on different machines agree.
//! Decoding checks every length against the limits below before allocating, never panics, and
//! refuses trailing bytes; it is the entry point for untrusted network input (see the fuzz target).

use std::sync::Arc;

use crate::committee::MAX_COMMITTEE;
use crate::crypto::{PUBLIC_KEY_LEN, PublicKey, SIGNATURE_LEN, Signature};
use crate::error::{Error, Result};
use crate::messages::{Message, Proposal};
use crate::types::{Block, BlockHash, BlockHeader, QuorumCert, SignerBitmap, Timeout, TimeoutCert, Vote};

/// Largest single transaction.
pub const MAX_TX_BYTES: usize = 64 * 1024;
/// Most transactions in one block or one gossip batch.
pub const MAX_TXS: usize = 100_000;
/// Largest total transaction bytes in one block or batch.
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024 * 1024;
/// Most blocks in one sync response.
pub const MAX_BLOCKS_PER_RESPONSE: usize = 64;
/// Largest encoded message a transport should accept as one frame.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Writes values in canonical form.
pub trait Encode {
    /// Appends the encoding of `self` to `out`.
    fn encode(&self, out: &mut Vec<u8>);
}

/// Reads values, checking limits.
pub trait Decode: Sized {
    /// Reads one value from `r`.
    fn decode(r: &mut Reader<'_>) -> Result<Self>;
}

/// The encoding of `v` as a new vector.
pub fn encode_to_vec<T: Encode + ?Sized>(v: &T) -> Vec<u8> {
    let mut out = Vec::new();
    v.encode(&mut out);
    out
}

/// Decodes exactly one `T` from `bytes`, refusing leftovers.
pub fn decode_exact<T: Decode>(bytes: &[u8]) -> Result<T> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(Error::TooLong {
            what: "message",
            len: bytes.len(),
            max: MAX_MESSAGE_BYTES,
        });
    }
    let mut r = Reader { buf: bytes, pos: 0 };
    let v = T::decode(&mut r)?;
    match r.remaining() {
        0 => Ok(v),
        extra => Err(Error::TrailingBytes { extra }),
    }
}

/// Encodes a network message (the frame body a transport sends).
pub fn encode_message(m: &Message) -> Vec<u8> {
    encode_to_vec(m)
}

/// Decodes a network message; never panics on any input.
pub fn decode_message(bytes: &[u8]) -> Result<Message> {
    decode_exact(bytes)
}

/// A cursor over untrusted bytes.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }
    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
    /// Takes `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(Error::Decode { what, at: self.pos });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
    /// Reads a u8.
    pub fn u8(&mut self, what: &'static str) -> Result<u8> {
        Ok(self.array::<1>(what)?[0])
    }
    /// Reads a big-endian u16.
    pub fn u16(&mut self, what: &'static str) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }
    /// Reads a big-endian u32.
    pub fn u32(&mut self, what: &'static str) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }
    /// Reads a big-endian u64.
    pub fn u64(&mut self, what: &'static str) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }
    /// Reads 32 raw bytes.
    pub fn bytes32(&mut self, what: &'static str) -> Result<[u8; 32]> {
        self.array(what)
    }
    /// Reads a u32 length (at most `max`) and that many bytes.
    pub fn var_bytes(&mut self, what: &'static str, max: usize) -> Result<&'a [u8]> {
        let len = self.u32(what)? as usize;
        if len > max {
            return Err(Error::TooLong { what, len, max });
        }
        self.take(len, what)
    }
    /// Reads a 0/1 option tag.
    pub fn flag(&mut self, what: &'static str) -> Result<bool> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Error::Decode {
                what,
                at: self.pos - 1,
            }),
        }
    }
}

/// Appends a u32 length and the bytes.
pub fn put_var_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
}

impl Encode for PublicKey {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bytes());
    }
}
impl Decode for PublicKey {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        PublicKey::from_bytes(r.take(PUBLIC_KEY_LEN, "public key")?)
    }
}
impl Encode for Signature {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bytes());
    }
}
impl Decode for Signature {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Signature::from_bytes(r.take(SIGNATURE_LEN, "signature")?)
    }
}
impl Encode for BlockHash {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}
impl Decode for BlockHash {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(BlockHash(r.bytes32("block hash")?))
    }
}

impl Encode for SignerBitmap {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.len() as u16).to_be_bytes());
        out.extend_from_slice(self.as_bytes());
    }
}
impl Decode for SignerBitmap {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let n = r.u16("bitmap size")?;
        if usize::from(n) > MAX_COMMITTEE {
            return Err(Error::TooLong {
                what: "bitmap",
                len: n.into(),
                max: MAX_COMMITTEE,
            });
        }
        let bits = r.take(usize::from(n).div_ceil(8), "bitmap")?.to_vec();
        SignerBitmap::from_parts(n, bits)
    }
}

impl Encode for QuorumCert {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.extend_from_slice(&self.view.to_be_bytes());
        self.block_hash.encode(out);
        self.signers.encode(out);
        match &self.signature {
            None => out.push(0),
            Some(s) => {
                out.push(1);
                s.encode(out);
            }
        }
    }
}
impl Decode for QuorumCert {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            epoch: r.u64("qc epoch")?,
            view: r.u64("qc view")?,
            block_hash: BlockHash::decode(r)?,
            signers: SignerBitmap::decode(r)?,
            signature: if r.flag("qc signature tag")? {
                Some(Signature::decode(r)?)
            } else {
                None
            },
        })
    }
}

impl Encode for TimeoutCert {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.extend_from_slice(&self.view.to_be_bytes());
        self.signers.encode(out);
        self.signature.encode(out);
    }
}
impl Decode for TimeoutCert {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            epoch: r.u64("tc epoch")?,
            view: r.u64("tc view")?,
            signers: SignerBitmap::decode(r)?,
            signature: Signature::decode(r)?,
        })
    }
}

impl Encode for Vote {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.extend_from_slice(&self.view.to_be_bytes());
        self.block_hash.encode(out);
        out.extend_from_slice(&self.signer.to_be_bytes());
        self.signature.encode(out);
    }
}
impl Decode for Vote {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            epoch: r.u64("vote epoch")?,
            view: r.u64("vote view")?,
            block_hash: BlockHash::decode(r)?,
            signer: r.u16("vote signer")?,
            signature: Signature::decode(r)?,
        })
    }
}

impl Encode for Timeout {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.extend_from_slice(&self.view.to_be_bytes());
        self.high_qc.encode(out);
        out.extend_from_slice(&self.signer.to_be_bytes());
        self.signature.encode(out);
    }
}
impl Decode for Timeout {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            epoch: r.u64("timeout epoch")?,
            view: r.u64("timeout view")?,
            high_qc: QuorumCert::decode(r)?,
            signer: r.u16("timeout signer")?,
            signature: Signature::decode(r)?,
        })
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

/// Appends a list of transactions.
pub fn put_txs(out: &mut Vec<u8>, txs: &[Vec<u8>]) {
    out.extend_from_slice(&(txs.len() as u32).to_be_bytes());
    for tx in txs {
        put_var_bytes(out, tx);
    }
}

/// Reads a list of transactions within [`MAX_TXS`], [`MAX_TX_BYTES`] and [`MAX_PAYLOAD_BYTES`].
pub fn get_txs(r: &mut Reader<'_>) -> Result<Vec<Vec<u8>>> {
    let count = r.u32("transaction count")? as usize;
    if count > MAX_TXS {
        return Err(Error::TooLong {
            what: "transaction count",
            len: count,
            max: MAX_TXS,
        });
    }
    // Each transaction takes at least its 4-byte length: never reserve past the input.
    let mut txs = Vec::with_capacity(count.min(r.remaining() / 4));
    let mut total = 0usize;
    for _ in 0..count {
        let tx = r.var_bytes("transaction", MAX_TX_BYTES)?;
        total += tx.len();
        if total > MAX_PAYLOAD_BYTES {
            return Err(Error::TooLong {
                what: "payload",
                len: total,
                max: MAX_PAYLOAD_BYTES,
            });
        }
        txs.push(tx.to_vec());
    }
    Ok(txs)
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

const TAG_PROPOSAL: u8 = 1;
const TAG_VOTE: u8 = 2;
const TAG_TIMEOUT: u8 = 3;
const TAG_TC: u8 = 4;
const TAG_SYNC_INFO: u8 = 5;
const TAG_TXS: u8 = 6;
const TAG_BLOCK_REQUEST: u8 = 7;
const TAG_BLOCK_RESPONSE: u8 = 8;

fn put_opt_tc(out: &mut Vec<u8>, tc: &Option<TimeoutCert>) {
    match tc {
        None => out.push(0),
        Some(tc) => {
            out.push(1);
            tc.encode(out);
        }
    }
}
fn get_opt_tc(r: &mut Reader<'_>) -> Result<Option<TimeoutCert>> {
    Ok(if r.flag("tc tag")? {
        Some(TimeoutCert::decode(r)?)
    } else {
        None
    })
}

impl Encode for Message {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Message::Proposal(p) => {
                out.push(TAG_PROPOSAL);
                p.block.encode(out);
                put_opt_tc(out, &p.tc);
            }
            Message::Vote(v) => {
                out.push(TAG_VOTE);
                v.encode(out);
            }
            Message::Timeout(t) => {
                out.push(TAG_TIMEOUT);
                t.encode(out);
            }
            Message::TimeoutCert(tc) => {
                out.push(TAG_TC);
                tc.encode(out);
            }
            Message::SyncInfo { high_qc, high_tc } => {
                out.push(TAG_SYNC_INFO);
                high_qc.encode(out);
                put_opt_tc(out, high_tc);
            }
            Message::Transactions(txs) => {
                out.push(TAG_TXS);
                put_txs(out, txs);
            }
            Message::BlockRequest { hash, max_blocks } => {
                out.push(TAG_BLOCK_REQUEST);
                hash.encode(out);
                out.extend_from_slice(&max_blocks.to_be_bytes());
            }
            Message::BlockResponse(blocks) => {
                out.push(TAG_BLOCK_RESPONSE);
                out.extend_from_slice(&(blocks.len() as u16).to_be_bytes());
                for b in blocks {
                    b.encode(out);
                }
            }
        }
    }
}

impl Decode for Message {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(match r.u8("message tag")? {
            TAG_PROPOSAL => Message::Proposal(Proposal {
                block: Arc::new(Block::decode(r)?),
                tc: get_opt_tc(r)?,
            }),
            TAG_VOTE => Message::Vote(Vote::decode(r)?),
            TAG_TIMEOUT => Message::Timeout(Timeout::decode(r)?),
            TAG_TC => Message::TimeoutCert(TimeoutCert::decode(r)?),
            TAG_SYNC_INFO => Message::SyncInfo {
                high_qc: QuorumCert::decode(r)?,
                high_tc: get_opt_tc(r)?,
            },
            TAG_TXS => Message::Transactions(get_txs(r)?),
            TAG_BLOCK_REQUEST => Message::BlockRequest {
                hash: BlockHash::decode(r)?,
                max_blocks: r.u16("max blocks")?,
            },
            TAG_BLOCK_RESPONSE => {
                let n = usize::from(r.u16("block count")?);
                if n > MAX_BLOCKS_PER_RESPONSE {
                    return Err(Error::TooLong {
                        what: "block response",
                        len: n,
                        max: MAX_BLOCKS_PER_RESPONSE,
                    });
                }
                let mut blocks = Vec::with_capacity(n);
                for _ in 0..n {
                    blocks.push(Arc::new(Block::decode(r)?));
                }
                Message::BlockResponse(blocks)
            }
            _ => {
                return Err(Error::Decode {
                    what: "message tag",
                    at: 0,
                });
            }
        })
    }
}
