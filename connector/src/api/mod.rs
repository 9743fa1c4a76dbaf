//! The connector's HTTP API (actix-web).
//!
//! - Participants (banks): `POST /v1/quotes`, `GET /v1/payments/by-uetr/{uetr}` (a payment's
//!   status; the random UETR is the capability).
//! - Operators, with `Authorization: Bearer <operator_token>`: `/v1/admin/*` — ledgers and
//!   balances, routes, corridors (rates and fees), limits, payments with their event trail, a
//!   live stream of payment changes, the reconciliation report. The token is checked by a
//!   middleware on the whole scope, before any body or query is read.
//! - Monitoring: `GET /healthz`; `GET /metrics` (Prometheus) with the operator token, or without
//!   one on its own listener ([`serve_metrics`]); `GET /openapi.json` describes it all
//!   ([`openapi`]).
//!
//! Errors are `application/problem+json` (RFC 7807) with a stable `code`, mapped in
//! [`ApiError`] only. [`client`] is the other side: a small client of the quote endpoint and of
//! receivers' setup endpoints. The operator's guide is `docs/connector.md`.

mod admin;
pub mod client;
pub mod openapi;
mod public;

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers, Next};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::engine::Connector;
use crate::quote::QuotePolicy;

/// What every handler can reach.
#[derive(Clone)]
pub struct ApiState {
    /// The engine.
    pub connector: Arc<Connector>,
    /// Bearer token of the operator routes.
    pub operator_token: String,
    /// Quote validity.
    pub quote_policy: QuotePolicy,
}

/// An API failure as `application/problem+json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{title}: {detail}")]
pub struct ApiError {
    /// HTTP status.
    #[serde(skip)]
    pub status: u16,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// Short summary.
    pub title: &'static str,
    /// What happened, for a person.
    pub detail: String,
}

impl ApiError {
    /// A 400 with a code.
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status: 400,
            code,
            title: "Bad request",
            detail: detail.into(),
        }
    }

    /// A 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError {
            status: 404,
            code: "not_found",
            title: "Not found",
            detail: detail.into(),
        }
    }

    /// A 401.
    pub fn unauthorized() -> Self {
        ApiError {
            status: 401,
            code: "unauthorized",
            title: "Unauthorized",
            detail: "a valid operator bearer token is required".into(),
        }
    }

    /// A 422 (understood, but refused).
    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status: 422,
            code,
            title: "Cannot be done",
            detail: detail.into(),
        }
    }

    /// A 503.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        ApiError {
            status: 503,
            code: "unavailable",
            title: "Unavailable",
            detail: detail.into(),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::unavailable(e.to_string())
    }
}

/// The body of every error response (`application/problem+json`, RFC 7807).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `https://cypherlink.example/problems/<code>`.
    #[serde(rename = "type")]
    #[schema(example = "https://cypherlink.example/problems/unauthorized")]
    pub kind: String,
    /// Short summary.
    #[schema(example = "Unauthorized")]
    pub title: String,
    /// The HTTP status.
    #[schema(example = 401)]
    pub status: u16,
    /// What happened, for a person.
    #[schema(example = "a valid operator bearer token is required")]
    pub detail: String,
    /// Stable machine-readable code: `malformed`, `body_too_large`, `unauthorized`,
    /// `unsupported_media_type`, `not_found`, `method_not_allowed`, `unknown_ledger`, `no_route`, `amount_too_small`,
    /// `limit_exceeded`, `insufficient_timeout`, `payee_cannot_receive`, `unknown_payee`,
    /// `unavailable`.
    #[schema(example = "unauthorized")]
    pub code: String,
}

/// Media type of error bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";

impl ApiError {
    /// The wire body.
    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("https://cypherlink.example/problems/{}", self.code),
            title: self.title.to_owned(),
            status: self.status,
            detail: self.detail.clone(),
            code: self.code.to_owned(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .content_type(PROBLEM_JSON)
            .json(self.problem())
    }
}

/// Checks the operator's bearer token (constant-time comparison).
fn require_operator(state: &ApiState, req: &HttpRequest) -> Result<(), ApiError> {
    use subtle::ConstantTimeEq;
    let given = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if bool::from(given.as_bytes().ct_eq(state.operator_token.as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::unauthorized())
    }
}

