//! The rules a [`Document`] must keep beyond its JSON shape, and the limits that bound what a
//! document (and so a registry entry on the chain) can cost to store, parse and search.
//!
//! The limits leave room for a realistic document: a few signing keys being rotated, a key
//! agreement key, a handful of services. Sixteen Multikey methods each listed in every signing
//! relation, with sixteen services, is about 13 KB of JSON.

use std::collections::HashSet;
use std::fmt;

use super::{DID_CONTEXT_V1, DID_CONTEXT_V1_1, Document, MethodRef, Relation, Service, VerificationMethod};
use crate::error::DidError;

/// The largest document, in bytes of JSON (the input read, and the compact form written).
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024;
/// The most verification methods, counting embedded ones; also the most entries per relation.
pub const MAX_METHODS: usize = 16;
/// The most services.
pub const MAX_SERVICES: usize = 16;
/// The most controllers.
pub const MAX_CONTROLLERS: usize = 8;
/// The most `@context` entries.
pub const MAX_CONTEXTS: usize = 8;
/// The most `type`s of one service.
pub const MAX_SERVICE_TYPES: usize = 8;

/// Which limited kind of entry a [`DidError::TooMany`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limited {
    /// Verification methods ([`MAX_METHODS`]).
    Methods,
    /// Entries of one relation ([`MAX_METHODS`]).
    RelationEntries(Relation),
    /// Services ([`MAX_SERVICES`]).
    Services,
    /// Controllers ([`MAX_CONTROLLERS`]).
    Controllers,
    /// `@context` entries ([`MAX_CONTEXTS`]).
    Contexts,
    /// Types of one service ([`MAX_SERVICE_TYPES`]).
    ServiceTypes,
}

impl fmt::Display for Limited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limited::Methods => f.write_str("verification methods"),
            Limited::RelationEntries(relation) => write!(f, "{relation} entries"),
            Limited::Services => f.write_str("services"),
            Limited::Controllers => f.write_str("controllers"),
            Limited::Contexts => f.write_str("@context entries"),
            Limited::ServiceTypes => f.write_str("service types"),
        }
    }
}

fn at_most(what: Limited, count: usize, max: usize) -> Result<(), DidError> {
    if count > max {
        Err(DidError::TooMany { what, count, max })
    } else {
        Ok(())
    }
}

impl Document {
    /// Checks the document against DID Core and this crate's profile of it:
    ///
    /// - a non-empty `@context` starts with the DID v1 (or v1.1) context;
    /// - verification method and service ids are `<subject>#<fragment>` and all distinct;
    /// - controllers are distinct (each is a valid DID by its type);
    /// - relation references name a method of `verificationMethod`, each at most once per
    ///   relation, and every method in a relation has a key that relation can use (Ed25519 for
    ///   signing, X25519 for key agreement);
    /// - services have one to [`MAX_SERVICE_TYPES`] non-empty types and an endpoint that is a
    ///   URI, a map, or a non-empty set of them;
    /// - counts and the compact JSON size are within this module's limits.
    pub fn validate(&self) -> Result<(), DidError> {
        at_most(Limited::Contexts, self.context.len(), MAX_CONTEXTS)?;
        if let Some(first) = self.context.first()
            && first != DID_CONTEXT_V1
            && first != DID_CONTEXT_V1_1
        {
            return Err(DidError::MissingDidContext);
        }
        at_most(Limited::Controllers, self.controller.len(), MAX_CONTROLLERS)?;
        let mut controllers = HashSet::new();
        if let Some(dup) = self.controller.iter().find(|c| !controllers.insert(*c)) {
            return Err(DidError::DuplicateController {
                controller: dup.to_string(),
            });
        }
        at_most(Limited::Methods, self.all_methods().count(), MAX_METHODS)?;
        at_most(Limited::Services, self.service.len(), MAX_SERVICES)?;

        let mut ids = HashSet::new();
        for method in self.all_methods() {
            self.check_own_id(&method.id, &mut ids)?;
        }
        for service in &self.service {
            self.check_own_id(&service.id, &mut ids)?;
            check_service(service)?;
        }
        for relation in Relation::ALL {
            self.check_relation(relation)?;
        }
        let bytes = self.to_json().len();
        if bytes > MAX_DOCUMENT_BYTES {
            return Err(DidError::DocumentTooLarge {
                bytes,
                max: MAX_DOCUMENT_BYTES,
            });
        }
        Ok(())
    }

    fn check_own_id<'a>(&self, id: &'a crate::DidUrl, seen: &mut HashSet<&'a str>) -> Result<(), DidError> {
        if id.did() != &self.id || !id.path().is_empty() || id.query().is_some() {
            return Err(DidError::IdNotOfSubject { id: id.to_string() });
        }
        if id.fragment().is_none_or(str::is_empty) {
            return Err(DidError::IdWithoutFragment { id: id.to_string() });
        }
        if !seen.insert(id.as_str()) {
            return Err(DidError::DuplicateId { id: id.to_string() });
        }
        Ok(())
    }

    fn check_relation(&self, relation: Relation) -> Result<(), DidError> {
        let entries = self.relation(relation);
        at_most(Limited::RelationEntries(relation), entries.len(), MAX_METHODS)?;
        let mut listed = HashSet::new();
        for entry in entries {
            let id = entry.id();
            if !listed.insert(id.as_str()) {
                return Err(DidError::DuplicateRelationEntry {
                    relation,
                    id: id.to_string(),
                });
            }
            let method: &VerificationMethod = match entry {
                MethodRef::Embedded(method) => method,
                MethodRef::Reference(id) => self
                    .verification_method
                    .iter()
                    .find(|m| &m.id == id)
                    .ok_or_else(|| DidError::UnknownMethodReference {
                        relation,
                        id: id.to_string(),
                    })?,
            };
            if !relation.accepts(&method.key) {
                return Err(DidError::KeyNotUsableForRelation {
                    relation,
                    id: id.to_string(),
                });
            }
        }
        Ok(())
    }
}

fn check_service(service: &Service) -> Result<(), DidError> {
    let invalid = |reason| DidError::InvalidService {
        id: service.id.to_string(),
        reason,
    };
    if service.types.is_empty() {
        return Err(invalid("no type"));
    }
    at_most(Limited::ServiceTypes, service.types.len(), MAX_SERVICE_TYPES)?;
    if service.types.iter().any(String::is_empty) {
        return Err(invalid("empty type"));
    }
    let endpoint_part = |value: &serde_json::Value| match value {
        serde_json::Value::String(uri) => is_uri(uri),
        serde_json::Value::Object(_) => true,
        _ => false,
    };
    let ok = match &service.endpoint {
        serde_json::Value::Array(set) => !set.is_empty() && set.iter().all(endpoint_part),
        single => endpoint_part(single),
    };
    if ok {
        Ok(())
    } else {
        Err(invalid("serviceEndpoint is not a URI, a map or a set of them"))
    }
}

/// An absolute URI, loosely: an RFC 3986 scheme, a `:`, and no whitespace or control
/// characters.
fn is_uri(text: &str) -> bool {
    let Some((scheme, _)) = text.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_need_a_scheme() {
        assert!(is_uri("https://example.com/a"));
        assert!(is_uri("did:example:1"));
        assert!(is_uri("urn:uuid:1"));
        assert!(!is_uri("example.com"));
        assert!(!is_uri("1http://x"));
        assert!(!is_uri("https://a b"));
        assert!(!is_uri(":x"));
    }
}
