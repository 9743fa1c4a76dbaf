//! Storage: committed blocks written in group commits come back exactly after a reopen (the
//! state a restarted node resumes from), the read side answers what the API serves, and the
//! safety record survives.

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use htlc::{Condition, Fulfillment};
use ledger_node::committee::{Committee, LeaderRule};
use ledger_node::consensus::core::{Application, FinalBy};
use ledger_node::consensus::safety::{SafetyRecord, SafetyStorage};
use ledger_node::crypto::{KeyPair, sha256};
use ledger_node::node::store::{CommittedItem, SqliteSafety, Store};
use ledger_node::state::exec::genesis_state_root;
use ledger_node::state::{
    AccountId, AssetCode, ChainParams, EscrowId, FailCode, Ledger, Op, SigCache, State, Transaction, TxBody,
    account_of, batch_hash,
};
use ledger_node::types::{Block, BlockHeader, QuorumCert};
use sqlx::Connection;

const CHAIN: [u8; 32] = [5; 32];

/// A `txs` row: height, index, id, signer, nonce.
type TxRow = (i64, i64, Vec<u8>, Vec<u8>, i64);

fn committee() -> Committee {
    let keys: Vec<KeyPair> = (0..4).map(|i| KeyPair::for_test(3, i)).collect();
    Committee::of_keys(1, &keys, LeaderRule::RoundRobin).unwrap()
}

/// A connection of its own to the store's database, to read tables directly.
async fn open_db(path: &std::path::Path) -> sqlx::SqliteConnection {
    sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap()
}

fn key(i: u8) -> SigningKey {
    SigningKey::from_bytes(&[i + 10; 32])
}

fn tx(who: u8, nonce: u64, op: Op) -> Vec<u8> {
    TxBody {
        chain_id: CHAIN,
        signer: account_of(&key(who)),
        nonce,
        op,
    }
    .sign(&key(who))
}

/// Builds the child of `parent` carrying `txs`, with the state root the ledger computes.
/// The issuer's (key 0) first transactions: create `dcep`, then issue to each account.
fn create_and_issue(dcep: &AssetCode, to: &[(AccountId, u64)]) -> Vec<Vec<u8>> {
    let create = Op::CreateAsset {
        code: dcep.clone(),
        scale: 2,
    };
    let issues = to.iter().map(|&(to, amount)| Op::Issue {
        asset: dcep.clone(),
        to,
        amount,
    });
    std::iter::once(create)
        .chain(issues)
        .zip(1..)
        .map(|(op, nonce)| tx(0, nonce, op))
        .collect()
}

fn child(ledger: &mut Ledger, c: &Committee, parent: &Arc<Block>, txs: Vec<Vec<u8>>) -> Arc<Block> {
    let ts = parent.timestamp_ms() + 1_000;
    let root = ledger.state_root(parent, &txs, ts);
    let h = parent.height() + 1;
    Arc::new(Block::new(
        BlockHeader {
            epoch: c.epoch(),
            view: h,
            height: h,
            timestamp_ms: ts,
            parent_hash: parent.hash(),
            payload_root: [0; 32],
            state_root: root,
            proposer: 0,
            qc: QuorumCert::genesis(c.epoch(), parent.hash(), c.size()),
        },
        txs,
    ))
}

/// A ledger at the genesis of a new chain, with the committee and the genesis block.
fn new_chain() -> (Committee, Arc<Block>, Ledger) {
    let c = committee();
    let genesis = Block::genesis(&c, 1_000_000, genesis_state_root(&CHAIN));
    let ledger = Ledger::new(
        CHAIN,
        ChainParams::default(),
        State::genesis(&CHAIN),
        genesis.hash(),
        Arc::new(SigCache::new(1_000)),
    );
    (c, genesis, ledger)
}

/// Builds and commits one block per entry of `blocks` on top of `genesis`, returning what the
/// node would hand its store.
fn commit_blocks(
    ledger: &mut Ledger,
    c: &Committee,
    genesis: &Arc<Block>,
    blocks: Vec<Vec<Vec<u8>>>,
) -> Vec<CommittedItem> {
    let mut parent = genesis.clone();
    let mut items = Vec::new();
    for txs in blocks {
        let b = child(ledger, c, &parent, txs);
        assert!(ledger.check_block(&parent, &b));
        let exec = ledger.commit(&b).unwrap();
        items.push(CommittedItem {
            block: b.clone(),
            qc: QuorumCert::genesis(c.epoch(), b.hash(), c.size()),
            exec,
            final_by: None,
        });
        parent = b;
    }
    items
}

