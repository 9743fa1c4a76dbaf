//! SQLite: opening (WAL, migrations embedded in the binary), loading the book's state,
//! committing a batch's rows in one transaction, and the read queries the API serves.
//!
//! The writer task owns one connection and is the only one that moves money; reads go through
//! a small pool and see committed state only (WAL readers never block the writer).

use std::str::FromStr;

use htlc::{Condition, EscrowStatus, Fulfillment, Timestamp};
use sqlx::Row;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqlitePool, SqliteRow};

use crate::config::{AccountKind, AccountTerms, LedgerConfig};
use crate::server::book::AccountState;
use plugins::api::{CreditDebit, StatementEntry, Webhook};
use plugins::plugin::{AccountId, EventCursor, LedgerEvent, Transfer, TransferId};

pub use plumbing::StoreError;

/// A first response kept for an idempotency key.
#[derive(Debug, Clone)]
pub struct IdemRecord {
    /// SHA-256 of method, path and body.
    pub request_hash: Vec<u8>,
    /// HTTP status.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// A webhook registration to write.
#[derive(Debug, Clone)]
pub struct WebhookRow {
    /// Key.
    pub key_id: String,
    /// Its participant.
    pub participant: String,
    /// Target.
    pub url: String,
    /// Delivered through.
    pub cursor: u64,
}

fn options(config: &LedgerConfig) -> SqliteConnectOptions {
    plumbing::sqlite::options(&config.database_path(), config.server.durability)
        .page_size(config.server.page_size)
        .foreign_keys(false)
        // 16 MiB of page cache per connection (the default is 2 MiB): index pages of random
        // transfer ids and idempotency keys stay cached instead of being re-read each batch.
        .pragma("cache_size", "-16384")
}

/// Copies committed WAL pages into the database file (PASSIVE: never waits for readers or the
/// writer). The server calls it every 200 ms from a pool connection, so that when the writer's
/// own automatic checkpoint comes due (every 1000 WAL pages) almost everything is copied
/// already: that checkpoint is short, completes, and lets the WAL restart from its beginning
/// instead of growing while writes never pause.
pub async fn checkpoint(pool: &SqlitePool) -> Result<(), StoreError> {
    sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .execute(pool)
        .await?;
    Ok(())
}

fn migrator() -> Migrator {
    plumbing::sqlite::migrator(&[
        (1, "ledger schema", include_str!("schema.sql")),
        (
            2,
            "payees' reject reasons",
            "ALTER TABLE transfers ADD COLUMN reject_reason TEXT",
        ),
    ])
}

/// Opens the writer connection (running migrations) and the read pool.
pub async fn open(config: &LedgerConfig) -> Result<(SqliteConnection, SqlitePool), StoreError> {
    let opts = options(config);
    // Readers keep a small page cache: in WAL mode a reader discards its whole cache whenever
    // the database changed since its last read (every batch here), and discarding a large cache
    // costs more than re-reading the few pages a query touches.
    let readers = opts.clone().pragma("cache_size", "-1024");
    let opened = plumbing::sqlite::open(&config.database_path(), opts, readers, &migrator()).await?;
    Ok((opened.writer, opened.readers))
}

pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// A count or amount as its SQLite integer. Every such value the ledger stores stays within an
/// i64 (amounts and their sums are bounded by the supply, cursors count rows), so the
/// saturation is only reached on a broken invariant, and is not a silent wrap to negative.
pub(crate) fn sql_int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn ts(ms: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_unix_millis(ms).map_err(corrupt)
}

fn kind_of(text: &str) -> Result<AccountKind, StoreError> {
    Ok(match text {
        "customer" => AccountKind::Customer,
        "wholesale" => AccountKind::Wholesale,
        "intermediary" => AccountKind::Intermediary,
        "central-bank" => AccountKind::CentralBank,
        "wallet" => AccountKind::Wallet,
        other => return Err(corrupt(format!("account kind {other}"))),
    })
}

fn account_row(row: &SqliteRow) -> Result<AccountState, StoreError> {
    let id: String = row.try_get("id")?;
    let linked: Option<String> = row.try_get("linked_account")?;
    let tier: Option<i64> = row.try_get("tier")?;
    Ok(AccountState {
        terms: AccountTerms {
            id: AccountId::new(id).map_err(corrupt)?,
            name: row.try_get("name")?,
            owner: row.try_get("owner")?,
            kind: kind_of(&row.try_get::<String, _>("kind")?)?,
            overdraft_limit: u64_of(row.try_get("overdraft_limit")?),
            tier: tier.and_then(|t| u8::try_from(t).ok()),
            linked_account: linked.map(AccountId::new).transpose().map_err(corrupt)?,
            merchant: row.try_get::<i64, _>("merchant")? != 0,
        },
        balance: row.try_get("balance")?,
        held: u64_of(row.try_get("held")?),
        incoming: u64_of(row.try_get("incoming")?),
        spent_day_key: row.try_get("spent_day_key")?,
        spent_day: u64_of(row.try_get("spent_day")?),
        spent_year_key: row.try_get("spent_year_key")?,
        spent_year: u64_of(row.try_get("spent_year")?),
    })
}

pub(crate) fn transfer_row(row: &SqliteRow) -> Result<Transfer, StoreError> {
    let id: String = row.try_get("id")?;
    let fulfillment: Option<String> = row.try_get("fulfillment")?;
    let finalized_at: Option<i64> = row.try_get("finalized_at")?;
    Ok(Transfer {
        id: TransferId(uuid::Uuid::from_str(&id).map_err(corrupt)?),
        from: AccountId::new(row.try_get::<String, _>("payer")?).map_err(corrupt)?,
        to: AccountId::new(row.try_get::<String, _>("payee")?).map_err(corrupt)?,
        amount: u64_of(row.try_get("amount")?),
        condition: Condition::from_hex(&row.try_get::<String, _>("condition")?).map_err(corrupt)?,
        expires_at: ts(row.try_get("expires_at")?)?,
        memo: row.try_get("memo")?,
        status: row
            .try_get::<String, _>("status")?
            .parse::<EscrowStatus>()
            .map_err(corrupt)?,
        fulfillment: fulfillment
            .map(|f| Fulfillment::from_hex(&f))
            .transpose()
            .map_err(corrupt)?,
        prepared_at: ts(row.try_get("prepared_at")?)?,
        finalized_at: finalized_at.map(ts).transpose()?,
        reject_reason: row.try_get("reject_reason")?,
    })
}

/// Everything the book needs at start.
pub struct Loaded {
    /// Accounts.
    pub accounts: Vec<AccountState>,
    /// Live escrows.
    pub live: Vec<Transfer>,
    /// Supply.
    pub supply: i64,
    /// Last event cursor.
    pub last_cursor: u64,
}

/// Reads the book's state.
pub async fn load(conn: &mut SqliteConnection) -> Result<Loaded, StoreError> {
    let accounts = sqlx::query("SELECT * FROM accounts")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(account_row)
        .collect::<Result<_, _>>()?;
    let live = sqlx::query("SELECT * FROM transfers WHERE status = 'prepared'")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(transfer_row)
        .collect::<Result<_, _>>()?;
    let supply: Option<i64> = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'supply'")
        .fetch_optional(&mut *conn)
        .await?;
    let last: Option<i64> = sqlx::query_scalar("SELECT MAX(cursor) FROM events")
        .fetch_one(&mut *conn)
        .await?;
    Ok(Loaded {
        accounts,
        live,
        supply: supply.unwrap_or(0),
        last_cursor: u64_of(last.unwrap_or(0)),
    })
}

/// What one batch commits besides the book's rows.
#[derive(Default)]
pub struct Extra {
    /// Idempotency records: (scope key, record).
    pub idempotency: Vec<(String, IdemRecord)>,
    /// Webhook registrations.
    pub webhooks: Vec<WebhookRow>,
    /// Webhook removals (key ids).
    pub webhook_removals: Vec<String>,
}

/// A transfer by id (read pool).
pub async fn transfer(pool: &SqlitePool, id: TransferId) -> Result<Option<Transfer>, StoreError> {
    let row = sqlx::query("SELECT * FROM transfers WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(transfer_row).transpose()
}

/// An account as committed.
pub async fn account(pool: &SqlitePool, id: &AccountId) -> Result<Option<AccountState>, StoreError> {
    let row = sqlx::query("SELECT * FROM accounts WHERE id = ?")
        .bind(id.as_str())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(account_row).transpose()
}

/// Events after `after` that `participant` may see.
pub async fn events_after(
    pool: &SqlitePool,
    participant: &str,
    after: EventCursor,
    limit: u32,
) -> Result<Vec<LedgerEvent>, StoreError> {
    let rows = sqlx::query(
        "SELECT body FROM events WHERE cursor > ? AND (payer_owner = ? OR payee_owner = ?) ORDER BY cursor LIMIT ?",
    )
    .bind(sql_int(after.0))
    .bind(participant)
    .bind(participant)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let body: String = r.try_get("body")?;
            serde_json::from_str(&body).map_err(corrupt)
        })
        .collect()
}

