//! What goes in and out of the core: its configuration, inputs, actions, the application hook,
//! the recovery point and counters.

use std::collections::HashSet;
use std::sync::Arc;

use crate::committee::Committee;
use crate::consensus::aggregator::AggregationStats;
use crate::consensus::mempool::{Mempool, MempoolConfig};
use crate::consensus::messages::{Message, VerifiedMessage};
use crate::consensus::pacemaker::PacemakerConfig;
use crate::ids::ValidatorIndex;
use crate::ids::{BlockHash, View};
use crate::types::{Block, BlockHeader, QuorumCert};

/// Tuning of one validator.
#[derive(Clone, Debug)]
pub struct Config {
    /// View timers.
    pub pacemaker: PacemakerConfig,
    /// Mempool limits.
    pub mempool: MempoolConfig,
    /// Size threshold: a leader proposes at once when this many transactions wait, and never
    /// puts more in a block.
    pub max_block_txs: usize,
    /// Most transaction bytes in a block.
    pub max_block_bytes: usize,
    /// Time threshold: a leader proposes whatever it has this long after its view started.
    pub batch_delay_ms: u64,
    /// With nothing to order (empty mempool, no transactions waiting in uncommitted blocks) a
    /// leader waits this long instead (capped at half the base view timeout), so an idle chain
    /// does not spin out empty blocks.
    pub idle_delay_ms: u64,
    /// Client transactions are forwarded to the other validators in batches of this many ...
    pub gossip_batch_txs: usize,
    /// ... or after this delay.
    pub gossip_delay_ms: u64,
    /// Votes and timeouts for views further ahead than this are dropped.
    pub max_future_views: u64,
    /// A block's timestamp may be at most this far ahead of our clock.
    pub max_clock_skew_ms: u64,
    /// Committed blocks kept in memory to serve peers catching up.
    pub retain_committed_blocks: usize,
    /// Wait before asking again for a missing block.
    pub sync_retry_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            pacemaker: PacemakerConfig::default(),
            mempool: MempoolConfig::default(),
            max_block_txs: 2_000,
            max_block_bytes: 4 * 1024 * 1024,
            batch_delay_ms: 2,
            idle_delay_ms: 100,
            gossip_batch_txs: 256,
            gossip_delay_ms: 2,
            max_future_views: 1_000,
            max_clock_skew_ms: 2_000,
            retain_committed_blocks: 512,
            sync_retry_ms: 200,
        }
    }
}

/// Timers the core asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    /// The view timer (also re-sends our timeout while stuck in the view).
    View(View),
    /// The batching deadline of a view we lead.
    Propose(View),
    /// Flush transactions waiting to be forwarded.
    FlushTransactions,
}

/// Something that happened to the validator.
// Inputs are moved once into `handle`; boxing the message would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Input {
    /// A message that passed [`crate::consensus::messages::UnverifiedMessage::verify`].
    Message(VerifiedMessage),
    /// A timer armed by [`Action::SetTimer`] fired.
    Timer(Timer),
    /// A client submitted a transaction to this validator.
    Submit(Vec<u8>),
}

/// A block that became final, with the QC that certifies it (for light clients).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommittedBlock {
    /// The block.
    pub block: Arc<Block>,
    /// 2f+1 votes for it.
    pub qc: QuorumCert,
    /// On the last block of a commit: the evidence that made it (and every ancestor) final.
    pub final_by: Option<Arc<FinalBy>>,
}

/// Why a block C is final under the two-chain rule: its direct child C' (C'.parent_hash =
/// hash(C), proposed in view C.view + 1) and the QC of C'. C'.qc certifies C, so with the
/// headers from any ancestor B up to C this is B's finality proof ([`crate::proof`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinalBy {
    /// The header of C'.
    pub child: BlockHeader,
    /// 2f+1 votes for C'.
    pub child_qc: QuorumCert,
}

