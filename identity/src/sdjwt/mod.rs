//! SD-JWT (RFC 9901) as SD-JWT VCs (the IETF SD-JWT VC draft: `vct`, `cnf`, `status`), with
//! Key Binding. An issued credential is `<issuer-signed JWT>~<disclosure>~...~`; a
//! presentation keeps the disclosures the holder chose and appends a Key Binding JWT:
//! `<issuer-signed JWT>~<disclosure>~...~<KB-JWT>`.
//!
//! - [`issuer`]: builds a credential from claims and the JSON Pointers (RFC 6901) of those
//!   that are selectively disclosable (object members and array elements, at any depth).
//! - [`holder`]: parses a credential, chooses disclosures by claim path, signs the Key Binding.
//! - [`verifier`]: checks a presentation and returns the disclosed claims.
//! - [`disclosure`]: one disclosure and its digest; [`key_binding`]: the Key Binding JWT.
//!
//! Digests are SHA-256 (`_sd_alg: sha-256`) over the disclosure's base64url text.

mod credential;
pub mod disclosure;
pub mod holder;
pub mod issuer;
pub mod key_binding;
mod unpack;
pub mod verifier;

use did::PublicKey;
use ed25519_dalek::VerifyingKey;
use serde_json::{Map, Value, json};

use crate::error::IdentityError;

pub use disclosure::Disclosure;

/// The only `_sd_alg` issued and accepted.
pub const SD_ALG: &str = "sha-256";
/// Longest presentation (or credential) accepted, in bytes.
pub const MAX_PRESENTATION_BYTES: usize = 64 * 1024;
/// Most disclosures in one credential or presentation.
pub const MAX_DISCLOSURES: usize = 256;
/// Deepest nesting of objects and arrays (disclosed values included) walked.
pub const MAX_DEPTH: usize = 32;
/// Claim names the format itself sets; an issuance request may not use them and they are never
/// selectively disclosable.
pub const RESERVED_CLAIMS: [&str; 10] = [
    "iss", "iat", "exp", "nbf", "cnf", "vct", "status", "_sd", "_sd_alg", "...",
];

/// A credential's reference to its entry in a status list (`status.status_list`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatusRef {
    /// The entry's index.
    pub idx: usize,
    /// The status list token's URI (its `sub`).
    pub uri: String,
}

impl StatusRef {
    /// The `status` claim's JSON.
    pub fn to_json(&self) -> Value {
        json!({"status_list": {"idx": self.idx, "uri": self.uri}})
    }

    /// Reads a `status` claim; `Ok(None)` if it has no `status_list`.
    pub fn from_json(status: &Value, token: &'static str) -> Result<Option<StatusRef>, IdentityError> {
        let invalid = |reason: &str| IdentityError::InvalidClaim {
            token,
            claim: "status",
            reason: reason.to_owned(),
        };
        let Some(object) = status.as_object() else {
            return Err(invalid("not an object"));
        };
        let Some(list) = object.get("status_list") else {
            return Ok(None);
        };
        let idx = list
            .get("idx")
            .and_then(Value::as_u64)
            .and_then(|i| usize::try_from(i).ok())
            .ok_or_else(|| invalid("status_list.idx is not a non-negative integer"))?;
        let uri = list
            .get("uri")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("status_list.uri is not a string"))?;
        Ok(Some(StatusRef {
            idx,
            uri: uri.to_owned(),
        }))
    }
}

/// The `cnf` claim binding a credential to an Ed25519 holder key: `{"jwk": {OKP, Ed25519, x}}`.
pub fn cnf_json(key: &VerifyingKey) -> Value {
    let key = PublicKey::Ed25519(*key);
    json!({"jwk": {"kty": "OKP", "crv": key.jwk_curve(), "x": key.jwk_x()}})
}

