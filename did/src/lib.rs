//! `did`: CypherLink's vocabulary for decentralized identifiers. Pure: no IO, no async, no
//! global state, so the chain's state machine can use it as freely as the services can.
//!
//! What may depend on it: `ledger-node`'s `did:cypher` registry (it stores, validates and
//! resolves documents with these types), the `identity` crate (wallets, identity service
//! providers, merchants) and anything that shows or reads DIDs. It depends only on `htlc` (for
//! [`htlc::Timestamp`], the one time type of the workspace) and on encoding and hashing crates.
//!
//! - [`Did`] and [`DidUrl`]: W3C DID Core syntax, parsing and display (the text is kept exactly,
//!   so `parse(s).to_string() == s`), and the DID parameters of a DID URL's query
//!   ([`DidParameters`]: `service`, `relativeRef`, `versionId`, `versionTime`).
//! - [`Document`]: the DID document (`@context`, `id`, `controller`, `verificationMethod` as
//!   Ed25519 / X25519 `Multikey` or `JsonWebKey`, the five verification relationships, `service`)
//!   with [`Document::validate`] and accessors for the methods and keys usable for a
//!   [`Relation`].
//! - [`public_key`]: public keys in their Multikey (multicodec `0xed01` / `0xec01`, base58btc `z...`)
//!   and JWK forms, and the X25519 key of an Ed25519 key.
//! - [`key`]: `did:key`, resolved locally.
//! - [`cypher`]: `did:cypher` identifiers.
//! - [`resolution`]: DID Resolution results, the two content types and content negotiation.
//! - [`representation`]: a resolver's HTTP answer, the whole result or the document alone.
//!
//! Every failure is a [`DidError`] naming the rule broken; [`DidError::code`] maps it onto the
//! DID Resolution error codes ([`ErrorCode`]: `invalidDid`, `invalidDidUrl`, `notFound`,
//! `methodNotSupported`, `representationNotSupported`, `invalidDidDocument`, `internalError`
//! and did:key's `invalidPublicKey`, `invalidPublicKeyLength`, `unsupportedPublicKeyType`).
//!
//! # did:cypher
//!
//! A did:cypher's method-specific id is derived from the Ed25519 key that creates it and a
//! nonce, so only that key's holder can register it:
//! `base58btc(SHA-256("did:cypher:v1" || 0x00 || key || nonce as big-endian u64)[0..16])`,
//! e.g. `did:cypher:SanM6HZNLWJLUCcGZpBczR` for the key of the all-zero Ed25519 seed and nonce
//! 0. The tag (with its zero terminator) and the fixed-length fields make the hashed bytes
//! unambiguous; 128 bits make a collision negligible; a new nonce gives a key another
//! identifier. [`cypher::did_cypher`] computes it and [`cypher::check_did_cypher`] checks a DID
//! against a key and nonce.
//!
//! # Limits
//!
//! DIDs are at most [`MAX_DID_LEN`] bytes and DID URLs [`MAX_DID_URL_LEN`]. A document is at
//! most [`MAX_DOCUMENT_BYTES`] of JSON, with at most [`MAX_METHODS`] verification methods (and
//! entries per relation), [`MAX_SERVICES`] services, [`MAX_CONTROLLERS`] controllers,
//! [`MAX_CONTEXTS`] contexts and [`MAX_SERVICE_TYPES`] types per service. Keys are Ed25519 (the
//! signing relations) and X25519 (key agreement) only; verification methods are `Multikey` or
//! `JsonWebKey` only; properties outside the model are refused. Relations reference methods of
//! the same document by absolute DID URL (relative references such as `#key-1` are refused).

pub mod cypher;
mod did;
pub mod document;
mod error;
pub mod key;
pub mod public_key;
pub mod representation;
pub mod resolution;
mod syntax;
mod url;

pub use crate::did::{Did, MAX_DID_LEN};
pub use crate::document::{
    Document, KeyFormat, MAX_CONTEXTS, MAX_CONTROLLERS, MAX_DOCUMENT_BYTES, MAX_METHODS, MAX_SERVICE_TYPES,
    MAX_SERVICES, MethodRef, Relation, Service, VerificationMethod,
};
pub use crate::error::{DidError, ErrorCode, SyntaxError};
pub use crate::public_key::PublicKey;
pub use crate::representation::Representation;
pub use crate::resolution::{ContentType, DocumentMetadata, ResolutionMetadata, ResolutionResult};
pub use crate::url::{DidParameters, DidUrl, MAX_DID_URL_LEN};
