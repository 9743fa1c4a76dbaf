//! Interoperability with the IETF SD-JWT reference implementation (PyPI `sd-jwt` 0.10.4; see
//! `interop/reference_sdjwt.py`, which produced `fixtures/reference_presentation.json` with the
//! same fixed keys as `common`). Its JSON has spaces after separators, its own salts, decoys
//! and member order, so this checks that we read an independent writer, not just ourselves.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use identity::{Expectations, SdJwt, verify_presentation};
use serde_json::{Value, json};

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/reference_presentation.json")).unwrap()
}

/// The reference signs its Key Binding JWT at the current time: read it back to verify then.
fn kb_iat(presentation: &str) -> i64 {
    let kb = presentation.rsplit('~').next().unwrap();
    let payload = URL_SAFE_NO_PAD.decode(kb.split('.').nth(1).unwrap()).unwrap();
    serde_json::from_slice::<Value>(&payload).unwrap()["iat"]
        .as_i64()
        .unwrap()
}

#[test]
fn reference_presentation_verifies() {
    let presentation = fixture()["presentation"].as_str().unwrap().to_owned();
    let expect = Expectations {
        now: at(kb_iat(&presentation) + 1),
        ..expect()
    };
    let verified = verify_presentation(&presentation, lookup, &expect).unwrap();
    assert_eq!(
        Value::Object(verified.claims),
        json!({"age_over_18": true, "address": {"country": "DE"}, "nationalities": ["FR"]})
    );
    assert_eq!(verified.holder_key, holder_key().verifying_key());
    assert_eq!(verified.vct, "https://cypherlink.example/kyc/v1");
    // And its tampering is caught like ours: drop the key binding's last character.
    let cut = &presentation[..presentation.len() - 1];
    assert!(verify_presentation(cut, lookup, &expect).is_err());
}

#[test]
fn reference_issuance_can_be_held_and_presented_here() {
    let held = SdJwt::parse(fixture()["issuance"].as_str().unwrap()).unwrap();
    held.verify_issuer(&issuer_key().verifying_key()).unwrap();
    let mut paths: Vec<&str> = held.disclosable().collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/address/country",
            "/address/locality",
            "/age_over_18",
            "/given_name",
            "/nationalities/0",
            "/nationalities/1"
        ]
    );
    let presentation = held
        .present(
            &["given_name", "/nationalities/0"],
            AUD,
            NONCE,
            now(),
            &holder_key(),
        )
        .unwrap();
    let verified = verify_presentation(&presentation, lookup, &expect()).unwrap();
    assert_eq!(
        Value::Object(verified.claims),
        json!({"given_name": "Erika", "address": {}, "nationalities": ["DE"]})
    );
}
