//! `did:cypher` identifiers: the method-specific id is derived from the Ed25519 key that
//! creates the DID and a nonce the creator picks, so an identifier can only be registered by
//! whoever holds that key, and nobody can squat another party's identifier:
//!
//! ```text
//! id  = base58btc( SHA-256( "did:cypher:v1" || 0x00 || key (32 bytes) || nonce (u64, big-endian) )[0..16] )
//! did = "did:cypher:" id
//! ```
//!
//! The tag, its zero terminator and the fixed-length fields make the hashed bytes unambiguous.
//! Sixteen bytes (128 bits) make a collision between two creations negligible; a different
//! nonce gives the same key any number of identifiers. The id is 21 or 22 characters of the
//! Bitcoin base58 alphabet, without a multibase prefix.

use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

use crate::Did;
use crate::error::{DidError, SyntaxError};

/// The method name.
pub const METHOD: &str = "cypher";
/// The domain tag hashed in front of the key and nonce.
pub const DERIVATION_TAG: &[u8] = b"did:cypher:v1";
/// Bytes of the hash kept as the identifier.
pub const ID_BYTES: usize = 16;

/// The did:cypher that `key` creates with `nonce`.
pub fn did_cypher(key: &VerifyingKey, nonce: u64) -> Did {
    let id = bs58::encode(derive_id_bytes(key, nonce)).into_string();
    Did::new(METHOD, &id).expect("base58 is a valid method-specific id")
}

/// Checks that `did` is the did:cypher that `key` creates with `nonce`.
pub fn check_did_cypher(did: &Did, key: &VerifyingKey, nonce: u64) -> Result<(), DidError> {
    if did_cypher_id_bytes(did)? == derive_id_bytes(key, nonce) {
        Ok(())
    } else {
        Err(DidError::NotDerivedFromKey { did: did.to_string() })
    }
}

/// The 16 identifier bytes of a did:cypher, checking the method and that the id is their
/// canonical base58 form.
pub fn did_cypher_id_bytes(did: &Did) -> Result<[u8; ID_BYTES], DidError> {
    if did.method() != METHOD {
        return Err(DidError::MethodNotSupported {
            method: did.method().to_owned(),
        });
    }
    let id = did.method_specific_id();
    let position = did.as_str().len() - id.len();
    let invalid = DidError::InvalidDid {
        reason: SyntaxError::InvalidMethodSpecificId,
        position,
    };
    // 22 characters is the longest 16 bytes encode to; checking first bounds the decoding.
    if id.len() > 22 {
        return Err(invalid);
    }
    let bytes = bs58::decode(id).into_vec().map_err(|_| invalid.clone())?;
    let bytes: [u8; ID_BYTES] = bytes.try_into().map_err(|_| invalid.clone())?;
    if bs58::encode(bytes).into_string() != id {
        return Err(invalid);
    }
    Ok(bytes)
}

fn derive_id_bytes(key: &VerifyingKey, nonce: u64) -> [u8; ID_BYTES] {
    let digest = Sha256::new()
        .chain_update(DERIVATION_TAG)
        .chain_update([0u8])
        .chain_update(key.as_bytes())
        .chain_update(nonce.to_be_bytes())
        .finalize();
    let mut id = [0u8; ID_BYTES];
    id.copy_from_slice(&digest[..ID_BYTES]);
    id
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;

    use super::*;

    fn key(seed: u8) -> VerifyingKey {
        SigningKey::from_bytes(&[seed; 32]).verifying_key()
    }

    #[test]
    fn derivation_is_the_documented_hash() {
        let mut preimage = b"did:cypher:v1\0".to_vec();
        preimage.extend_from_slice(key(1).as_bytes());
        preimage.extend_from_slice(&7u64.to_be_bytes());
        let expected = bs58::encode(&Sha256::digest(&preimage)[..16]).into_string();
        let did = did_cypher(&key(1), 7);
        assert_eq!(did.as_str(), format!("did:cypher:{expected}"));
        assert!((21..=22).contains(&did.method_specific_id().len()));
    }

    #[test]
    fn known_identifiers_do_not_change() {
        // Computed independently from the documented formula (Python's hashlib and base58).
        assert_eq!(
            did_cypher(&key(0), 0).as_str(),
            "did:cypher:SanM6HZNLWJLUCcGZpBczR"
        );
        assert_eq!(
            did_cypher(&key(0), 1).as_str(),
            "did:cypher:H8wNTZYJaH6WzK1dACfTSR"
        );
    }

    #[test]
    fn only_the_creating_key_and_nonce_match() {
        let did = did_cypher(&key(1), 7);
        assert_eq!(check_did_cypher(&did, &key(1), 7), Ok(()));
        let mismatch = Err(DidError::NotDerivedFromKey { did: did.to_string() });
        assert_eq!(check_did_cypher(&did, &key(2), 7), mismatch);
        assert_eq!(check_did_cypher(&did, &key(1), 8), mismatch);
        assert_ne!(did_cypher(&key(1), 8), did);
    }

    #[test]
    fn malformed_ids_are_invalid_dids() {
        let did = |text: &str| Did::parse(text).unwrap();
        let invalid = Err(DidError::InvalidDid {
            reason: SyntaxError::InvalidMethodSpecificId,
            position: 11,
        });
        assert_eq!(did_cypher_id_bytes(&did("did:cypher:0OIl")), invalid);
        assert_eq!(did_cypher_id_bytes(&did("did:cypher:abc")), invalid);
        assert_eq!(
            did_cypher_id_bytes(&did(&format!("did:cypher:{}", "z".repeat(23)))),
            invalid
        );
        // Sixteen zero bytes are "1111111111111111"; a leading extra '1' would be a 17th byte.
        assert!(did_cypher_id_bytes(&did("did:cypher:1111111111111111")).is_ok());
        assert_eq!(did_cypher_id_bytes(&did("did:cypher:11111111111111111")), invalid);
        assert_eq!(
            did_cypher_id_bytes(&did("did:key:z6Mk")),
            Err(DidError::MethodNotSupported { method: "key".into() })
        );
    }
}
