//! DID resolution as the node's API answers it (`GET /1.0/identifiers/{did}`), as pure
//! functions over a DID's stored version history: which version a `versionId` or
//! `versionTime` selects, its document and W3C `didDocumentMetadata`, and the HTTP status
//! of each outcome. did:key resolves here too, from the identifier alone.
//!
//! Versions: version 1 is the creation; each update and the deactivation add one. Resolving
//! the deactivation (the latest version of a deactivated DID) gives the last document with
//! `deactivated: true` (HTTP 410); an earlier version resolves as it was, with
//! `nextVersionId` / `nextUpdate` naming the one after it. `versionTime` selects the last
//! version made at or before it, compared at whole seconds (the precision `updated` is written
//! in, so the `updated` a resolution returned selects that same version).

use did::resolution::{ContentType, DocumentMetadata, ResolutionResult};
use did::{Did, DidError, Document, ErrorCode};
use htlc::Timestamp;

use crate::state::types::block_time;

/// One stored version of a DID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDidVersion {
    /// Its version id.
    pub version: u64,
    /// Its document's JSON as submitted; `None` for the deactivation.
    pub document: Option<Vec<u8>>,
    /// Block time of the block that made it (ms since the Unix epoch).
    pub time_ms: u64,
}

/// Every version of a registered DID, oldest first (never empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DidHistory {
    /// The DID.
    pub did: String,
    /// Its versions, version 1 first.
    pub versions: Vec<StoredDidVersion>,
}

/// Which version to resolve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionQuery {
    /// The current one.
    Latest,
    /// `versionId`.
    Id(u64),
    /// `versionTime`: the one in force at that time.
    Time(Timestamp),
}

impl VersionQuery {
    /// Reads the `versionId` and `versionTime` DID parameters (at most one of them);
    /// `invalidDidUrl` if malformed.
    pub fn from_params(version_id: Option<&str>, version_time: Option<&str>) -> Result<Self, ErrorCode> {
        match (version_id, version_time) {
            (None, None) => Ok(VersionQuery::Latest),
            (Some(id), None) => id
                .parse()
                .map(VersionQuery::Id)
                .map_err(|_| ErrorCode::InvalidDidUrl),
            (None, Some(time)) => Timestamp::parse_rfc3339(time)
                .map(VersionQuery::Time)
                .map_err(|_| ErrorCode::InvalidDidUrl),
            (Some(_), Some(_)) => Err(ErrorCode::InvalidDidUrl),
        }
    }
}

/// A resolution with the HTTP status the API answers it with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    /// 200, 410 (deactivated), or the error's status.
    pub status: u16,
    /// The result.
    pub result: ResolutionResult,
}

/// The HTTP status of a DID Resolution error code (the DID Resolution HTTP binding).
pub fn error_status(code: ErrorCode) -> u16 {
    match code {
        ErrorCode::InvalidDid | ErrorCode::InvalidDidUrl => 400,
        ErrorCode::NotFound => 404,
        ErrorCode::RepresentationNotSupported => 406,
        ErrorCode::MethodNotSupported => 501,
        _ => 500,
    }
}

/// A failed resolution.
pub fn failed(code: ErrorCode) -> Resolution {
    Resolution {
        status: error_status(code),
        result: ResolutionResult::failed_with(code),
    }
}

fn whole_seconds(ms: u64) -> u64 {
    ms / 1000
}

