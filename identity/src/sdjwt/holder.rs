//! The holder's side: [`SdJwt::parse`] reads an issued credential (checking its structure the
//! way a verifier will, so a wallet stores nothing a verifier would refuse),
//! [`SdJwt::present`] keeps the disclosures for the claims asked for and appends a Key
//! Binding JWT signed with the holder's key.

use ed25519_dalek::{SigningKey, VerifyingKey};
use htlc::Timestamp;
use serde_json::{Map, Value};

use super::credential::parse_parts;
use super::unpack::unpack;
use super::{Disclosure, holder_key, key_binding, split};
use crate::error::IdentityError;
use crate::jws::{self, CREDENTIAL};

/// An issued SD-JWT as the holder keeps it.
#[derive(Debug, Clone)]
pub struct SdJwt {
    jwt: String,
    disclosures: Vec<Disclosure>,
    paths: Vec<String>,
    claims: Map<String, Value>,
    iss: String,
    holder_key: VerifyingKey,
}

impl SdJwt {
    /// Parses `<jwt>~<disclosure>~...~` (no Key Binding JWT): its header, claims, holder key
    /// and disclosures, each of which must be referenced exactly once. The issuer's signature
    /// is not checked here (see [`SdJwt::verify_issuer`]).
    pub fn parse(text: &str) -> Result<SdJwt, IdentityError> {
        let (jwt, disclosure_texts, rest) = split(text)?;
        if !rest.is_empty() {
            return Err(IdentityError::MalformedJws {
                token: CREDENTIAL,
                reason: "an issued SD-JWT ends with '~' (this one carries a key binding JWT)",
            });
        }
        let parsed = parse_parts(jwt, &disclosure_texts)?;
        let iss = jws::str_claim(&parsed.payload, "iss", CREDENTIAL)?.to_owned();
        let holder_key = holder_key(&parsed.payload, CREDENTIAL)?;
        let unpacked = unpack(parsed.payload, &parsed.disclosures)?;
        Ok(SdJwt {
            jwt: jwt.to_owned(),
            disclosures: parsed.disclosures,
            paths: unpacked.paths,
            claims: unpacked.claims,
            iss,
            holder_key,
        })
    }

    /// Checks the issuer's signature with `key`.
    pub fn verify_issuer(&self, key: &VerifyingKey) -> Result<(), IdentityError> {
        jws::parse(&self.jwt, super::MAX_PRESENTATION_BYTES, CREDENTIAL)?.verify(key)
    }

    /// The issuer (`iss`).
    pub fn iss(&self) -> &str {
        &self.iss
    }

    /// The key the credential is bound to (`cnf.jwk`).
    pub fn holder_key(&self) -> &VerifyingKey {
        &self.holder_key
    }

    /// Every claim with every disclosure applied (what the holder knows).
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The JSON Pointers of the selectively disclosable claims.
    pub fn disclosable(&self) -> impl Iterator<Item = &str> {
        self.paths.iter().map(String::as_str)
    }

    /// The disclosures, in the credential's order.
    pub fn disclosures(&self) -> &[Disclosure] {
        &self.disclosures
    }

    /// `<jwt>~<d>~...~` keeping only what discloses the claims at `paths` (JSON Pointers, or a
    /// bare top-level name): each claim with everything disclosable below it, and the
    /// disclosures of the objects and arrays that contain it.
    pub fn select(&self, paths: &[&str]) -> Result<String, IdentityError> {
        let mut keep = vec![false; self.disclosures.len()];
        for requested in paths {
            let wanted = if requested.starts_with('/') {
                (*requested).to_owned()
            } else {
                format!("/{}", super::pointer_token(requested))
            };
            let below = format!("{wanted}/");
            let mut found = false;
            for (index, path) in self.paths.iter().enumerate() {
                if *path == wanted || path.starts_with(&below) {
                    keep[index] = true;
                    found = true;
                } else if wanted.starts_with(&format!("{path}/")) {
                    keep[index] = true;
                }
            }
            if !found {
                return Err(IdentityError::NoSuchDisclosure { path: wanted });
            }
        }
        let mut presented = self.jwt.clone();
        presented.push('~');
        for (disclosure, _) in self.disclosures.iter().zip(&keep).filter(|(_, k)| **k) {
            presented.push_str(disclosure.encoded());
            presented.push('~');
        }
        Ok(presented)
    }

    /// The presentation for verifier `aud` answering challenge `nonce`: [`SdJwt::select`]
    /// followed by a Key Binding JWT signed with `key` (which must be the bound key).
    pub fn present(
        &self,
        paths: &[&str],
        aud: &str,
        nonce: &str,
        now: Timestamp,
        key: &SigningKey,
    ) -> Result<String, IdentityError> {
        if key.verifying_key() != self.holder_key {
            return Err(IdentityError::InvalidRequest {
                reason: "the signing key is not the credential's bound key".to_owned(),
            });
        }
        let mut presentation = self.select(paths)?;
        let kb = key_binding::sign(&presentation, aud, nonce, now, key);
        presentation.push_str(&kb);
        Ok(presentation)
    }
}
