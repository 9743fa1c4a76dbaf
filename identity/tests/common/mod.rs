//! Shared set-up for the identity crate's integration tests: fixed keys, a fixed clock, a
//! seeded RNG, and one credential issued with nested and array claims.
#![allow(dead_code)]

use ed25519_dalek::SigningKey;
use htlc::Timestamp;
use identity::{
    CredentialRequest, Expectations, IdentityError, IssuedCredential, Issuer, IssuerKeyQuery, StatusRef,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::json;

pub(crate) const ISS: &str = "did:cypher:SanM6HZNLWJLUCcGZpBczR";
pub(crate) const KID: &str = "did:cypher:SanM6HZNLWJLUCcGZpBczR#key-1";
pub(crate) const AUD: &str = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";
pub(crate) const NONCE: &str = "n-0S6_WzA2Mj";
pub(crate) const STATUS_URI: &str = "https://isp.example/status/1";
/// 2026-12-01T00:00:00Z.
pub(crate) const ISSUED_SECS: i64 = 1_796_083_200;

pub(crate) fn issuer_key() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}

pub(crate) fn holder_key() -> SigningKey {
    SigningKey::from_bytes(&[2; 32])
}

pub(crate) fn at(secs: i64) -> Timestamp {
    Timestamp::from_unix_millis(secs * 1000).unwrap()
}

pub(crate) fn issuer() -> Issuer {
    Issuer::new(ISS, KID, issuer_key())
}

pub(crate) fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Claims: flat, nested (`address`) and an array (`nationalities`).
pub(crate) fn request() -> CredentialRequest {
    let claims = json!({
        "given_name": "Erika",
        "family_name": "Mustermann",
        "birthdate": "1964-08-12",
        "age_over_18": true,
        "address": {"locality": "Berlin", "country": "DE"},
        "nationalities": ["DE", "FR"],
        "resident_in_euro_area": true,
    });
    CredentialRequest {
        vct: "https://cypherlink.example/kyc/v1".into(),
        claims: claims.as_object().unwrap().clone(),
        disclosable: [
            "/given_name",
            "/family_name",
            "/birthdate",
            "/age_over_18",
            "/address",
            "/address/locality",
            "/address/country",
            "/nationalities/0",
            "/nationalities/1",
        ]
        .map(String::from)
        .to_vec(),
        holder_key: holder_key().verifying_key(),
        issued_at: at(ISSUED_SECS),
        expires_at: Some(at(ISSUED_SECS + 365 * 86_400)),
        status: Some(StatusRef {
            idx: 5,
            uri: STATUS_URI.into(),
        }),
        decoys: 3,
    }
}

pub(crate) fn issue() -> IssuedCredential {
    issuer().issue(&request(), &mut rng(7)).unwrap()
}

/// The verifier's time: an hour after issuance.
pub(crate) fn now() -> Timestamp {
    at(ISSUED_SECS + 3600)
}

pub(crate) fn expect() -> Expectations<'static> {
    Expectations {
        audience: AUD,
        nonce: NONCE,
        now: now(),
        max_kb_age_secs: 300,
        max_skew_secs: 60,
    }
}

/// The key lookup of a verifier that knows one issuer key.
pub(crate) fn lookup(query: &IssuerKeyQuery<'_>) -> Result<ed25519_dalek::VerifyingKey, IdentityError> {
    if query.iss == ISS && query.kid == Some(KID) {
        Ok(issuer_key().verifying_key())
    } else {
        Err(IdentityError::IssuerKeyUnavailable {
            iss: query.iss.to_owned(),
            kid: query.kid.map(str::to_owned),
            reason: "unknown issuer".into(),
        })
    }
}
