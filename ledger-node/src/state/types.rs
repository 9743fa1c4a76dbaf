//! The values the chain's state is made of: accounts (Ed25519 keys), assets, escrows, anchors.
//! Asset codes and the escrow's hash-time lock are `htlc`'s, the vocabulary every ledger shares;
//! this module adds what only the chain has (keys as accounts, derived ids, heights) and the
//! canonical encodings its state root is hashed from.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

pub use htlc::AssetCode;
pub use htlc::money::{MAX_ASSET_CODE_LEN, MAX_SCALE};
use htlc::{EscrowStatus, Timestamp};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::codec::{Decode, Encode, Reader, put_len_u32, put_var_bytes};
use crate::crypto::sha256;
use crate::error::{Error, Result};

/// Largest escrow memo (an ILP Prepare fits: its data alone may be 32 KiB).
pub const MAX_MEMO_LEN: usize = 40 * 1024;
/// Longest anchor namespace.
pub const MAX_NAMESPACE_LEN: usize = 64;
/// The longest reason a payee may give when rejecting an escrow.
pub const MAX_REJECT_REASON_LEN: usize = 512;

/// Lower-case hex in `Display` and JSON, 64 hex characters in `FromStr` and JSON, for the
/// 32-byte ids (the API's strings are made and read only here).
macro_rules! hex_id {
    ($ty:ident, $what:literal) => {
        impl $ty {
            /// Lower-case hex.
            pub fn to_hex(&self) -> String {
                hex_of(&self.0)
            }
            /// Parses 64 hex characters.
            pub fn from_hex(s: &str) -> Option<Self> {
                parse_hex32(s).map(Self)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl FromStr for $ty {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                Self::from_hex(s).ok_or(Error::Malformed {
                    what: $what,
                    why: "expected 64 hex characters",
                })
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.to_hex())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// An account: the Ed25519 public key that signs its transactions. Accounts need no
/// registration; one exists as soon as it holds something or has signed something.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct AccountId(pub [u8; 32]);

hex_id!(AccountId, "account");

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Account({})", &self.to_hex()[..12])
    }
}

/// A transaction's id: the Merkle leaf hash of its bytes ([`crate::merkle::leaf_hash`]), the
/// id consensus, receipts and the API all know it by.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TxId(pub [u8; 32]);

hex_id!(TxId, "transaction id");

impl fmt::Debug for TxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tx({})", &self.to_hex()[..12])
    }
}

impl Encode for AssetCode {
    fn encode(&self, out: &mut Vec<u8>) {
        put_var_bytes(out, self.as_str().as_bytes());
    }
}

impl Decode for AssetCode {
    /// A u32 length, at most [`MAX_ASSET_CODE_LEN`], then the code's bytes.
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let b = r.var_bytes("asset code", MAX_ASSET_CODE_LEN)?;
        let s = std::str::from_utf8(b).map_err(|_| Error::Decode {
            what: "asset code",
            at: 0,
        })?;
        AssetCode::new(s).map_err(|_| Error::Malformed {
            what: "asset code",
            why: "1-32 characters of A-Z a-z 0-9 / : . _ -",
        })
    }
}

/// An escrow's id: `SHA-256("CYPHERLINK-ESCROW-V1" || payer || reference)`, so a payer that
/// retries with the same reference (e.g. a connector's transfer UUID) can never lock twice, and
/// can find its escrow without having kept anything but the reference.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct EscrowId(pub [u8; 32]);

impl EscrowId {
    /// The id of `payer`'s escrow with `reference`.
    pub fn derive(payer: &AccountId, reference: &[u8; 16]) -> Self {
        Self(sha256(&[b"CYPHERLINK-ESCROW-V1", &payer.0, reference]))
    }
}

hex_id!(EscrowId, "escrow id");

impl fmt::Debug for EscrowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Escrow({})", &self.to_hex()[..12])
    }
}

/// How far below the highest used nonce a transaction's nonce may be: clients that pipeline
/// transactions through several validators see them ordered differently than signed, so the
/// chain accepts any unused nonce within this window. Each nonce is still used at most once.
pub const NONCE_WINDOW: u64 = 64;

/// Rules of the state machine that every validator of a chain must apply alike, so they come
/// from the genesis (never from a node's own configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainParams {
    /// How far above an account's highest used nonce a transaction's nonce may be. Without a
    /// bound, one transaction with nonce 2^64 - 1 would leave the account only the
    /// [`NONCE_WINDOW`] nonces below it for the rest of its life.
    pub max_nonce_gap: u64,
    /// The longest an escrow may lock funds: its expiry at most this far beyond the time of
    /// the block that creates it. Without a bound an escrow expiring at 2^64 - 1 ms locks the
    /// payer's funds forever unless the payee acts.
    pub max_escrow_hold_ms: u64,
}

