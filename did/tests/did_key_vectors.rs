//! The published did:key vectors (`tests/vectors/`, see its README): from each seed, the same
//! DID, the same method ids, the same keys (Ed25519 and the derived X25519) and the same keys in
//! each relation. Document shapes differ between library versions, so whole documents are not
//! compared.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use did::key::{did_key_from_ed25519, ed25519_of_did_key, resolve_did_key};
use did::public_key::x25519_from_ed25519;
use did::{Did, DidUrl, PublicKey, Relation};
use ed25519_dalek::SigningKey;
use serde_json::Value;

const VECTORS: &str = include_str!("vectors/did-key-ed25519-x25519.json");

/// A key pair entry's public key bytes, from `publicKeyBase58` or a JWK's `x`.
fn public_key_bytes(pair: &Value) -> Vec<u8> {
    if let Some(base58) = pair["publicKeyBase58"].as_str() {
        bs58::decode(base58).into_vec().unwrap()
    } else {
        URL_SAFE_NO_PAD
            .decode(pair["publicKeyJwk"]["x"].as_str().unwrap())
            .unwrap()
    }
}

/// A key pair entry's id as an absolute DID URL (some vectors write `#fragment`).
fn absolute_id(did: &str, id: &str) -> String {
    if id.starts_with('#') {
        format!("{did}{id}")
    } else {
        id.to_owned()
    }
}

fn relation_ids(document: &Value, relation: Relation) -> Vec<String> {
    document[relation.as_str()]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_vector_resolves_to_the_published_keys() {
    let vectors: BTreeMap<String, Value> = serde_json::from_str(VECTORS).unwrap();
    assert_eq!(vectors.len(), 5);
    for (expected_did, vector) in &vectors {
        let seed: [u8; 32] = hex_to_array(vector["seed"].as_str().unwrap());
        let verifying = SigningKey::from_bytes(&seed).verifying_key();

        let did = did_key_from_ed25519(&verifying);
        assert_eq!(did.as_str(), expected_did);
        assert_eq!(
            ed25519_of_did_key(&Did::parse(expected_did).unwrap()).unwrap(),
            verifying
        );

        let signing_pair = &vector["verificationKeyPair"];
        let agreement_pair = &vector["keyAgreementKeyPair"];
        assert_eq!(verifying.as_bytes().as_slice(), public_key_bytes(signing_pair));
        let x25519 = x25519_from_ed25519(&verifying);
        assert_eq!(
            x25519.as_slice(),
            public_key_bytes(agreement_pair),
            "{expected_did}: derived X25519 key"
        );

        let document = resolve_did_key(&did).unwrap();
        assert_eq!(document.id.as_str(), expected_did);
        let signing_id =
            DidUrl::parse(&absolute_id(expected_did, signing_pair["id"].as_str().unwrap())).unwrap();
        let agreement_id =
            DidUrl::parse(&absolute_id(expected_did, agreement_pair["id"].as_str().unwrap())).unwrap();
        let signing = document.method(&signing_id).expect("the signing method");
        assert_eq!(signing.key, PublicKey::Ed25519(verifying));
        assert_eq!(signing.controller.as_str(), expected_did);
        let agreement = document.method(&agreement_id).expect("the key agreement method");
        assert_eq!(agreement.key, PublicKey::X25519(x25519));

        let published = &vector["didDocument"];
        for relation in Relation::ALL {
            let ours: Vec<String> = document.methods_for(relation).map(|m| m.id.to_string()).collect();
            assert_eq!(
                ours,
                relation_ids(published, relation),
                "{expected_did}: {relation}"
            );
        }
        let published_ids: Vec<&str> = published["verificationMethod"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        let our_ids: Vec<String> = document
            .verification_method
            .iter()
            .map(|m| m.id.to_string())
            .collect();
        assert_eq!(our_ids, published_ids);
    }
}

fn hex_to_array(hex: &str) -> [u8; 32] {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    bytes.try_into().unwrap()
}