/// What the driver must do.
#[derive(Clone, Debug)]
pub enum Action {
    /// Send to one validator.
    Send {
        /// Recipient.
        to: ValidatorIndex,
        /// Message.
        msg: Message,
    },
    /// Send to every other validator.
    Broadcast(Message),
    /// Deliver `Input::Timer(timer)` at `at_ms` (or later).
    SetTimer {
        /// Which timer.
        timer: Timer,
        /// When.
        at_ms: u64,
    },
    /// A block is final; blocks come in chain order, each exactly once.
    Commit(CommittedBlock),
}

/// Application hook for the block's `state_root`: the leader asks for the root of a new block,
/// voters check it (a mismatch means no vote). Part 2's state machine implements this.
pub trait Application: Send {
    /// The state root to write into a block extending `parent` with `payload` at `timestamp_ms`.
    fn state_root(&mut self, parent: &Block, payload: &[Vec<u8>], timestamp_ms: u64) -> [u8; 32];
    /// Whether `block` (child of `parent`) carries an acceptable state root.
    fn check_block(&mut self, parent: &Block, block: &Block) -> bool {
        block.header().state_root == self.state_root(parent, block.payload(), block.timestamp_ms())
    }
}

/// No application state: every state root is zero.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoApplication;

impl Application for NoApplication {
    fn state_root(&mut self, _: &Block, _: &[Vec<u8>], _: u64) -> [u8; 32] {
        [0; 32]
    }
}

/// Where a (re)started validator resumes: its last committed block and the QC for it, plus any
/// uncommitted blocks it stored (oldest first; may be empty), and its mempool.
#[derive(Clone, Debug)]
pub struct Recovery {
    /// Last committed block (the genesis block for a new chain).
    pub root: Arc<Block>,
    /// QC certifying `root` (the genesis QC for the genesis block).
    pub root_qc: QuorumCert,
    /// Stored descendants of `root`, parents before children.
    pub blocks: Vec<Arc<Block>>,
    /// The mempool to resume with (`None`: an empty one). Validity of a block depends on the
    /// recently committed transaction ids it remembers (a block repeating one is refused), so a
    /// restarted validator must know them as the others do, or it proposes committed
    /// transactions that every other validator refuses: a restarted process seeds it from its
    /// stored blocks; a core restarted inside a running node (to catch up) hands its own on,
    /// pending transactions included.
    pub mempool: Option<Mempool>,
}

impl Recovery {
    /// Start of a new chain at `genesis`.
    pub fn genesis(genesis: Arc<Block>, committee: &Committee) -> Self {
        let root_qc = QuorumCert::genesis(committee.epoch(), genesis.hash(), committee.size());
        Self {
            root: genesis,
            root_qc,
            blocks: Vec::new(),
            mempool: None,
        }
    }
}

/// Counters for metrics and benchmarks.
#[derive(Clone, Copy, Debug, Default)]
pub struct CoreStats {
    /// Blocks proposed.
    pub proposals: u64,
    /// Votes signed.
    pub votes_signed: u64,
    /// Timeouts signed (first time per view).
    pub timeouts_signed: u64,
    /// QCs formed from votes.
    pub qcs_formed: u64,
    /// TCs formed from timeouts.
    pub tcs_formed: u64,
    /// Blocks committed.
    pub blocks_committed: u64,
    /// Transactions committed.
    pub txs_committed: u64,
    /// Block requests sent.
    pub sync_requests: u64,
    /// Aggregation work.
    pub aggregation: AggregationStats,
}

/// Ids of the blocks in `blocks` (test and simulator helper).
pub fn hashes(blocks: &[CommittedBlock]) -> Vec<BlockHash> {
    blocks.iter().map(|c| c.block.hash()).collect()
}

/// Whether two committed sequences agree (one is a prefix of the other).
pub fn consistent(a: &[BlockHash], b: &[BlockHash]) -> bool {
    a.iter().zip(b.iter()).all(|(x, y)| x == y)
}

/// Shared helper for drivers: ids of transactions in committed blocks.
pub fn committed_tx_ids(blocks: &[CommittedBlock]) -> HashSet<[u8; 32]> {
    blocks
        .iter()
        .flat_map(|c| c.block.tx_ids().iter().copied())
        .collect()
}
