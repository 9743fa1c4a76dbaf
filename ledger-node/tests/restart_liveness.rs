//! Liveness after restarts, on the simulated network: a restarted validator must go on refusing
//! the transactions committed before it stopped (else it proposes them, the others refuse its
//! blocks and its views fail for good). Deterministic per seed.

mod common;

use common::*;
use ledger_node::merkle::leaf_hash;
use ledger_node::sim::Simulation;

fn committed(sim: &Simulation, node: usize, tx: &[u8]) -> bool {
    let id = leaf_hash(tx);
    sim.nodes[node]
        .committed
        .iter()
        .any(|c| c.block.tx_ids().contains(&id))
}

/// Validator 1 crashes and restarts after transaction A is committed, then A reaches it again
/// (a client retrying, or gossip that TCP delivers late). Validator 3 then crashes for good: one
/// fault, which four validators tolerate. Had validator 1 forgotten that A is committed, it
/// would take A into its mempool and propose it in every view it leads; the others refuse such
/// a block, so views 1 and 3 (mod 4) would all fail and no two consecutive views would ever be
/// certified: nothing would commit (two-chain rule).
#[test]
fn a_restarted_validator_still_refuses_what_was_committed_before() {
    for seed in 0..3u64 {
        let mut sim = Simulation::new(config(4, 900 + seed));
        sim.start();
        let a = tx(1);
        sim.submit(10, 0, a.clone());
        sim.run_while(5_000, |s| !(0..4).all(|i| committed(s, i, &a)));
        assert!((0..4).all(|i| committed(&sim, i, &a)), "seed {seed}: A committed");
        let t = sim.now();
        sim.crash_at(t + 1, 1);
        sim.restart_at(t + 50, 1);
        sim.submit(t + 60, 1, a.clone());
        sim.crash_at(t + 70, 3);
        let b = tx(2);
        sim.submit(t + 100, 0, b.clone());
        sim.run_while(t + 30_000, |s| ![0, 1, 2].iter().all(|&i| committed(s, i, &b)));
        for i in [0, 1, 2] {
            assert!(
                committed(&sim, i, &b),
                "seed {seed}: B not committed by validator {i} with validator 3 down (validator \
                 1 holds {} pending transactions)",
                sim.nodes[1].core.as_ref().map_or(0, |c| c.mempool_len())
            );
        }
        assert_eq!(
            sim.nodes[1].core.as_ref().map(|c| c.mempool_len()),
            Some(0),
            "seed {seed}: validator 1 took the committed A back into its mempool"
        );
        sim.check_safety(&[0, 1, 2]).unwrap();
    }
}
