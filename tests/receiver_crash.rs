//! Kill -9 of Bank B's receiver under load: no payment is lost, credited twice or left stuck.
//!
//! The receiver is the real `cypherlink receiver` process, following Bank B's account on the
//! e-CNY ledger. The ledgers run in this test process (`testnet`'s, with their own receiver
//! offline). The test plays the clearing bank's last hop: payers take connections from the
//! receiver's setup endpoint, and for each payment the test escrows e-CNY from the clearing
//! bank to Bank B with the ILP Prepare built from the connection's secret as its memo, as the
//! connector does, and awaits the escrow's outcome.
//!
//! Under that stream the receiver gets SIGKILL. While it is down more payments arrive: some with
//! time to wait for it, some whose short expiry passes before it is back, and one it had claimed
//! just before it died without recording the claim (the test claims it as the receiver would,
//! with Bank B's key) and whose expiry passes too. It is restarted on the same database and
//! paid once more. Then every payment seen fulfilled before the kill is still fulfilled, every
//! other one is either fulfilled after the restart or, if its time ran out, refunded; nothing
//! stays held; Bank B gained exactly the fulfilled amounts and the clearing bank lost them,
//! nothing else moved, and the supply did not change; and the receiver has exactly one record
//! of each fulfilled payment, saying so, and none saying so of any other.
//!
//! The receiver process judges expiries by the machine's clock, which no test can move, so the
//! ledgers run on it too, and the expiries that must pass are half a second; every wait is a
//! condition polled with a deadline.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use connector::payment_data::PaymentData;
use connector::receiver::config::ReceiverConfig;
use connector::receiver::{ReceivedPayment, SpspResponse};
use connector::store::{Durability, Store};
use htlc::{Clock, EscrowStatus, Fulfillment, FulfillmentKey, Prepare, SystemClock};
use plugins::{AccountId, LedgerPlugin, PrepareTransfer, RestPlugin, TransferId};
use testnet::network::{Ledgers, https_url};
use uuid::Uuid;

mod common;
use common::load;
use common::process::{PATIENCE, ServiceCommand};

/// Payers streaming payments at once, each through its own connection.
const PAYERS: usize = 16;
/// Payments the paying side has seen fulfilled when the receiver is killed.
const FULFILLED_BEFORE_KILL: usize = 100;
/// Payments of each kind arriving while the receiver is down.
const WHILE_DOWN: usize = 4;
/// The expiry of a payment that can wait for the receiver's restart (the test takes seconds).
const PATIENT_MS: i64 = 120_000;
/// The expiry of a payment that runs out while the receiver is down.
const HASTY_MS: i64 = 500;

/// One payment: its escrow on e-CNY, its end-to-end id, and the fulfilment that claims it.
#[derive(Debug, Clone)]
struct Payment {
    transfer: TransferId,
    uetr: Uuid,
    amount: u64,
    fulfillment: Fulfillment,
}

/// The clearing bank's last hop: escrows e-CNY to Bank B for a payer's connection.
struct LastHop {
    ledger: Arc<RestPlugin>,
}

impl LastHop {
    async fn send(&self, connection: &SpspResponse, amount: u64, expiry_ms: i64) -> Payment {
        let data = PaymentData::new(amount, "receiver crash test").unwrap();
        let secret = connection.secret().expect("a base64 secret");
        let fulfillment = FulfillmentKey::from_shared_secret(&secret).fulfillment(&data.encode());
        let condition = fulfillment.condition();
        let expires_at = SystemClock.now().checked_add_millis(expiry_ms).unwrap();
        let destination = connection.destination_account.clone();
        let packet = Prepare::new(destination, amount, expires_at, condition, data.encode()).unwrap();
        let transfer = TransferId::random();
        self.ledger
            .prepare(PrepareTransfer {
                id: transfer,
                from: AccountId::new("clearing-bank").unwrap(),
                to: AccountId::new("bank-b").unwrap(),
                amount,
                condition,
                expires_at,
                memo: packet.encode(),
            })
            .await
            .expect("the escrow is prepared");
        Payment {
            transfer,
            uetr: data.uetr,
            amount,
            fulfillment,
        }
    }

    async fn status(&self, payment: &Payment) -> EscrowStatus {
        self.ledger
            .transfer(payment.transfer)
            .await
            .expect("the escrow's status")
            .status
    }

