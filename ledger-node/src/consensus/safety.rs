//! Safety rules: the only code that signs votes, and the record that makes it safe across crashes.
//!
//! Synchronous, no IO except through [`SafetyStorage`]. Before a vote leaves this module the whole
//! [`SafetyRecord`] is saved; if saving fails no vote is returned. A validator restarted from its
//! record therefore never signs two different votes for one view: either the record shows the view
//! as voted (and the same vote is handed back) or no vote for it ever left.
//!
//! The rules (chained HotStuff with the two-chain commit of DiemBFT v4 / Jolteon):
//! - [`view_is_fresh`]: vote at most once per view, in increasing views;
//! - [`respects_lock`]: only vote for a block whose parent certificate is at least as high as the
//!   lock, so a block that may have been committed by others is never abandoned;
//! - [`lock_after_vote`]: voting for a block locks on the certificate it carries (its parent,
//!   the head of a one-chain), which is what makes a two-chain over consecutive views final:
//!   2f+1 validators that voted for B1 (view v+1, carrying B0's certificate of view v) are locked
//!   at v, so no certificate for a block that abandons B0 can form in any later view.
//!
//! A committee switches from the three-chain rule of earlier releases all at once (an old and a
//! new validator in one committee lock differently); a record saved by an earlier release is
//! loaded with its lock raised to the certificate it holds, which is never weaker.

use std::sync::{Arc, Mutex};

use crate::codec::{Decode, Encode, Reader};
use crate::crypto::KeyPair;
use crate::error::{Error, Result};
use crate::ids::ValidatorIndex;
use crate::ids::View;
use crate::types::{Block, QuorumCert, Timeout, Vote, timeout_signing_bytes, vote_signing_bytes};

/// Everything a validator must remember across restarts to stay safe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SafetyRecord {
    /// Epoch the record belongs to (views restart with each epoch).
    pub epoch: u64,
    /// Highest view voted in.
    pub last_voted_view: View,
    /// The lock: view of the highest certificate carried by a block voted for; blocks must
    /// extend a QC at least this high.
    pub preferred_view: View,
    /// Highest QC known when the record was saved.
    pub high_qc: QuorumCert,
    /// The last vote signed, handed back verbatim if the same view is asked again.
    pub last_vote: Option<Vote>,
    /// Highest view this validator proposed in: a restarted leader never proposes twice in a
    /// view (two different blocks from one leader in one view would look like equivocation).
    pub last_proposed_view: View,
}

impl SafetyRecord {
    /// The record of a validator that never voted in `epoch`.
    pub fn initial(epoch: u64, genesis_qc: QuorumCert) -> Self {
        Self {
            epoch,
            last_voted_view: 0,
            preferred_view: 0,
            high_qc: genesis_qc,
            last_vote: None,
            last_proposed_view: 0,
        }
    }
}

impl Encode for SafetyRecord {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(3); // record format version (3: the lock is the one-chain head)
        for x in [
            self.epoch,
            self.last_voted_view,
            self.preferred_view,
            self.last_proposed_view,
        ] {
            out.extend_from_slice(&x.to_be_bytes());
        }
        self.high_qc.encode(out);
        match &self.last_vote {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.encode(out);
            }
        }
    }
}

impl Decode for SafetyRecord {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let version = r.u8("record version")?;
        if !(1..=3).contains(&version) {
            return Err(Error::Decode {
                what: "record version",
                at: 0,
            });
        }
        let epoch = r.u64("record epoch")?;
        let last_voted_view = r.u64("last voted view")?;
        let preferred_view = r.u64("preferred view")?;
        let last_proposed_view = if version >= 2 {
            r.u64("last proposed view")?
        } else {
            0
        };
        let high_qc = QuorumCert::decode(r)?;
        // Before version 3 the lock was the two-chain head; the certificate held is a lock at
        // least as strong as the one-chain rule asks for.
        let preferred_view = if version < 3 {
            preferred_view.max(high_qc.view)
        } else {
            preferred_view
        };
        Ok(Self {
            epoch,
            last_voted_view,
            preferred_view,
            last_proposed_view,
            high_qc,
            last_vote: if r.flag("last vote tag")? {
                Some(Vote::decode(r)?)
            } else {
                None
            },
        })
    }
}

/// Where the record lives (SQLite in the node process, memory in the simulator). `save` must be
/// durable when it returns.
pub trait SafetyStorage: Send {
    /// The saved record, if any.
    fn load(&mut self) -> Result<Option<SafetyRecord>>;
    /// Replaces the saved record.
    fn save(&mut self, record: &SafetyRecord) -> Result<()>;
}

/// A record kept in memory behind a shared handle: clones see the same record, so a simulated
/// validator can be "restarted" from what its previous incarnation saved.
#[derive(Clone, Debug, Default)]
pub struct MemoryStorage {
    record: Arc<Mutex<Option<Vec<u8>>>>,
}

impl SafetyStorage for MemoryStorage {
    fn load(&mut self) -> Result<Option<SafetyRecord>> {
        let guard = self
            .record
            .lock()
            .map_err(|_| Error::Storage("poisoned".into()))?;
        guard
            .as_deref()
            .map(crate::codec::decode_exact::<SafetyRecord>)
            .transpose()
    }
    fn save(&mut self, record: &SafetyRecord) -> Result<()> {
        let bytes = crate::codec::encode_to_vec(record);
        *self
            .record
            .lock()
            .map_err(|_| Error::Storage("poisoned".into()))? = Some(bytes);
        Ok(())
    }
}

