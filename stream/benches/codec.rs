//! What a STREAM receiver and sender pay per packet: encode + encrypt (seal) and decrypt +
//! decode (open) of a typical money packet (one StreamMoney frame), and the fulfillment
//! derivation that goes with it.
//!
//! Run: `cargo bench -p stream --bench codec` (results in BENCHMARKS.md, "STREAM codec").

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use htlc::PacketType;
use rand::SeedableRng;
use rand::rngs::StdRng;
use stream::{Frame, StreamKeys, StreamPacket};

fn money_packet() -> StreamPacket {
    StreamPacket {
        ilp_packet_type: PacketType::Prepare,
        sequence: 42,
        prepare_amount: 99_500,
        frames: vec![Frame::StreamMoney {
            stream_id: 1,
            shares: 1,
        }],
    }
}

fn codec(c: &mut Criterion) {
    let keys = StreamKeys::from_shared_secret(&[9; 32]);
    let packet = money_packet();
    let mut rng = StdRng::seed_from_u64(7);
    let sealed = keys.seal(&mut rng, &packet).expect("fits");
    let mut group = c.benchmark_group("stream_money_packet");
    group.throughput(Throughput::Elements(1));
    group.bench_function("encode_and_encrypt", |b| {
        b.iter(|| keys.seal(&mut rng, black_box(&packet)))
    });
    group.bench_function("decrypt_and_decode", |b| {
        b.iter(|| keys.open(black_box(&sealed), PacketType::Prepare))
    });
    group.bench_function("fulfillment", |b| b.iter(|| keys.fulfillment(black_box(&sealed))));
    group.bench_function("keys_from_shared_secret", |b| {
        b.iter(|| StreamKeys::from_shared_secret(black_box(&[9; 32])))
    });
    group.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
