//! The JSON shapes of the node's HTTP API, shared by the server and the Rust client. Their
//! fields are typed values (ids, asset codes, `htlc`'s conditions, fulfillments and escrow
//! status, failure codes); text exists only in their JSON form, made and read by serde here:
//! byte strings are lower-case hex (ids, keys, hashes) or base64 (memos), amounts are integers
//! of minor units. The OpenAPI document describes that JSON form: the ids' schemas
//! ([`super::openapi`]) and the fields' patterns say which hex each string is.

use std::fmt;
use std::str::FromStr;

use htlc::{Condition, EscrowStatus, Fulfillment};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;

use crate::state::{AccountId, Anchor, AssetCode, Escrow, EscrowId, FailCode, TxId};

/// A signed transaction to submit.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SubmitRequest {
    /// The transaction's canonical bytes, hex.
    #[schema(pattern = "^([0-9a-fA-F]{2})+$")]
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
    pub id: TxId,
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
    pub reason: Option<FailCode>,
    /// Failure in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl TxStatus {
    /// A transaction in the mempool, not yet committed.
    pub fn pending(id: TxId) -> Self {
        Self {
            id,
            status: TxState::Pending,
            height: None,
            index: None,
            kind: None,
            reason: None,
            detail: None,
        }
    }

    /// Whether the status will not change any more.
    pub fn is_committed(&self) -> bool {
        self.status != TxState::Pending
    }
}

/// One asset balance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AssetBalance {
    /// Asset code.
    pub asset: AssetCode,
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
    pub account: AccountId,
    /// Last nonce used (the next transaction needs a greater one).
    pub nonce: u64,
    /// Non-zero balances.
    pub balances: Vec<AssetBalance>,
}

/// An asset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AssetView {
    /// Code.
    pub code: AssetCode,
    /// Issuer account.
    pub issuer: AccountId,
    /// Decimal places of a minor unit.
    pub scale: u8,
    /// Minor units in existence.
    pub supply: u64,
}

/// An escrow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EscrowView {
    /// Escrow id (hex).
    pub id: EscrowId,
    /// Payer account.
    pub payer: AccountId,
    /// Payee account.
    pub payee: AccountId,
    /// Asset code.
    pub asset: AssetCode,
    /// Minor units.
    pub amount: u64,
    /// SHA-256 hash lock (hex).
    pub condition: Condition,
    /// Block time from which it can only be refunded (ms since the Unix epoch).
    pub expires_at_ms: u64,
    /// The payer's memo, base64.
    #[serde(with = "base64_bytes")]
    #[schema(value_type = String, format = Byte)]
    pub memo: Vec<u8>,
    /// The payer's reference (16 bytes, hex).
    #[serde(with = "hex_array")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{32}$")]
    pub reference: [u8; 16],
    /// prepared, fulfilled, rejected or expired.
    pub status: EscrowStatus,
    /// The preimage, once fulfilled (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfillment: Option<Fulfillment>,
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
        Self {
            id: e.id,
            payer: e.payer,
            payee: e.payee,
            asset: e.asset.clone(),
            amount: e.amount(),
            condition: *e.lock.condition(),
            expires_at_ms: e.expires_at_ms(),
            memo: e.memo.clone(),
            reference: e.reference,
            status: e.status(),
            fulfillment: e.lock.fulfillment().copied(),
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
    pub id: TxId,
    /// Namespace.
    pub namespace: String,
    /// Merkle root (hex).
    #[serde(with = "hex_array")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub root: [u8; 32],
    /// Items covered.
    pub items: u64,
    /// Submitting account.
    pub submitter: AccountId,
    /// Height of its block.
    pub height: u64,
    /// Batch number within (submitter, namespace), from 1 (0: recorded before anchors had
    /// sequences).
    #[serde(default)]
    pub sequence: u64,
    /// Batch hash of the previous batch of (submitter, namespace) (hex; zeros for batch 1).
    #[serde(default, with = "hex_array")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub previous: [u8; 32],
    /// This batch's hash (hex), which the next batch names as `previous`.
    #[serde(default, with = "hex_array")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub batch: [u8; 32],
}

