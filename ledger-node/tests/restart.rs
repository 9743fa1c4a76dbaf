//! Test 5: a validator restarted from its stored safety record never signs two different votes
//! for one view — in the simulator against an equivocating leader, and directly on the rules.

mod common;

use std::sync::Arc;

use common::*;
use ledger_node::committee::{Committee, LeaderRule};
use ledger_node::consensus::safety::{MemoryStorage, SafetyRules};
use ledger_node::consensus::sim::{Behaviour, Simulation};
use ledger_node::crypto::KeyPair;
use ledger_node::types::{Block, BlockHeader, QuorumCert};

#[test]
fn restarted_validators_never_vote_twice_in_a_view() {
    for seed in 0..3u64 {
        let mut cfg = config(4, 500 + seed);
        cfg.core.max_block_txs = 50;
        cfg.max_delay_ms = 20;
        let mut sim = Simulation::new(cfg);
        // Validator 0 sends two different blocks whenever it leads; 2 and 3 keep crashing and
        // coming back, sometimes between receiving one of the blocks and the other.
        sim.set_behaviour(0, Behaviour::Equivocate);
        sim.start();
        submit_load(&mut sim, 10, 2_000, 1, &[1, 2, 3]);
        let mut t = 50;
        let mut k = 0u64;
        while t < 8_000 {
            let node = 2 + (k % 2) as usize;
            sim.crash_at(t, node);
            sim.restart_at(t + 3 + k % 7, node);
            t += 37 + (k * 13) % 50;
            k += 1;
        }
        sim.run_until(20_000);
        assert!(sim.vote_violations().is_empty(), "{:?}", sim.vote_violations());
        sim.check_safety(&[1, 2, 3]).unwrap();
        assert!(min_blocks(&sim, &[1, 2, 3]) > 0, "seed {seed}: no progress");
    }
}

fn committee(keys: &[KeyPair]) -> Committee {
    Committee::of_keys(0, keys, LeaderRule::RoundRobin).unwrap()
}

fn child(parent: &Block, view: u64, marker: &[u8]) -> Block {
    let qc = QuorumCert::genesis(0, parent.hash(), 4);
    Block::new(
        BlockHeader {
            epoch: 0,
            view,
            height: parent.height() + 1,
            timestamp_ms: parent.timestamp_ms() + 1,
            parent_hash: parent.hash(),
            payload_root: [0; 32],
            state_root: [0; 32],
            proposer: 1,
            qc,
        },
        vec![marker.to_vec()],
    )
}

#[test]
fn safety_record_survives_restart_and_returns_the_same_vote() {
    let keys: Vec<_> = (0..4).map(|i| KeyPair::for_test(77, i)).collect();
    let c = committee(&keys);
    let genesis: Arc<Block> = Block::genesis(&c, 0, [0; 32]);
    let gqc = QuorumCert::genesis(0, genesis.hash(), 4);
    let storage = MemoryStorage::default();
    let a = child(&genesis, 1, b"a");
    let b = child(&genesis, 1, b"b");

    let mut rules = SafetyRules::new(keys[2].clone(), 2, 0, gqc.clone(), Box::new(storage.clone())).unwrap();
    let vote = rules.vote(&a, &genesis).unwrap();
    drop(rules);

    let mut restarted = SafetyRules::new(keys[2].clone(), 2, 0, gqc, Box::new(storage)).unwrap();
    assert!(
        restarted.vote(&b, &genesis).is_err(),
        "voted for a second block in view 1"
    );
    assert_eq!(
        restarted.vote(&a, &genesis).unwrap(),
        vote,
        "repeat must return the stored vote"
    );
}
