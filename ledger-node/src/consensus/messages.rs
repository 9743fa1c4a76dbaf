//! Network messages, and the only door from "bytes a peer sent" to "something the core acts on".
//!
//! A transport hands the core nothing but [`VerifiedMessage`]s, and the only way to get one is
//! [`UnverifiedMessage::verify`]. Anything refused is dropped with a [`DropReason`], counted in
//! [`DropCounters`], and changes no state.
//!
//! What "verified" means per message:
//! - proposal: right epoch, proposer is the view's leader and the authenticated sender, the
//!   parent's QC verifies (one pairing) and names the parent, and the view follows that QC or a
//!   TC that also verifies;
//! - vote / timeout: right epoch, the signer is a member and is the sender; the timeout's QC
//!   verifies. Their signatures are *not* checked one by one: they are checked when 2f+1 of them are
//!   aggregated into a certificate (one pairing), with a per-signature fallback only if that fails
//!   ([`super::aggregator`]). The sender is authenticated by the transport, so a bad signature can
//!   only ever speak for its own sender;
//! - certificates (TC, sync info): full aggregate check;
//! - block responses: structure and epoch; the core then accepts only blocks whose hash it asked
//!   for, and a hash chain from a verified certificate is what authenticates them.
//!
//! Proposals carry no signature of their own, which keeps a block's crypto cost at one vote
//! signature and one QC check. The leader's authority comes from the authenticated link (the
//! transport must prove each peer's key, as part 2's handshake does); what makes a block count is
//! the QC that 2f+1 signed for it, and a leader that sends two blocks in its view gains nothing,
//! since each honest validator votes once per view.

use std::sync::Arc;

use crate::codec::{self, decode_exact};
use crate::committee::Committee;
use crate::error::Error;
use crate::ids::ValidatorIndex;
use crate::ids::{BlockHash, View};
use crate::types::{Block, QuorumCert, Timeout, TimeoutCert, Vote};

/// A leader's proposal: the block and, when the view follows a timeout, the TC that ended the
/// previous view.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Proposal {
    /// The proposed block.
    pub block: Arc<Block>,
    /// Certificate for view `block.view - 1` when that view ended without a QC.
    pub tc: Option<TimeoutCert>,
}

/// Every message validators exchange (the wire form; see [`super::wire`]).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Message {
    /// A new block from the leader.
    Proposal(Proposal),
    /// A vote, broadcast to all validators so that any of them can form the QC.
    Vote(Vote),
    /// A signed timeout for a view.
    Timeout(Timeout),
    /// A timeout certificate, broadcast by whoever forms it.
    TimeoutCert(TimeoutCert),
    /// The sender's highest certificates: sent to a peer that looks behind, and broadcast by
    /// the next leader as soon as it forms a QC.
    SyncInfo {
        /// Highest QC.
        high_qc: QuorumCert,
        /// Highest TC, if newer than the QC.
        high_tc: Option<TimeoutCert>,
    },
    /// Client transactions forwarded to the other validators' mempools.
    Transactions(Vec<Vec<u8>>),
    /// Ask for a block and up to `max_blocks - 1` of its ancestors.
    BlockRequest {
        /// Newest block wanted.
        hash: BlockHash,
        /// How many blocks at most (newest first).
        max_blocks: u16,
    },
    /// Blocks answering a request, newest first.
    BlockResponse(Vec<Arc<Block>>),
}

impl Message {
    /// The view a message is about, for the far-future check (none for sync and gossip).
    pub fn view(&self) -> Option<View> {
        match self {
            Message::Proposal(p) => Some(p.block.view()),
            Message::Vote(v) => Some(v.view),
            Message::Timeout(t) => Some(t.view),
            Message::TimeoutCert(tc) => Some(tc.view),
            _ => None,
        }
    }
}

/// Why a message was dropped.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum DropReason {
    /// Could not be decoded or breaks a structural rule.
    Malformed,
    /// Belongs to another epoch.
    WrongEpoch,
    /// A signature or certificate did not verify.
    BadSignature,
    /// A certificate with fewer than 2f+1 signers.
    NoQuorum,
    /// Names a validator outside the committee, or a signer other than the sender.
    WrongSender,
    /// A proposal from someone who does not lead its view.
    WrongProposer,
    /// For a view too far ahead of ours to be worth holding.
    FarFuture,
    /// For a view we already left.
    Stale,
    /// A block that fails validity (height, time, duplicate transactions, state root).
    InvalidBlock,
    /// A block nobody asked for.
    Unrequested,
    /// The mempool is full or the transaction is too large.
    MempoolFull,
    /// A duplicate of something already held.
    Duplicate,
}

