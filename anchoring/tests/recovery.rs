//! The engine on a real SQLite database, with the chain's side played by the test: digests are
//! acknowledged, batches close by count and by time, each sealed batch is stored before it is
//! handed over; after the engine is dropped (a crash, as far as the database knows) a new one
//! resends exactly the stored transactions, continues the numbering and the nonces, signs a
//! failed batch again with the same place in the sequence, and never changes a final batch.

use std::sync::Arc;
use std::time::Duration;

use anchoring::batch::{BatchRule, Outcome};
use anchoring::engine::{Command, Engine, Outgoing};
use anchoring::metrics::Metrics;
use anchoring::store;
use ed25519_dalek::SigningKey;
use ledger_node::merkle::root;
use ledger_node::state::{Op, Transaction, account_of, batch_hash};
use plumbing::Durability;
use tokio::sync::{Notify, mpsc, oneshot};

const NS: &str = "isp.attestations";
const RULE: BatchRule = BatchRule {
    max_items: 3,
    max_wait_ms: 50,
};

fn key() -> SigningKey {
    SigningKey::from_bytes(&[5; 32])
}

struct Running {
    commands: mpsc::Sender<Command>,
    outgoing: mpsc::UnboundedReceiver<Outgoing>,
    engine: tokio::task::JoinHandle<Result<(), plumbing::StoreError>>,
}

async fn start(path: &std::path::Path, chain_nonce: u64) -> Running {
    let db = store::open(path, Durability::Normal).await.unwrap();
    let recovered = store::recover(&db.readers).await.unwrap();
    let (out_tx, outgoing) = mpsc::unbounded_channel();
    let (commands, rx) = mpsc::channel(16);
    let engine = Engine::new(
        db.writer,
        RULE,
        key(),
        [7; 32],
        chain_nonce,
        recovered,
        out_tx,
        Metrics::new(),
        Arc::new(Notify::new()),
    );
    Running {
        commands,
        outgoing,
        engine: tokio::spawn(engine.run(rx)),
    }
}

async fn next(r: &mut Running) -> Outgoing {
    tokio::time::timeout(Duration::from_secs(10), r.outgoing.recv())
        .await
        .expect("a batch in time")
        .expect("engine running")
}

fn anchor(o: &Outgoing) -> (u64, Op) {
    let tx = Transaction::decode(&o.tx).unwrap();
    (tx.body.nonce, tx.body.op)
}

async fn report(r: &Running, o: &Outgoing, outcome: Outcome, proof: Option<(u64, String)>) {
    r.commands
        .send(Command::Report {
            namespace: o.namespace.clone(),
            sequence: o.sequence,
            tx_id: o.tx_id,
            outcome,
            proof,
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn sealed_batches_survive_a_crash_and_keep_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("anchor.sqlite");
    let mut r = start(&path, 0).await;
    let digests: Vec<[u8; 32]> = (0..7u8).map(|i| [i; 32]).collect();
    let (reply, ids) = oneshot::channel();
    r.commands
        .send(Command::Accept {
            namespace: NS.into(),
            digests: digests.clone(),
            reply,
        })
        .await
        .unwrap();
    assert_eq!(ids.await.unwrap().unwrap(), (1..=7).collect::<Vec<u64>>());
    // Two full batches at once, the last digest's batch when its window ends.
    let sent = [next(&mut r).await, next(&mut r).await, next(&mut r).await];
    let signer = account_of(&key());
    let mut previous = [0; 32];
    for (i, o) in sent.iter().enumerate() {
        let seq = u64::try_from(i).unwrap() + 1;
        let chunk = &digests[i * 3..(i * 3 + 3).min(7)];
        let (nonce, op) = anchor(o);
        assert_eq!(nonce, seq);
        let expected = Op::Anchor {
            namespace: NS.into(),
            root: root(chunk),
            items: u64::try_from(chunk.len()).unwrap(),
            sequence: seq,
            previous,
        };
        assert_eq!(op, expected);
        previous = batch_hash(
            &signer,
            NS,
            seq,
            &previous,
            &root(chunk),
            u64::try_from(chunk.len()).unwrap(),
        );
    }
    // Batch 1 is accepted by a node, then the engine dies.
    report(&r, &sent[0], Outcome::Accepted, None).await;
    drop(r.commands);
    r.engine.await.unwrap().unwrap();

    // The new engine resends exactly the stored transactions, in nonce order.
    let mut r = start(&path, 1).await;
    let resent = [next(&mut r).await, next(&mut r).await, next(&mut r).await];
    for (a, b) in sent.iter().zip(&resent) {
        assert_eq!((a.sequence, &a.tx, a.nonce), (b.sequence, &b.tx, b.nonce));
    }
    // Batch 1 becomes final; batch 2's transaction failed: signed again with the next nonce
    // (4), same place in the sequence.
    report(&r, &sent[0], Outcome::Final, Some((9, "{}".into()))).await;
    report(&r, &sent[1], Outcome::Failed("test".into()), None).await;
    let again = next(&mut r).await;
    assert_eq!(again.sequence, 2);
    assert_ne!(again.tx, sent[1].tx);
    let (nonce, op) = anchor(&again);
    assert_eq!((nonce, op), (4, anchor(&sent[1]).1));
    // A report on a final batch, or on the replaced transaction, changes nothing.
    report(&r, &sent[0], Outcome::Failed("late".into()), None).await;
    report(&r, &sent[1], Outcome::Failed("stale".into()), None).await;
    // More digests continue the numbering after the crash.
    let (reply, ids) = oneshot::channel();
    r.commands
        .send(Command::Accept {
            namespace: NS.into(),
            digests: vec![[9; 32]; 3],
            reply,
        })
        .await
        .unwrap();
    assert_eq!(ids.await.unwrap().unwrap(), vec![8, 9, 10]);
    let fourth = next(&mut r).await;
    assert_eq!((fourth.sequence, fourth.nonce), (4, 5));
    assert!(r.outgoing.try_recv().is_err(), "nothing else was sent");
    drop(r.commands);
    r.engine.await.unwrap().unwrap();

    let db = store::open(&path, Durability::Normal).await.unwrap();
    let b1 = store::batch(&db.readers, NS, 1).await.unwrap().unwrap();
    assert_eq!(
        (b1.state.as_str(), b1.height, b1.proof.as_deref()),
        ("final", Some(9), Some("{}"))
    );
    let b2 = store::batch(&db.readers, NS, 2).await.unwrap().unwrap();
    assert_eq!((b2.state.as_str(), b2.nonce, &b2.tx), ("sealed", 4, &again.tx));
    let item = store::item(&db.readers, 7).await.unwrap().unwrap();
    assert_eq!(item.place.as_ref().map(|p| (p.0, p.1)), Some((3, 0)));
}
