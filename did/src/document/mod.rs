//! The W3C DID document ([`Document`]) as this crate models it: the subject's `id`, its
//! `controller`s, `verificationMethod`s holding Ed25519 or X25519 keys as `Multikey` or
//! `JsonWebKey`, the five verification relationships (by reference or embedded), and `service`s.
//!
//! JSON in and out goes through the shapes in `wire`; [`validate`](Document::validate) (run on
//! every document read from JSON) enforces the cross-field rules and the size limits of
//! `limits`. Properties outside this model are refused rather than dropped, so a registry never
//! stores data it does not understand.

mod limits;
mod wire;

use std::fmt;

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use self::limits::{
    Limited, MAX_CONTEXTS, MAX_CONTROLLERS, MAX_DOCUMENT_BYTES, MAX_METHODS, MAX_SERVICE_TYPES, MAX_SERVICES,
};
use crate::error::DidError;
use crate::public_key::PublicKey;
use crate::{Did, DidUrl};

/// The DID v1 JSON-LD context, first in every JSON-LD DID document.
pub const DID_CONTEXT_V1: &str = "https://www.w3.org/ns/did/v1";
/// The DID v1.1 context, accepted in its place.
pub const DID_CONTEXT_V1_1: &str = "https://www.w3.org/ns/did/v1.1";
/// The context defining `Multikey` and `publicKeyMultibase`.
pub const MULTIKEY_CONTEXT_V1: &str = "https://w3id.org/security/multikey/v1";
/// The context defining `JsonWebKey` and `publicKeyJwk`.
pub const JWK_CONTEXT_V1: &str = "https://w3id.org/security/jwk/v1";

/// A DID document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// `@context`: empty for plain JSON, else starting with [`DID_CONTEXT_V1`].
    pub context: Vec<String>,
    /// The DID subject.
    pub id: Did,
    /// The DIDs allowed to change this document besides the subject's own keys (DID Core
    /// `controller`, one or many).
    pub controller: Vec<Did>,
    /// The verification methods the relations reference.
    pub verification_method: Vec<VerificationMethod>,
    /// `authentication`.
    pub authentication: Vec<MethodRef>,
    /// `assertionMethod`: keys that sign credentials and other claims.
    pub assertion_method: Vec<MethodRef>,
    /// `keyAgreement`: X25519 keys to encrypt to the subject.
    pub key_agreement: Vec<MethodRef>,
    /// `capabilityInvocation`: keys that act for the subject, e.g. update its document.
    pub capability_invocation: Vec<MethodRef>,
    /// `capabilityDelegation`.
    pub capability_delegation: Vec<MethodRef>,
    /// Service endpoints.
    pub service: Vec<Service>,
}

/// A verification method: a key with an id and a controller.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VerificationMethod {
    /// `<subject>#<fragment>`.
    pub id: DidUrl,
    /// The DID that controls the key.
    pub controller: Did,
    /// How the key is written (its `type`).
    pub format: KeyFormat,
    /// The key.
    pub key: PublicKey,
}

/// The verification method types this crate writes and reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyFormat {
    /// `Multikey` with `publicKeyMultibase`.
    Multikey,
    /// `JsonWebKey` with `publicKeyJwk` (`kty` `OKP`).
    JsonWebKey,
}

/// An entry of a verification relationship.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MethodRef {
    /// The id of a method in `verificationMethod`.
    Reference(DidUrl),
    /// A method usable only for this relationship (boxed: a method is several times the size
    /// of a reference).
    Embedded(Box<VerificationMethod>),
}

/// A service endpoint of the subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// `<subject>#<fragment>`; the fragment is what a `service` DID parameter names.
    pub id: DidUrl,
    /// `type`, one or many.
    pub types: Vec<String>,
    /// `serviceEndpoint`: a URI, a map, or a set of URIs and maps.
    pub endpoint: serde_json::Value,
}

/// The five verification relationships of DID Core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Relation {
    /// `authentication`.
    Authentication,
    /// `assertionMethod`.
    AssertionMethod,
    /// `keyAgreement`.
    KeyAgreement,
    /// `capabilityInvocation`.
    CapabilityInvocation,
    /// `capabilityDelegation`.
    CapabilityDelegation,
}

impl Relation {
    /// All five, in the order documents list them.
    pub const ALL: [Relation; 5] = [
        Relation::Authentication,
        Relation::AssertionMethod,
        Relation::KeyAgreement,
        Relation::CapabilityInvocation,
        Relation::CapabilityDelegation,
    ];

