//! Pending transactions, deduplicated, in arrival order.
//!
//! A transaction is identified by its Merkle leaf hash. It stays here until a block holding it is
//! committed (a proposed or even certified block can still be abandoned), and the leader skips
//! those already in the uncommitted blocks it extends. Recently committed ids are remembered in a
//! bounded window so a resubmission is refused instead of being committed twice. Validators
//! refuse blocks holding such a transaction, so the window must survive a restart: a node seeds
//! it from its stored blocks, and a consensus core restarted to catch up hands its mempool on.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::codec::MAX_TX_BYTES;
use crate::consensus::messages::DropReason;
use crate::merkle::leaf_hash;

/// Size limits of the mempool.
#[derive(Clone, Debug)]
pub struct MempoolConfig {
    /// Most pending transactions held; more are refused.
    pub max_pending: usize,
    /// How many committed ids are remembered for deduplication.
    pub remember_committed: usize,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        Self {
            max_pending: 200_000,
            remember_committed: 200_000,
        }
    }
}

/// The pending transactions of one validator.
#[derive(Clone, Debug, Default)]
pub struct Mempool {
    config: MempoolConfig,
    order: VecDeque<[u8; 32]>,
    txs: HashMap<[u8; 32], Vec<u8>>,
    committed: HashSet<[u8; 32]>,
    committed_order: VecDeque<[u8; 32]>,
}

impl Mempool {
    /// An empty mempool.
    pub fn new(config: MempoolConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// An empty mempool that remembers `committed` (ids, oldest first; only the last
    /// `remember_committed` count) as recently committed: a restarted validator's, seeded from
    /// its stored blocks.
    pub fn recovered(config: MempoolConfig, committed: &[[u8; 32]]) -> Self {
        let keep = committed.len().saturating_sub(config.remember_committed);
        let mut m = Self::new(config);
        m.mark_committed(&committed[keep..]);
        m
    }

    /// Adds a transaction; `Ok(false)` if it is already pending.
    pub fn add(&mut self, tx: Vec<u8>) -> Result<bool, DropReason> {
        if tx.is_empty() || tx.len() > MAX_TX_BYTES {
            return Err(DropReason::Malformed);
        }
        let id = leaf_hash(&tx);
        if self.committed.contains(&id) {
            return Err(DropReason::Duplicate);
        }
        if self.txs.contains_key(&id) {
            return Ok(false);
        }
        if self.txs.len() >= self.config.max_pending {
            return Err(DropReason::MempoolFull);
        }
        self.txs.insert(id, tx);
        self.order.push_back(id);
        Ok(true)
    }

    /// Pending transactions.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// Whether `id` was committed recently.
    pub fn is_committed(&self, id: &[u8; 32]) -> bool {
        self.committed.contains(id)
    }

    /// The oldest pending transactions not in `exclude`, up to `max_txs` and `max_bytes`.
    pub fn batch(&self, max_txs: usize, max_bytes: usize, exclude: &HashSet<[u8; 32]>) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut bytes = 0;
        for id in &self.order {
            if out.len() >= max_txs {
                break;
            }
            let Some(tx) = self.txs.get(id) else { continue };
            if exclude.contains(id) {
                continue;
            }
            if bytes + tx.len() > max_bytes {
                break;
            }
            bytes += tx.len();
            out.push(tx.clone());
        }
        out
    }

    /// Removes committed transactions (by id) and remembers their ids.
    pub fn mark_committed(&mut self, ids: &[[u8; 32]]) {
        for &id in ids {
            self.txs.remove(&id);
            if self.committed.insert(id) {
                self.committed_order.push_back(id);
            }
        }
        while self.committed_order.len() > self.config.remember_committed {
            if let Some(old) = self.committed_order.pop_front() {
                self.committed.remove(&old);
            }
        }
        // Drop ids of removed transactions from the front of the queue, and compact the queue
        // when most of it is stale.
        while self.order.front().is_some_and(|id| !self.txs.contains_key(id)) {
            self.order.pop_front();
        }
        if self.order.len() > 2 * self.txs.len() + 1024 {
            let txs = &self.txs;
            self.order.retain(|id| txs.contains_key(id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedups_batches_in_order_and_forgets_committed() {
        let mut m = Mempool::new(MempoolConfig {
            max_pending: 3,
            remember_committed: 10,
        });
        assert_eq!(m.add(b"a".to_vec()), Ok(true));
        assert_eq!(m.add(b"a".to_vec()), Ok(false));
        m.add(b"b".to_vec()).unwrap();
        m.add(b"c".to_vec()).unwrap();
        assert_eq!(m.add(b"d".to_vec()), Err(DropReason::MempoolFull));
        let ex: HashSet<_> = [leaf_hash(b"a")].into();
        assert_eq!(m.batch(10, 100, &ex), vec![b"b".to_vec(), b"c".to_vec()]);
        assert_eq!(m.batch(1, 100, &HashSet::new()), vec![b"a".to_vec()]);
        m.mark_committed(&[leaf_hash(b"a")]);
        assert_eq!(m.len(), 2);
        assert_eq!(m.add(b"a".to_vec()), Err(DropReason::Duplicate));
        assert!(m.is_committed(&leaf_hash(b"a")));
    }

    #[test]
    fn a_recovered_mempool_refuses_what_was_committed_within_its_window() {
        let config = MempoolConfig {
            max_pending: 10,
            remember_committed: 2,
        };
        let ids: Vec<[u8; 32]> = [b"a", b"b", b"c"].iter().map(|t| leaf_hash(*t)).collect();
        let mut m = Mempool::recovered(config, &ids);
        assert!(m.is_empty());
        assert_eq!(m.add(b"b".to_vec()), Err(DropReason::Duplicate));
        assert_eq!(m.add(b"c".to_vec()), Err(DropReason::Duplicate));
        // Beyond the window, as on a validator that never restarted.
        assert_eq!(m.add(b"a".to_vec()), Ok(true));
    }
}
