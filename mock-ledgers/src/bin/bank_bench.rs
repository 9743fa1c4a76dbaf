//! `bank-bench`: prepare+fulfil pairs per second against the mock bank over HTTP.
//!
//! Starts the mock bank (fixture `fixtures/bank.toml`, SQLite WAL, `durability = full` unless
//! told otherwise) as a child process on 127.0.0.1, so its memory can be read on its own, and
//! drives it with concurrent signed `RestPlugin` clients: each client task prepares a transfer
//! from `bank-a` to `clearing-bank` and the clearing bank fulfils it. Reports pairs per second,
//! the p50/p99/max latency of one prepare, and the bank's RSS after warm-up and after each
//! measured round (flat memory = no growth per request).
//!
//! ```text
//! cargo run --release -p mock-ledgers --bin bank-bench -- [--seconds 10] [--rounds 2] [--clients 16] [--durability full|normal] [--page-size 4096] [--workers 2]
//! ```

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use htlc::{Clock, Fulfillment, SystemClock};
use mock_ledgers::config::{Durability, LedgerConfig, fixtures};
use plugins::{AccountId, LedgerPlugin, PrepareTransfer, RestPlugin, RestPluginConfig, TransferId};

struct Options {
    seconds: u64,
    rounds: u32,
    clients: usize,
    durability: Durability,
    warmup: u64,
    page_size: u32,
    workers: usize,
}

fn parse() -> Result<Options, String> {
    let mut o = Options {
        seconds: 10,
        rounds: 2,
        clients: 16,
        durability: Durability::Full,
        warmup: 8,
        page_size: 4096,
        workers: 2,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--seconds" => o.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--rounds" => o.rounds = value()?.parse().map_err(|e| format!("--rounds: {e}"))?,
            "--clients" => o.clients = value()?.parse().map_err(|e| format!("--clients: {e}"))?,
            "--warmup" => o.warmup = value()?.parse().map_err(|e| format!("--warmup: {e}"))?,
            "--workers" => o.workers = value()?.parse().map_err(|e| format!("--workers: {e}"))?,
            "--page-size" => o.page_size = value()?.parse().map_err(|e| format!("--page-size: {e}"))?,
            "--durability" => {
                o.durability = match value()?.as_str() {
                    "full" => Durability::Full,
                    "normal" => Durability::Normal,
                    other => return Err(format!("--durability full|normal, not {other}")),
                }
            }
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

/// The auth window used by the bench: nonces are kept for one window, so a short window lets
/// the nonce store reach its steady size during warm-up (it is bounded either way).
const BENCH_WINDOW_SECS: u64 = 5;

fn bench_config(
    database: &str,
    durability: Durability,
    page_size: u32,
    workers: usize,
) -> Result<LedgerConfig, String> {
    LedgerConfig::from_toml_with(fixtures::BANK, |f| {
        f.server.listen = "127.0.0.1:0".parse().unwrap_or_else(|_| unreachable!());
        f.server.database = Some(database.into());
        f.server.durability = durability;
        f.server.page_size = page_size;
        f.server.workers = workers;
        f.auth.window_secs = BENCH_WINDOW_SECS;
        // Enough for a long run: 10^12 minor units each.
        for a in &mut f.accounts {
            a.opening_balance = Some("10000000000.00".into());
        }
    })
    .map_err(|e| e.to_string())
}

/// The async runtime of either process: two workers each, so that the bank and its driver
/// share the machine alike.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))
}

/// Child mode: run the bank until stdin closes.
fn serve(database: &str, durability: &str, page_size: &str, workers: &str) -> Result<(), String> {
    let durability = if durability == "normal" {
        Durability::Normal
    } else {
        Durability::Full
    };
    let page_size = page_size.parse().unwrap_or(4096);
    let workers = workers.parse().unwrap_or(2);
    runtime()?.block_on(async {
        let config =
            bench_config(database, durability, page_size, workers).map_err(|e| format!("config: {e}"))?;
        let ledger = mock_ledgers::server::run(config)
            .await
            .map_err(|e| format!("bank: {e}"))?;
        println!("LISTENING {}", ledger.base_url());
        let _ = std::io::stdout().flush();
        // Block on stdin in a thread; EOF means the driver is done.
        let _ = tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            while std::io::stdin()
                .read_line(&mut sink)
                .map(|n| n > 0)
                .unwrap_or(false)
            {}
        })
        .await;
        ledger.shutdown().await;
        Ok(())
    })
}

