//! Property tests: any DID or DID URL built from the grammar parses, displays as the same text
//! and parses again to the same value; any document built within the limits validates and comes
//! back from its JSON unchanged; and no input makes a parser panic.

use did::public_key::x25519_from_ed25519;
use did::{Did, DidUrl, Document, KeyFormat, MethodRef, PublicKey, Relation, Service, VerificationMethod};
use ed25519_dalek::SigningKey;
use proptest::prelude::*;

/// `idchar` or a percent-encoding.
fn id_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z0-9._-]{1,6}",
        1 => "%[0-9A-Fa-f]{2}",
    ]
}

fn id_segment() -> impl Strategy<Value = String> {
    prop::collection::vec(id_piece(), 1..4).prop_map(|pieces| pieces.concat())
}

fn did_text() -> impl Strategy<Value = String> {
    (
        "[a-z0-9]{1,8}",
        prop::collection::vec(prop_oneof![1 => Just(String::new()), 6 => id_segment()], 0..3),
        id_segment(),
    )
        .prop_map(|(method, leading, last)| {
            let mut text = format!("did:{method}:");
            for segment in leading {
                text.push_str(&segment);
                text.push(':');
            }
            text.push_str(&last);
            text
        })
}

/// Path, query and fragment characters (query names avoid the standard DID parameters, whose
/// values are checked).
fn url_text() -> impl Strategy<Value = String> {
    let pchars = "[A-Za-z0-9._~!$&'()*+,;=:@-]{0,8}";
    let query = "[a-z0-9._~!$'()*+,;:@/?-]{0,12}";
    (
        did_text(),
        prop::collection::vec(pchars, 0..3),
        prop::option::of(query),
        prop::option::of(prop::collection::vec(
            prop_oneof!["[A-Za-z0-9/?:@._-]{1,6}", "%[0-9A-F]{2}"],
            0..3,
        )),
    )
        .prop_map(|(did, path, query, fragment)| {
            let mut text = did;
            for segment in path {
                text.push('/');
                text.push_str(&segment);
            }
            if let Some(query) = query {
                text.push('?');
                text.push_str(&query);
            }
            if let Some(fragment) = fragment {
                text.push('#');
                text.push_str(&fragment.concat());
            }
            text
        })
}

fn ed25519(seed: [u8; 32]) -> PublicKey {
    PublicKey::Ed25519(SigningKey::from_bytes(&seed).verifying_key())
}

/// A valid document: keys from seeds, each signing key in some signing relations (by reference
/// or embedded), each X25519 key in key agreement, services with URI or map endpoints.
fn document() -> impl Strategy<Value = Document> {
    (
        did_text(),
        prop::collection::vec(did_text(), 0..3),
        prop::collection::vec((any::<[u8; 32]>(), any::<bool>(), any::<bool>(), 0u8..16), 0..5),
        prop::collection::vec(
            (
                "[a-z]{1,8}",
                "[A-Za-z]{1,12}",
                prop::option::of("[a-z0-9/.]{0,16}"),
            ),
            0..4,
        ),
    )
        .prop_map(|(subject, controllers, keys, services)| {
            let id = Did::parse(&subject).unwrap();
            let mut doc = Document::new(id.clone());
            for controller in controllers {
                let controller = Did::parse(&controller).unwrap();
                if !doc.controller.contains(&controller) {
                    doc.controller.push(controller);
                }
            }
            for (i, (seed, jwk, embed, relations)) in keys.into_iter().enumerate() {
                let key = if relations == 0 {
                    PublicKey::X25519(x25519_from_ed25519(ed25519(seed).ed25519().unwrap()))
                } else {
                    ed25519(seed)
                };
                let format = if jwk {
                    KeyFormat::JsonWebKey
                } else {
                    KeyFormat::Multikey
                };
                let method = VerificationMethod {
                    id: id.with_fragment(&format!("key-{i}")).unwrap(),
                    controller: id.clone(),
                    format,
                    key,
                };
                let chosen: Vec<Relation> = if relations == 0 {
                    vec![Relation::KeyAgreement]
                } else {
                    Relation::ALL
                        .into_iter()
                        .filter(|r| *r != Relation::KeyAgreement)
                        .enumerate()
                        .filter(|(bit, _)| relations & (1 << bit) != 0)
                        .map(|(_, r)| r)
                        .collect()
                };
                if embed && chosen.len() == 1 {
                    doc.relation_mut(chosen[0])
                        .push(MethodRef::Embedded(Box::new(method)));
                } else {
                    for relation in chosen {
                        doc.relation_mut(relation)
                            .push(MethodRef::Reference(method.id.clone()));
                    }
                    doc.verification_method.push(method);
                }
            }
            for (i, (name, kind, path)) in services.into_iter().enumerate() {
                let endpoint = match path {
                    Some(path) => serde_json::Value::String(format!("https://example.com/{path}")),
                    None => serde_json::json!({"origins": ["https://example.com/"]}),
                };
                let id = id.with_fragment(&format!("svc-{name}-{i}")).unwrap();
                doc.service.push(Service {
                    id,
                    types: vec![kind],
                    endpoint,
                });
            }
            doc.context = doc.standard_context();
            doc
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn dids_round_trip(text in did_text()) {
        let did = Did::parse(&text).unwrap();
        let shown = did.to_string();
        prop_assert_eq!(&shown, &text);
        prop_assert_eq!(Did::parse(&shown).unwrap(), did.clone());
        prop_assert_eq!(Did::new(did.method(), did.method_specific_id()).unwrap(), did);
    }

    #[test]
    fn did_urls_round_trip(text in url_text()) {
        let url = DidUrl::parse(&text).unwrap();
        let shown = url.to_string();
        prop_assert_eq!(&shown, &text);
        prop_assert_eq!(DidUrl::parse(&shown).unwrap(), url.clone());
        let rebuilt = format!(
            "{}{}{}{}",
            url.did(),
            url.path(),
            url.query().map(|q| format!("?{q}")).unwrap_or_default(),
            url.fragment().map(|f| format!("#{f}")).unwrap_or_default(),
        );
        prop_assert_eq!(rebuilt, text);
    }

    #[test]
    fn documents_round_trip_through_json(doc in document()) {
        prop_assert_eq!(doc.validate(), Ok(()));
        let json = doc.to_json();
        prop_assert_eq!(Document::from_json(&json).unwrap(), doc.clone());
        let via_serde: Document = serde_json::from_slice(&json).unwrap();
        prop_assert_eq!(via_serde, doc);
    }

    #[test]
    fn parsers_never_panic(text in "\\PC{0,80}", bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = Did::parse(&text);
        let _ = DidUrl::parse(&text);
        let _ = Document::from_json(&bytes);
        let _ = Document::from_json(text.as_bytes());
        let _ = did::ContentType::negotiate(Some(&text));
        let _ = PublicKey::from_multibase(&text);
    }

    #[test]
    fn any_did_that_parses_displays_as_given(text in "did:[a-z0-9:%A-F._-]{0,20}[#/?]?[a-z0-9%=&]{0,10}") {
        if let Ok(did) = Did::parse(&text) {
            prop_assert_eq!(did.to_string(), text.clone());
        }
        if let Ok(url) = DidUrl::parse(&text) {
            prop_assert_eq!(url.to_string(), text);
        }
    }
}
