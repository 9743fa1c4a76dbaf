//! `GET /v1/admin/reconciliation`: the journal against each ledger's statement for a period.

use actix_web::{HttpResponse, web};
use htlc::Timestamp;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::openapi::{Malformed, Unauthorized, Unavailable};
use crate::api::{ApiError, ApiState};
use crate::reconcile::{self, Period, Report};

/// Query of `GET /v1/admin/reconciliation`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReconciliationQuery {
    /// Period start (inclusive), RFC 3339; default: 24 hours before `until`.
    since: Option<Timestamp>,
    /// Period end (exclusive), RFC 3339; default: now.
    until: Option<Timestamp>,
    /// How far outside the period to look for bookings of payments finished inside it, ms
    /// (at most a day); default: twice the timeout ladder's longest hold.
    #[param(maximum = 86_400_000)]
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
        Malformed, Unauthorized, Unavailable,
    ),
    security(("operator" = [])))]
pub(super) async fn reconciliation(
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
