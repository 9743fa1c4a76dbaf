//! Any text as a compact JWS: parsing never panics; an accepted one has an EdDSA header
//! without `crit`, and checking its type, claims and signature never panics either.
#![no_main]

use ed25519_dalek::SigningKey;
use identity::jws::{self, CREDENTIAL, TYP_KB_JWT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(parsed) = jws::parse(text, 64 * 1024, CREDENTIAL) {
        assert_eq!(parsed.header().get("alg").and_then(|a| a.as_str()), Some("EdDSA"));
        assert!(!parsed.header().contains_key("crit"));
        let _ = parsed.expect_typ(TYP_KB_JWT, &[]);
        let _ = parsed.claims();
        let key = SigningKey::from_bytes(&[1; 32]).verifying_key();
        let _ = parsed.verify(&key);
    }
});
