//! The committed state, the speculative states of uncommitted blocks, and the consensus hook
//! ([`crate::consensus::core::Application`]) that fills and checks each block's state root.
//!
//! Pipelined consensus proposes a block before its parent is committed, so a block's state root
//! is computed over its parent's *speculative* state: the committed [`State`] with the
//! [`Changes`] of each uncommitted ancestor layered on top. A block's execution is kept (by
//! hash) until the block is committed, when its changes are folded into the committed state, or
//! abandoned, when the committed height passes it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use htlc::EscrowStatus;

use crate::consensus::core::Application;
use crate::crypto::sha256;
use crate::ids::BlockHash;
use crate::state::exec::{
    BlockContext, BlockOutcome, Changes, EscrowLookup, Layered, PreparedTx, StateView, execute_block,
    genesis_state_root,
};
use crate::state::reason::FailReason;
use crate::state::tx::{Transaction, verify_signatures_with};
use crate::state::types::{
    Account, AccountId, AnchorTip, AssetCode, AssetInfo, ChainParams, Escrow, EscrowId,
};
use crate::types::Block;

/// The committed state, in memory. Closed escrows keep only their status (their details live in
/// storage), so memory grows with accounts and open escrows, not with history.
#[derive(Clone, Debug, Default)]
pub struct State {
    /// Accounts.
    pub accounts: HashMap<AccountId, Account>,
    /// Assets.
    pub assets: HashMap<AssetCode, AssetInfo>,
    /// Escrows still locked.
    pub open: HashMap<EscrowId, Escrow>,
    /// Escrows fulfilled, rejected or refunded.
    pub closed: HashMap<EscrowId, EscrowStatus>,
    /// The last anchored batch of each (submitter, namespace).
    pub anchor_tips: HashMap<(AccountId, String), AnchorTip>,
    /// Height of the last applied block.
    pub height: u64,
    /// State root after it.
    pub root: [u8; 32],
}

impl StateView for State {
    fn account(&self, id: &AccountId) -> Option<&Account> {
        self.accounts.get(id)
    }
    fn asset(&self, code: &AssetCode) -> Option<&AssetInfo> {
        self.assets.get(code)
    }
    fn escrow(&self, id: &EscrowId) -> EscrowLookup<'_> {
        if let Some(e) = self.open.get(id) {
            EscrowLookup::Open(e)
        } else if let Some(s) = self.closed.get(id) {
            EscrowLookup::Closed(*s)
        } else {
            EscrowLookup::Unknown
        }
    }
    fn anchor_tip(&self, signer: &AccountId, namespace: &str) -> Option<AnchorTip> {
        // Keyed by owned strings; a lookup by (&AccountId, &str) would need a borrowed key type.
        self.anchor_tips.get(&(*signer, namespace.to_owned())).copied()
    }
}

impl State {
    /// The empty state of a new chain.
    pub fn genesis(chain_id: &[u8; 32]) -> Self {
        Self {
            root: genesis_state_root(chain_id),
            ..Self::default()
        }
    }

    /// Folds a block's changes in.
    pub fn apply(&mut self, changes: &Changes, height: u64, root: [u8; 32]) {
        for (id, a) in &changes.accounts {
            self.accounts.insert(*id, a.clone());
        }
        for (code, a) in &changes.assets {
            self.assets.insert(code.clone(), a.clone());
        }
        for (id, e) in &changes.escrows {
            if e.status() == EscrowStatus::Prepared {
                self.open.insert(*id, e.clone());
            } else {
                self.open.remove(id);
                self.closed.insert(*id, e.status());
            }
        }
        for a in &changes.anchors {
            self.anchor_tips
                .insert((a.submitter, a.namespace.clone()), a.tip());
        }
        self.height = height;
        self.root = root;
    }
}

/// A set of ids with their insertion order (to forget the oldest).
type KnownIds = (HashSet<[u8; 32]>, VecDeque<[u8; 32]>);

/// Ids of transactions whose signatures verified, shared by everything that checks signatures
/// (API admission, gossip, execution) so each signature is checked once per node. Only a cache:
/// the verdict is a pure function of the bytes.
#[derive(Debug)]
pub struct SigCache {
    inner: Mutex<KnownIds>,
    keys: Mutex<HashMap<[u8; 32], ed25519_dalek::VerifyingKey>>,
    capacity: usize,
}

impl SigCache {
    /// Remembers up to `capacity` ids (oldest forgotten first).
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new((HashSet::new(), VecDeque::new())),
            keys: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// Whether the transaction with this id is known to be signed correctly.
    pub fn knows(&self, id: &[u8; 32]) -> bool {
        self.inner.lock().map(|g| g.0.contains(id)).unwrap_or(false)
    }

    fn insert(&self, ids: impl IntoIterator<Item = [u8; 32]>) {
        if let Ok(mut g) = self.inner.lock() {
            for id in ids {
                if g.0.insert(id) {
                    g.1.push_back(id);
                }
            }
            while g.1.len() > self.capacity {
                if let Some(old) = g.1.pop_front() {
                    g.0.remove(&old);
                }
            }
        }
    }

