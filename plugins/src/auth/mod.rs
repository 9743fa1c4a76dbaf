//! Request signing for the REST plugin API, shared by the server (verify), the client (sign) and
//! webhook deliveries (the server signs, the receiver verifies).
//!
//! The signature is `hex(HMAC-SHA256(secret, canonical))` where `canonical` is six lines joined
//! by `\n`, with no trailing newline:
//!
//! ```text
//! CL1-HMAC-SHA256
//! POST
//! /v1/transfers?x=1        (path and query exactly as sent)
//! 1767225600               (CypherLink-Timestamp: Unix seconds)
//! 9b2c0f5e7a1d4e36         (CypherLink-Nonce: 16-64 characters of A-Z a-z 0-9 - _)
//! e3b0c442...b855          (hex SHA-256 of the body; of the empty string for GET)
//! ```
//!
//! The key id travels in `CypherLink-Key-Id`, so a participant can hold two keys during a
//! rotation. A request is accepted only if its timestamp is within the window of the verifier's
//! clock and its nonce was not seen before under that key; nonces are remembered for exactly as
//! long as a request carrying them could still pass the time check, which bounds the store.
//! They are kept in memory only; a restarted verifier refuses what is stamped before its start
//! instead ([`NonceStore`]).

mod nonce;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub use nonce::NonceStore;

/// Header carrying the key id.
pub const KEY_ID_HEADER: &str = "CypherLink-Key-Id";
/// Header carrying the Unix time of signing, in seconds.
pub const TIMESTAMP_HEADER: &str = "CypherLink-Timestamp";
/// Header carrying the single-use nonce.
pub const NONCE_HEADER: &str = "CypherLink-Nonce";
/// Header carrying the hex signature.
pub const SIGNATURE_HEADER: &str = "CypherLink-Signature";
/// First line of the canonical string; names the scheme version.
pub const SCHEME: &str = "CL1-HMAC-SHA256";

type HmacSha256 = Hmac<Sha256>;

/// The four signature headers of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    /// `CypherLink-Key-Id`.
    pub key_id: String,
    /// `CypherLink-Timestamp` (Unix seconds).
    pub timestamp: i64,
    /// `CypherLink-Nonce`.
    pub nonce: String,
    /// `CypherLink-Signature` (lowercase hex).
    pub signature: String,
}

impl SignatureHeaders {
    /// Header name/value pairs, ready to attach to a request.
    pub fn pairs(&self) -> [(&'static str, String); 4] {
        [
            (KEY_ID_HEADER, self.key_id.clone()),
            (TIMESTAMP_HEADER, self.timestamp.to_string()),
            (NONCE_HEADER, self.nonce.clone()),
            (SIGNATURE_HEADER, self.signature.clone()),
        ]
    }
}

/// Why a signature was refused. The text goes back to the caller in the 401 problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// A header is absent or unparsable.
    #[error("missing or invalid {0} header")]
    BadHeader(&'static str),
    /// The key id is not configured.
    #[error("unknown key id {0:?}")]
    UnknownKey(String),
    /// The timestamp is outside the accepted window.
    #[error("timestamp {timestamp} is more than {window_secs} s from the ledger's clock ({now})")]
    OutsideWindow {
        /// As sent.
        timestamp: i64,
        /// The verifier's time, Unix seconds.
        now: i64,
        /// The window.
        window_secs: u64,
    },
    /// The HMAC does not match.
    #[error("signature does not match")]
    BadSignature,
    /// The nonce was already used with this key.
    #[error("nonce already used")]
    ReplayedNonce,
    /// The request is stamped before the server started: nonces of the previous run are not
    /// remembered, so it could be a replay.
    #[error(
        "timestamp {timestamp} is before the ledger's restart at {started}; sign again with a fresh timestamp"
    )]
    PredatesRestart {
        /// As sent.
        timestamp: i64,
        /// When the server started, Unix seconds.
        started: i64,
    },
}

/// Hex SHA-256 of a body.
pub fn body_digest(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// The string that is signed.
pub fn canonical_string(
    method: &str,
    path_and_query: &str,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
) -> String {
    format!(
        "{SCHEME}\n{}\n{path_and_query}\n{timestamp}\n{nonce}\n{}",
        method.to_ascii_uppercase(),
        body_digest(body)
    )
}

/// Lowercase hex HMAC-SHA256 of the canonical string.
pub fn signature(secret: &[u8], canonical: &str) -> String {
    hex::encode(mac(secret, canonical).finalize().into_bytes())
}

fn mac(secret: &[u8], canonical: &str) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(canonical.as_bytes());
    mac
}

/// Signs a request with a fresh random nonce at `timestamp` (Unix seconds).
pub fn sign(
    key_id: &str,
    secret: &[u8],
    method: &str,
    path_and_query: &str,
    timestamp: i64,
    body: &[u8],
) -> SignatureHeaders {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    sign_with_nonce(key_id, secret, method, path_and_query, timestamp, &nonce, body)
}

/// Signs with a given nonce (documentation examples and tests).
pub fn sign_with_nonce(
    key_id: &str,
    secret: &[u8],
    method: &str,
    path_and_query: &str,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
) -> SignatureHeaders {
    let canonical = canonical_string(method, path_and_query, timestamp, nonce, body);
    SignatureHeaders {
        key_id: key_id.to_owned(),
        timestamp,
        nonce: nonce.to_owned(),
        signature: signature(secret, &canonical),
    }
}