    /// The JSON property name.
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Authentication => "authentication",
            Relation::AssertionMethod => "assertionMethod",
            Relation::KeyAgreement => "keyAgreement",
            Relation::CapabilityInvocation => "capabilityInvocation",
            Relation::CapabilityDelegation => "capabilityDelegation",
        }
    }

    /// Whether a key can serve this relation: X25519 for key agreement, Ed25519 otherwise.
    pub fn accepts(self, key: &PublicKey) -> bool {
        match key {
            PublicKey::X25519(_) => self == Relation::KeyAgreement,
            PublicKey::Ed25519(_) => self != Relation::KeyAgreement,
        }
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl VerificationMethod {
    /// A `Multikey` method `<controller>#<fragment>` controlled by `controller`.
    pub fn multikey(controller: &Did, fragment: &str, key: PublicKey) -> Result<Self, DidError> {
        Ok(VerificationMethod {
            id: controller.with_fragment(fragment)?,
            controller: controller.clone(),
            format: KeyFormat::Multikey,
            key,
        })
    }

    /// The method's Ed25519 key, if it holds one.
    pub fn ed25519(&self) -> Option<&VerifyingKey> {
        self.key.ed25519()
    }
}

impl MethodRef {
    /// The id of the method this entry names or embeds.
    pub fn id(&self) -> &DidUrl {
        match self {
            MethodRef::Reference(id) => id,
            MethodRef::Embedded(method) => &method.id,
        }
    }
}

impl Document {
    /// An empty document for `id` with the DID v1 context.
    pub fn new(id: Did) -> Document {
        Document {
            context: vec![DID_CONTEXT_V1.to_owned()],
            id,
            controller: Vec::new(),
            verification_method: Vec::new(),
            authentication: Vec::new(),
            assertion_method: Vec::new(),
            key_agreement: Vec::new(),
            capability_invocation: Vec::new(),
            capability_delegation: Vec::new(),
            service: Vec::new(),
        }
    }

    /// Parses and validates a document; the input may be at most [`MAX_DOCUMENT_BYTES`].
    pub fn from_json(bytes: &[u8]) -> Result<Document, DidError> {
        if bytes.len() > MAX_DOCUMENT_BYTES {
            return Err(DidError::DocumentTooLarge {
                bytes: bytes.len(),
                max: MAX_DOCUMENT_BYTES,
            });
        }
        let wire: wire::WireDocument =
            serde_json::from_slice(bytes).map_err(|e| DidError::MalformedDocument {
                reason: e.to_string(),
            })?;
        let document = Document::try_from(wire)?;
        document.validate()?;
        Ok(document)
    }

    /// The compact JSON form.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(&wire::WireDocument::from(self)).expect("a document always serializes")
    }

    /// The contexts a JSON-LD processor needs for this document's method types: DID v1, then
    /// Multikey and JWK if any method uses them.
    pub fn standard_context(&self) -> Vec<String> {
        let mut context = vec![DID_CONTEXT_V1.to_owned()];
        let formats: Vec<KeyFormat> = self.all_methods().map(|m| m.format).collect();
        if formats.contains(&KeyFormat::Multikey) {
            context.push(MULTIKEY_CONTEXT_V1.to_owned());
        }
        if formats.contains(&KeyFormat::JsonWebKey) {
            context.push(JWK_CONTEXT_V1.to_owned());
        }
        context
    }

    /// The entries of one relationship.
    pub fn relation(&self, relation: Relation) -> &[MethodRef] {
        match relation {
            Relation::Authentication => &self.authentication,
            Relation::AssertionMethod => &self.assertion_method,
            Relation::KeyAgreement => &self.key_agreement,
            Relation::CapabilityInvocation => &self.capability_invocation,
            Relation::CapabilityDelegation => &self.capability_delegation,
        }
    }

    /// The entries of one relationship, to change.
    pub fn relation_mut(&mut self, relation: Relation) -> &mut Vec<MethodRef> {
        match relation {
            Relation::Authentication => &mut self.authentication,
            Relation::AssertionMethod => &mut self.assertion_method,
            Relation::KeyAgreement => &mut self.key_agreement,
            Relation::CapabilityInvocation => &mut self.capability_invocation,
            Relation::CapabilityDelegation => &mut self.capability_delegation,
        }
    }

    /// Every verification method: those of `verificationMethod`, then those embedded in the
    /// relations.
    pub fn all_methods(&self) -> impl Iterator<Item = &VerificationMethod> {
        let embedded = Relation::ALL
            .into_iter()
            .flat_map(|r| self.relation(r))
            .filter_map(|entry| match entry {
                MethodRef::Embedded(method) => Some(&**method),
                MethodRef::Reference(_) => None,
            });
        self.verification_method.iter().chain(embedded)
    }

    /// The method with this id, wherever it is defined.
    pub fn method(&self, id: &DidUrl) -> Option<&VerificationMethod> {
        self.all_methods().find(|m| &m.id == id)
    }

    /// The methods usable for `relation`: those it references and those it embeds, in order.
    pub fn methods_for(&self, relation: Relation) -> impl Iterator<Item = &VerificationMethod> {
        self.relation(relation).iter().filter_map(|entry| match entry {
            MethodRef::Embedded(method) => Some(&**method),
            MethodRef::Reference(id) => self.verification_method.iter().find(|m| &m.id == id),
        })
    }

    /// The method `id` if `relation` allows it, e.g. the key a signature's `kid` names.
    pub fn method_for(&self, relation: Relation, id: &DidUrl) -> Option<&VerificationMethod> {
        self.methods_for(relation).find(|m| &m.id == id)
    }

    /// The Ed25519 key of method `id` if `relation` allows it.
    pub fn ed25519_key_for(&self, relation: Relation, id: &DidUrl) -> Option<&VerifyingKey> {
        self.method_for(relation, id)?.ed25519()
    }

    /// The service whose id's fragment is `name` (what a `service` DID parameter selects).
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.service.iter().find(|s| s.id.fragment() == Some(name))
    }
}

impl Serialize for Document {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        wire::WireDocument::from(self).serialize(serializer)
    }
}

/// Reading a document from any serde format converts and validates it, as
/// [`Document::from_json`] does (without the byte limit on the input, which only the caller
/// holding the bytes can apply).
impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = wire::WireDocument::deserialize(deserializer)?;
        let document = Document::try_from(wire).map_err(serde::de::Error::custom)?;
        document.validate().map_err(serde::de::Error::custom)?;
        Ok(document)
    }
}
