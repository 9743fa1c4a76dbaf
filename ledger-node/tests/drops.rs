//! Messages that are malformed, wrongly signed, from the wrong epoch or sender, or for a view far
//! ahead are dropped with a counted reason and leave the validator's state unchanged.

use std::sync::Arc;

use ledger_node::committee::{Committee, LeaderRule};
use ledger_node::consensus::core::{Config, Core, Input, NoApplication, Recovery};
use ledger_node::consensus::messages::{DropReason, Message, Proposal, UnverifiedMessage};
use ledger_node::consensus::safety::MemoryStorage;
use ledger_node::crypto::KeyPair;
use ledger_node::ids::{BlockHash, View};
use ledger_node::types::{Block, BlockHeader, QuorumCert, SignerBitmap, Vote, vote_signing_bytes};

struct Fixture {
    keys: Vec<KeyPair>,
    committee: Committee,
    genesis: Arc<Block>,
    core: Core,
}

fn fixture() -> Fixture {
    let keys: Vec<KeyPair> = (0..4).map(|i| KeyPair::for_test(31, i)).collect();
    let committee = Committee::of_keys(0, &keys, LeaderRule::RoundRobin).unwrap();
    let genesis = Block::genesis(&committee, 0, [0; 32]);
    let mut core = Core::new(
        Config::default(),
        committee.clone(),
        1,
        keys[1].clone(),
        Box::new(MemoryStorage::default()),
        Box::new(NoApplication),
        Recovery::genesis(genesis.clone(), &committee),
    )
    .unwrap();
    core.start(0);
    Fixture {
        keys,
        committee,
        genesis,
        core,
    }
}

type Snapshot = (View, QuorumCert, usize, usize, BlockHash);

fn snapshot(c: &Core) -> Snapshot {
    (
        c.current_view(),
        c.high_qc().clone(),
        c.stored_blocks(),
        c.mempool_len(),
        c.committed_root().hash(),
    )
}

/// Verifies and feeds a message the way a driver does; returns the verification outcome.
fn feed(f: &mut Fixture, from: u16, msg: Message) -> Result<(), DropReason> {
    match UnverifiedMessage::new(from, msg).verify(&f.committee) {
        Ok(m) => {
            f.core.handle(10, Input::Message(m));
            Ok(())
        }
        Err(r) => {
            f.core.record_drop(r);
            Err(r)
        }
    }
}

fn vote(f: &Fixture, signer: u16, view: View, hash: BlockHash) -> Vote {
    Vote {
        epoch: 0,
        view,
        block_hash: hash,
        signer,
        signature: f.keys[usize::from(signer)].sign(&vote_signing_bytes(0, view, &hash)),
    }
}

fn proposal(f: &Fixture, view: View, proposer: u16, qc: QuorumCert) -> Message {
    Message::Proposal(Proposal {
        block: Arc::new(Block::new(
            BlockHeader {
                epoch: 0,
                view,
                height: 1,
                timestamp_ms: 1,
                parent_hash: f.genesis.hash(),
                payload_root: [0; 32],
                state_root: [0; 32],
                proposer,
                qc,
            },
            vec![b"tx".to_vec()],
        )),
        tc: None,
    })
}

#[test]
fn bad_messages_are_counted_and_change_nothing() {
    let mut f = fixture();
    let before = snapshot(&f.core);
    let g = f.genesis.hash();

    assert_eq!(
        UnverifiedMessage::decode(0, &[9, 1, 2]).err(),
        Some(DropReason::Malformed)
    );

    let mut wrong_epoch = vote(&f, 0, 1, g);
    wrong_epoch.epoch = 3;
    assert_eq!(
        feed(&mut f, 0, Message::Vote(wrong_epoch)),
        Err(DropReason::WrongEpoch)
    );

    let m = Message::Vote(vote(&f, 0, 1, g));
    assert_eq!(feed(&mut f, 2, m), Err(DropReason::WrongSender));

    // A view-2 proposal whose parent QC claims three signers but carries a made-up signature.
    let mut signers = SignerBitmap::new(4);
    for i in [0, 2, 3] {
        signers.set(i);
    }
    let forged = QuorumCert {
        epoch: 0,
        view: 1,
        block_hash: g,
        signers: signers.clone(),
        signature: Some(f.keys[0].sign(b"not a vote")),
    };
    let m = proposal(&f, 2, 2, forged);
    assert_eq!(feed(&mut f, 2, m), Err(DropReason::BadSignature));

    let mut two = SignerBitmap::new(4);
    two.set(0);
    two.set(2);
    let thin = QuorumCert {
        epoch: 0,
        view: 1,
        block_hash: g,
        signers: two,
        signature: Some(f.keys[0].sign(b"x")),
    };
    let m = proposal(&f, 2, 2, thin);
    assert_eq!(feed(&mut f, 2, m), Err(DropReason::NoQuorum));

    let genesis_qc = QuorumCert::genesis(0, g, 4);
    let m = proposal(&f, 1, 3, genesis_qc);
    assert_eq!(feed(&mut f, 3, m), Err(DropReason::WrongProposer));

    // A proposal whose TC names the last possible view is refused, not an overflow.
    let mut m = proposal(&f, 2, 2, QuorumCert::genesis(0, g, 4));
    if let Message::Proposal(p) = &mut m {
        p.tc = Some(ledger_node::types::TimeoutCert {
            epoch: 0,
            view: u64::MAX,
            signers: signers.clone(),
            signature: f.keys[0].sign(b"x"),
        });
    }
    assert_eq!(feed(&mut f, 2, m), Err(DropReason::Malformed));

    // Verified, but for a view far ahead: the core drops it.
    let m = Message::Vote(vote(&f, 0, 50_000, g));
    assert_eq!(feed(&mut f, 0, m), Ok(()));
    assert_eq!(f.core.drops().get(DropReason::FarFuture), 1);

    // Validator 1 certifies view 4 (it leads view 5). One of three votes is badly signed: the
    // aggregate fails, the fallback finds the bad one, and no QC forms.
    let x = BlockHash([7; 32]);
    let mut bad = vote(&f, 3, 4, x);
    bad.signature = f.keys[3].sign(b"something else");
    for v in [vote(&f, 0, 4, x), vote(&f, 2, 4, x), bad] {
        let from = v.signer;
        assert_eq!(feed(&mut f, from, Message::Vote(v)), Ok(()));
    }
    assert_eq!(f.core.stats().aggregation.bad_signatures, 1);
    assert_eq!(f.core.stats().qcs_formed, 0);

    assert_eq!(snapshot(&f.core), before);
    let d = f.core.drops();
    assert_eq!(d.get(DropReason::Malformed), 1);
    assert_eq!(d.get(DropReason::WrongEpoch), 1);
    assert_eq!(d.get(DropReason::WrongSender), 1);
    assert_eq!(d.get(DropReason::BadSignature), 2);
    assert_eq!(d.get(DropReason::NoQuorum), 1);
    assert_eq!(d.get(DropReason::WrongProposer), 1);
}
