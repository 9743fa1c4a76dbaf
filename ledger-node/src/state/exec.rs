//! Executing a block's transactions against a state: pure and deterministic. The same state,
//! block context and transactions give the same changes, receipts, events and state root on
//! every machine (ordered maps only; no clock, no IO, no randomness).
//!
//! Escrows step through `htlc`'s state machine ([`htlc::Escrow`]) with the block's timestamp as
//! the clock, as every other ledger's escrows do; this module adds the chain's own rules around
//! it (who may reject, how far ahead an expiry may be) and moves the money.

use std::collections::BTreeMap;

use htlc::{EscrowError, EscrowStatus, Timestamp, Transition};

use crate::codec::{Encode, put_len_u32, put_var_bytes};
use crate::crypto::sha256;
use crate::merkle;
use crate::state::reason::{FailCode, FailReason};
use crate::state::tx::{Op, Transaction};
use crate::state::types::{
    Account, AccountId, Anchor, AnchorTip, AssetCode, AssetInfo, ChainParams, Escrow, EscrowId, batch_hash,
    block_time,
};

/// How an escrow looks to a transaction.
#[derive(Debug)]
pub enum EscrowLookup<'a> {
    /// Still locked.
    Open(&'a Escrow),
    /// Fulfilled, rejected or refunded (committed state keeps only the status).
    Closed(EscrowStatus),
    /// Never created.
    Unknown,
}

/// Read access to a state.
pub trait StateView {
    /// An account, if it exists.
    fn account(&self, id: &AccountId) -> Option<&Account>;
    /// An asset, if it exists.
    fn asset(&self, code: &AssetCode) -> Option<&AssetInfo>;
    /// An escrow.
    fn escrow(&self, id: &EscrowId) -> EscrowLookup<'_>;
    /// The last anchored batch of (`signer`, `namespace`), if any.
    fn anchor_tip(&self, signer: &AccountId, namespace: &str) -> Option<AnchorTip>;
}

/// What a block changed: the new value of everything it touched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Accounts, new values.
    pub accounts: BTreeMap<AccountId, Account>,
    /// Assets, new values.
    pub assets: BTreeMap<AssetCode, AssetInfo>,
    /// Escrows, new values.
    pub escrows: BTreeMap<EscrowId, Escrow>,
    /// Anchors recorded, in block order.
    pub anchors: Vec<Anchor>,
}

impl Changes {
    /// The last anchor of (`signer`, `namespace`) among these changes.
    pub fn last_anchor(&self, signer: &AccountId, namespace: &str) -> Option<&Anchor> {
        self.anchors
            .iter()
            .rev()
            .find(|a| a.submitter == *signer && a.namespace == namespace)
    }

    /// SHA-256 of the canonical encoding of every change (sorted by key).
    pub fn digest(&self) -> [u8; 32] {
        let mut out = Vec::with_capacity(128 * (self.accounts.len() + self.escrows.len() + 1));
        put_len_u32(&mut out, self.accounts.len());
        for (id, a) in &self.accounts {
            out.extend_from_slice(&id.0);
            a.encode(&mut out);
        }
        put_len_u32(&mut out, self.assets.len());
        for (code, a) in &self.assets {
            code.encode(&mut out);
            a.encode(&mut out);
        }
        put_len_u32(&mut out, self.escrows.len());
        for e in self.escrows.values() {
            e.encode(&mut out);
        }
        put_len_u32(&mut out, self.anchors.len());
        for a in &self.anchors {
            a.encode(&mut out);
        }
        sha256(&[b"CYPHERLINK-CHANGES-V1", &out])
    }
}

/// A view of `base` with `top` applied over it.
pub struct Layered<'a> {
    /// Newest changes first.
    pub layers: Vec<&'a Changes>,
    /// Committed state underneath.
    pub base: &'a dyn StateView,
}

impl StateView for Layered<'_> {
    fn account(&self, id: &AccountId) -> Option<&Account> {
        for l in &self.layers {
            if let Some(a) = l.accounts.get(id) {
                return Some(a);
            }
        }
        self.base.account(id)
    }
    fn asset(&self, code: &AssetCode) -> Option<&AssetInfo> {
        for l in &self.layers {
            if let Some(a) = l.assets.get(code) {
                return Some(a);
            }
        }
        self.base.asset(code)
    }
    fn escrow(&self, id: &EscrowId) -> EscrowLookup<'_> {
        for l in &self.layers {
            if let Some(e) = l.escrows.get(id) {
                return if e.status() == EscrowStatus::Prepared {
                    EscrowLookup::Open(e)
                } else {
                    EscrowLookup::Closed(e.status())
                };
            }
        }
        self.base.escrow(id)
    }
    fn anchor_tip(&self, signer: &AccountId, namespace: &str) -> Option<AnchorTip> {
        for l in &self.layers {
            if let Some(a) = l.last_anchor(signer, namespace) {
                return Some(a.tip());
            }
        }
        self.base.anchor_tip(signer, namespace)
    }
}

