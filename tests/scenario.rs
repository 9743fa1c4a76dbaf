//! The whitepaper's scenario end to end, every part a real server on 127.0.0.1: Bank A pays
//! Bank B 2000.00 DC/EP for 1000.00 DE + 1.00 DE fee through the clearing bank's connector —
//! and the ways it can fail, each refunding everything.

use std::collections::BTreeMap;
use std::sync::Arc;

use connector::payment::PaymentState;
use connector::sender::PayError;
use htlc::{Clock, ManualClock, Timestamp};
use testnet::network::{LocalNetwork, NetworkOptions};

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        Timestamp::parse_rfc3339("2026-11-21T10:00:00Z").unwrap(),
    ))
}

async fn balances(net: &LocalNetwork) -> BTreeMap<(String, String), (i128, u64)> {
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

fn change(
    before: &BTreeMap<(String, String), (i128, u64)>,
    after: &BTreeMap<(String, String), (i128, u64)>,
) -> BTreeMap<(String, String), i128> {
    after
        .iter()
        .filter_map(|(k, (a, held))| {
            assert_eq!(*held, 0, "{k:?} still has funds held");
            let d = a - before[k].0;
            (d != 0).then(|| (k.clone(), d))
        })
        .collect()
}

/// `future`'s output; panics naming `what` if it takes longer than any step of these tests
/// should, so that a lost wake-up fails the test instead of hanging it.
async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(std::time::Duration::from_secs(30), future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

fn key(ledger: &str, account: &str) -> (String, String) {
    (ledger.to_owned(), account.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bank_a_pays_bank_b_2000_dcep_through_the_clearing_bank() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let net = LocalNetwork::start(
        dir.path(),
        clock.clone() as Arc<dyn Clock>,
        NetworkOptions::default(),
    )
    .await
    .unwrap();
    let before = balances(&net).await;

    let spsp = net.payer.setup(&net.ledgers.receiver_url).await.unwrap();
    let receipt = net
        .payer
        .pay(&spsp, 200_000, "invoice 2026-11", |_| {})
        .await
        .unwrap();
    assert_eq!(receipt.quote.source_amount, 100_100);
    assert_eq!(receipt.quote.fee, 100);

    let after = balances(&net).await;
    let expected: BTreeMap<_, _> = [
        (key("digital-euro", "bank-a"), -100_100),
        (key("digital-euro", "clearing-bank"), 100_100),
        (key("e-cny", "clearing-bank"), -200_000),
        (key("e-cny", "bank-b"), 200_000),
    ]
    .into_iter()
    .collect();
    assert_eq!(change(&before, &after), expected);

    // Bank B recorded it under the same end-to-end id, with the reference, and says so on its
    // API (held until decided: the payer can hear of the fulfilment before Bank B records it).
    let receiver_api = net
        .ledgers
        .receiver_url
        .trim_end_matches("/.well-known/pay")
        .to_owned();
    let http = net.ledgers.https_client().unwrap();
    let response = http
        .get(format!(
            "{receiver_api}/v1/received/{}?wait_ms=10000",
            receipt.uetr
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let received: Vec<connector::receiver::ReceivedPayment> = response.json().await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(
        (received[0].amount, received[0].outcome.as_str()),
        (200_000, "fulfilled")
    );
    assert_eq!(received[0].reference, "invoice 2026-11");
    let unknown = http
        .get(format!(
            "{receiver_api}/v1/received/00000000-0000-0000-0000-000000000000?wait_ms=20"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(unknown.headers()["content-type"], "application/problem+json");

    // The connector's journal has it fulfilled, with its trail, under the same UETR.
    let store = net.connector.connector.store();
    let filter = connector::store::PaymentFilter {
        uetr: Some(receipt.uetr),
        limit: 5,
        ..Default::default()
    };
    let found = store.payments(&filter).await.unwrap();
    assert_eq!(found.len(), 1);
    let payment = &found[0];
    // The incoming leg is recorded fulfilled once its ledger confirms; the sender saw that too.
    assert_eq!(payment.state, PaymentState::Fulfilled);
    assert_eq!(payment.fee, 100);
    let trail: Vec<String> = store
        .trail(payment.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(trail.first().map(String::as_str), Some("incoming_seen"));
    assert!(trail.iter().any(|k| k == "outgoing_fulfilled"), "{trail:?}");
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_shared_secret_is_refused_and_refunded() {
    let dir = tempfile::tempdir().unwrap();
    let net = LocalNetwork::start(dir.path(), clock() as Arc<dyn Clock>, NetworkOptions::default())
        .await
        .unwrap();
    let before = balances(&net).await;
    let mut spsp = net.payer.setup(&net.ledgers.receiver_url).await.unwrap();
    spsp.shared_secret = net
        .payer
        .setup(&net.ledgers.receiver_url)
        .await
        .unwrap()
        .shared_secret;

    let err = net.payer.pay(&spsp, 200_000, "", |_| {}).await.unwrap_err();
    // Bank B's own reason travels back through the connector to Bank A.
    assert!(
        matches!(&err, PayError::Rejected { code, .. } if code == "F05"),
        "{err}"
    );
    assert!(
        change(&before, &balances(&net).await).is_empty(),
        "everything refunded"
    );
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_amount_above_the_packet_limit_is_refused_at_quote_time() {
    let dir = tempfile::tempdir().unwrap();
    let net = LocalNetwork::start(dir.path(), clock() as Arc<dyn Clock>, NetworkOptions::default())
        .await
        .unwrap();
    // 6,000,000.00 DC/EP exceeds the connector's 1,000,000.00 DE packet limit once quoted.
    let spsp = net.payer.setup(&net.ledgers.receiver_url).await.unwrap();
    let err = net.payer.pay(&spsp, 600_000_000, "", |_| {}).await.unwrap_err();
    assert!(
        matches!(&err, PayError::Quote(m) if m.contains("limit_exceeded")),
        "{err}"
    );
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_receiver_offline_both_legs_are_refunded_outgoing_first() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let options = NetworkOptions {
        receiver_online: false,
        ..NetworkOptions::default()
    };
    let net = LocalNetwork::start(dir.path(), clock.clone() as Arc<dyn Clock>, options)
        .await
        .unwrap();
    let before = balances(&net).await;
    let spsp = net.payer.setup(&net.ledgers.receiver_url).await.unwrap();

    let (escrowed_tx, escrowed_rx) = tokio::sync::oneshot::channel();
    let mut escrowed_tx = Some(escrowed_tx);
    let mut updates = net.connector.connector.payment_updates();
    let mut payment = Box::pin(net.payer.pay(&spsp, 200_000, "", move |p| {
        if let connector::sender::Progress::Escrowed { uetr, .. } = p
            && let Some(tx) = escrowed_tx.take()
        {
            let _ = tx.send(*uetr);
        }
    }));
    // Wait until the connector has forwarded, so both legs exist. The payment is polled
    // meanwhile; if it ends first, that is the failure to report (not a wait for ever).
    let forwarded = within("the connector to forward the payment", async {
        tokio::select! {
            forwarded = async {
                let uetr = escrowed_rx.await.expect("the payer escrowed");
                loop {
                    let p = updates.recv().await.expect("payment updates");
                    if p.uetr == Some(uetr) && p.state == PaymentState::Forwarded {
                        break p;
                    }
                }
            } => forwarded,
            result = &mut payment => panic!("the payment ended before it was forwarded: {result:?}"),
        }
    })
    .await;
    // Past the outgoing expiry only: the e-CNY sweeper refunds the connector's escrow, and the
    // connector then rejects the incoming one before it expires.
    let out = forwarded.outgoing.clone().unwrap();
    clock.set(out.expires_at);
    // The background sweeper may get there first; either refunds it.
    within("the e-CNY sweep", net.ledgers.e_cny.sweep_now())
        .await
        .unwrap();
    let result = within("the payment's outcome", payment).await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, PayError::Rejected { code, .. } if code == "R00"),
        "{err}"
    );
    assert!(
        clock.now() < forwarded.incoming.expires_at,
        "the incoming leg was refunded before its own expiry"
    );
    assert!(
        change(&before, &balances(&net).await).is_empty(),
        "everything refunded"
    );
    net.stop().await;
}

/// Bank A escrows `escrow_amount` carrying a packet for `packet_amount`, promising the receiver
/// at least `promised` minor units; returns the escrow's final status.
async fn pay_with(
    net: &LocalNetwork,
    escrow_amount: u64,
    packet_amount: u64,
    promised: u64,
) -> htlc::EscrowStatus {
    use htlc::{FulfillmentKey, Prepare};
    use plugins::{AccountId, LedgerPlugin, PrepareTransfer, TransferId};
    let spsp = net.payer.setup(&net.ledgers.receiver_url).await.unwrap();
    let quote = net.payer.quote(&spsp.destination_account, 200_000).await.unwrap();
    let data = connector::payment_data::PaymentData::new(promised, "")
        .unwrap()
        .encode();
    let condition = FulfillmentKey::from_shared_secret(&spsp.secret().unwrap())
        .fulfillment(&data)
        .condition();
    let expires_at = net
        .ledgers
        .clock
        .now()
        .checked_add_millis(i64::try_from(quote.expiry_window_ms).expect("a window in ms"))
        .unwrap();
    let packet = Prepare::new(
        spsp.destination_account.clone(),
        packet_amount,
        expires_at,
        condition,
        data,
    )
    .unwrap();
    let bank_a = net.ledgers.client("digital-euro", "bank-a").unwrap();
    let id = TransferId::random();
    bank_a
        .prepare(PrepareTransfer {
            id,
            from: AccountId::new("bank-a").unwrap(),
            to: quote.pay_to.clone(),
            amount: escrow_amount,
            condition,
            expires_at,
            memo: packet.encode(),
        })
        .await
        .unwrap();
    let mut updates = net.connector.connector.payment_updates();
    loop {
        let transfer = bank_a.transfer(id).await.unwrap();
        if transfer.status.is_final() {
            return transfer.status;
        }
        // Every change of the payment is committed by the connector before it acts on it.
        let _ = tokio::time::timeout(std::time::Duration::from_millis(500), updates.recv()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_amounts_are_rejected_and_refunded() {
    let dir = tempfile::tempdir().unwrap();
    let net = LocalNetwork::start(dir.path(), clock() as Arc<dyn Clock>, NetworkOptions::default())
        .await
        .unwrap();
    let before = balances(&net).await;

    // The escrow holds less than its packet claims: the connector refuses (F03).
    let status = pay_with(&net, 100_000, 100_100, 200_000).await;
    assert_eq!(status, htlc::EscrowStatus::Rejected);

    // The sender promised the receiver more than the quote delivers: Bank B refuses (F04).
    let status = pay_with(&net, 100_100, 100_100, 200_001).await;
    assert_eq!(status, htlc::EscrowStatus::Rejected);

    assert!(
        change(&before, &balances(&net).await).is_empty(),
        "everything refunded"
    );
    let refused: Vec<_> = net
        .connector
        .connector
        .store()
        .payments(&connector::store::PaymentFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(refused.len(), 2);
    assert!(refused.iter().all(|p| p.state == PaymentState::Rejected));
    let mut codes: Vec<_> = refused.iter().filter_map(|p| p.reject_code).collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            htlc::ErrorCode::F03_INVALID_AMOUNT,
            htlc::ErrorCode::F04_INSUFFICIENT_DESTINATION_AMOUNT
        ],
        "the connector refused one, Bank B the other"
    );
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_above_the_payees_capacity_is_refused_at_quote_time() {
    let dir = tempfile::tempdir().unwrap();
    let net = LocalNetwork::start(dir.path(), clock() as Arc<dyn Clock>, NetworkOptions::default())
        .await
        .unwrap();
    // Liu Yang's tier-4 e-CNY wallet holds 800.00 of its 1,000.00 balance limit.
    let wallet = htlc::Address::new("test.ecny.wallet-t4-liu.invoice-9").unwrap();
    let err = net.payer.quote(&wallet, 30_000).await.unwrap_err();
    assert!(
        matches!(&err, PayError::Quote(m) if m.contains("payee_cannot_receive") && m.contains("20000")),
        "{err}"
    );
    let ok = net.payer.quote(&wallet, 15_000).await.unwrap();
    assert_eq!(ok.destination_amount, 15_000);
    net.stop().await;
}
