//! BLS12-381 keys and signatures (blst, minimal-public-key-size variant: 48-byte public keys in
//! G1, 96-byte signatures in G2), proofs of possession, and aggregation.
//!
//! Why proofs of possession: quorum certificates are verified by adding the signers' public keys
//! and making one pairing check on one message. That is only sound if no member chose its key as a
//! function of the others' (a rogue key), so every key is admitted to a committee only with a
//! signature over the key itself under a separate domain tag.
//!
//! Individual signatures are decoded (on-curve check) but not subgroup-checked or verified one by
//! one on the happy path; the aggregate is subgroup-checked and verified once. Callers fall back to
//! [`verify`] per signature only when an aggregate fails.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use blst::BLST_ERROR;
use blst::min_pk as bls;
use sha2::{Digest, Sha256};

use crate::codec::{Decode, Encode, Reader};
use crate::error::{Error, Result};

/// Domain separation tag for every consensus signature (votes and timeouts). The message itself
/// starts with a kind byte, so a vote can never be replayed as a timeout or the reverse.
pub const DST_CONSENSUS: &[u8] = b"CYPHERBFT-V1_BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
/// Domain separation tag for proofs of possession (the standard PoP tag of the IETF draft).
pub const DST_POP: &[u8] = b"BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// Length of a compressed public key.
pub const PUBLIC_KEY_LEN: usize = 48;
/// Length of a compressed signature.
pub const SIGNATURE_LEN: usize = 96;

/// SHA-256 of the concatenation of `parts`.
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// A validated BLS public key (on the curve, in the subgroup, not the identity).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey {
    point: bls::PublicKey,
    bytes: [u8; PUBLIC_KEY_LEN],
}

impl PublicKey {
    /// Decodes and fully validates a compressed key (group check included: keys are checked once,
    /// at committee formation or decode, never per signature).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let point =
            bls::PublicKey::key_validate(bytes).map_err(|_| Error::BadPoint { what: "public key" })?;
        Ok(Self {
            point,
            bytes: point.compress(),
        })
    }

    /// The compressed 48-byte encoding.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.bytes
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", hex8(&self.bytes))
    }
}

/// A BLS signature that decoded to a curve point. Subgroup membership is checked when it is
/// verified (alone or as part of an aggregate), not at decode time, because that check costs more
/// than the pairing saved by aggregation.
#[derive(Clone, Copy)]
pub struct Signature {
    point: bls::Signature,
    bytes: [u8; SIGNATURE_LEN],
}

impl PartialEq for Signature {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for Signature {}

impl Signature {
    /// Decodes a compressed signature (curve check only).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let point = bls::Signature::from_bytes(bytes).map_err(|_| Error::BadPoint { what: "signature" })?;
        Ok(Self {
            point,
            bytes: point.compress(),
        })
    }

    /// The compressed 96-byte encoding.
    pub fn to_bytes(&self) -> [u8; SIGNATURE_LEN] {
        self.bytes
    }
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signature({})", hex8(&self.bytes))
    }
}

fn hex8(b: &[u8]) -> String {
    b.iter().take(6).map(|x| format!("{x:02x}")).collect()
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

/// Signatures already made by a key, by message.
type SignMemo = Arc<Mutex<HashMap<Vec<u8>, Signature>>>;

/// A validator's secret key with its public key.
///
/// Signing is deterministic, so a key pair may carry a memo of signatures it already produced
/// ([`KeyPair::with_sign_memo`]); the twins search uses it because the same (view, block) messages
/// recur across thousands of scenarios. Verification is never memoised per key: only whole
/// certificates are, by their exact bytes, in [`VerifyCache`].
#[derive(Clone)]
pub struct KeyPair {
    secret: bls::SecretKey,
    public: PublicKey,
    memo: Option<SignMemo>,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyPair({:?})", self.public)
    }
}

impl KeyPair {
    /// Derives a key from 32 or more bytes of input key material (IETF KeyGen).
    pub fn from_ikm(ikm: &[u8]) -> Result<Self> {
        let secret = bls::SecretKey::key_gen(ikm, b"CYPHERBFT-V1").map_err(|_| Error::BadPoint {
            what: "secret key material",
        })?;
        let pk = secret.sk_to_pk();
        Ok(Self {
            secret,
            public: PublicKey {
                point: pk,
                bytes: pk.compress(),
            },
            memo: None,
        })
    }

    /// A deterministic key for tests and simulations: derived from `seed` and `index`.
    pub fn for_test(seed: u64, index: u64) -> Self {
        let ikm = sha256(&[b"cypherbft test key", &seed.to_be_bytes(), &index.to_be_bytes()]);
        // 32 bytes of IKM always satisfy key_gen.
        Self::from_ikm(&ikm).unwrap_or_else(|_| unreachable!("32-byte ikm is accepted"))
    }

    /// The same key, remembering every signature it makes (bounded; cleared when full).
    pub fn with_sign_memo(mut self) -> Self {
        self.memo = Some(Arc::new(Mutex::new(HashMap::new())));
        self
    }

    /// The public key.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// Signs `msg` under [`DST_CONSENSUS`].
    pub fn sign(&self, msg: &[u8]) -> Signature {
        if let Some(memo) = &self.memo {
            if let Some(sig) = memo.lock().ok().and_then(|m| m.get(msg).copied()) {
                return sig;
            }
            let sig = self.sign_raw(msg, DST_CONSENSUS);
            if let Ok(mut m) = memo.lock() {
                if m.len() > 200_000 {
                    m.clear();
                }
                m.insert(msg.to_vec(), sig);
            }
            return sig;
        }
        self.sign_raw(msg, DST_CONSENSUS)
    }

