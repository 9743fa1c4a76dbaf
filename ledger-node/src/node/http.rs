//! The HTTP API (actix-web). Errors are `application/problem+json`, mapped in one place
//! ([`ApiError`]). The OpenAPI document is generated from these handlers ([`openapi_json`]) and
//! committed as `docs/openapi/chain-api.json`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::api::types::*;
use crate::codec::encode_to_vec;
use crate::merkle;
use crate::node::driver::now_ms;
use crate::node::limits::client_key;
use crate::node::{DriverInput, Shared};
use crate::proof::InclusionProof;
use crate::state::exec::receipt_bytes;
use crate::state::types::parse_hex32;
use crate::state::{
    AccountId, Admission, AssetCode, BlockContext, EscrowId, FailReason, Refusal, Transaction, TxId,
};

/// A problem document (RFC 7807).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// `urn:cypherlink:chain:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Summary.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// Stable code: `malformed` (400); `bad_signature`, `wrong_chain`, `unknown_signer`,
    /// `nonce_reused`, `nonce_too_far_ahead`, `insufficient_funds` (422, refused before the
    /// mempool); `rate_limited` (429, with `Retry-After`); `not_found` (404); `unavailable`
    /// (503); `internal` (500).
    #[schema(value_type = String)]
    pub code: ProblemCode,
    /// What happened.
    pub detail: String,
}

/// Every way a request fails.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed input.
    #[error("{0}")]
    Malformed(String),
    /// A transaction refused before it reaches the mempool (bad signature, wrong chain).
    #[error("{reason}")]
    Refused {
        /// The rule.
        reason: FailReason,
    },
    /// A transaction that cannot succeed from what the chain knows (see
    /// [`crate::state::admission`]).
    #[error("{0}")]
    NotAdmitted(Refusal),
    /// The client or the signing account is over its rate (see
    /// [`crate::node::config::AdmissionLimits`]); answered with `Retry-After`.
    #[error("{what} is over its rate limit; retry after {retry_after_s} s")]
    RateLimited {
        /// Whose limit (`this client`, or the account).
        what: String,
        /// Whole seconds to wait, at least 1.
        retry_after_s: u64,
    },
    /// Nothing with this id.
    #[error("{0} not found")]
    NotFound(String),
    /// The node cannot take it now (full node, mempool full, shutting down).
    #[error("{0}")]
    Unavailable(String),
    /// Storage failed.
    #[error("storage: {0}")]
    Internal(String),
}

impl From<crate::node::store::StoreError> for ApiError {
    fn from(e: crate::node::store::StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl ApiError {
    /// The problem document.
    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        Problem {
            type_uri: format!("urn:cypherlink:chain:{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            code: self.code(),
            detail: self.to_string(),
        }
    }

    fn code(&self) -> ProblemCode {
        match self {
            ApiError::Malformed(_) => ProblemCode::Malformed,
            ApiError::Refused { reason } | ApiError::NotAdmitted(Refusal::Rule(reason)) => {
                reason.code().into()
            }
            ApiError::NotAdmitted(Refusal::UnknownSigner { .. }) => ProblemCode::UnknownSigner,
            ApiError::RateLimited { .. } => ProblemCode::RateLimited,
            ApiError::NotFound(_) => ProblemCode::NotFound,
            ApiError::Unavailable(_) => ProblemCode::Unavailable,
            ApiError::Internal(_) => ProblemCode::Internal,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::Refused { .. } | ApiError::NotAdmitted(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
    fn error_response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status_code());
        if let ApiError::RateLimited { retry_after_s, .. } = self {
            r.insert_header(("Retry-After", retry_after_s.to_string()));
        }
        r.content_type("application/problem+json").json(self.problem())
    }
}

/// Every problem code the API answers with, as documented on [`Problem::code`] (the OpenAPI
/// test checks the document names each).
pub const PROBLEM_CODES: &[&str] = &[
    "malformed",
    "bad_signature",
    "wrong_chain",
    "unknown_signer",
    "nonce_reused",
    "nonce_too_far_ahead",
    "insufficient_funds",
    "rate_limited",
    "not_found",
    "unavailable",
    "internal",
];

type Ctx = web::Data<Arc<Shared>>;

fn id32(s: &str, what: &str) -> Result<[u8; 32], ApiError> {
    parse_hex32(s).ok_or_else(|| ApiError::Malformed(format!("{what} must be 64 hex characters")))
}

/// Query of a submission.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SubmitQuery {
    /// Wait until the transaction is in a committed block (or the timeout passes).
    #[serde(default)]
    pub wait: bool,
    /// How long to wait, ms (default 30000, at most 120000).
    pub timeout_ms: Option<u64>,
}

impl SubmitQuery {
    /// When waiting ends: `timeout_ms` from now (default 30 s, at most 120 s).
    fn deadline(&self) -> tokio::time::Instant {
        let wait = Duration::from_millis(self.timeout_ms.unwrap_or(30_000).min(120_000));
        tokio::time::Instant::now() + wait
    }
}

/// Submits a signed transaction. Answers 202 with `pending` once it is in the mempool, or with
/// `wait=true`, 200 with its final status (`final` or `failed` with the reason) once its block is
/// committed and stored. A transaction already committed answers its status (submitting is
/// idempotent). Refused before the mempool: undecodable (400 `malformed`), another chain (422
/// `wrong_chain`), a signature that does not verify (422 `bad_signature`), and what cannot
/// succeed from the committed state (422): a signer with no account whose transaction would
/// fail (`unknown_signer`), a used nonce (`nonce_reused`), a nonce more than the chain's
/// `max_nonce_gap` ahead (`nonce_too_far_ahead`), spending an asset the signer holds none of
/// (`insufficient_funds`). Over the client's or the account's rate: 429 `rate_limited` with
/// `Retry-After` (seconds).
#[utoipa::path(post, path = "/v1/transactions", tag = "transactions", request_body = SubmitRequest,
    params(SubmitQuery),
    responses((status = 200, body = TxStatus, description = "Committed (final or failed)"),
        (status = 202, body = TxStatus, description = "Pending"),
        (status = 400, body = Problem),
        (status = 422, body = Problem, description = "Refused before the mempool: `bad_signature`, \
            `wrong_chain`, `unknown_signer`, `nonce_reused`, `nonce_too_far_ahead`, `insufficient_funds`"),
        (status = 429, body = Problem, description = "`rate_limited`: this client or the signing account \
            is over its rate", headers(("Retry-After" = u64, description = "Seconds to wait (at least 1)"))),
        (status = 503, body = Problem)))]
