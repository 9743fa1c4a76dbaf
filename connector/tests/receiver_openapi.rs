//! `docs/openapi/receiver-api.json` must be the document the code generates, it must cover
//! every route the receiver serves, and the documented shapes must be the ones it actually
//! sends. Regenerate the file with `UPDATE_OPENAPI=1 cargo test -p connector --test receiver_openapi`.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::assert_documented;
use connector::receiver::{ReceivedPayment, ReceiverSeed};
use connector::store::Durability;
use htlc::{Address, Asset, AssetCode, Clock, SystemClock, Timestamp};
use plugins::TransferId;
use serde_json::Value;
use testnet::network::Ledgers;
use uuid::Uuid;

fn document() -> Value {
    serde_json::from_str(&connector::receiver::openapi::json()).expect("the document is JSON")
}

#[test]
fn committed_openapi_document_is_current() {
    common::assert_committed_document_is_current(
        "receiver-api.json",
        &connector::receiver::openapi::json(),
        "receiver_openapi",
    );
}

/// What `connector::receiver::http::serve` routes.
const ROUTES: [(&str, &str); 4] = [
    ("/.well-known/pay", "get"),
    ("/v1/received/{uetr}", "get"),
    ("/healthz", "get"),
    ("/openapi.json", "get"),
];

#[test]
fn every_route_is_documented() {
    let doc = document();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc["info"]["title"], "CypherLink receiver API");
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in ROUTES {
        assert!(paths[path][method].is_object(), "{method} {path} documented");
    }
    let documented: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, ops)| ops.as_object().unwrap().keys().map(|m| (path.clone(), m.clone())))
        .collect();
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(p, m)| (p.to_string(), m.to_string()))
        .collect();
    assert_eq!(documented, served, "documented operations vs served routes");

    let setup = &paths["/.well-known/pay"]["get"]["responses"]["200"]["content"];
    assert!(
        setup["application/spsp4+json"].is_object(),
        "setup is application/spsp4+json"
    );
    let received = &paths["/v1/received/{uetr}"]["get"];
    let params: BTreeSet<&str> = received["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(params, BTreeSet::from(["uetr", "wait_ms"]));
    for status in ["404", "503"] {
        let content = &received["responses"][status]["content"];
        assert!(
            content["application/problem+json"].is_object(),
            "{status} is problem+json"
        );
    }
}

fn t() -> Timestamp {
    Timestamp::parse_rfc3339("2026-11-21T10:00:00Z").unwrap()
}

#[test]
fn documented_shapes_are_what_the_receiver_sends() {
    let doc = document();
    // Every optional field present, so every key appears.
    let received = ReceivedPayment {
        transfer: TransferId(Uuid::from_u128(3)),
        uetr: Some(Uuid::from_u128(2)),
        amount: 199_999,
        reference: "invoice 7".into(),
        outcome: "rejected".into(),
        reject_code: Some("F04".into()),
        reject_message: Some("received 199999 but the payment promises at least 200000".into()),
        at: t(),
    };
    assert_documented(&doc, "ReceivedPayment", &serde_json::to_value(received).unwrap());

    let mut setup = ReceiverSeed::random().setup(&Address::new("test.ecny.bank-b").unwrap());
    setup.asset_info = Some(Asset::new(AssetCode::new("DCEP").unwrap(), 2).unwrap());
    let setup = serde_json::to_value(setup).unwrap();
    assert_documented(&doc, "SpspResponse", &setup);
    assert_documented(&doc, "Asset", &setup["asset_info"]);

    let problem = serde_json::to_value(connector::api::ApiError::not_found("no payment").problem()).unwrap();
    assert_documented(&doc, "Problem", &problem);
    assert_documented(&doc, "Health", &serde_json::json!({"status": "ok"}));
}

/// Over real HTTP, against Bank B's receiver (offline, so nothing is ever received): every
/// documented route answers with a documented status and content type, the bodies have the
/// documented fields, and `GET /openapi.json` is this document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_receiver_serves_what_is_documented() {
    let doc = document();
    let dir = tempfile::tempdir().unwrap();
    let ledgers = Ledgers::start(
        dir.path(),
        Arc::new(SystemClock) as Arc<dyn Clock>,
        false,
        Durability::Normal,
    )
    .await
    .unwrap();
    let base = ledgers
        .receiver_url
        .trim_end_matches("/.well-known/pay")
        .to_owned();
    let http = ledgers.https_client().unwrap();
    for (path, method) in ROUTES {
        // `wait_ms` means something only to `/v1/received/{uetr}`; the others ignore it.
        let url = format!(
            "{base}{}?wait_ms=0",
            path.replace("{uetr}", &Uuid::from_u128(5).to_string())
        );
        let response = http.get(&url).send().await.unwrap();
        let status = response.status().as_u16().to_string();
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        let body: Value = response.json().await.unwrap();
        let documented = &doc["paths"][path][method]["responses"][&status]["content"];
        assert!(
            documented[&content_type].is_object(),
            "{method} {path}: {status} {content_type} documented"
        );
        match path {
            "/.well-known/pay" => assert_documented(&doc, "SpspResponse", &body),
            "/v1/received/{uetr}" => assert_documented(&doc, "Problem", &body),
            "/healthz" => assert_documented(&doc, "Health", &body),
            _ => assert_eq!(body, doc, "the served document"),
        }
    }
    // What the receiver refuses is problem+json too: an id that is no UUID, a query that does
    // not parse, a route it does not serve.
    for (path, status) in [
        ("/v1/received/not-a-uuid", 400),
        (
            "/v1/received/00000000-0000-0000-0000-000000000005?wait_ms=soon",
            400,
        ),
        ("/v1/nothing-here", 404),
    ] {
        let response = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let body: Value = response.json().await.unwrap();
        assert_documented(&doc, "Problem", &body);
    }
    ledgers.stop().await;
}
