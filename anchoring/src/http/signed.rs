//! The start of every `/v1` request: read the body within the limit, then check the
//! CL1-HMAC-SHA256 signature (`plugins::auth`, the ledger API's scheme) and the nonce, before
//! anything is read or changed.

use actix_web::{HttpRequest, web};
use bytes::Bytes;
use plugins::auth::{self, AuthError};
use plumbing::body::{BodyError, read_limited};
use utoipa::IntoParams;

use super::AppState;
use super::problem::ApiError;
use crate::config::Submitter;

/// The signature headers every `/v1` request carries (see `plugins::auth`).
#[derive(serde::Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub(crate) struct SignedHeaders {
    /// The submitter's key id.
    #[serde(rename = "CypherLink-Key-Id")]
    key_id: String,
    /// Unix seconds of signing (within the configured window of the service's clock).
    #[serde(rename = "CypherLink-Timestamp")]
    timestamp: i64,
    /// Single-use nonce: 16-64 characters of A-Z a-z 0-9 - _.
    #[serde(rename = "CypherLink-Nonce")]
    #[param(pattern = "^[A-Za-z0-9_-]{16,64}$")]
    nonce: String,
    /// Lower-case hex HMAC-SHA256 of the canonical string.
    #[serde(rename = "CypherLink-Signature")]
    #[param(pattern = "^[0-9a-f]{64}$")]
    signature: String,
}

async fn read_body(state: &AppState, req: &HttpRequest, payload: web::Payload) -> Result<Bytes, ApiError> {
    let declared = req.headers().get("content-length").and_then(|v| v.to_str().ok());
    read_limited(declared, payload, state.max_body_bytes)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge { limit } => ApiError::TooLarge { limit },
            BodyError::Read(e) => ApiError::malformed("body", format!("reading it: {e}")),
        })
}

/// Reads the body and authenticates its sender; the nonce is recorded only once the signature
/// is valid, so unauthenticated callers cannot fill the store.
pub(crate) async fn signed(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(Submitter, Bytes), ApiError> {
    let body = read_body(state, req, payload).await?;
    let headers = auth::read_headers(|name| req.headers().get(name).and_then(|v| v.to_str().ok()))
        .map_err(ApiError::Unauthorized)?;
    let submitter = state
        .submitters
        .get(&headers.key_id)
        .ok_or_else(|| ApiError::Unauthorized(AuthError::UnknownKey(headers.key_id.clone())))?;
    let now = (state.clock)();
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    auth::verify_signature(
        &headers,
        submitter.secret.as_bytes(),
        req.method().as_str(),
        path,
        &body,
        now,
        state.auth_window_secs,
    )
    .and_then(|()| {
        state
            .nonces
            .check_and_insert(&headers.key_id, &headers.nonce, headers.timestamp, now)
    })
    .map_err(|e| {
        tracing::info!(key_id = headers.key_id, path = req.path(), "request refused: {e}");
        ApiError::Unauthorized(e)
    })?;
    Ok((submitter.clone(), body))
}

/// Refuses a namespace the submitter does not hold.
pub(crate) fn owned(submitter: &Submitter, namespace: &str) -> Result<(), ApiError> {
    if submitter.owns(namespace) {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            key_id: submitter.key_id.clone(),
            namespace: namespace.to_owned(),
        })
    }
}
