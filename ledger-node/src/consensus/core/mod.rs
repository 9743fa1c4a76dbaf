//! The consensus state machine of one validator, with no IO and no clock of its own.
//!
//! A driver (the simulator, or the node process of part 2) feeds [`Input`]s — a verified message,
//! a timer that fired, a transaction a client submitted — together with the current time, and
//! carries out the [`Action`]s returned: send or broadcast a message, arm a timer, hand a
//! committed block to the application. Timers are never cancelled: a stale one is ignored.
//!
//! One view, on the happy path: the leader proposes a block extending the highest QC; every
//! validator checks it, asks the safety rules for a vote and broadcasts the vote; the next leader
//! aggregates 2f+1 votes into a QC (one pairing check), announces it at once (`SyncInfo`), and
//! proposes the next block carrying it: the others learn what is final from the announcement
//! while the leader batches and executes its block, and find the proposal's copy in their cache.
//! Other validators keep the votes unchecked and only aggregate them if the next leader fails to
//! show up (at their timeout), so a crashed leader cannot swallow a QC. Seeing a QC for block B1
//! whose parent B0 was proposed in the view just before commits B0 and its uncommitted ancestors
//! (the two-chain rule; the lock that makes it safe is in [`crate::consensus::safety`]).

mod io;
mod sync;

pub use io::*;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::committee::Committee;
use crate::consensus::aggregator::Aggregator;
use crate::consensus::block_tree::BlockTree;
use crate::consensus::mempool::Mempool;
use crate::consensus::messages::{
    DropCounters, DropReason, Message, Proposal, VerifiedBody, VerifiedMessage,
};
use crate::consensus::pacemaker::Pacemaker;
use crate::consensus::safety::{SafetyRules, SafetyStorage};
use crate::crypto::KeyPair;
use crate::error::Result;
use crate::ids::ValidatorIndex;
use crate::ids::{BlockHash, View};
use crate::types::{Block, BlockHeader, QuorumCert, Timeout, TimeoutCert, Vote, vote_signing_bytes};

// Few and short-lived (bounded by MAX_PARKED).
#[allow(clippy::large_enum_variant)]
enum Parked {
    Proposal(ValidatorIndex, Proposal),
    Synced(ValidatorIndex, Arc<Block>),
}

const MAX_PARKED: usize = 512;

/// One validator's consensus state.
pub struct Core {
    config: Config,
    committee: Committee,
    me: ValidatorIndex,
    safety: SafetyRules,
    app: Box<dyn Application>,
    tree: BlockTree,
    pacemaker: Pacemaker,
    mempool: Mempool,
    high_qc: QuorumCert,
    votes: BTreeMap<(View, BlockHash), Aggregator>,
    voted: BTreeSet<(View, ValidatorIndex)>,
    view_started_ms: u64,
    proposed_view: View,
    propose_timer: (View, u64),
    last_timeout: Option<Timeout>,
    parked: HashMap<BlockHash, Vec<Parked>>,
    parked_count: usize,
    parked_qcs: HashMap<BlockHash, QuorumCert>,
    wanted: HashMap<BlockHash, u64>,
    outbox: Vec<Vec<u8>>,
    flush_armed: bool,
    drops: DropCounters,
    stats: CoreStats,
    actions: Vec<Action>,
    now: u64,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("me", &self.me)
            .field("view", &self.pacemaker.view())
            .field("high_qc", &self.high_qc.view)
            .field("root_height", &self.tree.root().height())
            .finish()
    }
}