/// A field of /proc/<pid>/status in KiB (`VmRSS`, `RssAnon`, `RssFile`, `RssShmem`).
fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS")
}

fn rss_parts(pid: u32) -> String {
    format!(
        "anon {} KiB, file {} KiB, shmem {} KiB",
        status_kib(pid, "RssAnon"),
        status_kib(pid, "RssFile"),
        status_kib(pid, "RssShmem")
    )
}

struct Round {
    pairs: u64,
    elapsed: Duration,
    latencies_us: Vec<u64>,
}

async fn run_round(
    payer: &Arc<RestPlugin>,
    payee: &Arc<RestPlugin>,
    clients: usize,
    seconds: u64,
    record: bool,
) -> Round {
    let stop = Arc::new(AtomicBool::new(false));
    let pairs = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (payer, payee, stop, pairs) = (payer.clone(), payee.clone(), stop.clone(), pairs.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n: u64 = 0;
            let from = AccountId::new("bank-a").unwrap_or_else(|_| unreachable!());
            let to = AccountId::new("clearing-bank").unwrap_or_else(|_| unreachable!());
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let mut seed = [0u8; 32];
                seed[..8].copy_from_slice(&n.to_le_bytes());
                seed[8..16].copy_from_slice(&(c as u64).to_le_bytes());
                seed[16..32].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
                let fulfillment = Fulfillment::from_bytes(seed);
                let request = PrepareTransfer {
                    id: TransferId::random(),
                    from: from.clone(),
                    to: to.clone(),
                    amount: 100,
                    condition: fulfillment.condition(),
                    expires_at: SystemClock
                        .now()
                        .checked_add_millis(30_000)
                        .unwrap_or(SystemClock.now()),
                    memo: vec![0u8; 64],
                };
                let id = request.id;
                let t0 = Instant::now();
                if let Err(e) = payer.prepare(request).await {
                    eprintln!("prepare failed: {e}");
                    continue;
                }
                if record {
                    latencies.push(u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX));
                }
                if let Err(e) = payee.fulfill(id, fulfillment).await {
                    eprintln!("fulfil failed: {e}");
                    continue;
                }
                pairs.fetch_add(1, Ordering::Relaxed);
            }
            latencies
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let counted = pairs.load(Ordering::Relaxed);
    let elapsed = started.elapsed();
    let mut latencies_us = Vec::new();
    for t in tasks {
        latencies_us.extend(t.await.unwrap_or_default());
    }
    latencies_us.sort_unstable();
    Round {
        pairs: counted,
        elapsed,
        latencies_us,
    }
}

/// The `per_mille`th latency of `sorted` (nearest rank, rounding half up), in milliseconds.
fn percentile(sorted: &[u64], per_mille: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) * per_mille + 500) / 1000;
    sorted[i.min(sorted.len() - 1)] as f64 / 1000.0
}

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().collect();
    if raw.get(1).map(String::as_str) == Some("--serve") {
        return exit_code(serve(
            raw.get(2).map(String::as_str).unwrap_or(""),
            raw.get(3).map(String::as_str).unwrap_or("full"),
            raw.get(4).map(String::as_str).unwrap_or("4096"),
            raw.get(5).map(String::as_str).unwrap_or("2"),
        ));
    }
    let options = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "{e}\nusage: bank-bench [--seconds 10] [--rounds 2] [--clients 16] [--warmup 8] [--durability full|normal] [--page-size 4096] [--workers 2]"
            );
            return ExitCode::from(2);
        }
    };
    exit_code(run(&options))
}

