//! The scenario with the DC/EP leg on the committee chain (DESIGN.md steps 4-13): Bank A pays
//! 1001.00 DE on the digital-euro ledger; the clearing bank's connector locks 2000.00 DC/EP on
//! the chain for Bank B under the same condition; Bank B's receiver fulfils on the chain; the
//! connector learns the preimage from the chain and is paid on the digital-euro ledger.
//!
//! Every part is real (`testnet::chain_network`, which `cypherlink demo --chain` runs too):
//! the digital-euro ledger (HTTP + SQLite), four validators with TCP links and SQLite (in this
//! process), the connector (configured with a `kind = "chain"` ledger), the receiver and the
//! sender. All on the machine's clock, since block times are wall-clock time.

use std::collections::BTreeMap;
use std::sync::Arc;

use connector::store::Durability;
use htlc::{Clock, SystemClock};
use testnet::chain_network::{CHAIN_LEDGER, ChainNetwork};
use testnet::network::{AccountBalance, NetworkOptions};

/// (ledger, account id, or holder name on the chain where ids are key hashes) ->
/// (available, held).
fn by_holder(balances: &[AccountBalance]) -> BTreeMap<(String, String), (i128, u64)> {
    balances
        .iter()
        .map(|b| {
            let who = if b.ledger.as_str() == CHAIN_LEDGER {
                b.name.clone()
            } else {
                b.account.to_string()
            };
            ((b.ledger.to_string(), who), (b.available, b.held))
        })
        .collect()
}

fn options() -> NetworkOptions {
    NetworkOptions {
        durability: Durability::Normal,
        ..NetworkOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bank_a_pays_bank_b_2000_dcep_settled_on_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let net = ChainNetwork::start(dir.path(), clock, options()).await.unwrap();
    let before = by_holder(&net.balances().await.unwrap());

    let spsp = net.payer.setup(&net.receiver_url).await.unwrap();
    assert!(
        spsp.destination_account.to_string().starts_with("test.dcep."),
        "{}",
        spsp.destination_account
    );
    let receipt = net
        .payer
        .pay(&spsp, 200_000, "invoice on chain", |_| {})
        .await
        .unwrap();
    assert_eq!((receipt.quote.source_amount, receipt.quote.fee), (100_100, 100));

    // Exact movements: 1001.00 DE from Bank A to the clearing bank, 2000.00 DC/EP from the
    // clearing bank to Bank B; every other account unchanged; nothing left locked anywhere.
    let after = by_holder(&net.balances().await.unwrap());
    let moved: BTreeMap<(String, String), i128> = after
        .iter()
        .filter_map(|(k, (available, held))| {
            assert_eq!(*held, 0, "{k:?} still has funds held");
            let change = available - before[k].0;
            (change != 0).then(|| (k.clone(), change))
        })
        .collect();
    let key = |ledger: &str, holder: &str| (ledger.to_owned(), holder.to_owned());
    assert_eq!(
        moved,
        BTreeMap::from([
            (key("digital-euro", "bank-a"), -100_100),
            (key("digital-euro", "clearing-bank"), 100_100),
            (key(CHAIN_LEDGER, "Clearing bank"), -200_000),
            (key(CHAIN_LEDGER, "Bank B"), 200_000),
        ])
    );
    let received = net
        .receiver
        .wait_received(receipt.uetr, std::time::Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(
        (received.len(), received[0].amount, received[0].outcome.as_str()),
        (1, 200_000, "fulfilled")
    );
    net.stop().await;
}

/// Bank B's receiver is down: nobody claims the chain escrow. At its expiry the connector
/// refunds it on the chain (nobody else would), then rejects Bank A's escrow with R00, and
/// every account on both ledgers ends where it started. About ten seconds of real time (the
/// escrows' expiries).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_offline_is_refunded_on_the_chain_and_the_digital_euro_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let offline = NetworkOptions {
        receiver_online: false,
        ..options()
    };
    let net = ChainNetwork::start(dir.path(), clock, offline).await.unwrap();
    let before = by_holder(&net.balances().await.unwrap());

    let spsp = net.payer.setup(&net.receiver_url).await.unwrap();
    let error = net
        .payer
        .pay(&spsp, 200_000, "nobody home", |_| {})
        .await
        .unwrap_err();
    match error {
        connector::sender::PayError::Rejected { code, .. } => assert_eq!(code, "R00"),
        other => panic!("expected R00, got {other}"),
    }

    // The connector's chain escrow was refunded before Bank A's rejection reached Bank A.
    let after = by_holder(&net.balances().await.unwrap());
    assert_eq!(after, before, "every balance back where it was, nothing held");
    net.stop().await;
}