pub async fn submit(
    ctx: Ctx,
    req: HttpRequest,
    q: web::Query<SubmitQuery>,
    body: web::Json<SubmitRequest>,
) -> Result<HttpResponse, ApiError> {
    let bytes = decode_hex_tx(&body.tx)?;
    let mut admitted = admit(&ctx, client_of(&req), vec![bytes], q.wait).await?;
    let (status, waiter) = admitted
        .pop()
        .ok_or_else(|| ApiError::Internal("no result".into()))??;
    let status = match waiter {
        Some(rx) => await_final(&ctx, status, rx, q.deadline()).await?,
        None => status,
    };
    Ok(respond(status))
}

fn respond(status: TxStatus) -> HttpResponse {
    if status.is_committed() {
        HttpResponse::Ok().json(status)
    } else {
        HttpResponse::Accepted().json(status)
    }
}

fn decode_hex_tx(tx: &str) -> Result<Vec<u8>, ApiError> {
    if tx.len() > 2 * crate::codec::MAX_TX_BYTES {
        return Err(ApiError::Malformed("transaction too large".into()));
    }
    hex::decode(tx).map_err(|_| ApiError::Malformed("tx must be hex".into()))
}

type Admitted = Result<(TxStatus, Option<Waiter>), ApiError>;

/// The address a request is counted against.
fn client_of(req: &HttpRequest) -> Option<IpAddr> {
    req.peer_addr().map(|a| client_key(a.ip()))
}

/// What admission made of a transaction that passed the signature and chain checks.
enum Verdict {
    /// To the mempool.
    Admit,
    /// Cannot succeed from the committed state.
    Refused(Refusal),
    /// Its signer is over its rate.
    Limited(u64),
}

fn node_time(ctx: &Shared) -> u64 {
    u64::try_from(ctx.clock.now().unix_millis()).unwrap_or(0)
}

