//! Bad input, one rule at a time: each broken DID, DID URL and document gets its own specific
//! error (and that error's DID Resolution code). The DID and DID URL tables beside the parsers
//! (`src/did.rs`, `src/url.rs`) cover every syntax rule with its position; here the public API
//! is exercised as a resolver or the chain would use it.

use did::{DidError, DidUrl, Document, ErrorCode, PublicKey, Relation, SyntaxError, document::Limited};
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};

const SUBJECT: &str = "did:example:alice";

fn ed25519_multibase(seed: u8) -> String {
    PublicKey::Ed25519(SigningKey::from_bytes(&[seed; 32]).verifying_key()).to_multibase()
}

fn method(fragment: &str, seed: u8) -> Value {
    json!({
        "id": format!("{SUBJECT}#{fragment}"),
        "type": "Multikey",
        "controller": SUBJECT,
        "publicKeyMultibase": ed25519_multibase(seed),
    })
}

/// A valid document that each case breaks in one place.
fn base() -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": SUBJECT,
        "controller": "did:example:bob",
        "verificationMethod": [method("key-1", 1)],
        "authentication": [format!("{SUBJECT}#key-1")],
        "assertionMethod": [format!("{SUBJECT}#key-1")],
        "service": [{"id": format!("{SUBJECT}#files"), "type": "LinkedDomains", "serviceEndpoint": "https://example.com"}],
    })
}

fn parse(doc: &Value) -> Result<Document, DidError> {
    Document::from_json(&serde_json::to_vec(doc).unwrap())
}

fn with(change: impl FnOnce(&mut Value)) -> Value {
    let mut doc = base();
    change(&mut doc);
    doc
}

#[test]
fn the_base_document_is_valid() {
    let doc = parse(&base()).unwrap();
    let key_1 = DidUrl::parse(&format!("{SUBJECT}#key-1")).unwrap();
    assert!(doc.ed25519_key_for(Relation::Authentication, &key_1).is_some());
    assert!(
        doc.ed25519_key_for(Relation::CapabilityInvocation, &key_1)
            .is_none()
    );
    assert_eq!(doc.service("files").unwrap().types, ["LinkedDomains"]);
}