/// Resolves `query` over `history`.
pub fn resolve_history(history: &DidHistory, query: VersionQuery) -> Resolution {
    let versions = &history.versions;
    let index = match query {
        VersionQuery::Latest => versions.len().checked_sub(1),
        VersionQuery::Id(id) => versions.iter().position(|v| v.version == id),
        VersionQuery::Time(t) => u64::try_from(t.unix_millis()).ok().and_then(|ms| {
            versions
                .iter()
                .rposition(|v| whole_seconds(v.time_ms) <= whole_seconds(ms))
        }),
    };
    let Some(index) = index else {
        return failed(ErrorCode::NotFound);
    };
    let chosen = &versions[index];
    // The deactivation carries no document: the last one before it stays the DID's.
    let Some(bytes) = versions[..=index].iter().rev().find_map(|v| v.document.as_ref()) else {
        return failed(ErrorCode::InternalError);
    };
    let Ok(document) = Document::from_json(bytes) else {
        return failed(ErrorCode::InternalError);
    };
    let next = versions.get(index + 1);
    let metadata = DocumentMetadata {
        created: versions.first().and_then(|v| block_time(v.time_ms)),
        updated: (index > 0).then(|| block_time(chosen.time_ms)).flatten(),
        deactivated: chosen.document.is_none(),
        next_update: next.and_then(|v| block_time(v.time_ms)),
        version_id: Some(chosen.version.to_string()),
        next_version_id: next.map(|v| v.version.to_string()),
    };
    let status = if metadata.deactivated { 410 } else { 200 };
    Resolution {
        status,
        result: ResolutionResult::found(document, metadata, ContentType::DidLdJson),
    }
}

/// Resolves a did:key from the identifier alone (it has one version and no history, so a
/// `versionId` or `versionTime` finds nothing).
pub fn resolve_did_key(did: &Did, query: VersionQuery) -> Resolution {
    if query != VersionQuery::Latest {
        return failed(ErrorCode::NotFound);
    }
    match did::key::resolve_did_key(did) {
        Ok(document) => Resolution {
            status: 200,
            result: ResolutionResult::found(document, DocumentMetadata::default(), ContentType::DidLdJson),
        },
        Err(e) => failed(e.code()),
    }
}

/// A document for `subject` with one Ed25519 `Multikey` method `#key-1` holding `key`, used for
/// `authentication`, `assertionMethod` and `capabilityInvocation` (so the key may update it).
pub fn document_for_key(subject: &Did, key: &ed25519_dalek::VerifyingKey) -> Document {
    let mut document = Document::new(subject.clone());
    let method = did::VerificationMethod::multikey(subject, "key-1", did::PublicKey::Ed25519(*key))
        .expect("key-1 is a valid fragment");
    for relation in [
        did::Relation::Authentication,
        did::Relation::AssertionMethod,
        did::Relation::CapabilityInvocation,
    ] {
        document
            .relation_mut(relation)
            .push(did::MethodRef::Reference(method.id.clone()));
    }
    document.verification_method.push(method);
    document.context = document.standard_context();
    document
}

