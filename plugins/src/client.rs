//! [`RestPlugin`]: the connector's side of the REST plugin API. It implements
//! [`LedgerPlugin`] against any server that speaks the API — the mock bank, the CBDC ledgers,
//! or a real bank's implementation — signing every request and retrying on network failures.
//!
//! Retries are safe because every POST carries an `Idempotency-Key` derived from what it does
//! (`prepare-<transfer id>`, `reject-<transfer id>-<reason digest>`, `fulfill-<transfer id>-<preimage tag>`), so a
//! retry — even from a restarted process — gets the first answer instead of acting twice.

use std::sync::{Arc, Once};
use std::time::Duration;

use async_trait::async_trait;
use htlc::{Clock, Fulfillment, SystemClock, Timestamp};
use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::api::{
    AccountLookup, FulfillRequest, IDEMPOTENCY_KEY_HEADER, IssuanceRequest, Payment, PaymentRequest, Problem,
    RedemptionRequest, RejectRequest, Statement, Supply, SupplyChange, Webhook, WebhookRequest,
};
use crate::auth;
use crate::error::PluginError;
use crate::plugin::{
    AccountId, Balance, EventCursor, EventPage, LedgerInfo, LedgerPlugin, PrepareTransfer, Transfer,
    TransferId,
};

static RUSTLS: Once = Once::new();

/// How long our HTTP servers keep an idle connection: longer than [`http_client`] keeps one
/// (30 s), so a client never sends a request on a connection the server is closing at that
/// moment (actix's default of 5 s lost a request now and then under load).
pub const SERVER_KEEP_ALIVE: Duration = Duration::from_secs(75);

/// An HTTP client with the process-wide rustls provider installed (reqwest is built without
/// one, to keep the build lean).
pub fn http_client(timeout: Duration) -> reqwest::Client {
    http_client_builder(timeout)
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// The settings of [`http_client`], for a client that needs more of them (webhook deliveries
/// add a resolver and refuse proxies); installs the rustls provider first. No CypherLink API
/// redirects, so a redirect is never followed: it would carry signed headers elsewhere.
pub fn http_client_builder(timeout: Duration) -> reqwest::ClientBuilder {
    RUSTLS.call_once(tls::install_default_provider);
    reqwest::Client::builder()
        .timeout(timeout)
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
}

/// [`http_client`] with TLS as `tls` says: its CA (or the system's roots) and, for mutual TLS,
/// its client certificate.
pub fn tls_http_client(timeout: Duration, tls: &tls::ClientTls) -> Result<reqwest::Client, tls::TlsError> {
    let config = tls.client_config()?;
    Ok(http_client_builder(timeout)
        .tls_backend_preconfigured(config)
        .build()
        .unwrap_or_else(|_| reqwest::Client::new()))
}

/// Where a ledger is and how to sign for it.
#[derive(Clone)]
pub struct RestPluginConfig {
    /// E.g. `http://127.0.0.1:7101`.
    pub base_url: String,
    /// Key id (`CypherLink-Key-Id`).
    pub key_id: String,
    /// The key's secret.
    pub secret: Vec<u8>,
    /// Timeout of one attempt (long polls add their wait).
    pub timeout: Duration,
    /// Attempts for a retryable call (network error or 503).
    pub max_attempts: u32,
    /// For an `https://` ledger: the CA to trust (default: the system's) and, for mutual TLS,
    /// the client certificate.
    pub tls: Option<tls::ClientTls>,
}

impl std::fmt::Debug for RestPluginConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestPluginConfig")
            .field("base_url", &self.base_url)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl RestPluginConfig {
    /// Defaults: 10 s per attempt, 5 attempts.
    pub fn new(base_url: impl Into<String>, key_id: impl Into<String>, secret: impl Into<Vec<u8>>) -> Self {
        RestPluginConfig {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            key_id: key_id.into(),
            secret: secret.into(),
            timeout: Duration::from_secs(10),
            max_attempts: 5,
            tls: None,
        }
    }
}

/// A ledger reached over the REST plugin API.
pub struct RestPlugin {
    http: SignedHttp,
    /// What the ledger answered at connection (`GET /v1/info`).
    info: LedgerInfo,
}

/// Signs each request to one ledger and sends it, retrying what is safe to retry. Apart from
/// [`RestPlugin`] so that connecting can ask the ledger who it is before there is a plugin.
struct SignedHttp {
    config: RestPluginConfig,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for RestPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestPlugin")
            .field("ledger", &self.info.ledger_id)
            .field("config", &self.http.config)
            .finish()
    }
}

