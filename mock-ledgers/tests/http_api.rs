//! The REST plugin API as a bank's engineers would probe it: signatures, idempotency,
//! problem+json errors, statements, lookup, feeds, webhooks, metrics, and restarts.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use futures::StreamExt;
use htlc::{Clock, EscrowStatus, Fulfillment, Timestamp};
use mock_ledgers::config::fixtures;
use plugins::api::{NameMatch, PaymentRequest};
use plugins::auth;
use plugins::{AccountId, EventCursor, EventKind, LedgerPlugin, PrepareTransfer, TransferId};
use serde_json::json;

use common::Ledger;

fn account(id: &str) -> AccountId {
    AccountId::new(id).unwrap()
}

fn prepare_body(ledger: &Ledger, id: TransferId, amount: u64, f: &Fulfillment) -> Vec<u8> {
    let request = PrepareTransfer {
        id,
        from: account("bank-a"),
        to: account("clearing-bank"),
        amount,
        condition: f.condition(),
        expires_at: ledger.clock.now().checked_add_millis(60_000).unwrap(),
        memo: vec![1, 2, 3],
    };
    serde_json::to_vec(&request).unwrap()
}

async fn held(ledger: &Ledger) -> u64 {
    ledger
        .plugin("bank-a-k1")
        .await
        .balance(&account("bank-a"))
        .await
        .unwrap()
        .held
}

#[tokio::test]
async fn unsigned_stale_forged_and_replayed_requests_get_401_and_change_nothing() {
    let l = Ledger::start(fixtures::BANK).await;
    let f = Fulfillment::from_bytes([7; 32]);

    let (status, content_type, body) = l.send_signed(&[], "GET", "/v1/info", b"", &[]).await;
    assert_eq!(
        (status, content_type.as_str(), body["code"].as_str()),
        (401, "application/problem+json", Some("unauthorized"))
    );
    // Authentication comes before the path: an unsigned request is a 401 whatever id it names.
    for (method, path) in [
        ("GET", "/v1/transfers/not-a-uuid"),
        ("POST", "/v1/transfers/not-a-uuid/fulfill"),
        ("POST", "/v1/transfers/not-a-uuid/reject"),
        ("GET", "/v1/accounts/%20/balance"),
    ] {
        let (status, _, body) = l.send_signed(&[], method, path, b"", &[]).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("unauthorized")),
            "{method} {path}"
        );
    }

    // Signed 31 s in the past: outside the ±30 s window.
    let id = TransferId::random();
    let body = prepare_body(&l, id, 100, &f);
    let headers = l.signature("bank-a-k1", "POST", "/v1/transfers", &body, 31);
    let (status, _, problem) = l
        .send_signed(
            &headers,
            "POST",
            "/v1/transfers",
            &body,
            &[("Idempotency-Key", "k-stale")],
        )
        .await;
    assert_eq!(status, 401, "{problem}");
    assert_eq!(held(&l).await, 0);

    // A body changed after signing.
    let headers = l.signature("bank-a-k1", "POST", "/v1/transfers", &body, 0);
    let forged = prepare_body(&l, id, 999_999, &f);
    let (status, _, _) = l
        .send_signed(
            &headers,
            "POST",
            "/v1/transfers",
            &forged,
            &[("Idempotency-Key", "k1")],
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(held(&l).await, 0);

    // The genuine request once, then replayed byte for byte.
    let (status, _, _) = l
        .send_signed(
            &headers,
            "POST",
            "/v1/transfers",
            &body,
            &[("Idempotency-Key", "k1")],
        )
        .await;
    assert_eq!(status, 201);
    let (status, _, problem) = l
        .send_signed(
            &headers,
            "POST",
            "/v1/transfers",
            &body,
            &[("Idempotency-Key", "k1")],
        )
        .await;
    assert_eq!(status, 401, "replayed nonce: {problem}");
    assert!(problem["detail"].as_str().unwrap().contains("nonce"));
    assert_eq!(held(&l).await, 100, "locked once");

    // Unknown key; and key rotation: the clearing bank's second key works.
    let unknown = auth::sign(
        "no-such-key",
        b"some-secret-0123456789",
        "GET",
        "/v1/info",
        l.clock.now().unix_millis() / 1000,
        b"",
    );
    let (status, _, _) = l
        .send_signed(
            &unknown.pairs().map(|(n, v)| (n.to_owned(), v)),
            "GET",
            "/v1/info",
            b"",
            &[],
        )
        .await;
    assert_eq!(status, 401);
    let (status, _, _) = l
        .send(
            "clearing-bank-k2",
            "GET",
            "/v1/accounts/clearing-bank/balance",
            b"",
            &[],
        )
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn idempotency_key_repeats_the_first_answer_and_refuses_a_changed_body() {
    let l = Ledger::start(fixtures::BANK).await;
    let pay = |amount: u64| {
        serde_json::to_vec(&PaymentRequest {
            from: account("alice"),
            to: account("bob"),
            amount,
            reference: Some("invoice 42".into()),
        })
        .unwrap()
    };
    let key = [("Idempotency-Key", "pay-42")];
    let (s1, _, first) = l
        .send("bank-a-k1", "POST", "/v1/payments", &pay(1_000), &key)
        .await;
    let (s2, _, second) = l
        .send("bank-a-k1", "POST", "/v1/payments", &pay(1_000), &key)
        .await;
    assert_eq!((s1, s2), (201, 201));
    assert_eq!(first, second, "the stored first answer, same payment id");
    let alice = l
        .plugin("bank-a-k1")
        .await
        .balance(&account("alice"))
        .await
        .unwrap();
    assert_eq!(alice.available, 250_000 - 1_000, "paid once");

    let (status, content_type, problem) = l
        .send("bank-a-k1", "POST", "/v1/payments", &pay(2_000), &key)
        .await;
    assert_eq!((status, content_type.as_str()), (422, "application/problem+json"));
    assert_eq!(problem["code"], "duplicate");

    let (status, _, problem) = l.send("bank-a-k1", "POST", "/v1/payments", &pay(1), &[]).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("malformed")),
        "POST without a key"
    );

    // A refusal is a first answer too: repeated, even once funds would suffice.
    let big = [("Idempotency-Key", "pay-big")];
    let (status, _, problem) = l
        .send("bank-a-k1", "POST", "/v1/payments", &pay(1_000_000), &big)
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("insufficient_funds"))
    );
    assert_eq!(problem["needed"], 1_000_000);
    let (status, _, again) = l
        .send("bank-a-k1", "POST", "/v1/payments", &pay(1_000_000), &big)
        .await;
    assert_eq!((status, &again), (422, &problem));
}