impl Core {
    /// Builds a validator from its key, its safety storage (loaded now), its application hook
    /// and where to resume. Nothing happens until [`Core::start`].
    pub fn new(
        config: Config,
        committee: Committee,
        me: ValidatorIndex,
        key: KeyPair,
        storage: Box<dyn SafetyStorage>,
        app: Box<dyn Application>,
        recovery: Recovery,
    ) -> Result<Self> {
        let safety = SafetyRules::new(key, me, committee.epoch(), recovery.root_qc.clone(), storage)?;
        let mut tree = BlockTree::new(recovery.root.clone(), config.retain_committed_blocks);
        let mut high_qc = recovery.root_qc.clone();
        for b in &recovery.blocks {
            if tree.insert(b.clone()) && b.qc().view > high_qc.view {
                high_qc = b.qc().clone();
            }
        }
        let rec = safety.record();
        if rec.high_qc.view > high_qc.view && tree.contains(&rec.high_qc.block_hash) {
            high_qc = rec.high_qc.clone();
        }
        let start_view = (high_qc.view.saturating_add(1)).max(rec.last_voted_view).max(1);
        let last_proposed = rec.last_proposed_view;
        let mempool = recovery
            .mempool
            .unwrap_or_else(|| Mempool::new(config.mempool.clone()));
        Ok(Self {
            pacemaker: Pacemaker::new(config.pacemaker.clone(), start_view),
            mempool,
            config,
            committee,
            me,
            safety,
            app,
            tree,
            high_qc,
            votes: BTreeMap::new(),
            voted: BTreeSet::new(),
            view_started_ms: 0,
            proposed_view: last_proposed,
            propose_timer: (0, 0),
            last_timeout: None,
            parked: HashMap::new(),
            parked_count: 0,
            parked_qcs: HashMap::new(),
            wanted: HashMap::new(),
            outbox: Vec::new(),
            flush_armed: false,
            drops: DropCounters::default(),
            stats: CoreStats::default(),
            actions: Vec::new(),
            now: 0,
        })
    }

    /// Arms the first view timer (and proposes if we lead the first view).
    pub fn start(&mut self, now_ms: u64) -> Vec<Action> {
        self.now = now_ms;
        self.enter_view();
        std::mem::take(&mut self.actions)
    }

    /// Processes one input at time `now_ms`.
    pub fn handle(&mut self, now_ms: u64, input: Input) -> Vec<Action> {
        self.now = self.now.max(now_ms);
        match input {
            Input::Message(m) => self.on_message(m),
            Input::Timer(t) => self.on_timer(t),
            Input::Submit(tx) => self.on_submit(tx),
        }
        std::mem::take(&mut self.actions)
    }

    /// Counts a message the driver dropped before it reached the core (failed verification).
    pub fn record_drop(&mut self, reason: DropReason) {
        self.drops.record(reason);
    }

    /// The committee (for the driver's `verify`).
    pub fn committee(&self) -> &Committee {
        &self.committee
    }
    /// Our index.
    pub fn index(&self) -> ValidatorIndex {
        self.me
    }
    /// Current view.
    pub fn current_view(&self) -> View {
        self.pacemaker.view()
    }
    /// Highest QC whose block we hold.
    pub fn high_qc(&self) -> &QuorumCert {
        &self.high_qc
    }
    /// Last committed block.
    pub fn committed_root(&self) -> &Arc<Block> {
        self.tree.root()
    }
    /// Drop counters.
    pub fn drops(&self) -> &DropCounters {
        &self.drops
    }
    /// Work counters.
    pub fn stats(&self) -> &CoreStats {
        &self.stats
    }
    /// Pending transactions.
    pub fn mempool_len(&self) -> usize {
        self.mempool.len()
    }
    /// Stops this core, handing its mempool (pending transactions and the recently committed
    /// ids) to the next one ([`Recovery::mempool`]).
    pub fn into_mempool(self) -> Mempool {
        self.mempool
    }
    /// Blocks held in memory.
    pub fn stored_blocks(&self) -> usize {
        self.tree.len()
    }
    /// Whether the block is held in memory (committed and retained, or above the root).
    pub fn holds_block(&self, h: &BlockHash) -> bool {
        self.tree.contains(h)
    }
    /// A block held in memory.
    pub fn block(&self, h: &BlockHash) -> Option<&Arc<Block>> {
        self.tree.get(h)
    }

    fn drop(&mut self, r: DropReason) {
        self.drops.record(r);
    }

    fn on_message(&mut self, m: VerifiedMessage) {
        let from = m.from();
        match m.into_body() {
            VerifiedBody::Proposal(p) => self.on_proposal(from, p.into_inner()),
            VerifiedBody::Vote(v) => self.on_vote(v.into_inner()),
            VerifiedBody::Timeout(t) => self.on_timeout(from, t.into_inner()),
            VerifiedBody::TimeoutCert(tc) => self.on_tc(tc.into_inner()),
            VerifiedBody::SyncInfo(qc, tc) => {
                self.process_qc(qc.inner(), from);
                if let Some(tc) = tc {
                    self.on_tc(tc.into_inner());
                }
            }
            VerifiedBody::Transactions(txs) => {
                for tx in txs {
                    if let Err(r) = self.mempool.add(tx) {
                        self.drop(r);
                    }
                }
                self.maybe_propose();
            }
            VerifiedBody::BlockRequest(h, max) => {
                let blocks = self.tree.ancestors(&h, usize::from(max));
                if !blocks.is_empty() {
                    self.send(from, Message::BlockResponse(blocks));
                }
            }
            VerifiedBody::BlockResponse(blocks) => self.on_blocks(from, blocks),
        }
    }

