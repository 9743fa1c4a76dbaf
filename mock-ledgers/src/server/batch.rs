//! The writer's two SQL round trips per batch: [`prefetch`] before applying it and [`commit`]
//! after.
//!
//! Both are scripts whose text never changes: a batch's rows travel as one JSON array per table,
//! bound as a single parameter and unpacked by SQLite's `jsonb_each` (which parses the text once
//! and hands each row over in binary form, so reading its columns does not parse again). A constant script is parsed
//! and planned once and then served from the connection's statement cache. Building the SQL per
//! batch (`VALUES (?, ?), (?, ?), ...` sized to the batch) made SQLite's parser the largest single
//! cost of the writer under load. Blobs travel as hex (`unhex` on the SQLite side).

use std::collections::HashMap;

use htlc::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::sqlite::SqliteConnection;

use crate::server::book::{AccountState, Stage};
use crate::server::store::{Extra, IdemRecord, StoreError, corrupt, sql_int, transfer_row};
use plugins::plugin::{Transfer, TransferId};

/// The stored first answers of a batch's idempotency keys and the stored transfers among the ids
/// it refers to.
const PREFETCH: &str = "\
SELECT 'idem' AS src, scope_key, request_hash, status, body FROM idempotency \
 WHERE scope_key IN (SELECT value FROM json_each(?)); \
SELECT 'transfer' AS src, * FROM transfers WHERE id IN (SELECT value FROM json_each(?));";

/// One batch, one transaction. Parameters in order: transfers, events, entries, idempotency
/// records, accounts, supply, whether the supply changed, webhooks, webhook removals.
const COMMIT: &str = "BEGIN; \
INSERT INTO transfers (id, payer, payee, amount, condition, expires_at, memo, status, fulfillment, \
 prepared_at, finalized_at, reject_reason) \
 SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, unhex(value->>6), \
 value->>7, value->>8, value->>9, value->>10, value->>11 FROM jsonb_each(?) WHERE true \
 ON CONFLICT (id) DO UPDATE SET status = excluded.status, fulfillment = excluded.fulfillment, \
 finalized_at = excluded.finalized_at, reject_reason = excluded.reject_reason; \
INSERT INTO events (cursor, payer_owner, payee_owner, body) \
 SELECT value->>0, value->>1, value->>2, value->>3 FROM jsonb_each(?) ORDER BY key; \
INSERT INTO entries (account, booked_at, amount, balance_after, kind, reference, counterparty) \
 SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6 \
 FROM jsonb_each(?) ORDER BY key; \
INSERT INTO idempotency (scope_key, request_hash, status, body, created_at) \
 SELECT value->>0, unhex(value->>1), value->>2, unhex(value->>3), value->>4 FROM jsonb_each(?); \
INSERT INTO accounts (id, name, owner, kind, overdraft_limit, tier, linked_account, merchant, \
 balance, held, incoming, spent_day_key, spent_day, spent_year_key, spent_year) \
 SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, \
 value->>8, value->>9, value->>10, value->>11, value->>12, value->>13, value->>14 \
 FROM jsonb_each(?) WHERE true \
 ON CONFLICT (id) DO UPDATE SET name = excluded.name, owner = excluded.owner, kind = excluded.kind, \
 overdraft_limit = excluded.overdraft_limit, tier = excluded.tier, \
 linked_account = excluded.linked_account, merchant = excluded.merchant, \
 balance = excluded.balance, held = excluded.held, incoming = excluded.incoming, \
 spent_day_key = excluded.spent_day_key, spent_day = excluded.spent_day, \
 spent_year_key = excluded.spent_year_key, spent_year = excluded.spent_year; \
INSERT INTO meta (key, value) SELECT 'supply', ? WHERE ? \
 ON CONFLICT (key) DO UPDATE SET value = excluded.value; \
INSERT INTO webhooks (key_id, participant, url, cursor, attempts, next_attempt_at, last_error) \
 SELECT value->>0, value->>1, value->>2, value->>3, 0, NULL, NULL FROM jsonb_each(?) WHERE true \
 ON CONFLICT (key_id) DO UPDATE SET participant = excluded.participant, url = excluded.url, \
 cursor = excluded.cursor, attempts = 0, next_attempt_at = NULL, last_error = NULL; \
DELETE FROM webhooks WHERE key_id IN (SELECT value FROM json_each(?)); \
COMMIT;";

/// `rows` as the JSON array one script parameter carries.
fn json_rows<T: Serialize>(rows: impl IntoIterator<Item = T>) -> Result<String, StoreError> {
    serde_json::to_string(&rows.into_iter().collect::<Vec<T>>()).map_err(corrupt)
}

