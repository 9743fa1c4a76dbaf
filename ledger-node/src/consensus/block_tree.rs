//! The in-memory block tree above the last committed block, plus a window of recently committed
//! blocks kept to answer peers that are catching up. Durable history is the node's business
//! (`node::store` keeps it in SQLite and serves older blocks from there).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use crate::ids::BlockHash;
use crate::types::Block;

/// Blocks by hash, rooted at the last committed block.
#[derive(Debug)]
pub struct BlockTree {
    blocks: HashMap<BlockHash, Arc<Block>>,
    root: Arc<Block>,
    retained: VecDeque<BlockHash>,
    retain: usize,
}

impl BlockTree {
    /// A tree whose committed root is `root`.
    pub fn new(root: Arc<Block>, retain: usize) -> Self {
        let mut blocks = HashMap::new();
        blocks.insert(root.hash(), root.clone());
        Self {
            blocks,
            retained: VecDeque::from([root.hash()]),
            root,
            retain: retain.max(1),
        }
    }

    /// The last committed block.
    pub fn root(&self) -> &Arc<Block> {
        &self.root
    }

    /// A block by hash.
    pub fn get(&self, h: &BlockHash) -> Option<&Arc<Block>> {
        self.blocks.get(h)
    }

    /// Whether the block is held.
    pub fn contains(&self, h: &BlockHash) -> bool {
        self.blocks.contains_key(h)
    }

    /// Blocks held (tree and retained window).
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    /// Whether only... never: the root is always held.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// Inserts a block whose parent is held. Returns false (and inserts nothing) otherwise, or
    /// when it does not sit above the root.
    pub fn insert(&mut self, b: Arc<Block>) -> bool {
        let ok = b.height() > self.root.height()
            && self.blocks.get(&b.parent_hash()).is_some_and(|p| {
                p.height() + 1 == b.height() && p.view() == b.qc().view && b.view() > p.view()
            });
        if ok {
            self.blocks.insert(b.hash(), b);
        }
        ok
    }

    /// `b` and its ancestors down to (excluding) the root, newest first; `None` if the chain does
    /// not reach the root.
    pub fn uncommitted_chain(&self, b: &BlockHash) -> Option<Vec<Arc<Block>>> {
        let mut out = Vec::new();
        let mut cur = *b;
        while cur != self.root.hash() {
            let blk = self.blocks.get(&cur)?;
            if blk.height() <= self.root.height() {
                return None;
            }
            cur = blk.parent_hash();
            out.push(blk.clone());
        }
        Some(out)
    }

    /// Ids of the transactions in `b` and its uncommitted ancestors.
    pub fn pending_tx_ids(&self, b: &BlockHash) -> HashSet<[u8; 32]> {
        self.uncommitted_chain(b)
            .unwrap_or_default()
            .iter()
            .flat_map(|blk| blk.tx_ids().to_vec())
            .collect()
    }

    /// Up to `max` blocks from `h` back through its parents, newest first.
    pub fn ancestors(&self, h: &BlockHash, max: usize) -> Vec<Arc<Block>> {
        let mut out = Vec::new();
        let mut cur = *h;
        while out.len() < max {
            let Some(b) = self.blocks.get(&cur) else { break };
            out.push(b.clone());
            if b.height() == 0 {
                break;
            }
            cur = b.parent_hash();
        }
        out
    }

    /// Makes `new_root` (a descendant of the root) the root, returning the newly committed blocks
    /// oldest first, and prunes everything that can no longer be committed.
    pub fn commit(&mut self, new_root: &BlockHash) -> Vec<Arc<Block>> {
        let Some(mut chain) = self.uncommitted_chain(new_root) else {
            return Vec::new();
        };
        chain.reverse();
        let Some(last) = chain.last().cloned() else {
            return chain;
        };
        self.root = last;
        for b in &chain {
            self.retained.push_back(b.hash());
        }
        while self.retained.len() > self.retain {
            if let Some(old) = self.retained.pop_front() {
                self.blocks.remove(&old);
            }
        }
        self.prune();
        chain
    }

    /// Drops blocks that are neither retained committed blocks nor descendants of the root.
    fn prune(&mut self) {
        let keep_committed: HashSet<BlockHash> = self.retained.iter().copied().collect();
        let root_h = self.root.height();
        let mut keep: HashSet<BlockHash> = HashSet::new();
        let hashes: Vec<BlockHash> = self.blocks.keys().copied().collect();
        for h in hashes {
            if keep_committed.contains(&h) || keep.contains(&h) {
                continue;
            }
            // Walk down to the root's height; keep the path if it lands on the root.
            let mut path = vec![h];
            let mut cur = self.blocks.get(&h).cloned();
            let mut lands = false;
            while let Some(b) = cur {
                if b.height() <= root_h {
                    lands = b.hash() == self.root.hash();
                    break;
                }
                if keep.contains(&b.parent_hash()) {
                    lands = true;
                    break;
                }
                path.push(b.parent_hash());
                cur = self.blocks.get(&b.parent_hash()).cloned();
            }
            if lands {
                keep.extend(
                    path.into_iter()
                        .filter(|p| self.blocks.get(p).is_some_and(|b| b.height() > root_h)),
                );
            }
        }
        self.blocks
            .retain(|h, _| keep_committed.contains(h) || keep.contains(h));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{BlockHeader, QuorumCert, SignerBitmap};

    fn child(parent: &Block, view: u64, tag: u8) -> Arc<Block> {
        Arc::new(Block::new(
            BlockHeader {
                epoch: 0,
                view,
                height: parent.height() + 1,
                timestamp_ms: view,
                parent_hash: parent.hash(),
                payload_root: [0; 32],
                state_root: [tag; 32],
                proposer: 0,
                qc: QuorumCert {
                    epoch: 0,
                    view: parent.view(),
                    block_hash: parent.hash(),
                    signers: SignerBitmap::new(4),
                    signature: None,
                },
            },
            vec![vec![tag]],
        ))
    }

    #[test]
    fn commit_returns_the_chain_and_prunes_forks() {
        let root = child(
            &child(
                &Block::new(
                    BlockHeader {
                        epoch: 0,
                        view: 0,
                        height: 0,
                        timestamp_ms: 0,
                        parent_hash: BlockHash::default(),
                        payload_root: [0; 32],
                        state_root: [0; 32],
                        proposer: 0,
                        qc: QuorumCert::genesis(0, BlockHash::default(), 4),
                    },
                    vec![],
                ),
                1,
                0,
            ),
            2,
            0,
        );
        let mut s = BlockTree::new(root.clone(), 2);
        let a = child(&root, 3, 1);
        let b = child(&a, 4, 5);
        let fork = child(&root, 5, 2);
        let orphan = child(&child(&root, 9, 3), 10, 3);
        for blk in [&a, &b, &fork] {
            assert!(s.insert(blk.clone()));
        }
        assert!(!s.insert(orphan), "parent unknown");
        assert!(!s.insert(child(&a, 3, 4)), "view must grow");
        assert_eq!(s.pending_tx_ids(&b.hash()).len(), 2);
        let done = s.commit(&b.hash());
        assert_eq!(
            done.iter().map(|x| x.hash()).collect::<Vec<_>>(),
            vec![a.hash(), b.hash()]
        );
        assert_eq!(s.root().hash(), b.hash());
        assert!(!s.contains(&fork.hash()), "fork pruned");
        assert!(!s.contains(&root.hash()), "outside the retained window");
        assert!(s.contains(&a.hash()));
        assert_eq!(s.ancestors(&b.hash(), 5).len(), 2);
    }
}