    fn key(&self, bytes: &[u8; 32]) -> Option<ed25519_dalek::VerifyingKey> {
        if let Some(k) = self.keys.lock().ok().and_then(|m| m.get(bytes).copied()) {
            return Some(k);
        }
        let k = ed25519_dalek::VerifyingKey::from_bytes(bytes).ok()?;
        if let Ok(mut m) = self.keys.lock() {
            if m.len() >= 100_000 {
                m.clear();
            }
            m.insert(*bytes, k);
        }
        Some(k)
    }

    /// Decodes transactions and checks the signatures not already known good (in one batch),
    /// remembering the good ones.
    pub fn check(&self, txs: &[&[u8]]) -> Vec<Result<Transaction, FailReason>> {
        let decoded: Vec<Option<Transaction>> = txs.iter().map(|b| Transaction::decode(b).ok()).collect();
        let mut todo = Vec::new();
        let mut known = vec![false; txs.len()];
        for (i, d) in decoded.iter().enumerate() {
            if let Some(tx) = d {
                if self.knows(&tx.id) {
                    known[i] = true;
                } else {
                    todo.push(i);
                }
            }
        }
        let pairs: Vec<(&Transaction, &[u8])> = todo
            .iter()
            .filter_map(|&i| decoded[i].as_ref().map(|t| (t, txs[i])))
            .collect();
        let verdicts = verify_signatures_with(&pairs, |k| self.key(k));
        let mut good = Vec::new();
        for (k, &i) in todo.iter().enumerate() {
            if verdicts[k] {
                known[i] = true;
                if let Some(t) = &decoded[i] {
                    good.push(t.id);
                }
            }
        }
        self.insert(good);
        decoded
            .into_iter()
            .zip(known)
            .map(|(d, ok)| match d {
                None => Err(FailReason::Malformed),
                Some(_) if !ok => Err(FailReason::BadSignature),
                Some(t) => Ok(t),
            })
            .collect()
    }

    /// [`SigCache::check`] shaped for execution.
    pub fn prepare(&self, payload: &[Vec<u8>]) -> Vec<PreparedTx> {
        let refs: Vec<&[u8]> = payload.iter().map(Vec::as_slice).collect();
        self.check(&refs)
            .into_iter()
            .zip(payload)
            .map(|(r, bytes)| match r {
                Ok(tx) => PreparedTx {
                    id: tx.id,
                    tx: Some(tx),
                    signature_ok: true,
                },
                Err(FailReason::BadSignature) => PreparedTx {
                    id: crate::merkle::leaf_hash(bytes),
                    tx: Transaction::decode(bytes).ok(),
                    signature_ok: false,
                },
                Err(_) => PreparedTx {
                    id: crate::merkle::leaf_hash(bytes),
                    tx: None,
                    signature_ok: false,
                },
            })
            .collect()
    }
}

/// A block's execution, kept until it is committed or abandoned.
#[derive(Debug)]
pub struct Executed {
    /// Parent block.
    pub parent: BlockHash,
    /// Height of the block.
    pub height: u64,
    /// Agreed timestamp.
    pub timestamp_ms: u64,
    /// What it did.
    pub outcome: BlockOutcome,
}

/// Why a committed block could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// The block does not extend the committed state.
    #[error("block at height {height} does not extend the committed state at height {at}")]
    NotNext {
        /// Its height.
        height: u64,
        /// Committed height.
        at: u64,
    },
    /// Our execution disagrees with the certified state root: this node has diverged.
    #[error("state root mismatch at height {height}: this node computed a different state")]
    Diverged {
        /// Height.
        height: u64,
    },
}

/// The committed state plus the executions of uncommitted blocks.
#[derive(Debug)]
pub struct Ledger {
    chain_id: [u8; 32],
    params: ChainParams,
    state: State,
    state_block: BlockHash,
    overlays: HashMap<BlockHash, Arc<Executed>>,
    pending: HashMap<[u8; 32], Arc<Executed>>,
    sigs: Arc<SigCache>,
}

fn pending_key(parent: &BlockHash, payload_root: &[u8; 32], ts: u64) -> [u8; 32] {
    sha256(&[&parent.0, payload_root, &ts.to_be_bytes()])
}

impl Ledger {
    /// A ledger of the chain `chain_id` with rules `params` (both from its genesis), whose
    /// committed state `state` is the state after block `state_block`.
    pub fn new(
        chain_id: [u8; 32],
        params: ChainParams,
        state: State,
        state_block: BlockHash,
        sigs: Arc<SigCache>,
    ) -> Self {
        Self {
            chain_id,
            params,
            state,
            state_block,
            overlays: HashMap::new(),
            pending: HashMap::new(),
            sigs,
        }
    }

    /// The committed state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The chain id transactions must carry.
    pub fn chain_id(&self) -> [u8; 32] {
        self.chain_id
    }

