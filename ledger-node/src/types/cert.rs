//! Votes, timeouts and the certificates they aggregate into: what each signs, who signed (a
//! bitmap), and the one-pairing check of a certificate; with their canonical encodings.
//!
//! What is signed: a vote signs `(epoch, view, block hash)` and a timeout signs `(epoch, view)`,
//! each behind a kind byte. Because every vote of a view for one block signs identical bytes, 2f+1
//! of them add up to one signature checked with one pairing; the same holds for timeouts, so a TC is
//! as cheap to check as a QC.

use crate::codec::{self, Decode, Encode, Reader};
use crate::committee::{Committee, MAX_COMMITTEE};
use crate::crypto::{self, Signature};
use crate::error::{Error, Result};
use crate::ids::{BlockHash, ValidatorIndex, View};

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
        let n = u16::try_from(n.min(MAX_COMMITTEE)).expect("MAX_COMMITTEE fits a u16");
        Self {
            n,
            bits: vec![0; usize::from(n).div_ceil(8)],
        }
    }
    /// Rebuilds a decoded bitmap; refuses a wrong byte count or bits set past `n`.
    pub fn from_parts(n: u16, bits: Vec<u8>) -> Result<Self> {
        let want = usize::from(n).div_ceil(8);
        let tail_ok = n.is_multiple_of(8) || bits.last().is_none_or(|b| b >> (n % 8) == 0);
        if bits.len() != want || !tail_ok || usize::from(n) > MAX_COMMITTEE {
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

impl Encode for SignerBitmap {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.n.to_be_bytes());
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