    fn send(&mut self, to: ValidatorIndex, msg: Message) {
        self.actions.push(Action::Send { to, msg });
    }

    fn broadcast(&mut self, msg: Message) {
        self.actions.push(Action::Broadcast(msg));
    }

    fn set_timer(&mut self, timer: Timer, at_ms: u64) {
        self.actions.push(Action::SetTimer { timer, at_ms });
    }

    fn too_far(&self, view: View) -> bool {
        view > self.pacemaker.view().saturating_add(self.config.max_future_views)
    }

    // ---- pacemaker -------------------------------------------------------------------------

    fn enter_view(&mut self) {
        let v = self.pacemaker.view();
        self.view_started_ms = self.now;
        self.last_timeout = None;
        let at = self.now + self.pacemaker.timeout_ms();
        self.set_timer(Timer::View(v), at);
        self.maybe_propose();
    }

    fn advance(&mut self, view: View, progress: bool) {
        if self.pacemaker.advance(view, progress) {
            self.enter_view();
        }
    }

    fn on_timer(&mut self, t: Timer) {
        match t {
            Timer::View(v) if v == self.pacemaker.view() => {
                if let Some(t) = self.last_timeout.clone() {
                    // Still stuck: say it again (messages may have been lost).
                    self.broadcast(Message::Timeout(t));
                    let at = self.now + self.pacemaker.timeout_ms();
                    self.set_timer(Timer::View(v), at);
                } else {
                    self.local_timeout();
                }
            }
            Timer::Propose(v) if v == self.pacemaker.view() => self.maybe_propose(),
            Timer::FlushTransactions => {
                self.flush_armed = false;
                self.flush_outbox();
            }
            _ => {}
        }
    }

    /// Gives up on the current view: first certify any view whose votes reached a quorum here
    /// (the next leader may be the one that failed), then sign and broadcast a timeout.
    fn local_timeout(&mut self) {
        let v = self.pacemaker.view();
        self.certify_collected_votes();
        if self.pacemaker.view() != v || self.pacemaker.timed_out() {
            return;
        }
        self.pacemaker.mark_timed_out();
        let t = self.safety.timeout(v, self.high_qc.clone());
        self.stats.timeouts_signed += 1;
        self.last_timeout = Some(t.clone());
        self.broadcast(Message::Timeout(t.clone()));
        let at = self.now + self.pacemaker.timeout_ms();
        self.set_timer(Timer::View(v), at);
        self.count_timeout(t.view, self.me, t.signature);
    }

    fn on_timeout(&mut self, from: ValidatorIndex, t: Timeout) {
        if self.too_far(t.view) {
            return self.drop(DropReason::FarFuture);
        }
        self.process_qc(&t.high_qc, from);
        if t.view < self.pacemaker.view() {
            // The sender is behind: show it how we got ahead.
            let high_tc = self.pacemaker.high_tc().cloned();
            self.send(
                from,
                Message::SyncInfo {
                    high_qc: self.high_qc.clone(),
                    high_tc,
                },
            );
            return;
        }
        self.count_timeout(t.view, t.signer, t.signature);
    }

    fn count_timeout(&mut self, view: View, signer: ValidatorIndex, sig: crate::crypto::Signature) {
        let out = self
            .pacemaker
            .add_timeout(&self.committee, view, signer, sig, &mut self.stats.aggregation);
        if let Some(join) = out.join {
            self.advance(join, false);
            if self.pacemaker.view() == join && !self.pacemaker.timed_out() {
                self.local_timeout();
            }
        }
        if let Some(tc) = out.tc {
            self.stats.tcs_formed += 1;
            self.broadcast(Message::TimeoutCert(tc.clone()));
            self.on_tc(tc);
        }
    }