/// [`ChainParams::max_nonce_gap`] of a genesis that does not set it.
pub const DEFAULT_MAX_NONCE_GAP: u64 = 1_024;
/// [`ChainParams::max_escrow_hold_ms`] of a genesis that does not set it: seven days.
pub const DEFAULT_MAX_ESCROW_HOLD_MS: u64 = 7 * 24 * 3_600_000;

impl Default for ChainParams {
    fn default() -> Self {
        Self {
            max_nonce_gap: DEFAULT_MAX_NONCE_GAP,
            max_escrow_hold_ms: DEFAULT_MAX_ESCROW_HOLD_MS,
        }
    }
}

/// One account's state: the nonces it used and its balances.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Account {
    /// Highest nonce consumed.
    pub nonce: u64,
    /// Which of the [`NONCE_WINDOW`] nonces ending at `nonce` are used: bit i is `nonce - i`.
    pub used: u64,
    /// Minor units per asset (zero balances are removed).
    pub balances: BTreeMap<AssetCode, u64>,
}

impl Account {
    /// Whether `n` may still be used: not used yet, and within the window below the highest.
    pub fn nonce_is_fresh(&self, n: u64) -> bool {
        if n > self.nonce {
            return true;
        }
        let back = self.nonce - n;
        n > 0 && back < NONCE_WINDOW && self.used & (1u64 << back) == 0
    }

    /// Marks `n` used (callers check [`Account::nonce_is_fresh`] first).
    pub fn use_nonce(&mut self, n: u64) {
        if n > self.nonce {
            let shift = n - self.nonce;
            self.used = if shift >= NONCE_WINDOW {
                0
            } else {
                self.used << shift
            };
            self.used |= 1;
            self.nonce = n;
        } else {
            let back = self.nonce - n;
            if back < NONCE_WINDOW {
                self.used |= 1u64 << back;
            }
        }
    }

    /// Balance of `asset` (zero if none).
    pub fn balance(&self, asset: &AssetCode) -> u64 {
        self.balances.get(asset).copied().unwrap_or(0)
    }
    pub(crate) fn set_balance(&mut self, asset: &AssetCode, amount: u64) {
        if amount == 0 {
            self.balances.remove(asset);
        } else {
            self.balances.insert(asset.clone(), amount);
        }
    }
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.nonce.to_be_bytes());
        out.extend_from_slice(&self.used.to_be_bytes());
        put_len_u32(out, self.balances.len());
        for (a, v) in &self.balances {
            a.encode(out);
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
}

/// An asset: who may issue and redeem it, its scale, and how much of it exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetInfo {
    /// The only account that issues and redeems.
    pub issuer: AccountId,
    /// Decimal places of one minor unit.
    pub scale: u8,
    /// Minor units in existence: balances plus open escrows, always.
    pub supply: u64,
}

impl AssetInfo {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.issuer.0);
        out.push(self.scale);
        out.extend_from_slice(&self.supply.to_be_bytes());
    }
}

/// A hash-time-locked escrow: `htlc`'s [`htlc::Escrow`] (amount, condition, expiry, status,
/// preimage), which alone decides its steps, with what the chain adds around it. While
/// `Prepared` its amount is held by the chain (it is in no balance); fulfilment pays the payee,
/// reject and refund pay the payer back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Escrow {
    /// Its id.
    pub id: EscrowId,
    /// Who locked the funds (and gets them back on reject or refund).
    pub payer: AccountId,
    /// Who gets them with the preimage.
    pub payee: AccountId,
    /// The asset.
    pub asset: AssetCode,
    /// The lock and where it stands. Its expiry is block time (never before the Unix epoch:
    /// it is after the creating block's time).
    pub lock: htlc::Escrow,
    /// Opaque bytes for the payee (an ILP Prepare, typically).
    pub memo: Vec<u8>,
    /// The payer's reference it was derived from.
    pub reference: [u8; 16],
    /// Height of the block that created it.
    pub created_height: u64,
    /// Height of the block that closed it.
    pub closed_height: Option<u64>,
    /// Why the payee rejected it, as the payee said (rejected escrows only; may be empty).
    pub reject_reason: Option<String>,
}

pub(crate) fn status_code(s: EscrowStatus) -> u8 {
    match s {
        EscrowStatus::Prepared => 0,
        EscrowStatus::Fulfilled => 1,
        EscrowStatus::Rejected => 2,
        EscrowStatus::Expired => 3,
    }
}

/// Block time (ms since the Unix epoch) as an instant of the escrow state machine. `None`
/// past 9999-12-31, the last instant `htlc` (and an ILP packet) can express.
pub fn block_time(ms: u64) -> Option<Timestamp> {
    i64::try_from(ms)
        .ok()
        .and_then(|ms| Timestamp::from_unix_millis(ms).ok())
}

impl Escrow {
    /// Minor units locked.
    pub fn amount(&self) -> u64 {
        self.lock.amount()
    }