/// Checks transactions and hands the good ones to consensus, in order. Each result is the
/// status now (committed already, or pending) and, when asked, a receiver for the final status.
///
/// In this order, cheapest first: the client's rate (one token a transaction; none left for
/// any of them refuses the whole request with 429), signatures (one batch), the chain id,
/// admission against the stored state ([`crate::state::admission`]) with the signer's rate
/// (a token only for a transaction found admissible, so no one can spend another account's
/// tokens with transactions it cannot sign or that would be refused anyway), then one lookup
/// of those already committed, which answer their status whatever admission said (submitting
/// is idempotent). Admission reads the state before that lookup, so a transaction whose nonce
/// it saw used is found there, but for an instant after each store: see
/// [`refused_or_in_flight`].
///
/// Waiters are registered before the lookup: a transaction already on its way (submitted
/// earlier, perhaps elsewhere) that the writer stores between the lookup and the registration
/// would otherwise leave its waiter to the timeout.
async fn admit(
    ctx: &Shared,
    client: Option<IpAddr>,
    txs: Vec<Vec<u8>>,
    wait: bool,
) -> Result<Vec<Admitted>, ApiError> {
    let now = node_time(ctx);
    let asked = u32::try_from(txs.len()).unwrap_or(u32::MAX);
    let (allowed, client_retry) = match client {
        Some(ip) => {
            let taken = lock_limits(ctx).clients.take(&ip, asked, now);
            (taken.granted as usize, taken.retry_after_s)
        }
        None => (txs.len(), None),
    };
    let client_limited = |retry_after_s: u64| ApiError::RateLimited {
        what: "this client".into(),
        retry_after_s,
    };
    if allowed == 0 && !txs.is_empty() {
        ctx.metrics
            .refused
            .with_label_values(&["rate_limited"])
            .inc_by(txs.len() as u64);
        return Err(client_limited(client_retry.unwrap_or(1)));
    }
    let refs: Vec<&[u8]> = txs[..allowed].iter().map(Vec::as_slice).collect();
    let mut checked: Vec<Result<Transaction, ApiError>> = ctx
        .sigs
        .check(&refs)
        .into_iter()
        .map(|c| refuse_early(ctx, c))
        .collect();
    for _ in allowed..txs.len() {
        ctx.metrics.refused.with_label_values(&["rate_limited"]).inc();
        checked.push(Err(client_limited(client_retry.unwrap_or(1))));
    }
    let takes_txs = ctx.identity.is_some();
    let waiters: Vec<Option<Waiter>> = {
        let mut registry = ctx.waiters.lock().unwrap_or_else(|p| p.into_inner());
        checked
            .iter()
            .map(|tx| match tx {
                Ok(tx) if wait && takes_txs => {
                    let (tx_w, rx_w) = tokio::sync::oneshot::channel();
                    registry.entry(tx.id).or_default().push(tx_w);
                    Some(rx_w)
                }
                _ => None,
            })
            .collect()
    };
    let verdicts = if takes_txs {
        judge(ctx, &checked, now).await.map_err(|e| e.to_string())
    } else {
        Ok(Vec::new())
    };
    let ids: Vec<[u8; 32]> = checked.iter().flatten().map(|tx| tx.id).collect();
    let committed = ctx.reader.tx_statuses(&ids).await.map_err(|e| e.to_string());
    if let Ok(found) = &committed {
        settle_waiters(ctx, found);
    }
    let (mut verdicts, judged) = match verdicts {
        Ok(v) => (v.into_iter(), Ok(())),
        Err(e) => (Vec::new().into_iter(), Err(e)),
    };
    let mut admitted = Vec::with_capacity(txs.len());
    let mut abandoned = Vec::new();
    for ((bytes, tx), mut waiter) in txs.into_iter().zip(checked).zip(waiters) {
        let tx = match tx {
            Ok(tx) => tx,
            Err(e) => {
                admitted.push(Err(e));
                continue;
            }
        };
        let verdict = verdicts.next();
        admitted.push(match (&committed, &judged) {
            (Err(e), _) | (_, Err(e)) => Err(ApiError::Internal(e.clone())),
            (Ok(found), Ok(())) => match (found.get(&tx.id), verdict) {
                (Some(s), _) => Ok((s.clone(), None)),
                (None, _) if !takes_txs => Err(ApiError::Unavailable(
                    "a full node does not take transactions; submit to a validator".into(),
                )),
                (None, Some(Verdict::Admit)) => hand_to_consensus(ctx, &tx, bytes, waiter.take()),
                (None, Some(Verdict::Refused(r))) => refused_or_in_flight(ctx, &tx, r, &mut waiter),
                (None, Some(Verdict::Limited(retry_after_s))) => {
                    ctx.metrics.refused.with_label_values(&["rate_limited"]).inc();
                    Err(ApiError::RateLimited {
                        what: format!("account {}", tx.body.signer),
                        retry_after_s,
                    })
                }
                (None, None) => Err(ApiError::Internal("no admission verdict".into())),
            },
        });
        if waiter.is_some() {
            abandoned.push(tx.id);
        }
    }
    // Waiters not handed out (refused, or the lookup failed) are dropped here; their senders
    // go too.
    forget_abandoned_waiters(ctx, abandoned);
    Ok(admitted)
}

fn lock_limits(ctx: &Shared) -> std::sync::MutexGuard<'_, crate::node::limits::RateLimits> {
    ctx.limits.lock().unwrap_or_else(|p| p.into_inner())
}

