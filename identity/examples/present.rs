//! Issues a credential and prints a presentation of `age_over_18` and `/address/country` for
//! audience `did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp` and nonce
//! `n-0S6_WzA2Mj`, signed at the current time, with the fixed keys of the tests (issuer seed
//! 32 x 0x01, holder 32 x 0x02): input for another implementation's verifier, e.g.
//! `cargo run -p identity --example present | python3 identity/tests/interop/reference_sdjwt.py verify`.

use std::time::{SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use htlc::Timestamp;
use identity::{CredentialRequest, Issuer, SdJwt};
use rand::SeedableRng;
use serde_json::json;

fn main() {
    let now_millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis();
    let now = Timestamp::from_unix_millis(i64::try_from(now_millis).expect("fits")).expect("valid time");
    let holder = SigningKey::from_bytes(&[2; 32]);
    let issuer = Issuer::new(
        "did:cypher:SanM6HZNLWJLUCcGZpBczR",
        "did:cypher:SanM6HZNLWJLUCcGZpBczR#key-1",
        SigningKey::from_bytes(&[1; 32]),
    );
    let claims = json!({
        "given_name": "Erika", "age_over_18": true,
        "address": {"locality": "Berlin", "country": "DE"}, "nationalities": ["DE", "FR"],
    });
    let request = CredentialRequest {
        vct: "https://cypherlink.example/kyc/v1".into(),
        claims: claims.as_object().expect("an object").clone(),
        disclosable: [
            "/given_name",
            "/age_over_18",
            "/address/locality",
            "/address/country",
            "/nationalities/1",
        ]
        .map(String::from)
        .to_vec(),
        holder_key: holder.verifying_key(),
        issued_at: now,
        expires_at: None,
        status: None,
        decoys: 2,
    };
    let issued = issuer
        .issue(&request, &mut rand::rngs::StdRng::from_entropy())
        .expect("valid request");
    let held = SdJwt::parse(&issued.sd_jwt).expect("our own credential");
    let presentation = held
        .present(
            &["age_over_18", "/address/country"],
            "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
            "n-0S6_WzA2Mj",
            now,
            &holder,
        )
        .expect("disclosable claims");
    println!("{presentation}");
}
