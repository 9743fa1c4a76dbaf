//! The receiving bank's small HTTP API: `GET /.well-known/pay` (the SPSP-style setup a payer
//! calls first), `GET /v1/received/{uetr}` (what happened to a payment; `?wait_ms=` holds the
//! request until the payment is decided, up to 30 s), `GET /healthz`, and `GET /openapi.json`
//! (its OpenAPI 3.1 document, [`super::openapi`]). Errors are problem+json, as the connector's
//! API answers them (the same [`ApiError`] and request error handlers).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlers;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::Receiver;
use crate::api::openapi::{Malformed, NotFound, Unavailable};
use crate::api::{self, ApiError};

/// The largest request body the receiver reads (its routes take none).
const MAX_BODY_BYTES: usize = 4096;

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

/// Query of `GET /v1/received/{uetr}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct WaitQuery {
    /// Hold the request up to this long (ms, capped at 30000) until a payment with this id is
    /// decided; default 0.
    wait_ms: Option<u64>,
}

/// What the receiver did with the payments carrying this end-to-end id. A payer can hear of
/// its fulfilment before the receiver has recorded it, so `wait_ms` holds the request until
/// one is decided instead of making the payer poll.
#[utoipa::path(get, path = "/v1/received/{uetr}", tag = "payee",
    params(("uetr" = Uuid, Path, description = "End-to-end id (UUID) from the payment data"), WaitQuery),
    responses(
        (status = 200, description = "The receiver's records of it, one per escrow offered", body = [super::ReceivedPayment]),
        Malformed, NotFound, Unavailable,
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

/// `GET /healthz`.
#[derive(Serialize, ToSchema)]
struct Health {
    /// `ok`.
    #[schema(example = "ok")]
    status: &'static str,
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "monitoring",
    responses((status = 200, description = "The receiver serves requests", body = Health)))]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
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
            .wrap(ErrorHandlers::new().handler(StatusCode::METHOD_NOT_ALLOWED, api::problem_for_bare_405))
            .app_data(data.clone())
            .app_data(api::json_config(MAX_BODY_BYTES))
            .app_data(api::query_config())
            .app_data(api::path_config())
            .route("/.well-known/pay", web::get().to(setup))
            .route("/v1/received/{uetr}", web::get().to(received))
            .route("/healthz", web::get().to(healthz))
            .route("/openapi.json", web::get().to(super::openapi::document))
            .default_service(web::to(|| async {
                Err::<HttpResponse, ApiError>(ApiError::not_found("no such route; see /openapi.json"))
            }))
    })
    .workers(1)
    .keep_alive(plugins::client::SERVER_KEEP_ALIVE)
    .disable_signals()
    .bind_rustls_0_23(listen, tls)?;
    let addr = server.addrs().first().copied().unwrap_or(listen);
    Ok((server.run(), addr))
}
