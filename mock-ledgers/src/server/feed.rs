//! The event feed for consumers that cannot receive webhooks: a long poll
//! (`GET /v1/events?after=&wait_ms=`) and server-sent events (`GET /v1/events/stream`, resuming
//! from `Last-Event-ID`). Both read committed events after a cursor, so a consumer that keeps
//! the cursor of the last event it processed neither misses nor repeats one across reconnects.

use std::time::Duration;

use actix_web::HttpResponse;
use bytes::Bytes;
use sqlx::SqlitePool;
use tokio::time::Instant;

use crate::openapi::{Malformed, TooLarge, Unauthorized, Unavailable};
use crate::server::http::{ApiError, Signed};
use crate::server::store::{self, StoreError};
use crate::server::tail::EventTail;
use plugins::api::{EventsQuery, StreamQuery};
use plugins::error::PluginError;
use plugins::plugin::{EventCursor, EventPage, LedgerEvent};

/// Most events one page carries.
pub const MAX_PAGE: u32 = 500;
const KEEPALIVE: Duration = Duration::from_secs(15);

fn malformed(e: impl std::fmt::Display) -> ApiError {
    ApiError(PluginError::Malformed {
        reason: e.to_string(),
    })
}

/// Up to `limit` events after `after` that `participant` may see: from the in-memory tail when
/// it still holds them, otherwise from SQLite.
pub async fn events_after(
    pool: &SqlitePool,
    tail: &EventTail,
    participant: &str,
    after: EventCursor,
    limit: u32,
) -> Result<Vec<LedgerEvent>, StoreError> {
    match tail.after(participant, after, limit as usize) {
        Some(events) => Ok(events),
        None => store::events_after(pool, participant, after, limit).await,
    }
}

/// Events after a cursor, waiting up to `wait_ms` for the first.
#[utoipa::path(get, path = "/v1/events", tag = "events",
    params(EventsQuery),
    responses(
        (status = 200, description = "The events (none if the wait ran out) and where to resume", body = EventPage),
        Malformed, Unauthorized, TooLarge, Unavailable,
    ),
    security(("signature" = [])))]
pub async fn long_poll(request: Signed) -> Result<HttpResponse, ApiError> {
    let query: EventsQuery = request.query()?;
    let Signed { caller, state, .. } = request;
    let after = EventCursor(query.after.unwrap_or(0));
    let limit = query.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    let wait = Duration::from_millis(query.wait_ms.unwrap_or(0).min(state.config.server.max_wait_ms));
    let deadline = Instant::now() + wait;
    let mut signal = state.signals.events.clone();
    loop {
        // Mark the current commit as seen before reading, so a commit after the read wakes us.
        signal.borrow_and_update();
        let events = events_after(
            &state.pool,
            &state.signals.tail,
            &caller.participant,
            after,
            limit,
        )
        .await?;
        if !events.is_empty() || Instant::now() >= deadline {
            let next = events.last().map(|e| e.cursor).unwrap_or(after);
            return Ok(HttpResponse::Ok().json(EventPage { events, next }));
        }
        match tokio::time::timeout_at(deadline, signal.changed()).await {
            Ok(Ok(())) | Err(_) => continue,
            Ok(Err(_)) => {
                return Ok(HttpResponse::Ok().json(EventPage { events, next: after }));
            }
        }
    }
}

/// Server-sent events: `id:` is the cursor, `event:` the kind, `data:` the event JSON.
#[utoipa::path(get, path = "/v1/events/stream", tag = "events",
    params(StreamQuery, ("Last-Event-ID" = Option<u64>, Header, description = "Resume after this cursor")),
    responses(
        (status = 200, description = "text/event-stream of LedgerEvent", content_type = "text/event-stream"),
        Malformed, Unauthorized, TooLarge,
    ),
    security(("signature" = [])))]
pub async fn stream(request: Signed) -> Result<HttpResponse, ApiError> {
    let query: StreamQuery = request.query()?;
    let Signed {
        caller, state, req, ..
    } = request;
    let last_event_id = req
        .headers()
        .get("Last-Event-ID")
        .map(|v| {
            v.to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| malformed("invalid Last-Event-ID"))
        })
        .transpose()?;
    let after = EventCursor(last_event_id.or(query.after).unwrap_or(0));
    let signal = state.signals.events.clone();
    let participant = caller.participant;
    let body = futures::stream::unfold(
        (state, signal, after, true),
        move |(state, mut signal, after, open)| {
            let participant = participant.clone();
            async move {
                if !open {
                    return None;
                }
                loop {
                    signal.borrow_and_update();
                    let read = events_after(&state.pool, &state.signals.tail, &participant, after, 100);
                    let events = match read.await {
                        Ok(e) => e,
                        Err(e) => {
                            let chunk = Bytes::from(format!("event: error\ndata: {e}\n\n"));
                            return Some((Ok::<_, actix_web::Error>(chunk), (state, signal, after, false)));
                        }
                    };
                    if let Some(last) = events.last().map(|e| e.cursor) {
                        let mut text = String::new();
                        for e in &events {
                            let data = serde_json::to_string(e).unwrap_or_default();
                            let kind = serde_json::to_value(e.kind)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_owned))
                                .unwrap_or_default();
                            text.push_str(&format!("id: {}\nevent: {kind}\ndata: {data}\n\n", e.cursor.0));
                        }
                        return Some((Ok(Bytes::from(text)), (state, signal, last, true)));
                    }
                    match tokio::time::timeout(KEEPALIVE, signal.changed()).await {
                        Ok(Ok(())) => continue,
                        Ok(Err(_)) => return None,
                        Err(_) => {
                            return Some((
                                Ok(Bytes::from_static(b": keepalive\n\n")),
                                (state, signal, after, true),
                            ));
                        }
                    }
                }
            }
        },
    );
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .streaming(body))
}
