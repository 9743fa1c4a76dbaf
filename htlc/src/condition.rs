//! Hash locks: a [`Condition`] is the SHA-256 of a 32-byte [`Fulfillment`] (the preimage).
//! They are distinct types so one cannot be passed where the other is meant.
//!
//! [`FulfillmentKey`] derives fulfillments from a shared secret and the packet data exactly as
//! STREAM (RFC 29) does, so a receiver can recompute the preimage of any packet it was sent
//! without storing per-packet state, and real ILP senders can pay CypherLink receivers.

use std::fmt;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// HMAC label that turns a STREAM shared secret into the fulfillment-derivation key.
pub const STREAM_FULFILLMENT_LABEL: &[u8] = b"ilp_stream_fulfillment";
/// HMAC label that turns a STREAM shared secret into the AES-256-GCM data key.
pub const STREAM_ENCRYPTION_LABEL: &[u8] = b"ilp_stream_encryption";

/// Why bytes or text could not become a condition or fulfillment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashLockError {
    /// Not exactly 32 bytes.
    #[error("expected 32 bytes, got {len}")]
    WrongLength {
        /// The length found.
        len: usize,
    },
    /// Not hexadecimal.
    #[error("not valid hex: {reason}")]
    InvalidHex {
        /// The decoder's explanation.
        reason: String,
    },
}

/// Exactly 32 bytes, the length of a condition and of a fulfillment.
fn array_32(bytes: &[u8]) -> Result<[u8; 32], HashLockError> {
    <[u8; 32]>::try_from(bytes).map_err(|_| HashLockError::WrongLength { len: bytes.len() })
}

fn parse_32(hex_text: &str) -> Result<[u8; 32], HashLockError> {
    let bytes = hex::decode(hex_text).map_err(|e| HashLockError::InvalidHex {
        reason: e.to_string(),
    })?;
    array_32(&bytes)
}

/// The execution condition of a hash-locked transfer: SHA-256 of its fulfillment. Public.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Condition([u8; 32]);

/// The 32-byte preimage that releases a hash-locked transfer. Secret until revealed, so `Debug`
/// does not print it, and comparisons run in constant time.
#[derive(Clone, Copy)]
pub struct Fulfillment([u8; 32]);

impl Condition {
    /// Wraps 32 bytes that are already a condition.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Condition(bytes)
    }

    /// Wraps a 32-byte slice.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, HashLockError> {
        array_32(bytes).map(Condition)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, HashLockError> {
        parse_32(text).map(Condition)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// True if `fulfillment` hashes to this condition (constant-time comparison).
    pub fn is_fulfilled_by(&self, fulfillment: &Fulfillment) -> bool {
        fulfillment.condition().0.ct_eq(&self.0).into()
    }
}

impl Fulfillment {
    /// Wraps a 32-byte preimage.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Fulfillment(bytes)
    }

    /// Wraps a 32-byte slice.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, HashLockError> {
        array_32(bytes).map(Fulfillment)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, HashLockError> {
        parse_32(text).map(Fulfillment)
    }

    /// The raw preimage.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex of the preimage. Reveals the secret: only for the wire and for storage.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// SHA-256 of the preimage.
    pub fn condition(&self) -> Condition {
        Condition(Sha256::digest(self.0).into())
    }
}

impl PartialEq for Fulfillment {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for Fulfillment {}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Condition({})", self.to_hex())
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Fulfillment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The condition identifies the preimage without revealing it.
        write!(f, "Fulfillment(of {})", self.condition().to_hex())
    }
}

macro_rules! hex_serde {
    ($ty:ident) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.to_hex())
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                $ty::from_hex(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}
hex_serde!(Condition);
hex_serde!(Fulfillment);

/// Derives fulfillments for packets sent under one shared secret, STREAM-style:
/// `fulfillment = HMAC-SHA256(HMAC-SHA256(secret, "ilp_stream_fulfillment"), data)`.
///
/// The keyed HMAC state is computed once, so each derivation costs one HMAC over the data.
#[derive(Clone)]
pub struct FulfillmentKey {
    keyed: HmacSha256,
}

impl FulfillmentKey {
    /// Prepares the derivation key for `shared_secret`.
    pub fn from_shared_secret(shared_secret: &[u8]) -> Self {
        let key = hmac_sha256(shared_secret, STREAM_FULFILLMENT_LABEL);
        FulfillmentKey {
            keyed: keyed_hmac(&key),
        }
    }