/// Admission's verdict on each transaction that passed the early checks, in order, each
/// judged after the earlier admitted ones of the request (a batch may create an asset and
/// issue it, or fund an account and spend from it).
async fn judge(
    ctx: &Shared,
    checked: &[Result<Transaction, ApiError>],
    now: u64,
) -> Result<Vec<Verdict>, ApiError> {
    let txs: Vec<&Transaction> = checked.iter().flatten().collect();
    if txs.is_empty() {
        return Ok(Vec::new());
    }
    let state = ctx.reader.admission_state(&txs).await?;
    let mut admission = Admission::new(
        &state,
        BlockContext {
            chain_id: ctx.chain_id,
            height: 0,
            timestamp_ms: now,
            params: ctx.genesis.params,
        },
    );
    Ok(txs
        .into_iter()
        .map(|tx| match admission.judge(tx) {
            Err(r) => Verdict::Refused(r),
            Ok(admissible) => {
                let taken = lock_limits(ctx).accounts.take(&tx.body.signer, 1, now);
                match taken.retry_after_s {
                    None => {
                        admission.accept(admissible);
                        Verdict::Admit
                    }
                    Some(s) => Verdict::Limited(s),
                }
            }
        })
        .collect())
}

/// A refusal, unless it is a used nonce of a transaction this node accepted and has not yet
/// seen stored. The writer commits a block's state to SQLite a moment before it indexes the
/// block's transactions in memory, and the status lookup can fall in between: the used nonce
/// may be the transaction's own. It is answered `pending` instead (its waiter stays
/// registered; if another transaction took the nonce, its block says `nonce_reused`).
fn refused_or_in_flight(ctx: &Shared, tx: &Transaction, r: Refusal, waiter: &mut Option<Waiter>) -> Admitted {
    let in_flight = matches!(r, Refusal::Rule(FailReason::NonceReused { .. }))
        && ctx
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(&tx.id);
    if in_flight {
        return Ok((TxStatus::pending(TxId(tx.id)), waiter.take()));
    }
    ctx.metrics.refused.with_label_values(&[r.code()]).inc();
    Err(ApiError::NotAdmitted(r))
}

/// Drops the senders of waiters whose receivers are gone, for these transactions.
fn forget_abandoned_waiters(ctx: &Shared, ids: impl IntoIterator<Item = [u8; 32]>) {
    let mut waiters = ctx.waiters.lock().unwrap_or_else(|p| p.into_inner());
    for id in ids {
        if let Some(ws) = waiters.get_mut(&id) {
            ws.retain(|w| !w.is_closed());
            if ws.is_empty() {
                waiters.remove(&id);
            }
        }
    }
}

type Waiter = tokio::sync::oneshot::Receiver<TxStatus>;

/// Answers (and forgets) everyone waiting for a transaction the lookup found committed.
fn settle_waiters(ctx: &Shared, found: &std::collections::HashMap<[u8; 32], TxStatus>) {
    let mut waiters = ctx.waiters.lock().unwrap_or_else(|p| p.into_inner());
    for (id, status) in found {
        for w in waiters.remove(id).unwrap_or_default() {
            let _ = w.send(status.clone());
        }
    }
}

/// The refusals decided before the mempool: undecodable, bad signature, another chain.
fn refuse_early(ctx: &Shared, checked: Result<Transaction, FailReason>) -> Result<Transaction, ApiError> {
    let refused = |r: FailReason| {
        ctx.metrics.refused.with_label_values(&[r.code().as_str()]).inc();
        ApiError::Refused { reason: r }
    };
    match checked {
        Err(FailReason::Malformed) => {
            ctx.metrics.refused.with_label_values(&["malformed"]).inc();
            Err(ApiError::Malformed("not a transaction".into()))
        }
        Err(r) => Err(refused(r)),
        Ok(tx) if tx.body.chain_id != ctx.chain_id => Err(refused(FailReason::WrongChain)),
        Ok(tx) => Ok(tx),
    }
}

/// Queues a checked, not yet committed transaction for consensus; its waiter (if any) is
/// already registered, so the final status cannot slip past it.
fn hand_to_consensus(ctx: &Shared, tx: &Transaction, bytes: Vec<u8>, waiter: Option<Waiter>) -> Admitted {
    ctx.pending
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(tx.id, now_ms());
    if ctx.inbox.try_send(DriverInput::Submit(bytes)).is_err() {
        ctx.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&tx.id);
        // Our waiter goes with this refusal; its sender goes too, so none is kept forever.
        drop(waiter);
        forget_abandoned_waiters(ctx, [tx.id]);
        return Err(ApiError::Unavailable("the node is overloaded; retry".into()));
    }
    ctx.metrics.submitted.inc();
    Ok((TxStatus::pending(TxId(tx.id)), waiter))
}

/// Waits for the writer to report the transaction final (or the timeout).
async fn await_final(
    ctx: &Shared,
    pending: TxStatus,
    rx: Waiter,
    deadline: tokio::time::Instant,
) -> Result<TxStatus, ApiError> {
    if let Ok(Ok(s)) = tokio::time::timeout_at(deadline, rx).await {
        return Ok(s);
    }
    // Committed before we registered, or still pending.
    Ok(ctx.reader.tx_status(&pending.id.0).await?.unwrap_or(pending))
}

