//! The by-account index of recent blocks, held in memory and merged into SQLite in large
//! sorted batches.
//!
//! Every transfer adds two rows to the by-account index `(account, height, index in block)`.
//! Written with each group commit, those rows land on as many B-tree pages as there are
//! accounts in the group, and each dirty page costs a 4 KiB write to the WAL and another at the
//! checkpoint: leaving the index out of the group commit raised the chain bench's saturation by
//! about 30% (BENCHMARKS.md). So the rows of recent blocks stay here, and once there are
//! [`MERGE_ROWS`] of them they go to SQLite in one sorted insert, where one account's rows of
//! thousands of blocks share a page.
//!
//! Nothing is lost in a crash: the index is derived from the stored blocks, so a store that
//! opens rebuilds this part from the blocks above the highest height already in `account_txs`.
//! Readers merge both sides newest first and drop duplicates (while a merge commits, its rows
//! are in both).

use std::collections::BTreeMap;

use crate::state::Transaction;

/// Rows held in memory before they are merged into SQLite. At 2,000 active accounts a merge
/// of this many rows dirties at most a few thousand index pages instead of one per row; held
/// in memory they take a few MB.
pub const MERGE_ROWS: usize = 32_768;

/// An index row: account, block height, position in the block.
pub type IndexRow = ([u8; 32], u64, u32);

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

/// Index rows not yet merged into SQLite, by account, each account's in ascending order.
#[derive(Debug, Default)]
pub struct RecentIndex {
    by_account: BTreeMap<[u8; 32], Vec<(u64, u32)>>,
    len: usize,
}

impl RecentIndex {
    /// Adds rows of blocks newer than every row held (or replayed ones, which are skipped).
    pub fn add(&mut self, rows: impl IntoIterator<Item = IndexRow>) {
        for (account, height, idx) in rows {
            let list = self.by_account.entry(account).or_default();
            if list.last().is_none_or(|&last| last < (height, idx)) {
                list.push((height, idx));
                self.len += 1;
            }
        }
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

    /// Every row in key order (account, height, index): what a merge inserts.
    pub fn sorted_rows(&self) -> Vec<IndexRow> {
        self.by_account
            .iter()
            .flat_map(|(a, l)| l.iter().map(move |&(h, k)| (*a, h, k)))
            .collect()
    }

    /// Forgets every row (after they were merged).
    pub fn clear(&mut self) {
        self.by_account.clear();
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

    #[test]
    fn rows_are_kept_per_account_newest_first_and_replays_skipped() {
        let mut r = RecentIndex::default();
        r.add([([1; 32], 5, 0), ([2; 32], 5, 0), ([1; 32], 5, 3)]);
        r.add([([1; 32], 6, 1), ([1; 32], 5, 3)]);
        assert_eq!(r.len(), 4);
        assert_eq!(r.newest(&[1; 32], 2), vec![(6, 1), (5, 3)]);
        assert_eq!(r.newest(&[3; 32], 2), vec![]);
        assert_eq!(
            r.sorted_rows(),
            vec![([1; 32], 5, 0), ([1; 32], 5, 3), ([1; 32], 6, 1), ([2; 32], 5, 0)]
        );
        r.clear();
        assert!(r.is_empty());
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