/// The stored first answers of `keys` and the stored transfers among `ids`, in one round trip.
pub async fn prefetch(
    conn: &mut SqliteConnection,
    keys: &[String],
    ids: &[TransferId],
) -> Result<(HashMap<String, IdemRecord>, HashMap<TransferId, Transfer>), StoreError> {
    let mut records = HashMap::new();
    let mut transfers = HashMap::new();
    if keys.is_empty() && ids.is_empty() {
        return Ok((records, transfers));
    }
    let rows = sqlx::query(PREFETCH)
        .bind(json_rows(keys)?)
        .bind(json_rows(ids.iter().map(ToString::to_string))?)
        .fetch_all(&mut *conn)
        .await?;
    for row in rows {
        if row.try_get::<String, _>("src")? == "idem" {
            let status: i64 = row.try_get("status")?;
            records.insert(
                row.try_get("scope_key")?,
                IdemRecord {
                    request_hash: row.try_get("request_hash")?,
                    status: u16::try_from(status).map_err(corrupt)?,
                    body: row.try_get("body")?,
                },
            );
        } else {
            let t = transfer_row(&row)?;
            transfers.insert(t.id, t);
        }
    }
    Ok((records, transfers))
}

/// Commits a batch in one transaction and one round trip to SQLite's thread. If any statement
/// fails the transaction is rolled back and nothing is written.
pub async fn commit(
    conn: &mut SqliteConnection,
    stage: &Stage,
    accounts: &[AccountState],
    supply: i64,
    extra: &Extra,
    now: Timestamp,
) -> Result<(), StoreError> {
    let transfers = json_rows(stage.transfers.values().map(|t| {
        (
            t.id.to_string(),
            t.from.as_str(),
            t.to.as_str(),
            sql_int(t.amount),
            t.condition.to_hex(),
            t.expires_at.unix_millis(),
            hex_text(&t.memo),
            t.status.as_str(),
            t.fulfillment.map(|f| f.to_hex()),
            t.prepared_at.unix_millis(),
            t.finalized_at.map(|f| f.unix_millis()),
            t.reject_reason.as_deref(),
        )
    }))?;
    let mut events = Vec::with_capacity(stage.events.len());
    for e in &stage.events {
        let body = serde_json::to_string(&e.event).map_err(corrupt)?;
        events.push((sql_int(e.event.cursor.0), &e.payer_owner, &e.payee_owner, body));
    }
    let entries = json_rows(stage.entries.iter().map(|e| {
        (
            e.account.as_str(),
            e.booked_at.unix_millis(),
            e.amount,
            e.balance_after,
            e.kind,
            &e.reference,
            e.counterparty.as_ref().map(|c| c.as_str()),
        )
    }))?;
    let idempotency = json_rows(extra.idempotency.iter().map(|(key, rec)| {
        (
            key,
            hex_text(&rec.request_hash),
            i64::from(rec.status),
            hex_text(&rec.body),
            now.unix_millis(),
        )
    }))?;
    let accounts = json_rows(accounts.iter().map(|a| {
        (
            a.terms.id.as_str(),
            &a.terms.name,
            &a.terms.owner,
            a.terms.kind.as_str(),
            sql_int(a.terms.overdraft_limit),
            a.terms.tier.map(i64::from),
            a.terms.linked_account.as_ref().map(|l| l.as_str()),
            i64::from(a.terms.merchant),
            a.balance,
            sql_int(a.held),
            sql_int(a.incoming),
            a.spent_day_key,
            sql_int(a.spent_day),
            a.spent_year_key,
            sql_int(a.spent_year),
        )
    }))?;
    let webhooks = json_rows(
        extra
            .webhooks
            .iter()
            .map(|w| (&w.key_id, &w.participant, &w.url, sql_int(w.cursor))),
    )?;
    let script = sqlx::query(COMMIT)
        .bind(transfers)
        .bind(json_rows(events)?)
        .bind(entries)
        .bind(idempotency)
        .bind(accounts)
        .bind(supply)
        .bind(stage.supply_changed)
        .bind(webhooks)
        .bind(json_rows(&extra.webhook_removals)?);
    plumbing::sqlite::commit_or_roll_back(conn, script).await
}

