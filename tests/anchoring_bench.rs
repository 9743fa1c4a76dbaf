//! The anchoring benchmark of BENCHMARKS.md ("Anchoring"): four `cypherlink node` validators and
//! `cypherlink anchor` on 127.0.0.1, digests offered at fixed rates.
//!
//! `cargo test --release --test anchoring_bench -- --ignored --nocapture`

use std::time::{Duration, Instant};

use anchoring::client::{AnchorClient, CertificateAnswer};
use ed25519_dalek::SigningKey;
use ledger_node::api::{ChainClient, Signer, TxState};
use ledger_node::crypto::sha256;
use ledger_node::state::{Op, account_of, batch_hash};

mod common;
use common::anchoring::{ISP, digest, write_config};
use common::committee::LocalCommittee;
use common::process::ServiceCommand;

/// The idle chain's commit latency, which the default batch window is chosen against: 30
/// anchors of one item, one at a time, each from submission to the answer that it is final.
async fn chain_latency(chain: &ChainClient) {
    let key = SigningKey::from_bytes(&sha256(&[b"bench latency probe"]));
    let signer = account_of(&key);
    let mut s = Signer::new(key, chain.chain_id().await.unwrap(), 0);
    let mut previous = [0u8; 32];
    let mut took = Vec::new();
    for sequence in 1..=30 {
        let root = digest(sequence);
        let tx = s.sign(Op::Anchor {
            namespace: "bench.latency".into(),
            root,
            items: 1,
            sequence,
            previous,
        });
        let start = Instant::now();
        let status = chain.submit_and_wait(&tx, Duration::from_secs(30)).await.unwrap();
        assert_eq!(status.status, TxState::Final, "{status:?}");
        took.push(start.elapsed().as_secs_f64() * 1000.0);
        previous = batch_hash(&signer, "bench.latency", sequence, &previous, &root, 1);
    }
    took.sort_by(f64::total_cmp);
    println!(
        "idle chain, one anchor at a time: submission to final p50 {:.1} ms p99 {:.1} ms",
        percentile(&took, 500),
        percentile(&took, 990)
    );
}

/// The nearest-rank percentile `per_mille`/1000 of sorted samples, in integer arithmetic.
fn percentile(sorted: &[f64], per_mille: usize) -> f64 {
    let last = sorted.len() - 1;
    sorted[(per_mille * last).div_ceil(1000).min(last)]
}

/// Digests anchored per second and time to certificate at offered loads (`BENCH_RATES`, default
/// `1000,10000` digests/s, each for `BENCH_SECONDS`, default 10): one signed request every 10 ms
/// carrying rate/100 digests; a request's time to certificate runs from its sending to the
/// answer carrying the certificate of its last digest (long poll). The service runs with its
/// default batch window (`BENCH_MAX_WAIT_MS` sets another).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: cargo test --release --test anchoring_bench -- --ignored --nocapture"]
async fn anchoring_bench() {
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let rates: Vec<u64> = env("BENCH_RATES", "1000,10000")
        .split(',')
        .map(|r| r.trim().parse().unwrap())
        .collect();
    let seconds: u64 = env("BENCH_SECONDS", "10").parse().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let net = LocalCommittee::start(&tmp.path().join("chain"), 400).await;
    chain_latency(&net.client(0)).await;
    let max_wait_ms: u64 = env("BENCH_MAX_WAIT_MS", "200").parse().unwrap();
    let (config, _) = write_config(tmp.path(), net.client(0).base_url(), 4000, max_wait_ms);
    let service = ServiceCommand::new(["anchor", "--config"], "listening on")
        .arg(&config)
        .start()
        .await;
    let isp = AnchorClient::new(&service.url, ISP.0, ISP.1.as_bytes());
    let tick = Duration::from_millis(10);
    for (round, rate) in rates.into_iter().enumerate() {
        let per_tick = (rate / 100).max(1);
        let base = 1_000_000_000 * (u64::try_from(round).unwrap() + 1);
        let start = Instant::now();
        let mut tasks = Vec::new();
        for t in 0..seconds * 100 {
            // The pacing of the offered load: a request every tick, whatever the answers.
            tokio::time::sleep_until((start + tick * u32::try_from(t).unwrap()).into()).await;
            let isp = isp.clone();
            let first = base + t * per_tick;
            tasks.push(tokio::spawn(async move {
                let sent = Instant::now();
                let digests: Vec<[u8; 32]> = (first..first + per_tick).map(digest).collect();
                let ids = isp.submit(ISP.2, &digests).await.expect("accepted");
                let acked = sent.elapsed();
                let last = *ids.last().unwrap();
                match isp
                    .certificate(last, Duration::from_secs(30))
                    .await
                    .expect("certificate")
                {
                    CertificateAnswer::Ready(_) => {}
                    CertificateAnswer::Pending(s) => panic!("no certificate within 30 s: {s:?}"),
                }
                (acked, sent.elapsed(), Instant::now())
            }));
        }
        let mut ack = Vec::new();
        let mut ttc = Vec::new();
        let mut end = start;
        for t in tasks {
            let (a, c, at) = t.await.unwrap();
            ack.push(a.as_secs_f64() * 1000.0);
            ttc.push(c.as_secs_f64() * 1000.0);
            end = end.max(at);
        }
        ack.sort_by(f64::total_cmp);
        ttc.sort_by(f64::total_cmp);
        let total = per_tick * seconds * 100;
        println!(
            "offered {rate}/s: {total} digests certified in {:.2} s = {:.0} digests/s; ack p50 {:.1} ms p99 {:.1} ms; \
             time to certificate p50 {:.0} ms p99 {:.0} ms",
            (end - start).as_secs_f64(),
            total as f64 / (end - start).as_secs_f64(),
            percentile(&ack, 500),
            percentile(&ack, 990),
            percentile(&ttc, 500),
            percentile(&ttc, 990),
        );
    }
    let metrics = reqwest::get(format!("{}/metrics", service.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in metrics.lines().filter(|l| l.starts_with("anchoring_")) {
        println!("{line}");
    }
}
