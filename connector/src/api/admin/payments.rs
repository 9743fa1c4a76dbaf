//! `/v1/admin/payments`: the journal's payments: filtered lists, one with its event trail, and
//! a live stream of every change.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use htlc::Timestamp;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::openapi::{Malformed, NotFound, Unauthorized, Unavailable};
use crate::api::{ApiError, ApiState};
use crate::payment::{Payment, PaymentState, TrailEntry};
use crate::store::PaymentFilter;

/// A state to filter payments by: one of the payment states, or `in_flight` for every payment
/// not final yet. On the wire, `in_flight` or a [`PaymentState`]'s name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StateFilter {
    /// Every unfinished payment.
    InFlight,
    /// Payments in this state.
    Is(PaymentState),
}

/// The wire name of [`StateFilter::InFlight`].
const IN_FLIGHT: &str = "in_flight";

impl StateFilter {
    fn state(self) -> Option<PaymentState> {
        match self {
            StateFilter::InFlight => None,
            StateFilter::Is(state) => Some(state),
        }
    }
}

impl<'de> Deserialize<'de> for StateFilter {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text == IN_FLIGHT {
            return Ok(StateFilter::InFlight);
        }
        PaymentState::parse(&text).map(StateFilter::Is).ok_or_else(|| {
            serde::de::Error::invalid_value(
                serde::de::Unexpected::Str(&text),
                &"`in_flight` or a payment state",
            )
        })
    }
}

impl utoipa::PartialSchema for StateFilter {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let names = std::iter::once(IN_FLIGHT).chain(PaymentState::ALL.map(PaymentState::as_str));
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "A state to filter payments by: one of the payment states, or `in_flight` for every payment\nnot final yet.",
            ))
            .enum_values(Some(names))
            .into()
    }
}

impl ToSchema for StateFilter {}

/// Query of `GET /v1/admin/payments`. Every filter is optional; they combine.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct PaymentQuery {
    /// Only payments in this state (`in_flight`: every unfinished one).
    #[param(inline)]
    state: Option<StateFilter>,
    /// Only the payment with this end-to-end id.
    uetr: Option<Uuid>,
    /// Created at or after (RFC 3339).
    since: Option<Timestamp>,
    /// Created before (RFC 3339).
    until: Option<Timestamp>,
    /// At most this many, newest first (default 100, at most 10000).
    limit: Option<u32>,
}

/// Payments, newest first.
#[utoipa::path(get, path = "/v1/admin/payments", tag = "admin",
    params(PaymentQuery),
    responses(
        (status = 200, description = "The payments, newest first", body = [Payment]),
        Malformed, Unauthorized, Unavailable,
    ),
    security(("operator" = [])))]
pub(super) async fn list_payments(
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

/// A payment with its event trail, oldest entry first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PaymentDetail {
    #[serde(flatten)]
    payment: Payment,
    /// Every step, oldest first.
    trail: Vec<TrailEntry>,
}

/// One payment with its event trail.
#[utoipa::path(get, path = "/v1/admin/payments/{id}", tag = "admin",
    params(("id" = Uuid, Path, description = "The connector's payment id")),
    responses(
        (status = 200, description = "The payment and its trail", body = PaymentDetail),
        Malformed, Unauthorized, NotFound, Unavailable,
    ),
    security(("operator" = [])))]
pub(super) async fn payment(
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
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
        Unauthorized,
    ),
    security(("operator" = [])))]
pub(super) async fn payment_stream(state: web::Data<ApiState>) -> HttpResponse {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        for state in PaymentState::ALL {
            let q = parse(&format!("state={}", state.as_str())).unwrap();
            assert_eq!(q.state, Some(StateFilter::Is(state)));
        }
        assert!(parse("state=paid").is_err());
        assert!(parse("stat=fulfilled").is_err());
    }
}