#[tokio::test]
async fn errors_are_problem_json_with_stable_codes() {
    let l = Ledger::start(fixtures::BANK).await;
    let (status, ct, p) = l
        .send("bank-a-k1", "GET", "/v1/accounts/nobody/balance", b"", &[])
        .await;
    assert_eq!(
        (status, ct.as_str(), p["code"].as_str(), p["account"].as_str()),
        (
            404,
            "application/problem+json",
            Some("unknown_account"),
            Some("nobody")
        )
    );
    assert_eq!(p["type"], "urn:cypherlink:problem:unknown_account");
    let (status, _, p) = l
        .send("bank-a-k1", "GET", "/v1/accounts/clearing-bank/balance", b"", &[])
        .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (403, Some("forbidden")),
        "someone else's account"
    );
    let (status, _, p) = l
        .send(
            "bank-a-k1",
            "POST",
            "/v1/transfers",
            b"{not json",
            &[("Idempotency-Key", "x")],
        )
        .await;
    assert_eq!((status, p["code"].as_str()), (400, Some("malformed")));
    let huge = vec![b' '; 70 * 1024];
    let (status, _, p) = l
        .send(
            "bank-a-k1",
            "POST",
            "/v1/payments",
            &huge,
            &[("Idempotency-Key", "y")],
        )
        .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (413, Some("too_large")),
        "over the body limit"
    );
    let (status, _, p) = l
        .send("bank-a-k1", "GET", "/v1/transfers/not-a-uuid", b"", &[])
        .await;
    assert_eq!((status, p["code"].as_str()), (400, Some("malformed")));
    let (status, _, p) = l.send("bank-a-k1", "GET", "/v1/no-such-thing", b"", &[]).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (404, Some("unsupported")),
        "an unknown endpoint"
    );
}