/// Several transactions at once.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SubmitBatchRequest {
    /// Transactions (hex), at most 1000; submitted in this order.
    pub txs: Vec<String>,
}

/// One result of a batch: a status, or why the transaction was refused.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct BatchItem {
    /// The status (pending, final or failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TxStatus>,
    /// The refusal (`malformed`, `bad_signature`, `wrong_chain`, `unknown_signer`,
    /// `nonce_reused`, `nonce_too_far_ahead`, `insufficient_funds`, `rate_limited`,
    /// `unavailable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Problem>,
}

/// Submits up to 1000 transactions in order (signatures checked in one batch), each judged as
/// a single submission is, after the earlier ones of the batch that were admitted. With
/// `wait=true` answers when all are committed (or the timeout passes). Each transaction takes
/// a token of the client's rate: the ones beyond what is left are refused (`rate_limited`
/// items, and a `Retry-After` header on the answer); with none left at all, the whole request
/// is refused with 429.
#[utoipa::path(post, path = "/v1/transactions/batch", tag = "transactions", request_body = SubmitBatchRequest,
    params(SubmitQuery),
    responses((status = 200, body = [BatchItem], description = "One item per transaction; when some \
            were refused as `rate_limited`, `Retry-After` says when to send them again",
            headers(("Retry-After" = u64, description = "Seconds to wait (at least 1), when an item is rate-limited"))),
        (status = 400, body = Problem),
        (status = 429, body = Problem, description = "`rate_limited`: this client is over its rate",
            headers(("Retry-After" = u64, description = "Seconds to wait (at least 1)")))))]
pub async fn submit_batch(
    ctx: Ctx,
    req: HttpRequest,
    q: web::Query<SubmitQuery>,
    body: web::Json<SubmitBatchRequest>,
) -> Result<HttpResponse, ApiError> {
    if body.txs.len() > 1000 {
        return Err(ApiError::Malformed("at most 1000 transactions per batch".into()));
    }
    let txs = body
        .txs
        .iter()
        .map(|t| decode_hex_tx(t))
        .collect::<Result<Vec<_>, _>>()?;
    let admitted = admit(&ctx, client_of(&req), txs, q.wait).await?;
    let retry_after_s = admitted
        .iter()
        .filter_map(|a| match a {
            Err(ApiError::RateLimited { retry_after_s, .. }) => Some(*retry_after_s),
            _ => None,
        })
        .max();
    // One deadline for the whole batch, not one timeout per transaction in turn.
    let deadline = q.deadline();
    let mut out = Vec::with_capacity(admitted.len());
    for a in admitted {
        out.push(match a {
            Ok((s, Some(rx))) => BatchItem {
                status: Some(await_final(&ctx, s, rx, deadline).await?),
                error: None,
            },
            Ok((s, None)) => BatchItem {
                status: Some(s),
                error: None,
            },
            Err(e) => BatchItem {
                status: None,
                error: Some(e.problem()),
            },
        });
    }
    let mut answer = HttpResponse::Ok();
    if let Some(s) = retry_after_s {
        answer.insert_header(("Retry-After", s.to_string()));
    }
    Ok(answer.json(out))
}

/// A transaction's status: pending (in this node's mempool), final with its height, or failed
/// with its reason.
#[utoipa::path(get, path = "/v1/transactions/{id}", tag = "transactions",
    params(("id" = String, Path, description = "Transaction id, hex")),
    responses((status = 200, body = TxStatus), (status = 404, body = Problem)))]
pub async fn tx_status(ctx: Ctx, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id32(&id, "transaction id")?;
    if let Some(s) = ctx.reader.tx_status(&id).await? {
        return Ok(HttpResponse::Ok().json(s));
    }
    if ctx
        .pending
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains_key(&id)
    {
        return Ok(HttpResponse::Ok().json(TxStatus::pending(TxId(id))));
    }
    Err(ApiError::NotFound("transaction".into()))
}

/// An inclusion proof of a committed, successful transaction (an anchor too): the certified
/// header, the Merkle path of the transaction and of its receipt, and the state commitment.
/// Check it offline with `cypherlink chain verify-proof`.
#[utoipa::path(get, path = "/v1/transactions/{id}/proof", tag = "proofs",
    params(("id" = String, Path, description = "Transaction id, hex")),
    responses((status = 200, body = InclusionProof), (status = 404, body = Problem)))]
