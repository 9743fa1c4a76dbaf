//! Public keys as DID documents carry them: [`PublicKey`] (Ed25519 for signatures, X25519 for
//! key agreement), their Multikey form (`publicKeyMultibase`: multibase base58btc, `z...`, over
//! the multicodec prefix and the raw key) and their JWK `x` (base64url without padding).
//!
//! The multicodec prefixes are the unsigned-varint encodings of `ed25519-pub` (0xed) and
//! `x25519-pub` (0xec): `0xed 0x01` and `0xec 0x01`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::VerifyingKey;

use crate::error::DidError;

/// Multicodec prefix of an Ed25519 public key (`ed25519-pub`, 0xed, as a varint).
pub const ED25519_PUB_MULTICODEC: [u8; 2] = [0xed, 0x01];
/// Multicodec prefix of an X25519 public key (`x25519-pub`, 0xec, as a varint).
pub const X25519_PUB_MULTICODEC: [u8; 2] = [0xec, 0x01];
/// Multibase prefix of base58btc.
pub const BASE58BTC_PREFIX: char = 'z';
/// Bytes of an Ed25519 or X25519 public key.
pub const KEY_LEN: usize = 32;

/// The longest multibase value decoded: a 34-byte multikey is 46-48 characters, so anything
/// much longer is refused before the (quadratic) base58 decoding.
const MAX_MULTIBASE_LEN: usize = 128;

/// A public key a verification method can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PublicKey {
    /// An Ed25519 key, for the signing relations.
    Ed25519(VerifyingKey),
    /// An X25519 key (a Montgomery u-coordinate), for key agreement.
    X25519([u8; KEY_LEN]),
}

impl PublicKey {
    /// The raw 32 key bytes.
    pub fn to_bytes(&self) -> [u8; KEY_LEN] {
        match self {
            PublicKey::Ed25519(key) => key.to_bytes(),
            PublicKey::X25519(bytes) => *bytes,
        }
    }

    /// The Ed25519 key, if this is one.
    pub fn ed25519(&self) -> Option<&VerifyingKey> {
        match self {
            PublicKey::Ed25519(key) => Some(key),
            PublicKey::X25519(_) => None,
        }
    }

    /// The multibase value of the key's Multikey form, `z6Mk...` for Ed25519, `z6LS...` for
    /// X25519.
    pub fn to_multibase(&self) -> String {
        let prefix = match self {
            PublicKey::Ed25519(_) => ED25519_PUB_MULTICODEC,
            PublicKey::X25519(_) => X25519_PUB_MULTICODEC,
        };
        let mut bytes = [0u8; 2 + KEY_LEN];
        bytes[..2].copy_from_slice(&prefix);
        bytes[2..].copy_from_slice(&self.to_bytes());
        format!("{BASE58BTC_PREFIX}{}", bs58::encode(bytes).into_string())
    }

    /// Decodes a Multikey `publicKeyMultibase` (or a did:key's method-specific id).
    pub fn from_multibase(value: &str) -> Result<PublicKey, DidError> {
        let Some(base58) = value.strip_prefix(BASE58BTC_PREFIX) else {
            return Err(DidError::InvalidPublicKey {
                reason: "multibase value is not base58btc ('z')",
            });
        };
        if base58.len() > MAX_MULTIBASE_LEN {
            return Err(DidError::InvalidPublicKey {
                reason: "multibase value too long",
            });
        }
        let bytes = bs58::decode(base58)
            .into_vec()
            .map_err(|_| DidError::InvalidPublicKey {
                reason: "not base58btc",
            })?;
        if bytes.len() < 2 {
            return Err(DidError::InvalidPublicKey {
                reason: "no multicodec prefix",
            });
        }
        let (prefix, raw) = bytes.split_at(2);
        match <[u8; 2]>::try_from(prefix).expect("two bytes") {
            ED25519_PUB_MULTICODEC => PublicKey::ed25519_from_bytes(raw),
            X25519_PUB_MULTICODEC => Ok(PublicKey::X25519(exact_key(raw)?)),
            _ => Err(DidError::UnsupportedPublicKeyType {
                kind: multicodec_name(&bytes),
            }),
        }
    }

    /// An Ed25519 key from its 32 bytes, which must be a valid point.
    pub fn ed25519_from_bytes(raw: &[u8]) -> Result<PublicKey, DidError> {
        let key = VerifyingKey::from_bytes(&exact_key(raw)?).map_err(|_| DidError::InvalidPublicKey {
            reason: "not an Ed25519 point",
        })?;
        Ok(PublicKey::Ed25519(key))
    }

