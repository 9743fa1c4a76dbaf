//! Payments through one connector between two mock ledgers, everything on this machine.
//!
//! The digital-euro and e-CNY ledgers (SQLite, WAL, fsync on commit) and Bank B's receiver run
//! in this process; the connector is the real `cypherlink connector` process, so its memory is
//! measured alone. Bank A sends many small payments (10.00 DC/EP each, 6.00 DE with the fee)
//! with a fixed number in flight and waits for each escrow's fulfilment.
//!
//! 1. Throughput: payments per second and end-to-end latency (escrow request to fulfilment
//!    seen by Bank A), p50/p90/p99, and the connector's resident memory.
//! 2. In flight: with Bank B's receiver offline, 10,000 payments are forwarded and left
//!    pending; the connector's resident memory is read with all of them in flight.
//!
//! Run: `cargo bench -p cypherlink --bench payments` (options after `--`:
//! `--payments N --concurrency C --in-flight M --durability full|normal`; `normal` applies to
//! every SQLite file: ledgers, receiver and connector). Results in BENCHMARKS.md.

/// The same allocator as the `cypherlink` binary, for the ledgers hosted here.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use connector::payment_data::PaymentData;
use connector::quote::Quote;
use connector::receiver::SpspResponse;
use connector::store::Durability;
use htlc::{Clock, FulfillmentKey, Prepare, SystemClock};
use plugins::{AccountId, EventKind, LedgerPlugin, PrepareTransfer, RestPlugin, TransferId};
use testnet::network::Ledgers;
use tokio::sync::oneshot;

// The end-to-end tests' service process; the bench uses only part of it.
#[allow(dead_code)]
#[path = "../tests/common/process.rs"]
mod process;
use process::{Service, ServiceCommand};

struct Options {
    payments: usize,
    concurrency: usize,
    in_flight: usize,
    durability: Durability,
}

fn options() -> Options {
    let mut o = Options {
        payments: 20_000,
        concurrency: 200,
        in_flight: 10_000,
        durability: Durability::Full,
    };
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
    };
    if let Some(v) = value("--payments") {
        o.payments = v;
    }
    if let Some(v) = value("--concurrency") {
        o.concurrency = v;
    }
    if let Some(v) = value("--in-flight") {
        o.in_flight = v;
    }
    if let Some(i) = args.iter().position(|a| a == "--durability") {
        o.durability = match args.get(i + 1).map(String::as_str) {
            Some("normal") => Durability::Normal,
            Some("full") => Durability::Full,
            other => panic!("--durability full|normal, not {other:?}"),
        };
    }
    o
}

/// The connector as a child process.
struct ConnectorProcess {
    service: Service,
}

impl ConnectorProcess {
    async fn start(ledgers: &Ledgers, dir: &Path) -> ConnectorProcess {
        let mut config = ledgers.connector_config();
        config.connector.database = dir.join("connector.sqlite");
        // Room for the in-flight phase: 10,000 payments of 6.00 DE from one counterparty.
        for limit in &mut config.limits {
            limit.exposure_limit = Some("100000000.00".into());
        }
        let path = dir.join("connector.toml");
        std::fs::write(&path, toml::to_string(&config).expect("config")).expect("write config");
        let mut command = ServiceCommand::new(["connector", "--config"], "listening on")
            .arg(&path)
            .env("RUST_LOG", Some("error"));
        // CYPHERLINK_BIN runs another build's connector (for A/B comparisons).
        if let Some(binary) = std::env::var_os("CYPHERLINK_BIN") {
            command = command.program(binary);
        }
        ConnectorProcess {
            service: command.start().await,
        }
    }

    fn url(&self) -> &str {
        &self.service.url
    }

    fn pid(&self) -> u32 {
        self.service.pid().unwrap_or(0)
    }

