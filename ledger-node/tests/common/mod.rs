//! Helpers shared by the scenario tests.
#![allow(dead_code)]

use ledger_node::consensus::sim::{SimConfig, Simulation};

/// A distinct 64-byte transaction.
pub(crate) fn tx(i: u64) -> Vec<u8> {
    let mut t = format!("transfer #{i:>12} ").into_bytes();
    t.resize(64, b'.');
    t
}

/// Submits `count` transactions, `per_ms` per millisecond starting at `start`, round-robin over
/// `targets`.
pub(crate) fn submit_load(sim: &mut Simulation, start: u64, count: u64, per_ms: u64, targets: &[usize]) {
    for i in 0..count {
        let at = start + i / per_ms.max(1);
        let node = targets[usize::try_from(i).unwrap() % targets.len()];
        sim.submit(at, node, tx(i));
    }
}

/// Smallest number of committed transactions among `nodes`.
pub(crate) fn min_committed(sim: &Simulation, nodes: &[usize]) -> usize {
    nodes
        .iter()
        .map(|&i| sim.committed_tx_count(i))
        .min()
        .unwrap_or(0)
}

/// Smallest number of committed blocks among `nodes`.
pub(crate) fn min_blocks(sim: &Simulation, nodes: &[usize]) -> usize {
    nodes
        .iter()
        .map(|&i| sim.nodes[i].committed.len())
        .min()
        .unwrap_or(0)
}

/// Default simulation for `n` validators.
pub(crate) fn config(n: usize, seed: u64) -> SimConfig {
    SimConfig::new(n, seed)
}
