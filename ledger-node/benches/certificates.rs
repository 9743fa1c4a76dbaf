//! Offline verification of anchor certificates: how many a light client checks per second,
//! cold (no cache: every certificate pays its block's two aggregate BLS checks) and warm
//! (`CertificateVerifier`'s per-block cache: one finality check per block, then hashing).
//!
//! Run: `cargo bench -p ledger-node --bench certificates` (optionally `-- BLOCKS ITEMS` for the
//! number of anchor blocks and digests per block; default 4 x 2,500 = 10,000 certificates).
//! The certificates are real: a chain built in memory with real execution and BLS certificates
//! (`ledger_node::proof::fixture`), the JSON form the anchoring service hands out.

use std::time::Instant;

use ledger_node::proof::fixture::anchor_chain;
use ledger_node::proof::{CertificateVerifier, InclusionProof};

fn rate(n: usize, secs: f64) -> f64 {
    n as f64 / secs
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let blocks = args.first().copied().unwrap_or(4);
    let items = args.get(1).copied().unwrap_or(2_500);
    let built = Instant::now();
    let chain = anchor_chain(1, blocks, items);
    let certs = &chain.certificates;
    let json: Vec<String> = certs.iter().map(|c| serde_json::to_string(c).unwrap()).collect();
    let bytes: usize = json.iter().map(String::len).sum();
    println!(
        "{} certificates in {blocks} blocks ({} bytes of JSON each on average), built in {:.1} s",
        certs.len(),
        bytes / certs.len(),
        built.elapsed().as_secs_f64()
    );

    // Warm: one verifier for all, parsed certificates.
    for round in 0..3 {
        let v = CertificateVerifier::new(&chain.genesis).unwrap();
        let t = Instant::now();
        for c in certs {
            v.verify(c).unwrap();
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "warm (per-block cache), round {round}: {:.0} certificates/s ({:.1} us each; {} blocks checked)",
            rate(certs.len(), s),
            s * 1e6 / certs.len() as f64,
            v.cached_blocks()
        );
    }
    // Warm, from JSON text (what `cypherlink verify-certificate` does per certificate).
    let v = CertificateVerifier::new(&chain.genesis).unwrap();
    let t = Instant::now();
    for j in &json {
        let c: InclusionProof = serde_json::from_str(j).unwrap();
        v.verify(&c).unwrap();
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "warm, parsing the JSON too: {:.0} certificates/s",
        rate(certs.len(), s)
    );

    // Cold: no cache at all (not even the committee's certificate cache): two pairings each.
    let cold_n = certs.len().min(400);
    let v = CertificateVerifier::with_cache(&chain.genesis, 0).unwrap();
    let t = Instant::now();
    for c in certs.iter().step_by(certs.len() / cold_n).take(cold_n) {
        v.verify(c).unwrap();
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "cold (no cache), {cold_n} certificates: {:.0} certificates/s ({:.2} ms each)",
        rate(cold_n, s),
        s * 1e3 / cold_n as f64
    );
}
