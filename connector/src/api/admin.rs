//! Operator routes under `/v1/admin`, all behind the bearer token (checked by the scope's
//! middleware in `api/mod.rs` before a handler runs).
//!
//! Amounts an operator sets (limits, fees) and reads as configuration (balances, limits, fees)
//! are decimals in the ledger's asset, as in the config file: `"1000.00"`. Journal records
//! (payments, reconciliation) carry minor units, as the journal and the ledgers do.
//!
//! Changes to routes, corridors and limits apply at once to new quotes and payments, and last
//! until the connector restarts: the config file stays the durable source.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use htlc::{Asset, Rate, Timestamp, money};
use plugins::AccountId;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{ApiError, ApiState, Problem};
use crate::LedgerId;
use crate::layers::limits::AccountLimits;
use crate::layers::pricing::Pricing;
use crate::layers::route::{NextHop, Route};
use crate::payment::{Payment, PaymentState, TrailEntry};
use crate::reconcile::{self, Period, Report};
use crate::store::PaymentFilter;
use crate::switch::SwitchTables;

/// Routes relative to the `/v1/admin` scope, one resource per path so that another method on
/// a known path is a 405 rather than a 404. The stream is registered before `{id}`, which would
/// otherwise take "stream" for a payment id.
pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/ledgers").get(ledgers))
        .service(web::resource("/routes").get(list_routes).put(put_route))
        .service(web::resource("/routes/{prefix}").delete(delete_route))
        .service(web::resource("/corridors").get(list_corridors).put(put_corridor))
        .service(web::resource("/corridors/{from}/{to}").delete(delete_corridor))
        .service(web::resource("/limits").get(list_limits).put(put_limits))
        .service(web::resource("/limits/{ledger}").delete(delete_ledger_limits))
        .service(web::resource("/limits/{ledger}/{account}").delete(delete_account_limits))
        .service(web::resource("/payments").get(list_payments))
        .service(web::resource("/payments/stream").get(payment_stream))
        .service(web::resource("/payments/{id}").get(payment))
        .service(web::resource("/reconciliation").get(reconciliation));
}

fn unknown_ledger(id: &LedgerId) -> ApiError {
    ApiError::unprocessable("unknown_ledger", format!("unknown ledger {id}"))
}

/// The asset of a ledger the connector holds an account on, or 422.
fn asset_of(tables: &SwitchTables, id: &LedgerId) -> Result<Asset, ApiError> {
    tables
        .ledgers
        .get(id)
        .map(|l| l.info.asset.clone())
        .ok_or_else(|| unknown_ledger(id))
}

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
pub struct LedgerView {
    /// The connector's name for the ledger.
    #[schema(value_type = String, example = "digital-euro")]
    id: LedgerId,
    /// The connector's account there.
    #[schema(value_type = String, example = "clearing-bank")]
    account: AccountId,
    /// The ledger's asset.
    #[schema(value_type = super::schema::AssetDoc)]
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
        (status = 200, body = [LedgerView]),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("operator" = [])))]
async fn ledgers(state: web::Data<ApiState>) -> Result<HttpResponse, ApiError> {
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

/// A route: destinations under `prefix` go to `ledger`. Used for input and output.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteView {
    /// ILP address prefix, matched on whole segments (longest match wins).
    #[schema(example = "test.ecny")]
    prefix: String,
    /// The ledger to forward on.
    #[schema(value_type = String, example = "e-cny")]
    ledger: LedgerId,
    /// A fixed next-hop account (e.g. another connector's). Absent: the address segment
    /// right after the prefix names the account (`test.ecny.bank-b.x` -> `bank-b`).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    account: Option<AccountId>,
}

impl From<&Route> for RouteView {
    fn from(route: &Route) -> Self {
        RouteView {
            prefix: route.prefix.clone(),
            ledger: route.ledger.clone(),
            account: match &route.next_hop {
                NextHop::AccountFromAddress => None,
                NextHop::Account(a) => Some(a.clone()),
            },
        }
    }
}

/// The routing table.
#[utoipa::path(get, path = "/v1/admin/routes", tag = "admin",
    responses((status = 200, body = [RouteView])),
    security(("operator" = [])))]
