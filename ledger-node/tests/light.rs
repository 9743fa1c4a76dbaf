//! A light client holding only the committee's keys checks a committed block's QC offline
//! (certified; finality proofs are `proof`'s, tested there and end to end).

mod common;

use common::*;
use ledger_node::consensus::sim::Simulation;
use ledger_node::light::verify_certified_header;

#[test]
fn committed_blocks_verify_offline() {
    let mut sim = Simulation::new(config(4, 5));
    sim.start();
    submit_load(&mut sim, 10, 300, 1, &[0, 1, 2, 3]);
    sim.run_while(60_000, |s| s.committed_tx_count(0) < 300);
    // A fresh committee value: nothing cached, every check is a real pairing.
    let keys_only = sim.committee().detached();
    let c = sim.nodes[0]
        .committed
        .iter()
        .find(|c| c.block.payload().len() > 1)
        .expect("a block with transactions")
        .clone();
    let header = c.block.header().clone();
    verify_certified_header(&keys_only, &header, &c.qc).unwrap();

    let mut moved = header.clone();
    moved.timestamp_ms += 1;
    assert!(verify_certified_header(&keys_only, &moved, &c.qc).is_err());

    let mut thin = c.qc.clone();
    let first = thin.signers.iter().next().unwrap();
    let mut bits = ledger_node::types::SignerBitmap::new(4);
    for i in thin.signers.iter().filter(|&i| i != first) {
        bits.set(i);
    }
    thin.signers = bits;
    assert!(verify_certified_header(&keys_only, &header, &thin).is_err());
}