/// The block a transaction executes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockContext {
    /// SHA-256 of the genesis: transactions for other chains fail.
    pub chain_id: [u8; 32],
    /// Height of the block.
    pub height: u64,
    /// The block's agreed timestamp: escrow expiries are judged by it.
    pub timestamp_ms: u64,
    /// The chain's rules (from its genesis).
    pub params: ChainParams,
}

/// A transaction ready to execute: decoded (or not) and its signature judged.
#[derive(Clone, Debug)]
pub struct PreparedTx {
    /// Merkle leaf hash of the bytes.
    pub id: [u8; 32],
    /// The decoded transaction, `None` if the bytes are not one.
    pub tx: Option<Transaction>,
    /// Whether the signature verifies.
    pub signature_ok: bool,
}

/// The outcome of one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// Transaction id.
    pub tx_id: [u8; 32],
    /// Position in the block.
    pub index: u32,
    /// Success, or the rule it broke.
    pub outcome: Result<(), FailReason>,
}

impl Receipt {
    /// Canonical bytes (a leaf of the receipts Merkle tree).
    pub fn encode(&self) -> Vec<u8> {
        receipt_bytes(
            &self.tx_id,
            self.index,
            self.outcome.as_ref().err().map(FailReason::code),
        )
    }
}

/// A receipt's canonical bytes from what it records: the transaction, its position and, if it
/// failed, the code of the rule it broke (the particulars are not hashed, so a receipt can be
/// rebuilt from stored codes).
pub fn receipt_bytes(tx_id: &[u8; 32], index: u32, failure: Option<FailCode>) -> Vec<u8> {
    let mut out = Vec::with_capacity(48);
    out.extend_from_slice(tx_id);
    out.extend_from_slice(&index.to_be_bytes());
    match failure {
        None => out.push(0),
        Some(code) => {
            out.push(1);
            put_var_bytes(&mut out, code.as_str().as_bytes());
        }
    }
    out
}

/// Something the outside world follows (the event feed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// An escrow was created, fulfilled, rejected or refunded: its state right after.
    Escrow {
        /// The transaction that did it.
        tx_id: [u8; 32],
        /// The escrow after the step (its status says which step).
        escrow: Box<Escrow>,
    },
    /// A Merkle root was anchored.
    Anchored(Anchor),
}

/// The pieces the state root is hashed from; a proof carries them so a light client can tie a
/// receipt to a certified header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateCommitment {
    /// State root of the parent block.
    pub parent_root: [u8; 32],
    /// Height of the block.
    pub height: u64,
    /// [`Changes::digest`].
    pub changes_digest: [u8; 32],
    /// Merkle root of the receipts ([`Receipt::encode`] leaves).
    pub receipts_root: [u8; 32],
}

impl StateCommitment {
    /// The state root: `SHA-256("CYPHERLINK-STATE-V1" || parent || height || changes || receipts)`.
    /// Chained through the parent, it commits to the whole history of states.
    pub fn root(&self) -> [u8; 32] {
        sha256(&[
            b"CYPHERLINK-STATE-V1",
            &self.parent_root,
            &self.height.to_be_bytes(),
            &self.changes_digest,
            &self.receipts_root,
        ])
    }
}

/// The state root of a chain before any block: depends only on the chain id.
pub fn genesis_state_root(chain_id: &[u8; 32]) -> [u8; 32] {
    sha256(&[b"CYPHERLINK-STATE-V1-GENESIS", chain_id])
}

/// Everything executing a block produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockOutcome {
    /// What changed.
    pub changes: Changes,
    /// One per transaction, in order.
    pub receipts: Vec<Receipt>,
    /// What the feed shows, in order.
    pub events: Vec<Event>,
    /// How the state root was formed.
    pub commitment: StateCommitment,
}

impl BlockOutcome {
    /// The block's state root.
    pub fn state_root(&self) -> [u8; 32] {
        self.commitment.root()
    }
}

