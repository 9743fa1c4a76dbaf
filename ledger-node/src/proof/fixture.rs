//! A committed chain of anchor blocks built in memory with real keys, real execution and real
//! BLS certificates, and the anchor certificates of every item in it: what the proof tests and
//! the certificate benchmark check (feature `sim`, like the simulated network).
//!
//! Block h is proposed in view h, so each block is committed by its child; one empty block
//! after the last anchor block makes that one final too.

use std::sync::Arc;

use ed25519_dalek::SigningKey;

use super::InclusionProof;
use crate::committee::Committee;
use crate::consensus::core::FinalBy;
use crate::crypto::{KeyPair, aggregate, sha256};
use crate::genesis::Genesis;
use crate::merkle::{self, PathStep, leaf_hash};
use crate::state::exec::{BlockContext, execute_block, genesis_state_root};
use crate::state::{Op, SigCache, State, TxBody, account_of, batch_hash};
use crate::types::{Block, BlockHeader, QuorumCert, SignerBitmap, vote_signing_bytes};

/// The genesis of the fixture chain, its validator keys, and the signing key of the submitter.
#[derive(Debug)]
pub struct FixtureChain {
    /// The genesis (four validators).
    pub genesis: Genesis,
    /// The validators' keys, in index order.
    pub keys: Vec<KeyPair>,
    /// The anchor certificates, batch by batch, item by item.
    pub certificates: Vec<InclusionProof>,
    /// The anchor blocks and the one after them, with their certificates.
    pub blocks: Vec<(Arc<Block>, QuorumCert)>,
}

/// Key material of validator `i` of chain `seed`.
fn seed_of(seed: u64, i: u64) -> [u8; 32] {
    sha256(&[b"proof fixture validator", &seed.to_be_bytes(), &i.to_be_bytes()])
}

/// The item digests of batch `b`.
pub fn digests(seed: u64, b: usize, items: usize) -> Vec<[u8; 32]> {
    (0..items)
        .map(|i| {
            let (b, i) = (b as u64, i as u64);
            sha256(&[
                b"proof fixture item",
                &seed.to_be_bytes(),
                &b.to_be_bytes(),
                &i.to_be_bytes(),
            ])
        })
        .collect()
}

/// The Merkle path of every leaf at once ([`merkle::path`] rules, one tree walk instead of one
/// per leaf).
pub fn all_paths(items: &[[u8; 32]]) -> Vec<Vec<PathStep>> {
    let mut paths = vec![Vec::new(); items.len()];
    let mut level: Vec<[u8; 32]> = items.iter().map(|d| leaf_hash(d)).collect();
    // Which node of the current level each leaf is under.
    let mut at: Vec<usize> = (0..items.len()).collect();
    while level.len() > 1 {
        for (leaf, i) in at.iter_mut().enumerate() {
            let sib = *i ^ 1;
            if sib < level.len() {
                paths[leaf].push(PathStep {
                    sibling: level[sib],
                    sibling_on_left: sib < *i,
                });
            }
            *i /= 2;
        }
        level = level
            .chunks(2)
            .map(|c| match c {
                [l, r] => sha256(&[&[1u8], l, r]),
                [x] => *x,
                _ => unreachable!("chunks of two"),
            })
            .collect();
    }
    paths
}

/// A QC on `header` by validators 0..3 of `keys`.
pub fn certify(committee: &Committee, keys: &[KeyPair], header: &BlockHeader) -> QuorumCert {
    let msg = vote_signing_bytes(header.epoch, header.view, &header.hash());
    let sigs: Vec<_> = keys
        .iter()
        .take(committee.quorum())
        .map(|k| k.sign(&msg))
        .collect();
    let mut signers = SignerBitmap::new(committee.size());
    for i in 0..committee.quorum() {
        signers.set(u16::try_from(i).expect("a small committee"));
    }
    QuorumCert {
        epoch: header.epoch,
        view: header.view,
        block_hash: header.hash(),
        signers,
        signature: Some(aggregate(&sigs.iter().collect::<Vec<_>>()).expect("signatures aggregate")),
    }
}