    /// Polls until the escrow is no longer prepared, or `give_up` says so; the last status.
    async fn outcome(&self, payment: &Payment, give_up: impl Fn() -> bool) -> EscrowStatus {
        loop {
            let status = self.status(payment).await;
            if status != EscrowStatus::Prepared || give_up() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// One payer: pays through its connection, one payment at a time, until `stop`; returns each
/// payment with the status it last saw.
async fn stream(
    hop: Arc<LastHop>,
    connection: SpspResponse,
    payer: u64,
    stop: Arc<AtomicBool>,
    fulfilled: Arc<AtomicUsize>,
) -> Vec<(Payment, EscrowStatus)> {
    let mut sent = Vec::new();
    for n in 0u64.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let payment = hop
            .send(&connection, 1 + (n * 31 + payer) % 1_000, PATIENT_MS)
            .await;
        let status = hop.outcome(&payment, || stop.load(Ordering::Relaxed)).await;
        if status == EscrowStatus::Fulfilled {
            fulfilled.fetch_add(1, Ordering::Relaxed);
        }
        sent.push((payment, status));
    }
    sent
}

/// Checks that the receiver saved the cursor it follows its ledger from before it announced
/// itself: a new receiver ignores escrows made before that cursor, so a payment set up after
/// the announcement must never fall before it.
async fn assert_following(database: &Path) {
    let store = Store::open(database, Durability::Full)
        .await
        .expect("the receiver's database");
    assert!(
        !store.cursors().await.expect("cursors").is_empty(),
        "the receiver announced itself before saving its starting cursor"
    );
}

/// The receiver's records of the payment `uetr`; `wait_ms`: how long it may wait for a first
/// one. (A payment it refused is filed without its UETR, so is not found here.)
async fn records(http: &reqwest::Client, receiver: &str, uetr: Uuid, wait_ms: u64) -> Vec<ReceivedPayment> {
    let url = format!("{receiver}/v1/received/{uetr}?wait_ms={wait_ms}");
    let response = http.get(url).send().await.expect("the receiver answers");
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Vec::new();
    }
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.expect("its records")
}

/// (ledger, account) -> (available, held), everywhere.
async fn balances(ledgers: &Ledgers) -> BTreeMap<(String, String), (i128, u64)> {
    let all = ledgers.balances().await.expect("balances");
    all.into_iter()
        .map(|b| {
            (
                (b.ledger.to_string(), b.account.to_string()),
                (b.available, b.held),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receiver_loses_and_doubles_nothing_across_kill_9() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The receiver process judges expiries by the machine's clock: so do the ledgers.
    let ledgers = Ledgers::start(dir.path(), Arc::new(SystemClock), false, Durability::Full)
        .await
        .expect("ledgers start");
    let database = dir.path().join("receiver.sqlite");
    let mut config = ReceiverConfig::from_file(Path::new("fixtures/bank-b-receiver.toml")).unwrap();
    config.ledger.url = https_url(ledgers.e_cny.addr());
    config.ledger.tls = Some(ledgers.certs.client());
    config.receiver.listen = "127.0.0.1:0".parse().unwrap();
    config.receiver.database = database.clone();
    config.receiver.tls = ledgers.certs.server();
    let config_path = dir.path().join("receiver.toml");
    std::fs::write(&config_path, toml::to_string(&config).unwrap()).unwrap();
    let command = ServiceCommand::new(["receiver", "--config"], "setup URL").arg(&config_path);

    let receiver = command.start().await;
    let setup_url = receiver.url.clone();
    assert_following(&database).await;
    let http = ledgers.https_client().unwrap();
    let mut connections = Vec::new();
    for _ in 0..PAYERS {
        let answer = http.get(&setup_url).send().await.expect("setup");
        connections.push(answer.json::<SpspResponse>().await.expect("a connection"));
    }
    let opening = balances(&ledgers).await;
    let supply = ledgers.e_cny.supply().await.unwrap();
    let hop = Arc::new(LastHop {
        ledger: ledgers
            .client("e-cny", "clearing-bank")
            .expect("the clearing bank's key"),
    });

    // The stream, and the kill in the middle of it.
    let (stop, fulfilled) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let payers: Vec<_> = (0..PAYERS)
        .map(|p| {
            let connection = connections[p].clone();
            tokio::spawn(stream(
                hop.clone(),
                connection,
                p as u64,
                stop.clone(),
                fulfilled.clone(),
            ))
        })
        .collect();
    load::reach(&fulfilled, FULFILLED_BEFORE_KILL).await;
    receiver.kill().await;
    stop.store(true, Ordering::Relaxed);
    let before_kill: Vec<_> = load::join(payers).await.into_iter().flatten().collect();
    assert!(
        before_kill
            .iter()
            .all(|(_, s)| matches!(s, EscrowStatus::Fulfilled | EscrowStatus::Prepared)),
        "nothing refused or expired: {before_kill:?}"
    );
    let in_flight: Vec<&Payment> = (before_kill.iter())
        .filter(|(_, s)| *s == EscrowStatus::Prepared)
        .map(|(p, _)| p)
        .collect();
    // Those the receiver claimed before it died, though their payer had not seen it yet.
    let mut claimed_unseen = 0;
    for payment in &in_flight {
        if hop.status(payment).await == EscrowStatus::Fulfilled {
            claimed_unseen += 1;
        }
    }

    // While it is down: payments that can wait, payments whose time runs out, and one it had
    // claimed just before it died, its record of the claim lost with it (claimed here, with Bank
    // B's key and the fulfilment the receiver derives).
    let mut patient = Vec::new();
    let mut hasty = Vec::new();
    for k in 0..WHILE_DOWN {
        let connection = &connections[k % PAYERS];
        patient.push(hop.send(connection, 500 + k as u64, PATIENT_MS).await);
        hasty.push(hop.send(connection, 700 + k as u64, HASTY_MS).await);
    }
    let claimed = hop.send(&connections[0], 900, HASTY_MS).await;
    let bank_b = ledgers.client("e-cny", "bank-b").expect("Bank B's key");
    bank_b
        .fulfill(claimed.transfer, claimed.fulfillment)
        .await
        .expect("claimed");
    // It comes back once they have expired (the ledger's sweeper refunds them at expiry).
    let deadline = Instant::now() + PATIENCE;
    for payment in &hasty {
        let status = hop.outcome(payment, || Instant::now() > deadline).await;
        assert_eq!(status, EscrowStatus::Expired, "refunded at expiry");
    }

    let receiver = command.start().await;
    let restarted = Instant::now();
    let deadline = restarted + PATIENCE;
    let after_restart = hop.send(&connections[0], 1_000, PATIENT_MS).await;
    let waiting = (before_kill.iter().map(|(p, _)| p))
        .chain(&patient)
        .chain([&claimed, &after_restart]);
    for payment in waiting {
        let status = hop.outcome(payment, || Instant::now() > deadline).await;
        assert_eq!(status, EscrowStatus::Fulfilled, "{payment:?} after the restart");
    }
    let settled = restarted.elapsed();

    // The receiver's records: one for each payment the ledger fulfilled, saying so, and none
    // saying so for any other. It decides escrows in ledger order, so once the last payment's
    // record is there, every earlier one is decided. (It listens on a new port.)
    let api = receiver.url.trim_end_matches("/.well-known/pay");
    assert_eq!(records(&http, api, after_restart.uetr, 30_000).await.len(), 1);
    let everything = (before_kill.iter().map(|(p, _)| p))
        .chain(&patient)
        .chain(&hasty)
        .chain([&claimed, &after_restart]);
    let mut credited = 0i128;
    for payment in everything {
        let status = hop.status(payment).await;
        let found = records(&http, api, payment.uetr, 0).await;
        let fulfilled: Vec<_> = found.iter().filter(|r| r.outcome == "fulfilled").collect();
        if status == EscrowStatus::Fulfilled {
            assert_eq!(found.len(), 1, "{payment:?}: one record, not {found:?}");
            assert_eq!(fulfilled.len(), 1, "{payment:?} is fulfilled, not {found:?}");
            let record = &found[0];
            assert_eq!(
                (record.transfer, record.amount),
                (payment.transfer, payment.amount)
            );
            credited += i128::from(payment.amount);
        } else {
            assert!(fulfilled.is_empty(), "{payment:?} is {status:?}, not {found:?}");
        }
    }

    // The ledgers: exactly the fulfilled payments moved, nothing is held, no money was made.
    let after = balances(&ledgers).await;
    let mut expected = opening.clone();
    expected.get_mut(&("e-cny".into(), "bank-b".into())).unwrap().0 += credited;
    expected
        .get_mut(&("e-cny".into(), "clearing-bank".into()))
        .unwrap()
        .0 -= credited;
    assert_eq!(
        after, expected,
        "every fulfilled payment credited once, nothing else moved"
    );
    assert!(
        after.values().all(|(_, held)| *held == 0),
        "nothing stuck in escrow: {after:?}"
    );
    let supply_after = ledgers.e_cny.supply().await.unwrap();
    assert_eq!(supply_after, supply, "the supply did not move");
    assert_eq!(supply_after.escrowed, 0);

    eprintln!(
        "{} payments before the kill ({} in flight, {claimed_unseen} of them claimed before it \
         died), {} while down ({WHILE_DOWN} of them expired, 1 claimed); all settled {:.2} s \
         after the restart",
        before_kill.len(),
        in_flight.len(),
        2 * WHILE_DOWN + 1,
        settled.as_secs_f64()
    );
    receiver.kill().await;
    ledgers.stop().await;
}