async fn list_routes(state: web::Data<ApiState>) -> HttpResponse {
    let tables = state.connector.tables();
    let out: Vec<RouteView> = tables.routes.routes().iter().map(RouteView::from).collect();
    HttpResponse::Ok().json(out)
}

/// Adds a route, or replaces the one with the same prefix.
#[utoipa::path(put, path = "/v1/admin/routes", tag = "admin",
    request_body = RouteView,
    responses(
        (status = 200, description = "The route as stored", body = RouteView),
        (status = 400, description = "malformed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "unknown_ledger", body = Problem, content_type = "application/problem+json"),
    ),
    security(("operator" = [])))]
async fn put_route(state: web::Data<ApiState>, body: web::Json<RouteView>) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if htlc::Address::new(body.prefix.trim_end_matches('.')).is_err()
        && !htlc::address::SCHEMES.contains(&body.prefix.as_str())
    {
        return Err(ApiError::bad_request(
            "malformed",
            format!("{:?} is not an ILP address prefix", body.prefix),
        ));
    }
    if !state.connector.tables().ledgers.contains_key(&body.ledger) {
        return Err(unknown_ledger(&body.ledger));
    }
    let route = Route {
        prefix: body.prefix,
        ledger: body.ledger,
        next_hop: body.account.map_or(NextHop::AccountFromAddress, NextHop::Account),
    };
    tracing::info!(prefix = %route.prefix, ledger = %route.ledger, "route set by operator");
    let view = RouteView::from(&route);
    state.connector.update_tables(|t| t.routes.insert(route));
    Ok(HttpResponse::Ok().json(view))
}

/// Removes the route with this prefix.
#[utoipa::path(delete, path = "/v1/admin/routes/{prefix}", tag = "admin",
    params(("prefix" = String, Path, description = "The route's prefix")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("operator" = [])))]
async fn delete_route(
    state: web::Data<ApiState>,
    prefix: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if state.connector.update_tables(|t| t.routes.remove(&prefix)) {
        tracing::info!(prefix = %prefix, "route removed by operator");
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found(format!("no route {prefix}")))
    }
}

/// A corridor's price as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct CorridorView {
    /// Incoming ledger.
    #[schema(value_type = String, example = "digital-euro")]
    from: LedgerId,
    /// Outgoing ledger.
    #[schema(value_type = String, example = "e-cny")]
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
pub struct CorridorBody {
    /// Incoming ledger.
    #[schema(value_type = String, example = "digital-euro")]
    from: LedgerId,
    /// Outgoing ledger.
    #[schema(value_type = String, example = "e-cny")]
    to: LedgerId,
    /// Destination major units per source major unit, decimal.
    #[schema(example = "2")]
    rate: String,
    /// Fixed fee per payment, decimal in the source asset (default 0).
    #[serde(default = "zero")]
    #[schema(example = "1.00")]
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
    responses((status = 200, body = [CorridorView])),
    security(("operator" = [])))]
async fn list_corridors(state: web::Data<ApiState>) -> HttpResponse {
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
        (status = 400, description = "malformed rate or fee", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "unknown_ledger", body = Problem, content_type = "application/problem+json"),
    ),
    security(("operator" = [])))]
async fn put_corridor(
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
    responses(
        (status = 204, description = "Removed"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("operator" = [])))]
async fn delete_corridor(
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

/// Limits of one counterparty, or of every other counterparty on a ledger when `account` is
/// absent. Used for input and output. An absent limit means none.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsView {
    /// The counterparty's ledger.
    #[schema(value_type = String, example = "digital-euro")]
    ledger: LedgerId,
    /// The counterparty's account; absent for the ledger-wide limits.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "bank-a")]
    account: Option<AccountId>,
    /// Largest single incoming payment, decimal in the ledger's asset (F08 above it).
    #[serde(default)]
    #[schema(example = "500000.00")]
    max_packet_amount: Option<String>,
    /// Largest amount in flight from this counterparty at once, decimal (T04 above it).
    #[serde(default)]
    #[schema(example = "2000000.00")]
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
    responses((status = 200, body = [LimitsView])),
    security(("operator" = [])))]
async fn list_limits(state: web::Data<ApiState>) -> HttpResponse {
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
        (status = 400, description = "malformed amount", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "unknown_ledger", body = Problem, content_type = "application/problem+json"),
    ),
    security(("operator" = [])))]
