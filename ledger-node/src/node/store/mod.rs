//! SQLite storage (sqlx, WAL): committed blocks with their certificates, transactions with their
//! outcomes, the committed state, the event feed, and the consensus safety record.
//!
//! One writer connection persists committed blocks in group commits (several blocks, one
//! transaction); a small read pool answers the API and peers catching up. The safety record has
//! its own connection with `synchronous = FULL`, so a vote leaves only after the record is on
//! disk; chain data uses `NORMAL` (a crash of the process loses nothing; a power loss may lose
//! the last blocks, which are fetched again from peers).

pub mod recent;
mod write;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use htlc::{Condition, EscrowStatus, Fulfillment, Timestamp};
use plumbing::Durability;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqlitePool};
use sqlx::{Connection, QueryBuilder, Row, Sqlite};

use crate::api::types::{
    AccountView, AnchorView, AssetBalance, AssetView, EscrowView, EventView, FeedKind, TxState, TxStatus,
};
use crate::codec::{decode_exact, encode_to_vec};
use crate::consensus::safety::{SafetyRecord, SafetyStorage};
use crate::state::exec::StateCommitment;
use crate::state::types::hex_of;
use crate::state::{
    AccountId, AssetCode, AssetInfo, Escrow, EscrowId, Executed, FailCode, State, Transaction, TxId,
};
use crate::types::{Block, QuorumCert};
use recent::{BlockRows, RecentIndex, block_index_rows, merge_newest};

/// Most transaction ids bound in one `IN (...)` lookup (SQLite allows 32,766 variables).
const IDS_PER_LOOKUP: usize = 500;

/// How many leading bytes of a transaction id the merged by-id index (`tx_ids`) keeps.
const ID_PREFIX_LEN: usize = 8;

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

