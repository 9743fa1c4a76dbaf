//! The standing attack suite: what an adversarial bank or an outsider tries against the running
//! network (both CBDC ledgers, the connector and Bank B's receiver, real servers on 127.0.0.1
//! over HTTPS), each attack asserting that it was refused with its specific error and that no
//! balance moved, or that exactly the acknowledged change happened. Every finding of the
//! security review (issue 19, docs/security.md) that reaches these services has a case here;
//! the chain's admission and the webhook policy have theirs in `ledger-node/tests/admission.rs`
//! and `mock-ledgers/tests/webhook_policy.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use htlc::{Clock, Fulfillment, ManualClock, Timestamp};
use plugins::{AccountId, LedgerPlugin, PluginError, PrepareTransfer, RestPlugin, TransferId};
use testnet::network::{LocalNetwork, NetworkOptions};

type Balances = BTreeMap<(String, String), (i128, u64)>;

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        Timestamp::parse_rfc3339("2026-11-21T10:00:00Z").unwrap(),
    ))
}

async fn network(clock: &Arc<ManualClock>) -> (tempfile::TempDir, LocalNetwork) {
    let dir = tempfile::tempdir().unwrap();
    let net = LocalNetwork::start(
        dir.path(),
        clock.clone() as Arc<dyn Clock>,
        NetworkOptions::default(),
    )
    .await
    .unwrap();
    (dir, net)
}

/// Every account on both ledgers: (available, held).
async fn balances(net: &LocalNetwork) -> Balances {
    net.balances()
        .await
        .unwrap()
        .into_iter()
        .map(|b| {
            (
                (b.ledger.to_string(), b.account.to_string()),
                (b.available, b.held),
            )
        })
        .collect()
}

/// Supply equals balances plus escrows on both ledgers; returns the two supplies.
async fn supplies(net: &LocalNetwork) -> [i64; 2] {
    let mut out = [0; 2];
    for (i, ledger) in ["digital-euro", "e-cny"].into_iter().enumerate() {
        let s = client(net, ledger, "clearing-bank").supply().await.unwrap();
        assert_eq!(s.total_supply, s.balances + s.escrowed, "{ledger}: {s:?}");
        out[i] = s.total_supply;
    }
    out
}

fn client(net: &LocalNetwork, ledger: &str, participant: &str) -> Arc<RestPlugin> {
    net.ledgers.client(ledger, participant).unwrap()
}

fn account(id: &str) -> AccountId {
    AccountId::new(id).unwrap()
}

fn escrow(from: &str, to: &str, amount: u64, f: &Fulfillment, expires_at: Timestamp) -> PrepareTransfer {
    PrepareTransfer {
        id: TransferId::random(),
        from: account(from),
        to: account(to),
        amount,
        condition: f.condition(),
        expires_at,
        memo: vec![],
    }
}

/// A raw request to the ledger at `base`, signed with `key_id` at the network's time.
async fn signed_request(
    net: &LocalNetwork,
    ledger: &str,
    key_id: &str,
    method: reqwest::Method,
    path: &str,
    body: Vec<u8>,
) -> (u16, serde_json::Value) {
    let running = net.ledgers.ledger(ledger).unwrap();
    let secret = running.config().keys[key_id].secret.clone();
    let stamp = net.ledgers.clock.now().unix_secs();
    let headers = plugins::auth::sign(key_id, &secret, method.as_str(), path, stamp, &body);
    let mut request = net
        .ledgers
        .https_client()
        .unwrap()
        .request(method, format!("{}{path}", running.base_url()))
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .body(body);
    for (name, value) in headers.pairs() {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(serde_json::Value::Null))
}

