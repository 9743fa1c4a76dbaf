//! A deterministic, in-process simulated network of validators (feature `sim`).
//!
//! Every validator is a real [`Core`] with real BLS keys; only the network and the clock are
//! simulated. Events (message deliveries, timers, client submissions, crashes, restarts) sit in a
//! priority queue ordered by simulated time and then by insertion, and every random choice (link
//! delay, loss) comes from one seeded RNG, so a seed replays exactly. Links have a delay drawn per
//! message (which also reorders), a loss rate, and an optional filter that can cut any link at any
//! time (partitions that change over time, twins schedules).
//!
//! Byzantine behaviours: twins (a second node with the same key and index, running honest code
//! on another side of a partition), an equivocating leader (sends two different blocks for its
//! view), a double voter (signs a vote for a different block to half the committee), and a silent
//! node. Honest validators' votes are logged so tests can assert that none signed two different
//! votes in one view, across crashes and restarts.
//!
//! For benchmarks, `measure_cpu` charges each validator the CPU time its core and verification
//! took (this thread's on-CPU time from `/proc/thread-self/schedstat` where available, so other
//! processes competing for the machine do not inflate it; wall time otherwise): the node is busy
//! for that long (later events wait) and its messages leave after it.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

mod byzantine;
mod checks;
use std::sync::Arc;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::committee::{Committee, LeaderRule};
use crate::consensus::core::{Action, CommittedBlock, Config, Core, Input, NoApplication, Recovery, Timer};
use crate::consensus::mempool::Mempool;
use crate::consensus::messages::{Message, UnverifiedMessage};
use crate::consensus::safety::MemoryStorage;
use crate::consensus::wire::encode_message;
use crate::crypto::KeyPair;
use crate::ids::ValidatorIndex;
use crate::ids::{BlockHash, View};
use crate::merkle::leaf_hash;
use crate::types::Block;

/// How a simulated node behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Follows the protocol.
    Honest,
    /// Honest code, but shares its key and index with another node (set by [`Simulation::add_twin`]).
    Twin,
    /// As leader, proposes two different blocks, each to half of the others.
    Equivocate,
    /// Each vote it signs goes to half of the others; the other half get a vote for another block.
    DoubleVote,
    /// Sends nothing.
    Silent,
}

/// Decides whether a message gets through, given the time, the sending and receiving nodes, the
/// view the message belongs to (its own view, or the sender's current view for messages without
/// one) and the message.
pub type LinkFilter = Box<dyn FnMut(u64, usize, usize, View, &Message) -> bool>;

/// Delay range and loss of one directed link, overriding the defaults of [`SimConfig`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkSpec {
    /// Smallest delay.
    pub min_delay_ms: u64,
    /// Largest delay.
    pub max_delay_ms: u64,
    /// Probability a message is lost.
    pub loss: f64,
}

/// Simulation settings.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Seed of the network RNG.
    pub seed: u64,
    /// Seed of the validators' keys (kept apart so many scenarios can share keys).
    pub key_seed: u64,
    /// Committee size.
    pub n: usize,
    /// Leader rule of the committee.
    pub leader_rule: LeaderRule,
    /// Validator settings.
    pub core: Config,
    /// Smallest link delay.
    pub min_delay_ms: u64,
    /// Largest link delay (delays are uniform in between, which reorders messages).
    pub max_delay_ms: u64,
    /// Probability a message is lost.
    pub loss: f64,
    /// Encode and decode every message through the codec.
    pub wire: bool,
    /// Give every validator its own verification cache (as separate processes would have).
    pub detached_caches: bool,
    /// Charge validators the real CPU time of their work (benchmarks; not deterministic).
    pub measure_cpu: bool,
    /// Remember signatures across scenarios (see [`KeyPair::with_sign_memo`]).
    pub sign_memo: bool,
}

