//! Hot-path costs of the primitives every payment pays at every hop: decoding and re-encoding an
//! ILP Prepare, rewriting its amount and expiry in place, checking a fulfillment against its
//! condition, and deriving a STREAM fulfillment from a shared secret.
//!
//! Run: `cargo bench -p htlc --bench packet` (results in BENCHMARKS.md).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use htlc::{Address, Condition, FulfillmentKey, Packet, Prepare, PrepareBytesMut, Timestamp};

fn prepare_with_data(len: usize) -> Prepare {
    Prepare::new(
        Address::new("g.clearing.dcep.bank-b.7f3a9c").expect("valid address"),
        200_000,
        Timestamp::parse_rfc3339("2026-11-21T10:00:30.000Z").expect("valid time"),
        Condition::from_bytes([7; 32]),
        vec![0x5a; len],
    )
    .expect("valid prepare")
}

fn packet_codec(c: &mut Criterion) {
    let mut group = c.benchmark_group("prepare_1KiB");
    let prepare = prepare_with_data(1024);
    let bytes = prepare.encode();
    group.throughput(Throughput::Elements(1));
    group.bench_function("decode", |b| b.iter(|| Prepare::decode(black_box(&bytes))));
    group.bench_function("encode", |b| b.iter(|| black_box(&prepare).encode()));
    group.bench_function("decode_and_reencode", |b| {
        b.iter(|| Packet::decode(black_box(&bytes)).map(|p| p.encode()))
    });
    let later = Timestamp::parse_rfc3339("2026-11-21T10:00:20.000Z").expect("valid time");
    group.bench_function("rewrite_amount_and_expiry_in_place", |b| {
        let mut buf = bytes.clone();
        b.iter(|| {
            let mut view = PrepareBytesMut::new(black_box(&mut buf)).expect("prepare");
            view.set_amount(black_box(199_000));
            view.set_expires_at(black_box(later));
        })
    });
    group.finish();
}

fn hash_locks(c: &mut Criterion) {
    let mut group = c.benchmark_group("fulfillment");
    let key = FulfillmentKey::from_shared_secret(&[3; 32]);
    let data = vec![0x5a; 1024];
    let fulfillment = key.fulfillment(&data);
    let condition = fulfillment.condition();
    group.bench_function("condition_check", |b| {
        b.iter(|| black_box(&condition).is_fulfilled_by(black_box(&fulfillment)))
    });
    group.bench_function("derive_and_check_1KiB_data", |b| {
        b.iter(|| key.fulfill(black_box(&data), black_box(&condition)))
    });
    group.bench_function("derive_key_from_shared_secret", |b| {
        b.iter(|| FulfillmentKey::from_shared_secret(black_box(&[3; 32])))
    });
    group.finish();
}

criterion_group!(benches, packet_codec, hash_locks);
criterion_main!(benches);