    /// The JWK curve name: `Ed25519` or `X25519`.
    pub fn jwk_curve(&self) -> &'static str {
        match self {
            PublicKey::Ed25519(_) => "Ed25519",
            PublicKey::X25519(_) => "X25519",
        }
    }

    /// The JWK `x` member: the raw key in base64url without padding.
    pub fn jwk_x(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.to_bytes())
    }

    /// A key from a JWK's `crv` and `x` (the caller has checked `kty` is `OKP`).
    pub fn from_jwk(crv: &str, x: &str) -> Result<PublicKey, DidError> {
        let raw = URL_SAFE_NO_PAD
            .decode(x)
            .map_err(|_| DidError::InvalidPublicKey {
                reason: "JWK x is not base64url without padding",
            })?;
        match crv {
            "Ed25519" => PublicKey::ed25519_from_bytes(&raw),
            "X25519" => Ok(PublicKey::X25519(exact_key(&raw)?)),
            other => Err(DidError::UnsupportedPublicKeyType {
                kind: format!("JWK crv {other}"),
            }),
        }
    }
}

/// The X25519 key of an Ed25519 key (the birational map to the Montgomery curve), as did:key
/// derives its key agreement key.
pub fn x25519_from_ed25519(key: &VerifyingKey) -> [u8; KEY_LEN] {
    key.to_montgomery().to_bytes()
}

fn exact_key(raw: &[u8]) -> Result<[u8; KEY_LEN], DidError> {
    raw.try_into().map_err(|_| DidError::InvalidPublicKeyLength {
        expected: KEY_LEN,
        actual: raw.len(),
    })
}

/// Names the multicodec at the start of `bytes` (an unsigned varint) for an error message.
fn multicodec_name(bytes: &[u8]) -> String {
    let mut code: u64 = 0;
    for (i, &b) in bytes.iter().take(9).enumerate() {
        code |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return format!("multicodec 0x{code:x}");
        }
    }
    "malformed multicodec".to_owned()
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;

    use super::*;

    #[test]
    fn multikey_round_trips_and_has_the_known_prefixes() {
        let ed = PublicKey::Ed25519(SigningKey::from_bytes(&[7; 32]).verifying_key());
        let ed_text = ed.to_multibase();
        assert!(ed_text.starts_with("z6Mk"), "{ed_text}");
        assert_eq!(PublicKey::from_multibase(&ed_text).unwrap(), ed);
        let x = PublicKey::X25519([9; 32]);
        let x_text = x.to_multibase();
        assert!(x_text.starts_with("z6LS"), "{x_text}");
        assert_eq!(PublicKey::from_multibase(&x_text).unwrap(), x);
    }

    #[test]
    fn jwk_round_trips() {
        let ed = PublicKey::Ed25519(SigningKey::from_bytes(&[7; 32]).verifying_key());
        assert_eq!(PublicKey::from_jwk("Ed25519", &ed.jwk_x()).unwrap(), ed);
        let x = PublicKey::X25519([9; 32]);
        assert_eq!(PublicKey::from_jwk("X25519", &x.jwk_x()).unwrap(), x);
    }

    #[test]
    fn bad_keys_get_their_own_errors() {
        let encode = |bytes: &[u8]| format!("z{}", bs58::encode(bytes).into_string());
        let short = encode(&[0xed, 0x01, 1, 2, 3]);
        assert_eq!(
            PublicKey::from_multibase(&short),
            Err(DidError::InvalidPublicKeyLength {
                expected: 32,
                actual: 3
            })
        );
        let secp = encode(&[0xe7, 0x01, 2, 3]);
        assert_eq!(
            PublicKey::from_multibase(&secp),
            Err(DidError::UnsupportedPublicKeyType {
                kind: "multicodec 0xe7".into()
            })
        );
        assert!(matches!(
            PublicKey::from_multibase("f00"),
            Err(DidError::InvalidPublicKey { .. })
        ));
        assert!(matches!(
            PublicKey::from_multibase("z0OIl"),
            Err(DidError::InvalidPublicKey { .. })
        ));
        assert!(matches!(
            PublicKey::from_multibase("z1"),
            Err(DidError::InvalidPublicKey { .. })
        ));
        // y = 2 is not on the curve: its x would need a square root of a non-square.
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        assert_eq!(
            PublicKey::ed25519_from_bytes(&not_a_point),
            Err(DidError::InvalidPublicKey {
                reason: "not an Ed25519 point"
            })
        );
        assert!(matches!(
            PublicKey::from_jwk("Ed25519", "AAAA="),
            Err(DidError::InvalidPublicKey { .. })
        ));
        assert!(matches!(
            PublicKey::from_jwk("P-256", "AAAA"),
            Err(DidError::UnsupportedPublicKeyType { .. })
        ));
    }
}