fn escrow_view_of(row: &sqlx::sqlite::SqliteRow) -> Result<EscrowView, StoreError> {
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

fn escrow_of(row: &sqlx::sqlite::SqliteRow) -> Result<Escrow, StoreError> {
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

fn stored_block(row: &sqlx::sqlite::SqliteRow) -> Result<StoredBlock, StoreError> {
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
        let wanted: std::collections::HashSet<&[u8; 32]> = ids.iter().collect();
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

    /// An account's committed state.
    pub async fn account(&self, id: &AccountId) -> Result<AccountView, StoreError> {
        let nonce: Option<i64> = sqlx::query_scalar("SELECT nonce FROM accounts WHERE id = ?")
            .bind(&id.0[..])
            .fetch_optional(&self.pool)
            .await?;
        // Balances, and what the account's open escrows hold (the partial index of migration 2
        // covers the second part).
        let balances = sqlx::query(
            "SELECT asset, SUM(amount), SUM(held) FROM ( \
               SELECT asset, amount, 0 AS held FROM balances WHERE account = ?1 \
               UNION ALL \
               SELECT asset, 0, amount FROM escrows WHERE payer = ?1 AND status = 'prepared' \
             ) GROUP BY asset ORDER BY asset",
        )
        .bind(&id.0[..])
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| {
            Ok(AssetBalance {
                asset: parsed(r.get::<&str, _>(0))?,
                amount: u(r.get(1)),
                held: u(r.get(2)),
            })
        })
        .collect::<Result<_, StoreError>>()?;
        Ok(AccountView {
            account: *id,
            nonce: nonce.map_or(0, u),
            balances,
        })
    }

    /// The part of the committed state that admission needs to judge `txs`
    /// ([`crate::state::Admission`]): the escrows they name, the accounts they touch (signers,
    /// recipients, payees, the named escrows' parties) with their balances, and the assets they
    /// name. Read in one SQLite transaction, so all of it is from one committed height: the
    /// stored one, which is what the API answers (a client that waited for a transaction to be
    /// final finds its effects here).
    pub async fn admission_state(&self, txs: &[&Transaction]) -> Result<State, StoreError> {
        use std::collections::BTreeSet;

        use crate::state::Op;
        let mut accounts: BTreeSet<AccountId> = BTreeSet::new();
        let mut assets: BTreeSet<&str> = BTreeSet::new();
        let mut escrows: BTreeSet<EscrowId> = BTreeSet::new();
        for tx in txs {
            let signer = tx.body.signer;
            accounts.insert(signer);
            match &tx.body.op {
                Op::CreateAsset { code, .. } => {
                    assets.insert(code.as_str());
                }
                Op::Issue { asset, to, .. } | Op::Transfer { asset, to, .. } => {
                    assets.insert(asset.as_str());
                    accounts.insert(*to);
                }
                Op::Redeem { asset, .. } => {
                    assets.insert(asset.as_str());
                }
                Op::EscrowCreate {
                    reference,
                    asset,
                    payee,
                    ..
                } => {
                    assets.insert(asset.as_str());
                    accounts.insert(*payee);
                    escrows.insert(EscrowId::derive(&signer, reference));
                }
                Op::EscrowFulfill { escrow, .. }
                | Op::EscrowReject { escrow, .. }
                | Op::EscrowRefund { escrow } => {
                    escrows.insert(*escrow);
                }
                Op::Anchor { .. } => {}
            }
        }
        let hexes = |ids: &mut dyn Iterator<Item = &[u8; 32]>| -> Result<String, StoreError> {
            serde_json::to_string(&ids.map(|id| hex_of(id)).collect::<Vec<_>>())
                .map_err(|e| StoreError::Corrupt(e.to_string()))
        };
        let mut state = State::default();
        let mut db = self.pool.begin().await?;
        if !escrows.is_empty() {
            let rows = sqlx::query(escrow_select!("id IN (SELECT unhex(value) FROM json_each(?))"))
                .bind(hexes(&mut escrows.iter().map(|e| &e.0))?)
                .fetch_all(&mut *db)
                .await?;
            for row in &rows {
                let e = escrow_of(row)?;
                if e.status() == EscrowStatus::Prepared {
                    accounts.insert(e.payer);
                    accounts.insert(e.payee);
                    state.open.insert(e.id, e);
                } else {
                    state.closed.insert(e.id, e.status());
                }
            }
        }
        let ids = hexes(&mut accounts.iter().map(|a| &a.0))?;
        for row in sqlx::query(
            "SELECT id, nonce, used FROM accounts WHERE id IN (SELECT unhex(value) FROM json_each(?))",
        )
        .bind(&ids)
        .fetch_all(&mut *db)
        .await?
        {
            let a = state
                .accounts
                .entry(AccountId(b32(row.get::<&[u8], _>(0))?))
                .or_default();
            a.nonce = u(row.get(1));
            a.used = u(row.get(2));
        }
        for row in sqlx::query(
            "SELECT account, asset, amount FROM balances \
             WHERE account IN (SELECT unhex(value) FROM json_each(?))",
        )
        .bind(&ids)
        .fetch_all(&mut *db)
        .await?
        {
            let asset: AssetCode = parsed(row.get::<&str, _>(1))?;
            state
                .accounts
                .entry(AccountId(b32(row.get::<&[u8], _>(0))?))
                .or_default()
                .set_balance(&asset, u(row.get(2)));
        }
        if !assets.is_empty() {
            let codes = serde_json::to_string(&assets).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            for row in sqlx::query(
                "SELECT code, issuer, scale, supply FROM assets WHERE code IN (SELECT value FROM json_each(?))",
            )
            .bind(codes)
            .fetch_all(&mut *db)
            .await?
            {
                let code: AssetCode = parsed(row.get::<&str, _>(0))?;
                state.assets.insert(
                    code,
                    AssetInfo {
                        issuer: AccountId(b32(row.get::<&[u8], _>(1))?),
                        scale: row.get::<i64, _>(2) as u8,
                        supply: u(row.get(3)),
                    },
                );
            }
        }
        db.commit().await?;
        Ok(state)
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
        Ok(rows.into_iter().map(|(h, k)| (u(h), k as u32)).collect())
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

    /// An asset.
    pub async fn asset(&self, code: &AssetCode) -> Result<Option<AssetView>, StoreError> {
        let row = sqlx::query("SELECT code, issuer, scale, supply FROM assets WHERE code = ?")
            .bind(code.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(AssetView {
                code: parsed(r.get::<&str, _>(0))?,
                issuer: AccountId(b32(r.get::<&[u8], _>(1))?),
                scale: r.get::<i64, _>(2) as u8,
                supply: u(r.get(3)),
            })
        })
        .transpose()
    }

    /// An escrow.
    pub async fn escrow(&self, id: &EscrowId) -> Result<Option<Escrow>, StoreError> {
        let row = sqlx::query(escrow_select!("id = ?"))
            .bind(&id.0[..])
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(escrow_of).transpose()
    }

    /// An escrow with its block times.
    pub async fn escrow_view(&self, id: &EscrowId) -> Result<Option<EscrowView>, StoreError> {
        let row = sqlx::query(escrow_view_select!("e.id = ?"))
            .bind(&id.0[..])
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(escrow_view_of).transpose()
    }

    /// Escrows created with `reference` (by any payer), oldest first.
    pub async fn escrows_by_reference(
        &self,
        reference: &[u8; 16],
        limit: u32,
    ) -> Result<Vec<EscrowView>, StoreError> {
        let rows = sqlx::query(escrow_view_select!(
            "e.reference = ? ORDER BY e.created_height LIMIT ?"
        ))
        .bind(&reference[..])
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(escrow_view_of).collect()
    }

    /// `payer`'s escrows that are still open, earliest expiry first (what a payer refunds).
    pub async fn open_escrows_of(
        &self,
        payer: &AccountId,
        limit: u32,
    ) -> Result<Vec<EscrowView>, StoreError> {
        let rows = sqlx::query(escrow_view_select!(
            "e.payer = ? AND e.status = 'prepared' ORDER BY e.expires_at_ms LIMIT ?"
        ))
        .bind(&payer.0[..])
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(escrow_view_of).collect()
    }

    /// An anchor.
    pub async fn anchor(&self, id: &[u8; 32]) -> Result<Option<AnchorView>, StoreError> {
        let row =
            sqlx::query("SELECT id, namespace, root, items, submitter, height FROM anchors WHERE id = ?")
                .bind(&id[..])
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| {
            Ok(AnchorView {
                id: TxId(b32(r.get::<&[u8], _>(0))?),
                namespace: r.get(1),
                root: b32(r.get::<&[u8], _>(2))?,
                items: u(r.get(3)),
                submitter: AccountId(b32(r.get::<&[u8], _>(4))?),
                height: u(r.get(5)),
            })
        })
        .transpose()
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

pub use plumbing::StoreError;

/// A block to persist: the block, its certificate and what executing it did.
#[derive(Clone, Debug)]
pub struct CommittedItem {
    /// The block.
    pub block: Arc<Block>,
    /// The certificate certifying it.
    pub qc: QuorumCert,
    /// Its execution.
    pub exec: Arc<Executed>,
}

/// What a restarted node resumes from.
#[derive(Debug)]
pub struct Loaded {
    /// The committed state.
    pub state: State,
    /// The last committed block and its certificate (none before the first commit).
    pub last: Option<(Arc<Block>, QuorumCert)>,
    /// Next event sequence number.
    pub next_event: u64,
}

/// A stored block with its certificate and state commitment.
#[derive(Clone, Debug)]
pub struct StoredBlock {
    /// The block.
    pub block: Arc<Block>,
    /// Its certificate.
    pub qc: QuorumCert,
    /// How its state root was formed.
    pub commitment: StateCommitment,
}

/// The index rows (by account and by id) of the stored blocks above the height the last merge
/// covered.
async fn unmerged_index(conn: &mut SqliteConnection) -> Result<RecentIndex, StoreError> {
    let merged: i64 =
        sqlx::query_scalar("SELECT COALESCE((SELECT height FROM merged_index WHERE id = 1), 0)")
            .fetch_one(&mut *conn)
            .await?;
    let mut rows = BlockRows {
        through: u(merged),
        ..BlockRows::default()
    };
    let blocks =
        sqlx::query_scalar::<_, Vec<u8>>("SELECT block FROM blocks WHERE height > ? ORDER BY height")
            .bind(merged)
            .fetch_all(&mut *conn)
            .await?;
    for bytes in blocks {
        let block: Block = decode_exact(&bytes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let txs: Vec<Option<Transaction>> = block
            .payload()
            .iter()
            .map(|t| Transaction::decode(t).ok())
            .collect();
        rows.accounts.extend(block_index_rows(block.height(), &txs));
        // A transaction's id is the leaf hash of its bytes, decodable or not.
        rows.ids.extend(
            block
                .payload()
                .iter()
                .enumerate()
                .map(|(k, t)| (crate::merkle::leaf_hash(t), block.height(), k as u32)),
        );
        rows.through = block.height();
    }
    let mut recent = RecentIndex::default();
    recent.hold(rows);
    Ok(recent)
}

fn lock(recent: &Mutex<RecentIndex>) -> std::sync::MutexGuard<'_, RecentIndex> {
    recent.lock().unwrap_or_else(|p| p.into_inner())
}

fn i(x: u64) -> i64 {
    x as i64
}
/// A committed transaction's status from a row of `SELECT id, height, idx, kind, ok, reason,
/// detail FROM txs` (the id already read from column 0).
fn committed_status(id: &[u8; 32], r: &sqlx::sqlite::SqliteRow) -> Result<TxStatus, StoreError> {
    let outcome = outcome_of_columns(r.get(4), r.get(5))?;
    Ok(TxStatus {
        id: TxId(*id),
        status: if outcome.is_ok() {
            TxState::Final
        } else {
            TxState::Failed
        },
        height: Some(u(r.get(1))),
        index: Some(r.get::<i64, _>(2) as u32),
        kind: Some(r.get(3)),
        reason: outcome.err(),
        detail: r.get(6),
    })
}

/// The outcome of a row of `SELECT id, ok, reason FROM txs`.
fn outcome_of(r: &sqlx::sqlite::SqliteRow) -> Result<Result<(), FailCode>, StoreError> {
    outcome_of_columns(r.get(1), r.get(2))
}

/// A stored outcome: `ok`, or the code of the rule it broke.
fn outcome_of_columns(ok: bool, reason: Option<&str>) -> Result<Result<(), FailCode>, StoreError> {
    match (ok, reason) {
        (true, _) => Ok(Ok(())),
        (false, Some(code)) => Ok(Err(parsed(code)?)),
        (false, None) => Err(StoreError::Corrupt(
            "a failed transaction without its reason".into(),
        )),
    }
}

/// A stored name (asset code, escrow status, failure code, feed kind) read back as its type.
fn parsed<T: std::str::FromStr>(text: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|e: T::Err| StoreError::Corrupt(e.to_string()))
}

fn u(x: i64) -> u64 {
    x as u64
}

fn b32(v: &[u8]) -> Result<[u8; 32], StoreError> {
    v.try_into()
        .map_err(|_| StoreError::Corrupt("expected 32 bytes".into()))
}

/// The chain's databases: [`plumbing::sqlite::options`] with a large statement cache (the writer
/// runs the same few scripts every block) and 16 MiB of page cache. Chain data is written with
/// `Durability::Normal`: a node that loses its last blocks in a power loss fetches them again
/// from its peers; the safety record is `Full`.
fn options(path: &Path, durability: Durability) -> SqliteConnectOptions {
    plumbing::sqlite::options(path, durability)
        .statement_cache_capacity(1024)
        .pragma("cache_size", "-16384")
}

fn migrator() -> Migrator {
    plumbing::sqlite::migrator(&[
        (1, "chain schema", include_str!("schema.sql")),
        (2, "escrow lookups", include_str!("schema_2_escrow_lookups.sql")),
        (3, "batched id index", include_str!("schema_3_tx_ids.sql")),
    ])
}

/// The node's database.
pub struct Store {
    writer: SqliteConnection,
    pool: SqlitePool,
    next_event: u64,
    recent: Arc<Mutex<RecentIndex>>,
    /// Merge the held indexes once this many rows are held ([`recent::MERGE_ROWS`]).
    merge_rows: usize,
    /// Rows merged per group commit ([`recent::MERGE_CHUNK_ROWS`]).
    merge_chunk_rows: usize,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("next_event", &self.next_event)
            .finish()
    }
}

