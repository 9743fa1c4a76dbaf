//! Liveness after restarts, on the simulated network: a restarted validator must go on refusing
//! the transactions committed before it stopped (else it proposes them, the others refuse its
//! blocks and its views fail for good), and validators that come back in scattered views, with
//! no certificate to show for them, must still gather in one view. Deterministic per seed. One
//! test is ignored because the node fails it today: a committee restarted all at once.

mod common;

use common::*;
use ledger_node::consensus::safety::{MemoryStorage, SafetyRecord, SafetyStorage};
use ledger_node::consensus::sim::Simulation;
use ledger_node::merkle::leaf_hash;
use ledger_node::types::QuorumCert;

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

/// Every validator restarts in a view of its own (its safety record says it last voted in view
/// 100, 101, 102 or 103) and none holds a certificate for those views: no two of their timeouts
/// share a view, so waiting for f+1 timeouts in one view would never end. f+1 validators that
/// timed out in views at or above w show that an honest one got there: joining w lets them form
/// a timeout certificate, and commits resume.
#[test]
fn validators_restarted_in_scattered_views_gather_and_commit() {
    for seed in 0..3u64 {
        let mut sim = Simulation::new(config(4, 950 + seed));
        let genesis_qc = {
            let c = sim.committee();
            let genesis = ledger_node::types::Block::genesis(c, 0, [0; 32]);
            QuorumCert::genesis(c.epoch(), genesis.hash(), c.size())
        };
        for i in 0..4 {
            let mut record = SafetyRecord::initial(0, genesis_qc.clone());
            record.last_voted_view = 100 + i as u64;
            let mut storage: MemoryStorage = sim.nodes[i].storage.clone();
            storage.save(&record).unwrap();
        }
        sim.start();
        let views: Vec<_> = (0..4)
            .map(|i| sim.nodes[i].core.as_ref().unwrap().current_view())
            .collect();
        assert_eq!(views, vec![100, 101, 102, 103], "seed {seed}");
        let a = tx(1);
        sim.submit(10, 0, a.clone());
        sim.run_while(60_000, |s| !(0..4).all(|i| committed(s, i, &a)));
        for i in 0..4 {
            assert!(
                committed(&sim, i, &a),
                "seed {seed}: nothing committed; views {:?}",
                (0..4)
                    .map(|i| sim.nodes[i].core.as_ref().unwrap().current_view())
                    .collect::<Vec<_>>()
            );
        }
        sim.check_safety(&[0, 1, 2, 3]).unwrap();
    }
}

/// The whole committee stops at once under load and starts again (a crash of every machine, or
/// an upgrade done as "stop every validator, upgrade all, start them again"). Ignored because
/// the chain then halts for good (15 of 20 seeds in a trial): each validator resumes from its
/// last committed block, but its safety record is locked on the certificate of a block above
/// it, which was certified and never committed, and uncommitted blocks are kept in memory only
/// (the core's `Recovery::blocks` is always empty in the node). No validator can show that
/// block again, so every proposal extends a certificate below the locks and no one votes. The
/// fix is to store the blocks a validator votes for and hand them back on restart.
#[test]
#[ignore = "fails: after a restart of all validators at once, their locks name a block no one holds"]
fn a_committee_restarted_all_at_once_commits_again() {
    let mut sim = Simulation::new(config(4, 3000));
    sim.start();
    submit_load(&mut sim, 10, 4_000, 2, &[0, 1, 2, 3]);
    for i in 0..4 {
        sim.crash_at(500, i);
        sim.restart_at(520, i);
    }
    sim.run_until(501);
    let before = min_blocks(&sim, &[0, 1, 2, 3]);
    sim.run_while(60_000, |s| min_blocks(s, &[0, 1, 2, 3]) <= before + 2);
    sim.check_safety(&[0, 1, 2, 3]).unwrap();
    assert!(
        min_blocks(&sim, &[0, 1, 2, 3]) > before + 2,
        "no commit within a minute of the restart (at {before} blocks)"
    );
}
