//! Money moving without an escrow: immediate payments (`/v1/payments`), and a CBDC's two-tier
//! issuance and redemption with the supply they keep (`/v1/issuances`, `/v1/redemptions`,
//! `/v1/supply`).

use actix_web::HttpResponse;

use super::signed::{Signed, json};
use super::{ApiError, ok_json};
use crate::openapi::{
    Forbidden, IdempotencyKey, Malformed, PaymentRefused, SupplyRefused, TooLarge, Unauthorized, Unavailable,
    UnknownAccount,
};
use crate::server::store;
use crate::server::writer::Op;
use plugins::api::{self, IssuanceRequest, PaymentRequest, RedemptionRequest, Supply};

/// Pay immediately (no escrow).
#[utoipa::path(post, path = "/v1/payments", tag = "payments",
    request_body = PaymentRequest,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Booked", body = api::Payment),
        Malformed, Unauthorized, Forbidden, UnknownAccount, TooLarge, PaymentRefused, Unavailable,
    ),
    security(("signature" = [])))]
pub async fn pay(request: Signed) -> Result<HttpResponse, ApiError> {
    request.change(|_, body, ()| Ok(Op::Pay(json(body)?))).await
}

/// Issue new CBDC to an intermediary (central bank only).
#[utoipa::path(post, path = "/v1/issuances", tag = "cbdc",
    request_body = IssuanceRequest,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Issued", body = api::SupplyChange),
        Malformed, Unauthorized, Forbidden, UnknownAccount, TooLarge, SupplyRefused, Unavailable,
    ),
    security(("signature" = [])))]
pub async fn issue(request: Signed) -> Result<HttpResponse, ApiError> {
    request.change(|_, body, ()| Ok(Op::Issue(json(body)?))).await
}

/// Redeem CBDC back to the central bank (intermediaries only).
#[utoipa::path(post, path = "/v1/redemptions", tag = "cbdc",
    request_body = RedemptionRequest,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Redeemed", body = api::SupplyChange),
        Malformed, Unauthorized, Forbidden, UnknownAccount, TooLarge, SupplyRefused, Unavailable,
    ),
    security(("signature" = [])))]
pub async fn redeem(request: Signed) -> Result<HttpResponse, ApiError> {
    request.change(|_, body, ()| Ok(Op::Redeem(json(body)?))).await
}

/// Total supply against balances and escrows.
#[utoipa::path(get, path = "/v1/supply", tag = "cbdc",
    responses(
        (status = 200, description = "Supply, balances and escrows", body = Supply),
        Malformed, Unauthorized, TooLarge, Unavailable,
    ),
    security(("signature" = [])))]
pub async fn supply(request: Signed) -> Result<HttpResponse, ApiError> {
    let state = request.state;
    let (total_supply, balances, escrowed) = store::supply(&state.pool).await?;
    Ok(ok_json(&Supply {
        total_supply,
        balances,
        escrowed,
        max_supply: state.config.max_supply,
    }))
}
