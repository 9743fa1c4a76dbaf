//! The five services' OpenAPI documents, checked by independent tools against the running
//! services: the digital-euro ledger, the connector, a chain node and Bank B's receiver, as
//! `testnet`'s chain network runs them, and the anchoring service anchoring on that chain
//! (real servers on 127.0.0.1, over TLS). For each:
//!
//! - the document it serves at `/openapi.json` is the one committed in `docs/openapi`;
//! - `openapi-spec-validator` accepts it as OpenAPI 3.1;
//! - `schemathesis`, fuzzing the running service from it (examples, boundary and negative
//!   cases, then random ones: at most [`EXAMPLES`] per operation in the random phase), finds no
//!   server error and no answer the document does not promise: status, content type, headers
//!   and body schema. `tests/openapi/schemathesis.toml` says what each service needs (the
//!   connector's operator token; long polls told not to wait).
//!
//! The ledger API and the anchoring API take only CL1-HMAC-SHA256 signed requests
//! (`plugins::auth`). `tests/openapi/hooks.py` signs every request schemathesis sends to them
//! with a test key the test passes in the environment (a ledger participant's key, an
//! anchoring submitter's), over the bytes as sent: method, path with query, timestamp, a fresh
//! nonce and the body's SHA-256. So the fuzzer reaches their success paths, not only their 401:
//! the hook records each answer's operation and status, and the test fails unless some signed
//! operations were answered with success (a refused signature answers none so) and every one
//! was answered other than 401 at least once.
//!
//! The tools live in a Python virtual environment: `$CYPHERLINK_OPENAPI_VENV`, or
//! `target/ci-venv`, which `.ci/run` makes from `tests/openapi/requirements.txt`. Without them
//! the test checks only the served documents and a few answers (unknown routes, the chain
//! node's health), says on stderr what it did not check, and passes, except under CI (`CI`
//! set), where it fails. Run it with `cargo test --test openapi -- --nocapture` to see the
//! tools' reports.

mod common;
#[path = "support/openapi_document.rs"]
mod openapi_document;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::anchoring::{ISP, write_config};
use connector::store::Durability;
use htlc::{Clock, SystemClock};
use mock_ledgers::config::{LedgerConfig, fixtures};
use testnet::chain_network::ChainNetwork;
use testnet::network::{NetworkOptions, https_url};

/// Examples per operation in schemathesis's random (fuzzing) phase; its other phases add the
/// documents' examples and a bounded set of boundary and negative cases per operation.
const EXAMPLES: u32 = 30;
/// The same cases on every run, so a failure in CI can be reproduced.
const SEED: u64 = 20_261_121;
/// What schemathesis checks on every answer.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance";

/// The tools' executables.
struct Tools {
    validator: PathBuf,
    schemathesis: PathBuf,
}

impl Tools {
    /// The virtual environment's tools, or why they are missing.
    fn find() -> Result<Tools, String> {
        let venv = std::env::var_os("CYPHERLINK_OPENAPI_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv"));
        let tools = Tools {
            validator: venv.join("bin/openapi-spec-validator"),
            schemathesis: venv.join("bin/schemathesis"),
        };
        for tool in [&tools.validator, &tools.schemathesis] {
            if !tool.is_file() {
                return Err(format!(
                    "{} is missing: make the environment with `python3 -m venv {venv} && {venv}/bin/pip \
                     install -r tests/openapi/requirements.txt` (as .ci/run does), or point \
                     CYPHERLINK_OPENAPI_VENV at one",
                    tool.display(),
                    venv = venv.display()
                ));
            }
        }
        Ok(tools)
    }
}

/// True when running in CI, where a test that cannot run must fail rather than pass.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// One running service.
struct Service {
    /// Its committed document, in `docs/openapi`.
    document: &'static str,
    /// `https://localhost:<port>`.
    base_url: String,
    /// The CA its certificate chains to.
    ca: PathBuf,
    /// A client trusting it.
    http: reqwest::Client,
    /// The key id and secret `tests/openapi/hooks.py` signs its requests with, if it takes
    /// signed requests.
    signer: Option<(String, String)>,
}

/// The digital-euro ledger's test key of `participant` (from its fixture, as the network runs
/// it): key id and secret.
fn ledger_key(participant: &str) -> (String, String) {
    let config = LedgerConfig::from_toml(fixtures::DIGITAL_EURO).unwrap();
    let (id, key) = config
        .keys
        .iter()
        .find(|(_, key)| key.participant == participant)
        .unwrap_or_else(|| panic!("no key of {participant} in the digital-euro fixture"));
    (id.clone(), String::from_utf8(key.secret.clone()).unwrap())
}

