//! The four services' OpenAPI documents, checked by independent tools against the running
//! services: the digital-euro ledger, the connector, a chain node and Bank B's receiver, as
//! `testnet`'s chain network runs them (real servers on 127.0.0.1, over TLS). For each:
//!
//! - the document it serves at `/openapi.json` is the one committed in `docs/openapi`;
//! - `openapi-spec-validator` accepts it as OpenAPI 3.1;
//! - `schemathesis`, fuzzing the running service from it (examples, boundary and negative
//!   cases, then random ones: at most [`EXAMPLES`] per operation in the random phase), finds no
//!   server error and no answer the document does not promise: status, content type, headers
//!   and body schema. `tests/openapi/schemathesis.toml` says what each service needs (the
//!   connector's operator token; long polls told not to wait).
//!
//! The tools live in a Python virtual environment: `$CYPHERLINK_OPENAPI_VENV`, or
//! `target/ci-venv`, which `.ci/run` makes from `tests/openapi/requirements.txt`. Without them
//! the test checks only the served documents and a few answers (unknown routes, the chain
//! node's health), says on stderr what it did not check, and passes, except under CI (`CI`
//! set), where it fails. Run it with `cargo test --test openapi -- --nocapture` to see the
//! tools' reports.

#[path = "support/openapi_document.rs"]
mod openapi_document;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use connector::store::Durability;
use htlc::{Clock, SystemClock};
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
    let services = [
        Service {
            document: "ledger-api.json",
            base_url: https_url(net.digital_euro.addr()),
            ca: network_certs.ca.clone(),
            http: network_client.clone(),
        },
        Service {
            document: "connector-api.json",
            base_url: net.connector.base_url().trim_end_matches('/').to_owned(),
            ca: network_certs.ca.clone(),
            http: network_client.clone(),
        },
        Service {
            document: "chain-api.json",
            base_url: net.committee.api_url(0),
            ca: net.committee.certs.ca.clone(),
            http: net.committee.http_client().unwrap(),
        },
        Service {
            document: "receiver-api.json",
            base_url: net.receiver_url.trim_end_matches("/.well-known/pay").to_owned(),
            ca: network_certs.ca.clone(),
            http: network_client,
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
            net.stop().await;
            return;
        }
    };
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openapi/schemathesis.toml");
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
        let fuzzed = run(
            &format!("schemathesis {} at {}", service.document, service.base_url),
            tokio::process::Command::new(&tools.schemathesis)
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
    }
    net.stop().await;
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