impl SimConfig {
    /// Defaults for `n` validators and a seed: 1-10 ms links, no loss.
    pub fn new(n: usize, seed: u64) -> Self {
        let mut core = Config::default();
        core.pacemaker.base_timeout_ms = 200;
        core.pacemaker.max_timeout_ms = 5_000;
        Self {
            seed,
            key_seed: 1,
            n,
            leader_rule: LeaderRule::RoundRobin,
            core,
            min_delay_ms: 1,
            max_delay_ms: 10,
            loss: 0.0,
            wire: false,
            detached_caches: false,
            measure_cpu: false,
            sign_memo: false,
        }
    }
}

// Deliveries dominate the queue; boxing them would only add an allocation per message.
#[allow(clippy::large_enum_variant)]
enum Event {
    Deliver {
        to: usize,
        from: ValidatorIndex,
        msg: Message,
    },
    Timer {
        node: usize,
        incarnation: u64,
        timer: Timer,
    },
    Submit {
        node: usize,
        tx: Vec<u8>,
    },
    Crash(usize),
    Restart(usize),
    /// A busy node is free again and works through its backlog.
    Wake(usize),
}

struct Scheduled {
    at: u64,
    seq: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, o: &Self) -> Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}

/// One simulated validator process.
pub struct SimNode {
    /// Committee index (shared by twins).
    pub index: ValidatorIndex,
    /// Behaviour.
    pub behaviour: Behaviour,
    /// Running core, `None` while crashed.
    pub core: Option<Core>,
    /// Its safety storage, surviving crashes.
    pub storage: MemoryStorage,
    /// Everything it committed, across restarts.
    pub committed: Vec<CommittedBlock>,
    key: KeyPair,
    committee: Committee,
    incarnation: u64,
    /// Simulated microseconds until which the node is computing (benchmarks only).
    busy_until_us: u64,
    backlog: std::collections::VecDeque<Event>,
    wake_armed: bool,
}

/// A point in time for charging work: wall clock, and this thread's CPU time when readable.
#[derive(Clone, Copy)]
struct Stamp {
    wall: Instant,
    cpu_ns: Option<u64>,
}

impl Stamp {
    fn now(measure: bool) -> Self {
        let cpu_ns = if measure {
            std::fs::read_to_string("/proc/thread-self/schedstat")
                .ok()
                .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        } else {
            None
        };
        Self {
            wall: Instant::now(),
            cpu_ns,
        }
    }

    fn elapsed_us(&self, measure: bool) -> u64 {
        let later = Stamp::now(measure);
        match (self.cpu_ns, later.cpu_ns) {
            (Some(a), Some(b)) => b.saturating_sub(a) / 1000,
            // Saturates: u64 microseconds last 584,000 years.
            _ => u64::try_from(self.wall.elapsed().as_micros()).unwrap_or(u64::MAX),
        }
    }
}

/// Latency samples of committed transactions.
#[derive(Clone, Debug, Default)]
pub struct LatencyLog {
    /// Simulated milliseconds from submission to commit at the validator it was submitted to.
    pub sim_ms: Vec<u64>,
    /// Wall-clock microseconds for the same.
    pub wall_us: Vec<u64>,
}

/// The simulated network.
pub struct Simulation {
    /// Settings.
    pub config: SimConfig,
    /// The nodes; twins come after the n validators.
    pub nodes: Vec<SimNode>,
    committee: Committee,
    genesis: Arc<Block>,
    queue: BinaryHeap<Scheduled>,
    seq: u64,
    now: u64,
    rng: StdRng,
    filter: Option<LinkFilter>,
    links: HashMap<(usize, usize), LinkSpec>,
    votes: HashMap<(ValidatorIndex, View), BlockHash>,
    vote_violations: Vec<String>,
    proposals_by_view: HashMap<View, BlockHash>,
    submitted: HashMap<[u8; 32], (usize, u64, Instant)>,
    /// Commit latencies.
    pub latency: LatencyLog,
    /// Messages delivered.
    pub delivered: u64,
    /// Messages lost or cut.
    pub lost: u64,
}

impl Simulation {
    /// A committee of `config.n` honest validators at genesis (not started).
    pub fn new(config: SimConfig) -> Self {
        let keys: Vec<KeyPair> = (0..config.n as u64)
            .map(|i| {
                let k = KeyPair::for_test(config.key_seed, i);
                if config.sign_memo { k.with_sign_memo() } else { k }
            })
            .collect();
        let committee = Committee::of_keys(0, &keys, config.leader_rule.clone())
            .unwrap_or_else(|e| panic!("simulation committee: {e}"));
        Self::with_committee(config, committee, keys)
    }

