//! One journal commit, one round trip to SQLite's thread.
//!
//! sqlx runs each statement on the connection's own thread, so every statement costs two thread
//! wake-ups. A commit used to run one upsert per payment change and one insert per trail entry
//! between `BEGIN` and `COMMIT`: twenty-odd round trips for a commit of ten changes, and the
//! journal's thread was the busiest thread of the connector. Now a commit is one script whose
//! text never changes (so SQLite parses and plans it once): each table's rows travel as one JSON
//! array bound as a single parameter and unpacked by `jsonb_each`, as the mock ledger's writer
//! does. Blobs travel as hex (`unhex` on the SQLite side).
//!
//! Rows are folded in Rust first so the script needs no ordering rules for them: the last
//! version of each payment, quote and received escrow wins, and a ledger's cursor only moves
//! forward. Trail entries keep their order (`ORDER BY key`).

use std::collections::HashMap;

use serde::Serialize;
use sqlx::sqlite::SqliteConnection;

use super::{Batch, StoreError, Write, corrupt, i64_of};
use crate::payment::Payment;

/// Parameters in order: payments, trail entries, cursors, received escrows, quotes.
const COMMIT: &str = "BEGIN; \
INSERT INTO payments (id, uetr, state, condition, destination, \
 in_ledger, in_transfer, in_from, in_amount, in_expires_at, \
 out_ledger, out_transfer, out_from, out_to, out_amount, out_expires_at, out_memo, \
 fee, fulfillment, reject_code, reject_message, created_at, updated_at) \
 SELECT value->>'id', value->>'uetr', value->>'state', value->>'condition', \
 value->>'destination', value->>'in_ledger', value->>'in_transfer', value->>'in_from', \
 value->>'in_amount', value->>'in_expires_at', value->>'out_ledger', value->>'out_transfer', \
 value->>'out_from', value->>'out_to', value->>'out_amount', value->>'out_expires_at', \
 unhex(value->>'out_memo'), value->>'fee', value->>'fulfillment', value->>'reject_code', \
 value->>'reject_message', value->>'created_at', value->>'updated_at' \
 FROM jsonb_each(?) WHERE true \
 ON CONFLICT (id) DO UPDATE SET \
 state = excluded.state, in_expires_at = excluded.in_expires_at, \
 out_ledger = excluded.out_ledger, out_transfer = excluded.out_transfer, \
 out_from = excluded.out_from, out_to = excluded.out_to, out_amount = excluded.out_amount, \
 out_expires_at = excluded.out_expires_at, out_memo = excluded.out_memo, fee = excluded.fee, \
 fulfillment = excluded.fulfillment, reject_code = excluded.reject_code, \
 reject_message = excluded.reject_message, updated_at = excluded.updated_at; \
INSERT INTO payment_events (payment_id, at, kind, detail) \
 SELECT value->>0, value->>1, value->>2, value->>3 FROM jsonb_each(?) ORDER BY key; \
INSERT INTO ledger_cursors (ledger, cursor) \
 SELECT key, value FROM jsonb_each(?) WHERE true \
 ON CONFLICT (ledger) DO UPDATE SET cursor = MAX(cursor, excluded.cursor); \
INSERT OR REPLACE INTO received \
 (transfer, uetr, amount, reference, outcome, reject_code, reject_message, at) \
 SELECT key, value->>'uetr', value->>'amount', value->>'reference', value->>'outcome', \
 value->>'reject_code', value->>'reject_message', value->>'at' FROM jsonb_each(?); \
INSERT OR REPLACE INTO quotes (id, created_at, expires_at, body) \
 SELECT key, value->>0, value->>1, value->>2 FROM jsonb_each(?); \
COMMIT;";

/// A `payments` row.
#[derive(Serialize)]
struct PaymentRow<'a> {
    id: String,
    uetr: Option<String>,
    state: &'a str,
    condition: String,
    destination: &'a str,
    in_ledger: &'a str,
    in_transfer: String,
    in_from: &'a str,
    in_amount: i64,
    in_expires_at: i64,
    out_ledger: Option<&'a str>,
    out_transfer: Option<String>,
    out_from: Option<&'a str>,
    out_to: Option<&'a str>,
    out_amount: Option<i64>,
    out_expires_at: Option<i64>,
    out_memo: Option<String>,
    fee: i64,
    fulfillment: Option<String>,
    reject_code: Option<&'a str>,
    reject_message: Option<&'a str>,
    created_at: i64,
    updated_at: i64,
}