/// Executes `txs` in order over `base` (the parent's state, whose root is `parent_root`).
pub fn execute_block(
    base: &dyn StateView,
    parent_root: [u8; 32],
    ctx: &BlockContext,
    txs: &[PreparedTx],
) -> BlockOutcome {
    let mut changes = Changes::default();
    let mut receipts = Vec::with_capacity(txs.len());
    let mut events = Vec::new();
    for (i, p) in txs.iter().enumerate() {
        let (scratch, outcome) = {
            let view = Layered {
                layers: vec![&changes],
                base,
            };
            apply_tx(&view, ctx, p)
        };
        if let Some(s) = scratch {
            events.extend(s.fold_into(&mut changes));
        }
        receipts.push(Receipt {
            tx_id: p.id,
            index: u32::try_from(i).expect("a block holds at most MAX_TXS transactions"),
            outcome,
        });
    }
    let leaves: Vec<[u8; 32]> = receipts.iter().map(|r| merkle::leaf_hash(&r.encode())).collect();
    let commitment = StateCommitment {
        parent_root,
        height: ctx.height,
        changes_digest: changes.digest(),
        receipts_root: merkle::root_of_leaves(&leaves),
    };
    BlockOutcome {
        changes,
        receipts,
        events,
        commitment,
    }
}

/// New values staged by one transaction.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    accounts: BTreeMap<AccountId, Account>,
    assets: BTreeMap<AssetCode, AssetInfo>,
    escrows: Vec<Escrow>,
    anchors: Vec<Anchor>,
    events: Vec<Event>,
}

impl Scratch {
    /// Adds these values to `changes` (later values replace earlier ones); returns the events.
    pub(crate) fn fold_into(self, changes: &mut Changes) -> Vec<Event> {
        changes.accounts.extend(self.accounts);
        changes.assets.extend(self.assets);
        for e in self.escrows {
            changes.escrows.insert(e.id, e);
        }
        changes.anchors.extend(self.anchors);
        self.events
    }

    fn account<'s>(&'s mut self, view: &dyn StateView, id: &AccountId) -> &'s mut Account {
        self.accounts
            .entry(*id)
            .or_insert_with(|| view.account(id).cloned().unwrap_or_default())
    }

    fn credit(&mut self, view: &dyn StateView, id: &AccountId, asset: &AssetCode, amount: u64) {
        let a = self.account(view, id);
        // Every balance is at most the asset's supply, itself a u64: no overflow.
        let b = a.balance(asset).saturating_add(amount);
        a.set_balance(asset, b);
    }

    fn debit(
        &mut self,
        view: &dyn StateView,
        id: &AccountId,
        asset: &AssetCode,
        amount: u64,
    ) -> Result<(), FailReason> {
        let a = self.account(view, id);
        let have = a.balance(asset);
        if have < amount {
            return Err(FailReason::InsufficientFunds {
                available: have,
                needed: amount,
            });
        }
        a.set_balance(asset, have - amount);
        Ok(())
    }
}

fn known_asset<'v>(view: &'v dyn StateView, code: &AssetCode) -> Result<&'v AssetInfo, FailReason> {
    view.asset(code)
        .ok_or_else(|| FailReason::UnknownAsset(code.clone()))
}

fn positive(amount: u64) -> Result<(), FailReason> {
    if amount == 0 {
        Err(FailReason::ZeroAmount)
    } else {
        Ok(())
    }
}

/// Applies one transaction: `(staged changes, outcome)`. On failure the staged changes hold at
/// most the signer's consumed nonce.
fn apply_tx(
    view: &dyn StateView,
    ctx: &BlockContext,
    p: &PreparedTx,
) -> (Option<Scratch>, Result<(), FailReason>) {
    let Some(tx) = &p.tx else {
        return (None, Err(FailReason::Malformed));
    };
    if !p.signature_ok {
        return (None, Err(FailReason::BadSignature));
    }
    apply_signed(view, ctx, tx)
}

