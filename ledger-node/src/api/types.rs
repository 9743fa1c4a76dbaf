//! The JSON shapes of the node's HTTP API, shared by the server and the Rust client. Byte
//! strings are lower-case hex (ids, keys, hashes) or base64 (memos); amounts are integers of
//! minor units.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::state::types::hex_of;
use crate::state::{Anchor, Escrow};

/// A signed transaction to submit.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SubmitRequest {
    /// The transaction's canonical bytes, hex.
    pub tx: String,
}

/// Where a transaction stands on this node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TxState {
    /// Accepted into the mempool, not yet in a committed block.
    Pending,
    /// In a committed block, applied.
    Final,
    /// In a committed block, failed: see `reason`. Nothing moved.
    Failed,
}

/// A transaction's status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TxStatus {
    /// Transaction id (hex).
    pub id: String,
    /// pending, final or failed.
    pub status: TxState,
    /// Height of its block, once committed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Position in the block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Operation kind (`transfer`, `escrow_create`, ...), once committed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Failure code (`insufficient_funds`, `nonce_reused`, `wrong_fulfillment`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Failure in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl TxStatus {
    /// Whether the status will not change any more.
    pub fn is_committed(&self) -> bool {
        self.status != TxState::Pending
    }
}

/// One asset balance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AssetBalance {
    /// Asset code.
    pub asset: String,
    /// Minor units available.
    pub amount: u64,
    /// Minor units locked in escrows this account pays that are still open (not in `amount`).
    #[serde(default)]
    pub held: u64,
}

/// An account's committed state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountView {
    /// Account (Ed25519 public key, hex).
    pub account: String,
    /// Last nonce used (the next transaction needs a greater one).
    pub nonce: u64,
    /// Non-zero balances.
    pub balances: Vec<AssetBalance>,
}

/// An asset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AssetView {
    /// Code.
    pub code: String,
    /// Issuer account.
    pub issuer: String,
    /// Decimal places of a minor unit.
    pub scale: u8,
    /// Minor units in existence.
    pub supply: u64,
}

/// An escrow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EscrowView {
    /// Escrow id (hex).
    pub id: String,
    /// Payer account.
    pub payer: String,
    /// Payee account.
    pub payee: String,
    /// Asset code.
    pub asset: String,
    /// Minor units.
    pub amount: u64,
    /// SHA-256 hash lock (hex).
    pub condition: String,
    /// Block time from which it can only be refunded (ms since the Unix epoch).
    pub expires_at_ms: u64,
    /// The payer's memo, base64.
    pub memo: String,
    /// The payer's reference (16 bytes, hex).
    pub reference: String,
    /// prepared, fulfilled, rejected or expired.
    pub status: String,
    /// The preimage, once fulfilled (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfillment: Option<String>,
    /// Height of the creating block.
    pub created_height: u64,
    /// Height of the closing block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_height: Option<u64>,
    /// Why the payee rejected it (rejected escrows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reject_reason: Option<String>,
    /// Timestamp of the creating block (ms since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at_ms: Option<u64>,
    /// Timestamp of the closing block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at_ms: Option<u64>,
}

impl From<&Escrow> for EscrowView {
    fn from(e: &Escrow) -> Self {
        use base64::Engine as _;
        Self {
            id: e.id.to_hex(),
            payer: e.payer.to_hex(),
            payee: e.payee.to_hex(),
            asset: e.asset.as_str().to_owned(),
            amount: e.amount,
            condition: hex_of(&e.condition),
            expires_at_ms: e.expires_at_ms,
            memo: base64::engine::general_purpose::STANDARD.encode(&e.memo),
            reference: hex_of(&e.reference),
            status: e.status.as_str().to_owned(),
            fulfillment: e.fulfillment.map(|f| hex_of(&f)),
            created_height: e.created_height,
            closed_height: e.closed_height,
            reject_reason: e.reject_reason.clone(),
            created_at_ms: None,
            closed_at_ms: None,
        }
    }
}

/// An anchor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AnchorView {
    /// Anchor id = the recording transaction's id (hex).
    pub id: String,
    /// Namespace.
    pub namespace: String,
    /// Merkle root (hex).
    pub root: String,
    /// Items covered.
    pub items: u64,
    /// Submitting account.
    pub submitter: String,
    /// Height of its block.
    pub height: u64,
}

impl From<&Anchor> for AnchorView {
    fn from(a: &Anchor) -> Self {
        Self {
            id: hex_of(&a.id),
            namespace: a.namespace.clone(),
            root: hex_of(&a.root),
            items: a.items,
            submitter: a.submitter.to_hex(),
            height: a.height,
        }
    }
}

/// One entry of the event feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    /// Position in the feed (the same on every node); resume after it.
    pub cursor: u64,
    /// Height of the block.
    pub height: u64,
    /// The block's timestamp (ms since the Unix epoch): when it happened, in chain time.
    #[serde(default)]
    pub time_ms: u64,
    /// The transaction that caused it (hex).
    pub tx_id: String,
    /// escrow_created, escrow_fulfilled, escrow_rejected, escrow_refunded or anchored.
    pub kind: String,
    /// The escrow right after the event (escrow events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escrow: Option<EscrowView>,
    /// The anchor (anchored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<AnchorView>,
}

/// Events after a cursor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventPage {
    /// In cursor order; empty if the wait ran out.
    pub events: Vec<EventView>,
    /// Where to resume: the last event's cursor, or the cursor asked for.
    pub next: u64,
}

/// A committed block with the certificate that makes it final.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockView {
    /// Height.
    pub height: u64,
    /// Block hash (hex).
    pub hash: String,
    /// Consensus view.
    pub view: u64,
    /// Agreed timestamp, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// Proposer's validator index.
    pub proposer: u16,
    /// Parent hash (hex).
    pub parent_hash: String,
    /// Merkle root of the transactions (hex).
    pub payload_root: String,
    /// State root after the block (hex).
    pub state_root: String,
    /// Transaction ids in order (hex).
    pub tx_ids: Vec<String>,
    /// Validator indexes that signed the certificate.
    pub qc_signers: Vec<u16>,
    /// The block's canonical encoding (hex): header and transactions.
    pub block: String,
    /// The certificate's canonical encoding (hex).
    pub qc: String,
}

/// A committee member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MemberView {
    /// Validator index.
    pub index: u16,
    /// BLS12-381 public key (48 bytes, hex).
    pub public_key: String,
    /// Operator (bank) name.
    pub operator: String,
}

/// The committee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CommitteeView {
    /// Epoch.
    pub epoch: u64,
    /// Chain id = SHA-256 of the genesis encoding (hex); transactions must carry it.
    pub chain_id: String,
    /// Votes needed for a certificate (2f+1).
    pub quorum: usize,
    /// Members in index order.
    pub members: Vec<MemberView>,
    /// The genesis encoding (hex): what a light client is configured with.
    pub genesis: String,
}

/// Node status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NodeStatus {
    /// Chain id (hex).
    pub chain_id: String,
    /// This node's validator index (absent for a full node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<u16>,
    /// Height of the last committed block stored here.
    pub committed_height: u64,
    /// State root after it (hex).
    pub state_root: String,
    /// Current consensus view.
    pub view: u64,
    /// Transactions waiting in the mempool.
    pub mempool: usize,
    /// Whether the node is fetching old blocks from peers.
    pub catching_up: bool,
    /// Cursor of the last event stored here (a new follower starts after it).
    #[serde(default)]
    pub last_event: u64,
}
