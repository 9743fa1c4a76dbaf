//! Scenario tests on the simulated network: throughput, leader crash, partitions, larger
//! committees with crashed members. Every run is deterministic for its seed.

mod common;

use common::*;
use ledger_node::sim::Simulation;

/// Test 1: four validators commit 10,000 transactions and agree on the sequence.
#[test]
fn four_validators_commit_ten_thousand_transactions() {
    let mut cfg = config(4, 11);
    cfg.core.max_block_txs = 500;
    cfg.wire = true;
    let mut sim = Simulation::new(cfg);
    sim.start();
    submit_load(&mut sim, 10, 10_000, 10, &[0, 1, 2, 3]);
    let honest = sim.honest();
    sim.run_while(120_000, |s| min_committed(s, &s.honest()) < 10_000);
    sim.check_safety(&honest).unwrap();
    for &i in &honest {
        assert_eq!(sim.committed_tx_count(i), 10_000, "node {i}");
    }
    let shortest = min_blocks(&sim, &honest);
    let reference = &sim.committed_hashes(honest[0])[..shortest];
    for &i in &honest {
        assert_eq!(&sim.committed_hashes(i)[..shortest], reference);
    }
    for &i in &honest {
        let core = sim.nodes[i].core.as_ref().unwrap();
        assert_eq!(core.drops().total(), 0, "node {i} dropped {:?}", core.drops());
    }
}