/// Reads the four headers through `get` (any header map).
pub fn read_headers<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<SignatureHeaders, AuthError> {
    let key_id = get(KEY_ID_HEADER)
        .filter(|k| !k.is_empty() && k.len() <= 128)
        .ok_or(AuthError::BadHeader(KEY_ID_HEADER))?;
    let timestamp = get(TIMESTAMP_HEADER)
        .and_then(|t| t.parse::<i64>().ok())
        .ok_or(AuthError::BadHeader(TIMESTAMP_HEADER))?;
    let nonce = get(NONCE_HEADER)
        .filter(|n| {
            (16..=64).contains(&n.len())
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .ok_or(AuthError::BadHeader(NONCE_HEADER))?;
    let signature = get(SIGNATURE_HEADER)
        .filter(|s| s.len() == 64)
        .ok_or(AuthError::BadHeader(SIGNATURE_HEADER))?;
    Ok(SignatureHeaders {
        key_id: key_id.to_owned(),
        timestamp,
        nonce: nonce.to_owned(),
        signature: signature.to_owned(),
    })
}

/// Checks the time window and the HMAC (in constant time). Does not touch the nonce store, so
/// it can be used by webhook receivers that keep their own.
pub fn verify_signature(
    headers: &SignatureHeaders,
    secret: &[u8],
    method: &str,
    path_and_query: &str,
    body: &[u8],
    now_unix_secs: i64,
    window_secs: u64,
) -> Result<(), AuthError> {
    if now_unix_secs.abs_diff(headers.timestamp) > window_secs {
        return Err(AuthError::OutsideWindow {
            timestamp: headers.timestamp,
            now: now_unix_secs,
            window_secs,
        });
    }
    let expected = hex::decode(&headers.signature).map_err(|_| AuthError::BadHeader(SIGNATURE_HEADER))?;
    let canonical = canonical_string(method, path_and_query, headers.timestamp, &headers.nonce, body);
    mac(secret, &canonical)
        .verify_slice(&expected)
        .map_err(|_| AuthError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test-secret-of-at-least-16-bytes";

    #[test]
    fn a_signed_request_verifies_and_any_change_breaks_it() {
        let h = sign_with_nonce(
            "k1",
            SECRET,
            "post",
            "/v1/transfers",
            1000,
            "nonce-0123456789",
            b"{}",
        );
        assert!(verify_signature(&h, SECRET, "POST", "/v1/transfers", b"{}", 1000, 30).is_ok());
        let bad = |m: &str, p: &str, body: &[u8]| verify_signature(&h, SECRET, m, p, body, 1000, 30);
        assert_eq!(bad("GET", "/v1/transfers", b"{}"), Err(AuthError::BadSignature));
        assert_eq!(
            bad("POST", "/v1/transfers?a=1", b"{}"),
            Err(AuthError::BadSignature)
        );
        assert_eq!(bad("POST", "/v1/transfers", b"{ }"), Err(AuthError::BadSignature));
        assert_eq!(
            verify_signature(
                &h,
                b"another-secret-0000000",
                "POST",
                "/v1/transfers",
                b"{}",
                1000,
                30
            ),
            Err(AuthError::BadSignature)
        );
    }

    /// The worked examples in docs/rest-plugin-api.md, with the fixture key `bank-a-k1`.
    #[test]
    fn documented_examples_verify() {
        let secret = b"TEST-ONLY-bank-a-k1-secret-0001";
        let get = sign_with_nonce(
            "bank-a-k1",
            secret,
            "GET",
            "/v1/accounts/bank-a/balance",
            1_767_225_600,
            "0f8c2a7d9b1e4c3a",
            b"",
        );
        assert_eq!(
            get.signature,
            "87b441777a0add02eb0c5b6cfec8348302664a2acf2e529632e0c4e4d90bcedd"
        );
        let body = br#"{"id":"3f1c9a52-7d4e-4b8a-9c61-2e5f0a7b8d90","from":"bank-a","to":"clearing-bank","amount":100100,"condition":"66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925","expires_at":"2026-01-01T00:00:30.000Z","memo":""}"#;
        assert_eq!(
            body_digest(body),
            "93d1ea829cec04ee04ed39f938006c8b2d769d37c0e0676cc3fe8bb2cb6db858"
        );
        let post = sign_with_nonce(
            "bank-a-k1",
            secret,
            "POST",
            "/v1/transfers",
            1_767_225_600,
            "5b7e0c1d2a3f4e6b",
            body,
        );
        assert_eq!(
            post.signature,
            "97ea4e3615a2d8ae4551fd8747bc2762320ec2136de6c5e47fa7185d3c2926a5"
        );
    }

    #[test]
    fn the_window_is_inclusive_and_symmetric() {
        let h = sign("k1", SECRET, "GET", "/v1/info", 1000, b"");
        let at = |now| verify_signature(&h, SECRET, "GET", "/v1/info", b"", now, 30);
        assert!(at(970).is_ok());
        assert!(at(1030).is_ok());
        assert!(matches!(at(1031), Err(AuthError::OutsideWindow { .. })));
        assert!(matches!(at(969), Err(AuthError::OutsideWindow { .. })));
    }

    #[test]
    fn headers_are_validated() {
        let h = sign("k1", SECRET, "GET", "/v1/info", 1000, b"");
        let pairs = h.pairs();
        let get = |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str());
        assert_eq!(read_headers(get), Ok(h.clone()));
        let no_nonce = |name: &str| {
            if name == NONCE_HEADER {
                Some("short")
            } else {
                get(name)
            }
        };
        assert_eq!(read_headers(no_nonce), Err(AuthError::BadHeader(NONCE_HEADER)));
    }
}
