//! Presentations verified per second: one issuer signature, one Key Binding signature and the
//! digests of a few disclosures (the "over 18 and resident in the euro area" presentation of
//! a nine-claim credential with three decoys). Also issuance and presenting, for scale.
//! `cargo bench -p identity --bench verify`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::{SigningKey, VerifyingKey};
use htlc::Timestamp;
use identity::{
    CredentialRequest, Expectations, IdentityError, Issuer, IssuerKeyQuery, SdJwt, StatusRef,
    verify_presentation,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::json;

const ISSUED_SECS: i64 = 1_796_083_200;

fn at(secs: i64) -> Timestamp {
    Timestamp::from_unix_millis(secs * 1000).unwrap()
}

fn request(holder: VerifyingKey) -> CredentialRequest {
    let claims = json!({
        "given_name": "Erika", "family_name": "Mustermann", "birthdate": "1964-08-12",
        "age_over_18": true, "resident_in_euro_area": true,
        "address": {"locality": "Berlin", "country": "DE"}, "nationalities": ["DE", "FR"],
    });
    CredentialRequest {
        vct: "https://cypherlink.example/kyc/v1".into(),
        claims: claims.as_object().unwrap().clone(),
        disclosable: [
            "/given_name",
            "/family_name",
            "/birthdate",
            "/age_over_18",
            "/resident_in_euro_area",
            "/address",
            "/address/locality",
            "/address/country",
            "/nationalities/0",
            "/nationalities/1",
        ]
        .map(String::from)
        .to_vec(),
        holder_key: holder,
        issued_at: at(ISSUED_SECS),
        expires_at: Some(at(ISSUED_SECS + 86_400)),
        status: Some(StatusRef {
            idx: 5,
            uri: "https://isp.example/status/1".into(),
        }),
        decoys: 3,
    }
}

fn bench(c: &mut Criterion) {
    let issuer_key = SigningKey::from_bytes(&[1; 32]);
    let holder_key = SigningKey::from_bytes(&[2; 32]);
    let issuer = Issuer::new("did:cypher:isp", "did:cypher:isp#key-1", issuer_key.clone());
    let request = request(holder_key.verifying_key());
    let mut rng = StdRng::seed_from_u64(1);
    let issued = issuer.issue(&request, &mut rng).unwrap();
    let held = SdJwt::parse(&issued.sd_jwt).unwrap();
    let now = at(ISSUED_SECS + 60);
    let paths = ["age_over_18", "resident_in_euro_area"];
    let presentation = held
        .present(&paths, "did:key:merchant", "nonce-1", now, &holder_key)
        .unwrap();
    let expect = Expectations {
        audience: "did:key:merchant",
        nonce: "nonce-1",
        now,
        max_kb_age_secs: 300,
        max_skew_secs: 60,
    };
    let key = issuer_key.verifying_key();
    let lookup = |_: &IssuerKeyQuery<'_>| Ok::<_, IdentityError>(key);
    verify_presentation(&presentation, lookup, &expect).unwrap();

    let mut group = c.benchmark_group("identity");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify_presentation", |b| {
        b.iter(|| verify_presentation(std::hint::black_box(&presentation), lookup, &expect).unwrap())
    });
    group.bench_function("issue", |b| b.iter(|| issuer.issue(&request, &mut rng).unwrap()));
    group.bench_function("present", |b| {
        b.iter(|| {
            held.present(&paths, "did:key:merchant", "nonce-1", now, &holder_key)
                .unwrap()
        })
    });
    // The reference on the same (shared) machine: one Ed25519 strict verification.
    let message = [7u8; 64];
    let signature = ed25519_dalek::Signer::sign(&issuer_key, &message);
    group.bench_function("ed25519_verify_strict", |b| {
        b.iter(|| {
            key.verify_strict(std::hint::black_box(&message), &signature)
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
