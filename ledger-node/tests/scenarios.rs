//! Scenario tests on the simulated network: throughput, leader crash, partitions, larger
//! committees with crashed members. Every run is deterministic for its seed.

mod common;

use common::*;
use ledger_node::consensus::sim::Simulation;

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

/// Test 2: the leader crashes; after one view change the others make progress again, and every
/// transaction submitted to the honest validators is committed exactly once.
#[test]
fn leader_crash_recovers_after_one_view_change() {
    let mut cfg = config(4, 22);
    cfg.core.max_block_txs = 200;
    let mut sim = Simulation::new(cfg);
    sim.start();
    let honest = [0usize, 2, 3];
    submit_load(&mut sim, 10, 3_000, 2, &honest);
    sim.run_until(400);
    let before = sim.nodes[0].committed.len();
    assert!(before > 0, "no progress before the crash");
    // Crash whoever leads now.
    let leader = usize::from(
        sim.committee()
            .leader(sim.nodes[0].core.as_ref().unwrap().current_view()),
    );
    let others: Vec<usize> = (0..4).filter(|&i| i != leader).collect();
    sim.crash_at(401, leader);
    sim.run_until(401);
    let tcs_at_crash = sim.nodes[others[0]].core.as_ref().unwrap().stats().tcs_formed;
    let view_at_crash = sim.max_view();
    // Run until a block proposed after the crash is committed.
    sim.run_while(60_000, |s| {
        s.nodes[others[0]]
            .committed
            .last()
            .is_none_or(|c| c.block.view() <= view_at_crash + 1)
    });
    let core = sim.nodes[others[0]].core.as_ref().unwrap();
    assert!(
        core.stats().tcs_formed - tcs_at_crash <= 1,
        "needed {} view changes",
        core.stats().tcs_formed - tcs_at_crash
    );
    // Every transaction submitted to a live validator gets committed exactly once.
    let live: Vec<usize> = honest.iter().copied().filter(|&i| i != leader).collect();
    let expected = (0..3_000u64)
        .filter(|i| live.contains(&honest[usize::try_from(*i).unwrap() % honest.len()]))
        .count();
    let missing = |s: &Simulation| {
        let ids = ledger_node::consensus::core::committed_tx_ids(&s.nodes[others[0]].committed);
        (0..3_000u64)
            .filter(|i| live.contains(&honest[usize::try_from(*i).unwrap() % honest.len()]))
            .any(|i| !ids.contains(&ledger_node::merkle::leaf_hash(&tx(i))))
    };
    let mut t = sim.now();
    while t < 120_000 && missing(&sim) {
        t += 100;
        sim.run_until(t);
    }
    sim.check_safety(&others).unwrap();
    let ids = ledger_node::consensus::core::committed_tx_ids(&sim.nodes[others[0]].committed);
    let got = (0..3_000u64)
        .filter(|i| live.contains(&honest[usize::try_from(*i).unwrap() % honest.len()]))
        .filter(|i| ids.contains(&ledger_node::merkle::leaf_hash(&tx(*i))))
        .count();
    assert_eq!(got, expected);
}

/// Test 3: a 2|2 partition commits nothing; once it heals the chain moves on without a fork.
#[test]
fn two_two_partition_commits_nothing_then_heals() {
    let mut cfg = config(4, 33);
    cfg.core.max_block_txs = 100;
    let mut sim = Simulation::new(cfg);
    let heal_at = 5_000;
    sim.set_filter(Box::new(move |now, from, to, _, _| {
        now >= heal_at || (from < 2) == (to < 2)
    }));
    sim.start();
    submit_load(&mut sim, 10, 1_000, 1, &[0, 1, 2, 3]);
    sim.run_until(heal_at - 1);
    for i in 0..4 {
        assert!(
            sim.nodes[i].committed.is_empty(),
            "node {i} committed during the partition"
        );
    }
    sim.run_while(120_000, |s| min_committed(s, &[0, 1, 2, 3]) < 1_000);
    assert_eq!(min_committed(&sim, &[0, 1, 2, 3]), 1_000);
    sim.check_safety(&[0, 1, 2, 3]).unwrap();
}

