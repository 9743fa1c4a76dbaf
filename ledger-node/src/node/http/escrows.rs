//! `/v1/escrows` and `/v1/anchors`: escrows by id, by reference or by payer; anchors.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::problem::{Internal, Malformed, NotFound};
use super::{ApiError, Ctx, id32};
use crate::api::types::{AnchorView, EscrowView};
use crate::state::{AccountId, EscrowId, TxId};

/// An escrow by id (`SHA-256("CYPHERLINK-ESCROW-V1" || payer || reference)`).
#[utoipa::path(get, path = "/v1/escrows/{id}", tag = "escrows",
    params(("id" = EscrowId, Path, description = "Escrow id, hex")),
    responses((status = 200, description = "The escrow as it stands", body = EscrowView), Malformed, NotFound, Internal))]
pub async fn escrow(ctx: Ctx, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = EscrowId(id32(&id, "escrow id")?);
    match ctx.reader.escrow_view(&id).await? {
        Some(e) => Ok(HttpResponse::Ok().json(e)),
        None => Err(ApiError::NotFound("escrow".into())),
    }
}

/// Which escrows to list: exactly one of `reference` or `open_payer`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EscrowsQuery {
    /// Escrows created with this 16-byte reference (hex), by any payer: how a payee that
    /// was told a transfer id finds the escrow.
    #[param(pattern = "^[0-9a-f]{32}$")]
    pub reference: Option<String>,
    /// The open (prepared) escrows this account pays, earliest expiry first: what a payer
    /// refunds once they expire.
    #[param(pattern = "^[0-9a-f]{64}$")]
    pub open_payer: Option<String>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// Escrows by reference, or a payer's open escrows.
#[utoipa::path(get, path = "/v1/escrows", tag = "escrows", params(EscrowsQuery),
    responses((status = 200, description = "The escrows found", body = [EscrowView]), Malformed, Internal))]
pub async fn escrows(ctx: Ctx, q: web::Query<EscrowsQuery>) -> Result<HttpResponse, ApiError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let found = match (&q.reference, &q.open_payer) {
        (Some(r), None) => {
            let bytes = hex::decode(r).ok().and_then(|b| <[u8; 16]>::try_from(b).ok());
            let reference =
                bytes.ok_or_else(|| ApiError::Malformed("reference must be 32 hex characters".into()))?;
            ctx.reader.escrows_by_reference(&reference, limit).await?
        }
        (None, Some(p)) => {
            let payer = AccountId(id32(p, "open_payer")?);
            ctx.reader.open_escrows_of(&payer, limit).await?
        }
        _ => {
            return Err(ApiError::Malformed(
                "give exactly one of `reference` and `open_payer`".into(),
            ));
        }
    };
    Ok(HttpResponse::Ok().json(found))
}

/// An anchor by id (its transaction's id). Its inclusion proof is the transaction's.
#[utoipa::path(get, path = "/v1/anchors/{id}", tag = "proofs",
    params(("id" = TxId, Path, description = "Anchor id, hex")),
    responses((status = 200, description = "The anchor", body = AnchorView), Malformed, NotFound, Internal))]
pub async fn anchor(ctx: Ctx, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id32(&id, "anchor id")?;
    match ctx.reader.anchor(&id).await? {
        Some(a) => Ok(HttpResponse::Ok().json(a)),
        None => Err(ApiError::NotFound("anchor".into())),
    }
}
