//! The reader's queries about the chain itself: transactions (status, location, by account),
//! blocks with their certificates, receipts and the event feed. What the API and peers catching
//! up ask; each answer is from one committed height.

use std::collections::{HashMap, HashSet};

use sqlx::{QueryBuilder, Row, Sqlite};

use super::recent::merge_newest;
use super::rows::{b32, committed_status, i, narrow, outcome_of, parsed, stored_block, u};
use super::{FinalityEvidence, ID_PREFIX_LEN, Reader, StoreError, StoredBlock, lock};
use crate::api::types::{EscrowView, EventView, FeedKind, TxStatus};
use crate::codec::{Decode, decode_exact};
use crate::consensus::core::FinalBy;
use crate::state::{AccountId, FailCode, TxId};
use crate::types::BlockHeader;

/// Most transaction ids bound in one `IN (...)` lookup (SQLite allows 32,766 variables).
const IDS_PER_LOOKUP: usize = 500;

impl Reader {
    /// Copies WAL pages into the database without waiting (keeps the WAL short).
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Height of the last stored block (0 before the first commit).
    pub async fn committed_height(&self) -> Result<u64, StoreError> {
        let h: Option<i64> = sqlx::query_scalar("SELECT MAX(height) FROM blocks")
            .fetch_one(&self.pool)
            .await?;
        Ok(h.map_or(0, u))
    }

    /// A committed transaction's status.
    pub async fn tx_status(&self, id: &[u8; 32]) -> Result<Option<TxStatus>, StoreError> {
        Ok(self.tx_statuses(std::slice::from_ref(id)).await?.remove(id))
    }