#[tokio::test]
async fn committed_blocks_reload_exactly_and_reads_answer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.sqlite");
    let (c, genesis, mut ledger) = new_chain();
    let mut store = Store::open(&path).await.unwrap();
    let dcep = AssetCode::new("DCEP").unwrap();
    let a = account_of(&key(1));
    let b = account_of(&key(2));
    let escrow = EscrowId::derive(&a, &[4; 16]);
    let blocks_txs = vec![
        create_and_issue(&dcep, &[(a, 5_000)]),
        vec![
            tx(
                1,
                1,
                Op::Transfer {
                    asset: dcep.clone(),
                    to: b,
                    amount: 700,
                },
            ),
            tx(
                1,
                2,
                Op::Transfer {
                    asset: dcep.clone(),
                    to: b,
                    amount: 70_000,
                },
            ),
            tx(
                1,
                3,
                Op::EscrowCreate {
                    reference: [4; 16],
                    asset: dcep.clone(),
                    payee: b,
                    amount: 300,
                    condition: Fulfillment::from_bytes([1; 32]).condition(),
                    expires_at_ms: 10_000_000,
                    memo: b"memo".to_vec(),
                },
            ),
            tx(
                1,
                4,
                Op::EscrowCreate {
                    reference: [5; 16],
                    asset: dcep.clone(),
                    payee: b,
                    amount: 1,
                    condition: Condition::from_bytes([0; 32]),
                    expires_at_ms: 10_000_000,
                    memo: vec![],
                },
            ),
        ],
        vec![
            tx(
                2,
                1,
                Op::EscrowFulfill {
                    escrow,
                    fulfillment: Fulfillment::from_bytes([1; 32]),
                },
            ),
            // b sends all it has (700 received, 300 from the escrow): its balance row goes.
            tx(
                2,
                2,
                Op::Transfer {
                    asset: dcep.clone(),
                    to: a,
                    amount: 1_000,
                },
            ),
            tx(
                3,
                1,
                Op::Anchor {
                    namespace: "identity".into(),
                    root: [9; 32],
                    items: 3,
                    sequence: 1,
                    previous: [0; 32],
                },
            ),
            // The namespace's second batch: the tip a restart must rebuild.
            tx(
                3,
                2,
                Op::Anchor {
                    namespace: "identity".into(),
                    root: [8; 32],
                    items: 1,
                    sequence: 2,
                    previous: batch_hash(&account_of(&key(3)), "identity", 1, &[0; 32], &[9; 32], 3),
                },
            ),
        ],
    ];
    let mut items = commit_blocks(&mut ledger, &c, &genesis, blocks_txs);
    // The commit of block 2 came with its finality evidence: block 3 and its certificate.
    items[1].final_by = Some(Arc::new(FinalBy {
        child: items[2].block.header().clone(),
        child_qc: items[2].qc.clone(),
    }));
    let parent = items.last().unwrap().block.clone();
    // Two group commits.
    store.write(&items[..1]).await.unwrap();
    let last_event = store.write(&items[1..]).await.unwrap();
    assert_eq!(last_event, 5, "two escrows created, one fulfilled, two anchors");
    drop(store);

    let mut reopened = Store::open(&path).await.unwrap();
    let reader = reopened.reader();
    let loaded = reopened.load(&CHAIN).await.unwrap();
    let want = ledger.state();
    assert_eq!(loaded.state.accounts, want.accounts);
    assert_eq!(loaded.state.assets, want.assets);
    assert_eq!(loaded.state.open, want.open);
    assert_eq!(loaded.state.closed, want.closed);
    assert_eq!(loaded.state.anchor_tips, want.anchor_tips);
    assert_eq!(
        loaded.state.anchor_tips[&(account_of(&key(3)), "identity".to_owned())].sequence,
        2
    );
    assert_eq!((loaded.state.height, loaded.state.root), (want.height, want.root));
    assert_eq!(loaded.last.unwrap().0.hash(), parent.hash());
    assert_eq!(loaded.next_event, 6);
    // A restarted validator's mempool remembers the last committed ids, oldest first.
    let all_ids: Vec<[u8; 32]> = items.iter().flat_map(|it| it.block.tx_ids().to_vec()).collect();
    assert_eq!(reopened.recent_tx_ids(100).await.unwrap(), all_ids);
    assert_eq!(
        reopened.recent_tx_ids(4).await.unwrap(),
        all_ids[all_ids.len() - 4..]
    );

    assert_eq!(reader.committed_height().await.unwrap(), 3);
    // Blocks 1 and 2 are proven final by the evidence stored with block 2 (block 1 through the
    // header of block 2); block 3's commit stored none yet.
    let f1 = reader.finality(1, 8).await.unwrap().expect("block 1 is final");
    assert_eq!(f1.between, vec![items[1].block.header().clone()]);
    assert_eq!(Some(&f1.final_by), items[1].final_by.as_deref());
    assert!(reader.finality(2, 8).await.unwrap().unwrap().between.is_empty());
    assert!(
        reader.finality(1, 0).await.unwrap().is_none(),
        "too many headers between"
    );
    assert!(
        reader.finality(3, 8).await.unwrap().is_none(),
        "no evidence for block 3 yet"
    );
    // Every block and certificate reads back as committed, also those after the first of a
    // group (their encodings share one blob in the write).
    for it in &items {
        let stored = reader.block(it.block.height()).await.unwrap().unwrap();
        assert_eq!(stored.block.hash(), it.block.hash());
        assert_eq!(stored.block.payload(), it.block.payload());
        assert_eq!(stored.qc, it.qc);
    }
    // Every transaction's row carries its own id, signer and nonce (the ids and signers of a
    // group travel in one blob, found by the row's position).
    let mut db = open_db(&path).await;
    let rows: Vec<TxRow> =
        sqlx::query_as("SELECT height, idx, id, signer, nonce FROM txs ORDER BY height, idx")
            .fetch_all(&mut db)
            .await
            .unwrap();
    let want: Vec<TxRow> = items
        .iter()
        .flat_map(|it| {
            it.block.payload().iter().enumerate().map(|(k, bytes)| {
                let t = Transaction::decode(bytes).unwrap();
                let h = i64::try_from(it.block.height()).unwrap();
                (
                    h,
                    i64::try_from(k).unwrap(),
                    t.id.to_vec(),
                    t.body.signer.0.to_vec(),
                    i64::try_from(t.body.nonce).unwrap(),
                )
            })
        })
        .collect();
    assert_eq!(rows, want);
    let overdraft = ledger_node::merkle::leaf_hash(&items[1].block.payload()[1]);
    let s = reader.tx_status(&overdraft).await.unwrap().unwrap();
    assert_eq!(s.reason, Some(FailCode::InsufficientFunds));
    // Many ids at once, more than one lookup's worth: each committed one answers with the
    // status a single lookup gives, and unknown ones are absent.
    let committed: Vec<[u8; 32]> = items
        .iter()
        .flat_map(|i| {
            i.block
                .payload()
                .iter()
                .map(|t| ledger_node::merkle::leaf_hash(t))
        })
        .collect();
    let mut ids: Vec<[u8; 32]> = (0..1_200u32)
        .map(|i| sha256(&[b"never submitted", &i.to_be_bytes()]))
        .collect();
    for (k, id) in committed.iter().enumerate() {
        ids.insert(k * 100, *id);
    }
    let found = reader.tx_statuses(&ids).await.unwrap();
    assert_eq!(found.len(), committed.len());
    for id in &committed {
        assert_eq!(Some(&found[id]), reader.tx_status(id).await.unwrap().as_ref());
    }
    assert_eq!(found[&overdraft], s);
    let acct = reader.account(&b).await.unwrap();
    assert!(
        acct.balances.is_empty(),
        "a zero balance has no row: {:?}",
        acct.balances
    );
    assert_eq!(reader.account_txs(&b, 10).await.unwrap().len(), 6);
    let acct = reader.account(&a).await.unwrap();
    assert_eq!(acct.balances[0].amount, 5_000 - 700 - 300 - 1 + 1_000);
    let e = reader.escrow(&escrow).await.unwrap().unwrap();
    assert_eq!(e.lock.fulfillment(), Some(&Fulfillment::from_bytes([1; 32])));
    let events = reader.events_after(0, 10).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "escrow_created",
            "escrow_created",
            "escrow_fulfilled",
            "anchored",
            "anchored"
        ]
    );
    assert_eq!(reader.blocks_from(2, 10, 1 << 20).await.unwrap().len(), 2);
    assert_eq!(reader.receipts(2).await.unwrap().len(), 4);

    // The safety record, through the synchronous trait (as the consensus thread calls it).
    let rt = tokio::runtime::Handle::current();
    let p = path.clone();
    let rec = SafetyRecord {
        last_voted_view: 9,
        last_proposed_view: 8,
        ..SafetyRecord::initial(1, QuorumCert::genesis(1, genesis.hash(), 4))
    };
    let r2 = rec.clone();
    let loaded = std::thread::spawn(move || {
        let mut s = rt.block_on(SqliteSafety::open(&p, rt.clone())).unwrap();
        assert_eq!(s.load().unwrap(), None);
        s.save(&r2).unwrap();
        let mut again = rt.block_on(SqliteSafety::open(&p, rt.clone())).unwrap();
        again.load().unwrap()
    });
    let loaded = tokio::task::spawn_blocking(move || loaded.join().unwrap())
        .await
        .unwrap();
    assert_eq!(loaded, Some(rec));
}

