//! The committee chain under load: four node processes on 127.0.0.1 (this binary re-executed
//! with `--node <config>`), Ed25519-signed transfers submitted over HTTP in small batches to all
//! four validators, each batch waiting until its transactions are final (committed and stored).
//!
//! Reports, per offered rate: committed transfers per second, p50 / p99 time from submission
//! to finality as the client sees it, the CPU time of the four nodes together per committed
//! transfer, and how many cores they kept busy on average; then each node's resident memory.
//!
//! Reading it: views run back to back, so the nodes take whatever CPU the machine has at any
//! rate (on two cores, `node cores` stays at 1.4-1.9 even at 200/s). CPU per transfer is
//! then the machine's CPU divided by the rate, not a measure of a build's efficiency; compare
//! builds on the committed rate at saturation instead (an offered rate well above it and
//! `BENCH_INFLIGHT` large enough, e.g. `BENCH_RATES=20000 BENCH_INFLIGHT=40000`).
//!
//! `cargo bench -p ledger-node --bench chain_network` (env: `BENCH_RATES=1000,10000,40000`,
//! `BENCH_SECONDS=10`, `BENCH_ACCOUNTS=2000`, `BENCH_INFLIGHT=8192` transactions outstanding at
//! most, `BENCH_TOTAL=1000000` to keep going at the last rate until that many transfers are
//! committed, for the memory figure; `BENCH_CONSENSUS="batch_delay_ms = 0;..."` adds lines to
//! the nodes' `[consensus]` section (their `[limits]` are raised so admission never throttles
//! the load); `BENCH_NODE_LOG=ledger_node=debug` with
//! `BENCH_LOG_DIR=<dir>` writes every node's log there, for per-view timelines).

/// The allocator of the `cypherlink` binary, so the nodes measured here allocate as
/// `cypherlink node` does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use ledger_node::api::{ChainClient, Signer, TxState};
use ledger_node::crypto::sha256;
use ledger_node::genesis::Genesis;
use ledger_node::node::local::unused_ports_below_ephemeral;
use ledger_node::node::{GenesisFile, NodeConfig};
use ledger_node::state::{AssetCode, Op};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Semaphore;

const N: usize = 4;
const TICK: Duration = Duration::from_millis(5);
/// The bench offers up to 40,000 tx/s from one client address (10,000 to each node), and its
/// central bank issues 2,000 times in a row: far above the nodes' default admission limits
/// (2,000 tx/s per client address, 200 per account), which would measure the limiter instead
/// of the chain. So its nodes raise them explicitly.
const UNTHROTTLED: &str = "[limits]\naccount_tx_per_s = 1e9\naccount_burst = 4294967295\n\
                           client_tx_per_s = 1e9\nclient_burst = 4294967295\n";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--node") {
        return run_node(Path::new(&args[i + 1]));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(bench());
}

fn run_node(config: &Path) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .try_init();
    rt.block_on(async {
        let c = NodeConfig::load(config).expect("config");
        let node = ledger_node::node::start(c).await.expect("node starts");
        println!("running: {}", node.api_addr);
        let _ = node.server.await;
    });
}

/// Where node `i` logs: `BENCH_LOG_DIR/node<i>.log` for every node when set, else node 0 to
/// our stderr and the others nowhere.
fn node_log(i: usize) -> Stdio {
    match std::env::var("BENCH_LOG_DIR") {
        Ok(dir) => Stdio::from(std::fs::File::create(format!("{dir}/node{i}.log")).expect("node log file")),
        Err(_) if i == 0 => Stdio::inherit(),
        Err(_) => Stdio::null(),
    }
}

/// An error with its chain of causes ("error sending request" alone says little).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        msg.push_str(&format!(": {c}"));
        cause = c.source();
    }
    msg
}

