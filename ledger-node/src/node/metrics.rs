//! Prometheus metrics of a node (served at `GET /metrics`).

use plumbing::metrics::{counter, counter_vec, gauge};
use prometheus::{IntCounter, IntCounterVec, IntGauge, Registry};

/// The node's metrics.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    /// Transactions accepted by the API.
    pub submitted: IntCounter,
    /// Transactions refused by the API, by reason.
    pub refused: IntCounterVec,
    /// Committed transactions, by outcome (ok / failed).
    pub committed_txs: IntCounterVec,
    /// Committed blocks persisted.
    pub committed_blocks: IntCounter,
    /// Height of the last persisted block.
    pub height: IntGauge,
    /// Current consensus view.
    pub view: IntGauge,
    /// Pending transactions.
    pub mempool: IntGauge,
    /// Connected validators.
    pub peers: IntGauge,
    /// Messages dropped on receipt, by reason.
    pub drops: IntCounterVec,
    /// Blocks applied while catching up.
    pub synced_blocks: IntCounter,
    /// Blocks per group commit to SQLite (last).
    pub group_commit: IntGauge,
    /// Certificates checked with a pairing (about one a view; more means the cache misses).
    pub certificate_checks: IntCounter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let r = Registry::new();
        Self {
            submitted: counter(&r, "chain_tx_submitted_total", "Transactions accepted by the API"),
            refused: counter_vec(
                &r,
                "chain_tx_refused_total",
                "Transactions refused by the API",
                "reason",
            ),
            committed_txs: counter_vec(
                &r,
                "chain_tx_committed_total",
                "Committed transactions",
                "outcome",
            ),
            committed_blocks: counter(&r, "chain_blocks_committed_total", "Committed blocks persisted"),
            height: gauge(&r, "chain_height", "Height of the last persisted block"),
            view: gauge(&r, "chain_view", "Current consensus view"),
            mempool: gauge(&r, "chain_mempool", "Pending transactions"),
            peers: gauge(&r, "chain_peers", "Connected validators"),
            drops: counter_vec(
                &r,
                "chain_messages_dropped_total",
                "Messages dropped on receipt",
                "reason",
            ),
            synced_blocks: counter(
                &r,
                "chain_synced_blocks_total",
                "Blocks applied while catching up",
            ),
            group_commit: gauge(&r, "chain_group_commit_blocks", "Blocks in the last group commit"),
            certificate_checks: counter(
                &r,
                "chain_certificate_checks_total",
                "Quorum and timeout certificates checked with a BLS pairing (not found among those already verified)",
            ),
            registry: r,
        }
    }

    /// Counts a dropped message.
    pub fn dropped(&self, reason: &str) {
        self.drops.with_label_values(&[reason]).inc();
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        plumbing::metrics::render(&self.registry)
    }
}

/// `x` as an [`IntGauge`] value, saturating at `i64::MAX`: heights, views and counts never get
/// there, and a gauge pinned at its maximum is a truer reading than a wrapped negative one.
pub(crate) fn gauge_value(x: impl TryInto<i64>) -> i64 {
    x.try_into().unwrap_or(i64::MAX)
}
