//! Operator routes under `/v1/admin`, all behind the bearer token.

use actix_web::{HttpRequest, HttpResponse, web};
use htlc::{Asset, Rate, Timestamp, money};
use plugins::AccountId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ApiError, ApiState, require_operator};
use crate::LedgerId;
use crate::layers::limits::AccountLimits;
use crate::layers::pricing::Pricing;
use crate::layers::route::{NextHop, Route};
use crate::payment::{Payment, TrailEntry};
use crate::reconcile::{self, Period};
use crate::store::PaymentFilter;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/admin/ledgers", web::get().to(ledgers))
        .route("/v1/admin/routes", web::get().to(list_routes))
        .route("/v1/admin/routes", web::put().to(put_route))
        .route("/v1/admin/routes/{prefix}", web::delete().to(delete_route))
        .route("/v1/admin/corridors", web::get().to(list_corridors))
        .route("/v1/admin/corridors", web::put().to(put_corridor))
        .route("/v1/admin/limits", web::get().to(list_limits))
        .route("/v1/admin/limits", web::put().to(put_limits))
        .route("/v1/admin/payments", web::get().to(list_payments))
        .route("/v1/admin/payments/{id}", web::get().to(payment))
        .route("/v1/admin/reconciliation", web::get().to(reconciliation));
}

/// A ledger as the operator sees it.
#[derive(Debug, Serialize)]
struct LedgerView {
    id: LedgerId,
    account: AccountId,
    asset: Asset,
    ilp_prefix: String,
    expected_finality_ms: u64,
    /// Live balance (minor units), or the error reaching the ledger.
    available: Option<String>,
    held: Option<String>,
    error: Option<String>,
}

async fn ledgers(state: web::Data<ApiState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    require_operator(&state, &req)?;
    let tables = state.connector.tables();
    let mut out = Vec::new();
    for (id, entry) in &tables.ledgers {
        let balance = match state.connector.ledger(id) {
            Some(plugin) => plugin.balance(&entry.account).await.map_err(|e| e.to_string()),
            None => Err("not connected".into()),
        };
        out.push(LedgerView {
            id: id.clone(),
            account: entry.account.clone(),
            asset: entry.info.asset.clone(),
            ilp_prefix: entry.info.ilp_prefix.to_string(),
            expected_finality_ms: entry.info.expected_finality_ms,
            available: balance.as_ref().ok().map(|b| b.available.to_string()),
            held: balance.as_ref().ok().map(|b| b.held.to_string()),
            error: balance.err(),
        });
    }
    Ok(HttpResponse::Ok().json(out))
}

async fn list_routes(state: web::Data<ApiState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    require_operator(&state, &req)?;
    Ok(HttpResponse::Ok().json(state.connector.tables().routes.routes()))
}

/// Body of `PUT /v1/admin/routes`.
#[derive(Debug, Deserialize)]
struct RouteBody {
    prefix: String,
    ledger: LedgerId,
    #[serde(default)]
    account: Option<AccountId>,
}

async fn put_route(
    state: web::Data<ApiState>,
    req: HttpRequest,
    body: web::Json<RouteBody>,
) -> Result<HttpResponse, ApiError> {
    require_operator(&state, &req)?;
    let body = body.into_inner();
    if htlc::Address::new(body.prefix.trim_end_matches('.')).is_err()
        && !htlc::address::SCHEMES.contains(&body.prefix.as_str())
    {
        return Err(ApiError::bad_request(
            "malformed",
            format!("{:?} is not an ILP address prefix", body.prefix),
        ));
    }
    let known = state.connector.tables().ledgers.contains_key(&body.ledger);
    if !known {
        return Err(ApiError::unprocessable(
            "unknown_ledger",
            format!("unknown ledger {}", body.ledger),
        ));
    }
    let route = Route {
        prefix: body.prefix,
        ledger: body.ledger,
        next_hop: body.account.map_or(NextHop::AccountFromAddress, NextHop::Account),
    };
    tracing::info!(prefix = %route.prefix, ledger = %route.ledger, "route set by operator");
    state.connector.update_tables(|t| t.routes.insert(route.clone()));
    Ok(HttpResponse::Ok().json(route))
}

