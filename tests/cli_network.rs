//! The whole network from the command line, every part its own `cypherlink` process on
//! 127.0.0.1: the digital-euro and e-CNY ledgers (`cypherlink cbdc`), the clearing bank's
//! connector (`cypherlink connector`), Bank B's receiver (`cypherlink receiver`); then Bank A
//! quotes (`cypherlink quote`) and pays (`cypherlink pay`) as an operator would, and a payment
//! the connector's limits refuse fails with its reason. Everything speaks HTTPS with the
//! certificates `cypherlink dev-certs` makes; a plain-HTTP setup URL is refused.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::Arc;

use connector::receiver::config::{PayerConfig, ReceiverConfig};
use connector::store::Durability;
use htlc::SystemClock;
use plugins::{AccountId, LedgerPlugin, RestPlugin, RestPluginConfig};
use tls::dev::DevCerts;
use tokio::process::Command;

mod common;
use common::process::{PATIENCE, Service, ServiceCommand};

/// Starts `cypherlink <args>` and waits for the line containing `ready` on its stdout; its
/// `url` is the first one printed after that marker.
async fn service(args: &[&str], ready: &str) -> Service {
    ServiceCommand::new(args.iter().copied(), ready).start().await
}

/// Runs `cypherlink <args>` to completion.
async fn run(args: &[&str]) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_cypherlink"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cypherlink");
    tokio::time::timeout(PATIENCE, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("cypherlink {args:?} did not finish"))
        .expect("wait for cypherlink")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// `127.0.0.1:<port>` of an `https://localhost:<port>` URL.
