//! The receiving bank's small HTTP API: `GET /.well-known/pay` (the SPSP-style setup a payer
//! calls first), `GET /v1/received/{uetr}` (what happened to a payment; `?wait_ms=` holds the
//! request until the payment is decided, up to 30 s), `GET /healthz`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use uuid::Uuid;

use super::Receiver;

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

async fn received(
    receiver: web::Data<Arc<Receiver>>,
    uetr: web::Path<Uuid>,
    query: web::Query<WaitQuery>,
) -> HttpResponse {
    let wait = Duration::from_millis(query.wait_ms.unwrap_or(0)).min(MAX_WAIT);
    match receiver.wait_received(*uetr, wait).await {
        Ok(found) if found.is_empty() => HttpResponse::NotFound()
            .content_type("application/problem+json")
            .json(serde_json::json!({
                "title": "Not found", "status": 404, "code": "not_found",
                "detail": format!("no payment with UETR {uetr}"),
            })),
        Ok(found) => HttpResponse::Ok().json(found),
        Err(e) => HttpResponse::ServiceUnavailable()
            .content_type("application/problem+json")
            .json(serde_json::json!({
                "title": "Unavailable", "status": 503, "code": "unavailable", "detail": e.to_string(),
            })),
    }
}

/// Binds the receiver API at `listen` (port 0 picks one).
pub fn serve(
    receiver: Arc<Receiver>,
    listen: SocketAddr,
) -> std::io::Result<(actix_web::dev::Server, SocketAddr)> {
    let data = web::Data::new(receiver);
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .route("/.well-known/pay", web::get().to(setup))
            .route("/v1/received/{uetr}", web::get().to(received))
            .route(
                "/healthz",
                web::get().to(|| async { HttpResponse::Ok().json(serde_json::json!({"status": "ok"})) }),
            )
    })
    .workers(1)
    .disable_signals()
    .bind(listen)?;
    let addr = server.addrs().first().copied().unwrap_or(listen);
    Ok((server.run(), addr))
}
