//! What the ledger is and how it runs: its identity (`/v1/info`, signed like every `/v1`
//! route), and unauthenticated health, metrics and this API's OpenAPI document.

use actix_web::HttpResponse;
use actix_web::http::header::ContentType;

use super::signed::Signed;
use super::{ApiError, Data, ok_json};
use crate::openapi::{Malformed, TooLarge, Unauthorized};
use plugins::api::Health;
use plugins::plugin::LedgerInfo;

/// The ledger's identity, asset and timing.
#[utoipa::path(get, path = "/v1/info", tag = "ledger",
    responses(
        (status = 200, description = "Identity, asset and expected finality", body = LedgerInfo),
        Malformed, Unauthorized, TooLarge,
    ),
    security(("signature" = [])))]
pub async fn info(request: Signed) -> Result<HttpResponse, ApiError> {
    Ok(ok_json(&request.state.config.info))
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "The ledger serves requests", body = Health)))]
pub async fn healthz(state: Data) -> HttpResponse {
    ok_json(&Health {
        status: "ok".into(),
        ledger_id: state.config.info.ledger_id.clone(),
    })
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain")))]
pub async fn metrics(state: Data) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "ops",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json")))]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(ContentType::json())
        .body(crate::openapi::json())
}
