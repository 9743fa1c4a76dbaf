//! Presentations verified per second: one issuer signature, one Key Binding signature and the
//! digests of a few disclosures (`age_over_18` and `address/country` of the tests' nine-claim
//! credential with three decoys). Also issuance and presenting, and one Ed25519 verification
//! as the reference on the same (shared) machine.
//! `cargo bench -p identity --bench verify`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use identity::{SdJwt, verify_presentation};

fn bench(c: &mut Criterion) {
    let issuer = issuer();
    let request = request();
    let mut rng = rng(1);
    let held = SdJwt::parse(&issue().sd_jwt).unwrap();
    let paths = ["age_over_18", "/address/country"];
    let presentation = held.present(&paths, AUD, NONCE, now(), &holder_key()).unwrap();
    let expect = expect();
    verify_presentation(&presentation, lookup, &expect).unwrap();

    let mut group = c.benchmark_group("identity");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify_presentation", |b| {
        b.iter(|| verify_presentation(std::hint::black_box(&presentation), lookup, &expect).unwrap())
    });
    group.bench_function("issue", |b| b.iter(|| issuer.issue(&request, &mut rng).unwrap()));
    group.bench_function("present", |b| {
        b.iter(|| held.present(&paths, AUD, NONCE, now(), &holder_key()).unwrap())
    });
    let key = issuer_key();
    let message = [7u8; 64];
    let signature = ed25519_dalek::Signer::sign(&key, &message);
    let verifying = key.verifying_key();
    group.bench_function("ed25519_verify_strict", |b| {
        b.iter(|| {
            verifying
                .verify_strict(std::hint::black_box(&message), &signature)
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
