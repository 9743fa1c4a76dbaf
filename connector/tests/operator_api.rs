//! The operator API over real HTTP, against the in-process network (two CBDC ledgers, the
//! clearing bank's connector, Bank B's receiver): what an operator does with curl, and what a
//! client that gets it wrong sees.

use std::sync::Arc;

use connector::payment::PaymentState;
use connector::store::PaymentFilter;
use futures::StreamExt;
use htlc::{Clock, ManualClock, Timestamp};
use reqwest::Method;
use serde_json::{Value, json};
use testnet::network::{LocalNetwork, NetworkOptions};
use uuid::Uuid;

/// A connector API client.
struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

/// An answer: status, content type, body as JSON (`Null` if there is none).
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: String,
    body: Value,
}

impl Answer {
    /// Asserts a problem+json error with this status and code.
    fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.content_type, "application/problem+json", "{self:?}");
        assert_eq!(self.body["code"], code, "{self:?}");
        assert_eq!(self.body["status"], status, "{self:?}");
        assert!(
            self.body["title"].is_string() && self.body["detail"].is_string(),
            "{self:?}"
        );
        assert_eq!(
            self.body["type"],
            format!("https://cypherlink.example/problems/{code}"),
            "{self:?}"
        );
    }
}

impl Api {
    fn new(net: &LocalNetwork) -> Self {
        Api {
            base: net.connector.base_url(),
            token: net.connector_config.api.operator_token.clone(),
            http: net
                .ledgers
                .https_client()
                .expect("a client trusting the network's CA"),
        }
    }

    /// Sends `body` (raw bytes, JSON content type) with `token` as the bearer token.
    async fn raw(&self, method: Method, path: &str, token: Option<&str>, body: Option<Vec<u8>>) -> Answer {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.header("Content-Type", "application/json").body(body);
        }
        let response = request.send().await.expect("the connector answers");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = response.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Answer {
            status,
            content_type,
            body,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let body = body.map(|b| serde_json::to_vec(&b).unwrap());
        self.raw(method, path, Some(&self.token), body).await
    }

    async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    async fn put(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PUT, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None).await
    }

    /// `POST /v1/quotes` for `amount` DC/EP minor units to `destination` from Bank A.
    async fn quote(&self, destination: &str, amount: u64) -> Answer {
        let request = json!({
            "source_ledger": "digital-euro",
            "source_account": "bank-a",
            "destination": destination,
            "destination_amount": amount.to_string(),
        });
        self.raw(
            Method::POST,
            "/v1/quotes",
            None,
            Some(serde_json::to_vec(&request).unwrap()),
        )
        .await
    }
}

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