pub async fn tx_proof(ctx: Ctx, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id32(&id, "transaction id")?;
    let (height, index) = ctx
        .reader
        .tx_location(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound("transaction".into()))?;
    let stored = ctx
        .reader
        .block(height)
        .await?
        .ok_or_else(|| ApiError::NotFound("block".into()))?;
    let payload = stored.block.payload();
    let idx = index as usize;
    let tx = payload
        .get(idx)
        .ok_or_else(|| ApiError::Internal("index out of range".into()))?;
    let tx_path = merkle::path(payload, idx).unwrap_or_default();
    // TODO(lints): receipt index `k as u32` (a block holds at most MAX_TXS); left to the rewrite.
    #[allow(clippy::cast_possible_truncation)]
    let receipts: Vec<Vec<u8>> = ctx
        .reader
        .receipts(height)
        .await?
        .into_iter()
        .enumerate()
        .map(|(k, (tx_id, outcome))| receipt_bytes(&tx_id, k as u32, outcome.err()))
        .collect();
    let receipt = receipts.get(idx).cloned().unwrap_or_default();
    let receipt_path = merkle::path(&receipts, idx).unwrap_or_default();
    let proof = InclusionProof::build(
        &ctx.chain_id,
        stored.block.header(),
        &stored.qc,
        tx,
        &tx_path,
        &receipt,
        &receipt_path,
        &stored.commitment,
    );
    Ok(HttpResponse::Ok().json(proof))
}

/// An account's nonce and balances.
#[utoipa::path(get, path = "/v1/accounts/{account}", tag = "accounts",
    params(("account" = String, Path, description = "Account (Ed25519 public key), hex")),
    responses((status = 200, body = AccountView), (status = 400, body = Problem)))]
pub async fn account(ctx: Ctx, account: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = AccountId(id32(&account, "account")?);
    Ok(HttpResponse::Ok().json(ctx.reader.account(&id).await?))
}

/// Limit of a listing.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// An account's committed transactions, newest first.
#[utoipa::path(get, path = "/v1/accounts/{account}/transactions", tag = "accounts",
    params(("account" = String, Path, description = "Account, hex"), ListQuery),
    responses((status = 200, body = [TxStatus])))]
pub async fn account_txs(
    ctx: Ctx,
    account: web::Path<String>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = AccountId(id32(&account, "account")?);
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(HttpResponse::Ok().json(ctx.reader.account_txs(&id, limit).await?))
}

/// An asset: issuer, scale, supply.
#[utoipa::path(get, path = "/v1/assets/{code}", tag = "accounts",
    params(("code" = String, Path, description = "Asset code")),
    responses((status = 200, body = AssetView), (status = 404, body = Problem)))]
pub async fn asset(ctx: Ctx, code: web::Path<String>) -> Result<HttpResponse, ApiError> {
    // A code no asset can have names no asset.
    let Ok(code) = code.parse::<AssetCode>() else {
        return Err(ApiError::NotFound("asset".into()));
    };
    match ctx.reader.asset(&code).await? {
        Some(a) => Ok(HttpResponse::Ok().json(a)),
        None => Err(ApiError::NotFound("asset".into())),
    }
}

/// An escrow by id (`SHA-256("CYPHERLINK-ESCROW-V1" || payer || reference)`).
#[utoipa::path(get, path = "/v1/escrows/{id}", tag = "escrows",
    params(("id" = String, Path, description = "Escrow id, hex")),
    responses((status = 200, body = EscrowView), (status = 404, body = Problem)))]
pub async fn escrow(ctx: Ctx, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = EscrowId(id32(&id, "escrow id")?);
    match ctx.reader.escrow_view(&id).await? {
        Some(e) => Ok(HttpResponse::Ok().json(e)),
        None => Err(ApiError::NotFound("escrow".into())),
    }
}

/// Which escrows to list: exactly one of `reference` or `open_payer`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct EscrowsQuery {
    /// Escrows created with this 16-byte reference (hex), by any payer: how a payee that
    /// was told a transfer id finds the escrow.
    pub reference: Option<String>,
    /// The open (prepared) escrows this account pays, earliest expiry first: what a payer
    /// refunds once they expire.
    pub open_payer: Option<String>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// Escrows by reference, or a payer's open escrows.
#[utoipa::path(get, path = "/v1/escrows", tag = "escrows", params(EscrowsQuery),
    responses((status = 200, body = [EscrowView]), (status = 400, body = Problem)))]
pub async fn escrows(ctx: Ctx, q: web::Query<EscrowsQuery>) -> Result<HttpResponse, ApiError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let found = match (&q.reference, &q.open_payer) {
        (Some(r), None) => {
            let bytes = hex::decode(r).ok().and_then(|b| <[u8; 16]>::try_from(b).ok());
            let reference =
                bytes.ok_or_else(|| ApiError::Malformed("reference must be 32 hex characters".into()))?;
            ctx.reader.escrows_by_reference(&reference, limit).await?
        }
        (None, Some(p)) => {
            let payer = AccountId(id32(p, "open_payer")?);
            ctx.reader.open_escrows_of(&payer, limit).await?
        }
        _ => {
            return Err(ApiError::Malformed(
                "give exactly one of `reference` and `open_payer`".into(),
            ));
        }
    };
    Ok(HttpResponse::Ok().json(found))
}