#[test]
fn each_broken_document_rule_has_its_own_error() {
    let key_1 = format!("{SUBJECT}#key-1");
    let x25519 = PublicKey::X25519([9; 32]).to_multibase();
    let short_key = format!("z{}", bs58::encode([0xed, 0x01, 1, 2]).into_string());
    let secp_key = format!("z{}", bs58::encode([0xe7, 0x01, 2, 3]).into_string());
    let kind = |k: &str| DidError::UnsupportedPublicKeyType { kind: k.to_owned() };
    let service_error = |reason| DidError::InvalidService {
        id: format!("{SUBJECT}#files"),
        reason,
    };
    let endpoint = "serviceEndpoint is not a URI, a map or a set of them";
    let cases: Vec<(&str, Value, DidError)> = vec![
        (
            "unknown property",
            with(|d| d["alsoKnownAs"] = json!(["https://alice.example"])),
            malformed(),
        ),
        (
            "missing id",
            with(|d| _ = d.as_object_mut().unwrap().remove("id")),
            malformed(),
        ),
        (
            "id not a DID",
            with(|d| d["id"] = json!("did:Example:alice")),
            invalid_did(SyntaxError::InvalidMethodChar, 4),
        ),
        (
            "id with fragment",
            with(|d| d["id"] = json!("did:example:alice#x")),
            invalid_did(SyntaxError::HasUrlComponents, 17),
        ),
        (
            "controller not a DID",
            with(|d| d["controller"] = json!("bob")),
            invalid_did(SyntaxError::NotDidScheme, 0),
        ),
        (
            "controller twice",
            with(|d| d["controller"] = json!(["did:example:bob", "did:example:bob"])),
            DidError::DuplicateController {
                controller: "did:example:bob".into(),
            },
        ),
        (
            "too many controllers",
            with(|d| {
                d["controller"] = json!((0..9).map(|i| format!("did:example:c{i}")).collect::<Vec<_>>())
            }),
            DidError::TooMany {
                what: Limited::Controllers,
                count: 9,
                max: 8,
            },
        ),
        (
            "context without DID v1",
            with(|d| d["@context"] = json!(["https://example.com/ctx"])),
            DidError::MissingDidContext,
        ),
        (
            "too many contexts",
            with(|d| {
                d["@context"] = json!((0..9).map(|_| "https://www.w3.org/ns/did/v1").collect::<Vec<_>>())
            }),
            DidError::TooMany {
                what: Limited::Contexts,
                count: 9,
                max: 8,
            },
        ),
        (
            "method id not a DID URL",
            with(|d| d["verificationMethod"][0]["id"] = json!("did:example:alice key")),
            DidError::InvalidDidUrl {
                reason: SyntaxError::InvalidIdChar,
                position: 17,
            },
        ),
        (
            "method id of another DID",
            with(|d| d["verificationMethod"][0]["id"] = json!("did:example:bob#key-1")),
            DidError::IdNotOfSubject {
                id: "did:example:bob#key-1".into(),
            },
        ),
        (
            "method id with a path",
            with(|d| d["verificationMethod"][0]["id"] = json!("did:example:alice/k#key-1")),
            DidError::IdNotOfSubject {
                id: "did:example:alice/k#key-1".into(),
            },
        ),
        (
            "method id without fragment",
            with(|d| d["verificationMethod"][0]["id"] = json!(SUBJECT)),
            DidError::IdWithoutFragment { id: SUBJECT.into() },
        ),
        (
            "method controller not a DID",
            with(|d| d["verificationMethod"][0]["controller"] = json!("did:example")),
            invalid_did(SyntaxError::MissingMethodSpecificId, 11),
        ),
        (
            "two methods with one id",
            with(|d| d["verificationMethod"] = json!([method("key-1", 1), method("key-1", 2)])),
            DidError::DuplicateId { id: key_1.clone() },
        ),
        (
            "a service with a method's id",
            with(|d| d["service"][0]["id"] = json!(key_1)),
            DidError::DuplicateId { id: key_1.clone() },
        ),
        (
            "too many methods",
            with(|d| {
                d["verificationMethod"] =
                    json!((0..17).map(|i| method(&format!("k{i}"), i)).collect::<Vec<_>>())
            }),
            DidError::TooMany {
                what: Limited::Methods,
                count: 17,
                max: 16,
            },
        ),
        (
            "unknown method type",
            with(|d| d["verificationMethod"][0]["type"] = json!("Ed25519VerificationKey2020")),
            kind("type Ed25519VerificationKey2020"),
        ),
        (
            "Multikey with a JWK",
            with(|d| {
                d["verificationMethod"][0]["publicKeyJwk"] =
                    json!({"kty": "OKP", "crv": "Ed25519", "x": "AA"})
            }),
            DidError::KeyFormatMismatch {
                id: key_1.clone(),
                reason: "a Multikey needs publicKeyMultibase and nothing else",
            },
        ),
        (
            "multibase not base58btc",
            with(|d| d["verificationMethod"][0]["publicKeyMultibase"] = json!("uAAAA")),
            DidError::InvalidPublicKey {
                reason: "multibase value is not base58btc ('z')",
            },
        ),
        (
            "short key",
            with(|d| d["verificationMethod"][0]["publicKeyMultibase"] = json!(short_key)),
            DidError::InvalidPublicKeyLength {
                expected: 32,
                actual: 2,
            },
        ),
        (
            "secp256k1 key",
            with(|d| d["verificationMethod"][0]["publicKeyMultibase"] = json!(secp_key)),
            kind("multicodec 0xe7"),
        ),
        (
            "EC JWK",
            with(|d| {
                d["verificationMethod"][0] = json!({"id": key_1, "type": "JsonWebKey", "controller": SUBJECT,
                    "publicKeyJwk": {"kty": "EC", "crv": "P-256", "x": "AA"}});
            }),
            kind("JWK kty EC"),
        ),
        (
            "JWK with a private key",
            with(|d| {
                d["verificationMethod"][0] = json!({"id": key_1, "type": "JsonWebKey", "controller": SUBJECT,
                    "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": "AA", "d": "AA"}});
            }),
            malformed(),
        ),
        (
            "relative reference",
            with(|d| d["authentication"] = json!(["#key-1"])),
            DidError::InvalidDidUrl {
                reason: SyntaxError::NotDidScheme,
                position: 0,
            },
        ),
        (
            "reference to no method",
            with(|d| d["assertionMethod"] = json!([format!("{SUBJECT}#key-2")])),
            DidError::UnknownMethodReference {
                relation: Relation::AssertionMethod,
                id: format!("{SUBJECT}#key-2"),
            },
        ),
        (
            "method listed twice",
            with(|d| d["authentication"] = json!([key_1, key_1])),
            DidError::DuplicateRelationEntry {
                relation: Relation::Authentication,
                id: key_1.clone(),
            },
        ),
        (
            "signing key for key agreement",
            with(|d| d["keyAgreement"] = json!([key_1])),
            DidError::KeyNotUsableForRelation {
                relation: Relation::KeyAgreement,
                id: key_1.clone(),
            },
        ),
        (
            "X25519 key for authentication",
            with(|d| {
                d["authentication"] = json!([{"id": format!("{SUBJECT}#x"), "type": "Multikey",
                    "controller": SUBJECT, "publicKeyMultibase": x25519}]);
            }),
            DidError::KeyNotUsableForRelation {
                relation: Relation::Authentication,
                id: format!("{SUBJECT}#x"),
            },
        ),
        (
            "service without type",
            with(|d| d["service"][0]["type"] = json!([])),
            service_error("no type"),
        ),
        (
            "service with empty type",
            with(|d| d["service"][0]["type"] = json!("")),
            service_error("empty type"),
        ),
        (
            "too many service types",
            with(|d| d["service"][0]["type"] = json!((0..9).map(|i| format!("T{i}")).collect::<Vec<_>>())),
            DidError::TooMany {
                what: Limited::ServiceTypes,
                count: 9,
                max: 8,
            },
        ),
        (
            "endpoint not a URI",
            with(|d| d["service"][0]["serviceEndpoint"] = json!("example.com")),
            service_error(endpoint),
        ),
        (
            "endpoint a number",
            with(|d| d["service"][0]["serviceEndpoint"] = json!(5)),
            service_error(endpoint),
        ),
        (
            "endpoint an empty set",
            with(|d| d["service"][0]["serviceEndpoint"] = json!([])),
            service_error(endpoint),
        ),
        (
            "too many services",
            with(|d| {
                d["service"] = json!((0..17)
                    .map(|i| json!({"id": format!("{SUBJECT}#s{i}"), "type": "T", "serviceEndpoint": "https://e.com"}))
                    .collect::<Vec<_>>());
            }),
            DidError::TooMany {
                what: Limited::Services,
                count: 17,
                max: 16,
            },
        ),
    ];
    for (name, doc, expected) in cases {
        let got = parse(&doc);
        match (&got, &expected) {
            (Err(DidError::MalformedDocument { .. }), DidError::MalformedDocument { .. }) => {}
            _ => assert_eq!(got, Err(expected.clone()), "{name}"),
        }
    }
}