impl<'a> PaymentRow<'a> {
    fn new(p: &'a Payment) -> Self {
        let out = p.outgoing.as_ref();
        PaymentRow {
            id: p.id.to_string(),
            uetr: p.uetr.map(|u| u.to_string()),
            state: p.state.as_str(),
            condition: p.condition.to_hex(),
            destination: &p.destination,
            in_ledger: p.incoming.ledger.as_str(),
            in_transfer: p.incoming.transfer.0.to_string(),
            in_from: p.incoming.from.as_str(),
            in_amount: i64_of(p.incoming.amount),
            in_expires_at: p.incoming.expires_at.unix_millis(),
            out_ledger: out.map(|o| o.ledger.as_str()),
            out_transfer: out.map(|o| o.transfer.0.to_string()),
            out_from: out.map(|o| o.from.as_str()),
            out_to: out.map(|o| o.to.as_str()),
            out_amount: out.map(|o| i64_of(o.amount)),
            out_expires_at: out.map(|o| o.expires_at.unix_millis()),
            out_memo: p.outgoing_memo.as_deref().map(hex::encode),
            fee: i64_of(p.fee),
            fulfillment: p.fulfillment.map(|f| f.to_hex()),
            reject_code: p.reject_code.as_ref().map(|c| c.as_str()),
            reject_message: p.reject_message.as_deref(),
            created_at: p.created_at.unix_millis(),
            updated_at: p.updated_at.unix_millis(),
        }
    }
}

/// A `received` row, keyed by its transfer.
#[derive(Serialize)]
struct ReceivedRow<'a> {
    uetr: Option<String>,
    amount: i64,
    reference: &'a str,
    outcome: &'a str,
    reject_code: Option<&'a str>,
    reject_message: Option<&'a str>,
    at: i64,
}

/// The rows of one commit, one collection per table.
#[derive(Default)]
struct Rows<'a> {
    /// Position in `payments` of each payment's latest version.
    payment_at: HashMap<uuid::Uuid, usize>,
    payments: Vec<PaymentRow<'a>>,
    /// (payment, at, kind, detail), in order.
    trail: Vec<(String, i64, &'a str, &'a str)>,
    /// Ledger to cursor.
    cursors: HashMap<&'a str, i64>,
    /// Transfer to row.
    received: HashMap<String, ReceivedRow<'a>>,
    /// Quote id to (created, expires, body).
    quotes: HashMap<String, (i64, i64, &'a str)>,
}

impl<'a> Rows<'a> {
    fn add(&mut self, write: &'a Write) {
        match write {
            Write::Payment(p) => {
                let row = PaymentRow::new(p);
                match self.payment_at.get(&p.id) {
                    Some(&at) => self.payments[at] = row,
                    None => {
                        self.payment_at.insert(p.id, self.payments.len());
                        self.payments.push(row);
                    }
                }
            }
            Write::Trail { payment, entry } => self.trail.push((
                payment.to_string(),
                entry.at.unix_millis(),
                &entry.kind,
                &entry.detail,
            )),
            Write::Cursor(ledger, cursor) => {
                let at = self.cursors.entry(ledger.as_str()).or_default();
                *at = (*at).max(i64_of(cursor.0));
            }
            Write::Received(r) => {
                let row = ReceivedRow {
                    uetr: r.uetr.map(|u| u.to_string()),
                    amount: i64_of(r.amount),
                    reference: &r.reference,
                    outcome: &r.outcome,
                    reject_code: r.reject_code.as_deref(),
                    reject_message: r.reject_message.as_deref(),
                    at: r.at.unix_millis(),
                };
                self.received.insert(r.transfer.0.to_string(), row);
            }
            Write::Quote {
                id,
                created_at,
                expires_at,
                body,
            } => {
                let row = (created_at.unix_millis(), expires_at.unix_millis(), body.as_str());
                self.quotes.insert(id.to_string(), row);
            }
        }
    }
}

fn json<T: Serialize>(rows: T) -> Result<String, StoreError> {
    serde_json::to_string(&rows).map_err(corrupt)
}

/// Commits every write of `batches` in one transaction. If any statement fails, the
/// transaction is rolled back and nothing is written.
pub(super) async fn apply(conn: &mut SqliteConnection, batches: &[Batch]) -> Result<(), StoreError> {
    let mut rows = Rows::default();
    for write in batches.iter().flat_map(|(writes, _)| writes) {
        rows.add(write);
    }
    let script = sqlx::query(COMMIT)
        .bind(json(&rows.payments)?)
        .bind(json(&rows.trail)?)
        .bind(json(&rows.cursors)?)
        .bind(json(&rows.received)?)
        .bind(json(&rows.quotes)?);
    plumbing::sqlite::commit_or_roll_back(conn, script).await
}
