//! The consensus thread: owns the [`Core`], feeds it verified messages, client transactions and
//! due timers with the wall-clock time, and carries out its actions (frames to peers, timers,
//! committed blocks into the ledger and on to storage).
//!
//! It is a plain OS thread, not an async task, because the core's safety storage is synchronous:
//! saving the safety record blocks this thread until SQLite has synced it, and nothing else
//! waits on this thread meanwhile. It also runs catching up: at start, and whenever peers'
//! storage proves to hold final blocks we lack while proposals show the chain far ahead of what
//! the core can fetch from its peers' memory, it fetches committed blocks with their
//! certificates from peers' storage, in batches, checks that each batch ends in a two-chain (so
//! every block in it is final), executes them, and restarts the core from the new last block.
//! The new core gets the old one's mempool: its pending transactions, and the ids of the
//! recently committed ones (those of the fetched blocks added), without which it would take
//! committed transactions back from late gossip and propose blocks the others refuse.
//!
//! A proposal far above our last commit is not proof of being behind: with views failing, the
//! committee may certify a long chain of blocks that no two-chain commits yet, and peers'
//! storage then holds nothing we lack. So such a proposal only makes the driver ask the
//! proposer's storage (without stopping the core), and only an answer holding a final block
//! above ours starts catching up.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;

use crate::codec::decode_exact;
use crate::committee::Committee;
use crate::consensus::core::{Action, Config, Core, FinalBy, Input, Recovery, Timer};
use crate::consensus::mempool::Mempool;
use crate::consensus::messages::{Message, VerifiedBody};
use crate::consensus::wire::encode_message;
use crate::crypto::KeyPair;
use crate::node::frame::{Frame, MAX_SYNC_BLOCKS};
use crate::node::metrics::gauge_value;
use crate::node::store::{CommittedItem, SqliteSafety};
use crate::node::{DriverInput, Shared};
use crate::state::{Ledger, SharedLedger};
use crate::types::{Block, QuorumCert};

/// A catch-up reply: the peer and its (block, certificate) encodings.
pub type SyncReply = (u16, Vec<(Vec<u8>, Vec<u8>)>);

/// How long a catch-up request may go unanswered before it counts as lost.
const SYNC_REPLY_WAIT: Duration = Duration::from_secs(3);

/// A question to one peer's storage, asked while the core runs: does it hold final blocks above
/// ours?
#[derive(Clone, Copy, Debug)]
pub(crate) struct Probe {
    peer: u16,
    sent: Instant,
    answered: bool,
}

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
    /// Peers' storage holds final blocks above ours and proposals are far ahead: catch up.
    pub(crate) far_behind: bool,
    /// The last storage question: at most one per [`SYNC_REPLY_WAIT`].
    pub(crate) probe: Option<Probe>,
    pub(crate) sync_turn: usize,
}

