//! The recent end of the event log, kept in memory so that the event feed's subscribers (long
//! polls, server-sent events, webhooks) do not each run an SQLite query after every commit.
//!
//! The writer appends a batch's events only after the batch is committed, and before it signals
//! the commit, so the tail never shows an event the database might not keep. The tail holds every
//! event with a cursor above its `base`; a reader asking for events after an older cursor is told
//! to read the database instead.

use std::collections::VecDeque;
use std::sync::RwLock;

use crate::server::book::EventRow;
use plugins::plugin::{EventCursor, LedgerEvent};

/// Events kept: the most recent 8,192 (a few MiB with their memos) cover any subscriber that is
/// keeping up; one further behind reads SQLite until it catches up.
pub const TAIL_CAPACITY: usize = 8_192;

/// The most recent committed events, in cursor order.
#[derive(Debug)]
pub struct EventTail {
    capacity: usize,
    inner: RwLock<Tail>,
}

#[derive(Debug)]
struct Tail {
    /// Every event with a cursor above this is in `rows`.
    base: u64,
    rows: VecDeque<EventRow>,
}

impl EventTail {
    /// An empty tail after the last committed cursor.
    pub fn new(last_cursor: u64, capacity: usize) -> EventTail {
        EventTail {
            capacity: capacity.max(1),
            inner: RwLock::new(Tail {
                base: last_cursor,
                rows: VecDeque::with_capacity(capacity.min(1024)),
            }),
        }
    }

    /// Appends committed events (in cursor order, after every event already held), dropping the
    /// oldest beyond the capacity.
    pub fn append(&self, rows: &[EventRow]) {
        if rows.is_empty() {
            return;
        }
        let mut tail = self.inner.write().unwrap_or_else(|e| e.into_inner());
        tail.rows.extend(rows.iter().cloned());
        while tail.rows.len() > self.capacity {
            if let Some(dropped) = tail.rows.pop_front() {
                tail.base = dropped.event.cursor.0;
            }
        }
    }

    /// Up to `limit` events after `after` that `participant` may see, or `None` when events after
    /// `after` have already left the tail (read the database).
    pub fn after(&self, participant: &str, after: EventCursor, limit: usize) -> Option<Vec<LedgerEvent>> {
        let tail = self.inner.read().unwrap_or_else(|e| e.into_inner());
        if after.0 < tail.base {
            return None;
        }
        let start = tail.rows.partition_point(|r| r.event.cursor <= after);
        Some(
            tail.rows
                .range(start..)
                .filter(|r| r.payer_owner == participant || r.payee_owner == participant)
                .take(limit)
                .map(|r| r.event.clone())
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use htlc::{Condition, EscrowStatus, Timestamp};

    use plugins::plugin::{AccountId, EventKind, Transfer, TransferId};

    fn row(cursor: u64, payer: &str, payee: &str) -> EventRow {
        let at = Timestamp::from_unix_millis(1_790_000_000_000).expect("time");
        let transfer = Transfer {
            id: TransferId::random(),
            from: AccountId::new("a").expect("id"),
            to: AccountId::new("b").expect("id"),
            amount: 1,
            condition: Condition::from_bytes([0; 32]),
            expires_at: at,
            memo: Vec::new(),
            status: EscrowStatus::Prepared,
            fulfillment: None,
            prepared_at: at,
            finalized_at: None,
            reject_reason: None,
        };
        EventRow {
            event: LedgerEvent {
                cursor: EventCursor(cursor),
                id: uuid::Uuid::new_v4(),
                kind: EventKind::Prepared,
                transfer,
                occurred_at: at,
            },
            payer_owner: payer.into(),
            payee_owner: payee.into(),
        }
    }

    fn cursors(events: &[LedgerEvent]) -> Vec<u64> {
        events.iter().map(|e| e.cursor.0).collect()
    }

    #[test]
    fn serves_a_participants_events_after_a_cursor() {
        let tail = EventTail::new(10, 100);
        tail.append(&[row(11, "a", "b"), row(12, "c", "d"), row(13, "b", "c")]);
        assert_eq!(cursors(&tail.after("b", EventCursor(10), 10).unwrap()), [11, 13]);
        assert_eq!(cursors(&tail.after("b", EventCursor(11), 10).unwrap()), [13]);
        assert_eq!(cursors(&tail.after("b", EventCursor(10), 1).unwrap()), [11]);
        assert!(tail.after("b", EventCursor(13), 10).unwrap().is_empty());
        assert!(tail.after("x", EventCursor(10), 10).unwrap().is_empty());
    }

    #[test]
    fn a_cursor_older_than_the_tail_reads_the_database() {
        let tail = EventTail::new(10, 2);
        assert!(tail.after("a", EventCursor(9), 10).is_none());
        tail.append(&[row(11, "a", "b"), row(12, "a", "b"), row(13, "a", "b")]);
        // 11 was dropped: a reader after 10 would miss it.
        assert!(tail.after("a", EventCursor(10), 10).is_none());
        assert_eq!(cursors(&tail.after("a", EventCursor(11), 10).unwrap()), [12, 13]);
    }
}
