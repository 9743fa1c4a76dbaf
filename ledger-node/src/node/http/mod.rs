//! The HTTP API (actix-web), one module per resource. Errors are `application/problem+json`,
//! mapped in one place ([`ApiError`], in [`problem`]), except DID resolution's ([`dids`]), which
//! answer DID Resolution results as that binding asks. Submissions go through admission
//! ([`crate::node::admission`]). The OpenAPI document is generated from these handlers
//! ([`openapi_json`]) and committed as `docs/openapi/chain-api.json`.

pub mod accounts;
pub mod blocks;
pub mod dids;
pub mod escrows;
pub mod events;
pub mod openapi;
pub mod ops;
pub mod problem;
pub mod transactions;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;

use crate::node::Shared;
use crate::state::types::parse_hex32;

pub use openapi::{ChainApi, openapi_json};
pub use problem::{ApiError, PROBLEM_CODES, Problem};

type Ctx = web::Data<Arc<Shared>>;

fn id32(s: &str, what: &str) -> Result<[u8; 32], ApiError> {
    parse_hex32(s).ok_or_else(|| ApiError::Malformed(format!("{what} must be 64 hex characters")))
}

async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound("endpoint (see /openapi.json)".into()))
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
            .route("/healthz", web::get().to(ops::healthz))
            .route("/metrics", web::get().to(ops::metrics))
            .route("/openapi.json", web::get().to(openapi::document))
            .route("/v1/status", web::get().to(ops::status))
            .route("/v1/transactions", web::post().to(transactions::submit))
            .route(
                "/v1/transactions/batch",
                web::post().to(transactions::submit_batch),
            )
            .route("/v1/transactions/{id}", web::get().to(transactions::tx_status))
            .route(
                "/v1/transactions/{id}/proof",
                web::get().to(transactions::tx_proof),
            )
            .route("/v1/accounts/{account}", web::get().to(accounts::account))
            .route(
                "/v1/accounts/{account}/transactions",
                web::get().to(accounts::account_txs),
            )
            .route("/v1/assets/{code}", web::get().to(accounts::asset))
            .route("/v1/escrows", web::get().to(escrows::escrows))
            .route("/v1/escrows/{id}", web::get().to(escrows::escrow))
            .route("/v1/anchors/{id}", web::get().to(escrows::anchor))
            .route("/v1/blocks/{height}", web::get().to(blocks::block))
            .route("/v1/committee", web::get().to(blocks::committee))
            .route("/v1/events", web::get().to(events::events))
            .route("/1.0/identifiers/{did}", web::get().to(dids::resolve))
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