#[tokio::test]
async fn statement_opening_plus_entries_equals_closing() {
    let l = Ledger::start(fixtures::BANK).await;
    let a = l.plugin("bank-a-k1").await;
    let cb = l.plugin("clearing-bank-k1").await;
    let day_start = l.clock.now();
    l.clock.advance_millis(1_000);
    a.pay(
        &PaymentRequest {
            from: account("bank-a"),
            to: account("clearing-bank"),
            amount: 5_000,
            reference: None,
        },
        "p1",
    )
    .await
    .unwrap();
    let period_start = l.clock.now().checked_add_millis(1).unwrap();
    l.clock.advance_millis(1_000);
    let f = Fulfillment::from_bytes([3; 32]);
    let t = a
        .prepare(PrepareTransfer {
            id: TransferId::random(),
            from: account("bank-a"),
            to: account("clearing-bank"),
            amount: 700,
            condition: f.condition(),
            expires_at: l.clock.now().checked_add_millis(10_000).unwrap(),
            memo: vec![],
        })
        .await
        .unwrap();
    cb.fulfill(t.id, f).await.unwrap();
    l.clock.advance_millis(1_000);
    let end = l.clock.now();

    let whole = a.statement(&account("bank-a"), day_start, end).await.unwrap();
    assert_eq!(whole.opening_balance, 0, "before the opening entry");
    let kinds: Vec<&str> = whole.entries.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["opening", "payment", "transfer"]);
    let later = a.statement(&account("bank-a"), period_start, end).await.unwrap();
    assert_eq!(later.opening_balance, 100_000_000 - 5_000);
    assert_eq!(
        later.entries.len(),
        1,
        "the hold booked nothing; the fulfilment booked the debit"
    );
    let net: i64 = later
        .entries
        .iter()
        .map(|e| {
            let amount = i64::try_from(e.amount).expect("a test amount");
            if e.credit_debit == plugins::api::CreditDebit::Credit {
                amount
            } else {
                -amount
            }
        })
        .sum();
    assert_eq!(later.opening_balance + net, later.closing_balance);
    assert_eq!(later.closing_balance, 100_000_000 - 5_700);
    assert_eq!(later.entries[0].counterparty, Some(account("clearing-bank")));
}

#[tokio::test]
async fn account_lookup_and_name_check() {
    let l = Ledger::start(fixtures::BANK).await;
    let a = l.plugin("bank-a-k1").await;
    let own = a.lookup(&account("alice"), None).await.unwrap();
    assert_eq!(own.holder_name.as_deref(), Some("Alice Example"));
    let other = a.lookup(&account("bob"), Some("bob  EXAMPLE")).await.unwrap();
    assert_eq!(other.holder_name, None, "names are not disclosed to other banks");
    assert_eq!(other.name_match, Some(NameMatch::Match));
    assert_eq!(
        a.lookup(&account("bob"), Some("Bob")).await.unwrap().name_match,
        Some(NameMatch::CloseMatch)
    );
    assert_eq!(
        a.lookup(&account("bob"), Some("Mallory"))
            .await
            .unwrap()
            .name_match,
        Some(NameMatch::NoMatch)
    );
    assert!(matches!(
        a.lookup(&account("nobody"), None).await,
        Err(plugins::PluginError::UnknownAccount { .. })
    ));
}

