//! `/v1/admin/corridors`: each corridor's price (rate and fees): list, set, remove.

use actix_web::{HttpResponse, web};
use htlc::{Rate, money};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::asset_of;
use crate::LedgerId;
use crate::api::openapi::{Malformed, NotFound, TooLarge, Unauthorized, UnknownLedger, UnsupportedMediaType};
use crate::api::{ApiError, ApiState};
use crate::layers::pricing::Pricing;
use crate::switch::SwitchTables;

/// A corridor's price as stored.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CorridorView {
    /// Incoming ledger.
    from: LedgerId,
    /// Outgoing ledger.
    to: LedgerId,
    /// Destination major units per source major unit, decimal (shown to 8 places).
    #[schema(example = "2")]
    rate: String,
    /// The exact rate in minor units, `n/d`.
    #[schema(example = "2/1")]
    rate_minor_units: String,
    /// Fixed fee per payment, decimal in the source asset.
    #[schema(example = "1.00")]
    fee_fixed: String,
    /// Proportional fee, basis points of the amount.
    fee_bps: u32,
}

/// Body of `PUT /v1/admin/corridors`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CorridorBody {
    /// Incoming ledger.
    from: LedgerId,
    /// Outgoing ledger.
    to: LedgerId,
    /// Destination major units per source major unit, decimal.
    #[schema(pattern = r"^[0-9]+(\.[0-9]+)?$", example = "2")]
    rate: String,
    /// Fixed fee per payment, decimal in the source asset (default 0).
    #[serde(default = "zero")]
    #[schema(pattern = r"^[0-9]+(\.[0-9]+)?$", example = "1.00")]
    fee_fixed: String,
    /// Proportional fee, basis points (default 0).
    #[serde(default)]
    fee_bps: u32,
}

fn zero() -> String {
    "0".into()
}

fn corridor_view(tables: &SwitchTables, from: &LedgerId, to: &LedgerId, p: &Pricing) -> CorridorView {
    let scale = |id: &LedgerId| tables.ledgers.get(id).map_or(0, |l| l.info.asset.scale);
    CorridorView {
        rate: major_rate(&p.rate, scale(from), scale(to)),
        rate_minor_units: p.rate.to_string(),
        fee_fixed: money::format_decimal(p.fee_fixed, scale(from)),
        fee_bps: p.fee_bps,
        from: from.clone(),
        to: to.clone(),
    }
}

/// Every corridor's price.
#[utoipa::path(get, path = "/v1/admin/corridors", tag = "admin",
    responses((status = 200, description = "Every corridor's price", body = [CorridorView]), Unauthorized),
    security(("operator" = [])))]
pub(super) async fn list_corridors(state: web::Data<ApiState>) -> HttpResponse {
    let tables = state.connector.tables();
    let out: Vec<CorridorView> = tables
        .pricing
        .iter()
        .map(|((from, to), p)| corridor_view(&tables, from, to, p))
        .collect();
    HttpResponse::Ok().json(out)
}

/// The minor-unit rate shown in major units, to 8 decimals (display only).
fn major_rate(rate: &Rate, from_scale: u8, to_scale: u8) -> String {
    let shown = 8u32;
    let numerator = rate.numerator() * 10u128.pow(u32::from(from_scale) + shown);
    let denominator = rate.denominator() * 10u128.pow(u32::from(to_scale));
    let value = numerator / denominator;
    let text = format!("{}.{:0>8}", value / 10u128.pow(shown), value % 10u128.pow(shown));
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Sets the price of a corridor (adding it if new): new quotes and payments use it at once.
#[utoipa::path(put, path = "/v1/admin/corridors", tag = "admin",
    request_body = CorridorBody,
    responses(
        (status = 200, description = "The corridor as stored", body = CorridorView),
        Malformed, Unauthorized, TooLarge, UnsupportedMediaType, UnknownLedger,
    ),
    security(("operator" = [])))]
pub(super) async fn put_corridor(
    state: web::Data<ApiState>,
    body: web::Json<CorridorBody>,
) -> Result<HttpResponse, ApiError> {
    let tables = state.connector.tables();
    let from_scale = asset_of(&tables, &body.from)?.scale;
    let to_scale = asset_of(&tables, &body.to)?.scale;
    let rate = Rate::from_decimal(&body.rate, from_scale, to_scale)
        .map_err(|e| ApiError::bad_request("malformed", format!("rate: {e}")))?;
    let fee_fixed = money::parse_decimal(&body.fee_fixed, from_scale)
        .map_err(|e| ApiError::bad_request("malformed", format!("fee_fixed: {e}")))?;
    let pricing = Pricing::new(rate, fee_fixed, body.fee_bps)
        .map_err(|e| ApiError::bad_request("malformed", e.to_string()))?;
    tracing::info!(from = %body.from, to = %body.to, rate = %body.rate, fee_fixed = %body.fee_fixed,
        fee_bps = body.fee_bps, "corridor price set by operator");
    state
        .connector
        .update_tables(|t| t.pricing.insert((body.from.clone(), body.to.clone()), pricing));
    Ok(HttpResponse::Ok().json(corridor_view(&tables, &body.from, &body.to, &pricing)))
}

/// Removes a corridor: no more quotes or payments from `from` to `to`.
#[utoipa::path(delete, path = "/v1/admin/corridors/{from}/{to}", tag = "admin",
    params(
        ("from" = String, Path, description = "Incoming ledger"),
        ("to" = String, Path, description = "Outgoing ledger"),
    ),
    responses((status = 204, description = "Removed"), Malformed, Unauthorized, NotFound),
    security(("operator" = [])))]
pub(super) async fn delete_corridor(
    state: web::Data<ApiState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (from, to) = path.into_inner();
    let key = (LedgerId::new(from), LedgerId::new(to));
    if state
        .connector
        .update_tables(|t| t.pricing.remove(&key))
        .is_some()
    {
        tracing::info!(from = %key.0, to = %key.1, "corridor removed by operator");
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found(format!("no corridor {} -> {}", key.0, key.1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_display_in_major_units() {
        assert_eq!(major_rate(&Rate::from_decimal("2", 2, 2).unwrap(), 2, 2), "2");
        assert_eq!(
            major_rate(&Rate::from_decimal("0.1375", 2, 2).unwrap(), 2, 2),
            "0.1375"
        );
        assert_eq!(major_rate(&Rate::from_decimal("7.5", 2, 9).unwrap(), 2, 9), "7.5");
    }
}
