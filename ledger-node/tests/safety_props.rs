//! Properties of the safety rules under arbitrary request sequences and restarts: never two
//! different votes in one view, views only go up, and every vote respects the lock held when it
//! was signed.

use std::collections::HashMap;
use std::sync::Arc;

use ledger_node::crypto::KeyPair;
use ledger_node::safety::{MemoryStorage, SafetyRules, lock_after_vote, respects_lock};
use ledger_node::types::{Block, BlockHash, BlockHeader, QuorumCert, SignerBitmap};
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
                    prop_assert_eq!(rules.record().preferred_view, lock_after_vote(&before, &parent));
                    voted.insert(v.view, v.block_hash);
                    last_view = v.view;
                }
            }
        }
    }
}