fn crashed_committee(n: usize, crashed: &[usize], seed: u64) -> Simulation {
    let mut cfg = config(n, seed);
    cfg.core.max_block_txs = 100;
    let mut sim = Simulation::new(cfg);
    sim.start();
    for &c in crashed {
        sim.crash_at(0, c);
    }
    let live: Vec<usize> = (0..n).filter(|i| !crashed.contains(i)).collect();
    submit_load(&mut sim, 10, 500, 1, &live);
    sim
}

/// Test 6a: with f crashed validators, n = 7 and n = 10 still commit.
#[test]
fn seven_and_ten_make_progress_with_f_crashed() {
    for (n, crashed) in [(7usize, vec![1usize, 4]), (10, vec![1, 4, 7])] {
        let mut sim = crashed_committee(n, &crashed, 60 + n as u64);
        let live: Vec<usize> = (0..n).filter(|i| !crashed.contains(i)).collect();
        sim.run_while(120_000, |s| min_committed(s, &live) < 500);
        assert_eq!(min_committed(&sim, &live), 500, "n = {n}");
        sim.check_safety(&live).unwrap();
    }
}

/// Test 6b: with f+1 crashed they stop, and what they committed before agrees.
#[test]
fn seven_and_ten_stop_with_f_plus_one_crashed() {
    for (n, crashed) in [(7usize, vec![1usize, 4, 5]), (10, vec![1, 4, 7, 8])] {
        let mut sim = crashed_committee(n, &[], 70 + n as u64);
        let live: Vec<usize> = (0..n).filter(|i| !crashed.contains(i)).collect();
        sim.run_until(1_000);
        assert!(
            min_blocks(&sim, &live) > 0,
            "n = {n}: no progress before the crashes"
        );
        for &c in &crashed {
            sim.crash_at(1_001, c);
        }
        // Blocks certified before the crash may still be committed; after that, nothing.
        sim.run_until(4_000);
        let settled: Vec<usize> = live.iter().map(|&i| sim.nodes[i].committed.len()).collect();
        sim.run_until(40_000);
        let after: Vec<usize> = live.iter().map(|&i| sim.nodes[i].committed.len()).collect();
        assert_eq!(settled, after, "n = {n}: committed with only 2f live validators");
        sim.check_safety(&live).unwrap();
    }
}

/// Lossy links everywhere and one slow validator: retransmitted timeouts and block fetches keep
/// the chain going, and every transaction is committed once.
#[test]
fn lossy_and_slow_links_still_commit_everything() {
    let mut cfg = config(4, 44);
    cfg.core.max_block_txs = 100;
    cfg.loss = 0.05;
    let mut sim = Simulation::new(cfg);
    for other in [0usize, 1, 2] {
        for (a, b) in [(3, other), (other, 3)] {
            sim.set_link(
                a,
                b,
                ledger_node::consensus::sim::LinkSpec {
                    min_delay_ms: 20,
                    max_delay_ms: 60,
                    loss: 0.1,
                },
            );
        }
    }
    sim.start();
    submit_load(&mut sim, 10, 1_000, 1, &[0, 1, 2, 3]);
    let all = [0usize, 1, 2, 3];
    sim.run_while(300_000, |s| min_committed(s, &all) < 1_000);
    sim.check_safety(&all).unwrap();
    assert_eq!(min_committed(&sim, &all), 1_000);
}