/// What the method of `did` is to this node: did:cypher (the registry, after checking the
/// identifier's form), did:key, or an error code (`invalidDid`, `methodNotSupported`).
pub fn classify(did: &str) -> Result<(Did, bool), ErrorCode> {
    let parsed = Did::parse(did).map_err(|e: DidError| e.code())?;
    match parsed.method() {
        did::cypher::METHOD => {
            did::cypher::did_cypher_id_bytes(&parsed).map_err(|e| e.code())?;
            Ok((parsed, true))
        }
        did::key::METHOD => Ok((parsed, false)),
        _ => Err(ErrorCode::MethodNotSupported),
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;

    use super::*;

    fn doc(seed: u8) -> (Did, Vec<u8>) {
        let key = SigningKey::from_bytes(&[1; 32]).verifying_key();
        let subject = did::cypher::did_cypher(&key, 0);
        let mut d = Document::new(subject.clone());
        let pk = did::PublicKey::Ed25519(SigningKey::from_bytes(&[seed; 32]).verifying_key());
        let m = did::VerificationMethod::multikey(&subject, "k", pk).unwrap();
        d.capability_invocation
            .push(did::MethodRef::Reference(m.id.clone()));
        d.verification_method.push(m);
        d.context = d.standard_context();
        (subject, d.to_json())
    }

    fn history() -> DidHistory {
        let (subject, one) = doc(1);
        let (_, two) = doc(2);
        let v = |version, document, time_ms| StoredDidVersion {
            version,
            document,
            time_ms,
        };
        DidHistory {
            did: subject.to_string(),
            versions: vec![
                v(1, Some(one), 10_000),
                v(2, Some(two), 20_500),
                v(3, None, 30_000),
            ],
        }
    }

    fn at(text: &str) -> VersionQuery {
        VersionQuery::Time(Timestamp::parse_rfc3339(text).unwrap())
    }

    #[test]
    fn versions_resolve_by_id_and_time_with_their_metadata() {
        let h = history();
        let first = resolve_history(&h, VersionQuery::Id(1));
        assert_eq!(first.status, 200);
        let m = &first.result.did_document_metadata;
        assert_eq!(m.version_id.as_deref(), Some("1"));
        assert_eq!(m.next_version_id.as_deref(), Some("2"));
        assert_eq!(m.updated, None);
        assert_eq!(m.next_update, block_time(20_500));
        // 20.5 s is 20 s at whole seconds: the second version is in force from 20 s.
        for (t, want) in [
            ("1970-01-01T00:00:10Z", "1"),
            ("1970-01-01T00:00:19.999Z", "1"),
            ("1970-01-01T00:00:20Z", "2"),
            ("1970-01-01T00:00:29Z", "2"),
        ] {
            let r = resolve_history(&h, at(t));
            assert_eq!(r.status, 200, "{t}");
            assert_eq!(
                r.result.did_document_metadata.version_id.as_deref(),
                Some(want),
                "{t}"
            );
        }
        assert_eq!(resolve_history(&h, at("1970-01-01T00:00:09Z")).status, 404);
        assert_eq!(resolve_history(&h, VersionQuery::Id(4)).status, 404);
    }

    #[test]
    fn the_deactivated_latest_version_is_410_with_the_last_document() {
        let h = history();
        for q in [
            VersionQuery::Latest,
            VersionQuery::Id(3),
            at("2030-01-01T00:00:00Z"),
        ] {
            let r = resolve_history(&h, q);
            assert_eq!(r.status, 410);
            let m = &r.result.did_document_metadata;
            assert!(m.deactivated);
            assert_eq!(m.next_version_id, None);
            let second = Document::from_json(h.versions[1].document.as_ref().unwrap()).unwrap();
            assert_eq!(r.result.did_document, Some(second));
        }
        assert!(
            !resolve_history(&h, VersionQuery::Id(2))
                .result
                .did_document_metadata
                .deactivated
        );
    }

    #[test]
    fn parameters_and_methods_are_classified() {
        assert_eq!(
            VersionQuery::from_params(Some("2"), None),
            Ok(VersionQuery::Id(2))
        );
        for (id, time) in [
            (Some("x"), None),
            (None, Some("yesterday")),
            (Some("1"), Some("2020-01-01T00:00:00Z")),
        ] {
            assert_eq!(VersionQuery::from_params(id, time), Err(ErrorCode::InvalidDidUrl));
        }
        assert_eq!(classify("not a did"), Err(ErrorCode::InvalidDid));
        assert_eq!(classify("did:cypher:0OIl"), Err(ErrorCode::InvalidDid));
        assert_eq!(
            classify("did:web:example.com"),
            Err(ErrorCode::MethodNotSupported)
        );
        assert!(matches!(
            classify("did:cypher:SanM6HZNLWJLUCcGZpBczR"),
            Ok((_, true))
        ));
        let key = did::key::did_key_from_ed25519(&SigningKey::from_bytes(&[3; 32]).verifying_key());
        assert_eq!(resolve_did_key(&key, VersionQuery::Latest).status, 200);
        assert_eq!(resolve_did_key(&key, VersionQuery::Id(1)).status, 404);
        let (subject, _) = classify(key.as_str()).unwrap();
        assert_eq!(subject, key);
    }
}
