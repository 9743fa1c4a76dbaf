//! The indexes of recent blocks (by account and by transaction id), held in memory and merged
//! into SQLite in large sorted batches.
//!
//! Every transfer adds two rows to the by-account index `(account, height, index in block)`
//! and one to the by-id index `(id prefix, height, index)`. Written with each group commit,
//! those rows land on as many B-tree pages as there are accounts and transactions in the
//! group (ids are random, so each lands on a page of its own), and each dirty page costs a
//! 4 KiB write to the WAL and another at the checkpoint. Leaving the by-account index out of
//! the group commit raised the chain bench's saturation by about 20%, and the by-id index
//! cut the latency at 8,000 transfers/s by a factor of three (BENCHMARKS.md). So the rows of
//! recent blocks stay here, and once there are [`MERGE_ROWS`] of them they go to SQLite in one
//! sorted transaction, where one account's rows of thousands of blocks share a page and the
//! id rows fill each page they touch.
//!
//! Nothing is lost in a crash: the indexes are derived from the stored blocks, and the merge
//! records the height it covers (`merged_index`), so a store that opens rebuilds this part
//! from the blocks above it. Readers merge both sides and drop duplicates (while a merge
//! commits, its rows are in both).

use std::collections::{BTreeMap, HashMap};

use crate::state::Transaction;

/// Rows held in memory before they are merged into SQLite. At 2,000 active accounts a merge
/// of this many rows dirties at most a few thousand index pages instead of one per row; held
/// in memory they take a few MB.
pub const MERGE_ROWS: usize = 32_768;

/// A by-account row: account, block height, position in the block.
pub type IndexRow = ([u8; 32], u64, u32);

/// A by-id row: transaction id, block height, position in the block.
pub type IdRow = ([u8; 32], u64, u32);

/// The index rows of the blocks up to and including height `through`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BlockRows {
    /// The highest block height the rows cover (a block may have no rows).
    pub through: u64,
    /// By-account rows.
    pub accounts: Vec<IndexRow>,
    /// By-id rows.
    pub ids: Vec<IdRow>,
}

/// The by-account rows of one block: the signer and the counterparty (if another account) of
/// each transaction that decodes.
pub fn block_index_rows(height: u64, txs: &[Option<Transaction>]) -> Vec<IndexRow> {
    let mut rows = Vec::with_capacity(txs.len() * 2);
    for (k, t) in txs.iter().enumerate() {
        if let Some(t) = t {
            rows.push((t.body.signer.0, height, k as u32));
            if let Some(cp) = t.body.op.counterparty()
                && cp != t.body.signer
            {
                rows.push((cp.0, height, k as u32));
            }
        }
    }
    rows
}

/// Index rows not yet merged into SQLite: by account, each account's in ascending order, and
/// by id (the first place an id was committed; the same bytes again can only be a failed
/// replay).
#[derive(Debug, Default)]
pub struct RecentIndex {
    by_account: BTreeMap<[u8; 32], Vec<(u64, u32)>>,
    by_id: HashMap<[u8; 32], (u64, u32)>,
    len: usize,
    through: u64,
}

