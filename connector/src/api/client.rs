//! A small client of the participant side of the API (`POST /v1/quotes`, `GET
//! /v1/payments/by-uetr/{uetr}`) and of a receiver's setup endpoint: what a paying bank asks
//! before and after it escrows. [`crate::sender::Payer`] pays through it; `cypherlink quote`
//! quotes with it without paying.

use std::time::Duration;

use serde::Deserialize;
use uuid::Uuid;

use crate::payment::Payment;
use crate::quote::{Quote, QuoteRequest};
use crate::receiver::SpspResponse;

/// Why a request to the connector or a receiver failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached, or the connection failed.
    #[error("{url}: {reason}")]
    Unreachable {
        /// What was asked.
        url: String,
        /// Why it failed.
        reason: String,
    },
    /// The server refused, with its problem+json code and explanation.
    #[error("{code}: {detail}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The problem's code (or the status, if the body was not problem+json).
        code: String,
        /// The problem's detail.
        detail: String,
    },
    /// A setup URL that is not HTTPS: the answer would carry a secret in clear.
    #[error("{0}")]
    Insecure(String),
    /// The answer was not what the API promises.
    #[error("unexpected answer from {url}: {reason}")]
    Unexpected {
        /// What was asked.
        url: String,
        /// What was wrong with the answer.
        reason: String,
    },
}

/// A problem+json body, as far as a client needs it.
#[derive(Debug, Deserialize)]
struct ProblemBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    detail: String,
}

/// Talks to one connector (and to the receivers its callers name).
#[derive(Debug, Clone)]
pub struct ConnectorClient {
    base: String,
    timeout: Duration,
    http: reqwest::Client,
}

impl ConnectorClient {
    /// A client of the connector API at `base` (e.g. `http://127.0.0.1:7200`), giving each
    /// request 30 seconds.
    pub fn new(base: impl Into<String>) -> Self {
        Self::with_timeout(base, Duration::from_secs(30))
    }

    /// A client whose requests each get `timeout`.
    pub fn with_timeout(base: impl Into<String>, timeout: Duration) -> Self {
        ConnectorClient {
            base: base.into().trim_end_matches('/').to_owned(),
            timeout,
            http: plugins::client::http_client(timeout),
        }
    }

    /// Trusts (and authenticates to) the connector and receivers as `tls` says, instead of
    /// with the system's roots and no client certificate.
    pub fn with_tls(mut self, tls: &tls::ClientTls) -> Result<Self, tls::TlsError> {
        self.http = plugins::client::tls_http_client(self.timeout, tls)?;
        Ok(self)
    }

    /// The connector API's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Asks a receiver's setup endpoint for an address and shared secret (and its asset); only
    /// over HTTPS, since the answer is the secret.
    pub async fn setup(&self, url: &str) -> Result<SpspResponse, ClientError> {
        crate::sender::require_https(url).map_err(ClientError::Insecure)?;
        let request = self
            .http
            .get(url)
            .header("Accept", "application/spsp4+json, application/json");
        read(url, request.send().await).await
    }

    /// A quote; a refusal carries the connector's code (`limit_exceeded`, `no_route`, ...).
    pub async fn quote(&self, request: &QuoteRequest) -> Result<Quote, ClientError> {
        let url = format!("{}/v1/quotes", self.base);
        let sent = self.http.post(&url).json(request).send().await;
        read(&url, sent).await
    }

    /// The connector's records of a payment (one per leg pair), by its end-to-end id; the
    /// random UETR is the capability, no token is sent.
    pub async fn payments_by_uetr(&self, uetr: Uuid) -> Result<Vec<Payment>, ClientError> {
        let url = format!("{}/v1/payments/by-uetr/{uetr}", self.base);
        read(&url, self.http.get(&url).send().await).await
    }
}

async fn read<T: serde::de::DeserializeOwned>(
    url: &str,
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<T, ClientError> {
    let response = sent.map_err(|e| ClientError::Unreachable {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| ClientError::Unreachable {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    if !status.is_success() {
        let problem = serde_json::from_slice::<ProblemBody>(&bytes).unwrap_or(ProblemBody {
            code: status.as_u16().to_string(),
            detail: format!("{url} answered {status}"),
        });
        return Err(ClientError::Refused {
            status: status.as_u16(),
            code: problem.code,
            detail: problem.detail,
        });
    }
    serde_json::from_slice(&bytes).map_err(|e| ClientError::Unexpected {
        url: url.to_owned(),
        reason: e.to_string(),
    })
}
