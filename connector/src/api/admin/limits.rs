//! `/v1/admin/limits`: per-counterparty and ledger-wide limits: list, set, remove.

use actix_web::{HttpResponse, web};
use htlc::money;
use plugins::AccountId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::asset_of;
use crate::LedgerId;
use crate::api::openapi::{Malformed, NotFound, TooLarge, Unauthorized, UnknownLedger, UnsupportedMediaType};
use crate::api::{ApiError, ApiState};
use crate::layers::limits::AccountLimits;

/// Limits of one counterparty, or of every other counterparty on a ledger when `account` is
/// absent. Used for input and output. An absent limit means none.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitsView {
    /// The counterparty's ledger.
    ledger: LedgerId,
    /// The counterparty's account; absent for the ledger-wide limits.
    #[serde(default)]
    account: Option<AccountId>,
    /// Largest single incoming payment, decimal in the ledger's asset (F08 above it).
    #[serde(default)]
    #[schema(pattern = r"^[0-9]+(\.[0-9]+)?$", example = "500000.00")]
    max_packet_amount: Option<String>,
    /// Largest amount in flight from this counterparty at once, decimal (T04 above it).
    #[serde(default)]
    #[schema(pattern = r"^[0-9]+(\.[0-9]+)?$", example = "2000000.00")]
    exposure_limit: Option<String>,
}

fn limits_view(
    ledger: &LedgerId,
    account: Option<&AccountId>,
    limits: &AccountLimits,
    scale: u8,
) -> LimitsView {
    LimitsView {
        ledger: ledger.clone(),
        account: account.cloned(),
        max_packet_amount: limits.max_packet_amount.map(|a| money::format_decimal(a, scale)),
        exposure_limit: limits.exposure_limit.map(|a| money::format_decimal(a, scale)),
    }
}

/// Every limit: ledger-wide ones first, then per counterparty.
#[utoipa::path(get, path = "/v1/admin/limits", tag = "admin",
    responses((status = 200, description = "Every limit", body = [LimitsView]), Unauthorized),
    security(("operator" = [])))]
pub(super) async fn list_limits(state: web::Data<ApiState>) -> HttpResponse {
    let tables = state.connector.tables();
    let scale = |id: &LedgerId| tables.ledgers.get(id).map_or(0, |l| l.info.asset.scale);
    let mut out: Vec<LimitsView> = tables
        .ledger_limits
        .iter()
        .map(|(ledger, limits)| limits_view(ledger, None, limits, scale(ledger)))
        .collect();
    out.extend(
        tables
            .limits
            .iter()
            .map(|((ledger, account), limits)| limits_view(ledger, Some(account), limits, scale(ledger))),
    );
    HttpResponse::Ok().json(out)
}

/// Sets the limits of a counterparty (or a ledger), replacing what was there.
#[utoipa::path(put, path = "/v1/admin/limits", tag = "admin",
    request_body = LimitsView,
    responses(
        (status = 200, description = "The limits as stored", body = LimitsView),
        Malformed, Unauthorized, TooLarge, UnsupportedMediaType, UnknownLedger,
    ),
    security(("operator" = [])))]
pub(super) async fn put_limits(
    state: web::Data<ApiState>,
    body: web::Json<LimitsView>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let scale = asset_of(&state.connector.tables(), &body.ledger)?.scale;
    let amount = |field: &str, text: &Option<String>| {
        text.as_deref()
            .map(|t| money::parse_decimal(t, scale))
            .transpose()
            .map_err(|e| ApiError::bad_request("malformed", format!("{field}: {e}")))
    };
    let limits = AccountLimits {
        max_packet_amount: amount("max_packet_amount", &body.max_packet_amount)?,
        exposure_limit: amount("exposure_limit", &body.exposure_limit)?,
    };
    tracing::info!(ledger = %body.ledger, account = ?body.account, ?limits, "limits set by operator");
    state.connector.update_tables(|t| match &body.account {
        Some(account) => t.limits.insert((body.ledger.clone(), account.clone()), limits),
        None => t.ledger_limits.insert(body.ledger.clone(), limits),
    });
    Ok(HttpResponse::Ok().json(limits_view(&body.ledger, body.account.as_ref(), &limits, scale)))
}

/// Removes a ledger's ledger-wide limits.
#[utoipa::path(delete, path = "/v1/admin/limits/{ledger}", tag = "admin",
    params(("ledger" = LedgerId, Path, description = "The ledger")),
    responses((status = 204, description = "Removed"), Malformed, Unauthorized, NotFound),
    security(("operator" = [])))]
pub(super) async fn delete_ledger_limits(
    state: web::Data<ApiState>,
    ledger: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let ledger = LedgerId::new(ledger.into_inner());
    if state
        .connector
        .update_tables(|t| t.ledger_limits.remove(&ledger))
        .is_some()
    {
        tracing::info!(%ledger, "ledger-wide limits removed by operator");
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found(format!("no ledger-wide limits on {ledger}")))
    }
}

/// Removes a counterparty's own limits (the ledger-wide ones apply to it again).
#[utoipa::path(delete, path = "/v1/admin/limits/{ledger}/{account}", tag = "admin",
    params(
        ("ledger" = LedgerId, Path, description = "The counterparty's ledger"),
        ("account" = AccountId, Path, description = "The counterparty"),
    ),
    responses((status = 204, description = "Removed"), Malformed, Unauthorized, NotFound),
    security(("operator" = [])))]
pub(super) async fn delete_account_limits(
    state: web::Data<ApiState>,
    path: web::Path<(String, AccountId)>,
) -> Result<HttpResponse, ApiError> {
    let (ledger, account) = path.into_inner();
    let key = (LedgerId::new(ledger), account);
    if state.connector.update_tables(|t| t.limits.remove(&key)).is_some() {
        tracing::info!(ledger = %key.0, account = %key.1, "counterparty limits removed by operator");
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found(format!(
            "no limits for {} on {}",
            key.1, key.0
        )))
    }
}
