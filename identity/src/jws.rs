//! Compact JWS (RFC 7515) signed with `alg: EdDSA` over Ed25519 (RFC 8037), the only
//! algorithm accepted: `none` and every other `alg` are refused, as is any `crit` header
//! (no extension is understood, so none may be critical), so an attacker cannot choose how a
//! token is checked. Parts are canonical base64url without padding; the header and a JWT's
//! payload are JSON objects without repeated members; inputs longer than the caller's limit
//! are refused before any decoding. Signatures are checked with `verify_strict` (no
//! small-order keys, no malleable signatures).

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde_json::{Map, Value};

use crate::encoding::{b64_decode, b64_encode, parse_object_strict};
use crate::error::IdentityError;

/// The one algorithm: EdDSA with Ed25519.
pub const ALG_EDDSA: &str = "EdDSA";
/// `typ` of an SD-JWT VC as the current SD-JWT VC draft names it (what we issue).
pub const TYP_DC_SD_JWT: &str = "dc+sd-jwt";
/// `typ` of an SD-JWT VC as earlier drafts named it (still accepted).
pub const TYP_VC_SD_JWT: &str = "vc+sd-jwt";
/// `typ` of a Key Binding JWT (RFC 9901).
pub const TYP_KB_JWT: &str = "kb+jwt";
/// `typ` of a status list token (Token Status List draft).
pub const TYP_STATUS_LIST: &str = "statuslist+jwt";

/// Token name in errors: the issuer-signed JWT of an SD-JWT.
pub const CREDENTIAL: &str = "credential";
/// Token name in errors: the Key Binding JWT.
pub const KB_JWT: &str = "key binding JWT";
/// Token name in errors: a status list token.
pub const STATUS_LIST_TOKEN: &str = "status list token";

/// A parsed, not yet verified, compact JWS.
#[derive(Debug, Clone)]
pub struct Jws<'a> {
    token: &'static str,
    signing_input: &'a str,
    header: Map<String, Value>,
    payload: Vec<u8>,
    signature: Signature,
}

/// Splits and decodes a compact JWS no longer than `max_len`, and checks its header's `alg`
/// and `crit`. `token` names it in errors. The signature is not checked: see [`Jws::verify`].
pub fn parse<'a>(text: &'a str, max_len: usize, token: &'static str) -> Result<Jws<'a>, IdentityError> {
    if text.len() > max_len {
        return Err(IdentityError::TooLarge {
            what: token,
            len: text.len(),
            max: max_len,
        });
    }
    let malformed = |reason| IdentityError::MalformedJws { token, reason };
    let mut parts = text.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("not three dot-separated parts"));
    };
    let header_bytes = b64_decode(header_b64).ok_or_else(|| malformed("header is not base64url"))?;
    let payload = b64_decode(payload_b64).ok_or_else(|| malformed("payload is not base64url"))?;
    let signature_bytes = b64_decode(signature_b64).ok_or_else(|| malformed("signature is not base64url"))?;
    let header = parse_object_strict(&header_bytes, "JWS header")?;
    match header.get("alg") {
        Some(Value::String(alg)) if alg == ALG_EDDSA => {}
        Some(Value::String(alg)) if alg.eq_ignore_ascii_case("none") => return Err(IdentityError::AlgNone),
        Some(Value::String(alg)) => return Err(IdentityError::UnexpectedAlg { alg: alg.clone() }),
        Some(_) => return Err(malformed("alg is not a string")),
        None => return Err(malformed("no alg header")),
    }
    if header.contains_key("crit") {
        return Err(IdentityError::CritHeader);
    }
    let signature_bytes: [u8; 64] = signature_bytes
        .try_into()
        .map_err(|_| malformed("signature is not 64 bytes"))?;
    let signing_input = &text[..header_b64.len() + 1 + payload_b64.len()];
    Ok(Jws {
        token,
        signing_input,
        header,
        payload,
        signature: Signature::from_bytes(&signature_bytes),
    })
}

impl Jws<'_> {
    /// The header's members.
    pub fn header(&self) -> &Map<String, Value> {
        &self.header
    }

    /// The header's `kid`, if it is a string.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// The decoded payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The payload as a JWT claims set: a JSON object without repeated members.
    pub fn claims(&self) -> Result<Map<String, Value>, IdentityError> {
        parse_object_strict(&self.payload, self.token)
    }

    /// Checks that `typ` is `expected` (or one of `also`), compared as RFC 7515 says: without
    /// case and with an optional `application/` prefix.
    pub fn expect_typ(&self, expected: &'static str, also: &[&str]) -> Result<(), IdentityError> {
        let found = self.header.get("typ").and_then(Value::as_str);
        let matches = |want: &str| {
            found.is_some_and(|typ| {
                let bare = match typ.get(..12) {
                    Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &typ[12..],
                    _ => typ,
                };
                bare.eq_ignore_ascii_case(want)
            })
        };
        if matches(expected) || also.iter().any(|t| matches(t)) {
            Ok(())
        } else {
            Err(IdentityError::WrongTyp {
                expected,
                found: self
                    .header
                    .get("typ")
                    .map(|t| t.as_str().map_or_else(|| t.to_string(), str::to_owned)),
            })
        }
    }

    /// Verifies the signature under `key`.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), IdentityError> {
        key.verify_strict(self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| IdentityError::BadSignature { token: self.token })
    }
}