    fn on_tc(&mut self, tc: TimeoutCert) {
        let next = self.pacemaker.record_tc(tc);
        self.advance(next, false);
    }

    // ---- votes and certificates ------------------------------------------------------------

    fn on_vote(&mut self, v: Vote) {
        if v.view <= self.high_qc.view {
            return; // already certified at or beyond this view
        }
        if self.too_far(v.view) {
            return self.drop(DropReason::FarFuture);
        }
        if !self.voted.insert((v.view, v.signer)) {
            return self.drop(DropReason::Duplicate);
        }
        let epoch = self.committee.epoch();
        let agg = self
            .votes
            .entry((v.view, v.block_hash))
            .or_insert_with(|| Aggregator::new(vote_signing_bytes(epoch, v.view, &v.block_hash).to_vec()));
        agg.add(v.signer, v.signature);
        if self.committee.leader(v.view.saturating_add(1)) == self.me {
            self.certify(v.view, v.block_hash);
        }
    }

    fn certify(&mut self, view: View, hash: BlockHash) {
        let Some(agg) = self.votes.get_mut(&(view, hash)) else {
            return;
        };
        let before = self.stats.aggregation.bad_signatures;
        let cert = agg.try_certify(&self.committee, &mut self.stats.aggregation);
        for _ in before..self.stats.aggregation.bad_signatures {
            self.drops.record(DropReason::BadSignature);
        }
        if let Some((signers, sig)) = cert {
            let qc = QuorumCert {
                epoch: self.committee.epoch(),
                view,
                block_hash: hash,
                signers,
                signature: Some(sig),
            };
            // We just checked this exact aggregate: remember it for when it comes back in a block.
            self.committee
                .cache()
                .insert(crate::crypto::sha256(&[b"qc", &crate::codec::encode_to_vec(&qc)]));
            self.stats.qcs_formed += 1;
            // Announce it before building on it: the others learn that the view is over and
            // what is final while this node waits for its batch and executes its block, and
            // the same certificate in the proposal is then a hit in their caches.
            self.broadcast(Message::SyncInfo {
                high_qc: qc.clone(),
                high_tc: None,
            });
            let hint = self.committee.leader(view);
            self.process_qc(&qc, hint);
        }
    }

    fn certify_collected_votes(&mut self) {
        let ready: Vec<(View, BlockHash)> = self
            .votes
            .iter()
            .filter(|(_, a)| a.len() >= self.committee.quorum() && !a.is_certified())
            .map(|(k, _)| *k)
            .collect();
        for (view, hash) in ready.into_iter().rev() {
            if view > self.high_qc.view {
                self.certify(view, hash);
            }
        }
    }

    /// Everything a QC teaches: the view is over, maybe a higher QC to extend, maybe a commit.
    fn process_qc(&mut self, qc: &QuorumCert, hint: ValidatorIndex) {
        let known = self.tree.contains(&qc.block_hash);
        if known && qc.view > self.high_qc.view {
            self.high_qc = qc.clone();
            let floor = (qc.view.saturating_add(1), BlockHash::default());
            self.votes = self.votes.split_off(&floor);
            self.voted = self.voted.split_off(&(qc.view.saturating_add(1), 0));
        }
        if !known && qc.view > self.tree.root().view() {
            if self.parked_qcs.len() < MAX_PARKED {
                self.parked_qcs
                    .entry(qc.block_hash)
                    .and_modify(|q| {
                        if q.view < qc.view {
                            *q = qc.clone()
                        }
                    })
                    .or_insert_with(|| qc.clone());
            }
            self.request_block(qc.block_hash, hint);
        }
        self.advance(qc.view.saturating_add(1), true);
        if known {
            self.try_commit(qc);
            self.maybe_propose();
        }
    }

