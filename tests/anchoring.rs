//! The anchoring service as a real process (`cypherlink anchor`) on four `cypherlink node`
//! validators: bad input is refused with its specific problem and stores nothing; 10,000
//! digests are anchored, the service is killed with SIGKILL while batches are open, sealed and
//! in flight, and restarted; then every acknowledged digest has exactly one certificate, each
//! verifies offline against the genesis, and each namespace's batches are numbered 1..k with
//! every batch naming the hash of the one before (checked against the chain's own record too).
//!
//! The benchmark is `tests/anchoring_bench.rs`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use anchoring::client::{AnchorClient, CertificateAnswer, ClientError};
use futures::StreamExt;
use ledger_node::api::FeedKind;
use ledger_node::node::GenesisFile;
use ledger_node::proof::CertificateVerifier;
use ledger_node::state::{Op, batch_hash};
use reqwest::Method;

mod common;
use common::anchoring::{ISP, SHOP, digest, write_config};
use common::committee::LocalCommittee;
use common::process::{Service, ServiceCommand};

/// Far above what any step needs; only so that a bug fails the test instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(120);

fn problem(r: (u16, Vec<u8>)) -> (u16, String, String) {
    let v: serde_json::Value = serde_json::from_slice(&r.1).unwrap_or_default();
    (
        r.0,
        v["code"].as_str().unwrap_or("").to_owned(),
        v["detail"].as_str().unwrap_or("").to_owned(),
    )
}

