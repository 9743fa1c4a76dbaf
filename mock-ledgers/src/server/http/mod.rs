//! The HTTP surface: the routes, and the mapping of every error to `application/problem+json`
//! (through [`ApiError`], which renders with [`plugins::api::problem`] — the one place codes
//! become statuses). One module per resource; [`signed`] is the request pipeline every `/v1`
//! route goes through.
//!
//! Every `/v1` route authenticates before it reads or changes anything, so an unsigned, stale
//! or replayed request gets a 401 and changes nothing.

pub mod accounts;
pub mod cbdc;
pub mod ops;
pub mod signed;
pub mod transfers;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError, web};

use crate::server::writer::Reply;
use crate::server::{AppState, feed, store};
use plugins::api::{self, PROBLEM_JSON};
use plugins::error::PluginError;

pub use signed::{Caller, PathId, Signed};

/// Header set on a response that repeats a stored first answer.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";

/// An error answered as problem+json.
#[derive(Debug)]
pub struct ApiError(pub PluginError);

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<PluginError> for ApiError {
    fn from(e: PluginError) -> Self {
        ApiError(e)
    }
}

impl From<store::StoreError> for ApiError {
    fn from(e: store::StoreError) -> Self {
        tracing::error!(error = %e, "database read failed");
        ApiError(PluginError::Unavailable {
            reason: e.to_string(),
        })
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(api::problem::http_status(&self.0)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        respond(Reply::problem(&self.0))
    }
}

/// Turns a writer reply into an HTTP response.
pub fn respond(reply: Reply) -> HttpResponse {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = HttpResponse::build(status);
    if reply.replayed {
        builder.insert_header((REPLAYED_HEADER, "true"));
    }
    if reply.body.is_empty() {
        return builder.finish();
    }
    let content_type = if reply.status >= 400 {
        PROBLEM_JSON
    } else {
        "application/json"
    };
    builder.content_type(content_type).body(reply.body)
}

fn ok_json(value: &impl serde::Serialize) -> HttpResponse {
    respond(Reply::json(200, value))
}

fn malformed(reason: impl Into<String>) -> ApiError {
    ApiError(PluginError::Malformed {
        reason: reason.into(),
    })
}

/// The server's state as handlers receive it.
pub type Data = web::Data<AppState>;

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError(PluginError::Unsupported {
        what: "no such endpoint; see /openapi.json".into(),
    }))
}

/// Builds and binds the server (not yet running).
pub fn serve(
    state: Arc<AppState>,
    listen: SocketAddr,
    tls: Option<rustls::ServerConfig>,
) -> std::io::Result<(actix_web::dev::Server, SocketAddr)> {
    let workers = state.config.server.workers;
    let data = web::Data::from(state);
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .route("/healthz", web::get().to(ops::healthz))
            .route("/metrics", web::get().to(ops::metrics))
            .route("/openapi.json", web::get().to(ops::document))
            .route("/v1/info", web::get().to(ops::info))
            .route("/v1/transfers", web::post().to(transfers::prepare))
            .route("/v1/transfers/{id}", web::get().to(transfers::get_transfer))
            .route("/v1/transfers/{id}/fulfill", web::post().to(transfers::fulfill))
            .route("/v1/transfers/{id}/reject", web::post().to(transfers::reject))
            .route("/v1/payments", web::post().to(cbdc::pay))
            .route("/v1/issuances", web::post().to(cbdc::issue))
            .route("/v1/redemptions", web::post().to(cbdc::redeem))
            .route("/v1/supply", web::get().to(cbdc::supply))
            .route("/v1/accounts/{id}", web::get().to(accounts::lookup))
            .route("/v1/accounts/{id}/balance", web::get().to(accounts::balance))
            .route(
                "/v1/accounts/{id}/receivable",
                web::get().to(accounts::receivable),
            )
            .route("/v1/accounts/{id}/statement", web::get().to(accounts::statement))
            .route("/v1/events", web::get().to(feed::long_poll))
            .route("/v1/events/stream", web::get().to(feed::stream))
            .route("/v1/webhooks", web::post().to(webhooks::register_webhook))
            .route("/v1/webhooks", web::get().to(webhooks::get_webhook))
            .route("/v1/webhooks", web::delete().to(webhooks::remove_webhook))
            .default_service(web::to(not_found))
    })
    .workers(workers)
    .keep_alive(plugins::client::SERVER_KEEP_ALIVE)
    .disable_signals()
    .shutdown_timeout(5);
    let server = match tls {
        Some(tls) => server.bind_rustls_0_23(listen, tls)?,
        None => server.bind(listen)?,
    };
    let addr = server.addrs().first().copied().unwrap_or(listen);
    Ok((server.run(), addr))
}