/// The anchoring service, over TLS with `certs`, anchoring on the chain node at `chain_url`
/// (trusted through `chain_tls`), its files in `dir`.
async fn start_anchoring(
    dir: &Path,
    chain_url: &str,
    chain_tls: tls::ClientTls,
    certs: &tls::dev::DevCerts,
) -> anchoring::Running {
    std::fs::create_dir_all(dir).unwrap();
    let (file, _) = write_config(dir, chain_url, 100, 100);
    let mut config = anchoring::AnchorConfig::load(&file).unwrap();
    config.chain.tls = Some(chain_tls);
    config.tls = Some(certs.server());
    config.plain_http = false;
    anchoring::start(config).await.unwrap()
}

/// Reads the answers `tests/openapi/hooks.py` recorded for a signed service (lines of
/// `METHOD /path status`): fails unless every `/v1` operation got an answer other than 401 and
/// some got a 2xx, so a signature the service refuses cannot pass unnoticed.
fn check_signed_answers(document: &str, answers: &Path) -> Result<(), String> {
    use std::collections::BTreeMap;
    let text = std::fs::read_to_string(answers)
        .map_err(|e| format!("{document}: no answers recorded in {}: {e}", answers.display()))?;
    // Per operation: how many answers of each status.
    let mut by_operation: BTreeMap<&str, BTreeMap<u16, u32>> = BTreeMap::new();
    for line in text.lines() {
        let (operation, status) = line
            .rsplit_once(' ')
            .and_then(|(op, status)| Some((op, status.parse::<u16>().ok()?)))
            .ok_or_else(|| format!("{document}: unreadable answer line {line:?}"))?;
        *by_operation
            .entry(operation)
            .or_default()
            .entry(status)
            .or_default() += 1;
    }
    let signed: Vec<_> = by_operation
        .iter()
        .filter(|(operation, _)| operation.contains(" /v1/"))
        .collect();
    println!("==== answers of {document}'s signed operations (status: count)");
    for (operation, statuses) in &signed {
        println!("{operation}: {statuses:?}");
    }
    let stuck: Vec<&str> = signed
        .iter()
        .filter(|(_, statuses)| statuses.keys().all(|s| *s == 401))
        .map(|(operation, _)| **operation)
        .collect();
    let successes: u32 = signed
        .iter()
        .flat_map(|(_, statuses)| statuses.iter())
        .filter(|(status, _)| (200..300).contains(*status))
        .map(|(_, n)| n)
        .sum();
    if signed.is_empty() || !stuck.is_empty() || successes == 0 {
        return Err(format!(
            "{document}: signed requests did not get past the signature check \
             (operations answered only 401: {stuck:?}; 2xx answers: {successes})"
        ));
    }
    Ok(())
}

