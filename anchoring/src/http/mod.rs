//! The service's HTTP API (actix-web): `POST /v1/namespaces/{ns}/digests`,
//! `GET /v1/items/{id}/certificate`, `GET /v1/namespaces/{ns}/batches/{n}`, `/healthz`,
//! `/metrics` and `/openapi.json` ([`openapi`]). Errors are problem+json ([`problem`]).

pub mod openapi;
pub mod problem;
mod routes;
mod signed;

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::{HttpResponse, web};
use plugins::auth::NonceStore;
use sqlx::SqlitePool;
use tokio::sync::{Notify, mpsc};

pub use problem::{ApiError, Problem};
pub use routes::{Accepted, BatchView, DigestsRequest, ItemStatus};

use crate::config::Submitters;
use crate::engine::Command;
use crate::metrics::Metrics;

/// What the handlers share.
pub struct AppState {
    /// Who may call.
    pub submitters: Submitters,
    /// Nonces seen within the window.
    pub nonces: NonceStore,
    /// Accepted clock difference, seconds.
    pub auth_window_secs: u64,
    /// Unix seconds now (injected, so tests can move time).
    pub clock: Box<dyn Fn() -> i64 + Send + Sync>,
    /// Body limit.
    pub max_body_bytes: usize,
    /// Digests per request at most.
    pub max_digests: usize,
    /// The engine.
    pub engine: mpsc::Sender<Command>,
    /// Read pool.
    pub readers: SqlitePool,
    /// Metrics.
    pub metrics: Metrics,
    /// Woken whenever a batch becomes final.
    pub finality: Arc<Notify>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|e, _| ApiError::malformed("path", e.to_string()).into())
}

fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|e, _| ApiError::malformed("query", e.to_string()).into())
}

/// Binds the API at `listen` (port 0 picks one), over TLS when `tls` is given.
pub fn serve(
    state: AppState,
    listen: SocketAddr,
    tls: Option<rustls::ServerConfig>,
) -> std::io::Result<(actix_web::dev::Server, SocketAddr)> {
    let data = web::Data::new(state);
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .app_data(path_config())
            .app_data(query_config())
            .route(
                "/v1/namespaces/{namespace}/digests",
                web::post().to(routes::post_digests),
            )
            .route(
                "/v1/items/{id}/certificate",
                web::get().to(routes::get_certificate),
            )
            .route(
                "/v1/namespaces/{namespace}/batches/{sequence}",
                web::get().to(routes::get_batch),
            )
            .route("/healthz", web::get().to(routes::healthz))
            .route("/metrics", web::get().to(routes::metrics))
            .route("/openapi.json", web::get().to(openapi::document))
            .default_service(web::to(|| async {
                Err::<HttpResponse, ApiError>(ApiError::NotFound("this route (see /openapi.json)".into()))
            }))
    })
    .workers(2)
    .disable_signals();
    let server = match tls {
        Some(config) => server.bind_rustls_0_23(listen, config)?,
        None => server.bind(listen)?,
    };
    let addr = server.addrs().first().copied().unwrap_or(listen);
    Ok((server.run(), addr))
}