    /// Executes `payload` as a child of `parent` at `timestamp_ms`, or `None` when the parent's
    /// state is unknown (neither committed nor executed here).
    pub fn execute(&self, parent: &Block, payload: &[Vec<u8>], timestamp_ms: u64) -> Option<Executed> {
        let mut layers: Vec<&Changes> = Vec::new();
        let mut cur = parent.hash();
        while cur != self.state_block {
            let e = self.overlays.get(&cur)?;
            layers.push(&e.outcome.changes);
            cur = e.parent;
        }
        let view = Layered {
            layers,
            base: &self.state,
        };
        let ctx = BlockContext {
            chain_id: self.chain_id,
            height: parent.height() + 1,
            timestamp_ms,
            params: self.params,
        };
        let prepared = self.sigs.prepare(payload);
        let outcome = execute_block(&view, parent.header().state_root, &ctx, &prepared);
        Some(Executed {
            parent: parent.hash(),
            height: ctx.height,
            timestamp_ms,
            outcome,
        })
    }

    /// Makes `block` (a child of the committed state's block) committed, returning what it did.
    pub fn commit(&mut self, block: &Block) -> Result<Arc<Executed>, ApplyError> {
        if block.parent_hash() != self.state_block {
            return Err(ApplyError::NotNext {
                height: block.height(),
                at: self.state.height,
            });
        }
        let exec = match self.overlays.remove(&block.hash()) {
            Some(e) => e,
            None => {
                let key = pending_key(
                    &block.parent_hash(),
                    &block.header().payload_root,
                    block.timestamp_ms(),
                );
                match self.pending.remove(&key) {
                    Some(e) => e,
                    None => {
                        // A block we never executed (fetched while catching up): the parent is
                        // the committed state, so execute it now.
                        let parent_stub = ParentStub {
                            hash: self.state_block,
                            height: self.state.height,
                            root: self.state.root,
                        };
                        Arc::new(self.execute_on_committed(&parent_stub, block))
                    }
                }
            }
        };
        if exec.outcome.state_root() != block.header().state_root {
            return Err(ApplyError::Diverged {
                height: block.height(),
            });
        }
        self.state
            .apply(&exec.outcome.changes, block.height(), block.header().state_root);
        self.state_block = block.hash();
        let h = block.height();
        self.overlays.retain(|_, e| e.height > h);
        self.pending.retain(|_, e| e.height > h);
        Ok(exec)
    }

    fn execute_on_committed(&self, parent: &ParentStub, block: &Block) -> Executed {
        let ctx = BlockContext {
            chain_id: self.chain_id,
            height: parent.height + 1,
            timestamp_ms: block.timestamp_ms(),
            params: self.params,
        };
        let prepared = self.sigs.prepare(block.payload());
        let outcome = execute_block(&self.state, parent.root, &ctx, &prepared);
        Executed {
            parent: parent.hash,
            height: ctx.height,
            timestamp_ms: block.timestamp_ms(),
            outcome,
        }
    }
}

struct ParentStub {
    hash: BlockHash,
    height: u64,
    root: [u8; 32],
}

impl Application for Ledger {
    fn state_root(&mut self, parent: &Block, payload: &[Vec<u8>], timestamp_ms: u64) -> [u8; 32] {
        let Some(exec) = self.execute(parent, payload, timestamp_ms) else {
            return [0; 32];
        };
        let root = exec.outcome.state_root();
        let ids: Vec<[u8; 32]> = payload.iter().map(|t| crate::merkle::leaf_hash(t)).collect();
        let key = pending_key(&parent.hash(), &crate::merkle::root_of_leaves(&ids), timestamp_ms);
        self.pending.insert(key, Arc::new(exec));
        root
    }

    fn check_block(&mut self, parent: &Block, block: &Block) -> bool {
        if self.overlays.contains_key(&block.hash()) {
            return true;
        }
        let key = pending_key(&parent.hash(), &block.header().payload_root, block.timestamp_ms());
        let exec = match self.pending.remove(&key) {
            Some(e) => e,
            None => match self.execute(parent, block.payload(), block.timestamp_ms()) {
                Some(e) => Arc::new(e),
                None => return false,
            },
        };
        if exec.outcome.state_root() != block.header().state_root {
            return false;
        }
        self.overlays.insert(block.hash(), exec);
        true
    }
}

/// A [`Ledger`] shared between the consensus core (which owns its `Box<dyn Application>`) and
/// the node that commits blocks into it.
#[derive(Clone, Debug)]
pub struct SharedLedger(pub Arc<Mutex<Ledger>>);

impl Application for SharedLedger {
    fn state_root(&mut self, parent: &Block, payload: &[Vec<u8>], timestamp_ms: u64) -> [u8; 32] {
        match self.0.lock() {
            Ok(mut l) => l.state_root(parent, payload, timestamp_ms),
            Err(_) => [0; 32],
        }
    }
    fn check_block(&mut self, parent: &Block, block: &Block) -> bool {
        match self.0.lock() {
            Ok(mut l) => l.check_block(parent, block),
            Err(_) => false,
        }
    }
}
