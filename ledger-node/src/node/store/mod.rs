//! SQLite storage (sqlx, WAL): committed blocks with their certificates, transactions with their
//! outcomes, the committed state, the event feed, and the consensus safety record.
//!
//! One writer connection persists committed blocks in group commits (several blocks, one
//! transaction); a small read pool answers the API and peers catching up. The safety record has
//! its own connection with `synchronous = FULL`, so a vote leaves only after the record is on
//! disk; chain data uses `NORMAL` (a crash of the process loses nothing; a power loss may lose
//! the last blocks, which are fetched again from peers).
//!
//! By job: `open` (connection settings, migrations, what a restart resumes from), `read` and
//! `read_state` (the [`Reader`]'s queries for the API and for peers: the chain, then the
//! state), `rows` (rows read back as values), `write` (the group commit), [`recent`] (the
//! indexes of recent blocks held in memory), `safety_record` ([`SqliteSafety`]).

mod open;
mod read;
mod read_state;
pub mod recent;
mod rows;
mod safety_record;
mod write;

use std::sync::{Arc, Mutex};

use sqlx::sqlite::{SqliteConnection, SqlitePool};

use crate::consensus::core::FinalBy;
use crate::state::exec::StateCommitment;
use crate::state::{Executed, State};
use crate::types::{Block, QuorumCert};
use recent::RecentIndex;

pub use plumbing::StoreError;
pub use safety_record::SqliteSafety;

/// How many leading bytes of a transaction id the merged by-id index (`tx_ids`) keeps.
const ID_PREFIX_LEN: usize = 8;

/// A block to persist: the block, its certificate and what executing it did.
#[derive(Clone, Debug)]
pub struct CommittedItem {
    /// The block.
    pub block: Arc<Block>,
    /// The certificate certifying it.
    pub qc: QuorumCert,
    /// Its execution.
    pub exec: Arc<Executed>,
    /// On the newest block of a commit: the child and certificate that made it final.
    pub final_by: Option<Arc<FinalBy>>,
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

/// What proves a stored block final: the headers after it up to the committed block C, then
/// C's child C' and the certificate of C' ([`FinalBy`]).
#[derive(Clone, Debug)]
pub struct FinalityEvidence {
    /// Headers of the blocks after the asked one, up to and including C (empty when the asked
    /// block is C).
    pub between: Vec<crate::types::BlockHeader>,
    /// C' and its certificate.
    pub final_by: FinalBy,
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

fn lock(recent: &Mutex<RecentIndex>) -> std::sync::MutexGuard<'_, RecentIndex> {
    recent.lock().unwrap_or_else(|p| p.into_inner())
}
