//! Admission and rate limits over real HTTP, against a committee of four validators running in
//! this process (security review, issue 19): transfers signed by brand-new unfunded keys are
//! refused with 422 and never reach a block; so are a used nonce and one too far ahead; a burst
//! above the per-account limit gets 429 with `Retry-After`; what needs no funds (a payee
//! without an account fulfilling its escrow) still goes through; the state shows only what was
//! admitted. Every wait is a submission that waits until final; nothing sleeps.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use htlc::{Condition, Fulfillment};
use ledger_node::api::{ChainClient, ClientError, ProblemCode, Signer, TxState, TxStatus};
use ledger_node::crypto::sha256;
use ledger_node::node::AdmissionLimits;
use ledger_node::node::local::start_local_committee_with;
use ledger_node::state::{AssetCode, EscrowId, FailCode, Op, Transaction, TxId};

const PATIENCE: Duration = Duration::from_secs(60);
const DAY_MS: u64 = 24 * 3_600_000;

fn key(name: &str) -> SigningKey {
    SigningKey::from_bytes(&sha256(&[b"admission test account", name.as_bytes()]))
}

fn id_of(tx: &[u8]) -> [u8; 32] {
    Transaction::decode(tx).unwrap().id
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .try_into()
        .unwrap()
}

async fn final_status(c: &ChainClient, tx: &[u8]) -> TxStatus {
    tokio::time::timeout(PATIENCE, c.submit_and_wait(tx, PATIENCE))
        .await
        .expect("in time")
        .expect("admitted")
}

/// The problem code of a single submission that must be refused with `status`.
async fn refused(c: &ChainClient, tx: &[u8], status: u16) -> ProblemCode {
    match c.submit_and_wait(tx, PATIENCE).await {
        Err(ClientError::Problem { status: s, code, .. }) if s == status => code,
        other => panic!("expected a {status} refusal, got {other:?}"),
    }
}