    /// The two-chain rule: a QC for b1 whose parent b0 was proposed in the view just before
    /// means b0 is final.
    fn try_commit(&mut self, qc: &QuorumCert) {
        let Some(b1) = self.tree.get(&qc.block_hash) else {
            return;
        };
        let Some(b0) = self.tree.get(&b1.parent_hash()) else {
            return;
        };
        if b1.view() != b0.view() + 1 {
            return;
        }
        if b0.height() <= self.tree.root().height() {
            return;
        }
        let b0_qc = b1.qc().clone();
        let evidence = Arc::new(FinalBy {
            child: b1.header().clone(),
            child_qc: qc.clone(),
        });
        let target = b0.hash();
        let chain = self.tree.commit(&target);
        for (i, b) in chain.iter().enumerate() {
            let (qc, final_by) = match chain.get(i + 1) {
                Some(child) => (child.qc().clone(), None),
                None => (b0_qc.clone(), Some(evidence.clone())),
            };
            self.mempool.mark_committed(b.tx_ids());
            self.stats.blocks_committed += 1;
            self.stats.txs_committed += b.payload().len() as u64;
            self.actions.push(Action::Commit(CommittedBlock {
                block: b.clone(),
                qc,
                final_by,
            }));
        }
    }

    // ---- proposals -------------------------------------------------------------------------

    fn maybe_propose(&mut self) {
        let v = self.pacemaker.view();
        if self.committee.leader(v) != self.me || self.proposed_view >= v {
            return;
        }
        let Some(parent) = self.tree.get(&self.high_qc.block_hash).cloned() else {
            return;
        };
        let tc = if self.high_qc.view + 1 == v {
            None
        } else {
            match self.pacemaker.high_tc() {
                Some(tc) if tc.view.saturating_add(1) == v => Some(tc.clone()),
                _ => return,
            }
        };
        let in_flight: usize = self
            .tree
            .uncommitted_chain(&parent.hash())
            .unwrap_or_default()
            .iter()
            .map(|b| b.payload().len())
            .sum();
        let ready = self.mempool.len().saturating_sub(in_flight);
        let wait = if ready == 0 && in_flight == 0 {
            self.config
                .idle_delay_ms
                .min(self.config.pacemaker.base_timeout_ms / 2)
                .max(self.config.batch_delay_ms)
        } else {
            self.config.batch_delay_ms
        };
        let deadline = self.view_started_ms + wait;
        if ready < self.config.max_block_txs && self.now < deadline {
            // One timer per (view, deadline): an earlier deadline (work arrived) arms a new one.
            if self.propose_timer != (v, deadline) {
                self.propose_timer = (v, deadline);
                self.set_timer(Timer::Propose(v), deadline);
            }
            return;
        }
        if self.safety.note_proposal(v).is_err() {
            // Already proposed in this view (before a restart), or the record cannot be saved.
            self.proposed_view = v;
            return;
        }
        let exclude = self.tree.pending_tx_ids(&parent.hash());
        let payload = self
            .mempool
            .batch(self.config.max_block_txs, self.config.max_block_bytes, &exclude);
        let timestamp_ms = self.now.max(parent.timestamp_ms() + 1);
        let state_root = self.app.state_root(&parent, &payload, timestamp_ms);
        let block = Arc::new(Block::new(
            BlockHeader {
                epoch: self.committee.epoch(),
                view: v,
                height: parent.height() + 1,
                timestamp_ms,
                parent_hash: parent.hash(),
                payload_root: [0; 32],
                state_root,
                proposer: self.me,
                qc: self.high_qc.clone(),
            },
            payload,
        ));
        self.proposed_view = v;
        self.stats.proposals += 1;
        let p = Proposal { block, tc };
        let at = self.actions.len();
        self.broadcast(Message::Proposal(p.clone()));
        self.on_proposal(self.me, p);
        // Our vote saved the proposal view with it; if we did not vote, save it now. Either way
        // the record is on disk before the driver sends anything.
        if self.safety.flush().is_err() {
            self.actions.remove(at);
        }
    }

    fn on_proposal(&mut self, from: ValidatorIndex, p: Proposal) {
        let b = p.block.clone();
        if let Some(tc) = &p.tc {
            self.on_tc(tc.clone());
        }
        self.process_qc(b.qc(), from);
        if self.tree.contains(&b.hash()) {
            return;
        }
        if b.height() <= self.tree.root().height() {
            return self.drop(DropReason::Stale);
        }
        let Some(parent) = self.tree.get(&b.parent_hash()).cloned() else {
            let parent_hash = b.parent_hash();
            self.park(parent_hash, Parked::Proposal(from, p));
            self.request_block(parent_hash, from);
            return;
        };
        if !self.valid_block(&parent, &b) || !self.tree.insert(b.clone()) {
            return self.drop(DropReason::InvalidBlock);
        }
        self.try_vote(&b, &parent);
        self.unpark(b.hash());
    }

