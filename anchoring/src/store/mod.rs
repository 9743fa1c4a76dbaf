//! The service's SQLite database: items (digests, open until their batch is sealed, then with
//! their batch number, leaf index and Merkle path) and batches (link, root, the signed anchor
//! transaction and its nonce, state, and once final the block's proof). Opening, the reads
//! recovery starts from, and the reads the API serves live here; the writer's scripts are in
//! [`write`].

pub mod write;

use std::path::Path;

use ledger_node::merkle::PathStep;
use plumbing::{Durability, StoreError};
use sqlx::Row;
use sqlx::sqlite::{SqliteConnection, SqlitePool};

use crate::batch::{BatchState, Link, SequenceChain};
use crate::tree::decode_path;

const SCHEMA: &str = include_str!("schema.sql");

/// The open database: the writer connection (handed to the engine) and the read pool.
#[derive(Debug)]
pub struct Store {
    /// The only connection that writes.
    pub writer: SqliteConnection,
    /// Readers (API and recovery).
    pub readers: SqlitePool,
}

/// Opens (creating and migrating) the database at `path`.
pub async fn open(path: &Path, durability: Durability) -> Result<Store, StoreError> {
    let migrator = plumbing::sqlite::migrator(&[(1, "anchoring", SCHEMA)]);
    let o = plumbing::sqlite::open(
        path,
        plumbing::sqlite::options(path, durability),
        plumbing::sqlite::options(path, durability).read_only(true),
        &migrator,
    )
    .await?;
    Ok(Store {
        writer: o.writer,
        readers: o.readers,
    })
}

/// A `u64` as SQLite's integer.
pub(crate) fn int(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::corrupt(format!("{v} does not fit a SQLite integer")))
}

/// A stored integer as `u64`.
pub(crate) fn uint(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::corrupt(format!("negative stored value {v}")))
}

fn h32(b: &[u8], what: &str) -> Result<[u8; 32], StoreError> {
    <[u8; 32]>::try_from(b).map_err(|_| StoreError::corrupt(format!("{what} is not 32 bytes")))
}

/// An item not yet in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenItem {
    /// Its id.
    pub id: u64,
    /// The digest.
    pub digest: [u8; 32],
    /// When it was acknowledged (Unix ms).
    pub accepted_ms: u64,
}

/// A sealed batch as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRow {
    /// Namespace.
    pub namespace: String,
    /// Number, previous and hash.
    pub link: Link,
    /// Merkle root of its digests.
    pub root: [u8; 32],
    /// How many digests.
    pub items: u64,
    /// Where it stands.
    pub state: BatchState,
    /// The signed anchor transaction.
    pub tx: Vec<u8>,
    /// Its id.
    pub tx_id: [u8; 32],
    /// Its nonce.
    pub nonce: u64,
    /// When it was sealed (Unix ms).
    pub sealed_ms: u64,
    /// Height of its block, once final.
    pub height: Option<u64>,
    /// The block's inclusion proof of the transaction (JSON), once final.
    pub proof: Option<String>,
}

/// The columns [`batch_row`] reads.
macro_rules! batch_columns {
    () => {
        "namespace, sequence, previous, batch_hash, root, items, state, tx, tx_id, nonce, sealed_ms, height, proof"
    };
}

fn batch_row(r: &sqlx::sqlite::SqliteRow) -> Result<BatchRow, StoreError> {
    let state: String = r.try_get("state")?;
    Ok(BatchRow {
        namespace: r.try_get("namespace")?,
        link: Link {
            sequence: uint(r.try_get("sequence")?)?,
            previous: h32(r.try_get("previous")?, "previous")?,
            hash: h32(r.try_get("batch_hash")?, "batch hash")?,
        },
        root: h32(r.try_get("root")?, "root")?,
        items: uint(r.try_get("items")?)?,
        state: BatchState::parse(&state)
            .ok_or_else(|| StoreError::corrupt(format!("batch state {state:?}")))?,
        tx: r.try_get("tx")?,
        tx_id: h32(r.try_get("tx_id")?, "tx id")?,
        nonce: uint(r.try_get("nonce")?)?,
        sealed_ms: uint(r.try_get("sealed_ms")?)?,
        height: r.try_get::<Option<i64>, _>("height")?.map(uint).transpose()?,
        proof: r.try_get("proof")?,
    })
}

/// What the engine needs to resume after a start.
#[derive(Debug, Default)]
pub struct Recovered {
    /// The largest item id used (0: none).
    pub last_item: u64,
    /// The largest nonce any stored transaction uses (0: none).
    pub last_nonce: u64,
    /// Per namespace: its last batch (sealed or later).
    pub chains: Vec<(String, SequenceChain)>,
    /// Per namespace: its open items, oldest first.
    pub open: Vec<(String, Vec<OpenItem>)>,
    /// Batches not final yet, by nonce.
    pub unfinished: Vec<BatchRow>,
}