/// Fifty concurrent escrows of all of Bank A's funds: exactly one is taken, the others are
/// refused for insufficient funds; then fifty concurrent fulfilments of that one move it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_spends_of_the_same_funds_move_them_once() {
    let clock = clock();
    let (_dir, net) = network(&clock).await;
    let before = balances(&net).await;
    let supply = supplies(&net).await;
    let bank_a = client(&net, "digital-euro", "bank-a");
    let bank_b = client(&net, "digital-euro", "bank-b");
    let all = u64::try_from(bank_a.balance(&account("bank-a")).await.unwrap().available).unwrap();
    let f = Fulfillment::from_bytes([42; 32]);
    let expires = clock.now().checked_add_millis(60_000).unwrap();

    let attempts = (0..50).map(|_| {
        let bank_a = Arc::clone(&bank_a);
        let request = escrow("bank-a", "bank-b", all, &f, expires);
        tokio::spawn(async move { bank_a.prepare(request).await })
    });
    let results = futures::future::join_all(attempts).await;
    let taken: Vec<_> = results
        .iter()
        .filter_map(|r| r.as_ref().unwrap().as_ref().ok())
        .collect();
    assert_eq!(taken.len(), 1, "exactly one escrow of all the funds");
    for refused in results.iter().filter_map(|r| r.as_ref().unwrap().as_ref().err()) {
        assert!(
            matches!(refused, PluginError::InsufficientFunds { .. }),
            "{refused:?}"
        );
    }
    let id = taken[0].id;
    assert_eq!(bank_a.balance(&account("bank-a")).await.unwrap().held, all);

    let claims = (0..50).map(|_| {
        let bank_b = Arc::clone(&bank_b);
        tokio::spawn(async move { bank_b.fulfill(id, f).await })
    });
    for claim in futures::future::join_all(claims).await {
        assert_eq!(claim.unwrap().unwrap().status, htlc::EscrowStatus::Fulfilled);
    }
    let after = balances(&net).await;
    let key = |a: &str| ("digital-euro".to_owned(), a.to_owned());
    assert_eq!(after[&key("bank-a")], (0, 0));
    assert_eq!(
        after[&key("bank-b")].0,
        before[&key("bank-b")].0 + i128::from(all)
    );
    assert_eq!(supplies(&net).await, supply, "no money created or destroyed");
    net.stop().await;
}

/// A bank reaching for another bank's account or escrow is refused, and nothing moves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_participants_accounts_and_escrows_are_out_of_reach() {
    let clock = clock();
    let (_dir, net) = network(&clock).await;
    let bank_a = client(&net, "digital-euro", "bank-a");
    let bank_b = client(&net, "digital-euro", "bank-b");
    let f = Fulfillment::from_bytes([7; 32]);
    let expires = clock.now().checked_add_millis(60_000).unwrap();
    let held = bank_a
        .prepare(escrow("bank-a", "bank-b", 10_000, &f, expires))
        .await
        .unwrap();
    let before = balances(&net).await;

    // Bank B spends from Bank A's account: forbidden.
    let theft = bank_b.prepare(escrow("bank-a", "bank-b", 1, &f, expires)).await;
    assert!(matches!(theft, Err(PluginError::Forbidden { .. })), "{theft:?}");
    // Bank B reads Bank A's balance: forbidden.
    let peek = bank_b.balance(&account("bank-a")).await;
    assert!(matches!(peek, Err(PluginError::Forbidden { .. })), "{peek:?}");
    // The payer fulfils or rejects its own escrow to itself: only the payee may.
    let self_claim = bank_a.fulfill(held.id, f).await;
    assert!(
        matches!(self_claim, Err(PluginError::Forbidden { .. })),
        "{self_claim:?}"
    );
    // A third party that is neither payer nor payee does not even see it.
    let clearing = client(&net, "digital-euro", "clearing-bank");
    let stranger = clearing.fulfill(held.id, f).await;
    assert!(
        matches!(stranger, Err(PluginError::UnknownTransfer { .. })),
        "{stranger:?}"
    );
    // The wrong preimage, by the right payee.
    let wrong = bank_b.fulfill(held.id, Fulfillment::from_bytes([8; 32])).await;
    assert!(
        matches!(wrong, Err(PluginError::WrongCondition { .. })),
        "{wrong:?}"
    );

    assert_eq!(balances(&net).await, before, "nothing moved");
    net.stop().await;
}

