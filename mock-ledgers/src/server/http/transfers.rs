//! `/v1/transfers`: hash-time-locked transfers (escrows): prepare, look up, fulfil, reject.

use actix_web::HttpResponse;

use super::signed::{Signed, json};
use super::{ApiError, malformed, ok_json};
use crate::openapi::{
    AlreadyFinal, ClaimRefused, Forbidden, IdempotencyKey, Malformed, PrepareRefused, TooLarge, Unauthorized,
    Unavailable, UnknownAccount, UnknownTransfer,
};
use crate::server::store;
use crate::server::writer::Op;
use plugins::api::{FulfillRequest, RejectRequest};
use plugins::error::PluginError;
use plugins::plugin::{PrepareTransfer, Transfer, TransferId};

/// Prepare a hash-time-locked transfer.
#[utoipa::path(post, path = "/v1/transfers", tag = "transfers",
    request_body = PrepareTransfer,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Prepared", body = Transfer),
        (status = 200, description = "Already prepared with the same id and terms", body = Transfer),
        Malformed, Unauthorized, Forbidden, UnknownAccount, TooLarge, PrepareRefused, Unavailable,
    ),
    security(("signature" = [])))]
pub async fn prepare(request: Signed) -> Result<HttpResponse, ApiError> {
    request.change(|_, body, ()| Ok(Op::Prepare(json(body)?))).await
}

/// Fulfil a transfer addressed to one of the caller's accounts.
#[utoipa::path(post, path = "/v1/transfers/{id}/fulfill", tag = "transfers",
    request_body = FulfillRequest,
    params(("id" = TransferId, Path, description = "Transfer id"), IdempotencyKey),
    responses(
        (status = 200, description = "Fulfilled (or already fulfilled with this preimage)", body = Transfer),
        Malformed, Unauthorized, Forbidden, UnknownTransfer, AlreadyFinal, TooLarge, ClaimRefused, Unavailable,
    ),
    security(("signature" = [])))]
pub async fn fulfill(request: Signed<TransferId>) -> Result<HttpResponse, ApiError> {
    request
        .change(|_, body, id| {
            let r: FulfillRequest = json(body)?;
            Ok(Op::Fulfill(id, r.fulfillment))
        })
        .await
}

/// Reject a transfer addressed to one of the caller's accounts.
#[utoipa::path(post, path = "/v1/transfers/{id}/reject", tag = "transfers",
    request_body = RejectRequest,
    params(("id" = TransferId, Path, description = "Transfer id"), IdempotencyKey),
    responses(
        (status = 200, description = "Rejected; funds back with the payer", body = Transfer),
        Malformed, Unauthorized, Forbidden, UnknownTransfer, AlreadyFinal, TooLarge, ClaimRefused, Unavailable,
    ),
    security(("signature" = [])))]
pub async fn reject(request: Signed<TransferId>) -> Result<HttpResponse, ApiError> {
    request
        .change(|_, body, id| {
            let reason = if body.is_empty() {
                None
            } else {
                let request: RejectRequest = json(body)?;
                request.reason
            };
            if reason
                .as_ref()
                .is_some_and(|r| r.len() > plugins::plugin::MAX_REJECT_REASON_LEN)
            {
                return Err(malformed(format!(
                    "reason is longer than {} bytes",
                    plugins::plugin::MAX_REJECT_REASON_LEN
                )));
            }
            Ok(Op::Reject(id, reason))
        })
        .await
}

/// Look a transfer up (payer's or payee's operator).
#[utoipa::path(get, path = "/v1/transfers/{id}", tag = "transfers",
    params(("id" = TransferId, Path, description = "Transfer id")),
    responses(
        (status = 200, description = "The transfer as it stands", body = Transfer),
        Malformed, Unauthorized, UnknownTransfer, TooLarge, Unavailable,
    ),
    security(("signature" = [])))]
pub async fn get_transfer(request: Signed<TransferId>) -> Result<HttpResponse, ApiError> {
    let Signed {
        caller, id, state, ..
    } = request;
    let transfer = store::transfer(&state.pool, id)
        .await?
        .filter(|t| {
            [&t.from, &t.to].iter().any(|a| {
                state
                    .accounts
                    .get(*a)
                    .is_some_and(|m| m.owner == caller.participant)
            })
        })
        .ok_or(PluginError::UnknownTransfer { id })?;
    Ok(ok_json(&transfer))
}