    /// A simulation over a given committee and its keys (so callers can reuse both).
    pub fn with_committee(config: SimConfig, committee: Committee, keys: Vec<KeyPair>) -> Self {
        let genesis = Block::genesis(&committee, 0, [0; 32]);
        let mut sim = Self {
            rng: StdRng::seed_from_u64(config.seed),
            nodes: Vec::new(),
            committee,
            genesis,
            queue: BinaryHeap::new(),
            seq: 0,
            now: 0,
            filter: None,
            links: HashMap::new(),
            votes: HashMap::new(),
            vote_violations: Vec::new(),
            proposals_by_view: HashMap::new(),
            submitted: HashMap::new(),
            latency: LatencyLog::default(),
            delivered: 0,
            lost: 0,
            config,
        };
        for (i, k) in keys.into_iter().enumerate() {
            let i = ValidatorIndex::try_from(i).expect("a committee has at most MAX_COMMITTEE members");
            sim.push_node(i, k, Behaviour::Honest);
        }
        sim
    }

    fn push_node(&mut self, index: ValidatorIndex, key: KeyPair, behaviour: Behaviour) -> usize {
        let committee = if self.config.detached_caches {
            self.committee.detached()
        } else {
            self.committee.clone()
        };
        self.nodes.push(SimNode {
            index,
            behaviour,
            core: None,
            storage: MemoryStorage::default(),
            committed: Vec::new(),
            key,
            committee,
            incarnation: 0,
            busy_until_us: 0,
            backlog: std::collections::VecDeque::new(),
            wake_armed: false,
        });
        self.nodes.len() - 1
    }

    /// Adds a twin of validator `of`: same key and index, its own state. Both become Byzantine.
    pub fn add_twin(&mut self, of: ValidatorIndex) -> usize {
        let key = self.nodes[usize::from(of)].key.clone();
        self.nodes[usize::from(of)].behaviour = Behaviour::Twin;
        self.push_node(of, key, Behaviour::Twin)
    }

    /// Sets a node's behaviour.
    pub fn set_behaviour(&mut self, node: usize, b: Behaviour) {
        self.nodes[node].behaviour = b;
    }

    /// Installs a link filter.
    pub fn set_filter(&mut self, f: LinkFilter) {
        self.filter = Some(f);
    }

    /// Overrides delay and loss of the directed link from node `from` to node `to`.
    pub fn set_link(&mut self, from: usize, to: usize, spec: LinkSpec) {
        self.links.insert((from, to), spec);
    }

    /// The committee.
    pub fn committee(&self) -> &Committee {
        &self.committee
    }

