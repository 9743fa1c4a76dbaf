//! Errors as `application/problem+json` (RFC 7807): every way a request fails, its status and
//! stable code, mapped here only; and the error answers the OpenAPI document declares.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use plugins::auth::AuthError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A problem document (RFC 7807).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// `urn:cypherlink:anchoring:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Summary.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// Stable code: `malformed` (400), `unauthorized` (401), `forbidden` (403), `not_found`
    /// (404), `too_large` (413), `unavailable` (503), `internal` (500).
    pub code: String,
    /// What happened; for a bad field, it starts with the field's name (`digests[3]: ...`).
    pub detail: String,
}

/// Every way a request fails.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A field, path or body that does not parse; `field` names it.
    #[error("{field}: {detail}")]
    Malformed {
        /// The field at fault (`digests[3]`, `body`, `id`, ...).
        field: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The request's signature headers do not pass.
    #[error("{0}")]
    Unauthorized(AuthError),
    /// The submitter may not use this namespace.
    #[error("key {key_id} may not use namespace {namespace:?}")]
    Forbidden {
        /// The caller's key.
        key_id: String,
        /// The namespace asked for.
        namespace: String,
    },
    /// Nothing with this id.
    #[error("{0} not found")]
    NotFound(String),
    /// The body is over the limit.
    #[error("body over {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The service is stopping.
    #[error("{0}")]
    Unavailable(String),
    /// Storage failed.
    #[error("storage: {0}")]
    Internal(String),
}

impl From<plumbing::StoreError> for ApiError {
    fn from(e: plumbing::StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl ApiError {
    /// A malformed field.
    pub fn malformed(field: impl Into<String>, detail: impl Into<String>) -> Self {
        ApiError::Malformed {
            field: field.into(),
            detail: detail.into(),
        }
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Malformed { .. } => "malformed",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden { .. } => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::TooLarge { .. } => "too_large",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The problem document.
    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        Problem {
            type_uri: format!("urn:cypherlink:anchoring:{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            code: self.code().to_owned(),
            detail: self.to_string(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Malformed { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .content_type(htlc::openapi::PROBLEM_JSON)
            .json(self.problem())
    }
}

htlc::problem_responses! {
    /// A request that does not parse.
    pub Malformed = 400, "`malformed`: a path, query or body field that does not parse; the detail \
        starts with the field (`digests[3]: expected 64 hex characters`)";
    /// Signature headers that do not pass.
    pub Unauthorized = 401, "`unauthorized`: missing or bad CypherLink signature headers, an unknown \
        key, a timestamp outside the window, a bad signature or a replayed nonce";
    /// Another submitter's namespace.
    pub Forbidden = 403, "`forbidden`: the key may not use this namespace";
    /// Nothing with this id.
    pub NotFound = 404, "`not_found`: nothing with this id";
    /// Over the body limit.
    pub TooLarge = 413, "`too_large`: the body is over the configured limit";
    /// Stopping.
    pub Unavailable = 503, "`unavailable`: the service is stopping";
    /// Storage failed.
    pub Internal = 500, "`internal`: the service's storage failed";
}
