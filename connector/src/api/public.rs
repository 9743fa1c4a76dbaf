//! Routes for participants and monitoring.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::openapi::{
    Malformed, NotFound, QuoteRefused, TooLarge, Unauthorized, Unavailable, UnsupportedMediaType,
};
use super::{ApiError, ApiState};
use crate::payment::Payment;
use crate::quote::{self, Quote, QuoteError, QuoteRequest};
use crate::store::{PaymentFilter, Write};

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").get(healthz))
        .service(
            web::resource("/metrics")
                .wrap(actix_web::middleware::from_fn(super::operator_only))
                .get(metrics),
        )
        .service(web::resource("/v1/quotes").post(create_quote))
        .service(web::resource("/v1/payments/by-uetr/{uetr}").get(payment_by_uetr));
}

/// `GET /healthz` when the connector is working.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Health {
    /// `ok`.
    #[schema(example = "ok")]
    status: &'static str,
    /// Payments not yet final.
    #[schema(example = 0)]
    in_flight: u64,
}

htlc::problem_responses! {
    /// The engine stopped.
    Halted = 503, "`unavailable`: the engine has halted (its journal failed); restart to recover";
}

/// Liveness: 200 while the engine runs, 503 once it has halted (its journal failed).
#[utoipa::path(get, path = "/healthz", tag = "monitoring",
    responses((status = 200, description = "The engine runs", body = Health), Halted))]
async fn healthz(state: web::Data<ApiState>) -> Result<HttpResponse, ApiError> {
    match state.connector.halt_reason() {
        Some(reason) => Err(ApiError::unavailable(format!("halted: {reason}"))),
        None => Ok(HttpResponse::Ok().json(Health {
            status: "ok",
            in_flight: state.connector.in_flight_count() as u64,
        })),
    }
}

/// Prometheus metrics: payments by outcome, amounts, fees, in-flight count, latency, ledger
/// errors, liquidity. They tell the clearing bank's liquidity, so they need the operator
/// token here; `[api] metrics_listen` serves them without one on a listener of their own.
#[utoipa::path(get, path = "/metrics", tag = "monitoring",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain"),
        Unauthorized),
    security(("operator" = [])))]
pub(super) async fn metrics(state: web::Data<ApiState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.connector.metrics().render())
}

/// A quote: what to escrow, to whom and with which expiry to deliver an amount (or what an
/// amount delivers). Refused before anything is promised if there is no route or rate, a limit
/// or the timeout ladder does not allow it, or the payee's ledger says it cannot receive it.
#[utoipa::path(post, path = "/v1/quotes", tag = "payments",
    request_body = QuoteRequest,
    responses(
        (status = 201, description = "The quote, valid until `valid_until`", body = Quote),
        Malformed, TooLarge, UnsupportedMediaType, QuoteRefused, Unavailable,
    ))]
async fn create_quote(
    state: web::Data<ApiState>,
    body: web::Json<QuoteRequest>,
) -> Result<HttpResponse, ApiError> {
    let connector = &state.connector;
    let quote = quote::quote(&connector.tables(), &body, &state.quote_policy, connector.now())
        .map_err(quote_error)?;
    check_payee_capacity(&state, &quote).await?;
    connector
        .store()
        .commit(vec![Write::Quote {
            id: quote.id,
            created_at: connector.now(),
            expires_at: quote.valid_until,
            body: serde_json::to_string(&quote).unwrap_or_default(),
        }])
        .await?;
    tracing::info!(quote = %quote.id, source = quote.source_amount, destination = quote.destination_amount, "quote issued");
    Ok(HttpResponse::Created().json(quote))
}

/// Refuses a quote the payee's ledger says cannot be received (CBDC wallet tier or holding
/// limits), before anything is promised.
async fn check_payee_capacity(state: &ApiState, quote: &Quote) -> Result<(), ApiError> {
    let Some(plugin) = state.connector.ledger(&quote.destination_ledger) else {
        return Ok(());
    };
    match plugin.receivable(&quote.destination_account).await {
        Ok(Some(capacity)) if capacity < quote.destination_amount => {
            Err(quote_error(QuoteError::PayeeCapacity {
                account: quote.destination_account.clone(),
                capacity,
            }))
        }
        Ok(_) => Ok(()),
        Err(plugins::PluginError::UnknownAccount { account }) => Err(ApiError::unprocessable(
            "unknown_payee",
            format!("{account} has no account on {}", quote.destination_ledger),
        )),
        Err(e) => Err(ApiError::unavailable(format!("payee ledger: {e}"))),
    }
}

fn quote_error(e: QuoteError) -> ApiError {
    let code = match &e {
        QuoteError::AmountMissing => return ApiError::bad_request("malformed", e.to_string()),
        QuoteError::UnknownLedger(_) => "unknown_ledger",
        QuoteError::NoRoute(_) => "no_route",
        QuoteError::Pricing(_) => "amount_too_small",
        QuoteError::Limit(_) => "limit_exceeded",
        QuoteError::Timeout(_) => "insufficient_timeout",
        QuoteError::PayeeCapacity { .. } => "payee_cannot_receive",
    };
    ApiError::unprocessable(code, e.to_string())
}

/// A payment's status by its end-to-end id (the random UETR is the capability: no token).
#[utoipa::path(get, path = "/v1/payments/by-uetr/{uetr}", tag = "payments",
    params(("uetr" = Uuid, Path, description = "End-to-end id (UUID)")),
    responses(
        (status = 200, description = "The connector's records of it (one per leg pair)", body = [Payment]),
        Malformed, NotFound, Unavailable,
    ))]
async fn payment_by_uetr(
    state: web::Data<ApiState>,
    uetr: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let filter = PaymentFilter {
        uetr: Some(*uetr),
        limit: 20,
        ..PaymentFilter::default()
    };
    let payments = state.connector.store().payments(&filter).await?;
    if payments.is_empty() {
        return Err(ApiError::not_found(format!("no payment with UETR {uetr}")));
    }
    Ok(HttpResponse::Ok().json(payments))
}