impl RecentIndex {
    /// Holds the rows of blocks newer than every row held (replayed rows are skipped).
    pub fn hold(&mut self, rows: BlockRows) {
        for (account, height, idx) in rows.accounts {
            let list = self.by_account.entry(account).or_default();
            if list.last().is_none_or(|&last| last < (height, idx)) {
                list.push((height, idx));
                self.len += 1;
            }
        }
        for (id, height, idx) in rows.ids {
            if let std::collections::hash_map::Entry::Vacant(e) = self.by_id.entry(id) {
                e.insert((height, idx));
                self.len += 1;
            }
        }
        self.through = self.through.max(rows.through);
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no row is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Up to `limit` of `account`'s rows, newest first.
    pub fn newest(&self, account: &[u8; 32], limit: usize) -> Vec<(u64, u32)> {
        self.by_account
            .get(account)
            .map(|l| l.iter().rev().take(limit).copied().collect())
            .unwrap_or_default()
    }

    /// Where a held transaction id was first committed: (height, index).
    pub fn location(&self, id: &[u8; 32]) -> Option<(u64, u32)> {
        self.by_id.get(id).copied()
    }

    /// Every row held, each kind in key order ((account, height, index) and (id, height,
    /// index)): what a merge inserts.
    pub fn sorted_rows(&self) -> BlockRows {
        let mut ids: Vec<IdRow> = self.by_id.iter().map(|(id, &(h, k))| (*id, h, k)).collect();
        ids.sort_unstable();
        BlockRows {
            through: self.through,
            accounts: self
                .by_account
                .iter()
                .flat_map(|(a, l)| l.iter().map(move |&(h, k)| (*a, h, k)))
                .collect(),
            ids,
        }
    }

    /// Forgets every row (after they were merged).
    pub fn clear(&mut self) {
        self.by_account.clear();
        self.by_id.clear();
        self.len = 0;
    }
}

/// Merges two lists of `(height, index)` that are each newest first, dropping duplicates,
/// keeping at most `limit`.
pub fn merge_newest(a: &[(u64, u32)], b: &[(u64, u32)], limit: usize) -> Vec<(u64, u32)> {
    let mut out = Vec::with_capacity(limit.min(a.len() + b.len()));
    let (mut i, mut j) = (0, 0);
    while out.len() < limit && (i < a.len() || j < b.len()) {
        let next = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) if x == y => {
                i += 1;
                j += 1;
                x
            }
            (Some(&x), Some(&y)) if x > y => {
                i += 1;
                x
            }
            (Some(&x), None) => {
                i += 1;
                x
            }
            (_, Some(&y)) => {
                j += 1;
                y
            }
            (None, None) => break,
        };
        out.push(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rows(through: u64, accounts: &[IndexRow], ids: &[IdRow]) -> BlockRows {
        BlockRows {
            through,
            accounts: accounts.to_vec(),
            ids: ids.to_vec(),
        }
    }

    #[test]
    fn rows_are_kept_per_account_newest_first_and_replays_skipped() {
        let mut r = RecentIndex::default();
        r.hold(rows(5, &[([1; 32], 5, 0), ([2; 32], 5, 0), ([1; 32], 5, 3)], &[]));
        r.hold(rows(6, &[([1; 32], 6, 1), ([1; 32], 5, 3)], &[]));
        assert_eq!(r.len(), 4);
        assert_eq!(r.newest(&[1; 32], 2), vec![(6, 1), (5, 3)]);
        assert_eq!(r.newest(&[3; 32], 2), vec![]);
        assert_eq!(
            r.sorted_rows().accounts,
            vec![([1; 32], 5, 0), ([1; 32], 5, 3), ([1; 32], 6, 1), ([2; 32], 5, 0)]
        );
        r.clear();
        assert!(r.is_empty());
    }

    #[test]
    fn an_id_keeps_its_first_place_and_a_merge_covers_the_highest_block() {
        let mut r = RecentIndex::default();
        r.hold(rows(7, &[], &[([9; 32], 7, 2), ([3; 32], 7, 0)]));
        // Block 8 has no rows; block 9 repeats id 9 as a failed replay.
        r.hold(rows(8, &[], &[]));
        r.hold(rows(9, &[], &[([9; 32], 9, 0)]));
        assert_eq!(r.location(&[9; 32]), Some((7, 2)));
        assert_eq!(r.location(&[4; 32]), None);
        assert_eq!(r.len(), 2);
        let batch = r.sorted_rows();
        assert_eq!(batch.through, 9);
        assert_eq!(batch.ids, vec![([3; 32], 7, 0), ([9; 32], 7, 2)]);
        r.clear();
        assert_eq!(r.location(&[9; 32]), None);
    }

    proptest! {
        #[test]
        fn merging_equals_sorting_the_union(
            a in proptest::collection::btree_set((0u64..50, 0u32..4), 0..30),
            b in proptest::collection::btree_set((0u64..50, 0u32..4), 0..30),
            limit in 0usize..80,
        ) {
            let desc = |s: &std::collections::BTreeSet<(u64, u32)>| s.iter().rev().copied().collect::<Vec<_>>();
            let union: std::collections::BTreeSet<_> = a.union(&b).copied().collect();
            let want: Vec<_> = union.iter().rev().take(limit).copied().collect();
            prop_assert_eq!(merge_newest(&desc(&a), &desc(&b), limit), want);
        }
    }
}