async fn delete_route(
    state: web::Data<ApiState>,
    req: HttpRequest,
    prefix: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_operator(&state, &req)?;
    if state.connector.update_tables(|t| t.routes.remove(&prefix)) {
        tracing::info!(prefix = %prefix, "route removed by operator");
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found(format!("no route {prefix}")))
    }
}

/// A corridor's price, in the ledgers' major units.
#[derive(Debug, Serialize, Deserialize)]
struct CorridorView {
    from: LedgerId,
    to: LedgerId,
    /// Destination major units per source major unit (decimal), on input; `n/d` in minor units
    /// on output, with `rate_decimal` beside it.
    rate: String,
    #[serde(default)]
    rate_minor_units: Option<String>,
    /// Fixed fee, source major units.
    fee_fixed: String,
    #[serde(default)]
    fee_bps: u32,
}

async fn list_corridors(state: web::Data<ApiState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    require_operator(&state, &req)?;
    let tables = state.connector.tables();
    let scale = |id: &LedgerId| tables.ledgers.get(id).map_or(0, |l| l.info.asset.scale);
    let out: Vec<CorridorView> = tables
        .pricing
        .iter()
        .map(|((from, to), p)| CorridorView {
            rate: major_rate(&p.rate, scale(from), scale(to)),
            rate_minor_units: Some(p.rate.to_string()),
            fee_fixed: money::format_decimal(p.fee_fixed, scale(from)),
            fee_bps: p.fee_bps,
            from: from.clone(),
            to: to.clone(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
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

async fn put_corridor(
    state: web::Data<ApiState>,
    req: HttpRequest,
    body: web::Json<CorridorView>,
) -> Result<HttpResponse, ApiError> {
    require_operator(&state, &req)?;
    let tables = state.connector.tables();
    let scale = |id: &LedgerId| {
        tables
            .ledgers
            .get(id)
            .map(|l| l.info.asset.scale)
            .ok_or_else(|| ApiError::unprocessable("unknown_ledger", format!("unknown ledger {id}")))
    };
    let (from_scale, to_scale) = (scale(&body.from)?, scale(&body.to)?);
    let rate = Rate::from_decimal(&body.rate, from_scale, to_scale)
        .map_err(|e| ApiError::bad_request("malformed", format!("rate: {e}")))?;
    let fee_fixed = money::parse_decimal(&body.fee_fixed, from_scale)
        .map_err(|e| ApiError::bad_request("malformed", format!("fee_fixed: {e}")))?;
    let pricing = Pricing::new(rate, fee_fixed, body.fee_bps)
        .map_err(|e| ApiError::bad_request("malformed", e.to_string()))?;
    tracing::info!(from = %body.from, to = %body.to, rate = %body.rate, "corridor price set by operator");
    state
        .connector
        .update_tables(|t| t.pricing.insert((body.from.clone(), body.to.clone()), pricing));
    Ok(HttpResponse::Ok().json(&*body))
}

/// Limits of one counterparty (or a whole ledger), minor units.
#[derive(Debug, Serialize, Deserialize)]
struct LimitsView {
    ledger: LedgerId,
    #[serde(default)]
    account: Option<AccountId>,
    #[serde(flatten)]
    limits: AccountLimits,
}

async fn list_limits(state: web::Data<ApiState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    require_operator(&state, &req)?;
    let tables = state.connector.tables();
    let mut out: Vec<LimitsView> = tables
        .ledger_limits
        .iter()
        .map(|(ledger, limits)| LimitsView {
            ledger: ledger.clone(),
            account: None,
            limits: *limits,
        })
        .collect();
    out.extend(
        tables
            .limits
            .iter()
            .map(|((ledger, account), limits)| LimitsView {
                ledger: ledger.clone(),
                account: Some(account.clone()),
                limits: *limits,
            }),
    );
    Ok(HttpResponse::Ok().json(out))
}

async fn put_limits(
    state: web::Data<ApiState>,
    req: HttpRequest,
    body: web::Json<LimitsView>,
) -> Result<HttpResponse, ApiError> {
    require_operator(&state, &req)?;
    if !state.connector.tables().ledgers.contains_key(&body.ledger) {
        return Err(ApiError::unprocessable(
            "unknown_ledger",
            format!("unknown ledger {}", body.ledger),
        ));
    }
    state.connector.update_tables(|t| match &body.account {
        Some(account) => t
            .limits
            .insert((body.ledger.clone(), account.clone()), body.limits),
        None => t.ledger_limits.insert(body.ledger.clone(), body.limits),
    });
    Ok(HttpResponse::Ok().json(&*body))
}

async fn list_payments(
    state: web::Data<ApiState>,
    req: HttpRequest,
    filter: web::Query<PaymentFilter>,
) -> Result<HttpResponse, ApiError> {
    require_operator(&state, &req)?;
    Ok(HttpResponse::Ok().json(state.connector.store().payments(&filter).await?))
}

/// A payment with its event trail.
#[derive(Debug, Serialize)]
struct PaymentDetail {
    #[serde(flatten)]
    payment: Payment,
    trail: Vec<TrailEntry>,
}

async fn payment(
    state: web::Data<ApiState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    require_operator(&state, &req)?;
    let store = state.connector.store();
    let payment = store
        .payment(*id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no payment {id}")))?;
    let trail = store.trail(*id).await?;
    Ok(HttpResponse::Ok().json(PaymentDetail { payment, trail }))
}

/// Query of `GET /v1/admin/reconciliation`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReconciliationQuery {
    /// Period start (inclusive), RFC 3339; default: 24 hours before `until`.
    since: Option<Timestamp>,
    /// Period end (exclusive), RFC 3339; default: now.
    until: Option<Timestamp>,
    /// How far outside the period to look for bookings of payments finished inside it, ms;
    /// default: twice the longest hold of the timeout ladder.
    edge_ms: Option<u64>,
}

/// The longest edge allowance accepted: a day.
const MAX_EDGE_MS: u64 = 24 * 60 * 60 * 1000;

async fn reconciliation(
    state: web::Data<ApiState>,
    req: HttpRequest,
    query: web::Query<ReconciliationQuery>,
) -> Result<HttpResponse, ApiError> {
    require_operator(&state, &req)?;
    let connector = &state.connector;
    let until = query.until.unwrap_or_else(|| connector.now());
    let since = match query.since {
        Some(since) => since,
        None => until
            .checked_add_millis(-24 * 60 * 60 * 1000)
            .unwrap_or(Timestamp::UNIX_EPOCH),
    };
    if since >= until {
        return Err(ApiError::bad_request(
            "malformed",
            format!("the period is empty: since {since} is not before until {until}"),
        ));
    }
    let edge_ms = query
        .edge_ms
        .unwrap_or_else(|| connector.tables().expiry.max_hold_ms.saturating_mul(2));
    if edge_ms > MAX_EDGE_MS {
        return Err(ApiError::bad_request(
            "malformed",
            format!("edge_ms {edge_ms} is more than a day ({MAX_EDGE_MS})"),
        ));
    }
    let period = Period {
        since,
        until,
        edge_ms,
    };
    let report = reconcile::report(connector, period).await?;
    tracing::info!(
        %since, %until, reconciled = report.reconciled, unexplained = report.unexplained,
        "reconciliation report"
    );
    Ok(HttpResponse::Ok().json(report))
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

    #[test]
    fn timestamps_filter_parse() {
        let f: PaymentFilter =
            serde_json::from_str(r#"{"state":"fulfilled","since":"2026-01-01T00:00:00Z"}"#).unwrap();
        assert_eq!(f.limit, 100);
        assert_eq!(
            f.since,
            Some(Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").unwrap())
        );
    }
}