async fn accepted_total(service: &Service) -> u64 {
    let text = reqwest::get(format!("{}/metrics", service.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("anchoring_items_accepted_total ")?.parse().ok())
        .expect("anchoring_items_accepted_total in /metrics")
}

/// Bad input: each refusal is specific, and nothing is stored.
async fn bad_input_is_refused(service: &Service, isp: &AnchorClient) {
    let path = format!("/v1/namespaces/{}/digests", ISP.2);
    let short = format!(
        "{{\"digests\":[\"{}\",\"{}\"]}}",
        hex::encode([1u8; 32]),
        hex::encode([2u8; 31])
    );
    let (status, code, detail) = problem(isp.send(Method::POST, &path, short.as_bytes()).await.unwrap());
    assert_eq!((status, code.as_str()), (400, "malformed"), "{detail}");
    assert!(
        detail.starts_with("digests[1]: expected 64 hex characters"),
        "{detail}"
    );
    let not_hex = format!("{{\"digests\":[\"{}\"]}}", "zz".repeat(32));
    let (status, _, detail) = problem(isp.send(Method::POST, &path, not_hex.as_bytes()).await.unwrap());
    assert_eq!(status, 400, "{detail}");
    assert!(detail.starts_with("digests[0]: not hex"), "{detail}");
    // Another submitter's namespace.
    let theirs = format!("/v1/namespaces/{}/digests", SHOP.2);
    let body = format!("{{\"digests\":[\"{}\"]}}", hex::encode([3u8; 32]));
    let (status, code, _) = problem(isp.send(Method::POST, &theirs, body.as_bytes()).await.unwrap());
    assert_eq!((status, code.as_str()), (403, "forbidden"));
    // A bad signature: the right key id, another secret.
    let forger = AnchorClient::new(&service.url, ISP.0, b"not-the-isp-secret-at-all");
    let (status, code, detail) = problem(forger.send(Method::POST, &path, body.as_bytes()).await.unwrap());
    assert_eq!((status, code.as_str()), (401, "unauthorized"));
    assert!(detail.contains("signature does not match"), "{detail}");
    // Over the body limit.
    let huge = vec![b' '; 70_000];
    let (status, code, _) = problem(isp.send(Method::POST, &path, &huge).await.unwrap());
    assert_eq!((status, code.as_str()), (413, "too_large"));
    assert_eq!(accepted_total(service).await, 0, "nothing refused was stored");
    // A replayed request: the first is accepted, the same bytes and headers again are not.
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let h = plugins::auth::sign_with_nonce(
        ISP.0,
        ISP.1.as_bytes(),
        "POST",
        &path,
        now,
        "replayed-nonce-0001",
        body.as_bytes(),
    );
    let first = isp
        .send_with(Method::POST, &path, body.as_bytes(), &h.pairs())
        .await
        .unwrap();
    assert_eq!(first.0, 202, "{}", String::from_utf8_lossy(&first.1));
    let (status, _, detail) = problem(
        isp.send_with(Method::POST, &path, body.as_bytes(), &h.pairs())
            .await
            .unwrap(),
    );
    assert_eq!(status, 401);
    assert!(detail.contains("nonce already used"), "{detail}");
    assert_eq!(accepted_total(service).await, 1, "the replay stored nothing");
}

/// `cypherlink verify-certificate` accepts a certificate as it is and refuses it with its
/// digest changed.
fn offline_cli_checks(dir: &Path, cert: &ledger_node::proof::InclusionProof) {
    let verify = |name: &str, cert: &ledger_node::proof::InclusionProof| {
        let file = dir.join(name);
        std::fs::write(&file, serde_json::to_vec(cert).unwrap()).unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_cypherlink"))
            .arg("verify-certificate")
            .arg(&file)
            .arg("--genesis")
            .arg(dir.join("chain/genesis.toml"))
            .output()
            .unwrap()
    };
    let ok = verify("cert.json", cert);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let mut tampered = cert.clone();
    tampered.item.as_mut().unwrap().item = hex::encode([0xab; 32]);
    let bad = verify("tampered.json", &tampered);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("item"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

/// Sends digests `range` in requests of `per_request`, `parallel` at once; the ids of those
/// acknowledged, by digest number. Requests that fail (the service was killed) are returned.
async fn send(
    client: &AnchorClient,
    ns: &str,
    range: std::ops::Range<u64>,
    per_request: u64,
    parallel: usize,
) -> (BTreeMap<u64, u64>, Vec<std::ops::Range<u64>>) {
    let chunks: Vec<std::ops::Range<u64>> = range
        .clone()
        .step_by(usize::try_from(per_request).unwrap())
        .map(|s| s..(s + per_request).min(range.end))
        .collect();
    let results: Vec<_> = futures::stream::iter(chunks)
        .map(|c| async move {
            let digests: Vec<[u8; 32]> = c.clone().map(digest).collect();
            (c, client.submit(ns, &digests).await)
        })
        .buffer_unordered(parallel)
        .collect()
        .await;
    let mut acked = BTreeMap::new();
    let mut failed = Vec::new();
    for (c, r) in results {
        match r {
            Ok(ids) => acked.extend(c.zip(ids)),
            Err(ClientError::Http(_)) => failed.push(c),
            Err(e) => panic!("refused: {e}"),
        }
    }
    (acked, failed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digests_get_one_offline_certificate_each_across_a_kill() {
    let tmp = tempfile::tempdir().unwrap();
    let net = LocalCommittee::start(&tmp.path().join("chain"), 400).await;
    let genesis = GenesisFile::load(&tmp.path().join("chain/genesis.toml")).unwrap();
    let verifier = CertificateVerifier::with_cache(&genesis, 1024).unwrap();
    let chain = net.client(0);
    let (config, account) = write_config(tmp.path(), chain.base_url(), 400, 150);
    let command = ServiceCommand::new(["anchor", "--config"], "listening on").arg(&config);
    let service = command.start().await;
    let isp = AnchorClient::new(&service.url, ISP.0, ISP.1.as_bytes());
    bad_input_is_refused(&service, &isp).await;

    // 6,000 digests, then a kill while the next 4,000 are being sent (batches open, sealed and
    // in flight at that moment); what was not acknowledged is sent again after the restart.
    let (mut acked, failed) = send(&isp, ISP.2, 0..6_000, 250, 4).await;
    assert!(failed.is_empty());
    let sending = {
        let isp = isp.clone();
        tokio::spawn(async move { send(&isp, ISP.2, 6_000..10_000, 100, 2).await })
    };
    while accepted_total(&service).await < 7_001 {
        tokio::task::yield_now().await;
    }
    service.kill().await;
    let (more, failed) = sending.await.unwrap();
    acked.extend(more);
    let service = command.start().await;
    eprintln!(
        "killed with {} digests acknowledged, {} requests cut off",
        acked.len(),
        failed.len()
    );
    let isp = AnchorClient::new(&service.url, ISP.0, ISP.1.as_bytes());
    for range in failed {
        let (more, failed) = send(&isp, ISP.2, range, 100, 1).await;
        assert!(failed.is_empty());
        acked.extend(more);
    }
    assert_eq!(acked.len(), 10_000, "every digest acknowledged once sent again");

    // Every acknowledged digest: one certificate, valid offline, for its own digest.
    let certs: Vec<(u64, u64, anchoring::client::CertificateAnswer)> = futures::stream::iter(acked.iter())
        .map(|(&n, &id)| {
            let isp = isp.clone();
            async move { (n, id, isp.certificate(id, PATIENCE).await.unwrap()) }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let mut batch_of_item = HashMap::new();
    let mut roots = BTreeMap::new();
    if let Some((_, _, CertificateAnswer::Ready(cert))) = certs.first() {
        offline_cli_checks(tmp.path(), cert);
    }
    for (n, id, answer) in certs {
        let CertificateAnswer::Ready(cert) = answer else {
            panic!("item {id} not final: {answer:?}")
        };
        let proven = verifier
            .verify(&cert)
            .unwrap_or_else(|e| panic!("item {id}: {e}"));
        let a = proven.anchor.expect("an anchor");
        assert_eq!(
            (a.namespace.as_str(), a.submitter, a.item),
            (ISP.2, account, Some(digest(n)))
        );
        assert!(
            matches!(&proven.tx.body.op, Op::Anchor { sequence, root, .. } if *sequence == a.sequence && *root == a.root)
        );
        assert!(proven.final_by_ms >= proven.included_at_ms && proven.final_height > proven.height);
        assert_eq!(
            a.batch,
            batch_hash(&account, ISP.2, a.sequence, &a.previous, &a.root, a.items)
        );
        assert!(batch_of_item.insert(id, a.sequence).is_none());
        roots.insert(a.sequence, a.root);
    }
    eprintln!(
        "{} certificates verified offline, {} distinct blocks checked",
        batch_of_item.len(),
        verifier.cached_blocks()
    );

    // The sequence: 1..k, each naming the hash of the one before, the counts covering every
    // item stored exactly once.
    let k = *roots.keys().last().unwrap();
    let mut previous = [0u8; 32];
    let mut items = 0;
    let mut all_roots = Vec::new();
    for seq in 1..=k {
        let b = isp.batch(ISP.2, seq).await.unwrap();
        assert_eq!(b.state, "final");
        assert_eq!(b.previous, hex::encode(previous), "batch {seq}");
        let root: [u8; 32] = hex::decode(&b.root).unwrap().try_into().unwrap();
        assert_eq!(
            hex::encode(batch_hash(&account, ISP.2, seq, &previous, &root, b.items)),
            b.batch_hash
        );
        if let Some(r) = roots.get(&seq) {
            assert_eq!(r, &root);
        }
        previous = hex::decode(&b.batch_hash).unwrap().try_into().unwrap();
        items += b.items;
        all_roots.push(root);
    }
    assert!(isp.batch(ISP.2, k + 1).await.is_err(), "no batch after {k}");
    // Item ids are dense: the batches' counts cover ids 1..=items, each in one batch only (an
    // item has one batch number), and there is no item beyond them.
    assert!(*acked.values().max().unwrap() <= items);
    match isp.certificate(items + 1, Duration::ZERO).await {
        Err(ClientError::Problem(p)) => assert_eq!(p.code, "not_found"),
        other => panic!("item {} exists: {other:?}", items + 1),
    }
    // The chain holds each batch once, in order.
    let mut after = 0;
    let mut on_chain = Vec::new();
    loop {
        let page = chain.events(after, 1000, Duration::ZERO).await.unwrap();
        if page.events.is_empty() {
            break;
        }
        after = page.next;
        on_chain.extend(
            page.events
                .into_iter()
                .filter(|e| e.kind == FeedKind::Anchored)
                .filter_map(|e| e.anchor),
        );
    }
    let ours: Vec<[u8; 32]> = on_chain
        .iter()
        .filter(|a| a.namespace == ISP.2)
        .map(|a| a.root)
        .collect();
    let batch_roots: Vec<[u8; 32]> = all_roots;
    assert_eq!(
        ours, batch_roots,
        "one anchor per batch on the chain, in sequence order"
    );
    service.kill().await;
}
