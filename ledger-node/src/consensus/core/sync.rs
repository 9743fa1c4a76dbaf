//! Catching up: fetching blocks a certificate or proposal refers to but we do not hold, and
//! processing what waited for them.

use std::sync::Arc;

use super::{Core, MAX_PARKED, Parked};
use crate::consensus::messages::{DropReason, Message};
use crate::ids::BlockHash;
use crate::ids::ValidatorIndex;
use crate::types::Block;

impl Core {
    // ---- catching up -----------------------------------------------------------------------

    pub(super) fn park(&mut self, parent: BlockHash, item: Parked) {
        if self.parked_count >= MAX_PARKED {
            return self.drop(DropReason::FarFuture);
        }
        self.parked_count += 1;
        self.parked.entry(parent).or_default().push(item);
    }

    pub(super) fn request_block(&mut self, hash: BlockHash, from: ValidatorIndex) {
        if self.tree.contains(&hash) {
            return;
        }
        if let Some(&at) = self.wanted.get(&hash)
            && self.now < at + self.config.sync_retry_ms
        {
            return;
        }
        if self.wanted.len() >= MAX_PARKED {
            self.wanted.clear();
        }
        self.wanted.insert(hash, self.now);
        let to = if from == self.me {
            self.committee.leader(self.pacemaker.view())
        } else {
            from
        };
        if to == self.me {
            return;
        }
        self.stats.sync_requests += 1;
        self.send(
            to,
            Message::BlockRequest {
                hash,
                max_blocks: crate::codec::MAX_BLOCKS_PER_RESPONSE,
            },
        );
    }

    /// Blocks answering our requests, newest first. Only a run that starts at a hash we asked
    /// for and follows parent links is accepted: the requested hash came from a verified
    /// certificate, and each parent hash is covered by its child's hash.
    pub(super) fn on_blocks(&mut self, from: ValidatorIndex, blocks: Vec<Arc<Block>>) {
        let mut expect: Option<BlockHash> = None;
        let mut run = Vec::new();
        for b in blocks {
            let ok = match expect {
                None => self.wanted.contains_key(&b.hash()),
                Some(h) => b.hash() == h,
            };
            if !ok {
                if expect.is_none() {
                    self.drop(DropReason::Unrequested);
                }
                break;
            }
            self.wanted.remove(&b.hash());
            expect = Some(b.parent_hash());
            let stop = self.tree.contains(&b.parent_hash()) || b.height() <= self.tree.root().height() + 1;
            run.push(b);
            if stop {
                break;
            }
        }
        let Some(oldest) = run.last().cloned() else { return };
        if !self.tree.contains(&oldest.parent_hash()) && oldest.height() > self.tree.root().height() + 1 {
            self.request_block(oldest.parent_hash(), from);
        }
        for b in run.into_iter().rev() {
            if self.tree.contains(&b.hash()) {
                continue;
            }
            if self.tree.contains(&b.parent_hash()) {
                self.insert_synced(from, b);
            } else {
                let parent = b.parent_hash();
                self.park(parent, Parked::Synced(from, b));
            }
        }
    }

    pub(super) fn insert_synced(&mut self, from: ValidatorIndex, b: Arc<Block>) {
        let h = b.hash();
        // The application executes fetched blocks too, so their children can be checked and
        // voted on; a certified block whose state root we cannot reproduce is refused.
        let app_ok = match self.tree.get(&b.parent_hash()).cloned() {
            Some(parent) => self.app.check_block(&parent, &b),
            None => false,
        };
        if app_ok && self.tree.insert(b.clone()) {
            self.process_qc(b.qc(), from);
            self.unpark(h);
        } else {
            self.drop(DropReason::InvalidBlock);
        }
    }

    /// `h` just arrived: process what waited for it.
    pub(super) fn unpark(&mut self, h: BlockHash) {
        if let Some(qc) = self.parked_qcs.remove(&h) {
            let hint = self.committee.leader(qc.view);
            self.process_qc(&qc, hint);
        }
        let Some(items) = self.parked.remove(&h) else {
            return;
        };
        self.parked_count = self.parked_count.saturating_sub(items.len());
        for item in items {
            match item {
                Parked::Proposal(from, p) => self.on_proposal(from, p),
                Parked::Synced(from, b) => {
                    if !self.tree.contains(&b.hash()) {
                        self.insert_synced(from, b);
                    }
                }
            }
        }
    }
}