async fn start_network(dir: &Path) -> (Vec<Child>, Vec<ChainClient>) {
    std::fs::create_dir_all(dir).unwrap();
    let seeds: Vec<[u8; 32]> = (0..N)
        .map(|i| sha256(&[b"bench validator", &[u8::try_from(i).unwrap()]]))
        .collect();
    for (i, seed) in seeds.iter().enumerate() {
        std::fs::write(dir.join(format!("v{i}.key")), hex::encode(seed)).unwrap();
    }
    let g = Genesis::for_test_keys(&seeds).unwrap();
    std::fs::write(
        dir.join("genesis.toml"),
        toml::to_string(&GenesisFile::from_genesis(&g)).unwrap(),
    )
    .unwrap();
    let ports = unused_ports_below_ephemeral(2 * N).expect("free ports");
    let (p2p, api) = ports.split_at(N);
    // Validator links as deployed: mutual TLS. BENCH_PEER_TRANSPORT=plain measures plain TCP.
    let peer_transport = if std::env::var("BENCH_PEER_TRANSPORT").as_deref() == Ok("plain") {
        "peer_plain_tcp = true".to_owned()
    } else {
        let certs = tls::dev::generate(&dir.join("certs"), &[]).unwrap();
        format!(
            "peer_tls = {{ cert = {:?}, key = {:?}, ca = {:?} }}",
            certs.server_cert, certs.server_key, certs.ca
        )
    };
    let mut children = Vec::new();
    for i in 0..N {
        let mut c = format!(
            "genesis = \"genesis.toml\"\ndata_dir = \"data{i}\"\nlisten = \"127.0.0.1:{}\"\napi = \"127.0.0.1:{}\"\napi_plain_http = true\n{peer_transport}\n\
             [validator]\nindex = {i}\nkey_file = \"v{i}.key\"\n[consensus]\nbase_timeout_ms = 1000\n{}\n{UNTHROTTLED}",
            p2p[i],
            api[i],
            std::env::var("BENCH_CONSENSUS")
                .unwrap_or_default()
                .replace(';', "\n")
        );
        for j in (0..N).filter(|&j| j != i) {
            c.push_str(&format!(
                "[[peers]]\nindex = {j}\naddress = \"127.0.0.1:{}\"\n",
                p2p[j]
            ));
        }
        let path = dir.join(format!("node{i}.toml"));
        std::fs::write(&path, c).unwrap();
        let mut child = Command::new(std::env::current_exe().unwrap())
            .arg("--node")
            .arg(&path)
            .env(
                "RUST_LOG",
                std::env::var("BENCH_NODE_LOG").unwrap_or_else(|_| "error".into()),
            )
            .stderr(node_log(i))
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn node");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut ready = false;
        while let Some(l) = lines.next_line().await.unwrap() {
            if l.starts_with("running:") {
                ready = true;
                break;
            }
        }
        // A node that could not start (a bad BENCH_CONSENSUS line, say) printed why on stderr.
        assert!(ready, "node {i} exited before it was ready; its error is above");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        children.push(child);
    }
    let clients = api
        .iter()
        .map(|p| ChainClient::new(format!("http://127.0.0.1:{p}")))
        .collect();
    (children, clients)
}

fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU time (user + system) the processes `pids` have used so far, in seconds: from Linux's
/// `/proc/<pid>/stat`, in clock ticks of 1/100 s (0 where that is not available).
fn cpu_seconds(pids: &[u32]) -> f64 {
    pids.iter()
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The fields after the command name, which is in parentheses and may hold spaces;
            // utime and stime are the line's 14th and 15th fields.
            let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
            let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .sum()
}

struct Load {
    signers: Vec<Signer>,
    accounts: Vec<ledger_node::state::AccountId>,
    asset: AssetCode,
}

impl Load {
    /// Signs `count` transfers: account k pays account k+1, round robin.
    fn sign(&mut self, start: u64, count: u64) -> Vec<(usize, Vec<u8>)> {
        let n = self.signers.len() as u64;
        (start..start + count)
            .map(|k| {
                let from = usize::try_from(k % n).unwrap();
                let to = self.accounts[usize::try_from((k + 1) % n).unwrap()];
                let tx = self.signers[from].sign(Op::Transfer {
                    asset: self.asset.clone(),
                    to,
                    amount: 1,
                });
                (from % N, tx)
            })
            .collect()
    }
}

