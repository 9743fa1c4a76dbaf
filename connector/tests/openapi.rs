//! `docs/openapi/connector-api.json` must be the document the code generates, and the
//! documented shapes must be the ones the API actually sends. Regenerate the file with
//! `UPDATE_OPENAPI=1 cargo test -p connector --test openapi`.

mod common;

use std::collections::BTreeSet;

use common::assert_documented;
use connector::LedgerId;
use connector::payment::{IncomingLeg, OutgoingLeg, Payment, PaymentState, TrailEntry};
use connector::quote::{Quote, QuoteRequest};
use htlc::{Address, Asset, AssetCode, Condition, ErrorCode, Timestamp};
use plugins::{AccountId, TransferId};
use serde_json::Value;
use uuid::Uuid;

fn document() -> Value {
    serde_json::from_str(&connector::api::openapi::json()).expect("the document is JSON")
}

#[test]
fn committed_openapi_document_is_current() {
    common::assert_committed_document_is_current(
        "connector-api.json",
        &connector::api::openapi::json(),
        "openapi",
    );
}

#[test]
fn every_route_is_documented_and_admin_routes_need_the_token() {
    let doc = document();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/v1/quotes", "post"),
        ("/v1/payments/by-uetr/{uetr}", "get"),
        ("/healthz", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
        ("/v1/admin/ledgers", "get"),
        ("/v1/admin/routes", "get"),
        ("/v1/admin/routes", "put"),
        ("/v1/admin/routes/{prefix}", "delete"),
        ("/v1/admin/corridors", "get"),
        ("/v1/admin/corridors", "put"),
        ("/v1/admin/corridors/{from}/{to}", "delete"),
        ("/v1/admin/limits", "get"),
        ("/v1/admin/limits", "put"),
        ("/v1/admin/limits/{ledger}", "delete"),
        ("/v1/admin/limits/{ledger}/{account}", "delete"),
        ("/v1/admin/payments", "get"),
        ("/v1/admin/payments/stream", "get"),
        ("/v1/admin/payments/{id}", "get"),
        ("/v1/admin/reconciliation", "get"),
    ] {
        assert!(paths[path][method].is_object(), "{method} {path} documented");
    }
    for (path, operations) in paths {
        for (method, operation) in operations.as_object().unwrap() {
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("operator").is_some()));
            assert_eq!(
                secured,
                path.starts_with("/v1/admin/") || path == "/metrics",
                "{method} {path}: the operator token is required exactly on /v1/admin and /metrics"
            );
        }
    }
    let scheme = &doc["components"]["securitySchemes"]["operator"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    let problem = &doc["components"]["schemas"]["Problem"]["properties"];
    for field in ["type", "title", "status", "detail", "code"] {
        assert!(problem[field].is_object(), "problem+json has {field}");
    }
}

fn t() -> Timestamp {
    Timestamp::parse_rfc3339("2026-11-21T10:00:00Z").unwrap()
}

fn account(name: &str) -> AccountId {
    AccountId::new(name).unwrap()
}

fn asset(code: &str) -> Asset {
    Asset::new(AssetCode::new(code).unwrap(), 2).unwrap()
}

/// A payment with every optional field present, so every key appears.
fn payment() -> Payment {
    Payment {
        id: Uuid::from_u128(1),
        uetr: Some(Uuid::from_u128(2)),
        state: PaymentState::Rejected,
        condition: Condition::from_bytes([7; 32]),
        destination: "test.ecny.bank-b.tag".into(),
        incoming: IncomingLeg {
            ledger: LedgerId::new("digital-euro"),
            transfer: TransferId(Uuid::from_u128(3)),
            from: account("bank-a"),
            amount: 100_100,
            expires_at: t(),
        },
        outgoing: Some(OutgoingLeg {
            ledger: LedgerId::new("e-cny"),
            transfer: TransferId(Uuid::from_u128(4)),
            from: account("clearing-bank"),
            to: account("bank-b"),
            amount: 200_000,
            expires_at: t(),
        }),
        fee: 100,
        outgoing_memo: None,
        fulfillment: None,
        reject_code: Some(ErrorCode::R00_TRANSFER_TIMED_OUT),
        reject_message: Some("expired".into()),
        created_at: t(),
        updated_at: t(),
    }
}

#[test]
fn documented_shapes_are_what_the_api_sends() {
    let doc = document();
    let payment = serde_json::to_value(payment()).unwrap();
    assert_documented(&doc, "Payment", &payment);
    assert_documented(&doc, "IncomingLeg", &payment["incoming"]);
    assert_documented(&doc, "OutgoingLeg", &payment["outgoing"]);
    let trail = serde_json::to_value(TrailEntry {
        at: t(),
        kind: "incoming_seen".into(),
        detail: "1001.00 DE from bank-a".into(),
    })
    .unwrap();
    assert_documented(&doc, "TrailEntry", &trail);
    let mut detail = payment.clone();
    detail["trail"] = Value::Array(vec![trail]);
    assert_documented(&doc, "PaymentDetail", &detail);

    let request = QuoteRequest {
        source_ledger: LedgerId::new("digital-euro"),
        source_account: Some(account("bank-a")),
        destination: Address::new("test.ecny.bank-b.tag").unwrap(),
        destination_amount: Some(200_000),
        source_amount: Some(1),
    };
    assert_documented(&doc, "QuoteRequest", &serde_json::to_value(request).unwrap());
    let quote = Quote {
        id: Uuid::from_u128(9),
        source_ledger: LedgerId::new("digital-euro"),
        pay_to: account("clearing-bank"),
        source_amount: 100_100,
        source_asset: asset("DE"),
        destination_ledger: LedgerId::new("e-cny"),
        destination_account: account("bank-b"),
        destination_amount: 200_000,
        destination_asset: asset("DCEP"),
        fee: 100,
        rate: "2/1".into(),
        route: "test.ecny".into(),
        expiry_window_ms: 9_600,
        expires_at: t(),
        valid_until: t(),
    };
    let quote = serde_json::to_value(quote).unwrap();
    assert_documented(&doc, "Quote", &quote);
    assert_documented(&doc, "Asset", &quote["source_asset"]);
    let states: BTreeSet<String> = doc["components"]["schemas"]["PaymentState"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let actual: BTreeSet<String> = PaymentState::ALL.iter().map(|s| s.as_str().to_owned()).collect();
    assert_eq!(states, actual, "documented payment states");
}