fn addr(url: &str) -> SocketAddr {
    let port = url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port");
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn write(path: &Path, value: &impl serde::Serialize) -> String {
    std::fs::write(path, toml::to_string(value).expect("TOML")).expect("write config");
    path.display().to_string()
}

/// Bank B's balance on e-CNY, read with its key.
async fn bank_b_balance(e_cny: &str, certs: &DevCerts) -> i128 {
    let mut config = RestPluginConfig::new(e_cny, "bank-b-k1", "TEST-ONLY-bank-b-k1-secret-0001");
    config.tls = Some(certs.client());
    let bank_b = RestPlugin::connect_with_clock(config, Arc::new(SystemClock))
        .await
        .expect("connect as bank-b");
    bank_b
        .balance(&AccountId::new("bank-b").unwrap())
        .await
        .expect("balance")
        .available
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bank_a_pays_bank_b_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = |name: &str| dir.path().join(name).display().to_string();

    // Throwaway certificates, as a developer makes them.
    let made = run(&["dev-certs", "--out", &path("certs")]).await;
    assert!(made.status.success(), "{made:?}");
    let certs = DevCerts::in_dir(&dir.path().join("certs"));
    let (cert, key) = (
        certs.server_cert.display().to_string(),
        certs.server_key.display().to_string(),
    );

    let listening = "listening on";
    let ledger = |kind: &'static str, database: String| {
        let (cert, key) = (cert.clone(), key.clone());
        async move {
            let args = [
                "cbdc",
                "--kind",
                kind,
                "--listen",
                "127.0.0.1:0",
                "--database",
                &database,
                "--tls-cert",
                &cert,
                "--tls-key",
                &key,
            ];
            service(&args, listening).await
        }
    };
    let de = ledger("digital-euro", path("de.sqlite")).await;
    let e_cny = ledger("e-cny", path("ecny.sqlite")).await;

    // The clearing bank's connector: the fixture, pointed at these ledgers.
    let config = testnet::network::connector_config(
        addr(&de.url),
        addr(&e_cny.url),
        dir.path(),
        Durability::Full,
        &certs,
    );
    let connector_toml = write(&dir.path().join("connector.toml"), &config);
    let connector = service(&["connector", "--config", &connector_toml], listening).await;

    // Bank B's receiver: the fixture, pointed at this e-CNY ledger.
    let mut receiver = ReceiverConfig::from_file(&fixture("bank-b-receiver.toml")).expect("receiver fixture");
    receiver.ledger.url = e_cny.url.clone();
    receiver.ledger.tls = Some(certs.client());
    receiver.receiver.listen = "127.0.0.1:0".parse().unwrap();
    receiver.receiver.database = dir.path().join("receiver.sqlite");
    receiver.receiver.tls = certs.server();
    let receiver_toml = write(&dir.path().join("receiver.toml"), &receiver);
    let receiver = service(&["receiver", "--config", &receiver_toml], "setup URL").await;
    let setup_url = receiver.url.clone();
    assert!(setup_url.ends_with("/.well-known/pay"), "{setup_url}");

    // Bank A: the fixture, pointed at this digital-euro ledger and connector.
    let mut payer = PayerConfig::from_file(&fixture("bank-a-payer.toml")).expect("payer fixture");
    payer.ledger.url = de.url.clone();
    payer.ledger.tls = Some(certs.client());
    payer.connector.url = connector.url.clone();
    payer.tls = Some(certs.client());
    let ca = certs.ca.display().to_string();
    let payer_toml = write(&dir.path().join("payer.toml"), &payer);

    // What it costs, asked by setup URL and by ILP address: 2000.00 DC/EP for 1001.00 DE.
    let quote = run(&[
        "quote",
        "--connector",
        &connector.url,
        "--ca",
        &ca,
        "--ledger",
        "digital-euro",
        "--from",
        "bank-a",
        "--to",
        &setup_url,
        "--amount",
        "2000.00",
    ])
    .await;
    assert!(quote.status.success(), "{quote:?}");
    assert!(
        text(&quote.stdout).contains("2000.00 DC/EP to bank-b costs 1001.00 DE (1000.00 DE + 1.00 DE fee)"),
        "{}",
        text(&quote.stdout)
    );
    let by_address = run(&[
        "quote",
        "--connector",
        &connector.url,
        "--ca",
        &ca,
        "--ledger",
        "digital-euro",
        "--to",
        "test.ecny.bank-b.x",
        "--amount",
        "2000.00",
        "--json",
    ])
    .await;
    assert!(by_address.status.success(), "{by_address:?}");
    let json: serde_json::Value = serde_json::from_slice(&by_address.stdout).expect("JSON quote");
    assert_eq!(json["source_amount"], "100100");
    let bad_amount = run(&[
        "quote",
        "--connector",
        &connector.url,
        "--ca",
        &ca,
        "--ledger",
        "digital-euro",
        "--to",
        &setup_url,
        "--amount",
        "20.001",
    ])
    .await;
    assert_eq!(bad_amount.status.code(), Some(2), "{bad_amount:?}");
    assert!(text(&bad_amount.stderr).contains("--amount"), "{bad_amount:?}");

    // The payment.
    let before = bank_b_balance(&e_cny.url, &certs).await;
    let paid = run(&[
        "pay",
        "--config",
        &payer_toml,
        "--to",
        &setup_url,
        "--amount",
        "2000.00",
        "--reference",
        "invoice 7",
    ])
    .await;
    let stdout = text(&paid.stdout);
    assert!(
        paid.status.success(),
        "{paid:?}\n{stdout}\n{}",
        text(&paid.stderr)
    );
    let steps: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(steps, ["setup", "quote", "escrow", "outcome"], "{stdout}");
    assert!(
        stdout.contains("2000.00 DC/EP costs 1001.00 DE (1000.00 DE + 1.00 DE fee)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("paid: the receiver got 2000.00 DC/EP for 1001.00 DE"),
        "{stdout}"
    );
    assert_eq!(
        bank_b_balance(&e_cny.url, &certs).await - before,
        200_000,
        "Bank B got 2000.00 DC/EP"
    );

    // Above the connector's 500,000.00 DE packet limit: refused at quote time, nothing escrowed.
    let refused = run(&[
        "pay",
        "--config",
        &payer_toml,
        "--to",
        &setup_url,
        "--amount",
        "2000000.00",
    ])
    .await;
    let (stdout, stderr) = (text(&refused.stdout), text(&refused.stderr));
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert!(stderr.contains("payment failed"), "{stderr}");
    assert!(stderr.contains("limit_exceeded"), "{stderr}");
    assert!(!stdout.contains("escrow"), "nothing was escrowed: {stdout}");
    assert_eq!(
        bank_b_balance(&e_cny.url, &certs).await - before,
        200_000,
        "nothing more moved"
    );

    // Bad input is refused before anything is asked of anyone.
    let bad = run(&[
        "pay",
        "--config",
        &payer_toml,
        "--to",
        &setup_url,
        "--amount",
        "two thousand",
    ])
    .await;
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");

    // A setup URL over plain HTTP is refused before anything is sent: its answer is the
    // payment's secret. And the receiver does not speak plain HTTP at all.
    let plain_url = setup_url.replace("https://", "http://");
    let plain = run(&[
        "pay",
        "--config",
        &payer_toml,
        "--to",
        &plain_url,
        "--amount",
        "1.00",
    ])
    .await;
    assert_eq!(plain.status.code(), Some(2), "{plain:?}");
    assert!(text(&plain.stderr).contains("must be https://"), "{plain:?}");
    let answered = reqwest::Client::new().get(&plain_url).send().await;
    assert!(
        !answered.is_ok_and(|r| r.status().is_success()),
        "the setup endpoint must not answer in clear"
    );
    assert_eq!(
        bank_b_balance(&e_cny.url, &certs).await - before,
        200_000,
        "nothing more moved"
    );
}
