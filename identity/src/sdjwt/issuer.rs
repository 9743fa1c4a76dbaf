//! Issuing an SD-JWT VC: the issuer (an ISP, identified by its DID, signing with the key its
//! DID document names in `kid`) turns a [`CredentialRequest`] into
//! `<issuer-signed JWT>~<disclosure>~...~`. Each selectively disclosable claim, named by its
//! JSON Pointer, becomes a salted disclosure whose digest takes its place (`_sd` for object
//! members, `{"...": digest}` for array elements); children are concealed before their
//! parents, so a disclosable object may hold disclosable members. Digests in each `_sd` are
//! sorted, so their order says nothing about the claims' order.

use std::collections::BTreeSet;

use ed25519_dalek::{SigningKey, VerifyingKey};
use htlc::Timestamp;
use rand::{CryptoRng, RngCore};
use serde_json::{Map, Value, json};

use super::disclosure::decoy_digest;
use super::{Disclosure, RESERVED_CLAIMS, SD_ALG, StatusRef, cnf_json, pointer_token};
use crate::error::IdentityError;
use crate::jws::{TYP_DC_SD_JWT, sign_jwt};

/// What to issue.
#[derive(Debug, Clone)]
pub struct CredentialRequest {
    /// The credential type (`vct`).
    pub vct: String,
    /// The subject's claims (none of [`RESERVED_CLAIMS`]).
    pub claims: Map<String, Value>,
    /// JSON Pointers (RFC 6901) of the selectively disclosable claims, e.g. `/age_over_18`,
    /// `/address/country`, `/nationalities/0`.
    pub disclosable: Vec<String>,
    /// The holder's key, bound as `cnf.jwk`.
    pub holder_key: VerifyingKey,
    /// Issuance time (`iat`).
    pub issued_at: Timestamp,
    /// Expiry (`exp`), if any.
    pub expires_at: Option<Timestamp>,
    /// The credential's status list entry (`status`), if any.
    pub status: Option<StatusRef>,
    /// Decoy digests to add to the top-level `_sd`.
    pub decoys: usize,
}

/// An issued credential.
#[derive(Debug, Clone)]
pub struct IssuedCredential {
    /// `<issuer-signed JWT>~<disclosure>~...~`, what the holder receives.
    pub sd_jwt: String,
    /// The disclosures, each with its digest (what an issuer may keep instead of the values).
    pub disclosures: Vec<Disclosure>,
}

/// An issuer: its identifier (`iss`, a DID), the key id of its signing key (`kid`, a DID URL)
/// and the key.
#[derive(Debug, Clone)]
pub struct Issuer {
    iss: String,
    kid: String,
    key: SigningKey,
}

impl Issuer {
    /// An issuer signing as `iss` with `key`, named `kid` in its DID document.
    pub fn new(iss: impl Into<String>, kid: impl Into<String>, key: SigningKey) -> Issuer {
        Issuer {
            iss: iss.into(),
            kid: kid.into(),
            key,
        }
    }

    /// The issuer's identifier.
    pub fn iss(&self) -> &str {
        &self.iss
    }