    /// The fulfillment for a packet carrying `data`.
    pub fn fulfillment(&self, data: &[u8]) -> Fulfillment {
        let mut mac = self.keyed.clone();
        mac.update(data);
        Fulfillment(mac.finalize().into_bytes().into())
    }

    /// The fulfillment for `data` if it releases `condition`; `None` means the packet was not
    /// built with this secret (or its data was altered): reject it with F05.
    pub fn fulfill(&self, data: &[u8], condition: &Condition) -> Option<Fulfillment> {
        let fulfillment = self.fulfillment(data);
        condition.is_fulfilled_by(&fulfillment).then_some(fulfillment)
    }
}

impl fmt::Debug for FulfillmentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FulfillmentKey(..)")
    }
}

/// The STREAM AES-256-GCM key for a shared secret: `HMAC-SHA256(secret, "ilp_stream_encryption")`.
pub fn stream_encryption_key(shared_secret: &[u8]) -> [u8; 32] {
    hmac_sha256(shared_secret, STREAM_ENCRYPTION_LABEL)
}

fn keyed_hmac(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; new_from_slice cannot fail for it.
    <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = keyed_hmac(key);
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use proptest::prelude::*;

    #[test]
    fn condition_is_sha256_of_fulfillment() {
        let f = Fulfillment::from_bytes([0u8; 32]);
        // SHA-256 of 32 zero bytes.
        assert_eq!(
            f.condition().to_hex(),
            "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
        );
        assert!(f.condition().is_fulfilled_by(&f));
        assert!(!f.condition().is_fulfilled_by(&Fulfillment::from_bytes([1; 32])));
    }

    #[test]
    fn stream_encryption_key_matches_the_published_vector() {
        // ../shared/vectors/README.md: shared secret "foo".
        let expected = base64::engine::general_purpose::STANDARD
            .decode("zfOGMU/uY+EOUCE6tN3WhE77bF/N6pS0wSOmMgEAMEA=")
            .unwrap();
        assert_eq!(stream_encryption_key(b"foo").as_slice(), expected.as_slice());
    }

    #[test]
    fn fulfillment_derivation_matches_the_published_stream_vector() {
        // Cross-implementation vector (JavaScript STREAM and interledger-rs agree on it):
        // a 32-byte shared secret, 34 bytes of encrypted packet data, and their fulfillment.
        let secret = hex::decode("7edb755d76f8f9d314d3416eed50fdb35192e543e7315c7ffee6906667a69624").unwrap();
        let data =
            hex::decode("77f8d5ea3fc8e08cd4de699ff6cb429b97ac44184ce85a0aed92bd49f8c4b16c73df").unwrap();
        let expected = "18063849e5ec58e3527098319849b6b7c607e97c77410d44366c78c13be26b27";
        let key = FulfillmentKey::from_shared_secret(&secret);
        assert_eq!(key.fulfillment(&data).to_hex(), expected);
        let condition = key.fulfillment(&data).condition();
        assert!(key.fulfill(&data, &condition).is_some());
    }

    #[test]
    fn fulfill_checks_the_condition() {
        let key = FulfillmentKey::from_shared_secret(b"secret");
        let condition = key.fulfillment(b"abc").condition();
        assert!(key.fulfill(b"abc", &condition).is_some());
        assert!(key.fulfill(b"abd", &condition).is_none(), "altered data");
        let other = FulfillmentKey::from_shared_secret(b"other");
        assert!(other.fulfill(b"abc", &condition).is_none(), "other secret");
    }

    #[test]
    fn debug_does_not_leak_the_preimage() {
        let f = Fulfillment::from_bytes([0xab; 32]);
        assert!(!format!("{f:?}").contains(&"ab".repeat(32)));
    }

    #[test]
    fn hex_parsing_is_strict() {
        assert_eq!(
            Condition::from_hex("00"),
            Err(HashLockError::WrongLength { len: 1 })
        );
        assert!(matches!(
            Condition::from_hex("zz"),
            Err(HashLockError::InvalidHex { .. })
        ));
        let c = Condition::from_bytes([7; 32]);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Condition>(&json).unwrap(), c);
    }

    proptest! {
        #[test]
        fn only_the_preimage_fulfills(a in any::<[u8; 32]>(), b in any::<[u8; 32]>()) {
            let fa = Fulfillment::from_bytes(a);
            prop_assert!(fa.condition().is_fulfilled_by(&fa));
            prop_assert_eq!(fa.condition().is_fulfilled_by(&Fulfillment::from_bytes(b)), a == b);
        }
    }
}