/// Every committed transaction's status by id: found at its (height, index) wherever its
/// index row is (merged or held); an id never committed, even one sharing the 8-byte prefix
/// the merged index keeps, is not found.
async fn assert_ids_found(reader: &ledger_node::node::store::Reader, items: &[CommittedItem]) {
    let mut want = std::collections::HashMap::new();
    for it in items {
        for (k, t) in it.block.payload().iter().enumerate() {
            want.insert(
                ledger_node::merkle::leaf_hash(t),
                (it.block.height(), u32::try_from(k).unwrap()),
            );
        }
    }
    let ids: Vec<[u8; 32]> = want.keys().copied().collect();
    let found = reader.tx_statuses(&ids).await.unwrap();
    assert_eq!(found.len(), want.len(), "every committed id is found");
    for (id, (height, index)) in &want {
        assert_eq!((found[id].height, found[id].index), (Some(*height), Some(*index)));
        assert_eq!(reader.tx_location(id).await.unwrap(), Some((*height, *index)));
    }
    let mut lookalike = ids[0];
    lookalike[31] ^= 1;
    assert_eq!(reader.tx_status(&lookalike).await.unwrap(), None);
    assert_eq!(reader.tx_status(&[0xee; 32]).await.unwrap(), None);
}

/// The indexes by account and by id are held in memory and merged into SQLite in batches: an
/// account's history and a transaction's status read the same whether their rows are merged,
/// held, or half of each, after a reopen (rows held in memory are rebuilt from the stored
/// blocks), and after the upgrade from a database whose by-id index was the `txs` table's own.
#[tokio::test]
async fn account_history_reads_alike_merged_held_and_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.sqlite");
    let (c, genesis, mut ledger) = new_chain();
    let mut store = Store::open(&path).await.unwrap();
    store.set_index_merge(20, 7);
    let dcep = AssetCode::new("DCEP").unwrap();
    let accounts: Vec<_> = (1..=3).map(|i| account_of(&key(i))).collect();
    let setup = create_and_issue(&dcep, &[(accounts[0], 1_000_000), (accounts[1], 1_000_000)]);
    // After the setup block, accounts 1 and 2 pay around the ring 1 -> 2 -> 3, one transfer
    // each per block.
    let mut blocks = vec![setup];
    blocks.extend((1..12u64).map(|n| {
        (0..2usize)
            .map(|k| {
                let op = Op::Transfer {
                    asset: dcep.clone(),
                    to: accounts[k + 1],
                    amount: n,
                };
                tx(u8::try_from(k + 1).unwrap(), n, op)
            })
            .collect()
    }));
    let items = commit_blocks(&mut ledger, &c, &genesis, blocks);
    // What each account's history must be, newest first: the ids of the transactions it signed
    // or received.
    let history = |acct| -> Vec<String> {
        let mut ids: Vec<String> = items
            .iter()
            .flat_map(|it| it.block.payload().iter())
            .filter(|t| {
                let t = ledger_node::state::Transaction::decode(t).unwrap();
                t.body.signer == acct || t.body.op.counterparty() == Some(acct)
            })
            .map(|t| hex::encode(ledger_node::merkle::leaf_hash(t)))
            .collect();
        ids.reverse();
        ids
    };
    let read = |reader: ledger_node::node::store::Reader, acct| async move {
        let all: Vec<String> = reader
            .account_txs(&acct, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id.to_hex())
            .collect();
        let first3: Vec<String> = reader
            .account_txs(&acct, 3)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id.to_hex())
            .collect();
        assert_eq!(first3[..], all[..3.min(all.len())], "a limit keeps the newest");
        all
    };
    // One block per write (6 rows each after the first), a merge once 20 are held, 7 rows
    // merged per write: merges complete, and at the end one is in progress beside held rows.
    for block in items.chunks(1) {
        store.write(block).await.unwrap();
    }
    let mut db = open_db(&path).await;
    let merged: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM account_txs")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert!(merged > 0, "some rows were merged into SQLite");
    let merged_ids: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tx_ids")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert!(merged_ids > 0, "some id rows were merged into SQLite");
    for acct in &accounts {
        assert_eq!(read(store.reader(), *acct).await, history(*acct));
    }
    assert_ids_found(&store.reader(), &items).await;
    // Rows still held in memory when the store closes come back from the stored blocks.
    drop(store);
    let reopened = Store::open(&path).await.unwrap();
    for acct in &accounts {
        assert_eq!(read(reopened.reader(), *acct).await, history(*acct));
    }
    assert_ids_found(&reopened.reader(), &items).await;
    assert_eq!(history(accounts[2]).len(), 11);
    // Back to the schema before migration 3 (the id index on `txs`, no `tx_ids`, by-account
    // rows merged whole): the upgrade fills `tx_ids` up to the merged by-account rows and the
    // rest is held again.
    drop(reopened);
    let through: i64 = sqlx::query_scalar("SELECT height FROM merged_index")
        .fetch_one(&mut db)
        .await
        .unwrap();
    let merged_ids: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM txs WHERE height <= ?")
        .bind(through)
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert!(merged_ids > 0);
    sqlx::raw_sql(
        "DELETE FROM account_txs WHERE height > (SELECT height FROM merged_index); \
         DROP TABLE tx_ids; DROP TABLE merged_index; CREATE INDEX txs_by_id ON txs (id); \
         DELETE FROM _sqlx_migrations WHERE version = 3;",
    )
    .execute(&mut db)
    .await
    .unwrap();
    let upgraded = Store::open(&path).await.unwrap();
    let refilled: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tx_ids")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(refilled, merged_ids);
    assert_ids_found(&upgraded.reader(), &items).await;
    for acct in &accounts {
        assert_eq!(read(upgraded.reader(), *acct).await, history(*acct));
    }
}