    /// Resident and peak resident memory, MiB, from /proc.
    fn memory_mib(&self) -> (f64, f64) {
        let pid = self.pid();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
                .map_or(0.0, |kb| kb / 1024.0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// CPU seconds (user + system) the connector has used.
    fn cpu_seconds(&self) -> f64 {
        cpu_seconds(&format!("/proc/{}/stat", self.pid()))
    }

    async fn in_flight(&self, http: &reqwest::Client) -> u64 {
        let health: serde_json::Value = http
            .get(format!("{}/healthz", self.url()))
            .send()
            .await
            .expect("healthz")
            .json()
            .await
            .expect("healthz JSON");
        health["in_flight"].as_u64().unwrap_or(0)
    }
}

/// Bank A sending many payments and learning their outcomes from its ledger's event feed.
struct BulkPayer {
    plugin: Arc<RestPlugin>,
    waiters: Arc<Mutex<HashMap<TransferId, oneshot::Sender<EventKind>>>>,
    spsp: SpspResponse,
    key: FulfillmentKey,
    quote: Quote,
    clock: SystemClock,
}

impl BulkPayer {
    async fn start(ledgers: &Ledgers, connector_url: &str) -> BulkPayer {
        let payer = ledgers.payer(connector_url).expect("payer");
        let spsp = payer.setup(&ledgers.receiver_url).await.expect("setup");
        let quote = payer
            .quote(&spsp.destination_account, 1_000)
            .await
            .expect("quote");
        let plugin = ledgers.client("digital-euro", "bank-a").expect("bank-a client");
        let waiters: Arc<Mutex<HashMap<TransferId, oneshot::Sender<EventKind>>>> = Arc::default();
        let follower = Arc::clone(&plugin);
        let pending = Arc::clone(&waiters);
        let mut cursor = follower.head().await.expect("head");
        tokio::spawn(async move {
            loop {
                let Ok(page) = follower.events(cursor, 1000, Duration::from_secs(5)).await else {
                    continue;
                };
                for event in &page.events {
                    if event.kind != EventKind::Prepared
                        && let Some(tx) = pending.lock().expect("waiters").remove(&event.transfer.id)
                    {
                        let _ = tx.send(event.kind);
                    }
                }
                cursor = page.events.last().map_or(page.next, |e| e.cursor.max(page.next));
            }
        });
        BulkPayer {
            plugin,
            waiters,
            key: FulfillmentKey::from_shared_secret(&spsp.secret().expect("secret")),
            spsp,
            quote,
            clock: SystemClock,
        }
    }

    /// Escrows one payment; the receiver resolves when Bank A's escrow is final.
    async fn send(&self, expiry_ms: i64) -> oneshot::Receiver<EventKind> {
        let data = PaymentData::new(self.quote.destination_amount, "")
            .expect("data")
            .encode();
        let condition = self.key.fulfillment(&data).condition();
        let expires_at = self.clock.now().checked_add_millis(expiry_ms).expect("expiry");
        let packet = Prepare::new(
            self.spsp.destination_account.clone(),
            self.quote.source_amount,
            expires_at,
            condition,
            data,
        )
        .expect("packet");
        let id = TransferId::random();
        let (tx, rx) = oneshot::channel();
        self.waiters.lock().expect("waiters").insert(id, tx);
        self.plugin
            .prepare(PrepareTransfer {
                id,
                from: AccountId::new("bank-a").expect("account"),
                to: self.quote.pay_to.clone(),
                amount: self.quote.source_amount,
                condition,
                expires_at,
                memo: packet.encode(),
            })
            .await
            .expect("escrow accepted");
        rx
    }
}

/// User + system CPU seconds of a process, from its `/proc/.../stat` (clock ticks of 1/100 s).
fn cpu_seconds(stat_path: &str) -> f64 {
    let stat = std::fs::read_to_string(stat_path).unwrap_or_default();
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// The `per_mille`th latency of `sorted` (nearest rank, rounding half up), in milliseconds.
fn percentile(sorted: &[Duration], per_mille: usize) -> f64 {
    let i = ((sorted.len() - 1) * per_mille + 500) / 1000;
    sorted[i].as_secs_f64() * 1000.0
}

/// One phase's network: the directory of its files, both ledgers (with Bank B's receiver
/// online or not) in this process, the connector process, and Bank A's payer.
struct Network(tempfile::TempDir, Ledgers, ConnectorProcess, Arc<BulkPayer>);

async fn network(o: &Options, receiver_online: bool) -> Network {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let ledgers = Ledgers::start(dir.path(), clock, receiver_online, o.durability)
        .await
        .expect("ledgers");
    let connector = ConnectorProcess::start(&ledgers, dir.path()).await;
    let payer = Arc::new(BulkPayer::start(&ledgers, connector.url()).await);
    Network(dir, ledgers, connector, payer)
}

async fn throughput(o: &Options) {
    let Network(_dir, ledgers, connector, payer) = network(o, true).await;
    println!(
        "throughput: {} payments of {} DC/EP ({} DE each with the fee), {} in flight at a time",
        o.payments,
        htlc::money::format_decimal(payer.quote.destination_amount, 2),
        htlc::money::format_decimal(payer.quote.source_amount, 2),
        o.concurrency
    );
    let run = |count: usize| {
        let payer = Arc::clone(&payer);
        let concurrency = o.concurrency;
        async move {
            let semaphore = Arc::new(tokio::sync::Semaphore::new(concurrency));
            let mut tasks = Vec::with_capacity(count);
            for _ in 0..count {
                let permit = Arc::clone(&semaphore).acquire_owned().await.expect("permit");
                let payer = Arc::clone(&payer);
                tasks.push(tokio::spawn(async move {
                    let started = Instant::now();
                    let outcome = payer.send(20_000).await.await.expect("outcome");
                    drop(permit);
                    (started.elapsed(), outcome)
                }));
            }
            let mut latencies = Vec::with_capacity(count);
            for task in tasks {
                let (latency, outcome) = task.await.expect("task");
                assert_eq!(outcome, EventKind::Fulfilled, "every payment completes");
                latencies.push(latency);
            }
            latencies
        }
    };
    run(o.concurrency * 2).await; // warm-up
    let (connector_cpu, own_cpu) = (connector.cpu_seconds(), cpu_seconds("/proc/self/stat"));
    let started = Instant::now();
    let mut latencies = run(o.payments).await;
    let elapsed = started.elapsed();
    let connector_cpu = connector.cpu_seconds() - connector_cpu;
    let own_cpu = cpu_seconds("/proc/self/stat") - own_cpu;
    latencies.sort();
    let (rss, peak) = connector.memory_mib();
    println!(
        "  {:.0} payments/s ({} in {:.2} s); latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        o.payments as f64 / elapsed.as_secs_f64(),
        o.payments,
        elapsed.as_secs_f64(),
        percentile(&latencies, 500),
        percentile(&latencies, 900),
        percentile(&latencies, 990),
        percentile(&latencies, 1000),
    );
    println!("  connector memory: {rss:.1} MiB resident, {peak:.1} MiB peak");
    println!(
        "  CPU per payment: connector {:.0} µs; ledgers + receiver + payer {:.0} µs",
        connector_cpu / o.payments as f64 * 1e6,
        own_cpu / o.payments as f64 * 1e6
    );
    drop(connector);
    ledgers.stop().await;
}

async fn in_flight(o: &Options) {
    let Network(_dir, ledgers, connector, payer) = network(o, false).await;
    let http = ledgers.https_client().expect("a client trusting the network CA");
    let (rss_idle, _) = connector.memory_mib();
    println!(
        "in flight: {} payments forwarded to an offline receiver",
        o.in_flight
    );
    let started = Instant::now();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(o.concurrency));
    for _ in 0..o.in_flight {
        let permit = Arc::clone(&semaphore).acquire_owned().await.expect("permit");
        let payer = Arc::clone(&payer);
        tokio::spawn(async move {
            // Expire well after the run; the connector caps its own hold at 30 s.
            drop(payer.send(120_000).await);
            drop(permit);
        });
    }
    let mut seen = 0;
    while seen < o.in_flight as u64 {
        seen = connector.in_flight(&http).await;
        if started.elapsed() > Duration::from_secs(120) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (rss, peak) = connector.memory_mib();
    println!(
        "  {seen} in flight after {:.1} s; connector memory {rss:.1} MiB resident ({rss_idle:.1} MiB idle), {peak:.1} MiB peak",
        started.elapsed().as_secs_f64()
    );
    drop(connector);
    ledgers.stop().await;
}

fn main() {
    let o = options();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        throughput(&o).await;
        in_flight(&o).await;
    });
}