/// (total supply, sum of balances, sum held).
pub async fn supply(pool: &SqlitePool) -> Result<(i64, i64, i64), StoreError> {
    let total: Option<i64> = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'supply'")
        .fetch_optional(pool)
        .await?;
    let row = sqlx::query("SELECT COALESCE(SUM(balance), 0) AS b, COALESCE(SUM(held), 0) AS h FROM accounts")
        .fetch_one(pool)
        .await?;
    Ok((total.unwrap_or(0), row.try_get("b")?, row.try_get("h")?))
}

/// Most entries one statement returns.
pub const MAX_STATEMENT_ENTRIES: u16 = 10_000;

/// (opening balance, entries) of `account` for `[from, to)`; `None` if the period holds more
/// than [`MAX_STATEMENT_ENTRIES`].
pub async fn statement(
    pool: &SqlitePool,
    account: &AccountId,
    from: Timestamp,
    to: Timestamp,
) -> Result<Option<(i64, Vec<StatementEntry>)>, StoreError> {
    let opening: Option<i64> = sqlx::query_scalar(
        "SELECT balance_after FROM entries WHERE account = ? AND booked_at < ? ORDER BY seq DESC LIMIT 1",
    )
    .bind(account.as_str())
    .bind(from.unix_millis())
    .fetch_optional(pool)
    .await?;
    let rows = sqlx::query(
        "SELECT * FROM entries WHERE account = ? AND booked_at >= ? AND booked_at < ? ORDER BY seq LIMIT ?",
    )
    .bind(account.as_str())
    .bind(from.unix_millis())
    .bind(to.unix_millis())
    .bind(i64::from(MAX_STATEMENT_ENTRIES) + 1)
    .fetch_all(pool)
    .await?;
    if rows.len() > usize::from(MAX_STATEMENT_ENTRIES) {
        return Ok(None);
    }
    let entries = rows
        .iter()
        .map(|r| {
            let amount: i64 = r.try_get("amount")?;
            let counterparty: Option<String> = r.try_get("counterparty")?;
            Ok(StatementEntry {
                seq: r.try_get("seq")?,
                booked_at: ts(r.try_get("booked_at")?)?,
                amount: amount.unsigned_abs(),
                credit_debit: if amount >= 0 {
                    CreditDebit::Credit
                } else {
                    CreditDebit::Debit
                },
                balance_after: r.try_get("balance_after")?,
                kind: r.try_get("kind")?,
                reference: r.try_get("reference")?,
                counterparty: counterparty.map(AccountId::new).transpose().map_err(corrupt)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Some((opening.unwrap_or(0), entries)))
}

fn webhook_row(row: &SqliteRow) -> Result<(String, Webhook), StoreError> {
    let next: Option<i64> = row.try_get("next_attempt_at")?;
    Ok((
        row.try_get("participant")?,
        Webhook {
            key_id: row.try_get("key_id")?,
            url: row.try_get("url")?,
            delivered_through: EventCursor(u64_of(row.try_get("cursor")?)),
            attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
            next_attempt_at: next.map(ts).transpose()?,
            last_error: row.try_get("last_error")?,
        },
    ))
}

/// All webhooks with their participants.
pub async fn webhooks(pool: &SqlitePool) -> Result<Vec<(String, Webhook)>, StoreError> {
    sqlx::query("SELECT * FROM webhooks ORDER BY key_id")
        .fetch_all(pool)
        .await?
        .iter()
        .map(webhook_row)
        .collect()
}

/// Records a delivery outcome. Only advances: a registration replaced meanwhile keeps its
/// own state because the URL must still match.
pub async fn webhook_progress(pool: &SqlitePool, hook: &Webhook) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE webhooks SET cursor = ?, attempts = ?, next_attempt_at = ?, last_error = ? WHERE key_id = ? AND url = ?",
    )
    .bind(sql_int(hook.delivered_through.0))
    .bind(i64::from(hook.attempts))
    .bind(hook.next_attempt_at.map(|t| t.unix_millis()))
    .bind(&hook.last_error)
    .bind(&hook.key_id)
    .bind(&hook.url)
    .execute(pool)
    .await?;
    Ok(())
}
