//! Consensus benchmark on the simulated network with real BLS crypto.
//!
//! Run: `cargo bench -p ledger-node --bench consensus` (optionally `-- 4 7` to pick committee
//! sizes, `BENCH_SECONDS=5` for a longer simulated run, `BENCH_RATE=20000` for the offered load
//! in transactions per simulated second).
//!
//! Every validator is a real `Core` with its own verification cache, every message goes through
//! the codec, and each validator is charged the real CPU time of its work (`measure_cpu`): while
//! it computes, later events wait, and its messages leave when it is done. Simulated figures are
//! therefore what n separate single-core machines on a 1-3 ms network would see; wall figures are
//! for the whole simulation on this one machine.

use std::time::Instant;

use ledger_node::consensus::sim::{SimConfig, Simulation};

fn percentile(v: &mut [u64], p: f64) -> u64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    // `p` is in 0..=1, so the rounded rank is an index of `v` (and is clamped below anyway).
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

fn run(n: usize, seconds: u64, rate: u64) {
    let mut cfg = SimConfig::new(n, 42);
    cfg.min_delay_ms = 1;
    cfg.max_delay_ms = 3;
    cfg.wire = true;
    cfg.detached_caches = true;
    cfg.measure_cpu = true;
    cfg.core.max_block_txs = 4_000;
    cfg.core.batch_delay_ms = 2;
    cfg.core.pacemaker.base_timeout_ms = 1_000;
    let mut sim = Simulation::new(cfg);
    sim.start();
    let total = seconds * rate;
    let per_ms = (rate / 1000).max(1);
    for i in 0..total {
        let at = 10 + i / per_ms;
        let mut tx = format!("bench transfer {i:>12} ").into_bytes();
        tx.resize(128, b'.');
        sim.submit(at, usize::try_from(i).unwrap() % n, tx);
    }
    let wall = Instant::now();
    let end_ms = 10 + seconds * 1000;
    sim.run_until(end_ms + 500);
    let wall_s = wall.elapsed().as_secs_f64();

    let committed = sim.committed_tx_count(0) as f64;
    let blocks = sim.nodes[0].committed.len().max(1) as f64;
    let core = sim.nodes[0].core.as_ref().expect("node 0 runs");
    let st = core.stats();
    let signs = (st.votes_signed + st.timeouts_signed) as f64;
    let pairings = core.committee().cache().checks() + st.aggregation.aggregate_checks;
    let fallbacks = st.aggregation.fallback_checks;
    let mut sim_lat = sim.latency.sim_ms.clone();
    let mut wall_lat = sim.latency.wall_us.clone();
    println!(
        "| {n:>2} | {rate:>6} | {:>8.0} | {:>4} / {:>4} ms | {:>5.0} / {:>5.0} ms | {:>7.0} | {:>5.1} s | {:.2} sign + {:.2} pairing ({} fallback) |",
        committed / seconds as f64,
        percentile(&mut sim_lat, 0.5),
        percentile(&mut sim_lat, 0.99),
        percentile(&mut wall_lat, 0.5) as f64 / 1000.0,
        percentile(&mut wall_lat, 0.99) as f64 / 1000.0,
        committed / wall_s,
        wall_s,
        signs / blocks,
        pairings as f64 / blocks,
        fallbacks,
    );
    if std::env::var("BENCH_VERBOSE").is_ok() {
        eprintln!(
            "n={n}: view {} blocks {} proposals {} votes {} timeouts {} tcs {} qcs {} drops {:?} mempool {}",
            core.current_view(),
            blocks,
            st.proposals,
            st.votes_signed,
            st.timeouts_signed,
            st.tcs_formed,
            st.qcs_formed,
            core.drops(),
            core.mempool_len()
        );
    }
    if let Err(e) = sim.check_safety(&sim.honest()) {
        panic!("n = {n}: {e}");
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() {
        vec![4, 7, 10, 31]
    } else {
        sizes
    };
    let seconds = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let rate = std::env::var("BENCH_RATE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    println!("simulated {seconds} s at {rate} tx/s offered (128-byte transactions), links 1-3 ms");
    println!(
        "| n | offered tx/s | committed tx/s (sim) | latency p50 / p99 (sim) | latency p50 / p99 (wall) | tx/s (wall) | wall time | crypto per block at one validator |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for n in sizes {
        run(n, seconds, rate);
    }
}
