//! Errors as `application/problem+json` (RFC 7807): every way a request fails ([`ApiError`]),
//! its status and stable code, mapped here only; and the error answers the OpenAPI document
//! declares, once each, for the handlers to list.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::types::ProblemCode;
use crate::state::{FailReason, Refusal};

/// A problem document (RFC 7807).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// `urn:cypherlink:chain:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Summary.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// Stable code: `malformed` (400); `bad_signature`, `wrong_chain`, `unknown_signer`,
    /// `nonce_reused`, `nonce_too_far_ahead`, `insufficient_funds` (422, refused before the
    /// mempool); `rate_limited` (429, with `Retry-After`); `not_found` (404); `not_final_yet`
    /// (409, with `Retry-After`); `unavailable` (503); `internal` (500).
    #[schema(value_type = String)]
    pub code: ProblemCode,
    /// What happened.
    pub detail: String,
}

/// Every way a request fails.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed input.
    #[error("{0}")]
    Malformed(String),
    /// A transaction refused before it reaches the mempool (bad signature, wrong chain).
    #[error("{reason}")]
    Refused {
        /// The rule.
        reason: FailReason,
    },
    /// A transaction that cannot succeed from what the chain knows (see
    /// [`crate::state::admission`]).
    #[error("{0}")]
    NotAdmitted(Refusal),
    /// The client or the signing account is over its rate (see
    /// [`crate::node::config::AdmissionLimits`]); answered with `Retry-After`.
    #[error("{what} is over its rate limit; retry after {retry_after_s} s")]
    RateLimited {
        /// Whose limit (`this client`, or the account).
        what: String,
        /// Whole seconds to wait, at least 1.
        retry_after_s: u64,
    },
    /// Nothing with this id.
    #[error("{0} not found")]
    NotFound(String),
    /// The node cannot take it now (full node, mempool full, shutting down).
    #[error("{0}")]
    Unavailable(String),
    /// Storage failed.
    #[error("storage: {0}")]
    Internal(String),
    /// The block is committed but the evidence of its finality is not stored yet (answered
    /// with `Retry-After`).
    #[error("{0} is not final yet (or its finality evidence is still being stored); retry")]
    NotFinalYet(String),
}

impl From<crate::node::store::StoreError> for ApiError {
    fn from(e: crate::node::store::StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl ApiError {
    /// The problem document.
    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        Problem {
            type_uri: format!("urn:cypherlink:chain:{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            code: self.code(),
            detail: self.to_string(),
        }
    }

    fn code(&self) -> ProblemCode {
        match self {
            ApiError::Malformed(_) => ProblemCode::Malformed,
            ApiError::Refused { reason } | ApiError::NotAdmitted(Refusal::Rule(reason)) => {
                reason.code().into()
            }
            ApiError::NotAdmitted(Refusal::UnknownSigner { .. }) => ProblemCode::UnknownSigner,
            ApiError::RateLimited { .. } => ProblemCode::RateLimited,
            ApiError::NotFound(_) => ProblemCode::NotFound,
            ApiError::Unavailable(_) => ProblemCode::Unavailable,
            ApiError::Internal(_) => ProblemCode::Internal,
            ApiError::NotFinalYet(_) => ProblemCode::NotFinalYet,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::Refused { .. } | ApiError::NotAdmitted(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::NotFinalYet(_) => StatusCode::CONFLICT,
        }
    }
    fn error_response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status_code());
        if let ApiError::RateLimited { retry_after_s, .. } = self {
            r.insert_header(("Retry-After", retry_after_s.to_string()));
        }
        if let ApiError::NotFinalYet(_) = self {
            r.insert_header(("Retry-After", "1"));
        }
        r.content_type("application/problem+json").json(self.problem())
    }
}

/// Every problem code the API answers with, as documented on [`Problem::code`] (the OpenAPI
/// test checks the document names each).
pub const PROBLEM_CODES: &[&str] = &[
    "malformed",
    "bad_signature",
    "wrong_chain",
    "unknown_signer",
    "nonce_reused",
    "nonce_too_far_ahead",
    "insufficient_funds",
    "rate_limited",
    "not_found",
    "not_final_yet",
    "unavailable",
    "internal",
];

htlc::problem_responses! {
    /// A request that does not parse.
    pub Malformed = 400, "`malformed`: a path id, query or JSON body that does not parse (ids are 64 hex \
        characters), or a transaction that does not decode";
    /// Nothing with this id.
    pub NotFound = 404, "`not_found`: nothing with this id";
    /// Refused before the mempool.
    pub SubmitRefused = 422, "Refused before the mempool: `bad_signature`, `wrong_chain`, `unknown_signer`, \
        `nonce_reused`, `nonce_too_far_ahead`, `insufficient_funds`";
    /// Over the client's or the signer's rate.
    pub RateLimited = 429 with Retry-After, "`rate_limited`: this client or the signing account is over its rate";
    /// Over the client's rate.
    pub ClientRateLimited = 429 with Retry-After, "`rate_limited`: this client is over its rate";
    /// Committed, but the finality evidence is not stored yet.
    pub NotFinalYet = 409 with Retry-After, "`not_final_yet`: the block's finality evidence is not stored yet; retry";
    /// Storage failed.
    pub Internal = 500, "`internal`: the node's storage failed";
    /// The node cannot take transactions now.
    pub Unavailable = 503, "`unavailable`: a full node (submit to a validator), or the node is overloaded; retry";
}