impl DropReason {
    /// Every reason, in counter order.
    pub const ALL: [DropReason; 12] = [
        DropReason::Malformed,
        DropReason::WrongEpoch,
        DropReason::BadSignature,
        DropReason::NoQuorum,
        DropReason::WrongSender,
        DropReason::WrongProposer,
        DropReason::FarFuture,
        DropReason::Stale,
        DropReason::InvalidBlock,
        DropReason::Unrequested,
        DropReason::MempoolFull,
        DropReason::Duplicate,
    ];

    fn from_error(e: &Error) -> Self {
        match e {
            Error::WrongEpoch { .. } => DropReason::WrongEpoch,
            Error::BadSignature { .. } | Error::BadPoint { .. } => DropReason::BadSignature,
            Error::NoQuorum { .. } => DropReason::NoQuorum,
            Error::UnknownValidator { .. } => DropReason::WrongSender,
            _ => DropReason::Malformed,
        }
    }
}

/// Per-reason counts of dropped messages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DropCounters {
    counts: [u64; 12],
}

impl DropCounters {
    /// Counts one drop.
    pub fn record(&mut self, reason: DropReason) {
        if let Some(i) = DropReason::ALL.iter().position(|r| *r == reason) {
            self.counts[i] += 1;
        }
    }
    /// Drops counted for `reason`.
    pub fn get(&self, reason: DropReason) -> u64 {
        DropReason::ALL
            .iter()
            .position(|r| *r == reason)
            .map_or(0, |i| self.counts[i])
    }
    /// All drops.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// A value that passed its checks. Only this module makes them.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Verified<T>(T);

impl<T> Verified<T> {
    /// The checked value.
    pub fn inner(&self) -> &T {
        &self.0
    }
    /// Unwraps the checked value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// A message as received: who sent it (authenticated by the transport) and what it says.
#[derive(Clone, Debug)]
pub struct UnverifiedMessage {
    /// Authenticated sender.
    pub from: ValidatorIndex,
    /// Claimed content.
    pub msg: Message,
}

/// A message that passed [`UnverifiedMessage::verify`].
#[derive(Clone, Debug)]
pub struct VerifiedMessage {
    from: ValidatorIndex,
    body: VerifiedBody,
}

/// Content of a verified message.
#[derive(Clone, Debug)]
pub enum VerifiedBody {
    /// See [`Message::Proposal`].
    Proposal(Verified<Proposal>),
    /// See [`Message::Vote`]; its signature is checked at aggregation.
    Vote(Verified<Vote>),
    /// See [`Message::Timeout`]; its signature is checked at aggregation, its QC already was.
    Timeout(Verified<Timeout>),
    /// See [`Message::TimeoutCert`].
    TimeoutCert(Verified<TimeoutCert>),
    /// See [`Message::SyncInfo`].
    SyncInfo(Verified<QuorumCert>, Option<Verified<TimeoutCert>>),
    /// See [`Message::Transactions`].
    Transactions(Vec<Vec<u8>>),
    /// See [`Message::BlockRequest`].
    BlockRequest(BlockHash, u16),
    /// See [`Message::BlockResponse`].
    BlockResponse(Vec<Arc<Block>>),
}

impl VerifiedMessage {
    /// The authenticated sender.
    pub fn from(&self) -> ValidatorIndex {
        self.from
    }
    /// The content.
    pub fn body(&self) -> &VerifiedBody {
        &self.body
    }
    /// Takes the content.
    pub fn into_body(self) -> VerifiedBody {
        self.body
    }
}

fn check_epoch(epoch: u64, c: &Committee) -> Result<(), DropReason> {
    if epoch == c.epoch() {
        Ok(())
    } else {
        Err(DropReason::WrongEpoch)
    }
}

fn check_member(from: ValidatorIndex, signer: ValidatorIndex, c: &Committee) -> Result<(), DropReason> {
    if usize::from(signer) < c.size() && signer == from {
        Ok(())
    } else {
        Err(DropReason::WrongSender)
    }
}

fn verify_cert<T>(r: crate::error::Result<T>) -> Result<T, DropReason> {
    r.map_err(|e| DropReason::from_error(&e))
}

impl UnverifiedMessage {
    /// Wraps a message received from `from`.
    pub fn new(from: ValidatorIndex, msg: Message) -> Self {
        Self { from, msg }
    }

