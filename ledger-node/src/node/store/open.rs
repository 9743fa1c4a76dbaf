//! Opening the node's database: connection settings, the schema's migrations, and what a
//! restarted node resumes from (the committed state, the last block, the index rows not yet
//! merged, the ids its mempool must remember).

use std::path::Path;
use std::sync::{Arc, Mutex};

use plumbing::Durability;
use sqlx::Row;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use super::recent::{self, BlockRows, RecentIndex, block_index_rows};
use super::rows::{asset_of, b32, escrow_of, escrow_select, parsed, u};
use super::{Loaded, Store, StoreError};
use crate::codec::decode_exact;
use crate::state::{AccountId, AnchorTip, AssetCode, EscrowId, State, Transaction};
use crate::types::{Block, QuorumCert};

/// The chain's databases: [`plumbing::sqlite::options`] with a large statement cache (the writer
/// runs the same few scripts every block) and 16 MiB of page cache. Chain data is written with
/// `Durability::Normal`: a node that loses its last blocks in a power loss fetches them again
/// from its peers; the safety record is `Full`.
pub(super) fn options(path: &Path, durability: Durability) -> SqliteConnectOptions {
    plumbing::sqlite::options(path, durability)
        .statement_cache_capacity(1024)
        .pragma("cache_size", "-16384")
}

fn migrator() -> Migrator {
    plumbing::sqlite::migrator(&[
        (1, "chain schema", include_str!("schema.sql")),
        (2, "escrow lookups", include_str!("schema_2_escrow_lookups.sql")),
        (3, "batched id index", include_str!("schema_3_tx_ids.sql")),
        (4, "anchor sequence", include_str!("schema_4_anchor_sequence.sql")),
        (5, "finality evidence", include_str!("schema_5_finality.sql")),
        (6, "did registry", include_str!("schema_6_dids.sql")),
    ])
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
            let (code, info) = asset_of(&row)?;
            state.assets.insert(code, info);
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
        // Each namespace's tip is its highest batch (SQLite takes the bare column `batch` from
        // the row holding the MAX).
        for row in sqlx::query(
            "SELECT submitter, namespace, MAX(sequence), batch FROM anchors WHERE sequence > 0 \
             GROUP BY submitter, namespace",
        )
        .fetch_all(&mut self.writer)
        .await?
        {
            let batch: Option<&[u8]> = row.get(3);
            state.anchor_tips.insert(
                (AccountId(b32(row.get::<&[u8], _>(0))?), row.get::<String, _>(1)),
                AnchorTip {
                    sequence: u(row.get(2)),
                    batch: b32(batch.ok_or_else(|| StoreError::Corrupt("anchor batch hash".into()))?)?,
                },
            );
        }
        for row in sqlx::query(escrow_select!("status = 'prepared'"))
            .fetch_all(&mut self.writer)
            .await?
        {
            let e = escrow_of(&row)?;
            state.open.insert(e.id, e);
        }
        super::dids::load_into(&mut self.writer, &mut state).await?;
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
        rows.ids.extend(block.payload().iter().enumerate().map(|(k, t)| {
            let k = u32::try_from(k).expect("a block holds at most MAX_TXS transactions");
            (crate::merkle::leaf_hash(t), block.height(), k)
        }));
        rows.through = block.height();
    }
    let mut recent = RecentIndex::default();
    recent.hold(rows);
    Ok(recent)
}
