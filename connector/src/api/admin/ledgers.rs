//! `GET /v1/admin/ledgers`: the ledgers the connector holds an account on, with its balances.

use actix_web::{HttpResponse, web};
use htlc::{Asset, money};
use plugins::AccountId;
use serde::Serialize;
use utoipa::ToSchema;

use crate::LedgerId;
use crate::api::openapi::Unauthorized;
use crate::api::{ApiError, ApiState};

/// A signed amount of minor units as a decimal of `scale` places.
fn signed_decimal(minor: i128, scale: u8) -> String {
    let magnitude = money::format_decimal(u64::try_from(minor.unsigned_abs()).unwrap_or(u64::MAX), scale);
    if minor < 0 {
        format!("-{magnitude}")
    } else {
        magnitude
    }
}

/// A ledger the connector holds an account on, with the account's live balance.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LedgerView {
    /// The connector's name for the ledger.
    id: LedgerId,
    /// The connector's account there.
    account: AccountId,
    /// The ledger's asset.
    asset: Asset,
    /// ILP addresses under this prefix are reached through this ledger.
    #[schema(example = "test.de")]
    ilp_prefix: String,
    /// How long a transfer change takes to be final there, ms (feeds the timeout ladder).
    expected_finality_ms: u64,
    /// Available balance, decimal in the asset (absent if the ledger could not be reached).
    #[schema(example = "1000000.00")]
    available: Option<String>,
    /// Locked in outgoing escrows, decimal.
    #[schema(example = "0.00")]
    held: Option<String>,
    /// Why the balance could not be read.
    error: Option<String>,
}

/// Every ledger with the connector's balance there.
#[utoipa::path(get, path = "/v1/admin/ledgers", tag = "admin",
    responses(
        (status = 200, description = "Each ledger, with the balance or why it could not be read", body = [LedgerView]),
        Unauthorized,
    ),
    security(("operator" = [])))]
pub(super) async fn ledgers(state: web::Data<ApiState>) -> Result<HttpResponse, ApiError> {
    let tables = state.connector.tables();
    let mut out = Vec::new();
    for (id, entry) in &tables.ledgers {
        let balance = match state.connector.ledger(id) {
            Some(plugin) => plugin.balance(&entry.account).await.map_err(|e| e.to_string()),
            None => Err("not connected".into()),
        };
        let scale = entry.info.asset.scale;
        out.push(LedgerView {
            id: id.clone(),
            account: entry.account.clone(),
            asset: entry.info.asset.clone(),
            ilp_prefix: entry.info.ilp_prefix.to_string(),
            expected_finality_ms: entry.info.expected_finality_ms,
            available: balance.as_ref().ok().map(|b| signed_decimal(b.available, scale)),
            held: balance
                .as_ref()
                .ok()
                .map(|b| money::format_decimal(b.held, scale)),
            error: balance.err(),
        });
    }
    Ok(HttpResponse::Ok().json(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_balances_show_as_decimals() {
        assert_eq!(signed_decimal(-12_345, 2), "-123.45");
        assert_eq!(signed_decimal(5, 2), "0.05");
        assert_eq!(signed_decimal(0, 0), "0");
    }
}
