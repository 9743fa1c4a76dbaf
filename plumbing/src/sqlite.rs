//! SQLite the way every CypherLink service uses it: WAL mode, one writer connection that group
//! commits, a small read pool, migrations embedded in the binary.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool,
    SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, SqlSafeStr, Sqlite};

/// How long a connection waits for a lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Read connections per database.
const READERS: u32 = 4;

/// A storage failure. Cloneable, so one failed group commit can be reported to every caller
/// whose changes were in it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("database: {0}")]
    Sql(Arc<sqlx::Error>),
    /// The embedded migrations could not be applied.
    #[error("database migration: {0}")]
    Migrate(Arc<sqlx::migrate::MigrateError>),
    /// The database's directory could not be created.
    #[error("creating {path}: {reason}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// The IO error.
        reason: String,
    },
    /// A stored value does not decode.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The task owning the writer connection has stopped (shutdown).
    #[error("the database writer has stopped")]
    WriterStopped,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Sql(Arc::new(e))
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(Arc::new(e))
    }
}

impl StoreError {
    /// A [`StoreError::Corrupt`] from anything that explains itself.
    pub fn corrupt(why: impl std::fmt::Display) -> Self {
        StoreError::Corrupt(why.to_string())
    }
}

/// How hard SQLite works to keep a commit across power loss (`durability` in configurations).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// fsync on every commit: survives power loss.
    #[default]
    Full,
    /// fsync at checkpoints: survives a process crash, may lose the last commits on power loss.
    Normal,
}

impl Durability {
    fn synchronous(self) -> SqliteSynchronous {
        match self {
            Durability::Full => SqliteSynchronous::Full,
            Durability::Normal => SqliteSynchronous::Normal,
        }
    }
}

/// The connection options every service starts from: the file (created if missing), WAL,
/// `durability`, a busy timeout, temporary tables in memory. Services add their own tuning
/// (page size, cache size, statement cache) on top.
pub fn options(path: &Path, durability: Durability) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(durability.synchronous())
        .busy_timeout(BUSY_TIMEOUT)
        // Statement journals of multi-row upserts stay in memory instead of temp files.
        .pragma("temp_store", "memory")
}

/// Migrations from `(version, description, SQL)` steps, in order.
pub fn migrator(steps: &[(i64, &str, &'static str)]) -> Migrator {
    Migrator::with_migrations(
        steps
            .iter()
            .map(|&(version, name, sql)| {
                Migration::new(
                    version,
                    name.to_owned().into(),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// A database opened for a service: the one connection that writes, and the read pool.
#[derive(Debug)]
pub struct Opened {
    /// The writer (migrations applied).
    pub writer: SqliteConnection,
    /// Readers.
    pub readers: SqlitePool,
}

/// Creates the database's directory, connects the writer with `writer_options`, applies
/// `migrator`, then opens the read pool with `reader_options`.
pub async fn open(
    path: &Path,
    writer_options: SqliteConnectOptions,
    reader_options: SqliteConnectOptions,
    migrator: &Migrator,
) -> Result<Opened, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Directory {
            path: dir.to_owned(),
            reason: e.to_string(),
        })?;
    }
    let mut writer = SqliteConnection::connect_with(&writer_options).await?;
    migrator.run(&mut writer).await?;
    let readers = SqlitePoolOptions::new()
        .max_connections(READERS)
        .min_connections(1)
        .connect_with(reader_options)
        .await?;
    Ok(Opened { writer, readers })
}

/// Runs a group commit: a `BEGIN; ...; COMMIT;` script. A failed statement leaves the
/// transaction open, so it is rolled back: nothing of the group is written, and the caller
/// reports the error to every change in it.
pub async fn commit_or_roll_back(
    conn: &mut SqliteConnection,
    script: sqlx::query::Query<'_, Sqlite, SqliteArguments>,
) -> Result<(), StoreError> {
    if let Err(e) = script.execute(&mut *conn).await {
        // If the rollback fails too, the connection is broken and the next use reports it.
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        return Err(e.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = "CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER NOT NULL CHECK (v >= 0));";

    async fn open_in(dir: &Path) -> Opened {
        let path = dir.join("nested/dir/db.sqlite");
        let migrator = migrator(&[(1, "t", SCHEMA)]);
        open(
            &path,
            options(&path, Durability::Full),
            options(&path, Durability::Full),
            &migrator,
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn a_failed_statement_rolls_the_whole_group_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open_in(dir.path()).await;
        let good = sqlx::query("BEGIN; INSERT INTO t VALUES (1, 10); COMMIT;");
        commit_or_roll_back(&mut db.writer, good).await.unwrap();
        // The second insert breaks the CHECK: the first of the group must not stay.
        let bad = sqlx::query("BEGIN; INSERT INTO t VALUES (2, 5); INSERT INTO t VALUES (3, -1); COMMIT;");
        let err = commit_or_roll_back(&mut db.writer, bad).await.unwrap_err();
        assert!(matches!(err, StoreError::Sql(_)), "{err}");
        let rows: Vec<(i64, i64)> = sqlx::query_as("SELECT k, v FROM t ORDER BY k")
            .fetch_all(&db.readers)
            .await
            .unwrap();
        assert_eq!(rows, vec![(1, 10)]);
        // And the writer is usable again.
        let next = sqlx::query("BEGIN; INSERT INTO t VALUES (4, 1); COMMIT;");
        commit_or_roll_back(&mut db.writer, next).await.unwrap();
    }

    #[tokio::test]
    async fn reopening_keeps_data_and_migrations_apply_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open_in(dir.path()).await;
        let insert = sqlx::query("BEGIN; INSERT INTO t VALUES (1, 1); COMMIT;");
        commit_or_roll_back(&mut db.writer, insert).await.unwrap();
        drop(db);
        let db = open_in(dir.path()).await;
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&db.readers)
            .await
            .unwrap();
        assert_eq!(n, 1);
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&db.readers)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    }
}
