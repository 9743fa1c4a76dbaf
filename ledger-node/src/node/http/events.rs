//! `GET /v1/events`: the event feed (escrows and anchors in commit order), with a long poll.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::problem::{Internal, Malformed};
use super::{ApiError, Ctx};
use crate::api::types::EventPage;

/// Feed position and wait.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Events after this cursor (0 = from the start).
    #[serde(default)]
    pub after: u64,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
    /// Wait up to this long for the first event, ms (long poll; default 0, at most 60000).
    #[serde(default)]
    pub wait_ms: u64,
}

/// The event feed: escrows created, fulfilled (with the preimage), rejected and refunded, and
/// anchors, in commit order. Cursors are the same on every node. Long poll with `wait_ms`.
#[utoipa::path(get, path = "/v1/events", tag = "events", params(EventsQuery),
    responses((status = 200, description = "The events (none if the wait ran out) and where to resume", body = EventPage),
        Malformed, Internal))]
pub async fn events(ctx: Ctx, q: web::Query<EventsQuery>) -> Result<HttpResponse, ApiError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let mut rx = ctx.committed.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(q.wait_ms.min(60_000));
    loop {
        let events = ctx.reader.events_after(q.after, limit).await?;
        if !events.is_empty() || tokio::time::Instant::now() >= deadline {
            let next = events.last().map_or(q.after, |e| e.cursor);
            return Ok(HttpResponse::Ok().json(EventPage { events, next }));
        }
        if rx.borrow_and_update().last_event > q.after {
            continue;
        }
        if tokio::time::timeout_at(deadline, rx.changed()).await.is_err() {
            continue;
        }
    }
}