/// Lower-case hex of `bytes` for the scripts' `unhex`. `hex::encode` collects an iterator of
/// chars, which showed as 2-3% of the bank's CPU with idempotency bodies of a few hundred bytes;
/// this fills one buffer from a table.
fn hex_text(bytes: &[u8]) -> String {
    let mut out = vec![0u8; bytes.len() * 2];
    // Cannot fail: the buffer is exactly twice the input.
    let _ = hex::encode_to_slice(bytes, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{LedgerConfig, fixtures};
    use crate::server::book::EventRow;
    use crate::server::store;
    use htlc::{EscrowStatus, Fulfillment};
    use plugins::plugin::{AccountId, EventCursor, EventKind, LedgerEvent};

    fn transfer(memo: &[u8], status: EscrowStatus) -> Transfer {
        let f = Fulfillment::from_bytes([7; 32]);
        Transfer {
            id: TransferId(uuid::Uuid::from_u128(42)),
            from: AccountId::new("bank-a").unwrap(),
            to: AccountId::new("clearing-bank").unwrap(),
            amount: u64::MAX >> 1,
            condition: f.condition(),
            expires_at: Timestamp::from_unix_millis(1_800_000_000_000).unwrap(),
            memo: memo.to_vec(),
            status,
            fulfillment: (status == EscrowStatus::Fulfilled).then_some(f),
            prepared_at: Timestamp::from_unix_millis(1_700_000_000_000).unwrap(),
            finalized_at: None,
            reject_reason: Some("F05 \"quoted\" reason".into()),
        }
    }

    #[test]
    fn hex_text_is_lower_case_hex() {
        assert_eq!(hex_text(&[]), "");
        assert_eq!(hex_text(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(hex_text(&all), hex::encode(&all));
    }

    /// Every column a batch writes reads back as written: blobs (empty ones too), large
    /// integers, NULLs, quotes; and an upsert of a transfer changes its status.
    #[tokio::test]
    async fn a_committed_batch_reads_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = LedgerConfig::from_toml(fixtures::BANK).unwrap();
        config.server.database = Some(dir.path().join("ledger.sqlite"));
        let (mut conn, pool) = store::open(&config).await.unwrap();
        let now = Timestamp::from_unix_millis(1_700_000_000_123).unwrap();
        let mut account = AccountState::from_spec(&config.accounts[0]);
        account.balance = -5;
        account.terms.tier = Some(2);

        let prepared = transfer(&[0, 1, 0xfe, 0xff], EscrowStatus::Prepared);
        let mut stage = Stage::default();
        stage.transfers.insert(prepared.id, prepared.clone());
        stage.events.push(EventRow {
            event: LedgerEvent {
                cursor: EventCursor(1),
                id: uuid::Uuid::from_u128(1),
                kind: EventKind::Prepared,
                transfer: prepared.clone(),
                occurred_at: now,
            },
            payer_owner: "bank-a".into(),
            payee_owner: "clearing-bank".into(),
        });
        stage.supply_changed = true;
        let extra = Extra {
            idempotency: vec![(
                "bank-a/key-1".into(),
                IdemRecord {
                    request_hash: vec![0xab; 32],
                    status: 201,
                    body: Vec::new(),
                },
            )],
            ..Extra::default()
        };
        commit(
            &mut conn,
            &stage,
            std::slice::from_ref(&account),
            1234,
            &extra,
            now,
        )
        .await
        .unwrap();

        let (records, transfers) =
            prefetch(&mut conn, &["bank-a/key-1".into(), "nope".into()], &[prepared.id])
                .await
                .unwrap();
        assert_eq!(transfers[&prepared.id], prepared);
        let record = &records["bank-a/key-1"];
        assert_eq!((record.status, record.body.len()), (201, 0));
        assert_eq!(record.request_hash, vec![0xab; 32]);
        assert_eq!(records.len(), 1);
        assert_eq!(store::supply(&pool).await.unwrap().0, 1234);
        let stored = store::account(&pool, &account.terms.id).await.unwrap().unwrap();
        assert_eq!(
            (stored.balance, stored.terms.tier, stored.terms.name),
            (-5, Some(2), account.terms.name.clone())
        );
        let events = store::events_after(&pool, "clearing-bank", EventCursor(0), 10)
            .await
            .unwrap();
        assert_eq!(events, [stage.events[0].event.clone()]);

        let fulfilled = transfer(&[], EscrowStatus::Fulfilled);
        let mut stage = Stage::default();
        stage.transfers.insert(fulfilled.id, fulfilled.clone());
        commit(&mut conn, &stage, &[], 0, &Extra::default(), now)
            .await
            .unwrap();
        let stored = store::transfer(&pool, fulfilled.id).await.unwrap().unwrap();
        assert_eq!(stored.status, EscrowStatus::Fulfilled);
        assert_eq!(stored.fulfillment, fulfilled.fulfillment);
        assert_eq!(stored.memo, prepared.memo, "the memo is written once, at prepare");
        assert_eq!(store::supply(&pool).await.unwrap().0, 1234, "supply kept");
    }
}