/// Runs a tool, printing its report; the report if it failed.
async fn run(what: &str, command: &mut tokio::process::Command) -> Result<String, String> {
    let output = command
        .output()
        .await
        .map_err(|e| format!("{what}: cannot run: {e}"))?;
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("==== {what} ({})\n{report}", output.status);
    if output.status.success() {
        Ok(report)
    } else {
        Err(format!("{what} failed ({}):\n{report}", output.status))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_service_keeps_to_its_openapi_document() {
    let dir = tempfile::tempdir().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let options = NetworkOptions {
        durability: Durability::Normal,
        ..NetworkOptions::default()
    };
    let net = ChainNetwork::start(dir.path(), clock, options).await.unwrap();
    let network_certs = tls::dev::DevCerts::in_dir(&dir.path().join("certs"));
    let network_client =
        plugins::client::tls_http_client(std::time::Duration::from_secs(30), &network_certs.client())
            .unwrap();
    let anchor = start_anchoring(
        &dir.path().join("anchoring"),
        &net.committee.api_url(0),
        net.committee.client_tls(),
        &network_certs,
    )
    .await;
    let anchor_server = anchor.server.handle();
    tokio::spawn(anchor.server);
    let services = [
        Service {
            document: "ledger-api.json",
            base_url: https_url(net.digital_euro.addr()),
            ca: network_certs.ca.clone(),
            http: network_client.clone(),
            signer: Some(ledger_key("bank-a")),
        },
        Service {
            document: "connector-api.json",
            base_url: net.connector.base_url().trim_end_matches('/').to_owned(),
            ca: network_certs.ca.clone(),
            http: network_client.clone(),
            signer: None,
        },
        Service {
            document: "chain-api.json",
            base_url: net.committee.api_url(0),
            ca: net.committee.certs.ca.clone(),
            http: net.committee.http_client().unwrap(),
            signer: None,
        },
        Service {
            document: "receiver-api.json",
            base_url: net.receiver_url.trim_end_matches("/.well-known/pay").to_owned(),
            ca: network_certs.ca.clone(),
            http: network_client.clone(),
            signer: None,
        },
        Service {
            document: "anchoring-api.json",
            base_url: https_url(anchor.addr),
            ca: network_certs.ca.clone(),
            http: network_client,
            signer: Some((ISP.0.to_owned(), ISP.1.to_owned())),
        },
    ];
    for service in &services {
        let get = |path: &str| service.http.get(format!("{}{path}", service.base_url)).send();
        let served = get("/openapi.json")
            .await
            .and_then(|r| r.error_for_status())
            .unwrap()
            .text()
            .await
            .unwrap();
        openapi_document::assert_committed_document_is_current(
            service.document,
            &served,
            "cargo test --test openapi",
        );
        std::fs::write(dir.path().join(service.document), &served).unwrap();
        // A route the service does not serve is refused as problem+json, like everything else.
        let unknown = get("/v1/no-such-route").await.unwrap();
        assert_eq!(unknown.status(), 404, "{}", service.document);
        assert_eq!(
            unknown.headers()["content-type"],
            "application/problem+json",
            "{}",
            service.document
        );
    }
    // The chain node's health answer says what it is, as its document does.
    let chain = &services[2];
    let health = chain
        .http
        .get(format!("{}/healthz", chain.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.headers()["content-type"], "text/plain; charset=utf-8");

    let tools = match Tools::find() {
        Ok(tools) => tools,
        Err(why) if in_ci() => panic!("tests/openapi.rs must run the OpenAPI tools in CI, but cannot: {why}"),
        Err(why) => {
            let _ = writeln!(
                std::io::stderr(),
                "openapi: documents NOT validated, services NOT fuzzed (the rest passed): {why}"
            );
            anchor_server.stop(true).await;
            net.stop().await;
            return;
        }
    };
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openapi/schemathesis.toml");
    let hooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openapi/hooks.py");
    let mut failures = Vec::new();
    for service in &services {
        let file = dir.path().join(service.document);
        let validated = run(
            &format!("openapi-spec-validator {}", service.document),
            tokio::process::Command::new(&tools.validator)
                .arg("--schema")
                .arg("3.1")
                .arg(&file),
        )
        .await;
        let answers = dir.path().join(format!("answers-{}.txt", service.document));
        let mut schemathesis = tokio::process::Command::new(&tools.schemathesis);
        schemathesis
            .env("SCHEMATHESIS_HOOKS", &hooks)
            .env("CYPHERLINK_OPENAPI_ANSWERS", &answers);
        if let Some((key_id, secret)) = &service.signer {
            schemathesis
                .env("CYPHERLINK_SIGN_KEY_ID", key_id)
                .env("CYPHERLINK_SIGN_SECRET", secret);
        }
        let fuzzed = run(
            &format!("schemathesis {} at {}", service.document, service.base_url),
            schemathesis
                .current_dir(dir.path())
                .env(
                    "CYPHERLINK_OPERATOR_TOKEN",
                    &net.connector_config.api.operator_token,
                )
                .arg("--no-color")
                .arg("--config-file")
                .arg(&config)
                .arg("run")
                .arg(&file)
                .args(["--url", &service.base_url])
                .arg("--tls-verify")
                .arg(&service.ca)
                .args(["--checks", CHECKS])
                .args(["--phases", "examples,coverage,fuzzing"])
                .args(["--max-examples", &EXAMPLES.to_string()])
                .args(["--seed", &SEED.to_string()])
                // One worker: hypothesis's lambda descriptions are not thread-safe on Python 3.11
                // (`SystemError: AST constructor recursion depth mismatch` with two).
                .args(["--workers", "1"]),
        )
        .await;
        failures.extend(validated.err());
        failures.extend(fuzzed.err());
        if service.signer.is_some() {
            failures.extend(check_signed_answers(service.document, &answers).err());
        }
    }
    anchor_server.stop(true).await;
    net.stop().await;
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