/// [`apply_tx`] for a transaction whose signature verified (what admission tries too).
pub(crate) fn apply_signed(
    view: &dyn StateView,
    ctx: &BlockContext,
    tx: &Transaction,
) -> (Option<Scratch>, Result<(), FailReason>) {
    let body = &tx.body;
    if body.chain_id != ctx.chain_id {
        return (None, Err(FailReason::WrongChain));
    }
    let fresh = view
        .account(&body.signer)
        .is_none_or(|a| a.nonce_is_fresh(body.nonce));
    let last = view.account(&body.signer).map_or(0, |a| a.nonce);
    if !fresh {
        return (
            None,
            Err(FailReason::NonceReused {
                nonce: body.nonce,
                last,
            }),
        );
    }
    let max_gap = ctx.params.max_nonce_gap;
    if body.nonce > last && body.nonce - last > max_gap {
        return (
            None,
            Err(FailReason::NonceTooFarAhead {
                nonce: body.nonce,
                last,
                max_gap,
            }),
        );
    }
    let mut s = Scratch::default();
    s.account(view, &body.signer).use_nonce(body.nonce);
    match apply_op(view, ctx, tx, &mut s) {
        Ok(()) => (Some(s), Ok(())),
        Err(reason) => {
            let mut only_nonce = Scratch::default();
            only_nonce.account(view, &body.signer).use_nonce(body.nonce);
            (Some(only_nonce), Err(reason))
        }
    }
}

fn apply_op(
    view: &dyn StateView,
    ctx: &BlockContext,
    tx: &Transaction,
    s: &mut Scratch,
) -> Result<(), FailReason> {
    let signer = tx.body.signer;
    let now = ctx.timestamp_ms;
    match &tx.body.op {
        Op::CreateAsset { code, scale } => {
            if view.asset(code).is_some() {
                return Err(FailReason::AssetExists(code.clone()));
            }
            s.assets.insert(
                code.clone(),
                AssetInfo {
                    issuer: signer,
                    scale: *scale,
                    supply: 0,
                },
            );
        }
        Op::Issue { asset, to, amount } => {
            positive(*amount)?;
            let info = known_asset(view, asset)?;
            if info.issuer != signer {
                return Err(FailReason::NotIssuer(asset.clone()));
            }
            let supply = info
                .supply
                .checked_add(*amount)
                .ok_or_else(|| FailReason::SupplyOverflow(asset.clone()))?;
            let mut info = info.clone();
            info.supply = supply;
            s.assets.insert(asset.clone(), info);
            s.credit(view, to, asset, *amount);
        }
        Op::Redeem { asset, amount } => {
            positive(*amount)?;
            let info = known_asset(view, asset)?;
            if info.issuer != signer {
                return Err(FailReason::NotIssuer(asset.clone()));
            }
            let mut info = info.clone();
            s.debit(view, &signer, asset, *amount)?;
            info.supply -= amount; // the issuer's balance is part of the supply
            s.assets.insert(asset.clone(), info);
        }
        Op::Transfer { asset, to, amount } => {
            positive(*amount)?;
            known_asset(view, asset)?;
            if *to == signer {
                return Err(FailReason::SelfPayment);
            }
            s.debit(view, &signer, asset, *amount)?;
            s.credit(view, to, asset, *amount);
        }
        Op::EscrowCreate {
            reference,
            asset,
            payee,
            amount,
            condition,
            expires_at_ms,
            memo,
        } => {
            positive(*amount)?;
            known_asset(view, asset)?;
            if *payee == signer {
                return Err(FailReason::SelfPayment);
            }
            if *expires_at_ms <= now {
                return Err(FailReason::ExpiryInPast {
                    expires_at_ms: *expires_at_ms,
                    now_ms: now,
                });
            }
            let max_hold_ms = ctx.params.max_escrow_hold_ms;
            if *expires_at_ms - now > max_hold_ms {
                return Err(FailReason::ExpiryTooFar {
                    expires_at_ms: *expires_at_ms,
                    now_ms: now,
                    max_hold_ms,
                });
            }
            // Every expiry must be an instant of the state machine; one past year 9999 is
            // further than any hold (and than any ILP packet can express).
            let expires_at = block_time(*expires_at_ms).ok_or(FailReason::ExpiryTooFar {
                expires_at_ms: *expires_at_ms,
                now_ms: now,
                max_hold_ms,
            })?;
            let id = EscrowId::derive(&signer, reference);
            if !matches!(view.escrow(&id), EscrowLookup::Unknown) {
                return Err(FailReason::EscrowExists);
            }
            s.debit(view, &signer, asset, *amount)?;
            let e = Escrow {
                id,
                payer: signer,
                payee: *payee,
                asset: asset.clone(),
                lock: htlc::Escrow::new(*amount, *condition, expires_at),
                memo: memo.clone(),
                reference: *reference,
                created_height: ctx.height,
                closed_height: None,
                reject_reason: None,
            };
            s.events.push(Event::Escrow {
                tx_id: tx.id,
                escrow: Box::new(e.clone()),
            });
            s.escrows.push(e);
        }
        Op::EscrowFulfill { escrow, fulfillment } => {
            let e = open_escrow(view, escrow)?;
            let lock = step(e, ctx, |lock, clock| lock.fulfill(fulfillment, clock))?;
            s.credit(view, &e.payee, &e.asset, e.amount());
            close(s, tx, Escrow { lock, ..e.clone() }, ctx);
        }
        Op::EscrowReject { escrow, reason } => {
            let e = open_escrow(view, escrow)?;
            if e.payee != signer {
                return Err(FailReason::NotPayee);
            }
            let lock = step(e, ctx, |lock, clock| lock.reject(clock))?;
            s.credit(view, &e.payer, &e.asset, e.amount());
            let reject_reason = Some(reason.clone());
            close(
                s,
                tx,
                Escrow {
                    lock,
                    reject_reason,
                    ..e.clone()
                },
                ctx,
            );
        }
        Op::EscrowRefund { escrow } => {
            let e = open_escrow(view, escrow)?;
            let lock = step(e, ctx, |lock, clock| lock.refund(clock))?;
            s.credit(view, &e.payer, &e.asset, e.amount());
            close(s, tx, Escrow { lock, ..e.clone() }, ctx);
        }
        Op::Anchor {
            namespace,
            root,
            items,
            sequence,
            previous,
        } => {
            let tip = view.anchor_tip(&signer, namespace);
            let (last, last_batch) = tip.map_or((0, [0; 32]), |t| (t.sequence, t.batch));
            let expected = last.saturating_add(1);
            if *sequence != expected || *previous != last_batch {
                return Err(FailReason::AnchorOutOfSequence {
                    expected,
                    got: *sequence,
                });
            }
            let a = Anchor {
                id: tx.id,
                namespace: namespace.clone(),
                root: *root,
                items: *items,
                submitter: signer,
                height: ctx.height,
                sequence: *sequence,
                previous: *previous,
                batch: batch_hash(&signer, namespace, *sequence, previous, root, *items),
            };
            s.events.push(Event::Anchored(a.clone()));
            s.anchors.push(a);
        }
    }
    Ok(())
}