    /// Where it stands.
    pub fn status(&self) -> EscrowStatus {
        self.lock.status()
    }

    /// The expiry as block time (ms since the Unix epoch).
    pub fn expires_at_ms(&self) -> u64 {
        // Non-negative: see `lock`.
        u64::try_from(self.lock.expires_at().unix_millis()).unwrap_or(0)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id.0);
        out.extend_from_slice(&self.payer.0);
        out.extend_from_slice(&self.payee.0);
        self.asset.encode(out);
        out.extend_from_slice(&self.amount().to_be_bytes());
        out.extend_from_slice(self.lock.condition().as_bytes());
        out.extend_from_slice(&self.expires_at_ms().to_be_bytes());
        out.extend_from_slice(&crate::crypto::sha256(&[&self.memo]));
        out.extend_from_slice(&self.reference);
        out.push(status_code(self.status()));
        match self.lock.fulfillment() {
            None => out.push(0),
            Some(f) => {
                out.push(1);
                out.extend_from_slice(f.as_bytes());
            }
        }
        out.extend_from_slice(&self.created_height.to_be_bytes());
        out.extend_from_slice(&self.closed_height.unwrap_or(0).to_be_bytes());
        match &self.reject_reason {
            None => out.push(0),
            Some(r) => {
                out.push(1);
                out.extend_from_slice(&crate::crypto::sha256(&[r.as_bytes()]));
            }
        }
    }
}

/// A Merkle root of off-chain items recorded on the chain (identity attestations, journal
/// checkpoints). Its id is the id of the transaction that recorded it. Anchors of one
/// (submitter, namespace) form a hash chain: each names its batch number and the previous
/// batch's hash ([`batch_hash`]), so a gap, a reordering or a deleted batch cannot be recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    /// The recording transaction's id.
    pub id: [u8; 32],
    /// What the items are, e.g. `identity/attestations`.
    pub namespace: String,
    /// Merkle root of the items ([`crate::merkle`] rules).
    pub root: [u8; 32],
    /// How many items the root covers (informational).
    pub items: u64,
    /// Who recorded it.
    pub submitter: AccountId,
    /// Height of its block.
    pub height: u64,
    /// Batch number within (submitter, namespace), from 1.
    pub sequence: u64,
    /// Batch hash of the previous anchor of (submitter, namespace); zeros for batch 1.
    pub previous: [u8; 32],
    /// This batch's hash ([`batch_hash`]), which the next batch names as its `previous`.
    pub batch: [u8; 32],
}

impl Anchor {
    /// Where this anchor leaves its (submitter, namespace) chain.
    pub fn tip(&self) -> AnchorTip {
        AnchorTip {
            sequence: self.sequence,
            batch: self.batch,
        }
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id);
        put_var_bytes(out, self.namespace.as_bytes());
        out.extend_from_slice(&self.root);
        out.extend_from_slice(&self.items.to_be_bytes());
        out.extend_from_slice(&self.submitter.0);
        out.extend_from_slice(&self.height.to_be_bytes());
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.previous);
        out.extend_from_slice(&self.batch);
    }
}

/// The last anchored batch of one (submitter, namespace): what the next anchor must follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnchorTip {
    /// Its batch number.
    pub sequence: u64,
    /// Its batch hash.
    pub batch: [u8; 32],
}

/// Domain tag of [`batch_hash`].
pub const BATCH_HASH_TAG: &[u8] = b"CYPHERLINK-BATCH-V1";

/// The hash of an anchored batch: `SHA-256("CYPHERLINK-BATCH-V1" || signer || u16-BE namespace
/// length || namespace || sequence u64-BE || previous || root || items u64-BE)`. It binds the
/// batch to its place in its (signer, namespace) chain, so a certificate shows which batch it is.
pub fn batch_hash(
    signer: &AccountId,
    namespace: &str,
    sequence: u64,
    previous: &[u8; 32],
    root: &[u8; 32],
    items: u64,
) -> [u8; 32] {
    // Namespaces are at most MAX_NAMESPACE_LEN (64) bytes, far below u16::MAX.
    let len = u16::try_from(namespace.len()).unwrap_or(u16::MAX).to_be_bytes();
    sha256(&[
        BATCH_HASH_TAG,
        &signer.0,
        &len,
        namespace.as_bytes(),
        &sequence.to_be_bytes(),
        previous,
        root,
        &items.to_be_bytes(),
    ])
}

/// Lower-case hex of bytes.
pub fn hex_of(b: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(D[usize::from(x >> 4)] as char);
        s.push(D[usize::from(x & 15)] as char);
    }
    s
}

/// Parses exactly 64 hex characters.
pub fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in b.chunks(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = u8::try_from(hi * 16 + lo).ok()?; // two hex digits: always below 256
    }
    Some(out)
}
