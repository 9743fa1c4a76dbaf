//! The connector's HTTP API (actix-web).
//!
//! - Participants (banks): `POST /v1/quotes`, `GET /v1/payments/by-uetr/{uetr}` (a payment's
//!   status; the random UETR is the capability).
//! - Operators, with `Authorization: Bearer <operator_token>`: `/v1/admin/*` — ledgers and
//!   balances, routes, corridors (rates and fees), limits, payments with their event trail.
//! - Monitoring: `GET /healthz`, `GET /metrics` (Prometheus).
//!
//! Errors are `application/problem+json` (RFC 7807) with a stable `code`, mapped in
//! [`ApiError`] only.

mod admin;
mod public;

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde::Serialize;

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

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        #[derive(Serialize)]
        struct Problem<'a> {
            #[serde(rename = "type")]
            kind: String,
            title: &'a str,
            status: u16,
            detail: &'a str,
            code: &'a str,
        }
        HttpResponse::build(self.status_code())
            .content_type("application/problem+json")
            .json(Problem {
                kind: format!("https://cypherlink.example/problems/{}", self.code),
                title: self.title,
                status: self.status,
                detail: &self.detail,
                code: self.code,
            })
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

/// JSON body errors as problem+json.
fn json_config(max_body_bytes: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(max_body_bytes)
        .error_handler(|err, _| {
            let detail = err.to_string();
            let status = match &err {
                actix_web::error::JsonPayloadError::Overflow { .. }
                | actix_web::error::JsonPayloadError::OverflowKnownLength { .. } => 413,
                _ => 400,
            };
            ApiError {
                status,
                code: if status == 413 {
                    "body_too_large"
                } else {
                    "malformed"
                },
                title: "Bad request",
                detail,
            }
            .into()
        })
}

/// Binds the API at `listen` (port 0 picks one) and returns the server and its address.
pub fn serve(
    state: ApiState,
    listen: SocketAddr,
    max_body_bytes: usize,
) -> std::io::Result<(actix_web::dev::Server, SocketAddr)> {
    let data = web::Data::new(state);
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .app_data(json_config(max_body_bytes))
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|err, _| ApiError::bad_request("malformed", err.to_string()).into()),
            )
            .app_data(
                web::PathConfig::default()
                    .error_handler(|err, _| ApiError::bad_request("malformed", err.to_string()).into()),
            )
            .configure(public::routes)
            .configure(admin::routes)
            .default_service(web::to(|| async {
                Err::<HttpResponse, ApiError>(ApiError::not_found("no such route"))
            }))
    })
    .workers(2)
    .disable_signals()
    .bind(listen)?;
    let addr = server.addrs().first().copied().unwrap_or(listen);
    Ok((server.run(), addr))
}
