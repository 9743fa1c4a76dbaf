//! `/v1/accounts` and `/v1/assets`: an account's nonce, balances and history; an asset.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::problem::{Internal, Malformed, NotFound};
use super::{ApiError, Ctx, id32};
use crate::api::types::{AccountView, AssetView, TxStatus};
use crate::state::{AccountId, AssetCode};

/// An account's nonce and balances.
#[utoipa::path(get, path = "/v1/accounts/{account}", tag = "accounts",
    params(("account" = AccountId, Path, description = "Account (Ed25519 public key), hex")),
    responses((status = 200, description = "Its nonce and balances (none for an unknown account)", body = AccountView),
        Malformed, Internal))]
pub async fn account(ctx: Ctx, account: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = AccountId(id32(&account, "account")?);
    Ok(HttpResponse::Ok().json(ctx.reader.account(&id).await?))
}

/// Limit of a listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// An account's committed transactions, newest first.
#[utoipa::path(get, path = "/v1/accounts/{account}/transactions", tag = "accounts",
    params(("account" = AccountId, Path, description = "Account, hex"), ListQuery),
    responses((status = 200, description = "Its committed transactions, newest first", body = [TxStatus]),
        Malformed, Internal))]
pub async fn account_txs(
    ctx: Ctx,
    account: web::Path<String>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = AccountId(id32(&account, "account")?);
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(HttpResponse::Ok().json(ctx.reader.account_txs(&id, limit).await?))
}

/// An asset: issuer, scale, supply.
#[utoipa::path(get, path = "/v1/assets/{code}", tag = "accounts",
    params(("code" = AssetCode, Path, description = "Asset code")),
    responses((status = 200, description = "The asset", body = AssetView), Malformed, NotFound, Internal))]
pub async fn asset(ctx: Ctx, code: web::Path<String>) -> Result<HttpResponse, ApiError> {
    // A code no asset can have names no asset.
    let Ok(code) = code.parse::<AssetCode>() else {
        return Err(ApiError::NotFound("asset".into()));
    };
    match ctx.reader.asset(&code).await? {
        Some(a) => Ok(HttpResponse::Ok().json(a)),
        None => Err(ApiError::NotFound("asset".into())),
    }
}