/// The holder key from a credential's claims (`cnf.jwk`, OKP Ed25519 only).
pub fn holder_key(claims: &Map<String, Value>, token: &'static str) -> Result<VerifyingKey, IdentityError> {
    let invalid = |reason: String| IdentityError::InvalidClaim {
        token,
        claim: "cnf",
        reason,
    };
    let jwk = claims
        .get("cnf")
        .ok_or(IdentityError::MissingClaim { token, claim: "cnf" })?
        .get("jwk")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("no jwk object".to_owned()))?;
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    if text("kty") != Some("OKP") || text("crv") != Some("Ed25519") {
        return Err(invalid("only OKP Ed25519 keys are accepted".to_owned()));
    }
    let x = text("x").ok_or_else(|| invalid("no x".to_owned()))?;
    match PublicKey::from_jwk("Ed25519", x).map_err(|e| invalid(e.to_string()))? {
        PublicKey::Ed25519(key) => Ok(key),
        PublicKey::X25519(_) => Err(invalid("not an Ed25519 key".to_owned())),
    }
}

/// The parts of `<jwt>~<d1>~...~<dn>~<kb>`: the JWT, the disclosures' texts, and what follows
/// the last `~` (empty for an SD-JWT without key binding). Refuses empty disclosures, a missing
/// final `~`, and more than [`MAX_DISCLOSURES`].
pub(crate) fn split(text: &str) -> Result<(&str, Vec<&str>, &str), IdentityError> {
    if text.len() > MAX_PRESENTATION_BYTES {
        return Err(IdentityError::TooLarge {
            what: "presentation",
            len: text.len(),
            max: MAX_PRESENTATION_BYTES,
        });
    }
    let malformed = |reason| IdentityError::MalformedJws {
        token: crate::jws::CREDENTIAL,
        reason,
    };
    let Some((body, kb)) = text.rsplit_once('~') else {
        return Err(malformed("no '~' after the issuer-signed JWT"));
    };
    let mut parts = body.split('~');
    let jwt = parts.next().unwrap_or_default();
    let disclosures: Vec<&str> = parts.collect();
    if disclosures.len() > MAX_DISCLOSURES {
        return Err(IdentityError::TooLarge {
            what: "disclosure list",
            len: disclosures.len(),
            max: MAX_DISCLOSURES,
        });
    }
    if let Some(index) = disclosures.iter().position(|d| d.is_empty()) {
        return Err(IdentityError::MalformedDisclosure {
            index,
            reason: "empty",
        });
    }
    Ok((jwt, disclosures, kb))
}

/// Escapes one JSON Pointer reference token (RFC 6901: `~` as `~0`, `/` as `~1`).
pub fn pointer_token(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_finds_the_parts() {
        assert_eq!(split("a.b.c~").unwrap(), ("a.b.c", vec![], ""));
        assert_eq!(
            split("a.b.c~d1~d2~kb").unwrap(),
            ("a.b.c", vec!["d1", "d2"], "kb")
        );
        assert!(split("a.b.c").is_err());
        assert!(matches!(
            split("a.b.c~~x"),
            Err(IdentityError::MalformedDisclosure { index: 0, .. })
        ));
    }

    #[test]
    fn status_ref_round_trips() {
        let status = StatusRef {
            idx: 7,
            uri: "https://isp.example/status/1".into(),
        };
        assert_eq!(
            StatusRef::from_json(&status.to_json(), "t").unwrap(),
            Some(status)
        );
        assert!(StatusRef::from_json(&json!({"status_list": {"idx": -1, "uri": "u"}}), "t").is_err());
    }

    #[test]
    fn cnf_round_trips_and_refuses_other_keys() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[5; 32]).verifying_key();
        let mut claims = Map::new();
        claims.insert("cnf".into(), cnf_json(&key));
        assert_eq!(holder_key(&claims, "t").unwrap(), key);
        claims.insert(
            "cnf".into(),
            json!({"jwk": {"kty": "EC", "crv": "P-256", "x": "AA"}}),
        );
        assert!(matches!(
            holder_key(&claims, "t"),
            Err(IdentityError::InvalidClaim { .. })
        ));
    }
}
