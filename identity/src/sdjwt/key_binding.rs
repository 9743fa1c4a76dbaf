//! The Key Binding JWT (RFC 9901 section 4.3): `typ: kb+jwt`, signed by the key in the
//! credential's `cnf`, with `iat`, `aud` (the verifier), `nonce` (its challenge) and `sd_hash`,
//! the base64url SHA-256 of the presentation up to and including the last `~`, which ties the
//! signature to exactly the disclosures presented.

use ed25519_dalek::{SigningKey, VerifyingKey};
use htlc::Timestamp;
use serde_json::Map;

use crate::encoding::sha256_b64;
use crate::error::IdentityError;
use crate::jws::{self, KB_JWT, TYP_KB_JWT, int_claim, sign_jwt, str_claim};

/// Longest Key Binding JWT accepted.
pub const MAX_KB_JWT_BYTES: usize = 4 * 1024;

/// What a Key Binding JWT binds a presentation to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBinding {
    /// The verifier (`aud`), e.g. the merchant's DID.
    pub aud: String,
    /// The verifier's challenge (`nonce`).
    pub nonce: String,
    /// When the holder signed (`iat`, Unix seconds).
    pub iat: i64,
}

/// base64url SHA-256 of `<jwt>~<d1>~...~<dn>~`.
pub fn sd_hash(presented: &str) -> String {
    sha256_b64(presented)
}

/// Signs the Key Binding JWT for `presented` (ending with `~`).
pub fn sign(presented: &str, aud: &str, nonce: &str, iat: Timestamp, key: &SigningKey) -> String {
    let mut claims = Map::new();
    claims.insert("iat".into(), iat.unix_secs().into());
    claims.insert("aud".into(), aud.into());
    claims.insert("nonce".into(), nonce.into());
    claims.insert("sd_hash".into(), sd_hash(presented).into());
    sign_jwt(TYP_KB_JWT, None, &claims, key)
}

/// Verifies `kb_jwt` against the holder's key and `presented` (what precedes it); returns its
/// claims for the caller to check `aud`, `nonce` and `iat`.
pub fn verify(kb_jwt: &str, presented: &str, holder: &VerifyingKey) -> Result<KeyBinding, IdentityError> {
    if kb_jwt.is_empty() {
        return Err(IdentityError::MissingKeyBinding);
    }
    let jws = jws::parse(kb_jwt, MAX_KB_JWT_BYTES, KB_JWT)?;
    jws.expect_typ(TYP_KB_JWT, &[])?;
    jws.verify(holder)?;
    let claims = jws.claims()?;
    let iat = int_claim(&claims, "iat", KB_JWT)?.ok_or(IdentityError::MissingClaim {
        token: KB_JWT,
        claim: "iat",
    })?;
    let aud = str_claim(&claims, "aud", KB_JWT)?.to_owned();
    let nonce = str_claim(&claims, "nonce", KB_JWT)?.to_owned();
    if str_claim(&claims, "sd_hash", KB_JWT)? != sd_hash(presented) {
        return Err(IdentityError::SdHashMismatch);
    }
    Ok(KeyBinding { aud, nonce, iat })
}
