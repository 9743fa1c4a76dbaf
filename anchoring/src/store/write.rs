//! The writer's scripts. Each is one transaction of constant text (parsed once, then served from
//! the statement cache); a group's rows travel as one JSON array unpacked by `jsonb_each`, blobs
//! as hex, as the mock ledgers' writer does. A failed statement rolls the whole group back
//! (`plumbing::sqlite::commit_or_roll_back`).

use plumbing::StoreError;
use serde::Serialize;
use sqlx::sqlite::SqliteConnection;

use super::int;
use crate::batch::BatchState;
use crate::store::BatchRow;

/// A group of acknowledged digests: `[id, namespace, digest hex, accepted ms]` rows.
const ACCEPT: &str = "BEGIN; \
INSERT INTO items (id, namespace, digest, accepted_ms) \
 SELECT value->>0, value->>1, unhex(value->>2), value->>3 FROM jsonb_each(?); \
COMMIT;";

/// A sealed batch: its row, then each item's number, leaf and path (`[id, leaf, path hex]`).
/// The items must be open and the batch number new, or nothing is written.
const SEAL: &str = "BEGIN; \
INSERT INTO batches (namespace, sequence, previous, batch_hash, root, items, state, tx, tx_id, nonce, sealed_ms) \
 VALUES (?, ?, ?, ?, ?, ?, 'sealed', ?, ?, ?, ?); \
UPDATE items SET sequence = ?, leaf = j.value->>1, path = unhex(j.value->>2) \
 FROM jsonb_each(?) AS j WHERE items.id = j.value->>0 AND items.sequence IS NULL; \
COMMIT;";

/// A batch's transaction signed again with a fresh nonce (after its first one failed).
const RESIGN: &str = "BEGIN; \
UPDATE batches SET tx = ?, tx_id = ?, nonce = ?, state = 'sealed' \
 WHERE namespace = ? AND sequence = ? AND state != 'final'; \
COMMIT;";

/// A new state short of final.
const SET_STATE: &str = "BEGIN; \
UPDATE batches SET state = ? WHERE namespace = ? AND sequence = ? AND state != 'final'; \
COMMIT;";

/// A batch made final: its height, when, and the block's proof.
const FINALIZE: &str = "BEGIN; \
UPDATE batches SET state = 'final', height = ?, final_ms = ?, proof = ? \
 WHERE namespace = ? AND sequence = ? AND state != 'final'; \
COMMIT;";

fn json<T: Serialize>(rows: &[T]) -> Result<String, StoreError> {
    serde_json::to_string(rows).map_err(StoreError::corrupt)
}

/// One acknowledged digest.
#[derive(Debug, Clone)]
pub struct NewItem<'a> {
    /// Its id.
    pub id: u64,
    /// Namespace.
    pub namespace: &'a str,
    /// Digest.
    pub digest: [u8; 32],
    /// When (Unix ms).
    pub accepted_ms: u64,
}

/// Stores a group of digests in one transaction.
pub async fn accept(conn: &mut SqliteConnection, items: &[NewItem<'_>]) -> Result<(), StoreError> {
    let rows = items
        .iter()
        .map(|i| {
            Ok((
                int(i.id)?,
                i.namespace,
                hex::encode(i.digest),
                int(i.accepted_ms)?,
            ))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    plumbing::sqlite::commit_or_roll_back(conn, sqlx::query(ACCEPT).bind(json(&rows)?)).await
}

/// Stores a sealed batch and its items' places in one transaction. `places`: (item id, leaf
/// index, stored path).
pub async fn seal(
    conn: &mut SqliteConnection,
    b: &BatchRow,
    places: &[(u64, u64, Vec<u8>)],
) -> Result<(), StoreError> {
    let rows = places
        .iter()
        .map(|(id, leaf, path)| Ok((int(*id)?, int(*leaf)?, hex::encode(path))))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let q = sqlx::query(SEAL)
        .bind(&b.namespace)
        .bind(int(b.link.sequence)?)
        .bind(&b.link.previous[..])
        .bind(&b.link.hash[..])
        .bind(&b.root[..])
        .bind(int(b.items)?)
        .bind(&b.tx)
        .bind(&b.tx_id[..])
        .bind(int(b.nonce)?)
        .bind(int(b.sealed_ms)?)
        .bind(int(b.link.sequence)?)
        .bind(json(&rows)?);
    plumbing::sqlite::commit_or_roll_back(conn, q).await
}

/// Stores a batch's new transaction (same batch, fresh nonce).
pub async fn resign(
    conn: &mut SqliteConnection,
    namespace: &str,
    sequence: u64,
    tx: &[u8],
    tx_id: &[u8; 32],
    nonce: u64,
) -> Result<(), StoreError> {
    let q = sqlx::query(RESIGN)
        .bind(tx)
        .bind(&tx_id[..])
        .bind(int(nonce)?)
        .bind(namespace)
        .bind(int(sequence)?);
    plumbing::sqlite::commit_or_roll_back(conn, q).await
}

/// Records a state short of final.
pub async fn set_state(
    conn: &mut SqliteConnection,
    namespace: &str,
    sequence: u64,
    state: BatchState,
) -> Result<(), StoreError> {
    let q = sqlx::query(SET_STATE)
        .bind(state.as_str())
        .bind(namespace)
        .bind(int(sequence)?);
    plumbing::sqlite::commit_or_roll_back(conn, q).await
}

/// Records a batch as final with its block's proof.
pub async fn finalize(
    conn: &mut SqliteConnection,
    namespace: &str,
    sequence: u64,
    height: u64,
    final_ms: u64,
    proof: &str,
) -> Result<(), StoreError> {
    let q = sqlx::query(FINALIZE)
        .bind(int(height)?)
        .bind(int(final_ms)?)
        .bind(proof)
        .bind(namespace)
        .bind(int(sequence)?);
    plumbing::sqlite::commit_or_roll_back(conn, q).await
}
