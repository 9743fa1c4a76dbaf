//! A Rust client of a node's HTTP API, for other crates (the connector's chain plugin, the
//! identity module, tests, the benchmark).
//!
//! How a chain plugin uses it: it holds its account's Ed25519 key in a [`Signer`] and keeps its
//! next nonce; to lock funds it builds an `EscrowCreate` whose 16-byte reference is the
//! connector's transfer id, so the escrow id is known before submitting
//! ([`crate::state::EscrowId::derive`]) and a retry after a crash looks the escrow up instead of
//! locking twice; it submits with [`ChainClient::submit_and_wait`] to learn the outcome; it
//! follows [`ChainClient::events`] from its saved cursor (long poll) to see escrows addressed to
//! it and fulfilments (which carry the preimage); it fulfils with `EscrowFulfill` and refunds
//! its expired escrows with `EscrowRefund`.

use std::sync::Once;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use serde::de::DeserializeOwned;

use crate::api::did::VersionQuery;
use crate::api::types::*;
use crate::proof::InclusionProof;
use crate::state::tx::{Op, TxBody, account_of};
use crate::state::types::{AccountId, AssetCode, EscrowId, TxId, hex_of};

static RUSTLS: Once = Once::new();

/// A request that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The node could not be reached or answered garbage.
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    /// The TLS settings could not be used.
    #[error("TLS: {0}")]
    Tls(#[from] tls::TlsError),
    /// The node answered with a problem document.
    #[error("{status} {code}: {detail}")]
    Problem {
        /// HTTP status.
        status: u16,
        /// Stable code (`bad_signature`, `wrong_chain`, `unknown_signer`, `nonce_reused`,
        /// `rate_limited` with status 429, `malformed`, `not_found`, ...; the list is on
        /// `node::http::Problem::code`).
        code: ProblemCode,
        /// In words.
        detail: String,
    },
}

/// A node's API.
#[derive(Clone, Debug)]
pub struct ChainClient {
    base: String,
    http: reqwest::Client,
}

#[derive(serde::Deserialize)]
struct ProblemBody {
    code: ProblemCode,
    detail: String,
}

impl ChainClient {
    fn builder() -> reqwest::ClientBuilder {
        RUSTLS.call_once(tls::install_default_provider);
        reqwest::Client::builder()
            .timeout(Duration::from_secs(150))
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
    }

    /// A client of the node at `base_url` (e.g. `http://127.0.0.1:7500`).
    pub fn new(base_url: impl Into<String>) -> Self {
        let http = Self::builder().build().unwrap_or_else(|_| reqwest::Client::new());
        Self {
            base: base_url.into().trim_end_matches('/').to_owned(),
            http,
        }
    }

    /// Trusts the node's certificate as `tls` says (a CA, or the system's roots) and presents
    /// its client certificate for mutual TLS.
    pub fn with_tls(mut self, tls: &tls::ClientTls) -> Result<Self, ClientError> {
        let config = tls.client_config()?;
        self.http = Self::builder().tls_backend_preconfigured(config).build()?;
        Ok(self)
    }

    /// The node's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    async fn parse<T: DeserializeOwned>(resp: reqwest::Response) -> Result<T, ClientError> {
        let status = resp.status();
        if status.is_success() {
            return resp.json().await.map_err(ClientError::Http);
        }
        let text = resp.text().await.unwrap_or_default();
        match serde_json::from_str::<ProblemBody>(&text) {
            Ok(p) => Err(ClientError::Problem {
                status: status.as_u16(),
                code: p.code,
                detail: p.detail,
            }),
            Err(_) => Err(ClientError::Problem {
                status: status.as_u16(),
                code: ProblemCode::Other("unexpected".into()),
                detail: text,
            }),
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        Self::parse(self.http.get(format!("{}{path}", self.base)).send().await?).await
    }