    /// Simulated time now.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Nodes that follow the protocol and hold their key alone.
    pub fn honest(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].behaviour == Behaviour::Honest)
            .collect()
    }

    fn schedule(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.queue.push(Scheduled {
            at,
            seq: self.seq,
            event,
        });
    }

    /// Starts every node at time 0.
    pub fn start(&mut self) {
        for i in 0..self.nodes.len() {
            self.boot(i);
        }
    }

    fn boot(&mut self, i: usize) {
        let node = &self.nodes[i];
        let mut recovery = match node.committed.last() {
            Some(c) => Recovery {
                root: c.block.clone(),
                root_qc: c.qc.clone(),
                blocks: Vec::new(),
                mempool: None,
            },
            None => Recovery::genesis(self.genesis.clone(), &self.committee),
        };
        // What a node reads from its stored blocks: the recently committed transactions. (A
        // crash loses the pending ones.)
        let window = self.config.core.mempool.remember_committed;
        let mut recent: Vec<[u8; 32]> = node
            .committed
            .iter()
            .rev()
            .flat_map(|c| c.block.tx_ids().iter().rev().copied())
            .take(window)
            .collect();
        recent.reverse();
        recovery.mempool = Some(Mempool::recovered(self.config.core.mempool.clone(), &recent));
        let core = Core::new(
            self.config.core.clone(),
            node.committee.clone(),
            node.index,
            node.key.clone(),
            Box::new(node.storage.clone()),
            Box::new(NoApplication),
            recovery,
        )
        .unwrap_or_else(|e| panic!("core {i} failed to start: {e}"));
        self.nodes[i].core = Some(core);
        let t0 = Stamp::now(self.config.measure_cpu);
        let actions = self.nodes[i]
            .core
            .as_mut()
            .map(|c| c.start(self.now))
            .unwrap_or_default();
        self.apply(i, actions, t0);
    }

    /// Schedules a client transaction to `node` at `at`.
    pub fn submit(&mut self, at: u64, node: usize, tx: Vec<u8>) {
        self.schedule(at, Event::Submit { node, tx });
    }

    /// Schedules a crash.
    pub fn crash_at(&mut self, at: u64, node: usize) {
        self.schedule(at, Event::Crash(node));
    }

    /// Schedules a restart from the node's stored safety record and last committed block.
    pub fn restart_at(&mut self, at: u64, node: usize) {
        self.schedule(at, Event::Restart(node));
    }

    /// Runs events up to simulated time `until`.
    pub fn run_until(&mut self, until: u64) {
        self.run_while(until, |_| true);
    }

    /// Runs until `until` or until `keep_going` returns false (checked after each event).
    pub fn run_while(&mut self, until: u64, mut keep_going: impl FnMut(&Simulation) -> bool) {
        while let Some(top) = self.queue.peek() {
            if top.at > until {
                break;
            }
            let Some(s) = self.queue.pop() else { break };
            self.now = self.now.max(s.at);
            self.step(s.event);
            if !keep_going(self) {
                return;
            }
        }
        self.now = self.now.max(until);
    }

    /// The millisecond in which the node's current work ends: events of that millisecond can
    /// still be handled (the clock has 1 ms resolution), later ones wait.
    fn busy_until_ms(&self, node: usize) -> u64 {
        self.nodes[node].busy_until_us / 1000
    }

    fn step(&mut self, event: Event) {
        // A busy node queues the event and handles it, in order, when free (benchmarks only).
        let node_of = match &event {
            Event::Deliver { to, .. } => Some(*to),
            Event::Timer { node, .. } | Event::Submit { node, .. } => Some(*node),
            _ => None,
        };
        if let Some(n) = node_of
            && (self.busy_until_ms(n) > self.now || !self.nodes[n].backlog.is_empty())
        {
            self.nodes[n].backlog.push_back(event);
            self.arm_wake(n);
            return;
        }
        self.run_event(event);
    }

    fn arm_wake(&mut self, n: usize) {
        if !self.nodes[n].wake_armed {
            self.nodes[n].wake_armed = true;
            let at = self.busy_until_ms(n).max(self.now);
            self.schedule(at, Event::Wake(n));
        }
    }

    fn run_event(&mut self, event: Event) {
        match event {
            Event::Wake(n) => {
                self.nodes[n].wake_armed = false;
                while self.busy_until_ms(n) <= self.now {
                    let Some(ev) = self.nodes[n].backlog.pop_front() else {
                        break;
                    };
                    self.run_event(ev);
                }
                if !self.nodes[n].backlog.is_empty() {
                    self.arm_wake(n);
                }
            }
            Event::Deliver { to, from, msg } => self.deliver(to, from, msg),
            Event::Timer {
                node,
                incarnation,
                timer,
            } => {
                if self.nodes[node].incarnation == incarnation {
                    self.input(node, Input::Timer(timer), Stamp::now(self.config.measure_cpu));
                }
            }
            Event::Submit { node, tx } => {
                self.submitted
                    .entry(leaf_hash(&tx))
                    .or_insert((node, self.now, Instant::now()));
                self.input(node, Input::Submit(tx), Stamp::now(self.config.measure_cpu));
            }
            Event::Crash(node) => {
                self.nodes[node].core = None;
                self.nodes[node].backlog.clear();
                self.nodes[node].incarnation += 1;
            }
            Event::Restart(node) => {
                if self.nodes[node].core.is_none() {
                    self.boot(node);
                }
            }
        }
    }

    fn deliver(&mut self, to: usize, from: ValidatorIndex, msg: Message) {
        let t0 = Stamp::now(self.config.measure_cpu);
        let Some(core) = self.nodes[to].core.as_mut() else {
            return;
        };
        self.delivered += 1;
        let unverified = if self.config.wire {
            match UnverifiedMessage::decode(from, &encode_message(&msg)) {
                Ok(m) => m,
                Err(r) => return core.record_drop(r),
            }
        } else {
            UnverifiedMessage::new(from, msg)
        };
        match unverified.verify(&self.nodes[to].committee) {
            Ok(vm) => self.input(to, Input::Message(vm), t0),
            Err(r) => {
                if let Some(core) = self.nodes[to].core.as_mut() {
                    core.record_drop(r);
                }
            }
        }
    }

    fn input(&mut self, node: usize, input: Input, t0: Stamp) {
        let now = self.now;
        let Some(core) = self.nodes[node].core.as_mut() else {
            return;
        };
        let actions = core.handle(now, input);
        self.apply(node, actions, t0);
    }

    fn apply(&mut self, node: usize, actions: Vec<Action>, t0: Stamp) {
        let mut send_at = self.now;
        if self.config.measure_cpu {
            let spent_us = t0.elapsed_us(true);
            let busy = self.nodes[node].busy_until_us.max(self.now * 1000) + spent_us;
            self.nodes[node].busy_until_us = busy;
            send_at = self.busy_until_ms(node);
        }
        for a in actions {
            match a {
                Action::Send { to, msg } => {
                    let targets: Vec<usize> = (0..self.nodes.len())
                        .filter(|&j| j != node && self.nodes[j].index == to)
                        .collect();
                    self.send_to(node, &targets, msg, send_at);
                }
                Action::Broadcast(msg) => self.broadcast(node, msg, send_at),
                Action::SetTimer { timer, at_ms } => {
                    let incarnation = self.nodes[node].incarnation;
                    self.schedule(
                        at_ms.max(send_at),
                        Event::Timer {
                            node,
                            incarnation,
                            timer,
                        },
                    );
                }
                Action::Commit(c) => self.on_commit(node, c),
            }
        }
    }

    fn on_commit(&mut self, node: usize, c: CommittedBlock) {
        for id in c.block.tx_ids() {
            if let Some(&(origin, at, wall)) = self.submitted.get(id)
                && origin == node
            {
                self.latency.sim_ms.push(self.now.saturating_sub(at));
                // Saturates, as in `Stamp::elapsed_us`.
                let wall_us = u64::try_from(wall.elapsed().as_micros()).unwrap_or(u64::MAX);
                self.latency.wall_us.push(wall_us);
                self.submitted.remove(id);
            }
        }
        self.nodes[node].committed.push(c);
    }

    fn send_to(&mut self, node: usize, targets: &[usize], msg: Message, at: u64) {
        if self.nodes[node].behaviour == Behaviour::Silent {
            return;
        }
        self.log_outgoing(node, &msg);
        let from = self.nodes[node].index;
        let view = msg
            .view()
            .unwrap_or_else(|| self.nodes[node].core.as_ref().map_or(0, Core::current_view));
        for &to in targets {
            let cut = match self.filter.as_mut() {
                Some(f) => !f(self.now, node, to, view, &msg),
                None => false,
            };
            let spec = self.links.get(&(node, to)).copied().unwrap_or(LinkSpec {
                min_delay_ms: self.config.min_delay_ms,
                max_delay_ms: self.config.max_delay_ms,
                loss: self.config.loss,
            });
            let lost = spec.loss > 0.0 && self.rng.gen_bool(spec.loss.min(1.0));
            if cut || lost {
                self.lost += 1;
                continue;
            }
            let delay = self
                .rng
                .gen_range(spec.min_delay_ms..=spec.max_delay_ms.max(spec.min_delay_ms));
            self.schedule(
                at + delay,
                Event::Deliver {
                    to,
                    from,
                    msg: msg.clone(),
                },
            );
        }
    }
}