/// f = 2 Byzantine validators among seven — one equivocating leader, one voting for conflicting
/// blocks — on a reordering network: the five honest ones agree and keep committing.
#[test]
fn equivocating_leader_and_double_voter_cannot_fork_seven() {
    for seed in [81u64, 82, 83] {
        let mut cfg = config(7, seed);
        cfg.core.max_block_txs = 50;
        cfg.max_delay_ms = 25;
        let mut sim = Simulation::new(cfg);
        sim.set_behaviour(0, ledger_node::consensus::sim::Behaviour::Equivocate);
        sim.set_behaviour(3, ledger_node::consensus::sim::Behaviour::DoubleVote);
        sim.start();
        let honest = sim.honest();
        submit_load(&mut sim, 10, 500, 1, &honest);
        let all_in = |s: &Simulation, node: usize| {
            let ids = ledger_node::consensus::core::committed_tx_ids(&s.nodes[node].committed);
            (0..500).all(|i| ids.contains(&ledger_node::merkle::leaf_hash(&tx(i))))
        };
        let mut t = 0;
        while t < 120_000 && !honest.iter().all(|&i| all_in(&sim, i)) {
            t += 100;
            sim.run_until(t);
        }
        sim.check_safety(&honest).unwrap();
        assert!(honest.iter().all(|&i| all_in(&sim, i)), "seed {seed}");
    }
}

/// Partitions that change over time: every 700 ms a different validator is cut off from the
/// rest. Three connected validators are a quorum, so every transaction still commits, and the
/// validator that was cut off catches up each time.
#[test]
fn rolling_partitions_keep_committing() {
    let mut cfg = config(4, 55);
    cfg.core.max_block_txs = 50;
    let mut sim = Simulation::new(cfg);
    let until = 6_000;
    sim.set_filter(Box::new(move |now, from, to, _, _| {
        if now >= until {
            return true;
        }
        let isolated = ((now / 700) % 4) as usize;
        (from == isolated) == (to == isolated)
    }));
    sim.start();
    let all = [0usize, 1, 2, 3];
    submit_load(&mut sim, 10, 1_000, 1, &all);
    sim.run_until(until);
    assert!(min_blocks(&sim, &all) > 0);
    sim.run_while(120_000, |s| min_committed(s, &all) < 1_000);
    sim.check_safety(&all).unwrap();
    assert_eq!(min_committed(&sim, &all), 1_000);
}

/// The next leader announces each certificate before it builds on it, so a replica learns what
/// is final without waiting for the leader's batching delay and the next proposal. With every
/// announcement cut, the same load commits later by about that delay at the three validators
/// that did not form the certificate, and the announcement costs no second pairing check.
#[test]
fn announced_certificates_let_replicas_commit_before_the_next_proposal() {
    let median_latency = |announce: bool| {
        let mut cfg = config(4, 55);
        cfg.min_delay_ms = 5;
        cfg.max_delay_ms = 5;
        cfg.core.batch_delay_ms = 10;
        cfg.detached_caches = true;
        let mut sim = Simulation::new(cfg);
        if !announce {
            sim.set_filter(Box::new(|_, _, _, _, m| {
                !matches!(m, ledger_node::consensus::messages::Message::SyncInfo { .. })
            }));
        }
        sim.start();
        submit_load(&mut sim, 10, 2_000, 1, &[0, 1, 2, 3]);
        let all = [0usize, 1, 2, 3];
        sim.run_while(60_000, |s| min_committed(s, &all) < 2_000);
        sim.check_safety(&all).unwrap();
        assert_eq!(min_committed(&sim, &all), 2_000);
        // Each validator has its own certificate cache, as a process would: the announced
        // certificate is checked once, and the copy in the proposal is a hit (77 checks in 104
        // views here; a validator does not check the certificates it formed itself).
        for i in all {
            let core = sim.nodes[i].core.as_ref().unwrap();
            let (checks, views) = (core.committee().cache().checks(), core.current_view());
            assert!(
                checks <= views,
                "node {i}: {checks} pairing checks in {views} views"
            );
        }
        let mut ms = sim.latency.sim_ms.clone();
        ms.sort_unstable();
        ms[ms.len() / 2]
    };
    let (with, without) = (median_latency(true), median_latency(false));
    // 49 vs 57 ms for this seed; the saving is the 10 ms delay at three validators of four.
    assert!(
        with + 5 <= without,
        "median commit latency {with} ms with announcements, {without} ms without"
    );
}