    async fn get_opt<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, ClientError> {
        match self.get(path).await {
            Ok(v) => Ok(Some(v)),
            Err(ClientError::Problem { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Submits a signed transaction; answers once it is in the mempool (`pending`), or its
    /// status if it was committed already.
    pub async fn submit(&self, tx: &[u8]) -> Result<TxStatus, ClientError> {
        let body = SubmitRequest { tx: hex_of(tx) };
        Self::parse(
            self.http
                .post(format!("{}/v1/transactions", self.base))
                .json(&body)
                .send()
                .await?,
        )
        .await
    }

    /// Submits and waits until the transaction's block is committed and stored (or `timeout`
    /// passes: then the status is still `pending`).
    pub async fn submit_and_wait(&self, tx: &[u8], timeout: Duration) -> Result<TxStatus, ClientError> {
        let body = SubmitRequest { tx: hex_of(tx) };
        Self::parse(
            self.http
                .post(format!(
                    "{}/v1/transactions?wait=true&timeout_ms={}",
                    self.base,
                    timeout.as_millis()
                ))
                .json(&body)
                .send()
                .await?,
        )
        .await
    }

    /// Submits up to 1000 transactions in order; with `wait`, answers when all are committed.
    /// Each item is a status or, for a refused transaction, the refusal's code and detail.
    pub async fn submit_batch(
        &self,
        txs: &[Vec<u8>],
        wait: Option<Duration>,
    ) -> Result<Vec<Result<TxStatus, (ProblemCode, String)>>, ClientError> {
        #[derive(serde::Deserialize)]
        struct Item {
            status: Option<TxStatus>,
            error: Option<ProblemBody>,
        }
        let body = serde_json::json!({ "txs": txs.iter().map(|t| hex_of(t)).collect::<Vec<_>>() });
        let url = match wait {
            Some(w) => format!(
                "{}/v1/transactions/batch?wait=true&timeout_ms={}",
                self.base,
                w.as_millis()
            ),
            None => format!("{}/v1/transactions/batch", self.base),
        };
        let items: Vec<Item> = Self::parse(self.http.post(url).json(&body).send().await?).await?;
        Ok(items
            .into_iter()
            .map(|i| match (i.status, i.error) {
                (Some(s), _) => Ok(s),
                (None, Some(p)) => Err((p.code, p.detail)),
                (None, None) => Err((ProblemCode::Other("unexpected".into()), String::new())),
            })
            .collect())
    }

    /// A transaction's status (`None` if this node never saw it).
    pub async fn tx(&self, id: &TxId) -> Result<Option<TxStatus>, ClientError> {
        self.get_opt(&format!("/v1/transactions/{id}")).await
    }

    /// The inclusion proof of a committed transaction.
    pub async fn proof(&self, id: &TxId) -> Result<Option<InclusionProof>, ClientError> {
        self.get_opt(&format!("/v1/transactions/{id}/proof")).await
    }

    /// An account's nonce and balances.
    pub async fn account(&self, account: &AccountId) -> Result<AccountView, ClientError> {
        self.get(&format!("/v1/accounts/{}", account.to_hex())).await
    }

    /// A balance in one asset.
    pub async fn balance(&self, account: &AccountId, asset: &AssetCode) -> Result<u64, ClientError> {
        let a = self.account(account).await?;
        Ok(a.balances
            .iter()
            .find(|b| &b.asset == asset)
            .map_or(0, |b| b.amount))
    }

    /// An asset (`None` if the chain has no asset with this code).
    pub async fn asset(&self, code: &AssetCode) -> Result<Option<AssetView>, ClientError> {
        self.get_opt(&format!("/v1/assets/{}", path_segment(code))).await
    }

    /// An escrow.
    pub async fn escrow(&self, id: &EscrowId) -> Result<Option<EscrowView>, ClientError> {
        self.get_opt(&format!("/v1/escrows/{}", id.to_hex())).await
    }

    /// Escrows created with `reference` by any payer, oldest first.
    pub async fn escrows_by_reference(&self, reference: &[u8; 16]) -> Result<Vec<EscrowView>, ClientError> {
        self.get(&format!("/v1/escrows?reference={}", hex_of(reference)))
            .await
    }

    /// `payer`'s open escrows, earliest expiry first (at most `limit`).
    pub async fn open_escrows(&self, payer: &AccountId, limit: u32) -> Result<Vec<EscrowView>, ClientError> {
        self.get(&format!(
            "/v1/escrows?open_payer={}&limit={limit}",
            payer.to_hex()
        ))
        .await
    }

    /// Events after `after`, waiting up to `wait` for the first.
    pub async fn events(&self, after: u64, limit: u32, wait: Duration) -> Result<EventPage, ClientError> {
        self.get(&format!(
            "/v1/events?after={after}&limit={limit}&wait_ms={}",
            wait.as_millis()
        ))
        .await
    }

    /// A committed block with its certificate.
    pub async fn block(&self, height: u64) -> Result<Option<BlockView>, ClientError> {
        self.get_opt(&format!("/v1/blocks/{height}")).await
    }

    /// The committee and genesis.
    pub async fn committee(&self) -> Result<CommitteeView, ClientError> {
        self.get("/v1/committee").await
    }

    /// The node's status.
    pub async fn status(&self) -> Result<NodeStatus, ClientError> {
        self.get("/v1/status").await
    }

    /// The chain id, from the committee.
    pub async fn chain_id(&self) -> Result<[u8; 32], ClientError> {
        Ok(self.committee().await?.chain_id)
    }

    /// Resolves a DID through the node (`GET /1.0/identifiers/{did}`): the HTTP status (200,
    /// 410 deactivated, or the error's) and the whole DID Resolution result, whose
    /// `didResolutionMetadata.error` names a failure.
    pub async fn resolve_did(
        &self,
        did: &str,
        query: VersionQuery,
    ) -> Result<(u16, did::ResolutionResult), ClientError> {
        // A DID's `%` escapes stay escaped in the path; a time's `+` must not read as a space.
        let mut url = format!("{}/1.0/identifiers/{}", self.base, did.replace('%', "%25"));
        match query {
            VersionQuery::Latest => {}
            VersionQuery::Id(id) => url.push_str(&format!("?versionId={id}")),
            VersionQuery::Time(t) => {
                url.push_str(&format!("?versionTime={}", t.to_rfc3339().replace('+', "%2B")))
            }
        }
        let resp = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, did::representation::DID_RESOLUTION)
            .send()
            .await?;
        let status = resp.status().as_u16();
        let text = resp.text().await?;
        serde_json::from_str(&text)
            .map(|result| (status, result))
            .map_err(|_| ClientError::Problem {
                status,
                code: ProblemCode::Other("unexpected".into()),
                detail: text,
            })
    }
}

/// An asset code as one URL path segment: `/` (as in `DC/EP`) percent-encoded; every other
/// character an asset code may hold is allowed in a segment as it is.
fn path_segment(code: &AssetCode) -> String {
    code.as_str().replace('/', "%2F")
}

/// An account's key with its next nonce: builds signed transactions.
#[derive(Debug)]
pub struct Signer {
    key: SigningKey,
    chain_id: [u8; 32],
    next_nonce: u64,
}

impl Signer {
    /// A signer for `chain_id` whose last used nonce is `last_nonce` (read it from
    /// [`ChainClient::account`]).
    pub fn new(key: SigningKey, chain_id: [u8; 32], last_nonce: u64) -> Self {
        Self {
            key,
            chain_id,
            next_nonce: last_nonce + 1,
        }
    }

    /// The account.
    pub fn account(&self) -> AccountId {
        account_of(&self.key)
    }

    /// Signs `op` with the next nonce.
    pub fn sign(&mut self, op: Op) -> Vec<u8> {
        let nonce = self.next_nonce;
        self.next_nonce += 1;
        self.sign_with_nonce(nonce, op)
    }

    /// Signs `op` with a chosen nonce (does not advance the counter).
    pub fn sign_with_nonce(&self, nonce: u64, op: Op) -> Vec<u8> {
        TxBody {
            chain_id: self.chain_id,
            signer: self.account(),
            nonce,
            op,
        }
        .sign(&self.key)
    }

    /// Signs the creation of the did:cypher `document`, whose id must be
    /// `did_cypher(this key, did_nonce)` ([`crate::api::did::document_for_key`] makes one).
    pub fn did_create(&mut self, did_nonce: u64, document: &did::Document) -> Vec<u8> {
        self.sign(Op::DidCreate {
            nonce: did_nonce,
            document: document.to_json(),
        })
    }

    /// Signs an update of `document.id` from its current `version`.
    pub fn did_update(&mut self, version: u64, document: &did::Document) -> Vec<u8> {
        self.sign(Op::DidUpdate {
            did: document.id.to_string(),
            version,
            document: document.to_json(),
        })
    }

    /// Signs the deactivation of `did` at its current `version`.
    pub fn did_deactivate(&mut self, did: &did::Did, version: u64) -> Vec<u8> {
        self.sign(Op::DidDeactivate {
            did: did.to_string(),
            version,
        })
    }

    /// The nonce the next [`Signer::sign`] uses.
    pub fn next_nonce(&self) -> u64 {
        self.next_nonce
    }
}