#[test]
fn size_limits_apply_to_the_input_and_to_the_document() {
    let mut padded = serde_json::to_vec_pretty(&base()).unwrap();
    padded.extend(std::iter::repeat_n(b' ', did::MAX_DOCUMENT_BYTES));
    let bytes = padded.len();
    assert_eq!(
        Document::from_json(&padded),
        Err(DidError::DocumentTooLarge {
            bytes,
            max: did::MAX_DOCUMENT_BYTES
        })
    );
    // Within every count limit, but the endpoints make the JSON too big.
    let mut doc = parse(&base()).unwrap();
    doc.service[0].endpoint = json!({"note": "x".repeat(did::MAX_DOCUMENT_BYTES)});
    assert!(matches!(doc.validate(), Err(DidError::DocumentTooLarge { .. })));
}

#[test]
fn errors_carry_their_resolution_codes() {
    let cases: &[(DidError, ErrorCode)] = &[
        (invalid_did(SyntaxError::EmptyMethod, 4), ErrorCode::InvalidDid),
        (
            DidError::InvalidDidUrl {
                reason: SyntaxError::InvalidPathChar,
                position: 9,
            },
            ErrorCode::InvalidDidUrl,
        ),
        (DidError::MissingDidContext, ErrorCode::InvalidDidDocument),
        (
            DidError::InvalidPublicKeyLength {
                expected: 32,
                actual: 2,
            },
            ErrorCode::InvalidPublicKeyLength,
        ),
        (
            DidError::InvalidPublicKey { reason: "x" },
            ErrorCode::InvalidPublicKey,
        ),
        (
            DidError::UnsupportedPublicKeyType { kind: "x".into() },
            ErrorCode::UnsupportedPublicKeyType,
        ),
        (
            DidError::NotFound {
                did: "did:cypher:x".into(),
            },
            ErrorCode::NotFound,
        ),
        (
            DidError::RepresentationNotSupported {
                accept: "text/html".into(),
            },
            ErrorCode::RepresentationNotSupported,
        ),
    ];
    for (error, code) in cases {
        assert_eq!(error.code(), *code, "{error}");
    }
}

fn malformed() -> DidError {
    DidError::MalformedDocument {
        reason: String::new(),
    }
}

fn invalid_did(reason: SyntaxError, position: usize) -> DidError {
    DidError::InvalidDid { reason, position }
}
