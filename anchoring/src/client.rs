//! A Rust client of the service's API for submitters (and the tests and the benchmark): signs
//! every request with the submitter's key (`plugins::auth`) and reads problem documents.

use std::sync::Once;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ledger_node::proof::InclusionProof;
use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::http::{Accepted, BatchView, DigestsRequest, ItemStatus, Problem};

static RUSTLS: Once = Once::new();

/// A request that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The service could not be reached or answered garbage.
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    /// The service answered with a problem document.
    #[error("{} {}: {}", .0.status, .0.code, .0.detail)]
    Problem(Problem),
}

/// What the certificate route answered.
#[derive(Debug, Clone)]
pub enum CertificateAnswer {
    /// The certificate.
    Ready(Box<InclusionProof>),
    /// Not final yet.
    Pending(ItemStatus),
}

/// One submitter's client.
#[derive(Debug, Clone)]
pub struct AnchorClient {
    base: String,
    http: reqwest::Client,
    key_id: String,
    secret: Vec<u8>,
}

/// A problem made up for an answer that was not what the API promises.
fn unexpected(status: u16, title: &str, detail: String) -> ClientError {
    ClientError::Problem(Problem {
        type_uri: String::new(),
        title: title.to_owned(),
        status,
        code: "unexpected".into(),
        detail,
    })
}

fn unix_secs() -> i64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

impl AnchorClient {
    /// A client of the service at `base_url` signing with `key_id` and `secret`.
    pub fn new(base_url: &str, key_id: &str, secret: &[u8]) -> Self {
        RUSTLS.call_once(tls::install_default_provider);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        AnchorClient {
            base: base_url.trim_end_matches('/').to_owned(),
            http,
            key_id: key_id.to_owned(),
            secret: secret.to_vec(),
        }
    }

    /// Sends a signed request; the status and body as they came (for tests of bad input).
    pub async fn send(&self, method: Method, path: &str, body: &[u8]) -> Result<(u16, Vec<u8>), ClientError> {
        let h = plugins::auth::sign(
            &self.key_id,
            &self.secret,
            method.as_str(),
            path,
            unix_secs(),
            body,
        );
        self.send_with(method, path, body, &h.pairs()).await
    }

    /// Sends a request with the given headers (signed or not).
    pub async fn send_with(
        &self,
        method: Method,
        path: &str,
        body: &[u8],
        headers: &[(&str, String)],
    ) -> Result<(u16, Vec<u8>), ClientError> {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .body(body.to_vec())
            .header("content-type", "application/json");
        for (name, value) in headers {
            r = r.header(*name, value);
        }
        let resp = r.send().await?;
        let status = resp.status().as_u16();
        Ok((status, resp.bytes().await?.to_vec()))
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &[u8],
    ) -> Result<(u16, T), ClientError> {
        let (status, bytes) = self.send(method, path, body).await?;
        if (200..300).contains(&status) {
            let v = serde_json::from_slice(&bytes)
                .map_err(|e| unexpected(status, "unexpected answer", e.to_string()))?;
            return Ok((status, v));
        }
        Err(match serde_json::from_slice(&bytes) {
            Ok(p) => ClientError::Problem(p),
            Err(_) => unexpected(
                status,
                "no problem document",
                String::from_utf8_lossy(&bytes).into_owned(),
            ),
        })
    }

    /// Anchors `digests` in `namespace`; their item ids once durable.
    pub async fn submit(&self, namespace: &str, digests: &[[u8; 32]]) -> Result<Vec<u64>, ClientError> {
        let body = serde_json::to_vec(&DigestsRequest {
            digests: digests.iter().map(hex::encode).collect(),
        })
        .unwrap_or_default();
        let (_, a): (_, Accepted) = self
            .call(
                Method::POST,
                &format!("/v1/namespaces/{namespace}/digests"),
                &body,
            )
            .await?;
        Ok(a.ids)
    }

    /// An item's certificate, waiting up to `wait` for it.
    pub async fn certificate(&self, id: u64, wait: Duration) -> Result<CertificateAnswer, ClientError> {
        let path = format!("/v1/items/{id}/certificate?wait_ms={}", wait.as_millis());
        let (status, bytes) = self.send(Method::GET, &path, b"").await?;
        let bad = |e: serde_json::Error| unexpected(status, "unexpected answer", e.to_string());
        match status {
            200 => Ok(CertificateAnswer::Ready(Box::new(
                serde_json::from_slice(&bytes).map_err(bad)?,
            ))),
            202 => Ok(CertificateAnswer::Pending(
                serde_json::from_slice(&bytes).map_err(bad)?,
            )),
            _ => Err(ClientError::Problem(serde_json::from_slice(&bytes).map_err(bad)?)),
        }
    }

    /// One batch of a namespace.
    pub async fn batch(&self, namespace: &str, sequence: u64) -> Result<BatchView, ClientError> {
        let path = format!("/v1/namespaces/{namespace}/batches/{sequence}");
        Ok(self.call(Method::GET, &path, b"").await?.1)
    }
}