/// Prints the error, if any, and maps it to the exit status.
fn exit_code(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Drives a bank with its database in a scratch directory, removed afterwards.
fn run(options: &Options) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("cypherlink-bank-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let database = dir.join("bank.sqlite");
    let result = drive(options, &database.to_string_lossy());
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn drive(o: &Options, database: &str) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let durability = if o.durability == Durability::Full {
        "full"
    } else {
        "normal"
    };
    let mut child = Command::new(exe)
        .args([
            "--serve",
            database,
            durability,
            &o.page_size.to_string(),
            &o.workers.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the bank: {e}"))?;
    let pid = child.id();
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    let Some(base) = line.trim().strip_prefix("LISTENING ").map(str::to_owned) else {
        let _ = child.kill();
        return Err(format!("the bank did not start: {line:?}"));
    };

    let runtime = runtime()?;
    let config = bench_config(database, o.durability, o.page_size, o.workers)?;
    let result = runtime.block_on(async {
        let connect = |key: &str| {
            let secret = config.keys.get(key).map(|k| k.secret.clone()).unwrap_or_default();
            RestPlugin::connect(RestPluginConfig::new(base.clone(), key, secret))
        };
        let payer = Arc::new(connect("bank-a-k1").await.map_err(|e| e.to_string())?);
        let payee = Arc::new(connect("clearing-bank-k1").await.map_err(|e| e.to_string())?);
        let rss_start = rss_kib(pid);
        let warm = run_round(&payer, &payee, o.clients, o.warmup, false).await;
        let rss_warm = rss_kib(pid);
        let parts_warm = rss_parts(pid);
        println!(
            "mock bank {base}, SQLite WAL, durability={durability}, page size {}, {} concurrent clients, auth window {BENCH_WINDOW_SECS} s",
            o.page_size, o.clients
        );
        println!("warm-up: {} pairs in {:.1} s; bank RSS {} KiB at start, {} KiB after warm-up", warm.pairs, warm.elapsed.as_secs_f64(), rss_start, rss_warm);
        println!("| round | pairs | pairs/s | prepare p50 ms | p99 ms | max ms | bank RSS KiB after |");
        println!("|---|---|---|---|---|---|---|");
        let mut total_pairs = 0;
        let mut last_rss = rss_warm;
        for r in 1..=o.rounds {
            let round = run_round(&payer, &payee, o.clients, o.seconds, true).await;
            last_rss = rss_kib(pid);
            total_pairs += round.pairs;
            println!(
                "| {r} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} |",
                round.pairs,
                round.pairs as f64 / round.elapsed.as_secs_f64(),
                percentile(&round.latencies_us, 500),
                percentile(&round.latencies_us, 990),
                percentile(&round.latencies_us, 1000),
                last_rss
            );
        }
        let metrics = plugins::client::http_client(Duration::from_secs(5))
            .get(format!("{base}/metrics"))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .text()
            .await
            .map_err(|e| e.to_string())?;
        let value = |name: &str| {
            metrics
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let batches = value("ledger_batch_size_count");
        println!(
            "group commit: {batches:.0} batches, {:.1} requests per batch on average, {:.2} ms per batch (apply + commit)",
            value("ledger_batch_size_sum") / batches.max(1.0),
            value("ledger_batch_seconds_sum") * 1000.0 / batches.max(1.0)
        );
        println!("bank RSS after warm-up: {parts_warm}; at the end: {}", rss_parts(pid));
        let growth = last_rss as f64 - rss_warm as f64;
        println!(
            "RSS change over {total_pairs} measured pairs: {growth:+.0} KiB ({:+.3} bytes per pair)",
            growth * 1024.0 / total_pairs.max(1) as f64
        );
        Ok::<(), String>(())
    });
    drop(child.stdin.take());
    let _ = child.wait();
    result
}