    /// Decodes a frame received from `from` (the encoding is [`super::wire`]'s).
    pub fn decode(from: ValidatorIndex, bytes: &[u8]) -> Result<Self, DropReason> {
        decode_exact::<Message>(bytes)
            .map(|msg| Self { from, msg })
            .map_err(|_| DropReason::Malformed)
    }

    /// Applies the checks listed in the module doc.
    pub fn verify(self, c: &Committee) -> Result<VerifiedMessage, DropReason> {
        if usize::from(self.from) >= c.size() {
            return Err(DropReason::WrongSender);
        }
        let from = self.from;
        let body = match self.msg {
            Message::Proposal(p) => {
                let b = &p.block;
                let h = b.header();
                check_epoch(h.epoch, c)?;
                if h.view == 0 || h.qc.block_hash != h.parent_hash || h.qc.view >= h.view {
                    return Err(DropReason::Malformed);
                }
                if h.proposer != c.leader(h.view) {
                    return Err(DropReason::WrongProposer);
                }
                if h.proposer != from {
                    return Err(DropReason::WrongSender);
                }
                match &p.tc {
                    None if h.qc.view + 1 != h.view => return Err(DropReason::Malformed),
                    Some(tc) if tc.view.checked_add(1) != Some(h.view) || tc.view < h.qc.view => {
                        return Err(DropReason::Malformed);
                    }
                    _ => {}
                }
                verify_cert(h.qc.verify(c))?;
                if let Some(tc) = &p.tc {
                    verify_cert(tc.verify(c))?;
                }
                VerifiedBody::Proposal(Verified(p))
            }
            Message::Vote(v) => {
                check_epoch(v.epoch, c)?;
                check_member(from, v.signer, c)?;
                if v.view == 0 {
                    return Err(DropReason::Malformed);
                }
                VerifiedBody::Vote(Verified(v))
            }
            Message::Timeout(t) => {
                check_epoch(t.epoch, c)?;
                check_member(from, t.signer, c)?;
                if t.view == 0 || t.high_qc.view >= t.view {
                    return Err(DropReason::Malformed);
                }
                verify_cert(t.high_qc.verify(c))?;
                VerifiedBody::Timeout(Verified(t))
            }
            Message::TimeoutCert(tc) => {
                verify_cert(tc.verify(c))?;
                VerifiedBody::TimeoutCert(Verified(tc))
            }
            Message::SyncInfo { high_qc, high_tc } => {
                verify_cert(high_qc.verify(c))?;
                let tc = match high_tc {
                    Some(tc) => {
                        verify_cert(tc.verify(c))?;
                        Some(Verified(tc))
                    }
                    None => None,
                };
                VerifiedBody::SyncInfo(Verified(high_qc), tc)
            }
            Message::Transactions(txs) => {
                if txs.is_empty() {
                    return Err(DropReason::Malformed);
                }
                VerifiedBody::Transactions(txs)
            }
            Message::BlockRequest { hash, max_blocks } => {
                let max = max_blocks.clamp(1, codec::MAX_BLOCKS_PER_RESPONSE);
                VerifiedBody::BlockRequest(hash, max)
            }
            Message::BlockResponse(blocks) => {
                if blocks.is_empty() || blocks.len() > usize::from(codec::MAX_BLOCKS_PER_RESPONSE) {
                    return Err(DropReason::Malformed);
                }
                for b in &blocks {
                    check_epoch(b.header().epoch, c)?;
                    if b.qc().block_hash != b.parent_hash() {
                        return Err(DropReason::Malformed);
                    }
                }
                VerifiedBody::BlockResponse(blocks)
            }
        };
        Ok(VerifiedMessage { from, body })
    }
}