    /// The verifying key matching the signing key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// Issues the credential; salts and decoys come from `rng`.
    pub fn issue<R: RngCore + CryptoRng>(
        &self,
        request: &CredentialRequest,
        rng: &mut R,
    ) -> Result<IssuedCredential, IdentityError> {
        if let Some(name) = request
            .claims
            .keys()
            .find(|k| RESERVED_CLAIMS.contains(&k.as_str()))
        {
            return Err(IdentityError::InvalidRequest {
                reason: format!("claim {name:?} is set by the issuer"),
            });
        }
        for value in request.claims.values() {
            check_nested_names(value)?;
        }
        let wanted: BTreeSet<&str> = request.disclosable.iter().map(String::as_str).collect();
        let mut concealer = Concealer {
            wanted: &wanted,
            matched: BTreeSet::new(),
            disclosures: Vec::new(),
            rng,
        };
        let mut payload = concealer.object(request.claims.clone(), "");
        if let Some(missing) = wanted.iter().find(|p| !concealer.matched.contains(**p)) {
            return Err(IdentityError::InvalidRequest {
                reason: format!("disclosable path {missing:?} names no claim"),
            });
        }
        if request.decoys > 0 {
            let mut digests: Vec<Value> = match payload.remove("_sd") {
                Some(Value::Array(digests)) => digests,
                _ => Vec::new(),
            };
            digests.extend((0..request.decoys).map(|_| Value::String(decoy_digest(concealer.rng))));
            digests.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            payload.insert("_sd".into(), Value::Array(digests));
        }
        payload.insert("iss".into(), self.iss.clone().into());
        payload.insert("iat".into(), request.issued_at.unix_secs().into());
        if let Some(exp) = request.expires_at {
            payload.insert("exp".into(), exp.unix_secs().into());
        }
        payload.insert("vct".into(), request.vct.clone().into());
        payload.insert("cnf".into(), cnf_json(&request.holder_key));
        if let Some(status) = &request.status {
            payload.insert("status".into(), status.to_json());
        }
        payload.insert("_sd_alg".into(), json!(SD_ALG));
        let jwt = sign_jwt(TYP_DC_SD_JWT, Some(&self.kid), &payload, &self.key);
        let disclosures = concealer.disclosures;
        let mut sd_jwt = jwt;
        sd_jwt.push('~');
        for disclosure in &disclosures {
            sd_jwt.push_str(disclosure.encoded());
            sd_jwt.push('~');
        }
        Ok(IssuedCredential { sd_jwt, disclosures })
    }
}

/// Refuses `_sd` and `...` as member names anywhere: they would collide with the digests.
fn check_nested_names(value: &Value) -> Result<(), IdentityError> {
    match value {
        Value::Object(map) => {
            if let Some(name) = map.keys().find(|k| *k == "_sd" || *k == "...") {
                return Err(IdentityError::InvalidRequest {
                    reason: format!("claim name {name:?} is reserved by SD-JWT"),
                });
            }
            map.values().try_for_each(check_nested_names)
        }
        Value::Array(items) => items.iter().try_for_each(check_nested_names),
        _ => Ok(()),
    }
}

/// Walks the claims bottom-up, replacing the wanted ones by digests.
struct Concealer<'w, 'r, R> {
    wanted: &'w BTreeSet<&'w str>,
    matched: BTreeSet<String>,
    disclosures: Vec<Disclosure>,
    rng: &'r mut R,
}

impl<R: RngCore + CryptoRng> Concealer<'_, '_, R> {
    fn value(&mut self, value: Value, path: &str) -> Value {
        match value {
            Value::Object(map) => Value::Object(self.object(map, path)),
            Value::Array(items) => Value::Array(self.array(items, path)),
            other => other,
        }
    }

    fn object(&mut self, map: Map<String, Value>, path: &str) -> Map<String, Value> {
        let mut out = Map::new();
        let mut digests = Vec::new();
        for (name, value) in map {
            let child = format!("{path}/{}", pointer_token(&name));
            let value = self.value(value, &child);
            if self.wanted.contains(child.as_str()) {
                let disclosure = Disclosure::new(Some(&name), value, self.rng);
                digests.push(disclosure.digest().to_owned());
                self.disclosures.push(disclosure);
                self.matched.insert(child);
            } else {
                out.insert(name, value);
            }
        }
        if !digests.is_empty() {
            digests.sort();
            out.insert("_sd".into(), digests.into_iter().map(Value::String).collect());
        }
        out
    }

    fn array(&mut self, items: Vec<Value>, path: &str) -> Vec<Value> {
        let mut out = Vec::with_capacity(items.len());
        for (position, item) in items.into_iter().enumerate() {
            let child = format!("{path}/{position}");
            let item = self.value(item, &child);
            if self.wanted.contains(child.as_str()) {
                let disclosure = Disclosure::new(None, item, self.rng);
                out.push(json!({"...": disclosure.digest()}));
                self.disclosures.push(disclosure);
                self.matched.insert(child);
            } else {
                out.push(item);
            }
        }
        out
    }
}
