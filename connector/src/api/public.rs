//! Routes for participants and monitoring.

use actix_web::{HttpResponse, web};
use uuid::Uuid;

use super::{ApiError, ApiState};
use crate::quote::{self, Quote, QuoteError, QuoteRequest};
use crate::store::{PaymentFilter, Write};

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/metrics", web::get().to(metrics))
        .route("/v1/quotes", web::post().to(create_quote))
        .route("/v1/payments/by-uetr/{uetr}", web::get().to(payment_by_uetr));
}

async fn healthz(state: web::Data<ApiState>) -> Result<HttpResponse, ApiError> {
    match state.connector.halt_reason() {
        Some(reason) => Err(ApiError::unavailable(format!("halted: {reason}"))),
        None => Ok(HttpResponse::Ok().json(serde_json::json!({
            "status": "ok",
            "in_flight": state.connector.in_flight_count(),
        }))),
    }
}

async fn metrics(state: web::Data<ApiState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.connector.metrics().render())
}

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
