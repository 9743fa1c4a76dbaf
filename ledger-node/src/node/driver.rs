//! The consensus thread: owns the [`Core`], feeds it verified messages, client transactions and
//! due timers with the wall-clock time, and carries out its actions (frames to peers, timers,
//! committed blocks into the ledger and on to storage).
//!
//! It is a plain OS thread, not an async task, because the core's safety storage is synchronous:
//! saving the safety record blocks this thread until SQLite has synced it, and nothing else
//! waits on this thread meanwhile. It also runs catching up: at start, and whenever proposals
//! show the chain far ahead of what the core can fetch from its peers' memory, it fetches
//! committed blocks with their certificates from peers' storage, in batches, checks that each
//! batch ends in a two-chain (so every block in it is final), executes them, and restarts the
//! core from the new last block. The new core gets the old one's mempool: its pending
//! transactions, and the ids of the recently committed ones (those of the fetched blocks
//! added), without which it would take committed transactions back from late gossip and
//! propose blocks the others refuse.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;

use crate::codec::{decode_exact, encode_message};
use crate::core::{Action, Config, Core, Input, Recovery, Timer};
use crate::crypto::KeyPair;
use crate::mempool::Mempool;
use crate::messages::{Message, VerifiedBody};
use crate::node::frame::{Frame, MAX_SYNC_BLOCKS};
use crate::node::store::{CommittedItem, SqliteSafety};
use crate::node::{DriverInput, Shared};
use crate::state::{Ledger, SharedLedger};
use crate::types::{Block, QuorumCert};

/// A catch-up reply: the peer and its (block, certificate) encodings.
pub type SyncReply = (u16, Vec<(Vec<u8>, Vec<u8>)>);

/// Everything the consensus thread owns.
pub struct Driver {
    pub(crate) shared: Arc<Shared>,
    pub(crate) rt: tokio::runtime::Handle,
    /// The driver's own small runtime for its waits (inbox with a timeout, sync replies). Its
    /// timers outlive the node's runtime: when that shuts down, the inbox closes and the driver
    /// returns, instead of a timer of the stopping runtime panicking on this thread.
    pub(crate) waits: tokio::runtime::Runtime,
    pub(crate) config: Config,
    pub(crate) key: Option<KeyPair>,
    pub(crate) safety_path: std::path::PathBuf,
    pub(crate) ledger: Arc<Mutex<Ledger>>,
    pub(crate) inbox: mpsc::Receiver<DriverInput>,
    pub(crate) sync_rx: mpsc::UnboundedReceiver<SyncReply>,
    pub(crate) commits: mpsc::UnboundedSender<CommittedItem>,
    pub(crate) last: (Arc<Block>, QuorumCert),
    pub(crate) core: Option<Core>,
    /// The mempool while no core runs (before the first starts, and while catching up): the
    /// next core takes it over.
    pub(crate) mempool: Option<Mempool>,
    pub(crate) timers: BTreeMap<(u64, u64), Timer>,
    pub(crate) timer_seq: u64,
    pub(crate) far_behind: bool,
    pub(crate) sync_turn: usize,
}

