//! The crate's one error enum, [`DidError`], and the DID Resolution error codes it maps onto
//! ([`ErrorCode`]), so a resolver can put any failure into `didResolutionMetadata.error` with
//! [`DidError::code`] and still keep the specific reason for logs and tests.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::document::{Limited, Relation};

/// Which rule of the DID syntax an identifier broke (carried by [`DidError::InvalidDid`] and
/// [`DidError::InvalidDidUrl`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyntaxError {
    /// Longer than [`crate::MAX_DID_LEN`] or [`crate::MAX_DID_URL_LEN`].
    TooLong,
    /// Does not start with the lowercase scheme `did:`.
    NotDidScheme,
    /// Nothing between `did:` and the next `:`.
    EmptyMethod,
    /// A method name character other than `a-z` and `0-9`.
    InvalidMethodChar,
    /// No `:` after the method name, or nothing after it.
    MissingMethodSpecificId,
    /// A method-specific id character other than `A-Z a-z 0-9 . - _ :` and `%XX`.
    InvalidIdChar,
    /// A `%` not followed by two hexadecimal digits.
    InvalidPctEncoding,
    /// The method-specific id ends with `:` (its last segment must not be empty).
    TrailingColon,
    /// A path, query or fragment where a bare DID is required.
    HasUrlComponents,
    /// A path character outside RFC 3986 `pchar`.
    InvalidPathChar,
    /// A query character outside RFC 3986 `pchar / "/" / "?"`.
    InvalidQueryChar,
    /// A fragment character outside RFC 3986 `pchar / "/" / "?"`.
    InvalidFragmentChar,
    /// A DID parameter with an empty or malformed value (`versionTime` not RFC 3339,
    /// `relativeRef` not a relative reference, a value that is not UTF-8 once decoded).
    InvalidParameter,
    /// A DID parameter given twice.
    DuplicateParameter,
    /// A method-specific id that breaks its method's own rules (a did:key that is not a
    /// base58btc multibase value, a did:cypher that is not 16 bytes in canonical base58).
    InvalidMethodSpecificId,
}

impl SyntaxError {
    /// A short human description of the rule.
    pub fn describe(self) -> &'static str {
        match self {
            SyntaxError::TooLong => "too long",
            SyntaxError::NotDidScheme => "does not start with \"did:\"",
            SyntaxError::EmptyMethod => "empty method name",
            SyntaxError::InvalidMethodChar => "method name character outside a-z 0-9",
            SyntaxError::MissingMethodSpecificId => "missing method-specific id",
            SyntaxError::InvalidIdChar => "method-specific id character not allowed",
            SyntaxError::InvalidPctEncoding => "'%' not followed by two hex digits",
            SyntaxError::TrailingColon => "method-specific id ends with ':'",
            SyntaxError::HasUrlComponents => "has a path, query or fragment",
            SyntaxError::InvalidPathChar => "path character not allowed",
            SyntaxError::InvalidQueryChar => "query character not allowed",
            SyntaxError::InvalidFragmentChar => "fragment character not allowed",
            SyntaxError::InvalidParameter => "malformed DID parameter",
            SyntaxError::DuplicateParameter => "DID parameter given twice",
            SyntaxError::InvalidMethodSpecificId => "method-specific id breaks the method's rules",
        }
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// The error codes of W3C DID Resolution (`didResolutionMetadata.error`), with the key codes
/// the did:key method specification requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ErrorCode {
    /// The DID does not conform to the DID syntax.
    InvalidDid,
    /// The DID URL does not conform to the DID URL syntax.
    InvalidDidUrl,
    /// No DID document exists for the DID.
    NotFound,
    /// The resolver does not implement the DID method.
    MethodNotSupported,
    /// The resolver cannot produce the requested media type.
    RepresentationNotSupported,
    /// The DID document is malformed or breaks this crate's rules.
    InvalidDidDocument,
    /// A public key is malformed or not a valid point.
    InvalidPublicKey,
    /// A public key has the wrong number of bytes for its type.
    InvalidPublicKeyLength,
    /// A key type (multicodec, verification method type, JWK curve) this crate does not know.
    UnsupportedPublicKeyType,
    /// The resolver failed for a reason of its own.
    InternalError,
}

