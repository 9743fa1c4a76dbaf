//! The verifier's side: [`verify_presentation`] checks a presentation completely and returns
//! only what it discloses. The checks, in order (the first failure is the answer):
//!
//! 1. size ([`super::MAX_PRESENTATION_BYTES`]) and shape `<jwt>~<d>~...~<kb-jwt>`;
//! 2. the issuer-signed JWT: `alg: EdDSA`, `typ` `dc+sd-jwt` (or `vc+sd-jwt`), no `crit`, no
//!    repeated JSON members, `_sd_alg` `sha-256`, `iss`, `iat`, `vct`, `cnf.jwk`;
//! 3. the issuer's signature, with the key the caller's lookup gives for (`iss`, `kid`, `iat`);
//! 4. `iat`/`nbf` not in the future, `exp` not passed (with the allowed skew);
//! 5. the disclosures: each decodes, none repeated, each digest present exactly once in the
//!    credential, no name collision; the disclosed claims rebuilt;
//! 6. the Key Binding JWT: `typ: kb+jwt`, signed by the `cnf` key, `sd_hash` over exactly
//!    what precedes it, `nonce` and `aud` as expected, `iat` within the freshness window.
//!
//! The status (revocation) is returned, not checked: the caller fetches the status list
//! token (see [`crate::status_list`]).

use ed25519_dalek::VerifyingKey;
use htlc::Timestamp;
use serde_json::{Map, Value};

use super::credential::parse_parts;
use super::unpack::unpack;
use super::{StatusRef, holder_key, key_binding, split};
use crate::error::IdentityError;
use crate::jws::{CREDENTIAL, int_claim, str_claim};

/// Claims the credential itself sets, taken out of the returned claims (and never disclosable).
const REGISTERED: [&str; 7] = ["iss", "iat", "exp", "nbf", "vct", "cnf", "status"];

/// What the verifier expects of a presentation.
#[derive(Debug, Clone, Copy)]
pub struct Expectations<'a> {
    /// This verifier's identifier, the Key Binding JWT's `aud`.
    pub audience: &'a str,
    /// The challenge this verifier issued, the Key Binding JWT's `nonce`.
    pub nonce: &'a str,
    /// The verifier's time.
    pub now: Timestamp,
    /// Oldest accepted Key Binding JWT, in seconds before `now`.
    pub max_kb_age_secs: i64,
    /// Clock skew tolerated for times in the future and for `exp`, in seconds.
    pub max_skew_secs: i64,
}

/// What the issuer key lookup is asked: the key `iss` used under `kid` at `iat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssuerKeyQuery<'a> {
    /// The credential's `iss`.
    pub iss: &'a str,
    /// The header's `kid`.
    pub kid: Option<&'a str>,
    /// The credential's `iat` (Unix seconds): the key must have been the issuer's then.
    pub iat: i64,
}

/// A verified presentation: only what was disclosed, plus the always-visible claims.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedPresentation {
    /// The issuer (`iss`).
    pub iss: String,
    /// The credential type (`vct`).
    pub vct: String,
    /// Issuance time (Unix seconds).
    pub iat: i64,
    /// Expiry (Unix seconds), if any.
    pub exp: Option<i64>,
    /// The subject's claims: disclosed ones and those issued without selective disclosure (the
    /// registered claims above, `cnf` and `status` taken out).
    pub claims: Map<String, Value>,
    /// The JSON Pointers of the disclosed claims.
    pub disclosed: Vec<String>,
    /// The status list entry to check, if the credential has one.
    pub status: Option<StatusRef>,
    /// The holder's key (`cnf`).
    pub holder_key: VerifyingKey,
    /// When the holder signed the Key Binding JWT.
    pub kb_iat: i64,
}