struct Outcome {
    offered: u64,
    submit_seconds: f64,
    seconds: f64,
    final_ok: u64,
    failed: HashMap<String, u64>,
    latencies_ms: Vec<f64>,
}

async fn phase(clients: &[ChainClient], txs: Vec<(usize, Vec<u8>)>, rate: u64) -> Outcome {
    let total = txs.len() as u64;
    // At most this many transactions outstanding: beyond the committee's capacity the offered
    // rate is not reached and latency is the queue this bound allows (Little's law), instead
    // of an ever-growing backlog.
    let inflight = Arc::new(Semaphore::new(env_or("BENCH_INFLIGHT", 8_192)));
    let results = Arc::new(std::sync::Mutex::new((Vec::new(), HashMap::new(), 0u64)));
    let last_final = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut sent = 0usize;
    let mut tasks = Vec::new();
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while sent < txs.len() {
        ticker.tick().await;
        // Float-to-int `as` saturates: the count due is whole and never negative.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let due = ((start.elapsed().as_secs_f64() * rate as f64) as usize).min(txs.len());
        if due <= sent {
            continue;
        }
        let mut per_node: Vec<Vec<Vec<u8>>> = vec![Vec::new(); N];
        for (node, tx) in &txs[sent..due] {
            per_node[*node].push(tx.clone());
        }
        sent = due;
        for (node, batch) in per_node.into_iter().enumerate() {
            for chunk in batch.chunks(1000) {
                let permit = inflight
                    .clone()
                    .acquire_many_owned(u32::try_from(chunk.len()).unwrap())
                    .await
                    .unwrap();
                let client = clients[node].clone();
                let chunk = chunk.to_vec();
                let results = results.clone();
                let last_final = last_final.clone();
                tasks.push(tokio::spawn(async move {
                    let t0 = Instant::now();
                    let r = client.submit_batch(&chunk, Some(Duration::from_secs(60))).await;
                    let ms = t0.elapsed().as_secs_f64() * 1000.0;
                    last_final.fetch_max(
                        u64::try_from(start.elapsed().as_micros()).unwrap(),
                        Ordering::Relaxed,
                    );
                    let mut g = results.lock().unwrap();
                    match r {
                        Ok(items) => {
                            for it in items {
                                match it {
                                    Ok(s) if s.status == TxState::Final => {
                                        g.0.push(ms);
                                        g.2 += 1;
                                    }
                                    Ok(s) => {
                                        let reason = s
                                            .reason
                                            .map_or_else(|| format!("{:?}", s.status), |r| r.to_string());
                                        *g.1.entry(reason).or_insert(0) += 1;
                                    }
                                    Err((code, _)) => *g.1.entry(code.to_string()).or_insert(0) += 1,
                                }
                            }
                        }
                        Err(e) => {
                            *g.1.entry(format!("request: {}", with_causes(&e))).or_insert(0) +=
                                chunk.len() as u64
                        }
                    }
                    drop(permit);
                }));
            }
        }
    }
    let submit_seconds = start.elapsed().as_secs_f64();
    for t in tasks {
        let _ = t.await;
    }
    let seconds = last_final.load(Ordering::Relaxed) as f64 / 1e6;
    let mut g = results.lock().unwrap();
    let mut lat = std::mem::take(&mut g.0);
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Outcome {
        offered: total,
        submit_seconds,
        seconds,
        final_ok: g.2,
        failed: std::mem::take(&mut g.1),
        latencies_ms: lat,
    }
}