async fn put_limits(
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
    params(("ledger" = String, Path, description = "The ledger")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("operator" = [])))]
async fn delete_ledger_limits(
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
        ("ledger" = String, Path, description = "The counterparty's ledger"),
        ("account" = String, Path, description = "The counterparty"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("operator" = [])))]
async fn delete_account_limits(
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

/// A state to filter payments by: one of the payment states, or `in_flight` for every payment
/// not final yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StateFilter {
    /// Every unfinished payment.
    InFlight,
    /// Outgoing escrow being prepared.
    Forwarding,
    /// Waiting for the next hop.
    Forwarded,
    /// Claiming the incoming leg.
    Fulfilling,
    /// Both legs fulfilled.
    Fulfilled,
    /// Rejecting the incoming leg.
    Rejecting,
    /// Refunded.
    Rejected,
    /// Paid out, not paid in.
    Lost,
}

impl StateFilter {
    fn state(self) -> Option<PaymentState> {
        Some(match self {
            StateFilter::InFlight => return None,
            StateFilter::Forwarding => PaymentState::Forwarding,
            StateFilter::Forwarded => PaymentState::Forwarded,
            StateFilter::Fulfilling => PaymentState::Fulfilling,
            StateFilter::Fulfilled => PaymentState::Fulfilled,
            StateFilter::Rejecting => PaymentState::Rejecting,
            StateFilter::Rejected => PaymentState::Rejected,
            StateFilter::Lost => PaymentState::Lost,
        })
    }
}

/// Query of `GET /v1/admin/payments`. Every filter is optional; they combine.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PaymentQuery {
    /// Only payments in this state (`in_flight`: every unfinished one).
    #[param(inline)]
    state: Option<StateFilter>,
    /// Only the payment with this end-to-end id.
    #[param(value_type = Option<String>, example = "1c9a5f3e-2b7d-4e8a-9f61-0d3c5b7a9e21")]
    uetr: Option<Uuid>,
    /// Created at or after (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    since: Option<Timestamp>,
    /// Created before (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    until: Option<Timestamp>,
    /// At most this many, newest first (default 100, at most 10000).
    limit: Option<u32>,
}

