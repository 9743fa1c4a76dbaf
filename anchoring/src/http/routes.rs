//! The handlers and their JSON shapes. Every `/v1` route is signed ([`super::signed`]) and
//! confined to the caller's namespaces.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use ledger_node::proof::InclusionProof;
use ledger_node::state::types::hex_of;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::problem::{
    ApiError, Forbidden, Internal, Malformed, NotFound, TooLarge, Unauthorized, Unavailable,
};
use super::signed::{SignedHeaders, owned, signed};
use crate::batch::BatchState;
use crate::engine::Command;
use crate::store;

/// The longest a certificate request is held.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// Digests to anchor.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DigestsRequest {
    /// 32-byte digests as 64 hex characters each (the service never sees the data itself).
    #[schema(min_items = 1, example = json!(["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]))]
    pub digests: Vec<String>,
}

/// The digests are durable; one item id per digest, in order.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct Accepted {
    /// The namespace.
    pub namespace: String,
    /// Item ids, one per digest in the request's order.
    pub ids: Vec<u64>,
}

/// An item whose certificate is not ready yet.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ItemStatus {
    /// Item id.
    pub id: u64,
    /// Its namespace.
    pub namespace: String,
    /// `open` (waiting for its batch to close), `sealed` (batch closed, anchor signed),
    /// `submitted` (the chain has the anchor), `final`.
    pub state: String,
    /// Its batch's number, once sealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
}

/// One batch of a namespace: its sequence attestation and its anchor.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct BatchView {
    /// Namespace.
    pub namespace: String,
    /// Batch number, from 1.
    pub sequence: u64,
    /// The previous batch's hash (64 zeros for batch 1).
    pub previous: String,
    /// This batch's hash (`ledger_node::state::batch_hash`), which the next batch names.
    pub batch_hash: String,
    /// Merkle root of its digests.
    pub root: String,
    /// How many digests.
    pub items: u64,
    /// The anchor transaction's id.
    pub tx_id: String,
    /// Height of the anchor's block, once final.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// `sealed`, `submitted` or `final`.
    pub state: String,
}

/// Query of the certificate route.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct WaitQuery {
    /// Hold the request up to this long (ms, capped at 30000) until the certificate exists.
    pub(super) wait_ms: Option<u64>,
}

/// Ids and batch numbers are SQLite integers, so one above `i64::MAX` names nothing stored:
/// answered as not found, not handed to the store (which would call it a corrupt row).
fn storable(n: u64, what: impl FnOnce() -> String) -> Result<u64, ApiError> {
    match i64::try_from(n) {
        Ok(_) => Ok(n),
        Err(_) => Err(ApiError::NotFound(what())),
    }
}

fn digest(i: usize, s: &str) -> Result<[u8; 32], ApiError> {
    let field = format!("digests[{i}]");
    if s.len() != 64 {
        return Err(ApiError::malformed(
            field,
            format!(
                "expected 64 hex characters (32 bytes), got {} characters",
                s.len()
            ),
        ));
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).map_err(|_| ApiError::malformed(field, "not hex"))?;
    Ok(out)
}

/// Anchor digests in a namespace. Answered once they are durable: from then on each gets
/// exactly one certificate, whatever happens to the service.
#[utoipa::path(post, path = "/v1/namespaces/{namespace}/digests", tag = "anchoring",
    params(("namespace" = String, Path, description = "One of the caller's namespaces"), SignedHeaders),
    request_body = DigestsRequest,
    responses((status = 202, description = "Durable; one item id per digest", body = Accepted),
        Malformed, Unauthorized, Forbidden, TooLarge, Unavailable, Internal))]
pub(super) async fn post_digests(
    state: web::Data<AppState>,
    req: HttpRequest,
    namespace: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (submitter, body) = signed(&state, &req, payload).await?;
    owned(&submitter, &namespace)?;
    let request: DigestsRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::malformed("body", format!("invalid JSON: {e}")))?;
    if request.digests.is_empty() || request.digests.len() > state.max_digests {
        return Err(ApiError::malformed(
            "digests",
            format!(
                "1 to {} per request, got {}",
                state.max_digests,
                request.digests.len()
            ),
        ));
    }
    let digests = request
        .digests
        .iter()
        .enumerate()
        .map(|(i, s)| digest(i, s))
        .collect::<Result<Vec<_>, _>>()?;
    let (reply, answer) = oneshot::channel();
    let namespace = namespace.into_inner();
    let command = Command::Accept {
        namespace: namespace.clone(),
        digests,
        reply,
    };
    let stopping = || ApiError::Unavailable("the service is stopping".into());
    state.engine.send(command).await.map_err(|_| stopping())?;
    let ids = answer.await.map_err(|_| stopping())??;
    Ok(HttpResponse::Accepted().json(Accepted { namespace, ids }))
}