/// Wall-clock milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Driver {
    /// The node's time (ms since the Unix epoch): block timestamps and timers follow it.
    fn now(&self) -> u64 {
        u64::try_from(self.shared.clock.now().unix_millis()).unwrap_or(0)
    }

    /// Runs until the inbox closes (the node is shutting down).
    pub fn run(mut self) {
        self.catch_up();
        if self.key.is_none() {
            return self.follow();
        }
        self.start_core();
        loop {
            let deadline = self.timers.keys().next().map(|(at, _)| *at);
            let wait = deadline.map_or(Duration::from_millis(500), |at| {
                Duration::from_millis(at.saturating_sub(self.now()))
            });
            let inbox = &mut self.inbox;
            let got = self
                .waits
                .block_on(async { tokio::time::timeout(wait, inbox.recv()).await });
            match got {
                Ok(None) => return,
                Ok(Some(first)) => {
                    self.input(first);
                    for _ in 0..512 {
                        match self.inbox.try_recv() {
                            Ok(i) => self.input(i),
                            Err(_) => break,
                        }
                    }
                }
                Err(_) => {}
            }
            self.fire_timers();
            self.publish_status();
            if self.far_behind {
                self.far_behind = false;
                tracing::warn!("far behind the committee: catching up from peers' storage");
                self.mempool = self.core.take().map(Core::into_mempool);
                self.timers.clear();
                self.catch_up();
                self.start_core();
            }
        }
    }

    /// A full node: keeps fetching committed blocks.
    fn follow(mut self) {
        loop {
            self.catch_up();
            let inbox = &mut self.inbox;
            let closed = self.waits.block_on(async {
                matches!(
                    tokio::time::timeout(Duration::from_millis(200), inbox.recv()).await,
                    Ok(None)
                )
            });
            if closed {
                return;
            }
        }
    }

    fn start_core(&mut self) {
        let Some(key) = self.key.clone() else { return };
        let Some(me) = self.shared.identity.as_ref().map(|(i, _)| *i) else {
            return;
        };
        let storage = match self
            .rt
            .block_on(SqliteSafety::open(&self.safety_path, self.rt.clone()))
        {
            Ok(s) => s,
            Err(e) => fatal(&format!("opening the safety record: {e}")),
        };
        let recovery = Recovery {
            root: self.last.0.clone(),
            root_qc: self.last.1.clone(),
            blocks: Vec::new(),
            mempool: self.mempool.take(),
        };
        let core = Core::new(
            self.config.clone(),
            self.shared.committee.clone(),
            me,
            key,
            Box::new(storage),
            Box::new(SharedLedger(self.ledger.clone())),
            recovery,
        );
        let mut core = match core {
            Ok(c) => c,
            Err(e) => fatal(&format!("starting consensus: {e}")),
        };
        let actions = core.start(self.now());
        self.core = Some(core);
        self.act(actions);
    }

    fn input(&mut self, input: DriverInput) {
        let Some(core) = self.core.as_mut() else { return };
        let input = match input {
            DriverInput::Submit(tx) => Input::Submit(tx),
            DriverInput::Message(m) => {
                if let VerifiedBody::Proposal(p) = m.body() {
                    tracing::debug!(view = p.inner().block.view(), from = m.from(), "proposal in");
                    let behind = p
                        .inner()
                        .block
                        .height()
                        .saturating_sub(core.committed_root().height());
                    if behind > (self.config.retain_committed_blocks as u64 / 2).max(8) {
                        self.far_behind = true;
                        return;
                    }
                }
                Input::Message(m)
            }
        };
        let now = self.now();
        let Some(core) = self.core.as_mut() else { return };
        let actions = core.handle(now, input);
        self.act(actions);
    }

    fn fire_timers(&mut self) {
        let now = self.now();
        while let Some((&(at, seq), _)) = self.timers.iter().next() {
            if at > now {
                break;
            }
            let Some(t) = self.timers.remove(&(at, seq)) else {
                break;
            };
            if let Some(core) = self.core.as_mut() {
                let actions = core.handle(now, Input::Timer(t));
                self.act(actions);
            }
        }
    }

    fn act(&mut self, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::Send { to, msg } => self.shared.peers.send(to, wire(&msg)),
                Action::Broadcast(msg) => {
                    match &msg {
                        Message::Proposal(p) => {
                            tracing::debug!(view = p.block.view(), txs = p.block.payload().len(), "propose")
                        }
                        Message::Vote(v) => tracing::debug!(view = v.view, "vote"),
                        Message::Timeout(t) => tracing::debug!(view = t.view, "timeout"),
                        _ => {}
                    }
                    self.shared.peers.broadcast(wire(&msg))
                }
                Action::SetTimer { timer, at_ms } => {
                    self.timer_seq += 1;
                    self.timers.insert((at_ms, self.timer_seq), timer);
                }
                Action::Commit(c) => self.commit(c.block, c.qc),
            }
        }
    }

    fn commit(&mut self, block: Arc<Block>, qc: QuorumCert) {
        let exec = match self.ledger.lock() {
            Ok(mut l) => l.commit(&block),
            Err(_) => fatal("ledger lock poisoned"),
        };
        match exec {
            Ok(exec) => {
                tracing::debug!(
                    height = block.height(),
                    view = block.view(),
                    txs = block.payload().len(),
                    "commit"
                );
                self.last = (block.clone(), qc.clone());
                let _ = self.commits.send(CommittedItem { block, qc, exec });
            }
            Err(e) => fatal(&format!("cannot apply committed block: {e}")),
        }
    }

    fn publish_status(&self) {
        let checks = &self.shared.metrics.certificate_checks;
        checks.inc_by(
            self.shared
                .committee
                .cache()
                .checks()
                .saturating_sub(checks.get()),
        );
        if let Some(core) = &self.core {
            self.shared.metrics.view.set(core.current_view() as i64);
            self.shared.metrics.mempool.set(core.mempool_len() as i64);
            self.shared.view.store(core.current_view(), Ordering::Relaxed);
            self.shared
                .mempool
                .store(core.mempool_len() as u64, Ordering::Relaxed);
        }
    }

    /// Fetches committed blocks from peers until none of them has a provably final block we
    /// lack. One request at a time, to one peer at a time, in bounded batches.
    pub(crate) fn catch_up(&mut self) {
        self.shared.catching_up.store(true, Ordering::Relaxed);
        let started = Instant::now();
        let mut misses = 0usize;
        loop {
            let peers = self.shared.peers.connected();
            if peers.is_empty() {
                if started.elapsed() > Duration::from_secs(3) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            if misses >= peers.len() {
                break;
            }
            let peer = peers[self.sync_turn % peers.len()];
            self.sync_turn += 1;
            let from = self.last.0.height() + 1;
            self.shared.peers.send(
                peer,
                Arc::new(
                    Frame::SyncRequest {
                        from,
                        max: MAX_SYNC_BLOCKS as u32,
                    }
                    .to_wire(),
                ),
            );
            let rx = &mut self.sync_rx;
            let reply = self.waits.block_on(async {
                let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
                loop {
                    match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(Some((p, items))) if p == peer => return Some(items),
                        Ok(Some(_)) => continue, // a late reply from someone else
                        _ => return None,
                    }
                }
            });
            let applied = reply.map_or(0, |items| self.apply_batch(&items));
            if applied == 0 {
                misses += 1;
            } else {
                misses = 0;
                self.shared.metrics.synced_blocks.inc_by(applied as u64);
            }
        }
        self.shared.catching_up.store(false, Ordering::Relaxed);
    }

    /// Checks and applies a batch of committed blocks; returns how many were applied.
    fn apply_batch(&mut self, items: &[(Vec<u8>, Vec<u8>)]) -> usize {
        let mut blocks: Vec<(Arc<Block>, QuorumCert)> = Vec::with_capacity(items.len());
        let mut parent = self.last.0.hash();
        for (b, q) in items {
            let (Ok(block), Ok(qc)) = (decode_exact::<Block>(b), decode_exact::<QuorumCert>(q)) else {
                break;
            };
            if block.parent_hash() != parent
                || block.height() != self.last.0.height() + 1 + blocks.len() as u64
            {
                break;
            }
            parent = block.hash();
            blocks.push((Arc::new(block), qc));
        }
        // The last block k whose successor follows in the next view, with a valid certificate
        // on that successor: a two-chain, so k and all before it are final.
        let mut final_upto = None;
        for k in (0..blocks.len().saturating_sub(1)).rev() {
            let (b0, b1) = (&blocks[k].0, &blocks[k + 1].0);
            let qc1 = &blocks[k + 1].1;
            if b1.view() == b0.view() + 1
                && qc1.block_hash == b1.hash()
                && qc1.view == b1.view()
                && qc1.verify(&self.shared.committee).is_ok()
            {
                final_upto = Some(k);
                break;
            }
        }
        let Some(k) = final_upto else { return 0 };
        for j in 0..=k {
            let block = blocks[j].0.clone();
            // The child's header carries this block's certificate, covered by the child's hash.
            let qc = blocks[j + 1].0.qc().clone();
            // No core runs: the mempool it will take over learns what became committed.
            if let Some(m) = self.mempool.as_mut() {
                m.mark_committed(block.tx_ids());
            }
            self.commit(block, qc);
        }
        k + 1
    }
}

fn wire(msg: &Message) -> Arc<Vec<u8>> {
    Arc::new(Frame::Consensus(encode_message(msg)).to_wire())
}

fn fatal(why: &str) -> ! {
    tracing::error!("{why}; stopping");
    eprintln!("fatal: {why}");
    std::process::exit(3)
}