/// What the operator's tables look like.
async fn tables(api: &Api) -> Vec<Value> {
    let mut out = Vec::new();
    for path in ["/v1/admin/routes", "/v1/admin/corridors", "/v1/admin/limits"] {
        let answer = api.get(path).await;
        assert_eq!(answer.status, 200, "{path}: {answer:?}");
        out.push(answer.body);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_the_operator_token_are_refused_and_change_nothing() {
    let clock = clock();
    let (_dir, net) = network(&clock).await;
    let api = Api::new(&net);
    let before = tables(&api).await;

    let route = json!({"prefix": "test.evil", "ledger": "e-cny", "account": "mallory"});
    let corridor = json!({"from": "digital-euro", "to": "e-cny", "rate": "1000"});
    let limits = json!({"ledger": "digital-euro", "max_packet_amount": "1000000000.00"});
    let attempts: Vec<(Method, &str, Option<Vec<u8>>)> = vec![
        (Method::GET, "/v1/admin/ledgers", None),
        (Method::GET, "/v1/admin/routes", None),
        (
            Method::PUT,
            "/v1/admin/routes",
            Some(route.to_string().into_bytes()),
        ),
        (Method::DELETE, "/v1/admin/routes/test.ecny", None),
        (
            Method::PUT,
            "/v1/admin/corridors",
            Some(corridor.to_string().into_bytes()),
        ),
        (Method::DELETE, "/v1/admin/corridors/digital-euro/e-cny", None),
        (
            Method::PUT,
            "/v1/admin/limits",
            Some(limits.to_string().into_bytes()),
        ),
        (Method::DELETE, "/v1/admin/limits/digital-euro", None),
        (Method::GET, "/v1/admin/payments?state=fulfilled", None),
        (Method::GET, "/v1/admin/payments/stream", None),
        (Method::GET, "/v1/admin/reconciliation", None),
        // Malformed too: the token is checked before the body is read.
        (Method::PUT, "/v1/admin/routes", Some(b"{not json".to_vec())),
    ];
    for (method, path, body) in attempts {
        for token in [None, Some("wrong-token-of-some-length"), Some("")] {
            let answer = api.raw(method.clone(), path, token, body.clone()).await;
            answer.assert_problem(401, "unauthorized");
        }
    }
    // A token in another scheme is not a bearer token.
    let basic = api
        .http
        .get(format!("{}/v1/admin/routes", api.base))
        .header("Authorization", format!("Basic {}", api.token))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);

    assert_eq!(tables(&api).await, before, "nothing changed");
    net.stop().await;
}

/// Metrics tell the clearing bank's liquidity: the API serves them to the operator only, and a
/// listener of their own (when configured) serves them to a scraper without a token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_the_operator_token_unless_served_on_their_own_listener() {
    let clock = clock();
    let (_dir, net) = network(&clock).await;
    let api = Api::new(&net);
    for token in [None, Some("wrong-token-of-some-length")] {
        api.raw(Method::GET, "/metrics", token, None)
            .await
            .assert_problem(401, "unauthorized");
    }
    let scraped = api.raw(Method::GET, "/metrics", Some(&api.token), None).await;
    assert_eq!(scraped.status, 200, "{scraped:?}");
    assert!(
        scraped
            .body
            .as_str()
            .unwrap()
            .contains("cypherlink_payments_in_flight")
    );
    assert_eq!(net.connector.metrics_addr, None, "no open listener by default");

    // The operator's other choice: restart with a metrics listener of its own.
    let LocalNetwork {
        ledgers,
        connector,
        mut connector_config,
        ..
    } = net;
    connector.stop().await;
    connector_config.api.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    let connector = connector::runtime::start(
        &connector_config,
        clock.clone() as Arc<dyn Clock>,
        Default::default(),
    )
    .await
    .unwrap();
    let metrics = format!("http://{}", connector.metrics_addr.expect("listening"));
    let http = ledgers.https_client().unwrap();
    let open = http.get(format!("{metrics}/metrics")).send().await.unwrap();
    assert_eq!(open.status(), 200);
    assert!(
        open.text()
            .await
            .unwrap()
            .contains("cypherlink_payments_in_flight")
    );
    let elsewhere = http
        .get(format!("{metrics}/v1/admin/routes"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        elsewhere.status(),
        404,
        "the metrics listener serves nothing else"
    );
    let on_api = http
        .get(format!("{}/metrics", connector.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(on_api.status(), 401, "the API still wants the token");
    connector.stop().await;
    ledgers.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_corridors_and_limits_set_by_the_operator_change_quotes() {
    let clock = clock();
    let (_dir, net) = network(&clock).await;
    let api = Api::new(&net);
    let bank_b = "test.ecny.bank-b.invoice7";

    // As configured: 1 DE = 2 DC/EP, 1.00 DE fee.
    let corridors = api.get("/v1/admin/corridors").await.body;
    let de_to_ecny = corridors
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["from"] == "digital-euro" && c["to"] == "e-cny")
        .unwrap()
        .clone();
    assert_eq!(de_to_ecny["rate"], "2");
    assert_eq!(de_to_ecny["fee_fixed"], "1.00");
    let quote = api.quote(bank_b, 200_000).await;
    assert_eq!(quote.status, 201, "{quote:?}");
    assert_eq!(quote.body["source_amount"], "100100");

    // The operator reprices the corridor: 1 DE = 4 DC/EP, 0.50 DE fee.
    let set = api
        .put(
            "/v1/admin/corridors",
            json!({"from": "digital-euro", "to": "e-cny", "rate": "4", "fee_fixed": "0.50"}),
        )
        .await;
    assert_eq!(set.status, 200, "{set:?}");
    assert_eq!(
        (
            set.body["rate"].as_str(),
            set.body["fee_fixed"].as_str(),
            set.body["fee_bps"].as_u64()
        ),
        (Some("4"), Some("0.50"), Some(0))
    );
    let quote = api.quote(bank_b, 200_000).await;
    assert_eq!(quote.status, 201, "{quote:?}");
    assert_eq!(quote.body["rate"], "4/1");
    assert_eq!(
        (quote.body["source_amount"].as_str(), quote.body["fee"].as_str()),
        (Some("50050"), Some("50")),
        "2000.00 DC/EP at 4 per DE is 500.00 DE, plus 0.50 DE"
    );
    let listed = api.get("/v1/admin/corridors").await.body;
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["from"] == "digital-euro" && c["rate"] == "4" && c["rate_minor_units"] == "4/1"),
        "{listed}"
    );

    // A limit on Bank A below the quote's source amount refuses it; removing it allows it again.
    let set = api
        .put(
            "/v1/admin/limits",
            json!({"ledger": "digital-euro", "account": "bank-a", "max_packet_amount": "400.00"}),
        )
        .await;
    assert_eq!(set.status, 200, "{set:?}");
    assert_eq!(set.body["max_packet_amount"], "400.00");
    assert_eq!(set.body["exposure_limit"], Value::Null);
    api.quote(bank_b, 200_000)
        .await
        .assert_problem(422, "limit_exceeded");
    assert!(
        api.get("/v1/admin/limits")
            .await
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["account"] == "bank-a" && l["max_packet_amount"] == "400.00")
    );
    assert_eq!(
        api.delete("/v1/admin/limits/digital-euro/bank-a").await.status,
        204
    );
    assert_eq!(api.quote(bank_b, 200_000).await.status, 201);
    api.delete("/v1/admin/limits/digital-euro/bank-a")
        .await
        .assert_problem(404, "not_found");

    // A route to a partner prefix, delivered to a fixed account.
    let set = api
        .put(
            "/v1/admin/routes",
            json!({"prefix": "test.partner", "ledger": "e-cny", "account": "bank-b"}),
        )
        .await;
    assert_eq!(set.status, 200, "{set:?}");
    let routes = api.get("/v1/admin/routes").await.body;
    assert!(
        routes
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["prefix"] == "test.partner" && r["account"] == "bank-b"),
        "{routes}"
    );
    let quote = api.quote("test.partner.someone.x", 10_000).await;
    assert_eq!(quote.status, 201, "{quote:?}");
    assert_eq!(
        (
            quote.body["destination_ledger"].as_str(),
            quote.body["destination_account"].as_str()
        ),
        (Some("e-cny"), Some("bank-b"))
    );
    assert_eq!(api.delete("/v1/admin/routes/test.partner").await.status, 204);
    api.quote("test.partner.someone.x", 10_000)
        .await
        .assert_problem(422, "no_route");

    // Mistakes are refused and change nothing.
    let before = tables(&api).await;
    api.put(
        "/v1/admin/routes",
        json!({"prefix": "test.mars", "ledger": "mars"}),
    )
    .await
    .assert_problem(422, "unknown_ledger");
    api.put(
        "/v1/admin/routes",
        json!({"prefix": "not an address!", "ledger": "e-cny"}),
    )
    .await
    .assert_problem(400, "malformed");
    api.put(
        "/v1/admin/corridors",
        json!({"from": "digital-euro", "to": "e-cny", "rate": "two"}),
    )
    .await
    .assert_problem(400, "malformed");
    api.put(
        "/v1/admin/limits",
        json!({"ledger": "digital-euro", "max_packet_amount": "1.234"}),
    )
    .await
    .assert_problem(400, "malformed");
    api.put(
        "/v1/admin/limits",
        json!({"ledger": "digital-euro", "max_packet_amout": "1.00"}),
    )
    .await
    .assert_problem(400, "malformed");
    assert_eq!(tables(&api).await, before);

    // Without the corridor there is no price, so no quote.
    assert_eq!(
        api.delete("/v1/admin/corridors/digital-euro/e-cny").await.status,
        204
    );
    api.quote(bank_b, 200_000).await.assert_problem(422, "no_route");
    net.stop().await;
}

