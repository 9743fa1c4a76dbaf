//! The consensus safety record in a SQLite file of its own, synced before every vote leaves.

use std::path::Path;

use plumbing::Durability;
use sqlx::Connection;
use sqlx::sqlite::SqliteConnection;

use super::StoreError;
use super::open::options;
use crate::codec::{decode_exact, encode_to_vec};
use crate::consensus::safety::{SafetyRecord, SafetyStorage};

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