/// The read side, cloneable into API handlers.
#[derive(Clone, Debug)]
pub struct Reader {
    pool: SqlitePool,
    /// The index rows not yet merged into `account_txs` and `tx_ids`.
    recent: Arc<Mutex<RecentIndex>>,
}

impl Store {
    /// Opens (creating and migrating) the database at `path`.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let opts = options(path, Durability::Normal);
        let opened = plumbing::sqlite::open(path, opts.clone(), opts, &migrator()).await?;
        let (mut writer, pool) = (opened.writer, opened.readers);
        let next_event: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM events")
            .fetch_one(&mut writer)
            .await?;
        let recent = Arc::new(Mutex::new(unmerged_index(&mut writer).await?));
        Ok(Self {
            writer,
            pool,
            next_event: u(next_event),
            recent,
            merge_rows: recent::MERGE_ROWS,
            merge_chunk_rows: recent::MERGE_CHUNK_ROWS,
        })
    }

    /// Merges the held indexes into SQLite once `rows` rows are held in memory, `chunk` rows
    /// per group commit, instead of [`recent::MERGE_ROWS`] and [`recent::MERGE_CHUNK_ROWS`]
    /// (tests merge often, in small chunks, to cover every side).
    pub fn set_index_merge(&mut self, rows: usize, chunk: usize) {
        self.merge_rows = rows;
        self.merge_chunk_rows = chunk;
    }

    /// A handle for reads.
    pub fn reader(&self) -> Reader {
        Reader {
            pool: self.pool.clone(),
            recent: self.recent.clone(),
        }
    }

    /// Loads the committed state and the last committed block.
    pub async fn load(&mut self, chain_id: &[u8; 32]) -> Result<Loaded, StoreError> {
        let mut state = State::genesis(chain_id);
        for row in sqlx::query("SELECT id, nonce, used FROM accounts")
            .fetch_all(&mut self.writer)
            .await?
        {
            let id = AccountId(b32(row.get::<&[u8], _>(0))?);
            let a = state.accounts.entry(id).or_default();
            a.nonce = u(row.get(1));
            a.used = u(row.get(2));
        }
        for row in sqlx::query("SELECT account, asset, amount FROM balances")
            .fetch_all(&mut self.writer)
            .await?
        {
            let id = AccountId(b32(row.get::<&[u8], _>(0))?);
            let asset: AssetCode = parsed(row.get::<&str, _>(1))?;
            state
                .accounts
                .entry(id)
                .or_default()
                .set_balance(&asset, u(row.get(2)));
        }
        for row in sqlx::query("SELECT code, issuer, scale, supply FROM assets")
            .fetch_all(&mut self.writer)
            .await?
        {
            let code: AssetCode = parsed(row.get::<&str, _>(0))?;
            state.assets.insert(
                code,
                AssetInfo {
                    issuer: AccountId(b32(row.get::<&[u8], _>(1))?),
                    scale: row.get::<i64, _>(2) as u8,
                    supply: u(row.get(3)),
                },
            );
        }
        for row in sqlx::query("SELECT id, status FROM escrows WHERE status <> 'prepared'")
            .fetch_all(&mut self.writer)
            .await?
        {
            state.closed.insert(
                EscrowId(b32(row.get::<&[u8], _>(0))?),
                parsed(row.get::<&str, _>(1))?,
            );
        }
        for row in sqlx::query(escrow_select!("status = 'prepared'"))
            .fetch_all(&mut self.writer)
            .await?
        {
            let e = escrow_of(&row)?;
            state.open.insert(e.id, e);
        }
        let last = sqlx::query("SELECT block, qc FROM blocks ORDER BY height DESC LIMIT 1")
            .fetch_optional(&mut self.writer)
            .await?;
        let last = match last {
            None => None,
            Some(row) => {
                let block: Block =
                    decode_exact(row.get::<&[u8], _>(0)).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let qc: QuorumCert =
                    decode_exact(row.get::<&[u8], _>(1)).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                state.height = block.height();
                state.root = block.header().state_root;
                Some((Arc::new(block), qc))
            }
        };
        Ok(Loaded {
            state,
            last,
            next_event: self.next_event,
        })
    }

    /// The ids of the last `limit` committed transactions, oldest first: what a restarted
    /// validator's mempool must remember as committed ([`crate::consensus::mempool::Mempool::recovered`]).
    pub async fn recent_tx_ids(&mut self, limit: usize) -> Result<Vec<[u8; 32]>, StoreError> {
        let rows: Vec<Vec<u8>> =
            sqlx::query_scalar("SELECT id FROM txs ORDER BY height DESC, idx DESC LIMIT ?")
                .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                .fetch_all(&mut self.writer)
                .await?;
        let mut ids = rows.iter().map(|r| b32(r)).collect::<Result<Vec<_>, _>>()?;
        ids.reverse();
        Ok(ids)
    }

    /// Persists committed blocks, in order, in one transaction. Returns the new last event
    /// cursor.
    pub async fn write(&mut self, items: &[CommittedItem]) -> Result<u64, StoreError> {
        let (next_event, index) = write::write_group(&mut self.writer, items, self.next_event).await?;
        self.next_event = next_event;
        let chunk = {
            let mut recent = lock(&self.recent);
            recent.hold(index);
            recent.next_chunk(self.merge_rows, self.merge_chunk_rows)
        };
        if let Some(chunk) = chunk {
            write::merge_index(&mut self.writer, &chunk).await?;
            lock(&self.recent).chunk_written(&chunk);
            if chunk.through != 0 {
                tracing::debug!(through = chunk.through, "indexes merged");
            }
        }
        Ok(self.next_event - 1)
    }
}