/// Middleware of the `/v1/admin` scope: refuses a request without the operator token before
/// its handler (and the handler's body or query parsing) runs.
async fn operator_only(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = req
        .app_data::<web::Data<ApiState>>()
        .ok_or_else(|| ApiError::unavailable("API state missing"))?;
    if let Err(e) = require_operator(state, req.request()) {
        tracing::warn!(path = %req.path(), peer = ?req.peer_addr(), "operator request refused: bad or missing token");
        return Err(e.into());
    }
    next.call(req).await
}

/// Turns actix's own bodiless errors (405 from a known path with another method) into
/// problem+json, so every error a client sees has the same shape.
pub(crate) fn problem_for_bare_405<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let error = ApiError {
        status: 405,
        code: "method_not_allowed",
        title: "Method not allowed",
        detail: format!(
            "{} is not allowed on {}",
            res.request().method(),
            res.request().path()
        ),
    };
    let (req, _) = res.into_parts();
    let response = error.error_response().map_into_right_body();
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(
        req, response,
    )))
}

/// Query strings that do not parse as a 400 problem+json (here and in the receiver's API).
pub(crate) fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|err, _| ApiError::bad_request("malformed", err.to_string()).into())
}

/// Path segments that do not parse (a UUID that is none) as a 400 problem+json.
pub(crate) fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|err, _| ApiError::bad_request("malformed", err.to_string()).into())
}

/// JSON body errors as problem+json: 413 for a body over the limit, 415 for a body that is
/// not JSON, 400 for JSON that does not parse or does not fit the schema.
pub(crate) fn json_config(max_body_bytes: usize) -> web::JsonConfig {
    use actix_web::error::JsonPayloadError;
    web::JsonConfig::default()
        .limit(max_body_bytes)
        .error_handler(|err, _| {
            let detail = err.to_string();
            let (status, code, title) = match &err {
                JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
                    (413, "body_too_large", "Payload too large")
                }
                JsonPayloadError::ContentType => (415, "unsupported_media_type", "Unsupported media type"),
                _ => (400, "malformed", "Bad request"),
            };
            ApiError {
                status,
                code,
                title,
                detail,
            }
            .into()
        })
}

/// Binds a listener that serves only `GET /metrics`, with no token: for a Prometheus scraper
/// on an interface the operator keeps private (`[api] metrics_listen`).
pub fn serve_metrics(
    state: ApiState,
    listen: SocketAddr,
) -> std::io::Result<(actix_web::dev::Server, SocketAddr)> {
    let data = web::Data::new(state);
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .service(web::resource("/metrics").get(public::metrics))
            .default_service(web::to(|| async {
                Err::<HttpResponse, ApiError>(ApiError::not_found("this listener serves /metrics only"))
            }))
    })
    .workers(1)
    .disable_signals()
    .bind(listen)?;
    let addr = server.addrs().first().copied().unwrap_or(listen);
    Ok((server.run(), addr))
}

/// Binds the API at `listen` (port 0 picks one) and returns the server and its address.
pub fn serve(
    state: ApiState,
    listen: SocketAddr,
    max_body_bytes: usize,
    tls: Option<rustls::ServerConfig>,
) -> std::io::Result<(actix_web::dev::Server, SocketAddr)> {
    let data = web::Data::new(state);
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .wrap(ErrorHandlers::new().handler(StatusCode::METHOD_NOT_ALLOWED, problem_for_bare_405))
            .app_data(data.clone())
            .app_data(json_config(max_body_bytes))
            .app_data(query_config())
            .app_data(path_config())
            .configure(public::routes)
            .service(web::resource("/openapi.json").get(openapi::document))
            .service(
                web::scope("/v1/admin")
                    .wrap(actix_web::middleware::from_fn(operator_only))
                    .configure(admin::configure),
            )
            .default_service(web::to(|| async {
                Err::<HttpResponse, ApiError>(ApiError::not_found("no such route"))
            }))
    })
    .workers(2)
    .keep_alive(plugins::client::SERVER_KEEP_ALIVE)
    .disable_signals();
    let server = match tls {
        Some(tls) => server.bind_rustls_0_23(listen, tls)?,
        None => server.bind(listen)?,
    };
    let addr = server.addrs().first().copied().unwrap_or(listen);
    Ok((server.run(), addr))
}
