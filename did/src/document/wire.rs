//! The JSON shapes of a DID document, with strings where the model has typed values, and the
//! conversions between the two. Reading through these shapes lets each field's failure be its
//! own [`DidError`] (an invalid method id is `invalidDidUrl`, an invalid controller
//! `invalidDid`, as the did:key specification asks) instead of one serde message.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Document, KeyFormat, MethodRef, Service, VerificationMethod};
use crate::error::DidError;
use crate::public_key::PublicKey;
use crate::{Did, DidUrl};

const MULTIKEY: &str = "Multikey";
const JSON_WEB_KEY: &str = "JsonWebKey";
const OKP: &str = "OKP";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct WireDocument {
    #[serde(
        rename = "@context",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    context: Vec<String>,
    id: String,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "single_or_array",
        deserialize_with = "one_or_many"
    )]
    controller: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    verification_method: Vec<WireMethod>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    authentication: Vec<WireRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    assertion_method: Vec<WireRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    key_agreement: Vec<WireRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    capability_invocation: Vec<WireRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    capability_delegation: Vec<WireRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    service: Vec<WireService>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WireMethod {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    controller: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public_key_multibase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public_key_jwk: Option<WireJwk>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireJwk {
    kty: String,
    crv: String,
    x: String,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum WireRef {
    Reference(String),
    Embedded(WireMethod),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WireService {
    id: String,
    #[serde(
        rename = "type",
        serialize_with = "single_or_array",
        deserialize_with = "one_or_many"
    )]
    types: Vec<String>,
    service_endpoint: serde_json::Value,
}

/// A string or an array of strings, as DID Core allows for `@context`, `controller` and a
/// service's `type`.
fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

/// One value as a string, several as an array.
fn single_or_array<S: Serializer>(values: &[String], serializer: S) -> Result<S::Ok, S::Error> {
    match values {
        [one] => serializer.serialize_str(one),
        many => many.serialize(serializer),
    }
}

impl From<&Document> for WireDocument {
    fn from(doc: &Document) -> Self {
        let refs = |entries: &[MethodRef]| entries.iter().map(WireRef::from).collect();
        WireDocument {
            context: doc.context.clone(),
            id: doc.id.to_string(),
            controller: doc.controller.iter().map(Did::to_string).collect(),
            verification_method: doc.verification_method.iter().map(WireMethod::from).collect(),
            authentication: refs(&doc.authentication),
            assertion_method: refs(&doc.assertion_method),
            key_agreement: refs(&doc.key_agreement),
            capability_invocation: refs(&doc.capability_invocation),
            capability_delegation: refs(&doc.capability_delegation),
            service: doc.service.iter().map(WireService::from).collect(),
        }
    }
}

impl From<&VerificationMethod> for WireMethod {
    fn from(method: &VerificationMethod) -> Self {
        let (kind, multibase, jwk) = match method.format {
            KeyFormat::Multikey => (MULTIKEY, Some(method.key.to_multibase()), None),
            KeyFormat::JsonWebKey => {
                let jwk = WireJwk {
                    kty: OKP.to_owned(),
                    crv: method.key.jwk_curve().to_owned(),
                    x: method.key.jwk_x(),
                };
                (JSON_WEB_KEY, None, Some(jwk))
            }
        };
        WireMethod {
            id: method.id.to_string(),
            kind: kind.to_owned(),
            controller: method.controller.to_string(),
            public_key_multibase: multibase,
            public_key_jwk: jwk,
        }
    }
}

impl From<&MethodRef> for WireRef {
    fn from(entry: &MethodRef) -> Self {
        match entry {
            MethodRef::Reference(id) => WireRef::Reference(id.to_string()),
            MethodRef::Embedded(method) => WireRef::Embedded(WireMethod::from(&**method)),
        }
    }
}

impl From<&Service> for WireService {
    fn from(service: &Service) -> Self {
        WireService {
            id: service.id.to_string(),
            types: service.types.clone(),
            service_endpoint: service.endpoint.clone(),
        }
    }
}

impl TryFrom<WireDocument> for Document {
    type Error = DidError;
    fn try_from(wire: WireDocument) -> Result<Self, DidError> {
        let refs = |entries: Vec<WireRef>| -> Result<Vec<MethodRef>, DidError> {
            entries.into_iter().map(MethodRef::try_from).collect()
        };
        Ok(Document {
            context: wire.context,
            id: Did::parse(&wire.id)?,
            controller: wire
                .controller
                .iter()
                .map(|c| Did::parse(c))
                .collect::<Result<_, _>>()?,
            verification_method: wire
                .verification_method
                .into_iter()
                .map(VerificationMethod::try_from)
                .collect::<Result<_, _>>()?,
            authentication: refs(wire.authentication)?,
            assertion_method: refs(wire.assertion_method)?,
            key_agreement: refs(wire.key_agreement)?,
            capability_invocation: refs(wire.capability_invocation)?,
            capability_delegation: refs(wire.capability_delegation)?,
            service: wire
                .service
                .into_iter()
                .map(Service::try_from)
                .collect::<Result<_, _>>()?,
        })
    }
}

impl TryFrom<WireMethod> for VerificationMethod {
    type Error = DidError;
    fn try_from(wire: WireMethod) -> Result<Self, DidError> {
        let id = DidUrl::parse(&wire.id)?;
        let controller = Did::parse(&wire.controller)?;
        let mismatch = |reason| DidError::KeyFormatMismatch {
            id: wire.id.clone(),
            reason,
        };
        let (format, key) = match (wire.kind.as_str(), wire.public_key_multibase, wire.public_key_jwk) {
            (MULTIKEY, Some(multibase), None) => {
                (KeyFormat::Multikey, PublicKey::from_multibase(&multibase)?)
            }
            (MULTIKEY, _, _) => return Err(mismatch("a Multikey needs publicKeyMultibase and nothing else")),
            (JSON_WEB_KEY, None, Some(jwk)) => {
                if jwk.kty != OKP {
                    let kind = format!("JWK kty {}", jwk.kty);
                    return Err(DidError::UnsupportedPublicKeyType { kind });
                }
                (KeyFormat::JsonWebKey, PublicKey::from_jwk(&jwk.crv, &jwk.x)?)
            }
            (JSON_WEB_KEY, _, _) => return Err(mismatch("a JsonWebKey needs publicKeyJwk and nothing else")),
            (other, _, _) => {
                return Err(DidError::UnsupportedPublicKeyType {
                    kind: format!("type {other}"),
                });
            }
        };
        Ok(VerificationMethod {
            id,
            controller,
            format,
            key,
        })
    }
}

impl TryFrom<WireRef> for MethodRef {
    type Error = DidError;
    fn try_from(wire: WireRef) -> Result<Self, DidError> {
        Ok(match wire {
            WireRef::Reference(id) => MethodRef::Reference(DidUrl::parse(&id)?),
            WireRef::Embedded(method) => MethodRef::Embedded(Box::new(method.try_into()?)),
        })
    }
}

impl TryFrom<WireService> for Service {
    type Error = DidError;
    fn try_from(wire: WireService) -> Result<Self, DidError> {
        Ok(Service {
            id: DidUrl::parse(&wire.id)?,
            types: wire.types,
            endpoint: wire.service_endpoint,
        })
    }
}
