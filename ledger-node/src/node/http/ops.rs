//! Operations: this node's view of the chain, health, metrics.

use actix_web::HttpResponse;

use super::Ctx;
use crate::api::types::NodeStatus;

/// This node's view of the chain.
#[utoipa::path(get, path = "/v1/status", tag = "ops",
    responses((status = 200, description = "Height, view, mempool and catching-up state", body = NodeStatus)))]
pub async fn status(ctx: Ctx) -> HttpResponse {
    use std::sync::atomic::Ordering;
    let c = *ctx.committed.borrow();
    HttpResponse::Ok().json(NodeStatus {
        chain_id: ctx.chain_id,
        validator: ctx.identity.as_ref().map(|(i, _)| *i),
        committed_height: c.height,
        state_root: c.state_root,
        view: ctx.view.load(Ordering::Relaxed),
        mempool: usize::try_from(ctx.mempool.load(Ordering::Relaxed)).unwrap_or(usize::MAX),
        catching_up: ctx.catching_up.load(Ordering::Relaxed),
        last_event: c.last_event,
    })
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain")))]
pub async fn metrics(ctx: Ctx) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(ctx.metrics.render())
}

/// Liveness: `ok` as plain text.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "The node serves requests", body = String, content_type = "text/plain")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}
