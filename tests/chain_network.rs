//! The committee chain as four `cypherlink node` processes on 127.0.0.1: a central bank creates
//! and issues DC/EP, banks transfer and escrow it; forged, replayed, overdrawn, wrongly
//! fulfilled and early-refunded transactions each fail with their reason; the leader of the
//! moment is killed with SIGKILL and the chain goes on; the killed validator is restarted,
//! catches up from its peers and ends with the same blocks and state root as the others.
//!
//! Every wait is on something the API answers: a submission that waits until final, or the
//! event feed's long poll. Nothing sleeps to let time pass, and nothing asserts on timing.

use std::time::Duration;

use htlc::{Condition, EscrowStatus, Fulfillment};
use ledger_node::api::{ChainClient, ClientError, FeedKind, ProblemCode, Signer, TxState, TxStatus};
use ledger_node::state::{AssetCode, EscrowId, FailCode, Op, account_of};

mod common;
use common::committee::{LocalCommittee, N, account_key as key, leader};

/// Far above what any step needs; only so that a bug fails the test instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(90);

/// The values of the unlabelled metrics `names` from one scrape of node `i`'s `/metrics`.
async fn metrics(net: &LocalCommittee, i: usize, names: [&str; 2]) -> [u64; 2] {
    let url = format!("{}/metrics", net.client(i).base_url());
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
    names.map(|name| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing from node {i}'s metrics"))
    })
}

async fn final_ok(c: &ChainClient, tx: &[u8]) -> TxStatus {
    let s = tokio::time::timeout(PATIENCE, c.submit_and_wait(tx, PATIENCE))
        .await
        .expect("in time")
        .expect("submitted");
    assert_eq!(s.status, TxState::Final, "transaction failed: {s:?}");
    s
}

/// The finality proof of a final transaction, asking again while the node answers 409
/// `not_final_yet` (its evidence is written with the block's commit, an instant later).
async fn final_proof(c: &ChainClient, id: &ledger_node::state::TxId) -> ledger_node::proof::InclusionProof {
    for _ in 0..100 {
        match c.proof(id).await {
            Ok(Some(p)) => return p,
            Err(ClientError::Problem { status: 409, .. }) => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            other => panic!("no proof: {other:?}"),
        }
    }
    panic!("the proof never became available")
}