fn open_escrow<'v>(view: &'v dyn StateView, id: &EscrowId) -> Result<&'v Escrow, FailReason> {
    match view.escrow(id) {
        EscrowLookup::Open(e) => Ok(e),
        EscrowLookup::Closed(st) => Err(FailReason::EscrowFinal(st)),
        EscrowLookup::Unknown => Err(FailReason::UnknownEscrow),
    }
}

/// Takes one step of `e`'s state machine (on a copy of its lock) at the block's time; the
/// stepped lock if it moved, else why not, as the chain's [`FailReason`]. A repeat of a step
/// already taken cannot reach here (only open escrows are stepped) and fails as final.
fn step(
    e: &Escrow,
    ctx: &BlockContext,
    take: impl FnOnce(&mut htlc::Escrow, &Timestamp) -> Result<Transition, EscrowError>,
) -> Result<htlc::Escrow, FailReason> {
    // Every expiry is at most `Timestamp::MAX`, so a block time past it compares alike.
    let now = block_time(ctx.timestamp_ms).unwrap_or(Timestamp::MAX);
    let mut lock = e.lock.clone();
    match take(&mut lock, &now) {
        Ok(Transition::Moved(_)) => Ok(lock),
        Ok(Transition::AlreadyDone(status)) => Err(FailReason::EscrowFinal(status)),
        Err(err) => Err(fail_reason(err, e, ctx.timestamp_ms)),
    }
}

/// The state machine's refusal as the chain records it, with the block's own time.
fn fail_reason(err: EscrowError, e: &Escrow, now_ms: u64) -> FailReason {
    let expires_at_ms = e.expires_at_ms();
    match err {
        EscrowError::WrongFulfillment { .. } => FailReason::WrongFulfillment,
        EscrowError::Expired { .. } => FailReason::EscrowExpired {
            expires_at_ms,
            now_ms,
        },
        EscrowError::NotYetExpired { .. } => FailReason::NotYetExpired {
            expires_at_ms,
            now_ms,
        },
        EscrowError::AlreadyFinal { status } => FailReason::EscrowFinal(status),
    }
}

/// Stages `e`, just closed, at this height, with its event.
fn close(s: &mut Scratch, tx: &Transaction, mut e: Escrow, ctx: &BlockContext) {
    e.closed_height = Some(ctx.height);
    s.events.push(Event::Escrow {
        tx_id: tx.id,
        escrow: Box::new(e.clone()),
    });
    s.escrows.push(e);
}
