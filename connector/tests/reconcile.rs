//! The reconciliation report over real HTTP: payments through the in-process network leave
//! nothing to explain; a movement made on a ledger behind the connector's back is listed.

use std::sync::Arc;

use connector::payment::PaymentState;
use connector::store::PaymentFilter;
use htlc::{Clock, ManualClock, Timestamp};
use plugins::AccountId;
use plugins::api::PaymentRequest;
use serde_json::Value;
use testnet::network::{LocalNetwork, NetworkOptions};

async fn reconciliation(net: &LocalNetwork, since: Timestamp, until: Timestamp) -> Value {
    let response = net
        .ledgers
        .https_client()
        .unwrap()
        .get(format!(
            "{}/v1/admin/reconciliation?since={since}&until={until}",
            net.connector.base_url()
        ))
        .bearer_auth(&net.connector_config.api.operator_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn ledger<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["ledgers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["ledger"] == id)
        .unwrap_or_else(|| panic!("{id} in {report:#}"))
}

/// Pays `amounts` (DC/EP minor units) from Bank A to Bank B, one after the other, and waits
/// until the connector's journal has each one fulfilled.
async fn pay_all(net: &LocalNetwork, amounts: &[u64]) {
    let mut updates = net.connector.connector.payment_updates();
    for amount in amounts {
        let spsp = net.payer.setup(&net.ledgers.receiver_url).await.unwrap();
        net.payer
            .pay(&spsp, *amount, "reconcile me", |_| {})
            .await
            .unwrap();
    }
    let fulfilled = PaymentFilter {
        state: Some(PaymentState::Fulfilled),
        limit: 100,
        ..PaymentFilter::default()
    };
    let store = net.connector.connector.store();
    while store.payments(&fulfilled).await.unwrap().len() < amounts.len() {
        // Woken by the next committed change (a lagging receiver just looks again).
        let _ = updates.recv().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_reconcile_and_a_ledger_only_movement_is_listed() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(
        Timestamp::parse_rfc3339("2026-11-21T10:00:00Z").unwrap(),
    ));
    let net = LocalNetwork::start(
        dir.path(),
        clock.clone() as Arc<dyn Clock>,
        NetworkOptions::default(),
    )
    .await
    .unwrap();
    // The period starts after the ledgers booked their opening balances.
    clock.advance_millis(1_000);
    let since = clock.now();

    pay_all(&net, &[200_000, 50_000]).await;
    clock.advance_millis(1_000);
    let report = reconciliation(&net, since, clock.now()).await;
    assert_eq!(report["reconciled"], true, "{report:#}");
    assert_eq!(report["unexplained"], 0);
    for (id, net_move) in [("digital-euro", 100_100 + 25_100), ("e-cny", -250_000)] {
        let l = ledger(&report, id);
        assert_eq!(l["differences"], serde_json::json!([]), "{id}: {l:#}");
        assert_eq!(l["matched"], 2, "{id}");
        assert_eq!(l["totals"]["ledger_net"], net_move, "{id}");
        assert_eq!(l["totals"]["journal_net"], net_move, "{id}");
        assert_eq!(l["totals"]["difference"], 0, "{id}");
        assert_eq!(
            l["totals"]["closing_balance"].as_i64().unwrap()
                - l["totals"]["opening_balance"].as_i64().unwrap(),
            net_move
        );
    }

    // The clearing bank pays Bank B 12.34 DC/EP directly on e-CNY: no payment, no journal.
    let e_cny = net.ledgers.client("e-cny", "clearing-bank").unwrap();
    let direct = e_cny
        .pay(
            &PaymentRequest {
                from: AccountId::new("clearing-bank").unwrap(),
                to: AccountId::new("bank-b").unwrap(),
                amount: 1_234,
                reference: Some("manual correction".into()),
            },
            "reconcile-test-direct-payment",
        )
        .await
        .unwrap();
    clock.advance_millis(1_000);

    let report = reconciliation(&net, since, clock.now()).await;
    assert_eq!(report["reconciled"], false, "{report:#}");
    assert_eq!(report["unexplained"], 1);
    assert_eq!(
        ledger(&report, "digital-euro")["differences"],
        serde_json::json!([])
    );
    let e = ledger(&report, "e-cny");
    let differences = e["differences"].as_array().unwrap();
    assert_eq!(differences.len(), 1, "{e:#}");
    let d = &differences[0];
    assert_eq!(d["kind"], "unknown_to_journal");
    assert_eq!(d["ledger_amount"], -1_234);
    assert_eq!(d["journal_amount"], Value::Null);
    assert_eq!(d["entry_kind"], "payment");
    assert_eq!(d["counterparty"], "bank-b");
    assert_eq!(d["reference"], direct.id.to_string());
    assert_eq!(e["matched"], 2);
    assert_eq!(e["totals"]["ledger_net"], -250_000 - 1_234);
    assert_eq!(e["totals"]["journal_net"], -250_000);
    assert_eq!(e["totals"]["difference"], -1_234);
    net.stop().await;
}
