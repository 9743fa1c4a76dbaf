//! Any four header values: reading and verifying a request signature never panics, and a
//! request signed with any method, path and body verifies exactly when nothing was changed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugins::auth::{
    KEY_ID_HEADER, NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, read_headers, sign_with_nonce,
    verify_signature,
};

const SECRET: &[u8] = b"fuzz-secret-of-at-least-16-bytes";

fuzz_target!(|input: &[u8]| {
    let text = String::from_utf8_lossy(input);
    let mut parts = text.splitn(6, '\n');
    let mut next = || parts.next().unwrap_or("");
    let (key_id, timestamp, nonce, signature, path, body) = (next(), next(), next(), next(), next(), next());
    let header = |name: &str| match name {
        KEY_ID_HEADER => Some(key_id),
        TIMESTAMP_HEADER => Some(timestamp),
        NONCE_HEADER => Some(nonce),
        SIGNATURE_HEADER => Some(signature),
        _ => None,
    };
    if let Ok(headers) = read_headers(header) {
        let now = headers.timestamp;
        let _ = verify_signature(&headers, SECRET, "POST", path, body.as_bytes(), now, 30);
    }

    let signed = sign_with_nonce(
        "k1",
        SECRET,
        "POST",
        path,
        1_000,
        "nonce-0123456789abcdef",
        body.as_bytes(),
    );
    assert!(verify_signature(&signed, SECRET, "POST", path, body.as_bytes(), 1_000, 30).is_ok());
    let mut tampered = body.as_bytes().to_vec();
    tampered.push(b'x');
    assert!(verify_signature(&signed, SECRET, "POST", path, &tampered, 1_000, 30).is_err());
    assert!(verify_signature(&signed, SECRET, "POST", path, body.as_bytes(), 1_031, 30).is_err());
});