    /// A proof of possession: a signature over the compressed public key under [`DST_POP`].
    pub fn proof_of_possession(&self) -> Signature {
        self.sign_raw(&self.public.bytes, DST_POP)
    }

    fn sign_raw(&self, msg: &[u8], dst: &[u8]) -> Signature {
        let point = self.secret.sign(msg, dst, &[]);
        Signature {
            point,
            bytes: point.compress(),
        }
    }
}

/// Checks a proof of possession for `pk`.
pub fn verify_pop(pk: &PublicKey, pop: &Signature) -> Result<()> {
    match pop.point.verify(true, &pk.bytes, DST_POP, &[], &pk.point, false) {
        BLST_ERROR::BLST_SUCCESS => Ok(()),
        _ => Err(Error::BadSignature {
            what: "proof of possession",
        }),
    }
}

/// Verifies one signature over `msg` (with the subgroup check). Used for fallback checks.
pub fn verify(pk: &PublicKey, msg: &[u8], sig: &Signature) -> bool {
    sig.point.verify(true, msg, DST_CONSENSUS, &[], &pk.point, false) == BLST_ERROR::BLST_SUCCESS
}

/// Adds signatures without group checks (the sum is group-checked when verified).
pub fn aggregate(sigs: &[&Signature]) -> Result<Signature> {
    let points: Vec<&bls::Signature> = sigs.iter().map(|s| &s.point).collect();
    let agg = bls::AggregateSignature::aggregate(&points, false).map_err(|_| Error::Malformed {
        what: "aggregate",
        why: "no signatures",
    })?;
    let point = agg.to_signature();
    Ok(Signature {
        point,
        bytes: point.compress(),
    })
}

/// Verifies an aggregate signature by several keys on one message: the keys are added (they were
/// validated, with proof of possession, when the committee formed) and one pairing check is made.
pub fn fast_aggregate_verify(pks: &[&PublicKey], msg: &[u8], sig: &Signature) -> bool {
    if pks.is_empty() {
        return false;
    }
    let points: Vec<&bls::PublicKey> = pks.iter().map(|p| &p.point).collect();
    sig.point.fast_aggregate_verify(true, msg, DST_CONSENSUS, &points) == BLST_ERROR::BLST_SUCCESS
}

/// A bounded set of digests of certificates that already verified. Verification of identical
/// bytes always gives the same answer, so remembering successes is sound; failures are never
/// remembered (a different peer may send the valid version).
#[derive(Debug, Default)]
pub struct VerifyCache {
    seen: Mutex<std::collections::HashSet<[u8; 32]>>,
    misses: std::sync::atomic::AtomicU64,
}

impl VerifyCache {
    /// Maximum digests kept before the set is cleared.
    pub const CAPACITY: usize = 65_536;

    /// Whether `digest` verified before.
    pub fn contains(&self, digest: &[u8; 32]) -> bool {
        self.seen.lock().map(|s| s.contains(digest)).unwrap_or(false)
    }

    /// Counts a certificate that had to be checked with a pairing (not found here).
    pub fn count_check(&self) {
        self.misses.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Certificates checked with a pairing so far.
    pub fn checks(&self) -> u64 {
        self.misses.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Records a successful verification.
    pub fn insert(&self, digest: [u8; 32]) {
        if let Ok(mut s) = self.seen.lock() {
            if s.len() >= Self::CAPACITY {
                s.clear();
            }
            s.insert(digest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_aggregate() {
        let keys: Vec<KeyPair> = (0..4).map(|i| KeyPair::for_test(7, i)).collect();
        let msg = b"hello";
        let sigs: Vec<Signature> = keys.iter().map(|k| k.sign(msg)).collect();
        assert!(verify(keys[0].public(), msg, &sigs[0]));
        assert!(!verify(keys[1].public(), msg, &sigs[0]));
        let refs: Vec<&Signature> = sigs.iter().collect();
        let agg = aggregate(&refs).unwrap();
        let pks: Vec<&PublicKey> = keys.iter().map(|k| k.public()).collect();
        assert!(fast_aggregate_verify(&pks, msg, &agg));
        assert!(!fast_aggregate_verify(&pks[..3], msg, &agg));
        assert!(!fast_aggregate_verify(&pks, b"other", &agg));
    }

    #[test]
    fn pop_binds_the_key() {
        let a = KeyPair::for_test(1, 0);
        let b = KeyPair::for_test(1, 1);
        assert!(verify_pop(a.public(), &a.proof_of_possession()).is_ok());
        assert!(verify_pop(b.public(), &a.proof_of_possession()).is_err());
        // A consensus signature over the key bytes is not a PoP (different tag).
        assert!(verify_pop(a.public(), &a.sign(&a.public().to_bytes())).is_err());
    }

    #[test]
    fn encodings_round_trip_and_reject_garbage() {
        let k = KeyPair::for_test(3, 3);
        let pk = PublicKey::from_bytes(&k.public().to_bytes()).unwrap();
        assert_eq!(&pk, k.public());
        let s = k.sign(b"m");
        assert_eq!(Signature::from_bytes(&s.to_bytes()).unwrap(), s);
        assert!(PublicKey::from_bytes(&[0u8; 48]).is_err());
        assert!(Signature::from_bytes(&[0xffu8; 96]).is_err());
        assert!(PublicKey::from_bytes(&[1u8; 3]).is_err());
    }

    #[test]
    fn memo_returns_identical_signatures() {
        let k = KeyPair::for_test(5, 1).with_sign_memo();
        assert_eq!(k.sign(b"x"), k.sign(b"x"));
        assert_eq!(k.sign(b"x"), KeyPair::for_test(5, 1).sign(b"x"));
    }
}