impl ErrorCode {
    /// The registered keyword, e.g. `notFound`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidDid => "invalidDid",
            ErrorCode::InvalidDidUrl => "invalidDidUrl",
            ErrorCode::NotFound => "notFound",
            ErrorCode::MethodNotSupported => "methodNotSupported",
            ErrorCode::RepresentationNotSupported => "representationNotSupported",
            ErrorCode::InvalidDidDocument => "invalidDidDocument",
            ErrorCode::InvalidPublicKey => "invalidPublicKey",
            ErrorCode::InvalidPublicKeyLength => "invalidPublicKeyLength",
            ErrorCode::UnsupportedPublicKeyType => "unsupportedPublicKeyType",
            ErrorCode::InternalError => "internalError",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong with a DID, a DID URL, a DID document or a key. Each variant is
/// one specific rule; [`DidError::code`] gives its DID Resolution error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DidError {
    /// Not a DID.
    #[error("invalid DID at byte {position}: {reason}")]
    InvalidDid {
        /// The rule broken.
        reason: SyntaxError,
        /// Byte offset of the offending character (the length for a missing part).
        position: usize,
    },
    /// Not a DID URL.
    #[error("invalid DID URL at byte {position}: {reason}")]
    InvalidDidUrl {
        /// The rule broken.
        reason: SyntaxError,
        /// Byte offset of the offending character (the length for a missing part).
        position: usize,
    },
    /// A DID of a method this function does not handle.
    #[error("DID method {method:?} is not supported here")]
    MethodNotSupported {
        /// The method name.
        method: String,
    },
    /// No document for this DID (for resolvers).
    #[error("no DID document for {did}")]
    NotFound {
        /// The DID asked for.
        did: String,
    },
    /// No representation the client accepts.
    #[error("no supported representation in Accept: {accept:?}")]
    RepresentationNotSupported {
        /// The Accept header as given.
        accept: String,
    },
    /// A did:cypher identifier that is not the one derived from the given key and nonce.
    #[error("{did} is not derived from this key and nonce")]
    NotDerivedFromKey {
        /// The DID checked.
        did: String,
    },
    /// A key type this crate does not know: a multicodec, a verification method type or a JWK
    /// key type or curve.
    #[error("unsupported public key type {kind}")]
    UnsupportedPublicKeyType {
        /// What was found, e.g. `multicodec 0x1200` or `type EcdsaSecp256k1VerificationKey2019`.
        kind: String,
    },
    /// A key with the wrong number of bytes.
    #[error("public key is {actual} bytes, expected {expected}")]
    InvalidPublicKeyLength {
        /// Bytes a key of its type has.
        expected: usize,
        /// Bytes found.
        actual: usize,
    },
    /// A key that does not decode or is not a valid point.
    #[error("invalid public key: {reason}")]
    InvalidPublicKey {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// JSON that is not a DID document of the shape this crate models.
    #[error("malformed DID document: {reason}")]
    MalformedDocument {
        /// The JSON parser's message.
        reason: String,
    },
    /// A document over [`crate::MAX_DOCUMENT_BYTES`].
    #[error("DID document is {bytes} bytes, more than {max}")]
    DocumentTooLarge {
        /// Its size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// More entries of one kind than the document limits allow.
    #[error("{count} {what} in a DID document, more than {max}")]
    TooMany {
        /// Which kind of entry.
        what: Limited,
        /// How many there are.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A non-empty `@context` whose first entry is not the DID v1 context.
    #[error("@context does not start with the DID v1 context")]
    MissingDidContext,
    /// A verification method or service id that is not a DID URL of the document's subject
    /// (another DID, or a path or query).
    #[error("{id} is not a DID URL of the document's subject")]
    IdNotOfSubject {
        /// The id.
        id: String,
    },
    /// A verification method or service id without a fragment.
    #[error("{id} has no fragment")]
    IdWithoutFragment {
        /// The id.
        id: String,
    },
    /// Two verification methods or services with the same id.
    #[error("id {id} appears twice")]
    DuplicateId {
        /// The id.
        id: String,
    },
    /// The same controller listed twice.
    #[error("controller {controller} appears twice")]
    DuplicateController {
        /// The controller.
        controller: String,
    },
    /// A relation entry referencing a method the document does not define.
    #[error("{relation} references {id}, which is not a verification method of the document")]
    UnknownMethodReference {
        /// The relation.
        relation: Relation,
        /// The reference.
        id: String,
    },
    /// The same method listed twice in one relation.
    #[error("{relation} lists {id} twice")]
    DuplicateRelationEntry {
        /// The relation.
        relation: Relation,
        /// The method id.
        id: String,
    },
    /// A method whose key cannot serve the relation (a signing relation needs an Ed25519 key,
    /// key agreement an X25519 key).
    #[error("{relation} cannot use {id}: wrong key type")]
    KeyNotUsableForRelation {
        /// The relation.
        relation: Relation,
        /// The method id.
        id: String,
    },
    /// A verification method whose key property does not fit its type (a `Multikey` without
    /// `publicKeyMultibase`, a `JsonWebKey` with it, both or neither).
    #[error("verification method {id}: {reason}")]
    KeyFormatMismatch {
        /// The method id.
        id: String,
        /// What does not fit.
        reason: &'static str,
    },
    /// A service with an empty or oversized type, or an endpoint that is not a URI, a map or a
    /// set of them.
    #[error("service {id}: {reason}")]
    InvalidService {
        /// The service id.
        id: String,
        /// What is wrong.
        reason: &'static str,
    },
}

impl DidError {
    /// The DID Resolution error code this error is reported as.
    pub fn code(&self) -> ErrorCode {
        match self {
            DidError::InvalidDid { .. } | DidError::NotDerivedFromKey { .. } => ErrorCode::InvalidDid,
            DidError::InvalidDidUrl { .. } => ErrorCode::InvalidDidUrl,
            DidError::MethodNotSupported { .. } => ErrorCode::MethodNotSupported,
            DidError::NotFound { .. } => ErrorCode::NotFound,
            DidError::RepresentationNotSupported { .. } => ErrorCode::RepresentationNotSupported,
            DidError::UnsupportedPublicKeyType { .. } => ErrorCode::UnsupportedPublicKeyType,
            DidError::InvalidPublicKeyLength { .. } => ErrorCode::InvalidPublicKeyLength,
            DidError::InvalidPublicKey { .. } => ErrorCode::InvalidPublicKey,
            DidError::MalformedDocument { .. }
            | DidError::DocumentTooLarge { .. }
            | DidError::TooMany { .. }
            | DidError::MissingDidContext
            | DidError::IdNotOfSubject { .. }
            | DidError::IdWithoutFragment { .. }
            | DidError::DuplicateId { .. }
            | DidError::DuplicateController { .. }
            | DidError::UnknownMethodReference { .. }
            | DidError::DuplicateRelationEntry { .. }
            | DidError::KeyNotUsableForRelation { .. }
            | DidError::KeyFormatMismatch { .. }
            | DidError::InvalidService { .. } => ErrorCode::InvalidDidDocument,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_registered_keywords() {
        for code in [
            ErrorCode::InvalidDid,
            ErrorCode::InvalidDidUrl,
            ErrorCode::NotFound,
            ErrorCode::MethodNotSupported,
            ErrorCode::RepresentationNotSupported,
            ErrorCode::InvalidDidDocument,
            ErrorCode::InvalidPublicKey,
            ErrorCode::InvalidPublicKeyLength,
            ErrorCode::UnsupportedPublicKeyType,
            ErrorCode::InternalError,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
        }
    }

    #[test]
    fn errors_map_onto_codes() {
        let syntax = DidError::InvalidDid {
            reason: SyntaxError::EmptyMethod,
            position: 4,
        };
        assert_eq!(syntax.code(), ErrorCode::InvalidDid);
        assert_eq!(syntax.to_string(), "invalid DID at byte 4: empty method name");
        let method = DidError::MethodNotSupported { method: "web".into() };
        assert_eq!(method.code(), ErrorCode::MethodNotSupported);
        assert_eq!(DidError::MissingDidContext.code(), ErrorCode::InvalidDidDocument);
    }
}