impl From<&Anchor> for AnchorView {
    fn from(a: &Anchor) -> Self {
        Self {
            id: TxId(a.id),
            namespace: a.namespace.clone(),
            root: a.root,
            items: a.items,
            submitter: a.submitter,
            height: a.height,
            sequence: a.sequence,
            previous: a.previous,
            batch: a.batch,
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
    pub tx_id: TxId,
    /// escrow_created, escrow_fulfilled, escrow_rejected, escrow_refunded or anchored.
    pub kind: FeedKind,
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
    #[serde(with = "hex_array")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub hash: [u8; 32],
    /// Consensus view.
    pub view: u64,
    /// Agreed timestamp, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// Proposer's validator index.
    pub proposer: u16,
    /// Parent hash (hex).
    #[serde(with = "hex_array")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub parent_hash: [u8; 32],
    /// Merkle root of the transactions (hex).
    #[serde(with = "hex_array")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub payload_root: [u8; 32],
    /// State root after the block (hex).
    #[serde(with = "hex_array")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub state_root: [u8; 32],
    /// Transaction ids in order (hex).
    pub tx_ids: Vec<TxId>,
    /// Validator indexes that signed the certificate.
    pub qc_signers: Vec<u16>,
    /// The block's canonical encoding (hex): header and transactions.
    #[serde(with = "hex_bytes")]
    #[schema(value_type = String, pattern = "^([0-9a-f]{2})*$")]
    pub block: Vec<u8>,
    /// The certificate's canonical encoding (hex).
    #[serde(with = "hex_bytes")]
    #[schema(value_type = String, pattern = "^([0-9a-f]{2})*$")]
    pub qc: Vec<u8>,
}

/// A committee member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MemberView {
    /// Validator index.
    pub index: u16,
    /// BLS12-381 public key (48 bytes, hex).
    #[serde(with = "hex_bytes")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{96}$")]
    pub public_key: Vec<u8>,
    /// Operator (bank) name.
    pub operator: String,
}

/// The committee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CommitteeView {
    /// Epoch.
    pub epoch: u64,
    /// Chain id = SHA-256 of the genesis encoding (hex); transactions must carry it.
    #[serde(with = "hex_array")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub chain_id: [u8; 32],
    /// Votes needed for a certificate (2f+1).
    pub quorum: usize,
    /// Members in index order.
    pub members: Vec<MemberView>,
    /// The genesis encoding (hex): what a light client is configured with.
    #[serde(with = "hex_bytes")]
    #[schema(value_type = String, pattern = "^([0-9a-f]{2})*$")]
    pub genesis: Vec<u8>,
}

/// Node status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NodeStatus {
    /// Chain id (hex).
    #[serde(with = "hex_array")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub chain_id: [u8; 32],
    /// This node's validator index (absent for a full node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<u16>,
    /// Height of the last committed block stored here.
    pub committed_height: u64,
    /// State root after it (hex).
    #[serde(with = "hex_array")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub state_root: [u8; 32],
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

/// What a feed entry reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    /// An escrow was created (its status is `prepared`).
    EscrowCreated,
    /// An escrow was fulfilled (the view carries the preimage).
    EscrowFulfilled,
    /// The payee rejected an escrow.
    EscrowRejected,
    /// An expired escrow was refunded (its status is `expired`).
    EscrowRefunded,
    /// A Merkle root was anchored.
    Anchored,
}

impl FeedKind {
    /// Every kind.
    pub const ALL: [FeedKind; 5] = [
        FeedKind::EscrowCreated,
        FeedKind::EscrowFulfilled,
        FeedKind::EscrowRejected,
        FeedKind::EscrowRefunded,
        FeedKind::Anchored,
    ];

    /// The entry for an escrow that has just taken the step to `status`.
    pub fn of_escrow(status: EscrowStatus) -> Self {
        match status {
            EscrowStatus::Prepared => FeedKind::EscrowCreated,
            EscrowStatus::Fulfilled => FeedKind::EscrowFulfilled,
            EscrowStatus::Rejected => FeedKind::EscrowRejected,
            EscrowStatus::Expired => FeedKind::EscrowRefunded,
        }
    }

    /// The name (the same as its JSON form; also how the node stores it).
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::EscrowCreated => "escrow_created",
            FeedKind::EscrowFulfilled => "escrow_fulfilled",
            FeedKind::EscrowRejected => "escrow_rejected",
            FeedKind::EscrowRefunded => "escrow_refunded",
            FeedKind::Anchored => "anchored",
        }
    }
}

impl fmt::Display for FeedKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no [`FeedKind`]'s.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown feed entry kind {0:?}")]
pub struct UnknownFeedKind(pub String);

impl FromStr for FeedKind {
    type Err = UnknownFeedKind;
    /// The inverse of [`FeedKind::as_str`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FeedKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownFeedKind(s.to_owned()))
    }
}