/// Payments, newest first.
#[utoipa::path(get, path = "/v1/admin/payments", tag = "admin",
    params(PaymentQuery),
    responses(
        (status = 200, body = [super::schema::PaymentDoc]),
        (status = 400, description = "malformed filter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("operator" = [])))]
async fn list_payments(
    state: web::Data<ApiState>,
    query: web::Query<PaymentQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = query.limit.unwrap_or(100).clamp(1, 10_000);
    let store = state.connector.store();
    let payments: Vec<Payment> = match query.state {
        Some(StateFilter::InFlight) => {
            let mut found: Vec<Payment> = store
                .unfinished()
                .await?
                .into_iter()
                .filter(|p| query.uetr.is_none() || p.uetr == query.uetr)
                .filter(|p| query.since.is_none_or(|t| p.created_at >= t))
                .filter(|p| query.until.is_none_or(|t| p.created_at < t))
                .collect();
            found.sort_by_key(|p| std::cmp::Reverse(p.created_at));
            found.truncate(limit as usize);
            found
        }
        other => {
            let filter = PaymentFilter {
                state: other.and_then(StateFilter::state),
                uetr: query.uetr,
                since: query.since,
                until: query.until,
                limit,
            };
            store.payments(&filter).await?
        }
    };
    Ok(HttpResponse::Ok().json(payments))
}

/// A payment with its event trail.
#[derive(Debug, Serialize)]
struct PaymentDetail {
    #[serde(flatten)]
    payment: Payment,
    trail: Vec<TrailEntry>,
}

/// One payment with its event trail.
#[utoipa::path(get, path = "/v1/admin/payments/{id}", tag = "admin",
    params(("id" = String, Path, description = "The connector's payment id")),
    responses(
        (status = 200, body = super::schema::PaymentDetailDoc),
        (status = 400, description = "not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("operator" = [])))]
async fn payment(state: web::Data<ApiState>, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let store = state.connector.store();
    let payment = store
        .payment(*id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no payment {id}")))?;
    let trail = store.trail(*id).await?;
    Ok(HttpResponse::Ok().json(PaymentDetail { payment, trail }))
}

/// How often an idle stream sends a comment, so proxies and clients see it is alive.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// One server-sent event carrying a JSON value on one `data:` line (JSON text has no raw
/// newlines, so it never needs splitting).
fn sse_data(value: &impl Serialize) -> String {
    format!("data: {}\n\n", serde_json::to_string(value).unwrap_or_default())
}

/// Every payment change as it is committed, as server-sent events.
#[utoipa::path(get, path = "/v1/admin/payments/stream", tag = "admin",
    responses(
        (status = 200, content_type = "text/event-stream",
         description = "One event per committed payment change: `data: <Payment as JSON>`. Starts \
                        with a `: keep-alive` comment (repeated every 15 s when idle); nothing earlier \
                        is replayed, so list `/v1/admin/payments` to catch up. A client too slow to \
                        keep up gets `event: lagged` with `data: {\"skipped\": n}` and should list \
                        again.",
         body = String),
    ),
    security(("operator" = [])))]
async fn payment_stream(state: web::Data<ApiState>) -> HttpResponse {
    let updates = state.connector.payment_updates();
    let ticks = tokio::time::interval(KEEP_ALIVE);
    let stream = futures::stream::unfold((updates, ticks), |(mut updates, mut ticks)| async move {
        let chunk = tokio::select! {
            update = updates.recv() => match update {
                Ok(payment) => sse_data(&payment),
                Err(RecvError::Lagged(skipped)) => {
                    format!("event: lagged\n{}", sse_data(&serde_json::json!({ "skipped": skipped })))
                }
                Err(RecvError::Closed) => return None,
            },
            _ = ticks.tick() => ": keep-alive\n\n".to_owned(),
        };
        Some((
            Ok::<_, actix_web::Error>(web::Bytes::from(chunk)),
            (updates, ticks),
        ))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream)
}

/// Query of `GET /v1/admin/reconciliation`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReconciliationQuery {
    /// Period start (inclusive), RFC 3339; default: 24 hours before `until`.
    #[param(value_type = Option<String>, format = DateTime)]
    since: Option<Timestamp>,
    /// Period end (exclusive), RFC 3339; default: now.
    #[param(value_type = Option<String>, format = DateTime)]
    until: Option<Timestamp>,
    /// How far outside the period to look for bookings of payments finished inside it, ms
    /// (at most a day); default: twice the timeout ladder's longest hold.
    edge_ms: Option<u64>,
}

/// The longest edge allowance accepted: a day.
const MAX_EDGE_MS: u64 = 24 * 60 * 60 * 1000;

/// The journal against each ledger's statement for a period, every difference listed.
#[utoipa::path(get, path = "/v1/admin/reconciliation", tag = "admin",
    params(ReconciliationQuery),
    responses(
        (status = 200, description = "The report (a ledger whose statement cannot be read is listed with its error)",
         body = Report),
        (status = 400, description = "malformed or empty period", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "the journal could not be read", body = Problem, content_type = "application/problem+json"),
    ),
    security(("operator" = [])))]
async fn reconciliation(
    state: web::Data<ApiState>,
    query: web::Query<ReconciliationQuery>,
) -> Result<HttpResponse, ApiError> {
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
    fn payment_filters_parse_from_the_query_string() {
        let parse = |text: &str| web::Query::<PaymentQuery>::from_query(text).map(web::Query::into_inner);
        let q = parse("state=in_flight&since=2026-01-01T00:00:00Z&limit=5").unwrap();
        assert_eq!(q.state, Some(StateFilter::InFlight));
        assert_eq!(q.state.and_then(StateFilter::state), None);
        assert_eq!(
            q.since,
            Some(Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").unwrap())
        );
        let fulfilled = parse("state=fulfilled").unwrap();
        assert_eq!(
            fulfilled.state.and_then(StateFilter::state),
            Some(PaymentState::Fulfilled)
        );
        assert!(parse("state=paid").is_err());
        assert!(parse("stat=fulfilled").is_err());
    }

    #[test]
    fn signed_balances_show_as_decimals() {
        assert_eq!(signed_decimal(-12_345, 2), "-123.45");
        assert_eq!(signed_decimal(5, 2), "0.05");
        assert_eq!(signed_decimal(0, 0), "0");
    }
}