    /// Validity of a proposed block beyond its certificate: it extends its parent by one, time
    /// moves forward and not too far ahead of ours, no transaction repeats one in the block, its
    /// uncommitted ancestors or recent commits, size limits, and the application's state root.
    fn valid_block(&mut self, parent: &Block, b: &Block) -> bool {
        if b.height() != parent.height() + 1
            || b.timestamp_ms() <= parent.timestamp_ms()
            || b.timestamp_ms() > self.now + self.config.max_clock_skew_ms
            || b.payload().len() > self.config.max_block_txs
            || b.payload_bytes() > self.config.max_block_bytes
        {
            return false;
        }
        let mut seen = self.tree.pending_tx_ids(&parent.hash());
        for id in b.tx_ids() {
            if !seen.insert(*id) || self.mempool.is_committed(id) {
                return false;
            }
        }
        self.app.check_block(parent, b)
    }

    fn try_vote(&mut self, b: &Arc<Block>, parent: &Arc<Block>) {
        if b.view() != self.pacemaker.view() || self.pacemaker.timed_out() {
            return;
        }
        if let Ok(vote) = self.safety.vote(b, parent) {
            self.stats.votes_signed += 1;
            self.broadcast(Message::Vote(vote.clone()));
            self.on_vote(vote);
        }
    }

    // ---- transactions ----------------------------------------------------------------------

    fn on_submit(&mut self, tx: Vec<u8>) {
        match self.mempool.add(tx.clone()) {
            Ok(true) => {
                self.outbox.push(tx);
                if self.outbox.len() >= self.config.gossip_batch_txs {
                    self.flush_outbox();
                } else if !self.flush_armed {
                    self.flush_armed = true;
                    let at = self.now + self.config.gossip_delay_ms;
                    self.set_timer(Timer::FlushTransactions, at);
                }
                self.maybe_propose();
            }
            Ok(false) => {}
            Err(r) => self.drop(r),
        }
    }

    fn flush_outbox(&mut self) {
        if !self.outbox.is_empty() {
            let txs = std::mem::take(&mut self.outbox);
            self.broadcast(Message::Transactions(txs));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_and_messages_can_move_between_threads() {
        fn send<T: Send>() {}
        fn sync<T: Sync>() {}
        send::<Core>();
        send::<Action>();
        send::<Input>();
        sync::<Committee>();
        sync::<Message>();
    }

    /// A core restarted inside a running node (to catch up from storage) takes over its
    /// predecessor's mempool: the pending transactions stay, and what was committed meanwhile
    /// (marked by the driver) is refused, also when gossip brings it late.
    #[test]
    fn a_restarted_core_keeps_the_mempool_handed_to_it() {
        use crate::committee::LeaderRule;
        use crate::consensus::safety::MemoryStorage;
        use crate::merkle::leaf_hash;

        let keys: Vec<KeyPair> = (0..4).map(|i| KeyPair::for_test(5, i)).collect();
        let committee = Committee::of_keys(0, &keys, LeaderRule::RoundRobin).unwrap();
        let genesis = Block::genesis(&committee, 0, [0; 32]);
        let storage = MemoryStorage::default();
        let core = |recovery: Recovery| {
            Core::new(
                Config::default(),
                committee.clone(),
                0,
                keys[0].clone(),
                Box::new(storage.clone()),
                Box::new(crate::consensus::core::NoApplication),
                recovery,
            )
            .unwrap()
        };
        let mut first = core(Recovery::genesis(genesis.clone(), &committee));
        first.start(0);
        first.handle(1, Input::Submit(b"pending".to_vec()));
        first.handle(1, Input::Submit(b"committed while catching up".to_vec()));
        assert_eq!(first.mempool_len(), 2);
        let mut handed = first.into_mempool();
        handed.mark_committed(&[leaf_hash(b"committed while catching up")]);

        let mut second = core(Recovery {
            mempool: Some(handed),
            ..Recovery::genesis(genesis, &committee)
        });
        second.start(2);
        assert_eq!(second.mempool_len(), 1, "the pending transaction survives");
        second.handle(3, Input::Submit(b"committed while catching up".to_vec()));
        assert_eq!(second.mempool_len(), 1);
        assert_eq!(second.drops().get(DropReason::Duplicate), 1);
    }
}