/// An anchor by id (its transaction's id). Its inclusion proof is the transaction's.
#[utoipa::path(get, path = "/v1/anchors/{id}", tag = "proofs",
    params(("id" = String, Path, description = "Anchor id, hex")),
    responses((status = 200, body = AnchorView), (status = 404, body = Problem)))]
pub async fn anchor(ctx: Ctx, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id32(&id, "anchor id")?;
    match ctx.reader.anchor(&id).await? {
        Some(a) => Ok(HttpResponse::Ok().json(a)),
        None => Err(ApiError::NotFound("anchor".into())),
    }
}

/// A committed block by height, with the certificate that makes it final.
#[utoipa::path(get, path = "/v1/blocks/{height}", tag = "blocks",
    params(("height" = u64, Path, description = "Height (1 = first block after genesis)")),
    responses((status = 200, body = BlockView), (status = 404, body = Problem)))]
pub async fn block(ctx: Ctx, height: web::Path<u64>) -> Result<HttpResponse, ApiError> {
    let s = ctx
        .reader
        .block(*height)
        .await?
        .ok_or_else(|| ApiError::NotFound("block".into()))?;
    let h = s.block.header();
    Ok(HttpResponse::Ok().json(BlockView {
        height: h.height,
        hash: s.block.hash().0,
        view: h.view,
        timestamp_ms: h.timestamp_ms,
        proposer: h.proposer,
        parent_hash: h.parent_hash.0,
        payload_root: h.payload_root,
        state_root: h.state_root,
        tx_ids: s.block.tx_ids().iter().copied().map(TxId).collect(),
        qc_signers: s.qc.signers.iter().collect(),
        block: encode_to_vec(s.block.as_ref()),
        qc: encode_to_vec(&s.qc),
    }))
}

/// The committee: members, keys, epoch, and the genesis a light client needs.
#[utoipa::path(get, path = "/v1/committee", tag = "blocks",
    responses((status = 200, body = CommitteeView)))]
// TODO(lints): member index `i as u16` (at most MAX_COMMITTEE members); left to the rewrite.
#[allow(clippy::cast_possible_truncation)]
pub async fn committee(ctx: Ctx) -> HttpResponse {
    let c = &ctx.committee;
    HttpResponse::Ok().json(CommitteeView {
        epoch: c.epoch(),
        chain_id: ctx.chain_id,
        quorum: c.quorum(),
        members: c
            .members()
            .iter()
            .enumerate()
            .map(|(i, m)| MemberView {
                index: i as u16,
                public_key: m.public_key.to_bytes().to_vec(),
                operator: m.operator.clone(),
            })
            .collect(),
        genesis: encode_to_vec(&ctx.genesis),
    })
}

/// Feed position and wait.
#[derive(Debug, Deserialize, IntoParams)]
pub struct EventsQuery {
    /// Events after this cursor (0 = from the start).
    #[serde(default)]
    pub after: u64,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
    /// Wait up to this long for the first event, ms (long poll; default 0, at most 60000).
    #[serde(default)]
    pub wait_ms: u64,
}

/// The event feed: escrows created, fulfilled (with the preimage), rejected and refunded, and
/// anchors, in commit order. Cursors are the same on every node. Long poll with `wait_ms`.
#[utoipa::path(get, path = "/v1/events", tag = "events", params(EventsQuery),
    responses((status = 200, body = EventPage)))]
pub async fn events(ctx: Ctx, q: web::Query<EventsQuery>) -> Result<HttpResponse, ApiError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let mut rx = ctx.committed.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(q.wait_ms.min(60_000));
    loop {
        let events = ctx.reader.events_after(q.after, limit).await?;
        if !events.is_empty() || tokio::time::Instant::now() >= deadline {
            let next = events.last().map_or(q.after, |e| e.cursor);
            return Ok(HttpResponse::Ok().json(EventPage { events, next }));
        }
        if rx.borrow_and_update().last_event > q.after {
            continue;
        }
        if tokio::time::timeout_at(deadline, rx.changed()).await.is_err() {
            continue;
        }
    }
}

