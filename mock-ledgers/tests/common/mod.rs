//! Shared by the integration tests: fixture ledgers on 127.0.0.1 port 0 with a scratch
//! database and a `ManualClock`, and a raw signed HTTP client for API-level checks.
#![allow(dead_code)]

use std::sync::Arc;

use htlc::{Clock, ManualClock, Timestamp};
use mock_ledgers::config::{Durability, LedgerConfig, LedgerConfigFile, fixtures};
use mock_ledgers::conformance::RestHarness;
use mock_ledgers::server::{self, RunningLedger};
use plugins::{RestPlugin, RestPluginConfig};

/// 2030-01-01T00:00:00Z: tests run on simulated time from here.
pub(crate) fn start_time() -> Timestamp {
    Timestamp::parse_rfc3339("2030-01-01T00:00:00Z").expect("valid")
}

/// A fixture config on port 0 with its database in `dir`.
pub(crate) fn config(fixture: &str, dir: &std::path::Path) -> LedgerConfig {
    config_with(fixture, dir, |_| {})
}

/// [`config`], then `edit` (e.g. a test's own `[webhooks]` policy).
pub(crate) fn config_with(
    fixture: &str,
    dir: &std::path::Path,
    edit: impl FnOnce(&mut LedgerConfigFile),
) -> LedgerConfig {
    LedgerConfig::from_toml_with(fixture, |f| {
        f.server.listen = "127.0.0.1:0".parse().expect("addr");
        f.server.database = Some(dir.join("ledger.sqlite"));
        // Tests do not need power-loss durability; kill -9 durability holds either way.
        f.server.durability = Durability::Normal;
        edit(f);
    })
    .expect("fixture config is valid")
}

pub(crate) async fn harness(fixture: &str, payer: (&str, &str), payee: (&str, &str)) -> RestHarness {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(fixture, dir.path());
    RestHarness::start(config, start_time(), payer, payee, Box::new(dir)).await
}

pub(crate) async fn bank() -> RestHarness {
    harness(
        fixtures::BANK,
        ("bank-a", "bank-a-k1"),
        ("clearing-bank", "clearing-bank-k1"),
    )
    .await
}

pub(crate) async fn digital_euro() -> RestHarness {
    harness(
        fixtures::DIGITAL_EURO,
        ("bank-a", "bank-a-k1"),
        ("clearing-bank", "clearing-bank-k1"),
    )
    .await
}

pub(crate) async fn e_cny() -> RestHarness {
    harness(
        fixtures::E_CNY,
        ("bank-a", "bank-a-k1"),
        ("clearing-bank", "clearing-bank-k1"),
    )
    .await
}

/// A ledger with a manual clock, and a way to connect any configured key.
pub(crate) struct Ledger {
    pub ledger: RunningLedger,
    pub clock: Arc<ManualClock>,
    pub dir: tempfile::TempDir,
}

impl Ledger {
    pub(crate) async fn start(fixture: &str) -> Ledger {
        Self::start_with(fixture, |_| {}).await
    }

    /// A fixture ledger with its config changed by `edit`.
    pub(crate) async fn start_with(fixture: &str, edit: impl FnOnce(&mut LedgerConfigFile)) -> Ledger {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = Arc::new(ManualClock::new(start_time()));
        let config = config_with(fixture, dir.path(), edit);
        let ledger = server::run_with_clock(config, clock.clone() as Arc<dyn Clock>)
            .await
            .expect("ledger starts");
        Ledger { ledger, clock, dir }
    }

    pub(crate) fn secret(&self, key_id: &str) -> Vec<u8> {
        self.ledger.config().keys[key_id].secret.clone()
    }

    pub(crate) async fn plugin(&self, key_id: &str) -> RestPlugin {
        let config = RestPluginConfig::new(self.ledger.base_url(), key_id, self.secret(key_id));
        RestPlugin::connect_with_clock(config, self.clock.clone() as Arc<dyn Clock>)
            .await
            .expect("client connects")
    }

    /// Signature headers for a request signed with `key_id`, stamped `seconds_ago` before the
    /// ledger's time (kept to send, or replay, with [`Ledger::send_signed`]).
    pub(crate) fn signature(
        &self,
        key_id: &str,
        method: &str,
        path: &str,
        body: &[u8],
        seconds_ago: i64,
    ) -> [(String, String); 4] {
        let stamp = self.clock.now().unix_secs() - seconds_ago;
        plugins::auth::sign(key_id, &self.secret(key_id), method, path, stamp, body)
            .pairs()
            .map(|(n, v)| (n.to_owned(), v))
    }

    /// A raw request signed with `key_id` at the ledger's time, plus extra headers.
    pub(crate) async fn send(
        &self,
        key_id: &str,
        method: &str,
        path: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> (u16, String, serde_json::Value) {
        let signature = self.signature(key_id, method, path, body, 0);
        self.send_signed(&signature, method, path, body, headers).await
    }

    /// The same ledger stopped and started again on its database, its clock moved on by
    /// `millis` while it was down.
    pub(crate) async fn restarted(self, millis: i64) -> Ledger {
        self.restarted_with(millis, |_| {}).await
    }

    /// [`Ledger::restarted`] with its configuration changed by `edit`.
    pub(crate) async fn restarted_with(self, millis: i64, edit: impl FnOnce(&mut LedgerConfig)) -> Ledger {
        let Ledger { ledger, clock, dir } = self;
        let mut config = ledger.config().clone();
        edit(&mut config);
        ledger.shutdown().await;
        clock.advance_millis(millis);
        let ledger = server::run_with_clock(config, clock.clone() as Arc<dyn Clock>)
            .await
            .expect("ledger restarts");
        Ledger { ledger, clock, dir }
    }

    /// A raw request with exactly the given signature headers.
    pub(crate) async fn send_signed(
        &self,
        signature: &[(String, String)],
        method: &str,
        path: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> (u16, String, serde_json::Value) {
        let http = plugins::client::http_client(std::time::Duration::from_secs(10));
        let mut request = http.request(
            method.parse().expect("method"),
            format!("{}{path}", self.ledger.base_url()),
        );
        for (n, v) in signature {
            request = request.header(n.as_str(), v.as_str());
        }
        for (n, v) in headers {
            request = request.header(*n, *v);
        }
        if !body.is_empty() {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_vec());
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = response.bytes().await.expect("body");
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (status, content_type, json)
    }
}
