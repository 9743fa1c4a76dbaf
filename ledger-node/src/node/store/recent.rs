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
//! A merge freezes the rows held at that moment and writes them in chunks of
//! [`MERGE_CHUNK_ROWS`], one chunk after each group commit, while new blocks' rows are held
//! beside them; readers see the rows held, the rows being merged, and SQLite.
//!
//! Nothing is lost in a crash: the indexes are derived from the stored blocks, and the last
//! chunk of a merge records the height it covers (`merged_index`), so a store that opens
//! rebuilds this part from the blocks above it. Readers drop duplicates (rows of a merge in
//! progress are in memory and in SQLite).

use std::collections::{BTreeMap, HashMap};

use crate::state::Transaction;

/// Rows held in memory before they are merged into SQLite. At 2,000 active accounts a merge
/// of this many rows dirties at most a few thousand index pages instead of one per row; held
/// in memory they take a few MB.
pub const MERGE_ROWS: usize = 32_768;

/// Rows a merge writes per group commit. A whole merge in one transaction held the writer for
/// 150-350 ms under load, and every client waiting for a block behind it waited as long; in
/// chunks of this many rows (each a contiguous key range of the sorted batch, so the pages
/// written in all are about the same) the writer is held a few milliseconds at a time, and
/// merging still outpaces what 10,000 transfers/s add several times over.
pub const MERGE_CHUNK_ROWS: usize = 2_048;

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
            let k = u32::try_from(k).expect("a block holds at most MAX_TXS transactions");
            rows.push((t.body.signer.0, height, k));
            if let Some(cp) = t.body.op.counterparty()
                && cp != t.body.signer
            {
                rows.push((cp.0, height, k));
            }
        }
    }
    rows
}

/// Index rows not yet merged into SQLite: those held since the last merge began, and those of
/// the merge in progress.
#[derive(Debug, Default)]
pub struct RecentIndex {
    held: Rows,
    merging: Option<Merging>,
}

/// A merge in progress: its rows (still answering reads), sorted, and how many of each kind
/// are written.
#[derive(Debug)]
struct Merging {
    rows: Rows,
    sorted: BlockRows,
    accounts_done: usize,
    ids_done: usize,
}

impl RecentIndex {
    /// Holds the rows of blocks newer than every row held (replayed rows are skipped).
    pub fn hold(&mut self, rows: BlockRows) {
        self.held.hold(rows);
    }

    /// Rows in memory (held and being merged).
    pub fn len(&self) -> usize {
        self.held.len + self.merging.as_ref().map_or(0, |m| m.rows.len)
    }

    /// Whether no row is in memory.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Up to `limit` of `account`'s rows, newest first.
    pub fn newest(&self, account: &[u8; 32], limit: usize) -> Vec<(u64, u32)> {
        let mut rows = self.held.newest(account, limit);
        if let Some(m) = &self.merging
            && rows.len() < limit
        {
            rows.extend(m.rows.newest(account, limit - rows.len()));
        }
        rows
    }

    /// Where a transaction id in memory was first committed: (height, index).
    pub fn location(&self, id: &[u8; 32]) -> Option<(u64, u32)> {
        let merging = self.merging.as_ref().and_then(|m| m.rows.by_id.get(id).copied());
        merging.or_else(|| self.held.by_id.get(id).copied())
    }

    /// The next chunk of at most `max` rows to write: the next part of the merge in progress,
    /// or, when none is and at least `threshold` rows are held, the first part of a new merge
    /// of them. The chunk that ends a merge carries the height it covers in `through`; the
    /// others carry 0. After the chunk is written, call [`RecentIndex::chunk_written`].
    pub fn next_chunk(&mut self, threshold: usize, max: usize) -> Option<BlockRows> {
        if self.merging.is_none() && self.held.len >= threshold.max(1) {
            let rows = std::mem::take(&mut self.held);
            self.merging = Some(Merging {
                sorted: rows.sorted_rows(),
                rows,
                accounts_done: 0,
                ids_done: 0,
            });
        }
        let m = self.merging.as_ref()?;
        let max = max.max(1);
        let accounts = &m.sorted.accounts[m.accounts_done..];
        let accounts = &accounts[..accounts.len().min(max)];
        let ids = &m.sorted.ids[m.ids_done..];
        let ids = &ids[..ids.len().min(max - accounts.len())];
        let last = m.accounts_done + accounts.len() == m.sorted.accounts.len()
            && m.ids_done + ids.len() == m.sorted.ids.len();
        Some(BlockRows {
            through: if last { m.sorted.through } else { 0 },
            accounts: accounts.to_vec(),
            ids: ids.to_vec(),
        })
    }

    /// Records that `chunk` (from [`RecentIndex::next_chunk`]) is in SQLite; after the last
    /// one, the merged rows leave memory.
    pub fn chunk_written(&mut self, chunk: &BlockRows) {
        let Some(m) = &mut self.merging else {
            return;
        };
        m.accounts_done += chunk.accounts.len();
        m.ids_done += chunk.ids.len();
        if m.accounts_done >= m.sorted.accounts.len() && m.ids_done >= m.sorted.ids.len() {
            self.merging = None;
        }
    }
}

/// One generation of index rows: by account, each account's in ascending order, and by id
/// (the first place an id was committed; the same bytes again can only be a failed replay).
#[derive(Debug, Default)]
struct Rows {
    by_account: BTreeMap<[u8; 32], Vec<(u64, u32)>>,
    by_id: HashMap<[u8; 32], (u64, u32)>,
    len: usize,
    through: u64,
}

