//! [`subscribe`]: any [`LedgerPlugin`]'s event log as a resumable [`Stream`].
//!
//! The stream long-polls [`LedgerPlugin::events`] from a cursor. A consumer records the cursor
//! of each event it has processed (durably, with the processing) and, after a crash or
//! disconnect, subscribes again from that cursor: it sees every later event exactly once.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;

use crate::error::PluginError;
use crate::plugin::{EventCursor, LedgerEvent, LedgerPlugin};

/// Events per long poll.
const PAGE: u32 = 200;

/// Events after `after`, in order, waiting up to `wait` per poll. A failed poll yields the
/// error and the stream carries on from the same cursor after a short pause; drop the stream to
/// stop.
pub fn subscribe<P>(
    plugin: Arc<P>,
    after: EventCursor,
    wait: Duration,
) -> impl Stream<Item = Result<LedgerEvent, PluginError>> + Send
where
    P: LedgerPlugin + ?Sized + 'static,
{
    let state = (plugin, after, VecDeque::<LedgerEvent>::new());
    futures::stream::unfold(state, move |(plugin, mut cursor, mut buffer)| async move {
        loop {
            if let Some(event) = buffer.pop_front() {
                return Some((Ok(event), (plugin, cursor, buffer)));
            }
            match plugin.events(cursor, PAGE, wait).await {
                Ok(page) => {
                    // Defensive: never hand out an event at or before the cursor twice.
                    buffer.extend(page.events.into_iter().filter(|e| e.cursor > cursor));
                    cursor = buffer.back().map(|e| e.cursor).unwrap_or(cursor).max(page.next);
                }
                Err(e) => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    return Some((Err(e), (plugin, cursor, buffer)));
                }
            }
        }
    })
}