/// The did:cypher registry: every version's document and each DID's record come back after a
/// reopen (the state a restarted node resumes from), and admission reads the records it needs.
#[tokio::test]
async fn did_versions_and_records_reload_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.sqlite");
    let (c, genesis, mut ledger) = new_chain();
    let subject = did::cypher::did_cypher(&key(1).verifying_key(), 0);
    let doc = |k: u8| ledger_node::api::did::document_for_key(&subject, &key(k).verifying_key());
    let update = |version, k: u8| Op::DidUpdate {
        did: subject.to_string(),
        version,
        document: doc(k).to_json(),
    };
    let blocks = vec![
        vec![tx(
            1,
            1,
            Op::DidCreate {
                nonce: 0,
                document: doc(1).to_json(),
            },
        )],
        // Rotation and deactivation in one block: both versions are kept.
        vec![
            tx(1, 2, update(1, 2)),
            tx(
                2,
                1,
                Op::DidDeactivate {
                    did: subject.to_string(),
                    version: 2,
                },
            ),
        ],
    ];
    let items = commit_blocks(&mut ledger, &c, &genesis, blocks);
    assert!(
        items
            .iter()
            .all(|it| it.exec.outcome.receipts.iter().all(|r| r.outcome.is_ok()))
    );
    let mut store = Store::open(&path).await.unwrap();
    for it in &items {
        store.write(std::slice::from_ref(it)).await.unwrap();
    }
    drop(store);
    let mut store = Store::open(&path).await.unwrap();
    let loaded = store.load(&CHAIN).await.unwrap();
    assert_eq!(loaded.state.dids, ledger.state().dids);
    assert!(loaded.state.dids[subject.as_str()].deactivated);
    let history = store
        .reader()
        .did_history(subject.as_str())
        .await
        .unwrap()
        .unwrap();
    let versions: Vec<_> = history
        .versions
        .iter()
        .map(|v| (v.version, v.document.clone()))
        .collect();
    assert_eq!(
        versions,
        [
            (1, Some(doc(1).to_json())),
            (2, Some(doc(2).to_json())),
            (3, None)
        ]
    );
    assert_eq!(
        store.reader().did_history("did:cypher:nothing").await.unwrap(),
        None
    );
    let next = Transaction::decode(&tx(2, 2, update(3, 2))).unwrap();
    let seen = store.reader().admission_state(&[&next]).await.unwrap();
    assert_eq!(seen.dids, ledger.state().dids);
}