/// Signs `claims` as a compact JWS with header `{"alg":"EdDSA","typ":typ,"kid":kid}`.
pub fn sign_jwt(typ: &str, kid: Option<&str>, claims: &Map<String, Value>, key: &SigningKey) -> String {
    let mut header = Map::new();
    header.insert("alg".into(), ALG_EDDSA.into());
    header.insert("typ".into(), typ.into());
    if let Some(kid) = kid {
        header.insert("kid".into(), kid.into());
    }
    let header_json = serde_json::to_vec(&header).expect("a JSON map serializes");
    let payload_json = serde_json::to_vec(claims).expect("a JSON map serializes");
    sign_parts(&header_json, &payload_json, key)
}

/// Signs raw header and payload bytes (for test vectors whose payload is not JSON).
pub fn sign_parts(header: &[u8], payload: &[u8], key: &SigningKey) -> String {
    let mut text = b64_encode(header);
    text.push('.');
    text.push_str(&b64_encode(payload));
    let signature = key.sign(text.as_bytes());
    text.push('.');
    text.push_str(&b64_encode(signature.to_bytes()));
    text
}

/// An integer claim (a NumericDate such as `iat`), if present.
pub(crate) fn int_claim(
    claims: &Map<String, Value>,
    claim: &'static str,
    token: &'static str,
) -> Result<Option<i64>, IdentityError> {
    match claims.get(claim) {
        None => Ok(None),
        Some(value) => value
            .as_i64()
            .map(Some)
            .ok_or_else(|| IdentityError::InvalidClaim {
                token,
                claim,
                reason: "not an integer".to_owned(),
            }),
    }
}

/// A string claim, required.
pub(crate) fn str_claim<'c>(
    claims: &'c Map<String, Value>,
    claim: &'static str,
    token: &'static str,
) -> Result<&'c str, IdentityError> {
    match claims.get(claim) {
        None => Err(IdentityError::MissingClaim { token, claim }),
        Some(value) => value.as_str().ok_or_else(|| IdentityError::InvalidClaim {
            token,
            claim,
            reason: "not a string".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[3; 32])
    }

    #[test]
    fn round_trip_and_typ() {
        let mut claims = Map::new();
        claims.insert("iss".into(), "did:example:1".into());
        let text = sign_jwt("kb+jwt", Some("k1"), &claims, &key());
        let jws = parse(&text, 1000, KB_JWT).unwrap();
        jws.verify(&key().verifying_key()).unwrap();
        assert_eq!(jws.claims().unwrap(), claims);
        assert_eq!(jws.kid(), Some("k1"));
        jws.expect_typ(TYP_KB_JWT, &[]).unwrap();
        assert!(matches!(
            jws.expect_typ(TYP_STATUS_LIST, &[]),
            Err(IdentityError::WrongTyp { .. })
        ));
        let other = SigningKey::from_bytes(&[4; 32]).verifying_key();
        assert_eq!(
            jws.verify(&other),
            Err(IdentityError::BadSignature { token: KB_JWT })
        );
    }

    #[test]
    fn typ_compares_without_case_and_media_type_prefix() {
        let text = sign_parts(br#"{"alg":"EdDSA","typ":"application/KB+JWT"}"#, b"{}", &key());
        parse(&text, 1000, KB_JWT)
            .unwrap()
            .expect_typ(TYP_KB_JWT, &[])
            .unwrap();
    }

    #[test]
    fn hostile_headers_are_refused() {
        let with =
            |header: &str| parse(&sign_parts(header.as_bytes(), b"{}", &key()), 1000, KB_JWT).map(|_| ());
        assert_eq!(with(r#"{"alg":"none"}"#), Err(IdentityError::AlgNone));
        assert_eq!(
            with(r#"{"alg":"HS256"}"#),
            Err(IdentityError::UnexpectedAlg { alg: "HS256".into() })
        );
        assert_eq!(
            with(r#"{"alg":"EdDSA","crit":["b64"]}"#),
            Err(IdentityError::CritHeader)
        );
        assert!(matches!(
            with(r#"{"typ":"x"}"#),
            Err(IdentityError::MalformedJws { .. })
        ));
        assert_eq!(
            with(r#"{"alg":"EdDSA","alg":"none"}"#),
            Err(IdentityError::DuplicateJsonKey { part: "JWS header" })
        );
        let text = sign_parts(br#"{"alg":"EdDSA"}"#, b"{}", &key());
        assert!(matches!(
            parse(&text, 10, KB_JWT),
            Err(IdentityError::TooLarge { .. })
        ));
        assert!(matches!(
            parse(&format!("{text}="), 1000, KB_JWT),
            Err(IdentityError::MalformedJws { .. })
        ));
        assert!(matches!(
            parse(&format!("{text}.x"), 1000, KB_JWT),
            Err(IdentityError::MalformedJws { .. })
        ));
    }
}