/// Verifies `presentation` (see the module doc for the checks and their order).
/// `issuer_key` gives the issuer's key for a query, or an error (typically
/// [`IdentityError::IssuerKeyUnavailable`]) which is returned as is.
pub fn verify_presentation<F>(
    presentation: &str,
    issuer_key: F,
    expect: &Expectations<'_>,
) -> Result<VerifiedPresentation, IdentityError>
where
    F: FnOnce(&IssuerKeyQuery<'_>) -> Result<VerifyingKey, IdentityError>,
{
    let (jwt, disclosure_texts, kb_jwt) = split(presentation)?;
    let parsed = parse_parts(jwt, &disclosure_texts)?;
    let payload = parsed.payload;
    let iss = str_claim(&payload, "iss", CREDENTIAL)?.to_owned();
    let vct = str_claim(&payload, "vct", CREDENTIAL)?.to_owned();
    let iat = int_claim(&payload, "iat", CREDENTIAL)?.ok_or(IdentityError::MissingClaim {
        token: CREDENTIAL,
        claim: "iat",
    })?;
    let exp = int_claim(&payload, "exp", CREDENTIAL)?;
    let nbf = int_claim(&payload, "nbf", CREDENTIAL)?;
    let holder = holder_key(&payload, CREDENTIAL)?;
    let status = match payload.get("status") {
        Some(status) => StatusRef::from_json(status, CREDENTIAL)?,
        None => None,
    };

    let key = issuer_key(&IssuerKeyQuery {
        iss: &iss,
        kid: parsed.jws.kid(),
        iat,
    })?;
    parsed.jws.verify(&key)?;

    let now = expect.now.unix_secs();
    check_times(CREDENTIAL, iat, nbf, exp, now, expect.max_skew_secs)?;

    let mut unpacked = unpack(payload, &parsed.disclosures)?;
    // The SD-JWT VC draft: registered claims are never selectively disclosable. Unpacked with
    // them in place, a disclosure of one collides; one absent from the payload (`nbf`, `exp`,
    // `status`) is refused here.
    if let Some(path) = unpacked
        .paths
        .iter()
        .find(|p| REGISTERED.iter().any(|r| p.strip_prefix('/') == Some(*r)))
    {
        return Err(IdentityError::ClaimCollision {
            name: path[1..].to_owned(),
        });
    }
    for claim in REGISTERED {
        unpacked.claims.remove(claim);
    }

    let presented = &presentation[..presentation.len() - kb_jwt.len()];
    let binding = key_binding::verify(kb_jwt, presented, &holder)?;
    if binding.nonce != expect.nonce {
        return Err(IdentityError::WrongNonce {
            expected: expect.nonce.to_owned(),
            found: binding.nonce,
        });
    }
    if binding.aud != expect.audience {
        return Err(IdentityError::WrongAudience {
            expected: expect.audience.to_owned(),
            found: binding.aud,
        });
    }
    let age = now.saturating_sub(binding.iat);
    if age > expect.max_kb_age_secs || age < -expect.max_skew_secs {
        return Err(IdentityError::StaleKeyBinding {
            iat: binding.iat,
            now,
            max_age: expect.max_kb_age_secs,
            skew: expect.max_skew_secs,
        });
    }
    Ok(VerifiedPresentation {
        iss,
        vct,
        iat,
        exp,
        claims: unpacked.claims,
        disclosed: unpacked.paths,
        status,
        holder_key: holder,
        kb_iat: binding.iat,
    })
}

/// `iat` and `nbf` no later than `now + skew`, `exp` later than `now - skew`.
pub(crate) fn check_times(
    token: &'static str,
    iat: i64,
    nbf: Option<i64>,
    exp: Option<i64>,
    now: i64,
    skew: i64,
) -> Result<(), IdentityError> {
    let not_before = nbf.map_or(iat, |nbf| nbf.max(iat));
    if not_before > now.saturating_add(skew) {
        return Err(IdentityError::NotYetValid {
            token,
            not_before,
            now,
        });
    }
    if let Some(exp) = exp
        && exp <= now.saturating_sub(skew)
    {
        return Err(IdentityError::Expired { token, exp, now });
    }
    Ok(())
}