fn pct(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    // `p` is in 0..=1, so the rounded rank is an index of `v`.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

async fn bench() {
    let rates: Vec<u64> = std::env::var("BENCH_RATES")
        .unwrap_or_else(|_| "1000,10000,40000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let seconds: u64 = env_or("BENCH_SECONDS", 10);
    let n_accounts: usize = env_or("BENCH_ACCOUNTS", 2000);
    let total_target: u64 = env_or("BENCH_TOTAL", 0);
    let tmp = tempfile::tempdir().unwrap();
    let (children, clients) = start_network(tmp.path()).await;
    let chain_id = clients[0].chain_id().await.unwrap();
    let asset = AssetCode::new("DCEP").unwrap();
    let mut bank = Signer::new(
        SigningKey::from_bytes(&sha256(&[b"bench central bank"])),
        chain_id,
        0,
    );
    let signers: Vec<Signer> = (0..n_accounts)
        .map(|i| {
            Signer::new(
                SigningKey::from_bytes(&sha256(&[b"bench account", &(i as u64).to_be_bytes()])),
                chain_id,
                0,
            )
        })
        .collect();
    let accounts: Vec<_> = signers.iter().map(Signer::account).collect();
    let mut setup = vec![bank.sign(Op::CreateAsset {
        code: asset.clone(),
        scale: 2,
    })];
    for a in &accounts {
        setup.push(bank.sign(Op::Issue {
            asset: asset.clone(),
            to: *a,
            amount: 1_000_000_000,
        }));
    }
    for chunk in setup.chunks(1000) {
        let r = clients[0]
            .submit_batch(chunk, Some(Duration::from_secs(120)))
            .await
            .unwrap();
        assert!(
            r.iter().all(|s| matches!(s, Ok(s) if s.status == TxState::Final)),
            "setup failed"
        );
    }
    println!(
        "chain bench: 4 node processes, {n_accounts} accounts, transfers in batches every {} ms to all 4 validators",
        TICK.as_millis()
    );
    println!(
        "| offered tx/s | submitted tx/s | committed tx/s | p50 ms | p99 ms | node CPU µs/tx | node cores | failed |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---|");
    let pids: Vec<u32> = children.iter().filter_map(Child::id).collect();
    let mut load = Load {
        signers,
        accounts,
        asset,
    };
    let mut next = 0u64;
    let mut committed_total = 0u64;
    for (i, &rate) in rates.iter().enumerate() {
        let last = i + 1 == rates.len();
        let mut rounds = 0;
        loop {
            let count = rate * seconds;
            let txs = load.sign(next, count);
            next += count;
            let cpu_before = cpu_seconds(&pids);
            let o = phase(&clients, txs, rate).await;
            let node_cpu = cpu_seconds(&pids) - cpu_before;
            committed_total += o.final_ok;
            rounds += 1;
            println!(
                "| {rate} | {:.0} | {:.0} | {:.1} | {:.1} | {:.0} | {:.2} | {} |",
                o.offered as f64 / o.submit_seconds,
                o.final_ok as f64 / o.seconds,
                pct(&o.latencies_ms, 0.5),
                pct(&o.latencies_ms, 0.99),
                node_cpu * 1e6 / o.final_ok.max(1) as f64,
                node_cpu / o.seconds,
                if o.failed.is_empty() {
                    "0".to_string()
                } else {
                    format!("{:?}", o.failed)
                }
            );
            if !(last && total_target > 0 && committed_total < total_target) {
                break;
            }
            if rounds % 5 == 0 {
                let rss: Vec<String> = children
                    .iter()
                    .map(|c| format!("{:.0}", rss_mb(c.id().unwrap_or(0))))
                    .collect();
                println!(
                    "committed so far {committed_total}; node RSS MB {}",
                    rss.join(" / ")
                );
            }
        }
    }
    let rss: Vec<String> = children
        .iter()
        .map(|c| format!("{:.0}", rss_mb(c.id().unwrap_or(0))))
        .collect();
    let status = clients[0].status().await.unwrap();
    println!(
        "committed transfers in total {committed_total}; height {}; node RSS MB {}",
        status.committed_height,
        rss.join(" / ")
    );
    drop(children);
}
