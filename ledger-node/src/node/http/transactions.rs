//! `/v1/transactions`: submitting transactions (one, or a batch) through admission
//! ([`crate::node::admission`]), their status, and their inclusion proofs.

use std::net::IpAddr;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::problem::{
    ClientRateLimited, Internal, Malformed, NotFinalYet, NotFound, RateLimited, SubmitRefused, Unavailable,
};
use super::{ApiError, Ctx, Problem, id32};
use crate::api::types::{SubmitRequest, TxStatus};
use crate::merkle;
use crate::node::admission::admit;
use crate::node::limits::client_key;
use crate::node::waiters::await_final;
use crate::proof::{InclusionProof, MAX_FINALITY_HEADERS};
use crate::state::TxId;
use crate::state::exec::receipt_bytes;

/// Query of a submission.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
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
        Malformed, SubmitRefused, RateLimited, Internal, Unavailable))]
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

/// The address a request is counted against.
fn client_of(req: &HttpRequest) -> Option<IpAddr> {
    req.peer_addr().map(|a| client_key(a.ip()))
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
        Malformed, ClientRateLimited, Internal))]
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
    params(("id" = TxId, Path, description = "Transaction id, hex")),
    responses((status = 200, description = "Pending, final or failed", body = TxStatus), Malformed, NotFound, Internal))]
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

/// An inclusion and finality proof of a committed, successful transaction (for an anchor, the
/// certificate without its item): the header, the Merkle paths of the transaction and of its
/// receipt, the state commitment, and the finality evidence (the headers up to the child C'
/// that committed the block, and C''s certificate). Check it offline with `cypherlink
/// verify-certificate`. A block committed an instant ago whose evidence is still being stored
/// answers 409 `not_final_yet`: retry.
#[utoipa::path(get, path = "/v1/transactions/{id}/proof", tag = "proofs",
    params(("id" = TxId, Path, description = "Transaction id, hex")),
    responses((status = 200, description = "The proof, to check offline", body = InclusionProof),
        Malformed, NotFound, NotFinalYet, Internal))]
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
    let receipts: Vec<Vec<u8>> = ctx
        .reader
        .receipts(height)
        .await?
        .into_iter()
        .enumerate()
        .map(|(k, (tx_id, outcome))| {
            let k = u32::try_from(k).expect("a block holds at most MAX_TXS transactions");
            receipt_bytes(&tx_id, k, outcome.err())
        })
        .collect();
    let receipt = receipts.get(idx).cloned().unwrap_or_default();
    let receipt_path = merkle::path(&receipts, idx).unwrap_or_default();
    // Fewer headers than the verifier's bound: the node serves one per block committed at
    // once (usually none besides C').
    let evidence = ctx
        .reader
        .finality(height, MAX_FINALITY_HEADERS - 1)
        .await?
        .ok_or_else(|| ApiError::NotFinalYet(format!("block {height}")))?;
    let proof = InclusionProof::build(
        &ctx.chain_id,
        &ctx.committee,
        stored.block.header(),
        &stored.qc,
        tx,
        &tx_path,
        &receipt,
        &receipt_path,
        &stored.commitment,
        &evidence.between,
        &evidence.final_by,
    );
    Ok(HttpResponse::Ok().json(proof))
}