/// Rule: a vote in `view` is allowed only if `view > record.last_voted_view`.
pub fn view_is_fresh(record: &SafetyRecord, view: View) -> bool {
    view > record.last_voted_view
}

/// Rule: a vote for `block` is allowed only if `block.qc.view >= record.preferred_view`, i.e. the
/// block extends a certificate no older than the lock.
pub fn respects_lock(record: &SafetyRecord, block: &Block) -> bool {
    block.qc().view >= record.preferred_view
}

/// Rule: after voting for `block`, the lock becomes `max(record.preferred_view, block.qc.view)`:
/// the view of the block's parent, certified by the QC the block carries.
pub fn lock_after_vote(record: &SafetyRecord, block: &Block) -> View {
    record.preferred_view.max(block.qc().view)
}

/// Rule: a request to vote again in the view of the last vote, for the same block, is answered
/// with the stored vote (predicate: `last_vote.view == block.view && last_vote.block_hash ==
/// block.hash`).
pub fn repeated_vote<'a>(record: &'a SafetyRecord, block: &Block) -> Option<&'a Vote> {
    record
        .last_vote
        .as_ref()
        .filter(|v| v.view == block.view() && v.block_hash == block.hash())
}

/// The signer of votes and timeouts.
pub struct SafetyRules {
    key: KeyPair,
    me: ValidatorIndex,
    record: SafetyRecord,
    storage: Box<dyn SafetyStorage>,
    unsaved: bool,
}

impl std::fmt::Debug for SafetyRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SafetyRules")
            .field("me", &self.me)
            .field("record", &self.record)
            .finish()
    }
}

impl SafetyRules {
    /// Loads the record from `storage` (starting fresh if none exists or it is from another
    /// epoch).
    pub fn new(
        key: KeyPair,
        me: ValidatorIndex,
        epoch: u64,
        genesis_qc: QuorumCert,
        mut storage: Box<dyn SafetyStorage>,
    ) -> Result<Self> {
        let record = match storage.load()? {
            Some(r) if r.epoch == epoch => r,
            _ => SafetyRecord::initial(epoch, genesis_qc),
        };
        Ok(Self {
            key,
            me,
            record,
            storage,
            unsaved: false,
        })
    }

    /// The current record.
    pub fn record(&self) -> &SafetyRecord {
        &self.record
    }

    /// Signs a vote for `block` (whose parent is `parent`) if every rule allows it, saving the
    /// record first.
    pub fn vote(&mut self, block: &Block, parent: &Block) -> Result<Vote> {
        if let Some(v) = repeated_vote(&self.record, block) {
            return Ok(v.clone());
        }
        let view = block.view();
        if block.header().epoch != self.record.epoch || block.parent_hash() != parent.hash() {
            return Err(Error::Unsafe {
                rule: "block_matches_parent",
                view,
            });
        }
        if !view_is_fresh(&self.record, view) {
            return Err(Error::Unsafe {
                rule: "view_is_fresh",
                view,
            });
        }
        if !respects_lock(&self.record, block) {
            return Err(Error::Unsafe {
                rule: "respects_lock",
                view,
            });
        }
        let vote = Vote {
            epoch: self.record.epoch,
            view,
            block_hash: block.hash(),
            signer: self.me,
            signature: self
                .key
                .sign(&vote_signing_bytes(self.record.epoch, view, &block.hash())),
        };
        let mut next = self.record.clone();
        next.last_voted_view = view;
        next.preferred_view = lock_after_vote(&self.record, block);
        if block.qc().view > next.high_qc.view {
            next.high_qc = block.qc().clone();
        }
        next.last_vote = Some(vote.clone());
        self.storage.save(&next)?;
        self.record = next;
        self.unsaved = false;
        Ok(vote)
    }

    /// Notes that we propose in `view`; refuses a view at or below the last one we proposed in
    /// (also across restarts). The note is saved with our vote for the proposal, or by
    /// [`SafetyRules::flush`], before the proposal may leave: one disk write per view, not two.
    pub fn note_proposal(&mut self, view: View) -> Result<()> {
        if view <= self.record.last_proposed_view {
            return Err(Error::Unsafe {
                rule: "propose_once_per_view",
                view,
            });
        }
        self.record.last_proposed_view = view;
        self.unsaved = true;
        Ok(())
    }

    /// Saves the record if a note is not yet on disk.
    pub fn flush(&mut self) -> Result<()> {
        if self.unsaved {
            self.storage.save(&self.record)?;
            self.unsaved = false;
        }
        Ok(())
    }

    /// Signs a timeout for `view` carrying `high_qc`. Timeouts never feed a lock or a commit, so
    /// signing them needs no rule; their signature covers only (epoch, view) so all of them add up.
    pub fn timeout(&mut self, view: View, high_qc: QuorumCert) -> Timeout {
        Timeout {
            epoch: self.record.epoch,
            view,
            signer: self.me,
            signature: self.key.sign(&timeout_signing_bytes(self.record.epoch, view)),
            high_qc,
        }
    }
}