/// Runs `cypherlink verify-certificate` on `cert` written to a file: (success, stdout+stderr).
fn verify_certificate(
    dir: &std::path::Path,
    name: &str,
    cert: &ledger_node::proof::InclusionProof,
) -> (bool, String) {
    let file = dir.join(format!("{name}-certificate.json"));
    std::fs::write(&file, serde_json::to_string(cert).unwrap()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cypherlink"))
        .arg("verify-certificate")
        .arg(&file)
        .arg("--genesis")
        .arg(dir.join("genesis.toml"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

async fn final_failed(c: &ChainClient, tx: &[u8], reason: FailCode) {
    let s = tokio::time::timeout(PATIENCE, c.submit_and_wait(tx, PATIENCE))
        .await
        .expect("in time")
        .expect("submitted");
    assert_eq!(s.status, TxState::Failed, "expected {reason}, got {s:?}");
    assert_eq!(s.reason, Some(reason), "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_commit_survive_a_killed_leader_and_catch_up() {
    let tmp = tempfile::tempdir().unwrap();
    let mut net = LocalCommittee::start(tmp.path(), 400).await;
    let c0 = net.client(0);
    let chain_id = c0.chain_id().await.unwrap();
    let dcep = AssetCode::new("DC/EP").unwrap();
    let mut pboc = Signer::new(key("central bank"), chain_id, 0);
    let mut bank_a = Signer::new(key("bank a"), chain_id, 0);
    let mut bank_b = Signer::new(key("bank b"), chain_id, 0);

    // The central bank creates DC/EP and issues 10,000.00 to bank A.
    final_ok(
        &c0,
        &pboc.sign(Op::CreateAsset {
            code: dcep.clone(),
            scale: 2,
        }),
    )
    .await;
    final_ok(
        &c0,
        &pboc.sign(Op::Issue {
            asset: dcep.clone(),
            to: bank_a.account(),
            amount: 1_000_000,
        }),
    )
    .await;
    // A transfer, submitted to another validator.
    let c1 = net.client(1);
    let transfer = bank_a.sign(Op::Transfer {
        asset: dcep.clone(),
        to: bank_b.account(),
        amount: 10_000,
    });
    let committed = final_ok(&c1, &transfer).await;
    assert_eq!(c1.balance(&bank_b.account(), &dcep).await.unwrap(), 10_000);
    // Submitting is idempotent: in a batch, the committed transfer answers its final status
    // at once (found in one lookup with the others), a forged one is refused, and the new one
    // becomes final; the transfer is not applied twice.
    let mut forged_in_batch = bank_a.sign_with_nonce(
        bank_a.next_nonce(),
        Op::Transfer {
            asset: dcep.clone(),
            to: bank_b.account(),
            amount: 1,
        },
    );
    let last = forged_in_batch.len() - 1;
    forged_in_batch[last] ^= 1;
    let fresh = bank_a.sign(Op::Transfer {
        asset: dcep.clone(),
        to: bank_b.account(),
        amount: 5,
    });
    let answers = c1
        .submit_batch(&[transfer, forged_in_batch, fresh], Some(PATIENCE))
        .await
        .expect("batch answered");
    assert_eq!(answers[0].as_ref().expect("known"), &committed);
    assert_eq!(
        answers[1].as_ref().expect_err("forged").0,
        ProblemCode::Rule(FailCode::BadSignature)
    );
    assert_eq!(answers[2].as_ref().expect("fresh").status, TxState::Final);
    assert_eq!(c1.balance(&bank_b.account(), &dcep).await.unwrap(), 10_005);

    // An escrow from A to B, fulfilled by B with the preimage; the feed shows both steps.
    let after = c0.events(0, 1000, Duration::ZERO).await.unwrap().next;
    let preimage = Fulfillment::from_bytes([7; 32]);
    let reference = [1u8; 16];
    let created = final_ok(
        &c0,
        &bank_a.sign(Op::EscrowCreate {
            reference,
            asset: dcep.clone(),
            payee: bank_b.account(),
            amount: 200_000,
            condition: preimage.condition(),
            expires_at_ms: now_ms() + 3_600_000,
            memo: b"ILP Prepare".to_vec(),
        }),
    )
    .await;
    let escrow = EscrowId::derive(&bank_a.account(), &reference);
    let c2 = net.client(2);
    final_ok(
        &c2,
        &bank_b.sign(Op::EscrowFulfill {
            escrow,
            fulfillment: preimage,
        }),
    )
    .await;
    // Cursors are the same on every node; node 2 has stored both (the fulfil is final there).
    let page = c2.events(after, 10, PATIENCE).await.unwrap();
    let kinds: Vec<FeedKind> = page.events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [FeedKind::EscrowCreated, FeedKind::EscrowFulfilled]);
    assert_eq!(page.events[0].tx_id, created.id);
    let fulfilled = page.events[1].escrow.as_ref().unwrap();
    assert_eq!(fulfilled.fulfillment, Some(preimage));
    assert_eq!(c2.balance(&bank_b.account(), &dcep).await.unwrap(), 210_005);
    let proof = final_proof(&c0, &created.id).await;
    let genesis = ledger_node::node::GenesisFile::load(&net.dir.join("genesis.toml")).unwrap();
    let proven = proof.verify(&genesis).expect("the finality proof holds offline");
    assert!(proven.final_height > proven.height && proven.final_by_ms > proven.included_at_ms);
    let (ok, out) = verify_certificate(&net.dir, "escrow", &proof);
    assert!(
        ok && out.starts_with("ok tx=") && out.contains("kind=escrow_create"),
        "{out}"
    );
    // An anchor certificate: three digests under one root, the second one proven, checked by
    // the CLI with nothing but the genesis; altered, it fails.
    let digests: Vec<[u8; 32]> = (0..3u8).map(|i| [i; 32]).collect();
    let anchored = final_ok(
        &c0,
        &bank_a.sign(Op::Anchor {
            namespace: "e2e".into(),
            root: ledger_node::merkle::root(&digests),
            items: 3,
            sequence: 1,
            previous: [0; 32],
        }),
    )
    .await;
    let cert = final_proof(&c0, &anchored.id)
        .await
        .with_item(&digests[1], &ledger_node::merkle::path(&digests, 1).unwrap());
    let (ok, out) = verify_certificate(&net.dir, "anchor", &cert);
    assert!(ok, "{out}");
    assert!(
        out.starts_with(&format!(
            "ok item={} namespace=e2e batch=1 time=20",
            hex::encode(digests[1])
        )),
        "{out}"
    );
    let mut altered = cert.clone();
    altered.item.as_mut().unwrap().item = hex::encode(digests[2]);
    let (ok, out) = verify_certificate(&net.dir, "altered", &altered);
    assert!(!ok && out.contains("item.path"), "{out}");

    // Each rule violation fails with its reason and moves nothing.
    let before = c0.account(&bank_a.account()).await.unwrap();
    let forged = ledger_node::state::TxBody {
        chain_id,
        signer: bank_a.account(),
        nonce: bank_a.next_nonce(),
        op: Op::Transfer {
            asset: dcep.clone(),
            to: account_of(&key("thief")),
            amount: 1,
        },
    }
    .sign(&key("thief"));
    match c0.submit(&forged).await {
        Err(ClientError::Problem {
            status: 422, code, ..
        }) => assert_eq!(code, ProblemCode::Rule(FailCode::BadSignature)),
        other => panic!("a forged transaction must be refused, got {other:?}"),
    }
    let replay = bank_a.sign_with_nonce(
        1,
        Op::Transfer {
            asset: dcep.clone(),
            to: bank_b.account(),
            amount: 5,
        },
    );
    // A used nonce can never succeed: the node refuses it before its mempool.
    match c0.submit(&replay).await {
        Err(ClientError::Problem {
            status: 422, code, ..
        }) => assert_eq!(code, ProblemCode::Rule(FailCode::NonceReused)),
        other => panic!("a replayed nonce must be refused, got {other:?}"),
    }
    let overdraft = bank_a.sign(Op::Transfer {
        asset: dcep.clone(),
        to: bank_b.account(),
        amount: 1_000_000,
    });
    final_failed(&c0, &overdraft, FailCode::InsufficientFunds).await;
    let reference2 = [2u8; 16];
    final_ok(
        &c0,
        &bank_a.sign(Op::EscrowCreate {
            reference: reference2,
            asset: dcep.clone(),
            payee: bank_b.account(),
            amount: 1_000,
            condition: Fulfillment::from_bytes([9; 32]).condition(),
            expires_at_ms: now_ms() + 3_600_000,
            memo: vec![],
        }),
    )
    .await;
    let escrow2 = EscrowId::derive(&bank_a.account(), &reference2);
    final_failed(
        &c1,
        &bank_b.sign(Op::EscrowFulfill {
            escrow: escrow2,
            fulfillment: Fulfillment::from_bytes([8; 32]),
        }),
        FailCode::WrongFulfillment,
    )
    .await;
    final_failed(
        &c1,
        &pboc.sign(Op::EscrowRefund { escrow: escrow2 }),
        FailCode::NotYetExpired,
    )
    .await;
    let after_failures = c0.account(&bank_a.account()).await.unwrap();
    assert_eq!(
        after_failures.balances,
        vec![ledger_node::api::AssetBalance {
            asset: dcep.clone(),
            amount: before.balances[0].amount - 1_000,
            held: 1_000,
        }],
        "the open escrow holds its amount"
    );
    assert_eq!(
        c0.escrow(&escrow2).await.unwrap().unwrap().status,
        EscrowStatus::Prepared
    );

    // Every certificate costs a validator at most one pairing check: the copy the next leader
    // announces is checked, the one in its proposal is then found among those verified.
    for i in 0..N {
        let [checks, view] = metrics(&net, i, ["chain_certificate_checks_total", "chain_view"]).await;
        assert!(
            checks > 0 && checks <= view,
            "node {i}: {checks} pairing checks in {view} views"
        );
    }

    // SIGKILL the leader of the current view; the others go on committing.
    let view = c0.status().await.unwrap().view;
    let victim = leader(view);
    net.kill(victim).await;
    let live = (0..N).find(|&i| i != victim).unwrap();
    let cl = net.client(live);
    for _ in 0..3 {
        final_ok(
            &cl,
            &bank_a.sign(Op::Transfer {
                asset: dcep.clone(),
                to: bank_b.account(),
                amount: 1,
            }),
        )
        .await;
    }
    // An escrow created while it is down: the restarted node must learn it from its peers.
    let reference3 = [3u8; 16];
    let marker = final_ok(
        &cl,
        &bank_a.sign(Op::EscrowCreate {
            reference: reference3,
            asset: dcep.clone(),
            payee: bank_b.account(),
            amount: 77,
            condition: Condition::from_bytes([0; 32]),
            expires_at_ms: now_ms() + 3_600_000,
            memo: vec![],
        }),
    )
    .await;
    let marker_height = marker.height.unwrap();
    let cursor = cl.events(0, 1000, Duration::ZERO).await.unwrap().next;

    // Restart it: it catches up from its peers' storage and its state matches theirs.
    net.start_node(victim).await;
    let cv = net.client(victim);
    let page = cv.events(cursor - 1, 1, PATIENCE).await.unwrap();
    assert_eq!(page.events.len(), 1, "the restarted node never learnt the escrow");
    assert_eq!(page.events[0].tx_id, marker.id);
    let mut roots = Vec::new();
    for i in 0..N {
        // Await each node's copy of the marker's block through its own feed.
        let seen = net.client(i).events(cursor - 1, 1, PATIENCE).await.unwrap();
        assert_eq!(seen.events[0].tx_id, marker.id);
        let b = net.client(i).block(marker_height).await.unwrap().expect("block");
        roots.push((b.hash, b.state_root));
    }
    assert!(roots.iter().all(|r| *r == roots[0]), "nodes disagree: {roots:?}");
    assert_eq!(
        cv.account(&bank_b.account()).await.unwrap(),
        cl.account(&bank_b.account()).await.unwrap()
    );
    // And it takes part again: a transaction submitted to it becomes final.
    final_ok(
        &cv,
        &bank_b.sign(Op::Transfer {
            asset: dcep.clone(),
            to: bank_a.account(),
            amount: 1,
        }),
    )
    .await;
}

fn now_ms() -> u64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    u64::try_from(since_epoch.as_millis()).expect("now in u64 milliseconds")
}