/// Waits until the journal has `id`'s payment (by UETR) in a final state, woken by each
/// committed change.
async fn settled(
    net: &LocalNetwork,
    updates: &mut tokio::sync::broadcast::Receiver<connector::payment::Payment>,
    uetr: Uuid,
) -> PaymentState {
    let filter = PaymentFilter {
        uetr: Some(uetr),
        limit: 10,
        ..PaymentFilter::default()
    };
    loop {
        let found = net.connector.connector.store().payments(&filter).await.unwrap();
        if let Some(p) = found.iter().find(|p| p.state.is_final()) {
            return p.state;
        }
        let _ = updates.recv().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_are_listed_by_state_time_and_uetr_with_their_trail() {
    let clock = clock();
    let (_dir, net) = network(&clock).await;
    let api = Api::new(&net);
    let mut updates = net.connector.connector.payment_updates();

    // One payment that succeeds...
    let first_at = clock.now();
    let spsp = net.payer.setup(&net.ledgers.receiver_url).await.unwrap();
    let paid = net.payer.pay(&spsp, 200_000, "paid", |_| {}).await.unwrap();
    assert_eq!(
        settled(&net, &mut updates, paid.uetr).await,
        PaymentState::Fulfilled
    );

    // ...and, a second later, one Bank B refuses (built with another connection's secret).
    clock.advance_millis(1_000);
    let second_at = clock.now();
    let mut spsp = net.payer.setup(&net.ledgers.receiver_url).await.unwrap();
    spsp.shared_secret = net
        .payer
        .setup(&net.ledgers.receiver_url)
        .await
        .unwrap()
        .shared_secret;
    let refused = match net.payer.pay(&spsp, 50_000, "refused", |_| {}).await {
        Err(connector::sender::PayError::Rejected { uetr, .. }) => uetr,
        other => panic!("expected a rejection, got {other:?}"),
    };
    assert_eq!(settled(&net, &mut updates, refused).await, PaymentState::Rejected);

    let uetrs = |answer: Answer| -> Vec<String> {
        assert_eq!(answer.status, 200, "{answer:?}");
        answer
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["uetr"].as_str().unwrap().to_owned())
            .collect()
    };
    let (paid_id, refused_id) = (paid.uetr.to_string(), refused.to_string());
    assert_eq!(
        uetrs(api.get("/v1/admin/payments").await),
        [refused_id.as_str(), paid_id.as_str()],
        "newest first"
    );
    assert_eq!(
        uetrs(api.get("/v1/admin/payments?state=fulfilled").await),
        [paid_id.as_str()]
    );
    assert_eq!(
        uetrs(api.get("/v1/admin/payments?state=rejected").await),
        [refused_id.as_str()]
    );
    assert!(uetrs(api.get("/v1/admin/payments?state=in_flight").await).is_empty());
    assert_eq!(
        uetrs(api.get(&format!("/v1/admin/payments?uetr={paid_id}")).await),
        [paid_id.as_str()]
    );
    assert_eq!(
        uetrs(api.get(&format!("/v1/admin/payments?since={second_at}")).await),
        [refused_id.as_str()]
    );
    assert_eq!(
        uetrs(api.get(&format!("/v1/admin/payments?until={second_at}")).await),
        [paid_id.as_str()]
    );
    assert_eq!(
        uetrs(
            api.get(&format!(
                "/v1/admin/payments?since={first_at}&until={second_at}&state=rejected"
            ))
            .await
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        uetrs(api.get("/v1/admin/payments?limit=1").await),
        [refused_id.as_str()]
    );

    // One payment with its trail, as the operator follows it.
    let listed = api.get(&format!("/v1/admin/payments?uetr={paid_id}")).await.body;
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    let detail = api.get(&format!("/v1/admin/payments/{id}")).await;
    assert_eq!(detail.status, 200, "{detail:?}");
    assert_eq!(detail.body["state"], "fulfilled");
    assert_eq!(detail.body["uetr"], paid_id.as_str());
    assert_eq!(detail.body["incoming"]["amount"], 100_100);
    assert_eq!(detail.body["outgoing"]["amount"], 200_000);
    assert_eq!(detail.body["fee"], 100);
    let kinds: Vec<&str> = detail.body["trail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"incoming_seen"), "{kinds:?}");
    assert!(kinds.contains(&"outgoing_fulfilled"), "{kinds:?}");

    let refused_detail = api.get("/v1/admin/payments?state=rejected").await.body;
    assert!(refused_detail[0]["reject_code"].is_string(), "{refused_detail}");

    api.get(&format!("/v1/admin/payments/{}", Uuid::new_v4()))
        .await
        .assert_problem(404, "not_found");
    api.get("/v1/admin/payments/not-a-uuid")
        .await
        .assert_problem(400, "malformed");
    api.get("/v1/admin/payments?state=paid")
        .await
        .assert_problem(400, "malformed");
    api.get("/v1/admin/payments?since=yesterday")
        .await
        .assert_problem(400, "malformed");

    // The participant's view of the same payment, by its UETR (no token).
    let public = api
        .raw(
            Method::GET,
            &format!("/v1/payments/by-uetr/{paid_id}"),
            None,
            None,
        )
        .await;
    assert_eq!(public.status, 200, "{public:?}");
    assert_eq!(public.body[0]["state"], "fulfilled");
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_carries_every_committed_change_of_a_payment() {
    let clock = clock();
    let (_dir, net) = network(&clock).await;
    let api = Api::new(&net);

    let response = api
        .http
        .get(format!("{}/v1/admin/payments/stream", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "text/event-stream"
    );
    let mut body = response.bytes_stream();
    let mut text = String::new();
    // The stream opens with a comment: from here on the connector is sending us changes.
    while !text.contains(": keep-alive\n\n") {
        text.push_str(&String::from_utf8_lossy(&body.next().await.unwrap().unwrap()));
    }
    text.clear();

    let spsp = net.payer.setup(&net.ledgers.receiver_url).await.unwrap();
    let receipt = net.payer.pay(&spsp, 200_000, "streamed", |_| {}).await.unwrap();

    let mut states = Vec::new();
    'read: loop {
        while let Some(end) = text.find("\n\n") {
            let event: String = text.drain(..end + 2).collect();
            if let Some(data) = event.strip_prefix("data: ") {
                let payment: Value =
                    serde_json::from_str(data.trim_end()).expect("one JSON payment per event");
                assert_eq!(payment["uetr"], receipt.uetr.to_string());
                states.push(payment["state"].as_str().unwrap().to_owned());
                if payment["state"] == "fulfilled" {
                    break 'read;
                }
            }
        }
        let chunk = body.next().await.expect("the stream stays open").unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert_eq!(
        states.first().map(String::as_str),
        Some("forwarding"),
        "{states:?}"
    );
    assert!(states.iter().any(|s| s == "fulfilling"), "{states:?}");
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_problem_json_and_change_nothing() {
    let clock = clock();
    let (_dir, net) = network(&clock).await;
    let api = Api::new(&net);
    let before = tables(&api).await;

    let put = |body: Vec<u8>| api.raw(Method::PUT, "/v1/admin/routes", Some(&api.token), Some(body));
    put(b"{\"prefix\": \"test.x\", ".to_vec())
        .await
        .assert_problem(400, "malformed");
    put(b"[1, 2, 3]".to_vec()).await.assert_problem(400, "malformed");
    put(br#"{"prefix": "test.x", "ledger": "e-cny", "colour": "red"}"#.to_vec())
        .await
        .assert_problem(400, "malformed");
    let max = net.connector_config.api.max_body_bytes;
    let oversized = format!(
        r#"{{"prefix": "test.x", "ledger": "e-cny", "pad": "{}"}}"#,
        "x".repeat(max + 1)
    );
    put(oversized.into_bytes())
        .await
        .assert_problem(413, "body_too_large");
    let form = api
        .http
        .put(format!("{}/v1/admin/routes", api.base))
        .bearer_auth(&api.token)
        .header("Content-Type", "text/plain")
        .body("prefix=test.x")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);

    // Quotes from participants: same rules.
    api.raw(Method::POST, "/v1/quotes", None, Some(b"{".to_vec()))
        .await
        .assert_problem(400, "malformed");
    api.raw(
        Method::POST,
        "/v1/quotes",
        None,
        Some(br#"{"source_ledger": "digital-euro", "destination": "test.ecny.bank-b.x"}"#.to_vec()),
    )
    .await
    .assert_problem(400, "malformed");

    // Unknown routes and methods.
    api.get("/v1/nothing-here").await.assert_problem(404, "not_found");
    api.get("/v1/admin/nothing-here")
        .await
        .assert_problem(404, "not_found");
    api.delete("/v1/admin/ledgers")
        .await
        .assert_problem(405, "method_not_allowed");
    api.get("/v1/admin/reconciliation?since=2026-11-21T11:00:00Z&until=2026-11-21T10:00:00Z")
        .await
        .assert_problem(400, "malformed");
    api.get("/v1/admin/reconciliation?edge=5")
        .await
        .assert_problem(400, "malformed");

    assert_eq!(tables(&api).await, before, "nothing changed");

    // The API describes itself.
    let doc = api.raw(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(doc.status, 200);
    assert_eq!(
        doc.body,
        serde_json::from_str::<Value>(&connector::api::openapi::json()).unwrap()
    );
    net.stop().await;
}