/// An item's certificate: the anchor's inclusion proof with the item's digest and Merkle path,
/// checkable offline. While the batch is not final, 202 with the item's state (after waiting up
/// to `wait_ms` for it).
#[utoipa::path(get, path = "/v1/items/{id}/certificate", tag = "anchoring",
    params(("id" = u64, Path, description = "Item id"), WaitQuery, SignedHeaders),
    responses(
        (status = 200, description = "The certificate", body = InclusionProof),
        (status = 202, description = "Not final yet", body = ItemStatus),
        Malformed, Unauthorized, Forbidden, NotFound, TooLarge, Internal))]
pub(super) async fn get_certificate(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<u64>,
    query: web::Query<WaitQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (submitter, _) = signed(&state, &req, payload).await?;
    let id = id.into_inner();
    storable(id, || format!("item {id}"))?;
    let wait = Duration::from_millis(query.wait_ms.unwrap_or(0)).min(MAX_WAIT);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        // Registered before the read, so a batch finalized in between still wakes it.
        let notified = state.finality.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let item = store::item(&state.readers, id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("item {id}")))?;
        owned(&submitter, &item.namespace)?;
        if let (Some((_, _, path)), Some((BatchState::Final, Some(proof)))) = (&item.place, &item.batch) {
            let proof: InclusionProof =
                serde_json::from_str(proof).map_err(|e| ApiError::Internal(e.to_string()))?;
            return Ok(HttpResponse::Ok().json(proof.with_item(&item.digest, path)));
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            let state = match &item.batch {
                Some((s, _)) => s.as_str(),
                None => "open",
            };
            return Ok(HttpResponse::Accepted().json(ItemStatus {
                id,
                namespace: item.namespace,
                state: state.to_owned(),
                sequence: item.place.as_ref().map(|p| p.0),
            }));
        }
    }
}

/// One batch of a namespace.
#[utoipa::path(get, path = "/v1/namespaces/{namespace}/batches/{sequence}", tag = "anchoring",
    params(("namespace" = String, Path, description = "One of the caller's namespaces"),
        ("sequence" = u64, Path, description = "Batch number, from 1"), SignedHeaders),
    responses((status = 200, description = "The batch", body = BatchView),
        Malformed, Unauthorized, Forbidden, NotFound, TooLarge, Internal))]
pub(super) async fn get_batch(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, u64)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (submitter, _) = signed(&state, &req, payload).await?;
    let (namespace, sequence) = path.into_inner();
    owned(&submitter, &namespace)?;
    storable(sequence, || format!("batch {sequence} of {namespace}"))?;
    let b = store::batch(&state.readers, &namespace, sequence)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("batch {sequence} of {namespace}")))?;
    Ok(HttpResponse::Ok().json(BatchView {
        namespace: b.namespace,
        sequence: b.link.sequence,
        previous: hex_of(&b.link.previous),
        batch_hash: hex_of(&b.link.hash),
        root: hex_of(&b.root),
        items: b.items,
        tx_id: hex_of(&b.tx_id),
        height: b.height,
        state: b.state.as_str().to_owned(),
    }))
}

/// `GET /healthz`.
#[derive(Serialize, ToSchema)]
pub(super) struct Health {
    /// `ok`.
    #[schema(example = "ok")]
    pub(super) status: &'static str,
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "monitoring",
    responses((status = 200, description = "The service serves requests", body = Health)))]
pub(super) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Prometheus metrics: digests accepted, batches anchored, time to certificate.
#[utoipa::path(get, path = "/metrics", tag = "monitoring",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub(super) async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_beyond_sqlite_integers_are_not_found() {
        let what = || "item".to_owned();
        assert_eq!(storable(0, what).ok(), Some(0));
        let largest = u64::try_from(i64::MAX).unwrap();
        assert_eq!(storable(largest, what).ok(), Some(largest));
        assert!(matches!(storable(largest + 1, what), Err(ApiError::NotFound(_))));
        assert!(matches!(storable(u64::MAX, what), Err(ApiError::NotFound(_))));
    }
}
