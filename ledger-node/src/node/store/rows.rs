//! SQLite rows read back as values: escrows (with the column lists their queries select),
//! stored blocks, transaction statuses and outcomes, and the integer and byte conversions every
//! query shares. A stored value that does not read back is `StoreError::Corrupt`.

use std::sync::Arc;

use htlc::{Condition, Fulfillment, Timestamp};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{StoreError, StoredBlock};
use crate::api::types::{EscrowView, TxState, TxStatus};
use crate::codec::decode_exact;
use crate::state::exec::StateCommitment;
use crate::state::{AccountId, AssetCode, AssetInfo, Escrow, EscrowId, FailCode, TxId};
use crate::types::{Block, QuorumCert};

/// An escrow with the timestamps of its creating and closing blocks, from `escrows e`.
macro_rules! escrow_view_select {
    ($where:literal) => {
        concat!(
            "SELECT e.id, e.payer, e.payee, e.asset, e.amount, e.condition, e.expires_at_ms, e.memo, \
             e.reference, e.status, e.fulfillment, e.created_height, e.closed_height, e.reject_reason, \
             cb.timestamp_ms, xb.timestamp_ms FROM escrows e \
             LEFT JOIN blocks cb ON cb.height = e.created_height \
             LEFT JOIN blocks xb ON xb.height = e.closed_height WHERE ",
            $where
        )
    };
}
pub(super) use escrow_view_select;

pub(super) fn escrow_view_of(row: &SqliteRow) -> Result<EscrowView, StoreError> {
    let mut view = EscrowView::from(&escrow_of(row)?);
    view.created_at_ms = row.get::<Option<i64>, _>(14).map(u);
    view.closed_at_ms = row.get::<Option<i64>, _>(15).map(u);
    Ok(view)
}

/// The escrow columns, in the order `escrow_of` reads them.
macro_rules! escrow_select {
    ($where:literal) => {
        concat!(
            "SELECT id, payer, payee, asset, amount, condition, expires_at_ms, memo, reference, status, \
             fulfillment, created_height, closed_height, reject_reason FROM escrows WHERE ",
            $where
        )
    };
}
pub(super) use escrow_select;

pub(super) fn escrow_of(row: &SqliteRow) -> Result<Escrow, StoreError> {
    let reference: &[u8] = row.get(8);
    let fulfillment: Option<Vec<u8>> = row.get(10);
    let expires_at = Timestamp::from_unix_millis(row.get(6))
        .ok()
        .filter(|t| t.unix_millis() >= 0)
        .ok_or_else(|| StoreError::Corrupt("escrow expiry".into()))?;
    let lock = htlc::Escrow::restore(
        u(row.get(4)),
        Condition::from_bytes(b32(row.get::<&[u8], _>(5))?),
        expires_at,
        parsed(row.get::<&str, _>(9))?,
        fulfillment
            .map(|f| b32(&f).map(Fulfillment::from_bytes))
            .transpose()?,
    )
    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(Escrow {
        id: EscrowId(b32(row.get::<&[u8], _>(0))?),
        payer: AccountId(b32(row.get::<&[u8], _>(1))?),
        payee: AccountId(b32(row.get::<&[u8], _>(2))?),
        asset: parsed(row.get::<&str, _>(3))?,
        lock,
        memo: row.get::<Vec<u8>, _>(7),
        reference: reference
            .try_into()
            .map_err(|_| StoreError::Corrupt("reference".into()))?,
        created_height: u(row.get(11)),
        closed_height: row.get::<Option<i64>, _>(12).map(u),
        reject_reason: row.get(13),
    })
}

/// An asset from a `SELECT code, issuer, scale, supply FROM assets` row.
pub(super) fn asset_of(row: &SqliteRow) -> Result<(AssetCode, AssetInfo), StoreError> {
    let code: AssetCode = parsed(row.get::<&str, _>(0))?;
    let info = AssetInfo {
        issuer: AccountId(b32(row.get::<&[u8], _>(1))?),
        scale: narrow(row.get(2), "asset scale")?,
        supply: u(row.get(3)),
    };
    Ok((code, info))
}

pub(super) fn stored_block(row: &SqliteRow) -> Result<StoredBlock, StoreError> {
    let block: Block =
        decode_exact(row.get::<&[u8], _>(0)).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let qc: QuorumCert =
        decode_exact(row.get::<&[u8], _>(1)).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(StoredBlock {
        commitment: StateCommitment {
            parent_root: b32(row.get::<&[u8], _>(2))?,
            height: block.height(),
            changes_digest: b32(row.get::<&[u8], _>(3))?,
            receipts_root: b32(row.get::<&[u8], _>(4))?,
        },
        block: Arc::new(block),
        qc,
    })
}

/// A u64 as its SQLite integer: the same 64 bits as an i64, so [`u`] reads every value back
/// exactly (SQL would see a value past `i64::MAX` as negative; heights and amounts stay below).
pub(super) fn i(x: u64) -> i64 {
    x.cast_signed()
}

/// A committed transaction's status from a row of `SELECT id, height, idx, kind, ok, reason,
/// detail FROM txs` (the id already read from column 0).
pub(super) fn committed_status(id: &[u8; 32], r: &SqliteRow) -> Result<TxStatus, StoreError> {
    let outcome = outcome_of_columns(r.get(4), r.get(5))?;
    Ok(TxStatus {
        id: TxId(*id),
        status: if outcome.is_ok() {
            TxState::Final
        } else {
            TxState::Failed
        },
        height: Some(u(r.get(1))),
        index: Some(narrow(r.get(2), "transaction index")?),
        kind: Some(r.get(3)),
        reason: outcome.err(),
        detail: r.get(6),
    })
}

/// The outcome of a row of `SELECT id, ok, reason FROM txs`.
pub(super) fn outcome_of(r: &SqliteRow) -> Result<Result<(), FailCode>, StoreError> {
    outcome_of_columns(r.get(1), r.get(2))
}

/// A stored outcome: `ok`, or the code of the rule it broke.
pub(super) fn outcome_of_columns(ok: bool, reason: Option<&str>) -> Result<Result<(), FailCode>, StoreError> {
    match (ok, reason) {
        (true, _) => Ok(Ok(())),
        (false, Some(code)) => Ok(Err(parsed(code)?)),
        (false, None) => Err(StoreError::Corrupt(
            "a failed transaction without its reason".into(),
        )),
    }
}

/// A stored name (asset code, escrow status, failure code, feed kind) read back as its type.
pub(super) fn parsed<T: std::str::FromStr>(text: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|e: T::Err| StoreError::Corrupt(e.to_string()))
}

/// A u64 stored by [`i`], read back.
pub(super) fn u(x: i64) -> u64 {
    x.cast_unsigned()
}

/// A narrow column (asset scale, transaction index) read back as its type; a value out of its
/// range was not written by this store.
pub(super) fn narrow<T: TryFrom<i64>>(x: i64, what: &str) -> Result<T, StoreError> {
    T::try_from(x).map_err(|_| StoreError::corrupt(format!("{what} {x} is out of range")))
}

pub(super) fn b32(v: &[u8]) -> Result<[u8; 32], StoreError> {
    v.try_into()
        .map_err(|_| StoreError::Corrupt("expected 32 bytes".into()))
}