/// Builds chain `seed` with `batches` anchor blocks of `items` digests each, and every item's
/// certificate.
pub fn anchor_chain(seed: u64, batches: usize, items: usize) -> FixtureChain {
    let keys: Vec<KeyPair> = (0..4)
        .map(|i| KeyPair::from_ikm(&seed_of(seed, i)).expect("32 bytes of key material"))
        .collect();
    let seeds: Vec<[u8; 32]> = (0..4).map(|i| seed_of(seed, i)).collect();
    let genesis = Genesis::for_test_keys(&seeds).expect("test keys form a genesis");
    let committee = genesis.committee().expect("a valid committee");
    let chain_id = genesis.chain_id();
    let submitter = SigningKey::from_bytes(&sha256(&[b"proof fixture submitter", &seed.to_be_bytes()]));
    let signer = account_of(&submitter);
    let mut state = State::genesis(&chain_id);
    let sigs = SigCache::new(1_000);
    let mut parent = genesis.block(&committee, genesis_state_root(&chain_id));
    let mut parent_qc = QuorumCert::genesis(committee.epoch(), parent.hash(), committee.size());
    let mut previous = [0u8; 32];
    let mut built = Vec::new();
    for b in 0..=batches {
        let height = parent.height() + 1;
        let ds = if b < batches {
            digests(seed, b, items)
        } else {
            Vec::new()
        };
        let mut payload = Vec::new();
        if b < batches {
            let root = merkle::root(&ds);
            let (sequence, count) = (b as u64 + 1, ds.len() as u64);
            let op = Op::Anchor {
                namespace: NAMESPACE.into(),
                root,
                items: count,
                sequence,
                previous,
            };
            payload.push(
                TxBody {
                    chain_id,
                    signer,
                    nonce: sequence,
                    op,
                }
                .sign(&submitter),
            );
            previous = batch_hash(&signer, NAMESPACE, sequence, &previous, &root, count);
        }
        let ctx = BlockContext {
            chain_id,
            height,
            timestamp_ms: genesis.timestamp_ms + 1_000 * height,
            params: genesis.params,
        };
        let out = execute_block(&state, state.root, &ctx, &sigs.prepare(&payload));
        assert!(
            out.receipts.iter().all(|r| r.outcome.is_ok()),
            "fixture anchors succeed"
        );
        state.apply(&out.changes, height, out.state_root());
        let block = Arc::new(Block::new(
            BlockHeader {
                epoch: committee.epoch(),
                view: height,
                height,
                timestamp_ms: ctx.timestamp_ms,
                parent_hash: parent.hash(),
                payload_root: [0; 32],
                state_root: out.state_root(),
                proposer: committee.leader(height),
                qc: parent_qc,
            },
            payload,
        ));
        let qc = certify(&committee, &keys, block.header());
        parent = block.clone();
        parent_qc = qc.clone();
        built.push((block, qc, out, ds));
    }
    let mut certificates = Vec::new();
    for k in 0..batches {
        let (block, _, out, ds) = &built[k];
        let (child, child_qc, _, _) = &built[k + 1];
        let final_by = FinalBy {
            child: child.header().clone(),
            child_qc: child_qc.clone(),
        };
        let receipts: Vec<Vec<u8>> = out.receipts.iter().map(|r| r.encode()).collect();
        let base = InclusionProof::build(
            &chain_id,
            &committee,
            block.header(),
            &child.header().qc,
            &block.payload()[0],
            &merkle::path(block.payload(), 0).expect("the anchor is in its block"),
            &receipts[0],
            &merkle::path(&receipts, 0).expect("its receipt is in the block"),
            &out.commitment,
            &[],
            &final_by,
        );
        for (d, path) in ds.iter().zip(all_paths(ds)) {
            certificates.push(base.clone().with_item(d, &path));
        }
    }
    FixtureChain {
        genesis,
        keys,
        certificates,
        blocks: built.into_iter().map(|(b, qc, _, _)| (b, qc)).collect(),
    }
}

/// The namespace the fixture anchors in.
pub const NAMESPACE: &str = "fixture";
