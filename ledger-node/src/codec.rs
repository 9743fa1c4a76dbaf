//! The canonical binary encoding: its rules, its limits, and the [`Encode`] / [`Decode`] traits
//! with the [`Reader`] every decoder reads through.
//!
//! Hand-written so that the bytes are fixed by the code alone: integers are big-endian, byte
//! strings carry a u32 length, lists a u32 (or u16) count, options a 0/1 tag. There is exactly one
//! encoding per value, so block hashes and signatures computed on different machines agree.
//! Decoding checks every length against the limits below before allocating, never panics, and
//! refuses trailing bytes; it is the entry point for untrusted network input (see the fuzz
//! targets). A leaf: each type's encoding sits next to the type (keys in [`crate::crypto`],
//! blocks and certificates in [`crate::types`], messages in [`crate::consensus::wire`]).

use crate::error::{Error, Result};

/// Largest single transaction.
pub const MAX_TX_BYTES: usize = 64 * 1024;
/// Most transactions in one block or one gossip batch.
pub const MAX_TXS: usize = 100_000;
/// Largest total transaction bytes in one block or batch.
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024 * 1024;
/// Most blocks in one sync response (its count, like a request's maximum, is a u16).
pub const MAX_BLOCKS_PER_RESPONSE: u16 = 64;
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

/// Appends `len` as a u32 length or count prefix.
///
/// # Panics
///
/// If `len` exceeds `u32::MAX`. Nothing the chain encodes comes near it (decoding refuses any
/// message over [`MAX_MESSAGE_BYTES`]), so such a value is its builder's bug; a truncated prefix
/// would instead encode, hash and sign a value other than the one whose bytes follow.
pub fn put_len_u32(out: &mut Vec<u8>, len: usize) {
    let len = u32::try_from(len).expect("a length in the canonical encoding fits its u32 prefix");
    out.extend_from_slice(&len.to_be_bytes());
}

/// Appends `count` as a u16 count prefix.
///
/// # Panics
///
/// If `count` exceeds `u16::MAX`. The lists counted in a u16 are far shorter on valid input
/// (committees, block lists: see [`crate::committee::MAX_COMMITTEE`] and
/// [`MAX_BLOCKS_PER_RESPONSE`]); a truncated count would encode a different value.
pub fn put_len_u16(out: &mut Vec<u8>, count: usize) {
    let count = u16::try_from(count).expect("a count in the canonical encoding fits its u16 prefix");
    out.extend_from_slice(&count.to_be_bytes());
}

/// Appends a u32 length and the bytes.
pub fn put_var_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_len_u32(out, b.len());
    out.extend_from_slice(b);
}

/// Appends a list of transactions.
pub fn put_txs(out: &mut Vec<u8>, txs: &[Vec<u8>]) {
    put_len_u32(out, txs.len());
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