/// Oversized and malformed bodies, signed correctly, get their specific errors before anything
/// is read; a replayed request is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_malformed_and_replayed_requests_change_nothing() {
    let clock = clock();
    let (_dir, net) = network(&clock).await;
    let before = balances(&net).await;
    let post = reqwest::Method::POST;

    let huge = vec![b' '; 70 * 1024];
    let (status, problem) = signed_request(
        &net,
        "digital-euro",
        "bank-a-k1",
        post.clone(),
        "/v1/transfers",
        huge,
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (413, Some("too_large")),
        "{problem}"
    );
    let (status, problem) = signed_request(
        &net,
        "digital-euro",
        "bank-a-k1",
        post.clone(),
        "/v1/transfers",
        b"{\"id\": 1".to_vec(),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("malformed")),
        "{problem}"
    );

    // The connector's API: a quote body over its limit.
    let oversized_quote = net
        .ledgers
        .https_client()
        .unwrap()
        .post(format!("{}/v1/quotes", net.connector.base_url()))
        .header("Content-Type", "application/json")
        .body(vec![b' '; 70 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(oversized_quote.status().as_u16(), 413);

    // The same signed request twice: the second is a replay.
    let running = net.ledgers.ledger("digital-euro").unwrap();
    let secret = running.config().keys["bank-a-k1"].secret.clone();
    let path = "/v1/accounts/bank-a/balance";
    let headers = plugins::auth::sign("bank-a-k1", &secret, "GET", path, clock.now().unix_secs(), b"");
    let http = net.ledgers.https_client().unwrap();
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let mut request = http.get(format!("{}{path}", running.base_url()));
        for (name, value) in headers.pairs() {
            request = request.header(name, value);
        }
        statuses.push(request.send().await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [200, 401], "a replayed nonce is refused");

    assert_eq!(balances(&net).await, before, "nothing moved");
    net.stop().await;
}

/// The review's findings that reach these services, each refused with its specific error and
/// nothing changed: issuance beyond the supply cap (1), the receiver's secret in clear (2), a
/// quote beyond the ledger-wide packet limit without a named payer (5), an escrow for years
/// (6), the clearing bank's liquidity in `/metrics` (7).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_security_findings_stay_fixed() {
    let clock = clock();
    let (_dir, net) = network(&clock).await;
    let before = balances(&net).await;
    let supply = supplies(&net).await;
    let http = net.ledgers.https_client().unwrap();

    // 1. Four issuances of 2,305,843,009,213,693,951 minor units.
    for _ in 0..4 {
        let body = serde_json::json!({"to": "bank-a", "amount": 2_305_843_009_213_693_951u64});
        let (status, problem) = signed_request(
            &net,
            "digital-euro",
            "ecb-k1",
            reqwest::Method::POST,
            "/v1/issuances",
            body.to_string().into_bytes(),
        )
        .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (422, Some("supply_cap_exceeded")),
            "{problem}"
        );
    }

    // 2. The receiver's setup endpoint does not answer in clear.
    let plain = net.ledgers.receiver_url.replace("https://", "http://");
    let answered = reqwest::Client::new().get(&plain).send().await;
    assert!(
        !answered.is_ok_and(|r| r.status().is_success()),
        "setup answered over plain HTTP"
    );

    // 5. 2,000,000.00 DC/EP quoted without naming the payer: over digital-euro's
    //    500,000.00 DE packet limit, so refused like the payment would be.
    let quote = http
        .post(format!("{}/v1/quotes", net.connector.base_url()))
        .json(&serde_json::json!({
            "source_ledger": "digital-euro",
            "destination": "test.ecny.bank-b.attack",
            "destination_amount": "200000000",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(quote.status().as_u16(), 422);
    let problem: serde_json::Value = quote.json().await.unwrap();
    assert_eq!(problem["code"], "limit_exceeded", "{problem}");

    // 6. An escrow until 9999-12-31.
    let forever = Timestamp::parse_rfc3339("9999-12-31T00:00:00Z").unwrap();
    let f = Fulfillment::from_bytes([9; 32]);
    let held = client(&net, "digital-euro", "bank-a")
        .prepare(escrow("bank-a", "bank-b", 100, &f, forever))
        .await;
    assert!(matches!(held, Err(PluginError::ExpiryTooFar { .. })), "{held:?}");

    // 7. The connector's metrics without the operator token.
    let metrics = http
        .get(format!("{}/metrics", net.connector.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status().as_u16(), 401);

    assert_eq!(balances(&net).await, before, "nothing moved");
    assert_eq!(supplies(&net).await, supply, "the supply is as it was");
    net.stop().await;
}