/// `chain_tx_refused_total{reason="<reason>"}` of one scrape.
fn refused_metric(metrics: &str, reason: &str) -> u64 {
    let prefix = format!("chain_tx_refused_total{{reason=\"{reason}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix)?.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_is_refused_before_the_mempool_and_bursts_are_rate_limited() {
    let tmp = tempfile::tempdir().unwrap();
    let seeds: Vec<[u8; 32]> = (0..4u8)
        .map(|i| sha256(&[b"admission test validator", &[i]]))
        .collect();
    // Three transactions at once per account, then (practically) nothing: one token in 1000 s.
    let limits = AdmissionLimits {
        account_tx_per_s: 0.001,
        account_burst: 3,
        ..AdmissionLimits::default()
    };
    let committee =
        start_local_committee_with(tmp.path(), &seeds, Arc::new(htlc::OffsetClock::new()), &limits)
            .await
            .expect("committee starts");
    let url = committee.api_url(0);
    let c = committee.client(0).unwrap();
    let chain_id = c.chain_id().await.unwrap();
    let dcep = AssetCode::new("DCEP").unwrap();
    let mut bank = Signer::new(key("central bank"), chain_id, 0);
    let mut a = Signer::new(key("bank a"), chain_id, 0);
    let mut b = Signer::new(key("bank b"), chain_id, 0);
    let payee = Signer::new(key("payee without an account"), chain_id, 0);
    let mut admitted: Vec<[u8; 32]> = Vec::new();
    let mut refused_ids: Vec<[u8; 32]> = Vec::new();

    // A new central bank creates its asset and issues it in one batch: the issues are judged
    // after the creation they depend on.
    let setup = vec![
        bank.sign(Op::CreateAsset {
            code: dcep.clone(),
            scale: 2,
        }),
        bank.sign(Op::Issue {
            asset: dcep.clone(),
            to: a.account(),
            amount: 100_000,
        }),
        bank.sign(Op::Issue {
            asset: dcep.clone(),
            to: b.account(),
            amount: 100_000,
        }),
    ];
    for item in c.submit_batch(&setup, Some(PATIENCE)).await.unwrap() {
        assert_eq!(item.expect("admitted").status, TxState::Final);
    }
    admitted.extend(setup.iter().map(|t| id_of(t)));

    // Finding A: fifty transfers signed by brand-new, unfunded keys.
    let junk: Vec<Vec<u8>> = (0..50u32)
        .map(|i| {
            let mut s = Signer::new(key(&format!("junk {i}")), chain_id, 0);
            s.sign(Op::Transfer {
                asset: dcep.clone(),
                to: a.account(),
                amount: 1,
            })
        })
        .collect();
    let answers = c.submit_batch(&junk[1..], Some(PATIENCE)).await.unwrap();
    for answer in answers {
        assert_eq!(answer.expect_err("refused").0, ProblemCode::UnknownSigner);
    }
    assert_eq!(refused(&c, &junk[0], 422).await, ProblemCode::UnknownSigner);
    refused_ids.extend(junk.iter().map(|t| id_of(t)));

    // A payee that has never held or signed anything fulfils the escrow paying it.
    let preimage = Fulfillment::from_bytes([9; 32]);
    let reference = [1u8; 16];
    let create = a.sign(Op::EscrowCreate {
        reference,
        asset: dcep.clone(),
        payee: payee.account(),
        amount: 2_500,
        condition: preimage.condition(),
        expires_at_ms: now_ms() + 3_600_000,
        memo: vec![],
    });
    assert_eq!(final_status(&c, &create).await.status, TxState::Final);
    let mut payee = payee;
    let fulfil = payee.sign(Op::EscrowFulfill {
        escrow: EscrowId::derive(&a.account(), &reference),
        fulfillment: preimage,
    });
    assert_eq!(final_status(&c, &fulfil).await.status, TxState::Final);
    assert_eq!(c.balance(&payee.account(), &dcep).await.unwrap(), 2_500);
    admitted.extend([id_of(&create), id_of(&fulfil)]);

    // Finding B, in the state machine: an escrow held longer than the genesis allows (7 days
    // by default) fails in its block, and consumes its nonce like any failed transaction.
    let too_long = a.sign(Op::EscrowCreate {
        reference: [2; 16],
        asset: dcep.clone(),
        payee: b.account(),
        amount: 1,
        condition: Condition::from_bytes([0; 32]),
        expires_at_ms: now_ms() + 8 * DAY_MS,
        memo: vec![],
    });
    let s = final_status(&c, &too_long).await;
    assert_eq!(
        (s.status, s.reason),
        (TxState::Failed, Some(FailCode::ExpiryTooFar))
    );
    admitted.push(id_of(&too_long));

    // A used nonce, and one more than 1,024 above the highest used, are refused; submitting a
    // committed transaction again still answers its status.
    let before_a = c.account(&a.account()).await.unwrap();
    let stale = a.sign_with_nonce(
        1,
        Op::Transfer {
            asset: dcep.clone(),
            to: b.account(),
            amount: 1,
        },
    );
    assert_eq!(
        refused(&c, &stale, 422).await,
        ProblemCode::Rule(FailCode::NonceReused)
    );
    let far = a.sign_with_nonce(
        before_a.nonce + 1_025,
        Op::Transfer {
            asset: dcep.clone(),
            to: b.account(),
            amount: 1,
        },
    );
    assert_eq!(
        refused(&c, &far, 422).await,
        ProblemCode::Rule(FailCode::NonceTooFarAhead)
    );
    refused_ids.extend([id_of(&stale), id_of(&far)]);
    assert_eq!(final_status(&c, &create).await.status, TxState::Final);

    // B sends four at once with a burst of three: the fourth is refused, with a Retry-After.
    let burst: Vec<Vec<u8>> = (0..4)
        .map(|_| {
            b.sign(Op::Transfer {
                asset: dcep.clone(),
                to: a.account(),
                amount: 10,
            })
        })
        .collect();
    let http = committee.http_client().unwrap();
    let body = serde_json::json!({ "txs": burst.iter().map(hex::encode).collect::<Vec<_>>() });
    let resp = http
        .post(format!("{url}/v1/transactions/batch?wait=true&timeout_ms=60000"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1, "{retry}");
    let items: Vec<serde_json::Value> = resp.json().await.unwrap();
    for item in &items[..3] {
        assert_eq!(item["status"]["status"], "final", "{item}");
    }
    assert_eq!(items[3]["error"]["code"], "rate_limited");
    assert_eq!(items[3]["error"]["status"], 429);
    admitted.extend(burst[..3].iter().map(|t| id_of(t)));
    // Alone it is refused again, now with a 429 of its own.
    let resp = http
        .post(format!("{url}/v1/transactions"))
        .json(&serde_json::json!({ "tx": hex::encode(&burst[3]) }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=1_000).contains(&retry), "{retry}");
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let problem: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(problem["code"], "rate_limited");
    refused_ids.push(id_of(&burst[3]));
    // The limit is per account: A is not throttled by B's burst.
    let a_pays = a.sign(Op::Transfer {
        asset: dcep.clone(),
        to: b.account(),
        amount: 7,
    });
    assert_eq!(final_status(&c, &a_pays).await.status, TxState::Final);
    admitted.push(id_of(&a_pays));

    // Nothing refused changed the state: the junk keys have no account, A's nonce moved only
    // by its admitted transaction, B paid only the three admitted transfers.
    for t in &junk {
        let signer = Transaction::decode(t).unwrap().body.signer;
        let view = c.account(&signer).await.unwrap();
        assert_eq!((view.nonce, view.balances.len()), (0, 0));
    }
    assert_eq!(c.account(&a.account()).await.unwrap().nonce, before_a.nonce + 1);
    assert_eq!(c.balance(&b.account(), &dcep).await.unwrap(), 100_000 - 30 + 7);
    // No refused transaction is known to the node, and none is in any block: the blocks hold
    // exactly the admitted ones.
    for id in &refused_ids {
        assert!(
            c.tx(&TxId(*id)).await.unwrap().is_none(),
            "a refused transaction is known"
        );
    }
    let height = c.status().await.unwrap().committed_height;
    let mut in_blocks: HashSet<TxId> = HashSet::new();
    for h in 1..=height {
        in_blocks.extend(c.block(h).await.unwrap().expect("committed").tx_ids);
    }
    let admitted: HashSet<TxId> = admitted.iter().copied().map(TxId).collect();
    assert_eq!(in_blocks, admitted);
    // Each refusal is counted.
    let metrics = http
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(refused_metric(&metrics, "unknown_signer"), 50);
    assert_eq!(refused_metric(&metrics, "nonce_reused"), 1);
    assert_eq!(refused_metric(&metrics, "nonce_too_far_ahead"), 1);
    assert_eq!(refused_metric(&metrics, "rate_limited"), 2);
}
