//! Kill -9 of each ledger under load: exactly the acknowledged changes survive.
//!
//! For the mock bank, the digital euro and the e-CNY, the real `cypherlink` binary serves the
//! ledger over HTTPS with `durability = "full"` while three banks pay each other and one runs
//! escrows (prepare, then fulfil) as fast as they can. After a few hundred acknowledged
//! requests the process gets SIGKILL; it is restarted on the same database and every request
//! is sent again with its `Idempotency-Key`. Each one the ledger had acknowledged must come back
//! as a replay (it survived, and is not applied again); each whose answer was lost in the crash
//! is applied at most once. At the end every balance is its opening balance plus exactly the
//! requests made, nothing is held, and the supply has not moved.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use htlc::{Clock, Fulfillment, SystemClock};
use mock_ledgers::config::{LedgerConfig, fixtures};
use plugins::{AccountId, PrepareTransfer, TransferId};

mod common;
use common::load;
use common::process::ServiceCommand;

/// Acknowledged requests before the kill.
const ACKED_BEFORE_KILL: usize = 300;
const BANKS: [&str; 3] = ["bank-a", "bank-b", "clearing-bank"];

/// `cypherlink <args>` serving a ledger over HTTPS on a free port, its database in `dir`.
fn ledger_command(args: &[&str], dir: &Path, certs: &tls::dev::DevCerts) -> ServiceCommand {
    ServiceCommand::new(args.iter().copied(), "listening on")
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--database")
        .arg(dir.join("ledger.sqlite"))
        .arg("--tls-cert")
        .arg(&certs.server_cert)
        .arg("--tls-key")
        .arg(&certs.server_key)
}

/// A signed request, kept so that it can be sent again with the same key and body.
#[derive(Clone, Debug)]
struct Request {
    key_id: String,
    path: String,
    body: Vec<u8>,
    idempotency_key: String,
    /// What it does to balances once applied: (account, available change, held change).
    effect: Vec<(String, i128, i128)>,
}

/// How a request fared before the kill.
#[derive(Debug)]
enum Outcome {
    Acknowledged { status: u16, body: serde_json::Value },
    Lost,
}

struct Client {
    http: reqwest::Client,
    config: Arc<LedgerConfig>,
}

