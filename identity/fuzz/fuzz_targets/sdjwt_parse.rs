//! Any text as an SD-JWT and as a presentation: the holder's parser and the verifier (with a
//! fixed issuer key, audience, nonce and time) never panic. Each input is also tried behind a
//! validly signed issuer JWT, so the fuzzer reaches the disclosures and the key binding
//! without having to forge an Ed25519 signature.
#![no_main]

use ed25519_dalek::SigningKey;
use htlc::Timestamp;
use identity::{Expectations, SdJwt, verify_presentation};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const ISSUED_SECS: i64 = 1_796_083_200;

/// A real credential with two disclosures, to splice fuzz input behind its JWT.
fn issued_jwt() -> &'static str {
    static JWT: OnceLock<String> = OnceLock::new();
    JWT.get_or_init(|| {
        use rand::SeedableRng;
        let claims = serde_json::json!({"a": 1, "b": [true, false], "c": {"d": "e"}});
        let request = identity::CredentialRequest {
            vct: "urn:fuzz".into(),
            claims: claims.as_object().unwrap().clone(),
            disclosable: vec!["/a".into(), "/b/1".into(), "/c/d".into()],
            holder_key: SigningKey::from_bytes(&[2; 32]).verifying_key(),
            issued_at: Timestamp::from_unix_millis(ISSUED_SECS * 1000).unwrap(),
            expires_at: None,
            status: None,
            decoys: 1,
        };
        let issuer = identity::Issuer::new("did:example:isp", "did:example:isp#k", SigningKey::from_bytes(&[1; 32]));
        let issued = issuer.issue(&request, &mut rand::rngs::StdRng::seed_from_u64(0)).unwrap();
        issued.sd_jwt.split('~').next().unwrap().to_owned()
    })
}

fn check(text: &str) {
    let _ = SdJwt::parse(text).map(|held| {
        let _ = held.select(&["a"]);
    });
    let expect = Expectations {
        audience: "did:example:merchant",
        nonce: "n",
        now: Timestamp::from_unix_millis((ISSUED_SECS + 60) * 1000).unwrap(),
        max_kb_age_secs: 300,
        max_skew_secs: 60,
    };
    let key = SigningKey::from_bytes(&[1; 32]).verifying_key();
    let _ = verify_presentation(text, |_| Ok(key), &expect);
}

fuzz_target!(|text: &str| {
    check(text);
    check(&format!("{}~{text}", issued_jwt()));
});
