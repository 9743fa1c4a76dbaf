//! The receiving bank's small HTTP API: `GET /.well-known/pay` (the SPSP-style setup a payer
//! calls first), `GET /v1/received/{uetr}` (what happened to a payment; `?wait_ms=` holds the
//! request until the payment is decided, up to 30 s), `GET /healthz`, and `GET /openapi.json`
//! (its OpenAPI 3 document, [`super::openapi`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use uuid::Uuid;

use super::Receiver;
use crate::api::ApiError;

/// A new connection for a payer: an address to pay and the shared secret its packets use.
#[utoipa::path(get, path = "/.well-known/pay", tag = "payee",
    responses(
        (status = 200, description = "A fresh connection (never cached: each one has its own secret)",
         body = super::SpspResponse, content_type = "application/spsp4+json"),
    ))]
async fn setup(receiver: web::Data<Arc<Receiver>>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/spsp4+json")
        .insert_header(("Cache-Control", "no-store"))
        .json(receiver.setup())
}

/// The longest a `GET /v1/received/{uetr}?wait_ms=` is held.
const MAX_WAIT: Duration = Duration::from_secs(30);

#[derive(serde::Deserialize)]
struct WaitQuery {
    wait_ms: Option<u64>,
}

/// What the receiver did with the payments carrying this end-to-end id. A payer can hear of
/// its fulfilment before the receiver has recorded it, so `wait_ms` holds the request until
/// one is decided instead of making the payer poll.
#[utoipa::path(get, path = "/v1/received/{uetr}", tag = "payee",
    params(
        ("uetr" = String, Path, description = "End-to-end id (UUID) from the payment data"),
        ("wait_ms" = Option<u64>, Query,
         description = "Hold the request up to this long (ms, capped at 30000) until a payment with this id is decided; default 0"),
    ),
    responses(
        (status = 200, description = "The receiver's records of it, one per escrow offered", body = [super::ReceivedPayment]),
        (status = 404, description = "none (yet, after waiting)", body = crate::api::Problem, content_type = "application/problem+json"),
        (status = 503, description = "the receiver's store is unavailable", body = crate::api::Problem, content_type = "application/problem+json"),
    ))]
async fn received(
    receiver: web::Data<Arc<Receiver>>,
    uetr: web::Path<Uuid>,
    query: web::Query<WaitQuery>,
) -> Result<HttpResponse, ApiError> {
    let wait = Duration::from_millis(query.wait_ms.unwrap_or(0)).min(MAX_WAIT);
    let found = receiver.wait_received(*uetr, wait).await?;
    if found.is_empty() {
        return Err(ApiError::not_found(format!("no payment with UETR {uetr}")));
    }
    Ok(HttpResponse::Ok().json(found))
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "monitoring",
    responses((status = 200, body = super::openapi::HealthDoc)))]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// Binds the receiver API at `listen` (port 0 picks one), over TLS only: its setup answer
/// carries a shared secret, which must never travel in clear.
pub fn serve(
    receiver: Arc<Receiver>,
    listen: SocketAddr,
    tls: rustls::ServerConfig,
) -> std::io::Result<(actix_web::dev::Server, SocketAddr)> {
    let data = web::Data::new(receiver);
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .route("/.well-known/pay", web::get().to(setup))
            .route("/v1/received/{uetr}", web::get().to(received))
            .route("/healthz", web::get().to(healthz))
            .route("/openapi.json", web::get().to(super::openapi::document))
    })
    .workers(1)
    .keep_alive(plugins::client::SERVER_KEEP_ALIVE)
    .disable_signals()
    .bind_rustls_0_23(listen, tls)?;
    let addr = server.addrs().first().copied().unwrap_or(listen);
    Ok((server.run(), addr))
}