impl Client {
    async fn send(
        &self,
        base_url: &str,
        r: &Request,
    ) -> Result<(u16, bool, serde_json::Value), reqwest::Error> {
        let secret = &self.config.keys[&r.key_id].secret;
        let headers = plugins::auth::sign(&r.key_id, secret, "POST", &r.path, now_secs(), &r.body);
        let mut request = self
            .http
            .post(format!("{base_url}{}", r.path))
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", &r.idempotency_key)
            .body(r.body.clone());
        for (name, value) in headers.pairs() {
            request = request.header(name, value);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let replayed = response
            .headers()
            .get(mock_ledgers::server::http::REPLAYED_HEADER)
            .is_some_and(|v| v == "true");
        let body = response.json().await.unwrap_or(serde_json::Value::Null);
        Ok((status, replayed, body))
    }

    async fn get(&self, base_url: &str, key_id: &str, path: &str) -> serde_json::Value {
        let secret = &self.config.keys[key_id].secret;
        let headers = plugins::auth::sign(key_id, secret, "GET", path, now_secs(), b"");
        let mut request = self.http.get(format!("{base_url}{path}"));
        for (name, value) in headers.pairs() {
            request = request.header(name, value);
        }
        let response = request.send().await.expect("GET");
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.expect("JSON")
    }

    fn key_of(&self, participant: &str) -> String {
        let mut keys: Vec<&String> = self
            .config
            .keys
            .iter()
            .filter(|(_, k)| k.participant == participant)
            .map(|(id, _)| id)
            .collect();
        keys.sort();
        keys.first().map(|k| (*k).clone()).expect("a key")
    }

    /// (available, held) of each bank's own account.
    async fn balances(&self, base_url: &str) -> BTreeMap<String, (i128, i128)> {
        let mut out = BTreeMap::new();
        for bank in BANKS {
            let b = self
                .get(
                    base_url,
                    &self.key_of(bank),
                    &format!("/v1/accounts/{bank}/balance"),
                )
                .await;
            let available = b["available"].as_i64().expect("available") as i128;
            let held = b["held"].as_i64().expect("held") as i128;
            out.insert(bank.to_owned(), (available, held));
        }
        out
    }
}

fn now_secs() -> i64 {
    SystemClock.now().unix_secs()
}

fn payment(client: &Client, from: &str, to: &str, amount: u64) -> Request {
    let body = serde_json::json!({ "from": from, "to": to, "amount": amount, "reference": "load" });
    Request {
        key_id: client.key_of(from),
        path: "/v1/payments".into(),
        body: serde_json::to_vec(&body).unwrap(),
        idempotency_key: uuid::Uuid::new_v4().to_string(),
        effect: vec![
            (from.into(), -i128::from(amount), 0),
            (to.into(), i128::from(amount), 0),
        ],
    }
}

/// An escrow from `from` to `to`, and its fulfilment.
fn escrow(client: &Client, from: &str, to: &str, amount: u64) -> [Request; 2] {
    // A fresh preimage per escrow: two random UUIDs' bytes.
    let mut preimage = [0u8; 32];
    preimage[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    preimage[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    let fulfillment = Fulfillment::from_bytes(preimage);
    let id = TransferId::random();
    let transfer = PrepareTransfer {
        id,
        from: AccountId::new(from).unwrap(),
        to: AccountId::new(to).unwrap(),
        amount,
        condition: fulfillment.condition(),
        expires_at: SystemClock.now().checked_add_millis(10 * 60_000).unwrap(),
        memo: vec![],
    };
    let fulfil = serde_json::json!({ "fulfillment": fulfillment });
    let amount = i128::from(amount);
    [
        Request {
            key_id: client.key_of(from),
            path: "/v1/transfers".into(),
            body: serde_json::to_vec(&transfer).unwrap(),
            idempotency_key: uuid::Uuid::new_v4().to_string(),
            effect: vec![(from.into(), -amount, amount)],
        },
        Request {
            key_id: client.key_of(to),
            path: format!("/v1/transfers/{}/fulfill", transfer.id),
            body: serde_json::to_vec(&fulfil).unwrap(),
            idempotency_key: uuid::Uuid::new_v4().to_string(),
            effect: vec![(from.into(), 0, -amount), (to.into(), amount, 0)],
        },
    ]
}

/// Sends requests until one fails (the kill); returns each with its outcome, in order.
async fn load(
    client: Arc<Client>,
    base_url: String,
    acked: Arc<AtomicUsize>,
    worker: usize,
) -> Vec<(Request, Outcome)> {
    let mut done = Vec::new();
    for round in 0u64.. {
        let batch: Vec<Request> = if worker == BANKS.len() {
            escrow(&client, "bank-a", "bank-b", 1 + round % 97).into()
        } else {
            let from = BANKS[worker];
            let to = BANKS[(worker + 1 + usize::from(round % 2 == 1)) % BANKS.len()];
            vec![payment(
                &client,
                from,
                to,
                1 + (round * 31 + worker as u64) % 1_000,
            )]
        };
        let mut batch = batch.into_iter();
        while let Some(r) = batch.next() {
            match client.send(&base_url, &r).await {
                Ok((status, _, body)) => {
                    assert!(
                        (200..300).contains(&status),
                        "{} answered {status}: {body}",
                        r.path
                    );
                    acked.fetch_add(1, Ordering::Relaxed);
                    done.push((r, Outcome::Acknowledged { status, body }));
                }
                Err(_) => {
                    // The kill: this request's fate is unknown; the rest of the escrow (its
                    // fulfilment) is still to be sent, after the restart.
                    done.push((r, Outcome::Lost));
                    done.extend(batch.map(|unsent| (unsent, Outcome::Lost)));
                    return done;
                }
            }
        }
    }
    unreachable!()
}

async fn crash_under_load(args: &[&str], fixture: &str) {
    let dir = tempfile::tempdir().unwrap();
    let certs = tls::dev::generate(&dir.path().join("certs"), &[]).unwrap();
    tls::install_default_provider();
    let client = Arc::new(Client {
        http: plugins::client::tls_http_client(Duration::from_secs(10), &certs.client()).unwrap(),
        config: Arc::new(LedgerConfig::from_toml(fixture).unwrap()),
    });
    let command = ledger_command(args, dir.path(), &certs);
    let ledger = command.start().await;
    let opening = client.balances(&ledger.url).await;

    let acked = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..=BANKS.len())
        .map(|w| tokio::spawn(load(client.clone(), ledger.url.clone(), acked.clone(), w)))
        .collect();
    load::reach(&acked, ACKED_BEFORE_KILL).await;
    ledger.kill().await;
    let requests: Vec<_> = load::join(workers).await.into_iter().flatten().collect();
    let lost = requests
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Lost))
        .count();
    assert!(
        lost <= BANKS.len() + 2,
        "at most one unknown request per worker (and an unsent fulfilment)"
    );