    /// The statuses of those of `ids` that are committed: first those in the merged by-id
    /// index, in one query per `IDS_PER_LOOKUP` ids (admitting a batch of a thousand
    /// transactions costs a few round trips to SQLite instead of a thousand), then the rest
    /// from the recent blocks' index held in memory. An id committed more than once keeps its
    /// first (lowest) height: merged heights are all below the held ones.
    pub async fn tx_statuses(&self, ids: &[[u8; 32]]) -> Result<HashMap<[u8; 32], TxStatus>, StoreError> {
        let mut found = HashMap::new();
        let wanted: HashSet<&[u8; 32]> = ids.iter().collect();
        for chunk in ids.chunks(IDS_PER_LOOKUP) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                "SELECT t.id, t.height, t.idx, t.kind, t.ok, t.reason, t.detail FROM tx_ids x \
                 JOIN txs t ON t.height = x.height AND t.idx = x.idx WHERE x.prefix IN (",
            );
            let mut list = q.separated(", ");
            for id in chunk {
                list.push_bind(&id[..ID_PREFIX_LEN]);
            }
            q.push(") ORDER BY t.height, t.idx");
            for r in q.build().fetch_all(&self.pool).await? {
                // Ids that only share the prefix are not what was asked for.
                match <[u8; 32]>::try_from(r.get::<&[u8], _>(0)) {
                    Ok(id) if wanted.contains(&id) && !found.contains_key(&id) => {
                        found.insert(id, committed_status(&id, &r)?);
                    }
                    _ => {}
                }
            }
        }
        let held: Vec<(u64, u32)> = {
            let recent = lock(&self.recent);
            ids.iter()
                .filter(|id| !found.contains_key(*id))
                .filter_map(|id| recent.location(id))
                .collect()
        };
        for (id, status) in self.statuses_at(&held).await? {
            found.entry(id).or_insert(status);
        }
        Ok(found)
    }

    /// Where a committed transaction is: (height, index).
    pub async fn tx_location(&self, id: &[u8; 32]) -> Result<Option<(u64, u32)>, StoreError> {
        Ok(self
            .tx_status(id)
            .await?
            .and_then(|s| Some((s.height?, s.index?))))
    }

    /// The ids and statuses of the transactions at these (height, index) places, in the same
    /// order.
    async fn statuses_at(&self, places: &[(u64, u32)]) -> Result<Vec<([u8; 32], TxStatus)>, StoreError> {
        if places.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<(i64, i64)> = places.iter().map(|&(h, k)| (i(h), i64::from(k))).collect();
        let rows = sqlx::query(
            "SELECT t.id, t.height, t.idx, t.kind, t.ok, t.reason, t.detail FROM json_each(?) j \
             JOIN txs t ON t.height = j.value->>0 AND t.idx = j.value->>1 ORDER BY j.key",
        )
        .bind(serde_json::to_string(&keys).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                let id = b32(r.get::<&[u8], _>(0))?;
                Ok((id, committed_status(&id, &r)?))
            })
            .collect()
    }

    /// Up to `limit` of `id`'s by-account rows merged into `account_txs`, newest first.
    async fn merged_account_rows(&self, id: &AccountId, limit: u32) -> Result<Vec<(u64, u32)>, StoreError> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT height, idx FROM account_txs WHERE account = ? ORDER BY height DESC, idx DESC LIMIT ?",
        )
        .bind(&id.0[..])
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(h, k)| Ok((u(h), narrow(k, "transaction index")?)))
            .collect()
    }

    /// Committed transaction ids of an account, newest first: the rows of recent blocks held
    /// in memory, then those merged into `account_txs`.
    pub async fn account_txs(&self, id: &AccountId, limit: u32) -> Result<Vec<TxStatus>, StoreError> {
        let recent = lock(&self.recent).newest(&id.0, limit as usize);
        // The newest rows are in memory; SQLite is asked only when they are not enough.
        let merged = if recent.len() >= limit as usize {
            Vec::new()
        } else {
            self.merged_account_rows(id, limit).await?
        };
        let places = merge_newest(&recent, &merged, limit as usize);
        Ok(self
            .statuses_at(&places)
            .await?
            .into_iter()
            .map(|(_, s)| s)
            .collect())
    }

    /// A committed block by height.
    pub async fn block(&self, height: u64) -> Result<Option<StoredBlock>, StoreError> {
        let row = sqlx::query(
            "SELECT block, qc, state_parent, changes_digest, receipts_root FROM blocks WHERE height = ?",
        )
        .bind(i(height))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(stored_block).transpose()
    }

    /// What proves the block at `height` final: the first stored finality evidence at or above
    /// it (the commit that made it final), with the headers between. `None` when no commit at
    /// or above `height` has stored its evidence yet (not final yet, or final through a commit
    /// whose evidence is still being written), or when more than `max_between` headers lie
    /// between (the caller answers "retry" rather than with a weaker proof).
    pub async fn finality(
        &self,
        height: u64,
        max_between: usize,
    ) -> Result<Option<FinalityEvidence>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT height, child, child_qc FROM finality WHERE height >= ? ORDER BY height LIMIT 1",
        )
        .bind(i(height))
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let top = u(row.get(0));
        let corrupt = |e: crate::Error| StoreError::Corrupt(format!("finality evidence: {e}"));
        let final_by = FinalBy {
            child: decode_exact(row.get::<&[u8], _>(1)).map_err(corrupt)?,
            child_qc: decode_exact(row.get::<&[u8], _>(2)).map_err(corrupt)?,
        };
        if usize::try_from(top - height).map_or(true, |n| n > max_between) {
            return Ok(None);
        }
        // A block's encoding starts with its header; the header (certificate included) is far
        // below 4 KiB, so only that prefix is read.
        let rows = sqlx::query(
            "SELECT substr(block, 1, 4096) FROM blocks WHERE height > ? AND height <= ? ORDER BY height",
        )
        .bind(i(height))
        .bind(i(top))
        .fetch_all(&self.pool)
        .await?;
        let mut between = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut reader = crate::codec::Reader::new(r.get::<&[u8], _>(0));
            between.push(BlockHeader::decode(&mut reader).map_err(corrupt)?);
        }
        if u64::try_from(between.len()).ok() != Some(top - height) {
            return Ok(None);
        }
        Ok(Some(FinalityEvidence { between, final_by }))
    }

    /// Committed blocks from `from` upwards, at most `max` of them and about `max_bytes`.
    pub async fn blocks_from(
        &self,
        from: u64,
        max: u32,
        max_bytes: usize,
    ) -> Result<Vec<StoredBlock>, StoreError> {
        let rows = sqlx::query(
            "SELECT block, qc, state_parent, changes_digest, receipts_root FROM blocks WHERE height >= ? \
             ORDER BY height LIMIT ?",
        )
        .bind(i(from))
        .bind(i64::from(max))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        let mut bytes = 0;
        for r in &rows {
            let b = stored_block(r)?;
            bytes += b.block.payload_bytes() + 512;
            out.push(b);
            if bytes >= max_bytes {
                break;
            }
        }
        Ok(out)
    }

    /// The receipts of the block at `height` in order: (tx id, outcome with the code of the
    /// rule a failed one broke).
    pub async fn receipts(&self, height: u64) -> Result<Vec<([u8; 32], Result<(), FailCode>)>, StoreError> {
        let rows = sqlx::query("SELECT id, ok, reason FROM txs WHERE height = ? ORDER BY idx")
            .bind(i(height))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((b32(r.get::<&[u8], _>(0))?, outcome_of(r)?)))
            .collect()
    }

    /// Events after `after`, at most `limit`.
    pub async fn events_after(&self, after: u64, limit: u32) -> Result<Vec<EventView>, StoreError> {
        // The block times: of the event, and of the escrow's creation (its height is in the
        // stored view; anchors have none, so that join finds nothing).
        let rows = sqlx::query(
            "SELECT ev.seq, ev.height, ev.tx_id, ev.kind, ev.data, b.timestamp_ms, cb.timestamp_ms \
             FROM events ev LEFT JOIN blocks b ON b.height = ev.height \
             LEFT JOIN blocks cb ON cb.height = json_extract(ev.data, '$.created_height') \
             WHERE ev.seq > ? ORDER BY ev.seq LIMIT ?",
        )
        .bind(i(after))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                let kind: FeedKind = parsed(r.get::<&str, _>(3))?;
                let data: &str = r.get(4);
                let time_ms = r.get::<Option<i64>, _>(5).map_or(0, u);
                let (escrow, anchor) = if kind == FeedKind::Anchored {
                    (None, serde_json::from_str(data).ok())
                } else {
                    let escrow = serde_json::from_str::<EscrowView>(data).ok().map(|mut e| {
                        e.created_at_ms = r.get::<Option<i64>, _>(6).map(u);
                        e.closed_at_ms = e.closed_height.map(|_| time_ms);
                        e
                    });
                    (escrow, None)
                };
                Ok(EventView {
                    cursor: u(r.get(0)),
                    height: u(r.get(1)),
                    time_ms,
                    tx_id: TxId(b32(r.get::<&[u8], _>(2))?),
                    kind,
                    escrow,
                    anchor,
                })
            })
            .collect()
    }

    /// The cursor of the last event.
    pub async fn last_event(&self) -> Result<u64, StoreError> {
        let s: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM events")
            .fetch_one(&self.pool)
            .await?;
        Ok(s.map_or(0, u))
    }
}