/// This node's view of the chain.
#[utoipa::path(get, path = "/v1/status", tag = "ops", responses((status = 200, body = NodeStatus)))]
// TODO(lints): mempool count `u64 as usize`; left to the rewrite.
#[allow(clippy::cast_possible_truncation)]
pub async fn status(ctx: Ctx) -> HttpResponse {
    use std::sync::atomic::Ordering;
    let c = *ctx.committed.borrow();
    HttpResponse::Ok().json(NodeStatus {
        chain_id: ctx.chain_id,
        validator: ctx.identity.as_ref().map(|(i, _)| *i),
        committed_height: c.height,
        state_root: c.state_root,
        view: ctx.view.load(Ordering::Relaxed),
        mempool: ctx.mempool.load(Ordering::Relaxed) as usize,
        catching_up: ctx.catching_up.load(Ordering::Relaxed),
        last_event: c.last_event,
    })
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, body = String, content_type = "text/plain")))]
pub async fn metrics(ctx: Ctx) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(ctx.metrics.render())
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = String)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(openapi_json())
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("endpoint (see /openapi.json)".into()))
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "CypherLink committee chain node API",
        version = "1.0.0",
        description = "Submit Ed25519-signed transactions to the committee chain and read what it \
                       committed: transaction status, balances, escrows, blocks with their BLS quorum \
                       certificates, the committee, an event feed with a resume cursor, and inclusion \
                       proofs that a light client checks offline. Errors are application/problem+json."
    ),
    paths(submit, submit_batch, tx_status, tx_proof, account, account_txs, asset, escrow, escrows, anchor, block, committee,
          events, status, metrics, healthz),
    components(schemas(Problem, BatchItem, TxStatus, TxState, InclusionProof, crate::proof::Step,
                       crate::proof::CommitmentJson, crate::proof::ItemProof)),
    tags(
        (name = "transactions", description = "Submitting and tracking transactions"),
        (name = "accounts", description = "Balances, assets, account history"),
        (name = "escrows", description = "Hash-time-locked escrows"),
        (name = "events", description = "The event feed"),
        (name = "blocks", description = "Blocks, certificates, the committee"),
        (name = "proofs", description = "Anchors and inclusion proofs"),
        (name = "ops", description = "Status, health, metrics"),
    )
)]
pub struct ChainApi;

/// The document as pretty JSON with a trailing newline.
pub fn openapi_json() -> String {
    let mut s = ChainApi::openapi().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}

fn json_error(err: actix_web::error::JsonPayloadError, _: &actix_web::HttpRequest) -> actix_web::Error {
    ApiError::Malformed(format!("request body: {err}")).into()
}

fn query_error(err: actix_web::error::QueryPayloadError, _: &actix_web::HttpRequest) -> actix_web::Error {
    ApiError::Malformed(format!("query: {err}")).into()
}

fn path_error(err: actix_web::error::PathError, _: &actix_web::HttpRequest) -> actix_web::Error {
    ApiError::Malformed(format!("path: {err}")).into()
}

/// Binds the API server (not yet running: await or spawn the returned server).
pub fn server(
    shared: Arc<Shared>,
    addr: SocketAddr,
    tls: Option<rustls::ServerConfig>,
) -> std::io::Result<(actix_web::dev::Server, SocketAddr)> {
    let data = web::Data::new(shared);
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(16 * 1024 * 1024)
                    .error_handler(json_error),
            )
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .app_data(web::PathConfig::default().error_handler(path_error))
            .route("/healthz", web::get().to(healthz))
            .route("/metrics", web::get().to(metrics))
            .route("/openapi.json", web::get().to(openapi))
            .route("/v1/status", web::get().to(status))
            .route("/v1/transactions", web::post().to(submit))
            .route("/v1/transactions/batch", web::post().to(submit_batch))
            .route("/v1/transactions/{id}", web::get().to(tx_status))
            .route("/v1/transactions/{id}/proof", web::get().to(tx_proof))
            .route("/v1/accounts/{account}", web::get().to(account))
            .route("/v1/accounts/{account}/transactions", web::get().to(account_txs))
            .route("/v1/assets/{code}", web::get().to(asset))
            .route("/v1/escrows", web::get().to(escrows))
            .route("/v1/escrows/{id}", web::get().to(escrow))
            .route("/v1/anchors/{id}", web::get().to(anchor))
            .route("/v1/blocks/{height}", web::get().to(block))
            .route("/v1/committee", web::get().to(committee))
            .route("/v1/events", web::get().to(events))
            .default_service(web::to(not_found))
    })
    .workers(2)
    // Longer than clients keep idle connections (the Rust clients: 30 s), so a client never
    // sends a request on a connection the server is closing at that moment.
    .keep_alive(Duration::from_secs(75))
    .disable_signals()
    .shutdown_timeout(2);
    let server = match tls {
        Some(tls) => server.bind_rustls_0_23(addr, tls)?,
        None => server.bind(addr)?,
    };
    let bound = server.addrs().first().copied().unwrap_or(addr);
    Ok((server.run(), bound))
}
