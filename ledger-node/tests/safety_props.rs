//! Properties of the safety rules under arbitrary request sequences and restarts: never two
//! different votes in one view, views only go up, every vote respects the lock held when it
//! was signed, and never a vote for a block carrying a lower certificate than a block voted for
//! before (the lock the two-chain commit rule rests on).

use std::collections::HashMap;
use std::sync::Arc;

use ledger_node::consensus::safety::{MemoryStorage, SafetyRules, lock_after_vote, respects_lock};
use ledger_node::crypto::KeyPair;
use ledger_node::ids::BlockHash;
use ledger_node::types::{Block, BlockHeader, QuorumCert, SignerBitmap};
use proptest::prelude::*;

fn block(parent: &Block, view: u64, marker: u64) -> Arc<Block> {
    Arc::new(Block::new(
        BlockHeader {
            epoch: 0,
            view,
            height: parent.height() + 1,
            timestamp_ms: parent.timestamp_ms() + 1,
            parent_hash: parent.hash(),
            payload_root: [0; 32],
            state_root: [0; 32],
            proposer: 0,
            qc: QuorumCert {
                epoch: 0,
                view: parent.view(),
                block_hash: parent.hash(),
                signers: SignerBitmap::new(4),
                signature: None,
            },
        },
        vec![marker.to_be_bytes().to_vec()],
    ))
}

#[derive(Clone, Debug)]
enum Op {
    /// Propose a child of an existing block (index modulo the tree) `gap` views above it.
    Request { parent: usize, gap: u64, marker: u64 },
    /// Ask again for an earlier request.
    Repeat(usize),
    /// Restart from storage.
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (any::<usize>(), 1u64..4, 0u64..3).prop_map(|(parent, gap, marker)| Op::Request { parent, gap, marker }),
        2 => any::<usize>().prop_map(Op::Repeat),
        1 => Just(Op::Restart),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn no_two_votes_per_view_and_locks_hold(ops in prop::collection::vec(op(), 1..40)) {
        let key = KeyPair::for_test(4, 1).with_sign_memo();
        let genesis = Arc::new(Block::new(
            BlockHeader {
                epoch: 0, view: 0, height: 0, timestamp_ms: 0,
                parent_hash: BlockHash::default(), payload_root: [0; 32], state_root: [0; 32],
                proposer: 0, qc: QuorumCert::genesis(0, BlockHash::default(), 4),
            },
            vec![],
        ));
        let gqc = QuorumCert::genesis(0, genesis.hash(), 4);
        let storage = MemoryStorage::default();
        let new_rules = || SafetyRules::new(key.clone(), 1, 0, gqc.clone(), Box::new(storage.clone())).unwrap();
        let mut rules = new_rules();
        let mut tree: Vec<Arc<Block>> = vec![genesis.clone()];
        let mut by_hash: HashMap<BlockHash, Arc<Block>> = HashMap::new();
        by_hash.insert(genesis.hash(), genesis);
        let mut requests: Vec<Arc<Block>> = Vec::new();
        let mut voted: HashMap<u64, BlockHash> = HashMap::new();
        let mut last_view = 0;
        // Highest certificate carried by a block voted for, across restarts.
        let mut highest_carried = 0;
        for op in ops {
            let b = match op {
                Op::Restart => { rules = new_rules(); continue; }
                Op::Repeat(i) if !requests.is_empty() => requests[i % requests.len()].clone(),
                Op::Repeat(_) => continue,
                Op::Request { parent, gap, marker } => {
                    let p = tree[parent % tree.len()].clone();
                    let b = block(&p, p.view() + gap, marker);
                    tree.push(b.clone());
                    by_hash.insert(b.hash(), b.clone());
                    requests.push(b.clone());
                    b
                }
            };
            let parent = by_hash[&b.parent_hash()].clone();
            let before = rules.record().clone();
            if let Ok(v) = rules.vote(&b, &parent) {
                prop_assert_eq!(v.block_hash, b.hash());
                if let Some(h) = voted.get(&v.view) {
                    prop_assert_eq!(*h, v.block_hash, "two votes in view {}", v.view);
                } else {
                    prop_assert!(v.view > last_view, "views must increase");
                    prop_assert!(respects_lock(&before, &b));
                    prop_assert_eq!(rules.record().preferred_view, lock_after_vote(&before, &b));
                    prop_assert!(
                        b.qc().view >= highest_carried,
                        "voted for a block extending view {} after one extending view {}",
                        b.qc().view,
                        highest_carried
                    );
                    highest_carried = b.qc().view;
                    voted.insert(v.view, v.block_hash);
                    last_view = v.view;
                }
            }
        }
    }
}

/// A record saved by a release with the three-chain rule (format 2, locked on the two-chain head)
/// loads with its lock raised to the certificate it holds.
#[test]
fn a_format_2_record_loads_with_the_one_chain_lock() {
    use ledger_node::codec::{Encode, decode_exact};
    use ledger_node::consensus::safety::SafetyRecord;
    let high_qc = QuorumCert {
        epoch: 0,
        view: 7,
        block_hash: BlockHash::default(),
        signers: SignerBitmap::new(4),
        signature: None,
    };
    let mut bytes = vec![2u8];
    for x in [0u64, 8, 5, 8] {
        bytes.extend_from_slice(&x.to_be_bytes());
    }
    high_qc.encode(&mut bytes);
    bytes.push(0);
    let r: SafetyRecord = decode_exact(&bytes).unwrap();
    assert_eq!((r.last_voted_view, r.last_proposed_view), (8, 8));
    assert_eq!(
        r.preferred_view, 7,
        "the lock moves up from the two-chain head (5) to 7"
    );
    // Saved again, it is format 3 and keeps its lock as it is.
    let mut again = Vec::new();
    SafetyRecord {
        preferred_view: 6,
        ..r
    }
    .encode(&mut again);
    assert_eq!(again[0], 3);
    assert_eq!(decode_exact::<SafetyRecord>(&again).unwrap().preferred_view, 6);
}
