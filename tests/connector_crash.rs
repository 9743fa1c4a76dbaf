//! Money is never lost or created across a connector crash. For each step of a payment — after
//! seeing the incoming escrow, after preparing the outgoing one, after learning the preimage,
//! after fulfilling the incoming escrow — the connector process is started with a crash point,
//! SIGKILLed when it reaches it, and restarted; the payment must then complete, and every
//! account on every ledger must have moved by exactly the payment (the clearing bank keeping
//! only its fee).
//!
//! The ledgers, Bank B's receiver and Bank A run in this test process (real servers on
//! 127.0.0.1); the connector is the real `cypherlink connector` binary.
//!
//! Crash points exist in debug builds only (see `connector::engine::CrashPoint`), so this test
//! runs under `cargo test` and not under `cargo test --release`.
#![cfg(debug_assertions)]

use std::collections::BTreeMap;
use std::sync::Arc;

use connector::store::Durability;
use htlc::{Clock, SystemClock};
use testnet::network::Ledgers;

mod common;
use common::process::{PATIENCE, ServiceCommand};

async fn balances(ledgers: &Ledgers) -> BTreeMap<(String, String), i128> {
    ledgers
        .balances()
        .await
        .expect("balances")
        .into_iter()
        .map(|b| {
            assert_eq!(b.held, 0, "{}/{} still has funds held", b.ledger, b.account);
            ((b.ledger.to_string(), b.account.to_string()), b.available)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_payment_completes_exactly_after_a_crash_at_each_step() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let ledgers = Ledgers::start(dir.path(), clock, true, Durability::Full)
        .await
        .expect("ledgers start");

    for point in [
        "after-incoming-recorded",
        "after-outgoing-prepared",
        "after-outgoing-fulfilled",
        "after-incoming-fulfilled",
    ] {
        // A fresh journal per crash point, pointed at the shared ledgers.
        let mut config = ledgers.connector_config();
        config.connector.database = dir.path().join(format!("connector-{point}.sqlite"));
        let config_path = dir.path().join(format!("connector-{point}.toml"));
        std::fs::write(&config_path, toml::to_string(&config).expect("config TOML")).expect("write config");

        let before = balances(&ledgers).await;
        let connector = ServiceCommand::new(["connector", "--config"], "listening on").arg(&config_path);
        let mut first = connector
            .clone()
            .env("CYPHERLINK_CRASH_AT", Some(point))
            .start()
            .await;
        let payer = ledgers.payer(&first.url).expect("payer");
        let spsp = payer.setup(&ledgers.receiver_url).await.expect("setup");
        let payment = tokio::spawn(async move { payer.pay(&spsp, 200_000, point, |_| {}).await });

        // The process stops itself at the crash point and waits there to be killed.
        first.wait_for_line(&format!("CRASHPOINT {point}")).await;
        first.kill().await;
        let second = connector.env("CYPHERLINK_CRASH_AT", None).start().await;

        let receipt = tokio::time::timeout(PATIENCE, payment)
            .await
            .unwrap_or_else(|_| panic!("{point}: the payment never finished"))
            .expect("payment task")
            .unwrap_or_else(|e| panic!("{point}: payment failed after recovery: {e}"));
        assert_eq!(receipt.quote.source_amount, 100_100, "{point}");

        let after = balances(&ledgers).await;
        let moved: BTreeMap<_, _> = after
            .iter()
            .filter_map(|(k, v)| {
                let d = v - before[k];
                (d != 0).then_some(((k.0.as_str(), k.1.as_str()), d))
            })
            .collect();
        let expected: BTreeMap<_, _> = [
            (("digital-euro", "bank-a"), -100_100),
            (("digital-euro", "clearing-bank"), 100_100),
            (("e-cny", "bank-b"), 200_000),
            (("e-cny", "clearing-bank"), -200_000),
        ]
        .into_iter()
        .collect();
        assert_eq!(moved, expected, "{point}: exactly the payment moved");
        drop(second);
    }
    ledgers.stop().await;
}