fn unavailable(reason: impl std::fmt::Display) -> PluginError {
    PluginError::Unavailable {
        reason: reason.to_string(),
    }
}

impl RestPlugin {
    /// Connects (fetches `/v1/info`), signing with the wall clock.
    pub async fn connect(config: RestPluginConfig) -> Result<Self, PluginError> {
        Self::connect_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Connects, taking signature timestamps from `clock` (tests share the ledger's
    /// `ManualClock`, since the server checks timestamps against its own clock).
    pub async fn connect_with_clock(
        config: RestPluginConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, PluginError> {
        let http = match &config.tls {
            Some(tls) => tls_http_client(config.timeout, tls).map_err(unavailable)?,
            None => http_client(config.timeout),
        };
        let http = SignedHttp { config, http, clock };
        let info = http.call(Method::GET, "/v1/info", None, None, None).await?;
        Ok(RestPlugin { http, info })
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
        key: &str,
    ) -> Result<T, PluginError> {
        let bytes = serde_json::to_vec(body).map_err(|e| PluginError::Malformed {
            reason: e.to_string(),
        })?;
        self.http
            .call(Method::POST, path, Some(bytes), Some(key), None)
            .await
    }

    /// Pays immediately (no escrow). `idempotency_key` identifies this payment across retries.
    pub async fn pay(&self, request: &PaymentRequest, idempotency_key: &str) -> Result<Payment, PluginError> {
        self.post("/v1/payments", request, idempotency_key).await
    }

    /// Central bank: issues new money to an intermediary.
    pub async fn issue(
        &self,
        request: &IssuanceRequest,
        idempotency_key: &str,
    ) -> Result<SupplyChange, PluginError> {
        self.post("/v1/issuances", request, idempotency_key).await
    }

    /// Intermediary: redeems money to the central bank.
    pub async fn redeem(
        &self,
        request: &RedemptionRequest,
        idempotency_key: &str,
    ) -> Result<SupplyChange, PluginError> {
        self.post("/v1/redemptions", request, idempotency_key).await
    }

    /// Total supply against balances and escrows.
    pub async fn supply(&self) -> Result<Supply, PluginError> {
        self.http.call(Method::GET, "/v1/supply", None, None, None).await
    }

    /// Account lookup, with a name check if `name` is given.
    pub async fn lookup(
        &self,
        account: &AccountId,
        name: Option<&str>,
    ) -> Result<AccountLookup, PluginError> {
        let path = match name {
            Some(n) => format!("/v1/accounts/{account}?name={}", encode_query(n)),
            None => format!("/v1/accounts/{account}"),
        };
        self.http.call(Method::GET, &path, None, None, None).await
    }

    /// Statement of an owned account for `[from, to)`.
    pub async fn statement(
        &self,
        account: &AccountId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Statement, PluginError> {
        let path = format!(
            "/v1/accounts/{account}/statement?from={}&to={}",
            encode_query(&from.to_rfc3339()),
            encode_query(&to.to_rfc3339())
        );
        self.http.call(Method::GET, &path, None, None, None).await
    }

    /// Registers this key's webhook.
    pub async fn register_webhook(
        &self,
        url: &str,
        after: Option<EventCursor>,
    ) -> Result<Webhook, PluginError> {
        let request = WebhookRequest {
            url: url.to_owned(),
            after,
        };
        let key = format!("webhook-{}", uuid::Uuid::new_v4());
        self.post("/v1/webhooks", &request, &key).await
    }

    /// This key's webhook and its delivery state.
    pub async fn webhook(&self) -> Result<Option<Webhook>, PluginError> {
        self.http
            .call(Method::GET, "/v1/webhooks", None, None, None)
            .await
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass).
fn encode_query(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl SignedHttp {
    /// Sends one signed request, retrying network failures and 503s when that is safe (GETs,
    /// and POSTs with an idempotency key).
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        idempotency_key: Option<&str>,
        extra_timeout: Option<Duration>,
    ) -> Result<T, PluginError> {
        let body = body.unwrap_or_default();
        let retry_safe = method == Method::GET || idempotency_key.is_some();
        let url = format!("{}{path}", self.config.base_url);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let can_retry = retry_safe && attempt < self.config.max_attempts;
            let now = self.clock.now().unix_secs();
            let signature = auth::sign(
                &self.config.key_id,
                &self.config.secret,
                method.as_str(),
                path,
                now,
                &body,
            );
            let mut request = self.http.request(method.clone(), &url);
            for (name, value) in signature.pairs() {
                request = request.header(name, value);
            }
            if let Some(key) = idempotency_key {
                request = request.header(IDEMPOTENCY_KEY_HEADER, key);
            }
            if !body.is_empty() {
                request = request
                    .header("Content-Type", "application/json")
                    .body(body.clone());
            }
            if let Some(extra) = extra_timeout {
                request = request.timeout(self.config.timeout + extra);
            }
            let failure = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    match response.bytes().await {
                        Ok(bytes) if status.is_success() => {
                            return serde_json::from_slice(&bytes)
                                .map_err(|e| unavailable(format!("unexpected answer from {path}: {e}")));
                        }
                        Ok(bytes) => {
                            let error = serde_json::from_slice::<Problem>(&bytes)
                                .map(Problem::into_error)
                                .unwrap_or_else(|_| unavailable(format!("{path} answered {status}")));
                            if !error.is_retryable() {
                                return Err(error);
                            }
                            error
                        }
                        Err(e) => unavailable(format!("reading answer from {path}: {e}")),
                    }
                }
                Err(e) => unavailable(format!("{method} {path}: {e}")),
            };
            if !can_retry {
                return Err(failure);
            }
            tracing::debug!(base_url = %self.config.base_url, %path, attempt, error = %failure, "retrying");
            tokio::time::sleep(Duration::from_millis(50u64 << attempt.min(6))).await;
        }
    }
}

#[async_trait]
impl LedgerPlugin for RestPlugin {
    fn info(&self) -> &LedgerInfo {
        &self.info
    }

    async fn prepare(&self, request: PrepareTransfer) -> Result<Transfer, PluginError> {
        let key = format!("prepare-{}", request.id);
        self.post("/v1/transfers", &request, &key).await
    }

    async fn fulfill(&self, id: TransferId, fulfillment: Fulfillment) -> Result<Transfer, PluginError> {
        // The preimage's tag in the key: a wrong preimage and the right one are different requests.
        let tag = &fulfillment.condition().to_hex()[..16];
        let key = format!("fulfill-{id}-{tag}");
        self.post(
            &format!("/v1/transfers/{id}/fulfill"),
            &FulfillRequest { fulfillment },
            &key,
        )
        .await
    }

    async fn reject(&self, id: TransferId, reason: Option<String>) -> Result<Transfer, PluginError> {
        // A retry with the same reason replays the first answer; a reject with another reason
        // is a new request, which the ledger answers with the transfer as already rejected.
        let digest = <sha2::Sha256 as sha2::Digest>::digest(reason.as_deref().unwrap_or("").as_bytes());
        let key = format!("reject-{id}-{}", hex::encode(&digest[..8]));
        self.post(
            &format!("/v1/transfers/{id}/reject"),
            &RejectRequest { reason },
            &key,
        )
        .await
    }

    async fn transfer(&self, id: TransferId) -> Result<Transfer, PluginError> {
        self.http
            .call(Method::GET, &format!("/v1/transfers/{id}"), None, None, None)
            .await
    }

    async fn receivable(&self, account: &AccountId) -> Result<Option<u64>, PluginError> {
        let answer: crate::api::Receivable = self
            .http
            .call(
                Method::GET,
                &format!("/v1/accounts/{account}/receivable"),
                None,
                None,
                None,
            )
            .await?;
        Ok(answer.receivable)
    }

    async fn balance(&self, account: &AccountId) -> Result<Balance, PluginError> {
        self.http
            .call(
                Method::GET,
                &format!("/v1/accounts/{account}/balance"),
                None,
                None,
                None,
            )
            .await
    }

    async fn events(&self, after: EventCursor, limit: u32, wait: Duration) -> Result<EventPage, PluginError> {
        let path = format!(
            "/v1/events?after={}&limit={limit}&wait_ms={}",
            after.0,
            wait.as_millis()
        );
        self.http.call(Method::GET, &path, None, None, Some(wait)).await
    }

    async fn statement(
        &self,
        account: &AccountId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Statement, PluginError> {
        // The inherent method (`GET /v1/accounts/{id}/statement`).
        RestPlugin::statement(self, account, from, to).await
    }
}