    eprintln!(
        "{}: {} requests before the kill, {lost} of them unanswered",
        args[0],
        requests.len()
    );
    let ledger = command.start().await;
    let mut expected = opening.clone();
    for (request, outcome) in &requests {
        let (status, replayed, body) = client.send(&ledger.url, request).await.expect("resend");
        assert!(
            (200..300).contains(&status),
            "{} after restart: {status} {body}",
            request.path
        );
        if let Outcome::Acknowledged {
            status: first,
            body: first_body,
        } = outcome
        {
            assert!(
                replayed,
                "{} was acknowledged before the kill and is not on record",
                request.path
            );
            assert_eq!(
                (status, &body),
                (*first, first_body),
                "a replay answers what it answered"
            );
        }
        for (account, available, held) in &request.effect {
            let e = expected.get_mut(account).unwrap();
            e.0 += available;
            e.1 += held;
        }
    }
    let after = client.balances(&ledger.url).await;
    assert_eq!(after, expected, "every request applied exactly once");
    assert!(
        after.values().all(|(_, held)| *held == 0),
        "every escrow fulfilled: {after:?}"
    );
    let total = |b: &BTreeMap<String, (i128, i128)>| b.values().map(|(a, h)| a + h).sum::<i128>();
    assert_eq!(total(&after), total(&opening), "money moved, none made or lost");
    if args[0] == "cbdc" {
        let s = client
            .get(&ledger.url, &client.key_of("bank-a"), "/v1/supply")
            .await;
        assert_eq!(
            s["total_supply"],
            s["balances"].as_i64().unwrap() + s["escrowed"].as_i64().unwrap()
        );
        assert_eq!(s["escrowed"], 0);
    }
    ledger.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mock_bank_keeps_exactly_what_it_acknowledged_across_kill_9() {
    crash_under_load(&["bank", "--config", "fixtures/bank.toml"], fixtures::BANK).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_digital_euro_keeps_exactly_what_it_acknowledged_across_kill_9() {
    let args = [
        "cbdc",
        "--kind",
        "digital-euro",
        "--config",
        "fixtures/digital-euro.toml",
    ];
    crash_under_load(&args, fixtures::DIGITAL_EURO).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_e_cny_keeps_exactly_what_it_acknowledged_across_kill_9() {
    let args = ["cbdc", "--kind", "e-cny", "--config", "fixtures/e-cny.toml"];
    crash_under_load(&args, fixtures::E_CNY).await;
}