#[tokio::test]
async fn health_metrics_and_openapi_are_served_without_signature() {
    let l = Ledger::start(fixtures::BANK).await;
    let http = plugins::client::http_client(Duration::from_secs(5));
    let health: serde_json::Value = http
        .get(format!("{}/healthz", l.ledger.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health, json!({"status": "ok", "ledger_id": "mock-bank"}));
    l.plugin("bank-a-k1")
        .await
        .pay(
            &PaymentRequest {
                from: account("alice"),
                to: account("bob"),
                amount: 1,
                reference: None,
            },
            "m1",
        )
        .await
        .unwrap();
    let metrics = http
        .get(format!("{}/metrics", l.ledger.base_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("ledger_changes_total{op=\"payment\",status=\"201\",ledger_id=\"mock-bank\"} 1"),
        "{metrics}"
    );
    let doc: serde_json::Value = http
        .get(format!("{}/openapi.json", l.ledger.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/v1/transfers"].is_object());
}

#[tokio::test]
async fn long_poll_returns_as_soon_as_an_event_is_committed() {
    let l = Ledger::start(fixtures::BANK).await;
    let cb = l.plugin("clearing-bank-k1").await;
    let poll = tokio::spawn(async move { cb.events(EventCursor::START, 10, Duration::from_secs(20)).await });
    let a = l.plugin("bank-a-k1").await;
    let f = Fulfillment::from_bytes([1; 32]);
    let id = TransferId::random();
    let body = prepare_body(&l, id, 10, &f);
    a.prepare(serde_json::from_slice(&body).unwrap()).await.unwrap();
    let page = poll.await.unwrap().unwrap();
    assert_eq!(page.events.len(), 1);
    assert_eq!(
        (page.events[0].transfer.id, page.events[0].kind),
        (id, EventKind::Prepared)
    );
    assert_eq!(page.next, page.events[0].cursor);
}

async fn sse_events(l: &Ledger, last_event_id: Option<&str>, want: usize) -> Vec<(u64, String)> {
    let path = "/v1/events/stream";
    let now = l.clock.now().unix_millis() / 1000;
    let sig = auth::sign(
        "clearing-bank-k1",
        &l.secret("clearing-bank-k1"),
        "GET",
        path,
        now,
        b"",
    );
    let http = plugins::client::http_client(Duration::from_secs(20));
    let mut request = http.get(format!("{}{path}", l.ledger.base_url()));
    for (n, v) in sig.pairs() {
        request = request.header(n, v);
    }
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.bytes_stream();
    let mut text = String::new();
    let mut events = Vec::new();
    while events.len() < want {
        let chunk = body.next().await.expect("stream open").unwrap();
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let id = block
                .lines()
                .find_map(|l| l.strip_prefix("id: "))
                .map(|v| v.parse::<u64>().unwrap());
            let kind = block
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .unwrap_or("")
                .to_owned();
            if let Some(id) = id {
                events.push((id, kind));
            }
        }
    }
    events
}

#[tokio::test]
async fn server_sent_events_resume_from_last_event_id() {
    let l = Ledger::start(fixtures::BANK).await;
    let a = l.plugin("bank-a-k1").await;
    let cb = l.plugin("clearing-bank-k1").await;
    for i in 0..3u8 {
        let f = Fulfillment::from_bytes([i; 32]);
        let id = TransferId::random();
        a.prepare(serde_json::from_slice(&prepare_body(&l, id, 10, &f)).unwrap())
            .await
            .unwrap();
        cb.fulfill(id, f).await.unwrap();
    }
    let first = sse_events(&l, None, 6).await;
    let kinds: Vec<&str> = first.iter().map(|(_, k)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "prepared",
            "fulfilled",
            "prepared",
            "fulfilled",
            "prepared",
            "fulfilled"
        ]
    );
    let resumed = sse_events(&l, Some(&first[3].0.to_string()), 2).await;
    assert_eq!(
        resumed,
        first[4..].to_vec(),
        "only the events after Last-Event-ID"
    );
}

/// One delivery as the receiver saw it: headers and body.
type Delivery = (Vec<(String, String)>, Vec<u8>);

#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<Delivery>>>,
}

async fn receive(state: web::Data<Receiver>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let headers = req
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let mut seen = state.seen.lock().unwrap();
    seen.push((headers, body.to_vec()));
    // Fail the first two attempts.
    if seen.len() <= 2 {
        HttpResponse::InternalServerError().finish()
    } else {
        HttpResponse::Ok().finish()
    }
}

#[tokio::test]
async fn webhooks_are_signed_and_retried_with_backoff_until_acknowledged() {
    let l = Ledger::start(fixtures::BANK).await;
    let receiver = Receiver::default();
    let data = web::Data::new(receiver.clone());
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .route("/hooks/ledger", web::post().to(receive))
    })
    .workers(1)
    .disable_signals()
    .bind("127.0.0.1:0")
    .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);

    let cb = l.plugin("clearing-bank-k1").await;
    let hook = cb
        .register_webhook(&format!("http://{addr}/hooks/ledger?src=mock"), None)
        .await
        .unwrap();
    assert_eq!((hook.key_id.as_str(), hook.attempts), ("clearing-bank-k1", 0));

    let a = l.plugin("bank-a-k1").await;
    let f = Fulfillment::from_bytes([9; 32]);
    let id = TransferId::random();
    let prepared = a
        .prepare(serde_json::from_slice(&prepare_body(&l, id, 10, &f)).unwrap())
        .await
        .unwrap();
    assert_eq!(prepared.status, EscrowStatus::Prepared);

    let attempts = || receiver.seen.lock().unwrap().len();
    l.ledger.deliver_webhooks_now().await;
    assert_eq!(attempts(), 1, "first attempt made, answered 500");
    let state = cb.webhook().await.unwrap().unwrap();
    assert_eq!(state.attempts, 1);
    assert_eq!(
        state.next_attempt_at,
        l.clock.now().checked_add_millis(1_000),
        "retry after the initial backoff"
    );
    l.ledger.deliver_webhooks_now().await;
    assert_eq!(attempts(), 1, "not before the backoff ends");
    l.clock.advance_millis(1_000);
    l.ledger.deliver_webhooks_now().await;
    assert_eq!(attempts(), 2);
    let state = cb.webhook().await.unwrap().unwrap();
    assert_eq!(
        state.next_attempt_at,
        l.clock.now().checked_add_millis(2_000),
        "backoff doubles"
    );
    l.clock.advance_millis(2_000);
    l.ledger.deliver_webhooks_now().await;
    assert_eq!(attempts(), 3, "third attempt acknowledged");
    let state = cb.webhook().await.unwrap().unwrap();
    assert_eq!((state.attempts, state.next_attempt_at), (0, None));
    assert!(state.delivered_through > EventCursor::START);

    let seen = receiver.seen.lock().unwrap().clone();
    let event_ids: Vec<&str> = seen
        .iter()
        .map(|(h, _)| {
            h.iter()
                .find(|(n, _)| n == "cypherlink-event-id")
                .map(|(_, v)| v.as_str())
                .unwrap()
        })
        .collect();
    assert!(
        event_ids.iter().all(|e| *e == event_ids[0]),
        "retries carry the same event id"
    );
    let (headers, body) = &seen[2];
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let sig = auth::read_headers(get).unwrap();
    let now = l.clock.now().unix_millis() / 1000;
    auth::verify_signature(
        &sig,
        &l.secret("clearing-bank-k1"),
        "POST",
        "/hooks/ledger?src=mock",
        body,
        now,
        30,
    )
    .expect("delivery signed like an API request");
    let event: plugins::LedgerEvent = serde_json::from_slice(body).unwrap();
    assert_eq!(
        (event.transfer.id, event.kind, event.id.to_string()),
        (id, EventKind::Prepared, event_ids[0].to_owned())
    );
    handle.stop(false).await;
}