/// Reads everything recovery needs.
pub async fn recover(db: &SqlitePool) -> Result<Recovered, StoreError> {
    let mut out = Recovered {
        last_item: uint(
            sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM items")
                .fetch_one(db)
                .await?,
        )?,
        last_nonce: uint(
            sqlx::query_scalar("SELECT COALESCE(MAX(nonce), 0) FROM batches")
                .fetch_one(db)
                .await?,
        )?,
        ..Recovered::default()
    };
    let rows = sqlx::query(
        "SELECT namespace, sequence, batch_hash FROM batches b WHERE sequence = \
         (SELECT MAX(sequence) FROM batches WHERE namespace = b.namespace)",
    )
    .fetch_all(db)
    .await?;
    for r in rows {
        out.chains.push((
            r.try_get("namespace")?,
            SequenceChain {
                sequence: uint(r.try_get("sequence")?)?,
                hash: h32(r.try_get("batch_hash")?, "batch hash")?,
            },
        ));
    }
    let rows = sqlx::query(
        "SELECT id, namespace, digest, accepted_ms FROM items WHERE sequence IS NULL ORDER BY namespace, id",
    )
    .fetch_all(db)
    .await?;
    for r in rows {
        let ns: String = r.try_get("namespace")?;
        let item = OpenItem {
            id: uint(r.try_get("id")?)?,
            digest: h32(r.try_get("digest")?, "digest")?,
            accepted_ms: uint(r.try_get("accepted_ms")?)?,
        };
        match out.open.last_mut() {
            Some((last, items)) if *last == ns => items.push(item),
            _ => out.open.push((ns, vec![item])),
        }
    }
    let sql = concat!(
        "SELECT ",
        batch_columns!(),
        " FROM batches WHERE state != 'final' ORDER BY nonce"
    );
    for r in sqlx::query(sql).fetch_all(db).await? {
        out.unfinished.push(batch_row(&r)?);
    }
    Ok(out)
}

/// One batch.
pub async fn batch(db: &SqlitePool, namespace: &str, sequence: u64) -> Result<Option<BatchRow>, StoreError> {
    let sql = concat!(
        "SELECT ",
        batch_columns!(),
        " FROM batches WHERE namespace = ? AND sequence = ?"
    );
    let row = sqlx::query(sql)
        .bind(namespace)
        .bind(int(sequence)?)
        .fetch_optional(db)
        .await?;
    row.as_ref().map(batch_row).transpose()
}

/// An item with, once sealed, its place and its batch.
#[derive(Debug, Clone)]
pub struct ItemRow {
    /// Id.
    pub id: u64,
    /// Namespace.
    pub namespace: String,
    /// Digest.
    pub digest: [u8; 32],
    /// Its batch's number, leaf index and path, once sealed.
    pub place: Option<(u64, u64, Vec<PathStep>)>,
    /// Its batch's state and proof, once sealed.
    pub batch: Option<(BatchState, Option<String>)>,
}

/// One item.
pub async fn item(db: &SqlitePool, id: u64) -> Result<Option<ItemRow>, StoreError> {
    let row = sqlx::query(
        "SELECT i.id, i.namespace, i.digest, i.sequence, i.leaf, i.path, b.state, b.proof \
         FROM items i LEFT JOIN batches b ON b.namespace = i.namespace AND b.sequence = i.sequence \
         WHERE i.id = ?",
    )
    .bind(int(id)?)
    .fetch_optional(db)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let place = match (
        r.try_get::<Option<i64>, _>("sequence")?,
        r.try_get::<Option<i64>, _>("leaf")?,
        r.try_get::<Option<Vec<u8>>, _>("path")?,
    ) {
        (Some(s), Some(l), Some(p)) => Some((
            uint(s)?,
            uint(l)?,
            decode_path(&p).ok_or_else(|| StoreError::corrupt("stored path"))?,
        )),
        _ => None,
    };
    let batch = match r.try_get::<Option<String>, _>("state")? {
        Some(s) => Some((
            BatchState::parse(&s).ok_or_else(|| StoreError::corrupt(format!("batch state {s:?}")))?,
            r.try_get("proof")?,
        )),
        None => None,
    };
    Ok(Some(ItemRow {
        id: uint(r.try_get("id")?)?,
        namespace: r.try_get("namespace")?,
        digest: h32(r.try_get("digest")?, "digest")?,
        place,
        batch,
    }))
}