/// The stable `code` of the node's problem documents (the list is on
/// `node::http::Problem::code`). Clients match on these values, never on the text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ProblemCode {
    /// A request or transaction that does not decode (400).
    Malformed,
    /// A transaction refused before the mempool for a rule of the state machine (422):
    /// `bad_signature`, `wrong_chain`, `nonce_reused`, `nonce_too_far_ahead`,
    /// `insufficient_funds`.
    Rule(FailCode),
    /// A signer with no account whose transaction would fail (422).
    UnknownSigner,
    /// The client or the signing account is over its rate (429).
    RateLimited,
    /// Nothing with this id, or no such endpoint (404).
    NotFound,
    /// The node cannot take it now (503).
    Unavailable,
    /// The block is committed but its finality evidence is not stored yet (409): retry.
    NotFinalYet,
    /// Storage failed (500).
    Internal,
    /// A code this client does not know (a newer node's), or `unexpected` for an answer that
    /// was no problem document.
    Other(String),
}

impl ProblemCode {
    /// The name, as the JSON carries it.
    pub fn as_str(&self) -> &str {
        match self {
            ProblemCode::Malformed => "malformed",
            ProblemCode::Rule(code) => code.as_str(),
            ProblemCode::UnknownSigner => "unknown_signer",
            ProblemCode::RateLimited => "rate_limited",
            ProblemCode::NotFound => "not_found",
            ProblemCode::Unavailable => "unavailable",
            ProblemCode::NotFinalYet => "not_final_yet",
            ProblemCode::Internal => "internal",
            ProblemCode::Other(code) => code,
        }
    }
}

impl From<FailCode> for ProblemCode {
    /// A rule as a problem code; undecodable input is `malformed` whichever way it is found.
    fn from(code: FailCode) -> Self {
        match code {
            FailCode::Malformed => ProblemCode::Malformed,
            code => ProblemCode::Rule(code),
        }
    }
}

impl FromStr for ProblemCode {
    type Err = std::convert::Infallible;
    /// The inverse of [`ProblemCode::as_str`]; an unknown name is kept as [`ProblemCode::Other`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "unknown_signer" => ProblemCode::UnknownSigner,
            "rate_limited" => ProblemCode::RateLimited,
            "not_found" => ProblemCode::NotFound,
            "unavailable" => ProblemCode::Unavailable,
            "not_final_yet" => ProblemCode::NotFinalYet,
            "internal" => ProblemCode::Internal,
            s => s
                .parse::<FailCode>()
                .map_or_else(|_| ProblemCode::Other(s.to_owned()), ProblemCode::from),
        })
    }
}

impl fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ProblemCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ProblemCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        let Ok(code) = text.parse();
        Ok(code)
    }
}

/// Byte strings as lower-case hex.
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        hex::decode(text.as_ref()).map_err(serde::de::Error::custom)
    }
}

/// Fixed-size byte strings as lower-case hex of exactly that many bytes.
mod hex_array {
    use serde::{Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer, const N: usize>(
        bytes: &[u8; N],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<[u8; N], D::Error> {
        let bytes = super::hex_bytes::deserialize(deserializer)?;
        <[u8; N]>::try_from(bytes)
            .map_err(|b| serde::de::Error::custom(format!("expected {N} bytes, got {}", b.len())))
    }
}

/// Byte strings as standard base64 (with padding).
mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        STANDARD.decode(text.as_ref()).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_kinds_read_back_as_written_and_name_each_escrow_step() {
        for kind in FeedKind::ALL {
            assert_eq!(kind.as_str().parse(), Ok(kind));
            let json = format!("\"{kind}\"");
            assert_eq!(serde_json::to_string(&kind).unwrap(), json);
            assert_eq!(serde_json::from_str::<FeedKind>(&json).unwrap(), kind);
        }
        let steps: Vec<FeedKind> = EscrowStatus::ALL.into_iter().map(FeedKind::of_escrow).collect();
        assert_eq!(steps, FeedKind::ALL[..4]);
        assert!("escrow_melted".parse::<FeedKind>().is_err());
    }

    #[test]
    fn problem_codes_name_rules_by_their_failure_code() {
        for code in FailCode::ALL {
            let problem = ProblemCode::from(code);
            assert_eq!(problem.as_str(), code.as_str());
            assert_eq!(problem.as_str().parse(), Ok(problem.clone()));
        }
        assert_eq!(ProblemCode::from(FailCode::Malformed), ProblemCode::Malformed);
        let json = serde_json::to_string(&ProblemCode::Rule(FailCode::NonceReused)).unwrap();
        assert_eq!(json, r#""nonce_reused""#);
        assert_eq!(
            serde_json::from_str::<ProblemCode>(&json).unwrap(),
            ProblemCode::Rule(FailCode::NonceReused)
        );
    }
}