/// The safety record in SQLite, behind the synchronous [`SafetyStorage`] trait. The consensus
/// core runs on its own OS thread (never inside the async runtime), so `save` can block on the
/// runtime to run the write, and returns only once SQLite has synced it (`synchronous = FULL`).
pub struct SqliteSafety {
    conn: SqliteConnection,
    rt: tokio::runtime::Handle,
}

impl std::fmt::Debug for SqliteSafety {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteSafety")
    }
}

impl SqliteSafety {
    /// Opens (creating) the safety database at `path` with `synchronous = FULL`. It is a file
    /// of its own so each save syncs a few hundred bytes, not the chain's write-ahead log.
    pub async fn open(path: &Path, rt: tokio::runtime::Handle) -> Result<Self, StoreError> {
        let mut conn = SqliteConnection::connect_with(&options(path, Durability::Full)).await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS safety (id INTEGER PRIMARY KEY CHECK (id = 1), record BLOB NOT NULL)",
        )
        .execute(&mut conn)
        .await?;
        Ok(Self { conn, rt })
    }
}

impl SafetyStorage for SqliteSafety {
    fn load(&mut self) -> crate::Result<Option<SafetyRecord>> {
        let conn = &mut self.conn;
        let row: Option<Vec<u8>> = self
            .rt
            .block_on(sqlx::query_scalar("SELECT record FROM safety WHERE id = 1").fetch_optional(conn))
            .map_err(|e| crate::Error::Storage(e.to_string()))?;
        row.map(|b| decode_exact::<SafetyRecord>(&b)).transpose()
    }

    fn save(&mut self, record: &SafetyRecord) -> crate::Result<()> {
        let bytes = encode_to_vec(record);
        let conn = &mut self.conn;
        self.rt
            .block_on(
                sqlx::query("INSERT INTO safety (id, record) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record")
                    .bind(bytes)
                    .execute(conn),
            )
            .map_err(|e| crate::Error::Storage(e.to_string()))?;
        Ok(())
    }
}