#[tokio::test]
async fn a_restart_keeps_every_acknowledged_change_and_restores_live_escrows() {
    let l = Ledger::start(fixtures::BANK).await;
    let a = l.plugin("bank-a-k1").await;
    let cb = l.plugin("clearing-bank-k1").await;
    let f = Fulfillment::from_bytes([4; 32]);
    let done = TransferId::random();
    a.prepare(serde_json::from_slice(&prepare_body(&l, done, 1_000, &f)).unwrap())
        .await
        .unwrap();
    cb.fulfill(done, f).await.unwrap();
    let pending = TransferId::random();
    a.prepare(serde_json::from_slice(&prepare_body(&l, pending, 2_000, &f)).unwrap())
        .await
        .unwrap();
    let before = a.balance(&account("bank-a")).await.unwrap();
    assert_eq!(before.held, 2_000);

    let l = l.restarted(0).await;
    let a = l.plugin("bank-a-k1").await;
    assert_eq!(
        a.balance(&account("bank-a")).await.unwrap(),
        before,
        "state survives the restart"
    );
    assert_eq!(a.transfer(done).await.unwrap().status, EscrowStatus::Fulfilled);
    assert_eq!(a.transfer(pending).await.unwrap().status, EscrowStatus::Prepared);
    // Expiry passes while the ledger runs again: the escrow restored from disk is refunded.
    l.clock.advance_millis(120_000);
    l.ledger.sweep_now().await.unwrap();
    assert_eq!(a.transfer(pending).await.unwrap().status, EscrowStatus::Expired);
    let after = a.balance(&account("bank-a")).await.unwrap();
    assert_eq!((after.available, after.held), (before.available + 2_000, 0));
    let supply = l.ledger.supply().await.unwrap();
    assert_eq!(supply.total_supply, supply.balances + supply.escrowed);
    let _ = Timestamp::UNIX_EPOCH;
}

/// Nonces live in memory: a request from before a restart, replayed inside its 30 s window,
/// must still be refused, and a fresh one accepted.
#[tokio::test]
async fn a_request_replayed_after_a_restart_is_refused_and_changes_nothing() {
    let l = Ledger::start(fixtures::BANK).await;
    let f = Fulfillment::from_bytes([8; 32]);
    let body = prepare_body(&l, TransferId::random(), 100, &f);
    let headers = l.signature("bank-a-k1", "POST", "/v1/transfers", &body, 0);
    let key = [("Idempotency-Key", "before-restart")];
    let (status, _, _) = l
        .send_signed(&headers, "POST", "/v1/transfers", &body, &key)
        .await;
    assert_eq!(status, 201);
    assert_eq!(held(&l).await, 100);

    let l = l.restarted(5_000).await;

    let (status, _, problem) = l
        .send_signed(&headers, "POST", "/v1/transfers", &body, &key)
        .await;
    assert_eq!(status, 401, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("restart"),
        "{problem}"
    );
    assert_eq!(held(&l).await, 100, "still locked once");
    let fresh = prepare_body(&l, TransferId::random(), 50, &f);
    l.plugin("bank-a-k1")
        .await
        .prepare(serde_json::from_slice(&fresh).unwrap())
        .await
        .unwrap();
    assert_eq!(held(&l).await, 150, "requests signed after the restart pass");
}
