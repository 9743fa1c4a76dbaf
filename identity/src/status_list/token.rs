//! The status list token: a JWT with `typ: statuslist+jwt`, `sub` = the URI it is published
//! at (the `uri` credentials reference), `iat`, optional `exp`, `ttl` (how long a verifier may
//! cache it, seconds) and `status_list: {bits, lst}`, signed by the issuer with EdDSA.

use ed25519_dalek::{SigningKey, VerifyingKey};
use htlc::Timestamp;
use serde_json::{Map, Value, json};

use super::StatusList;
use crate::error::IdentityError;
use crate::jws::{self, STATUS_LIST_TOKEN, TYP_STATUS_LIST, int_claim, sign_jwt, str_claim};
use crate::sdjwt::verifier::{IssuerKeyQuery, check_times};

/// Longest status list token accepted.
pub const MAX_STATUS_LIST_TOKEN_BYTES: usize = 1024 * 1024;

/// A status list token's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusListToken {
    /// The issuer (`iss`), if given.
    pub iss: Option<String>,
    /// The list's URI (`sub`).
    pub sub: String,
    /// Issuance time (Unix seconds).
    pub iat: i64,
    /// Expiry (Unix seconds), if any.
    pub exp: Option<i64>,
    /// Seconds a verifier may cache the token (`ttl`), if given.
    pub ttl: Option<u64>,
    /// The list.
    pub list: StatusList,
}

impl StatusListToken {
    /// A token for `list` published at `sub`, issued at `iat`.
    pub fn new(list: StatusList, sub: impl Into<String>, iat: Timestamp) -> StatusListToken {
        StatusListToken {
            iss: None,
            sub: sub.into(),
            iat: iat.unix_secs(),
            exp: None,
            ttl: None,
            list,
        }
    }

    /// The signed JWT, with `kid` in its header.
    pub fn sign(&self, kid: &str, key: &SigningKey) -> String {
        let mut claims = Map::new();
        if let Some(iss) = &self.iss {
            claims.insert("iss".into(), iss.clone().into());
        }
        claims.insert("sub".into(), self.sub.clone().into());
        claims.insert("iat".into(), self.iat.into());
        if let Some(exp) = self.exp {
            claims.insert("exp".into(), exp.into());
        }
        if let Some(ttl) = self.ttl {
            claims.insert("ttl".into(), ttl.into());
        }
        claims.insert(
            "status_list".into(),
            json!({"bits": self.list.bits(), "lst": self.list.to_lst()}),
        );
        sign_jwt(TYP_STATUS_LIST, Some(kid), &claims, key)
    }

    /// Verifies a status list token fetched from `uri`: header, signature (key from
    /// `issuer_key`, asked with the token's `iss` or `""` and `kid`), `sub` equal to `uri`,
    /// `iat` not in the future and `exp` not passed (with `skew` seconds of tolerance), and
    /// the list itself.
    pub fn verify<F>(
        text: &str,
        issuer_key: F,
        uri: &str,
        now: Timestamp,
        skew: i64,
    ) -> Result<StatusListToken, IdentityError>
    where
        F: FnOnce(&IssuerKeyQuery<'_>) -> Result<VerifyingKey, IdentityError>,
    {
        let token = STATUS_LIST_TOKEN;
        let jws = jws::parse(text, MAX_STATUS_LIST_TOKEN_BYTES, token)?;
        jws.expect_typ(TYP_STATUS_LIST, &[])?;
        let claims = jws.claims()?;
        let iss = match claims.get("iss") {
            None => None,
            Some(_) => Some(str_claim(&claims, "iss", token)?.to_owned()),
        };
        let iat =
            int_claim(&claims, "iat", token)?.ok_or(IdentityError::MissingClaim { token, claim: "iat" })?;
        let key = issuer_key(&IssuerKeyQuery {
            iss: iss.as_deref().unwrap_or_default(),
            kid: jws.kid(),
            iat,
        })?;
        jws.verify(&key)?;
        let sub = str_claim(&claims, "sub", token)?;
        if sub != uri {
            return Err(IdentityError::StatusListMismatch {
                expected: uri.to_owned(),
                found: sub.to_owned(),
            });
        }
        let exp = int_claim(&claims, "exp", token)?;
        check_times(token, iat, None, exp, now.unix_secs(), skew)?;
        let ttl = match claims.get("ttl") {
            None => None,
            Some(ttl) => Some(ttl.as_u64().ok_or_else(|| IdentityError::InvalidClaim {
                token,
                claim: "ttl",
                reason: "not a non-negative integer".to_owned(),
            })?),
        };
        let list =
            claims
                .get("status_list")
                .and_then(Value::as_object)
                .ok_or(IdentityError::MissingClaim {
                    token,
                    claim: "status_list",
                })?;
        let invalid = |reason: &str| IdentityError::InvalidClaim {
            token,
            claim: "status_list",
            reason: reason.to_owned(),
        };
        let bits = list
            .get("bits")
            .and_then(Value::as_u64)
            .ok_or_else(|| invalid("bits is not a number"))?;
        let lst = list
            .get("lst")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("lst is not a string"))?;
        Ok(StatusListToken {
            iss,
            sub: sub.to_owned(),
            iat,
            exp,
            ttl,
            list: StatusList::from_lst(bits, lst)?,
        })
    }
}