impl Rows {
    fn hold(&mut self, rows: BlockRows) {
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

    fn newest(&self, account: &[u8; 32], limit: usize) -> Vec<(u64, u32)> {
        self.by_account
            .get(account)
            .map(|l| l.iter().rev().take(limit).copied().collect())
            .unwrap_or_default()
    }

    /// Every row, each kind in key order ((account, height, index) and (id, height, index)):
    /// what a merge inserts.
    fn sorted_rows(&self) -> BlockRows {
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

    /// Writes every chunk of the merge that starts now, `max` rows at a time; returns them.
    fn merge_all(r: &mut RecentIndex, max: usize) -> Vec<BlockRows> {
        let mut chunks = Vec::new();
        while let Some(c) = r.next_chunk(1, max) {
            r.chunk_written(&c);
            let done = c.through != 0;
            chunks.push(c);
            if done {
                break;
            }
        }
        chunks
    }

    #[test]
    fn rows_are_kept_per_account_newest_first_and_replays_skipped() {
        let mut r = RecentIndex::default();
        r.hold(rows(5, &[([1; 32], 5, 0), ([2; 32], 5, 0), ([1; 32], 5, 3)], &[]));
        r.hold(rows(6, &[([1; 32], 6, 1), ([1; 32], 5, 3)], &[]));
        assert_eq!(r.len(), 4);
        assert_eq!(r.newest(&[1; 32], 2), vec![(6, 1), (5, 3)]);
        assert_eq!(r.newest(&[3; 32], 2), vec![]);
        assert_eq!(r.next_chunk(5, 100), None, "below the threshold nothing merges");
        let chunks = merge_all(&mut r, 100);
        assert_eq!(
            chunks,
            vec![rows(
                6,
                &[([1; 32], 5, 0), ([1; 32], 5, 3), ([1; 32], 6, 1), ([2; 32], 5, 0)],
                &[]
            )]
        );
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
        let chunks = merge_all(&mut r, 100);
        assert_eq!(chunks, vec![rows(9, &[], &[([3; 32], 7, 0), ([9; 32], 7, 2)])]);
        assert_eq!(r.location(&[9; 32]), None);
    }

    #[test]
    fn a_merge_in_chunks_answers_reads_until_its_last_chunk_is_written() {
        let mut r = RecentIndex::default();
        r.hold(rows(1, &[([1; 32], 1, 0), ([2; 32], 1, 0)], &[([7; 32], 1, 0)]));
        r.hold(rows(2, &[([1; 32], 2, 0)], &[([8; 32], 2, 0)]));
        let first = r.next_chunk(5, 2).unwrap();
        assert_eq!(first, rows(0, &[([1; 32], 1, 0), ([1; 32], 2, 0)], &[]));
        r.chunk_written(&first);
        // A block committed during the merge is held beside it.
        r.hold(rows(3, &[([1; 32], 3, 0)], &[([9; 32], 3, 0)]));
        assert_eq!(r.newest(&[1; 32], 10), vec![(3, 0), (2, 0), (1, 0)]);
        assert_eq!(r.location(&[7; 32]), Some((1, 0)));
        let second = r.next_chunk(5, 2).unwrap();
        assert_eq!(second, rows(0, &[([2; 32], 1, 0)], &[([7; 32], 1, 0)]));
        r.chunk_written(&second);
        let last = r.next_chunk(5, 2).unwrap();
        assert_eq!(last, rows(2, &[], &[([8; 32], 2, 0)]));
        r.chunk_written(&last);
        // Only the rows held since the merge began are left, below the threshold.
        assert_eq!(r.len(), 2);
        assert_eq!(r.newest(&[1; 32], 10), vec![(3, 0)]);
        assert_eq!(r.location(&[7; 32]), None);
        assert_eq!(r.next_chunk(5, 2), None);
    }

    proptest! {
        #[test]
        fn chunks_together_are_the_sorted_rows_once(
            ids in proptest::collection::btree_set(any::<[u8; 32]>(), 1..40),
            accounts in proptest::collection::btree_set((0u8..5, 0u64..20, 0u32..3), 0..40),
            max in 1usize..50,
        ) {
            let account_rows: Vec<IndexRow> = accounts.iter().map(|&(a, h, k)| ([a; 32], h, k)).collect();
            let id_rows: Vec<IdRow> = ids.iter().zip(0u32..).map(|(id, n)| (*id, 30, n)).collect();
            let mut r = RecentIndex::default();
            // Held in height order, as blocks arrive.
            let mut by_height = account_rows.clone();
            by_height.sort_by_key(|&(a, h, k)| (h, k, a));
            r.hold(rows(30, &by_height, &id_rows));
            let chunks = merge_all(&mut r, max);
            prop_assert!(chunks.iter().all(|c| c.accounts.len() + c.ids.len() <= max));
            prop_assert_eq!(chunks.iter().filter(|c| c.through != 0).count(), 1);
            prop_assert_eq!(chunks.last().map(|c| c.through), Some(30));
            let all_accounts: Vec<IndexRow> = chunks.iter().flat_map(|c| c.accounts.clone()).collect();
            let all_ids: Vec<IdRow> = chunks.iter().flat_map(|c| c.ids.clone()).collect();
            let mut want = account_rows.clone();
            want.sort();
            prop_assert_eq!(all_accounts, want);
            let mut want_ids = id_rows.clone();
            want_ids.sort();
            prop_assert_eq!(all_ids, want_ids);
            prop_assert!(r.is_empty());
        }

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
