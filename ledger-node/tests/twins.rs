//! Test 4: a Twins-style search. Four validators, one of them run twice with the same key (the
//! two copies can equivocate in every way honest code allows when placed on different sides of a
//! partition). Each scenario draws, for each of the first rounds, a leader and a partition of
//! the five nodes; messages of that round only cross within a side. Then the network heals.
//!
//! Checked in every scenario: no two honest validators commit conflicting blocks, none signs two
//! votes in a view, and after the heal every honest validator commits within a bounded number of
//! views. `TWINS_SCENARIOS=100000 cargo test -p ledger-node --release --test twins` searches
//! more (the default is 1,000); `TWINS_SEED` moves the search elsewhere.

use std::sync::Arc;

use ledger_node::committee::{Committee, LeaderRule};
use ledger_node::consensus::sim::{SimConfig, Simulation};
use ledger_node::crypto::KeyPair;
use ledger_node::ids::ValidatorIndex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const ROUNDS: usize = 8;
const HEAL_AT_MS: u64 = 3_000;
/// Views an honest validator may need after the heal before it commits.
const LIVENESS_VIEWS: u64 = 12;

struct Scenario {
    twin_of: ValidatorIndex,
    leaders: Vec<ValidatorIndex>,
    /// For each round, the side (0 or 1) of each of the five nodes.
    sides: Vec<[u8; 5]>,
}

fn generate(rng: &mut StdRng) -> Scenario {
    Scenario {
        twin_of: rng.gen_range(0..4),
        leaders: (0..ROUNDS).map(|_| rng.gen_range(0..4)).collect(),
        sides: (0..ROUNDS)
            .map(|_| {
                let mut s = [0u8; 5];
                for x in &mut s {
                    *x = rng.gen_range(0..2);
                }
                s
            })
            .collect(),
    }
}

fn run(base: &Committee, keys: &[KeyPair], sc: &Scenario, seed: u64) -> Result<(), String> {
    let committee = base
        .with_leader_rule(LeaderRule::Schedule(sc.leaders.clone()))
        .map_err(|e| e.to_string())?;
    let mut cfg = SimConfig::new(4, seed);
    cfg.core.pacemaker.base_timeout_ms = 100;
    cfg.core.pacemaker.max_timeout_ms = 800;
    cfg.core.batch_delay_ms = 5;
    cfg.max_delay_ms = 5;
    let mut sim = Simulation::with_committee(cfg, committee, keys.to_vec());
    sim.add_twin(sc.twin_of);
    let sides = sc.sides.clone();
    let healed = std::rc::Rc::new(std::cell::Cell::new(false));
    let healed_in_filter = healed.clone();
    sim.set_filter(Box::new(move |_, from, to, view, _| {
        if healed_in_filter.get() || view == 0 || view > ROUNDS as u64 {
            return true;
        }
        let s = &sides[usize::try_from(view).unwrap() - 1];
        s[from] == s[to]
    }));
    sim.start();
    for i in 0..5u64 {
        sim.submit(i * 20, (i % 5) as usize, format!("twins tx {i}").into_bytes());
    }
    let honest = sim.honest();
    // The scheduled rounds are over once every honest validator is past them; a schedule that
    // leaves no quorum anywhere is cut short by the heal deadline.
    sim.run_while(HEAL_AT_MS, |s| {
        honest.iter().any(|&i| {
            s.nodes[i]
                .core
                .as_ref()
                .is_some_and(|c| c.current_view() <= ROUNDS as u64)
        })
    });
    healed.set(true);
    sim.check_safety(&honest)?;
    let view_at_heal = sim.max_view();
    let deadline = view_at_heal + LIVENESS_VIEWS;
    sim.run_while(HEAL_AT_MS + 120_000, |s| {
        s.max_view() <= deadline
            && honest.iter().any(|&i| {
                s.nodes[i]
                    .committed
                    .last()
                    .is_none_or(|c| c.block.view() <= view_at_heal)
            })
    });
    sim.check_safety(&honest)?;
    for &i in &honest {
        if sim.nodes[i]
            .committed
            .last()
            .is_none_or(|c| c.block.view() <= view_at_heal)
        {
            return Err(format!(
                "node {i} did not commit within {LIVENESS_VIEWS} views after the heal (view {view_at_heal} -> {})",
                sim.max_view()
            ));
        }
    }
    Ok(())
}

#[test]
fn twins_search_finds_no_fork_and_recovers_after_heal() {
    let scenarios: u64 = std::env::var("TWINS_SCENARIOS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000);
    let seed: u64 = std::env::var("TWINS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2024);
    // One committee and one set of memoising keys for the whole search: signatures and
    // certificate checks recur across scenarios and are computed once.
    let keys: Vec<KeyPair> = (0..4).map(|i| KeyPair::for_test(1, i).with_sign_memo()).collect();
    let base = Arc::new(Committee::of_keys(0, &keys, LeaderRule::RoundRobin).unwrap());
    let mut rng = StdRng::seed_from_u64(seed);
    let all: Vec<(u64, Scenario)> = (0..scenarios).map(|k| (k, generate(&mut rng))).collect();
    // Two workers (the machine has two cores); each scenario is still deterministic.
    let (a, b) = all.split_at(all.len() / 2);
    std::thread::scope(|s| {
        for part in [a, b] {
            let (base, keys) = (&base, &keys);
            s.spawn(move || {
                for (k, sc) in part {
                    if let Err(e) = run(base, keys, sc, seed ^ k) {
                        panic!(
                            "scenario {k} (TWINS_SEED={seed}): {e}\n twin of {}, leaders {:?}, sides {:?}",
                            sc.twin_of, sc.leaders, sc.sides
                        );
                    }
                }
            });
        }
    });
}