/// Wall-clock milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        // Saturates: u64 milliseconds last 584 million years.
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
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
            self.probe_answers();
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
        let Some(core) = self.core.as_ref() else { return };
        let input = match input {
            DriverInput::Submit(tx) => Input::Submit(tx),
            DriverInput::Message(m) => {
                if let VerifiedBody::Proposal(p) = m.body() {
                    let block = &p.inner().block;
                    tracing::debug!(view = block.view(), from = m.from(), "proposal in");
                    let threshold = (self.config.retain_committed_blocks as u64 / 2).max(8);
                    if suspects_far_behind(core, block, threshold) {
                        self.probe_storage(m.from());
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
                Action::Commit(c) => self.commit(c.block, c.qc, c.final_by),
            }
        }
    }

    fn commit(&mut self, block: Arc<Block>, qc: QuorumCert, final_by: Option<Arc<FinalBy>>) {
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
                let _ = self.commits.send(CommittedItem {
                    block,
                    qc,
                    exec,
                    final_by,
                });
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
            self.shared.metrics.view.set(gauge_value(core.current_view()));
            self.shared.metrics.mempool.set(gauge_value(core.mempool_len()));
            self.shared.view.store(core.current_view(), Ordering::Relaxed);
            self.shared
                .mempool
                .store(core.mempool_len() as u64, Ordering::Relaxed);
        }
    }

    /// Asks `peer`'s storage for the committed blocks above ours, unless we asked shortly
    /// before (while a proposal shows us far ahead, every proposal would ask again).
    fn probe_storage(&mut self, peer: u16) {
        if self.probe.is_some_and(|p| p.sent.elapsed() < SYNC_REPLY_WAIT) {
            return;
        }
        tracing::debug!(peer, from = self.last.0.height() + 1, "asking a peer's storage");
        self.probe = Some(Probe {
            peer,
            sent: Instant::now(),
            answered: false,
        });
        self.request_blocks(peer);
    }

    /// Reads the storage answers that arrived: catching up starts only if the answer to our
    /// question proves a final block above our last commit. (Other answers are late replies
    /// from an earlier catch-up.)
    fn probe_answers(&mut self) {
        while let Ok((peer, items)) = self.sync_rx.try_recv() {
            let Some(probe) = self.probe.as_mut().filter(|p| p.peer == peer && !p.answered) else {
                continue;
            };
            probe.answered = true;
            let ahead = final_prefix(&self.last.0, &items, &self.shared.committee).len();
            if ahead > 0 {
                tracing::debug!(peer, ahead, "a peer's storage holds final blocks we lack");
                self.far_behind = true;
            }
        }
    }

    fn request_blocks(&self, peer: u16) {
        self.shared.peers.send(
            peer,
            Arc::new(
                Frame::SyncRequest {
                    from: self.last.0.height() + 1,
                    max: u32::from(MAX_SYNC_BLOCKS),
                }
                .to_wire(),
            ),
        );
    }

    /// Fetches committed blocks from peers until none of them has a provably final block we
    /// lack. One request at a time, to one peer at a time, in bounded batches.
    pub(crate) fn catch_up(&mut self) {
        self.shared.catching_up.store(true, Ordering::Relaxed);
        self.probe = None;
        // Answers to earlier questions would be taken for answers to this catch-up's.
        while self.sync_rx.try_recv().is_ok() {}
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
            self.request_blocks(peer);
            let rx = &mut self.sync_rx;
            let reply = self.waits.block_on(async {
                let deadline = tokio::time::Instant::now() + SYNC_REPLY_WAIT;
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
        let blocks = final_prefix(&self.last.0, items, &self.shared.committee);
        // The item after the final prefix is the child whose certificate made it final
        // (`final_prefix` checked both): the evidence of the last block's finality.
        let evidence = items.get(blocks.len()).and_then(|(b, q)| {
            let child = decode_exact::<Block>(b).ok()?;
            let child_qc = decode_exact::<QuorumCert>(q).ok()?;
            Some(Arc::new(FinalBy {
                child: child.header().clone(),
                child_qc,
            }))
        });
        let n = blocks.len();
        for (k, (block, qc)) in blocks.iter().enumerate() {
            // No core runs: the mempool it will take over learns what became committed.
            if let Some(m) = self.mempool.as_mut() {
                m.mark_committed(block.tx_ids());
            }
            let final_by = if k + 1 == n { evidence.clone() } else { None };
            self.commit(block.clone(), qc.clone(), final_by);
        }
        n
    }
}

/// Whether a proposed `block` suggests that we are further behind than the core can fetch from
/// its peers' memory: it is more than `threshold` above our last commit, and extends a block
/// the core does not hold. A long chain of certified blocks that no two-chain has committed yet
/// is not being behind when the core holds it: peers commit it no sooner than we do, so their
/// storage has nothing more.
pub fn suspects_far_behind(core: &Core, block: &Block, threshold: u64) -> bool {
    block.height().saturating_sub(core.committed_root().height()) > threshold
        && !core.holds_block(&block.parent_hash())
}

/// The blocks of a catch-up batch (encoded, in height order) that extend `last` and are
/// provably final, each with its certificate: up to the last block whose child follows it in
/// the next view with a valid certificate on that child (a two-chain). Empty when the batch
/// proves nothing above `last`.
pub fn final_prefix(
    last: &Block,
    items: &[(Vec<u8>, Vec<u8>)],
    committee: &Committee,
) -> Vec<(Arc<Block>, QuorumCert)> {
    let mut blocks: Vec<(Arc<Block>, QuorumCert)> = Vec::with_capacity(items.len());
    let mut parent = last.hash();
    for (b, q) in items {
        let (Ok(block), Ok(qc)) = (decode_exact::<Block>(b), decode_exact::<QuorumCert>(q)) else {
            break;
        };
        if block.parent_hash() != parent || block.height() != last.height() + 1 + blocks.len() as u64 {
            break;
        }
        parent = block.hash();
        blocks.push((Arc::new(block), qc));
    }
    // The last block k whose successor follows in the next view, with a valid certificate on
    // that successor: a two-chain, so k and all before it are final.
    let final_upto = (0..blocks.len().saturating_sub(1)).rev().find(|&k| {
        let (b0, b1) = (&blocks[k].0, &blocks[k + 1].0);
        let qc1 = &blocks[k + 1].1;
        b1.view() == b0.view() + 1
            && qc1.block_hash == b1.hash()
            && qc1.view == b1.view()
            && qc1.verify(committee).is_ok()
    });
    let Some(k) = final_upto else {
        return Vec::new();
    };
    // The child's header carries each block's certificate, covered by the child's hash.
    let certs: Vec<QuorumCert> = (0..=k).map(|j| blocks[j + 1].0.qc().clone()).collect();
    blocks.truncate(k + 1);
    blocks
        .into_iter()
        .zip(certs)
        .map(|((b, _), qc)| (b, qc))
        .collect()
}

fn wire(msg: &Message) -> Arc<Vec<u8>> {
    Arc::new(Frame::Consensus(encode_message(msg)).to_wire())
}

fn fatal(why: &str) -> ! {
    tracing::error!("{why}; stopping");
    eprintln!("fatal: {why}");
    std::process::exit(3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::encode_to_vec;
    use crate::consensus::core::NoApplication;
    use crate::consensus::safety::MemoryStorage;
    use crate::consensus::sim::{SimConfig, Simulation};
    use crate::types::BlockHeader;

    /// What a peer's storage answers: its committed blocks with their certificates, encoded.
    fn stored(sim: &Simulation, node: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        sim.nodes[node]
            .committed
            .iter()
            .map(|c| (encode_to_vec(c.block.as_ref()), encode_to_vec(&c.qc)))
            .collect()
    }

    fn genesis(sim: &Simulation) -> Arc<Block> {
        Block::genesis(sim.committee(), 0, [0; 32])
    }

    /// A proposal extending `parent` (its certificate, signatures and state do not matter here).
    fn child_of(parent: &Block, qc: &QuorumCert) -> Block {
        Block::new(
            BlockHeader {
                epoch: 0,
                view: qc.view + 1,
                height: parent.height() + 1,
                timestamp_ms: parent.timestamp_ms() + 1,
                parent_hash: parent.hash(),
                payload_root: [0; 32],
                state_root: [0; 32],
                proposer: 0,
                qc: qc.clone(),
            },
            Vec::new(),
        )
    }

    #[test]
    fn a_batch_proves_final_only_the_blocks_under_a_certified_two_chain_above_ours() {
        let mut sim = Simulation::new(SimConfig::new(4, 71));
        sim.start();
        sim.run_while(60_000, |s| s.nodes[0].committed.len() < 12);
        let items = stored(&sim, 0);
        let blocks: Vec<Arc<Block>> = sim.nodes[0].committed.iter().map(|c| c.block.clone()).collect();
        let c = sim.committee().clone();
        // Up to the last block whose child follows it in the next view.
        let two_chain = (1..blocks.len())
            .rev()
            .find(|&k| blocks[k].view() == blocks[k - 1].view() + 1)
            .unwrap();
        let got = final_prefix(&genesis(&sim), &items, &c);
        assert_eq!(got.len(), two_chain);
        for (k, (b, qc)) in got.iter().enumerate() {
            assert_eq!(b.hash(), blocks[k].hash());
            assert_eq!((qc.block_hash, qc.view), (b.hash(), b.view()));
        }
        // Storage that holds nothing above ours proves nothing: no reason to catch up.
        let last = blocks.last().unwrap();
        assert!(final_prefix(last, &items, &c).is_empty());
        assert!(final_prefix(last, &[], &c).is_empty());
        // Blocks that do not extend ours prove nothing either.
        assert!(final_prefix(&genesis(&sim), &items[1..], &c).is_empty());
        // A certificate that does not certify the child does not make a two-chain.
        let mut forged = items[..=two_chain].to_vec();
        forged[two_chain].1 = items[0].1.clone();
        assert!(final_prefix(&genesis(&sim), &forged, &c).len() < two_chain);
    }

    /// Validator 3 is down and validator 1's proposals never arrive: the views of 0 and 2 are
    /// certified, never two consecutive ones, so the certified chain grows and nothing commits.
    /// Proposals then sit far above every validator's last commit, and peers' storage holds
    /// nothing more: a validator that holds the chain is not behind. One that lacks it (a
    /// restarted one) may be, which only its peers' storage can tell.
    #[test]
    fn a_long_certified_chain_the_core_holds_is_not_being_far_behind() {
        let mut sim = Simulation::new(SimConfig::new(4, 72));
        sim.crash_at(0, 3);
        sim.set_filter(Box::new(|_, from, _, _, msg| {
            !(from == 1 && matches!(msg, Message::Proposal(_)))
        }));
        sim.start();
        let threshold = 8;
        let tip_height = |s: &Simulation| {
            let core = s.nodes[0].core.as_ref().unwrap();
            core.block(&core.high_qc().block_hash).map_or(0, |b| b.height())
        };
        sim.run_while(120_000, |s| tip_height(s) <= threshold + 2);
        let core = sim.nodes[0].core.as_ref().unwrap();
        assert_eq!(core.committed_root().height(), 0, "nothing commits");
        let tip = core.block(&core.high_qc().block_hash).unwrap().clone();
        let proposal = child_of(&tip, core.high_qc());
        assert!(proposal.height() > core.committed_root().height() + threshold);
        assert!(!suspects_far_behind(core, &proposal, threshold));
        for i in [0, 1, 2] {
            assert!(stored(&sim, i).is_empty(), "validator {i} stored nothing");
        }

        let me = 3;
        let fresh = Core::new(
            sim.config.core.clone(),
            sim.committee().clone(),
            me,
            crate::crypto::KeyPair::for_test(sim.config.key_seed, u64::from(me)),
            Box::new(MemoryStorage::default()),
            Box::new(NoApplication),
            Recovery::genesis(genesis(&sim), sim.committee()),
        )
        .unwrap();
        assert!(suspects_far_behind(&fresh, &proposal, threshold));
        let near = child_of(&genesis(&sim), &QuorumCert::genesis(0, genesis(&sim).hash(), 4));
        assert!(!suspects_far_behind(&fresh, &near, threshold));
    }
}
