//! `did:key` for Ed25519 (and X25519) keys, resolved locally with no network: the DID is
//! `did:key:` followed by the key's multibase Multikey value, and its document is generated
//! from the key as the did:key method specification describes.
//!
//! For an Ed25519 key `z6Mk...` the document has one `Multikey` method `did:key:z6Mk...#z6Mk...`
//! in `authentication`, `assertionMethod`, `capabilityInvocation` and `capabilityDelegation`,
//! and the X25519 key derived from it (`#z6LS...`) in `keyAgreement`. An X25519 did:key has
//! only the key agreement method.

use ed25519_dalek::VerifyingKey;

use crate::Did;
use crate::document::{Document, MethodRef, Relation, VerificationMethod};
use crate::error::{DidError, SyntaxError};
use crate::public_key::{PublicKey, x25519_from_ed25519};

/// The method name.
pub const METHOD: &str = "key";

/// The did:key of an Ed25519 public key.
pub fn did_key_from_ed25519(key: &VerifyingKey) -> Did {
    did_key_from_public_key(&PublicKey::Ed25519(*key))
}

/// The did:key of a public key.
pub fn did_key_from_public_key(key: &PublicKey) -> Did {
    Did::new(METHOD, &key.to_multibase()).expect("a multibase base58btc value is a valid method-specific id")
}

/// The public key a did:key encodes. A `did:key:1:z...` (with the only version there is) is
/// read like `did:key:z...`.
pub fn public_key_of_did_key(did: &Did) -> Result<PublicKey, DidError> {
    if did.method() != METHOD {
        return Err(DidError::MethodNotSupported {
            method: did.method().to_owned(),
        });
    }
    let id = did.method_specific_id();
    let multibase = match id.split_once(':') {
        None => id,
        Some(("1", rest)) if !rest.contains(':') => rest,
        Some(_) => {
            // An unknown version, or more segments than the method defines.
            let position = "did:key:".len();
            return Err(DidError::InvalidDid {
                reason: SyntaxError::InvalidMethodSpecificId,
                position,
            });
        }
    };
    if !multibase.starts_with('z') {
        let position = did.as_str().len() - multibase.len();
        return Err(DidError::InvalidDid {
            reason: SyntaxError::InvalidMethodSpecificId,
            position,
        });
    }
    PublicKey::from_multibase(multibase)
}

/// The Ed25519 key a did:key encodes; an X25519 did:key is `unsupportedPublicKeyType` here.
pub fn ed25519_of_did_key(did: &Did) -> Result<VerifyingKey, DidError> {
    match public_key_of_did_key(did)? {
        PublicKey::Ed25519(key) => Ok(key),
        PublicKey::X25519(_) => Err(DidError::UnsupportedPublicKeyType {
            kind: "x25519-pub where ed25519-pub is needed".to_owned(),
        }),
    }
}

/// The DID document of a did:key.
pub fn resolve_did_key(did: &Did) -> Result<Document, DidError> {
    let key = public_key_of_did_key(did)?;
    let mut document = Document::new(did.clone());
    let method = |key: PublicKey| VerificationMethod::multikey(did, &key.to_multibase(), key);
    match key {
        PublicKey::Ed25519(ed) => {
            let signing = method(key)?;
            let agreement = method(PublicKey::X25519(x25519_from_ed25519(&ed)))?;
            for relation in Relation::ALL {
                let id = if relation == Relation::KeyAgreement {
                    &agreement.id
                } else {
                    &signing.id
                };
                document
                    .relation_mut(relation)
                    .push(MethodRef::Reference(id.clone()));
            }
            document.verification_method = vec![signing, agreement];
        }
        PublicKey::X25519(_) => {
            let agreement = method(key)?;
            document
                .key_agreement
                .push(MethodRef::Reference(agreement.id.clone()));
            document.verification_method = vec![agreement];
        }
    }
    document.context = document.standard_context();
    Ok(document)
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;

    use super::*;

    fn key(seed: u8) -> VerifyingKey {
        SigningKey::from_bytes(&[seed; 32]).verifying_key()
    }

    #[test]
    fn a_did_key_gives_back_its_key() {
        let did = did_key_from_ed25519(&key(1));
        assert!(did.as_str().starts_with("did:key:z6Mk"));
        assert_eq!(ed25519_of_did_key(&did).unwrap(), key(1));
        let versioned = Did::new("key", &format!("1:{}", did.method_specific_id())).unwrap();
        assert_eq!(ed25519_of_did_key(&versioned).unwrap(), key(1));
    }

    #[test]
    fn the_document_is_valid_and_uses_the_key_for_each_relation() {
        let did = did_key_from_ed25519(&key(2));
        let doc = resolve_did_key(&did).unwrap();
        doc.validate().unwrap();
        assert_eq!(
            doc.context,
            [
                "https://www.w3.org/ns/did/v1",
                "https://w3id.org/security/multikey/v1"
            ]
        );
        let signing_id = did.with_fragment(did.method_specific_id()).unwrap();
        for relation in [
            Relation::Authentication,
            Relation::AssertionMethod,
            Relation::CapabilityInvocation,
        ] {
            assert_eq!(doc.ed25519_key_for(relation, &signing_id), Some(&key(2)));
        }
        let agreement: Vec<_> = doc.methods_for(Relation::KeyAgreement).collect();
        assert_eq!(agreement.len(), 1);
        assert_eq!(agreement[0].key, PublicKey::X25519(x25519_from_ed25519(&key(2))));
        assert_eq!(Document::from_json(&doc.to_json()).unwrap(), doc);
    }

    #[test]
    fn an_x25519_did_key_has_only_key_agreement() {
        let did = did_key_from_public_key(&PublicKey::X25519([5; 32]));
        let doc = resolve_did_key(&did).unwrap();
        doc.validate().unwrap();
        assert_eq!(doc.verification_method.len(), 1);
        assert_eq!(doc.key_agreement.len(), 1);
        assert!(doc.authentication.is_empty());
        assert!(matches!(
            ed25519_of_did_key(&did),
            Err(DidError::UnsupportedPublicKeyType { .. })
        ));
    }

    #[test]
    fn bad_did_keys_get_their_own_errors() {
        let did = |text: &str| Did::parse(text).unwrap();
        assert_eq!(
            resolve_did_key(&did("did:web:example.com")),
            Err(DidError::MethodNotSupported { method: "web".into() })
        );
        assert_eq!(
            resolve_did_key(&did("did:key:f00")),
            Err(DidError::InvalidDid {
                reason: SyntaxError::InvalidMethodSpecificId,
                position: 8
            })
        );
        assert_eq!(
            resolve_did_key(&did("did:key:2:z6Mk")),
            Err(DidError::InvalidDid {
                reason: SyntaxError::InvalidMethodSpecificId,
                position: 8
            })
        );
        let short_key = format!("did:key:z{}", bs58::encode([0xed, 0x01, 1, 2, 3]).into_string());
        assert_eq!(
            resolve_did_key(&did(&short_key)),
            Err(DidError::InvalidPublicKeyLength {
                expected: 32,
                actual: 3
            })
        );
        assert!(matches!(
            resolve_did_key(&did("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme")),
            Err(DidError::UnsupportedPublicKeyType { .. })
        ));
    }
}
