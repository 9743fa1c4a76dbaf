//! Signed transactions: the canonical encoding (what is signed, hashed and carried in blocks),
//! signing, and signature checks.
//!
//! ```text
//! version u8 (=1) | chain id [32] | signer [32] | nonce u64 | op tag u8 | op fields | signature [64]
//! ```
//! The signature is Ed25519 by the signer over `"CYPHERLINK-TX-V1" || every byte before it`.
//! The chain id (SHA-256 of the genesis) keeps a transaction from being replayed on another
//! chain; the nonce, used at most once per account, keeps it from being replayed here.
//! A transaction's id is its Merkle leaf hash ([`crate::merkle::leaf_hash`]), the same id the
//! consensus core uses.
//!
//! Signature rule (consensus-critical): a signature is valid iff ed25519-dalek's batch equation
//! accepts it (the cofactored equation). Batches and single checks (a batch of one) therefore
//! always agree, so a node's verdict does not depend on which transactions it happened to verify
//! together; a cache of verdicts is only a cache.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use htlc::{Condition, Fulfillment};

use crate::codec::{Decode, Encode, Reader, put_var_bytes};
use crate::error::{Error, Result};
use crate::merkle::leaf_hash;
use crate::state::types::{
    AccountId, AssetCode, EscrowId, MAX_MEMO_LEN, MAX_NAMESPACE_LEN, MAX_REJECT_REASON_LEN,
};

/// Domain tag of transaction signatures.
pub const TX_SIGNING_TAG: &[u8] = b"CYPHERLINK-TX-V1";
/// Encoding version.
pub const TX_VERSION: u8 = 1;
/// Length of a signature.
pub const TX_SIGNATURE_LEN: usize = 64;

/// What a transaction does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Create an asset whose issuer is the signer.
    CreateAsset {
        /// Its code (unique on the chain).
        code: AssetCode,
        /// Decimal places of a minor unit.
        scale: u8,
    },
    /// Issuer only: create `amount` and credit it to `to`.
    Issue {
        /// Asset.
        asset: AssetCode,
        /// Receiving account.
        to: AccountId,
        /// Minor units.
        amount: u64,
    },
    /// Issuer only: destroy `amount` from the issuer's own balance.
    Redeem {
        /// Asset.
        asset: AssetCode,
        /// Minor units.
        amount: u64,
    },
    /// Move funds from the signer to `to`.
    Transfer {
        /// Asset.
        asset: AssetCode,
        /// Receiving account.
        to: AccountId,
        /// Minor units.
        amount: u64,
    },
    /// Lock funds of the signer (the payer) for `payee` under a hash lock until `expires_at_ms`.
    EscrowCreate {
        /// Payer-chosen reference; the escrow id derives from it.
        reference: [u8; 16],
        /// Asset.
        asset: AssetCode,
        /// Who gets the funds with the preimage.
        payee: AccountId,
        /// Minor units.
        amount: u64,
        /// SHA-256 of the preimage.
        condition: Condition,
        /// Block time from which fulfilment is refused and refund allowed.
        expires_at_ms: u64,
        /// Opaque bytes for the payee.
        memo: Vec<u8>,
    },
    /// Release an escrow to its payee with the preimage (anyone may send it).
    EscrowFulfill {
        /// Which escrow.
        escrow: EscrowId,
        /// The preimage.
        fulfillment: Fulfillment,
    },
    /// Payee only, before expiry: decline, funds back to the payer.
    EscrowReject {
        /// Which escrow.
        escrow: EscrowId,
        /// Why, for the payer (UTF-8, at most [`MAX_REJECT_REASON_LEN`] bytes; may be empty).
        /// Connectors put the ILP error code first, e.g. `F05 condition does not match`.
        reason: String,
    },
    /// At or after expiry, anyone: funds back to the payer.
    EscrowRefund {
        /// Which escrow.
        escrow: EscrowId,
    },
    /// Record a Merkle root of off-chain items, as batch `sequence` of the signer's
    /// `namespace` (see [`crate::state::types::batch_hash`]).
    Anchor {
        /// What the items are.
        namespace: String,
        /// Their Merkle root.
        root: [u8; 32],
        /// How many items.
        items: u64,
        /// Batch number within (signer, namespace), from 1.
        sequence: u64,
        /// Batch hash of the previous batch of (signer, namespace); zeros for batch 1.
        previous: [u8; 32],
    },
}

/// A length-prefixed UTF-8 string of at most `max` bytes.
fn var_text(r: &mut Reader<'_>, what: &'static str, max: usize) -> Result<String> {
    let bytes = r.var_bytes(what, max)?;
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| Error::Decode { what, at: 0 })
}

/// The unsigned part of a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxBody {
    /// SHA-256 of the chain's genesis.
    pub chain_id: [u8; 32],
    /// Signing account.
    pub signer: AccountId,
    /// Strictly above the signer's last nonce.
    pub nonce: u64,
    /// The operation.
    pub op: Op,
}

/// A decoded transaction with its signature and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transaction {
    /// What is signed.
    pub body: TxBody,
    /// Ed25519 signature.
    pub signature: [u8; TX_SIGNATURE_LEN],
    /// Merkle leaf hash of the encoding.
    pub id: [u8; 32],
    signed_len: usize,
}

const OP_CREATE_ASSET: u8 = 1;
const OP_ISSUE: u8 = 2;
const OP_REDEEM: u8 = 3;
const OP_TRANSFER: u8 = 4;
const OP_ESCROW_CREATE: u8 = 5;
const OP_ESCROW_FULFILL: u8 = 6;
const OP_ESCROW_REJECT: u8 = 7;
const OP_ESCROW_REFUND: u8 = 8;
const OP_ANCHOR: u8 = 9;

impl Op {
    /// Short name, as the API shows it.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::CreateAsset { .. } => "create_asset",
            Op::Issue { .. } => "issue",
            Op::Redeem { .. } => "redeem",
            Op::Transfer { .. } => "transfer",
            Op::EscrowCreate { .. } => "escrow_create",
            Op::EscrowFulfill { .. } => "escrow_fulfill",
            Op::EscrowReject { .. } => "escrow_reject",
            Op::EscrowRefund { .. } => "escrow_refund",
            Op::Anchor { .. } => "anchor",
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Op::CreateAsset { code, scale } => {
                out.push(OP_CREATE_ASSET);
                code.encode(out);
                out.push(*scale);
            }
            Op::Issue { asset, to, amount } => {
                out.push(OP_ISSUE);
                asset.encode(out);
                out.extend_from_slice(&to.0);
                out.extend_from_slice(&amount.to_be_bytes());
            }
            Op::Redeem { asset, amount } => {
                out.push(OP_REDEEM);
                asset.encode(out);
                out.extend_from_slice(&amount.to_be_bytes());
            }
            Op::Transfer { asset, to, amount } => {
                out.push(OP_TRANSFER);
                asset.encode(out);
                out.extend_from_slice(&to.0);
                out.extend_from_slice(&amount.to_be_bytes());
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
                out.push(OP_ESCROW_CREATE);
                out.extend_from_slice(reference);
                asset.encode(out);
                out.extend_from_slice(&payee.0);
                out.extend_from_slice(&amount.to_be_bytes());
                out.extend_from_slice(condition.as_bytes());
                out.extend_from_slice(&expires_at_ms.to_be_bytes());
                put_var_bytes(out, memo);
            }
            Op::EscrowFulfill { escrow, fulfillment } => {
                out.push(OP_ESCROW_FULFILL);
                out.extend_from_slice(&escrow.0);
                out.extend_from_slice(fulfillment.as_bytes());
            }
            Op::EscrowReject { escrow, reason } => {
                out.push(OP_ESCROW_REJECT);
                out.extend_from_slice(&escrow.0);
                put_var_bytes(out, reason.as_bytes());
            }
            Op::EscrowRefund { escrow } => {
                out.push(OP_ESCROW_REFUND);
                out.extend_from_slice(&escrow.0);
            }
            Op::Anchor {
                namespace,
                root,
                items,
                sequence,
                previous,
            } => {
                out.push(OP_ANCHOR);
                put_var_bytes(out, namespace.as_bytes());
                out.extend_from_slice(root);
                out.extend_from_slice(&items.to_be_bytes());
                out.extend_from_slice(&sequence.to_be_bytes());
                out.extend_from_slice(previous);
            }
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(match r.u8("op tag")? {
            OP_CREATE_ASSET => Op::CreateAsset {
                code: AssetCode::decode(r)?,
                scale: {
                    let s = r.u8("scale")?;
                    if s > crate::state::types::MAX_SCALE {
                        return Err(Error::Malformed {
                            what: "create asset",
                            why: "scale above 18",
                        });
                    }
                    s
                },
            },
            OP_ISSUE => Op::Issue {
                asset: AssetCode::decode(r)?,
                to: AccountId(r.bytes32("to")?),
                amount: r.u64("amount")?,
            },
            OP_REDEEM => Op::Redeem {
                asset: AssetCode::decode(r)?,
                amount: r.u64("amount")?,
            },
            OP_TRANSFER => Op::Transfer {
                asset: AssetCode::decode(r)?,
                to: AccountId(r.bytes32("to")?),
                amount: r.u64("amount")?,
            },
            OP_ESCROW_CREATE => {
                let mut reference = [0u8; 16];
                reference.copy_from_slice(r.take(16, "reference")?);
                Op::EscrowCreate {
                    reference,
                    asset: AssetCode::decode(r)?,
                    payee: AccountId(r.bytes32("payee")?),
                    amount: r.u64("amount")?,
                    condition: Condition::from_bytes(r.bytes32("condition")?),
                    expires_at_ms: r.u64("expiry")?,
                    memo: r.var_bytes("memo", MAX_MEMO_LEN)?.to_vec(),
                }
            }
            OP_ESCROW_FULFILL => Op::EscrowFulfill {
                escrow: EscrowId(r.bytes32("escrow")?),
                fulfillment: Fulfillment::from_bytes(r.bytes32("fulfillment")?),
            },
            OP_ESCROW_REJECT => {
                let escrow = EscrowId(r.bytes32("escrow")?);
                let reason = var_text(r, "reject reason", MAX_REJECT_REASON_LEN)?;
                Op::EscrowReject { escrow, reason }
            }
            OP_ESCROW_REFUND => Op::EscrowRefund {
                escrow: EscrowId(r.bytes32("escrow")?),
            },
            OP_ANCHOR => {
                let namespace = var_text(r, "namespace", MAX_NAMESPACE_LEN)?;
                if namespace.is_empty() {
                    return Err(Error::Malformed {
                        what: "anchor",
                        why: "empty namespace",
                    });
                }
                Op::Anchor {
                    namespace,
                    root: r.bytes32("root")?,
                    items: r.u64("items")?,
                    sequence: r.u64("sequence")?,
                    previous: r.bytes32("previous")?,
                }
            }
            _ => {
                return Err(Error::Decode {
                    what: "op tag",
                    at: 0,
                });
            }
        })
    }

    /// Accounts other than the signer that the operation names (for the by-account index).
    pub fn counterparty(&self) -> Option<AccountId> {
        match self {
            Op::Issue { to, .. } | Op::Transfer { to, .. } => Some(*to),
            Op::EscrowCreate { payee, .. } => Some(*payee),
            _ => None,
        }
    }
}

impl TxBody {
    /// The signed bytes (everything but the signature).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        out.push(TX_VERSION);
        out.extend_from_slice(&self.chain_id);
        out.extend_from_slice(&self.signer.0);
        out.extend_from_slice(&self.nonce.to_be_bytes());
        self.op.encode(&mut out);
        out
    }

    /// Signs with `key` (whose public key must be `signer`) and returns the transaction bytes.
    pub fn sign(&self, key: &SigningKey) -> Vec<u8> {
        let mut bytes = self.encode();
        let sig = key.sign(&signing_message(&bytes));
        bytes.extend_from_slice(&sig.to_bytes());
        bytes
    }
}

fn signing_message(signed: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(TX_SIGNING_TAG.len() + signed.len());
    m.extend_from_slice(TX_SIGNING_TAG);
    m.extend_from_slice(signed);
    m
}

/// The account of an Ed25519 signing key.
pub fn account_of(key: &SigningKey) -> AccountId {
    AccountId(key.verifying_key().to_bytes())
}

impl Transaction {
    /// Decodes transaction bytes (length-limited by [`crate::codec::MAX_TX_BYTES`]; never
    /// panics). The signature is not checked here.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > crate::codec::MAX_TX_BYTES {
            return Err(Error::TooLong {
                what: "transaction",
                len: bytes.len(),
                max: crate::codec::MAX_TX_BYTES,
            });
        }
        if bytes.len() < 1 + 32 + 32 + 8 + 1 + TX_SIGNATURE_LEN {
            return Err(Error::Decode {
                what: "transaction",
                at: bytes.len(),
            });
        }
        let signed_len = bytes.len() - TX_SIGNATURE_LEN;
        let mut r = Reader::new(&bytes[..signed_len]);
        if r.u8("tx version")? != TX_VERSION {
            return Err(Error::Decode {
                what: "tx version",
                at: 0,
            });
        }
        let body = TxBody {
            chain_id: r.bytes32("chain id")?,
            signer: AccountId(r.bytes32("signer")?),
            nonce: r.u64("nonce")?,
            op: Op::decode(&mut r)?,
        };
        if r.remaining() != 0 {
            return Err(Error::TrailingBytes { extra: r.remaining() });
        }
        let mut signature = [0u8; TX_SIGNATURE_LEN];
        signature.copy_from_slice(&bytes[signed_len..]);
        Ok(Self {
            body,
            signature,
            id: leaf_hash(bytes),
            signed_len,
        })
    }

    /// Length of the signed part of the encoding.
    pub fn signed_len(&self) -> usize {
        self.signed_len
    }
}

/// Checks the signatures of `txs` (each with its encoding) under the chain's rule (see the
/// module doc): one batch equation for all, and only if that fails, one per transaction.
pub fn verify_signatures(txs: &[(&Transaction, &[u8])]) -> Vec<bool> {
    verify_signatures_with(txs, |k| VerifyingKey::from_bytes(k).ok())
}

/// [`verify_signatures`] with a source of decoded keys (decoding a key costs about a third of
/// a verification, and accounts sign many transactions).
pub fn verify_signatures_with(
    txs: &[(&Transaction, &[u8])],
    key_of: impl Fn(&[u8; 32]) -> Option<VerifyingKey>,
) -> Vec<bool> {
    let mut ok = vec![false; txs.len()];
    let mut idx = Vec::with_capacity(txs.len());
    let mut msgs = Vec::with_capacity(txs.len());
    let mut sigs = Vec::with_capacity(txs.len());
    let mut keys = Vec::with_capacity(txs.len());
    for (i, (tx, bytes)) in txs.iter().enumerate() {
        let Some(key) = key_of(&tx.body.signer.0) else {
            continue;
        };
        idx.push(i);
        msgs.push(signing_message(&bytes[..tx.signed_len]));
        sigs.push(Signature::from_bytes(&tx.signature));
        keys.push(key);
    }
    if idx.is_empty() {
        return ok;
    }
    let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
    if ed25519_dalek::verify_batch(&refs, &sigs, &keys).is_ok() {
        for i in idx {
            ok[i] = true;
        }
        return ok;
    }
    for (k, i) in idx.into_iter().enumerate() {
        ok[i] = ed25519_dalek::verify_batch(&refs[k..=k], &sigs[k..=k], &keys[k..=k]).is_ok();
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u8) -> SigningKey {
        SigningKey::from_bytes(&[i; 32])
    }

    #[test]
    fn round_trips_and_signatures_check_alone_and_in_batches() {
        let k = key(1);
        let body = TxBody {
            chain_id: [7; 32],
            signer: account_of(&k),
            nonce: 3,
            op: Op::EscrowCreate {
                reference: [1; 16],
                asset: AssetCode::new("DCEP").unwrap(),
                payee: account_of(&key(2)),
                amount: 2000,
                condition: Condition::from_bytes([9; 32]),
                expires_at_ms: 123,
                memo: b"prepare".to_vec(),
            },
        };
        let bytes = body.sign(&k);
        let tx = Transaction::decode(&bytes).unwrap();
        assert_eq!(tx.body, body);
        assert_eq!(tx.id, leaf_hash(&bytes));
        let mut forged = bytes.clone();
        let n = forged.len();
        forged[n - 70] ^= 1; // inside the signed part
        let ftx = Transaction::decode(&forged).unwrap();
        assert_eq!(verify_signatures(&[(&tx, &bytes)]), vec![true]);
        assert_eq!(
            verify_signatures(&[(&tx, &bytes), (&ftx, &forged), (&tx, &bytes)]),
            vec![true, false, true]
        );
        assert!(Transaction::decode(&bytes[..bytes.len() - 1]).is_err());
        let mut extra = body.encode();
        extra.push(0);
        extra.extend_from_slice(&[0; 64]);
        assert!(Transaction::decode(&extra).is_err());
    }

    #[test]
    fn asset_codes_keep_their_wire_form() {
        use crate::codec::{decode_exact, encode_to_vec};
        // A u32 length, then the bytes, as before `htlc`'s rule (with `/`) became the chain's.
        let mut out = Vec::new();
        Op::CreateAsset {
            code: AssetCode::new("DCEP").unwrap(),
            scale: 2,
        }
        .encode(&mut out);
        assert_eq!(out, [&[1u8, 0, 0, 0, 4][..], b"DCEP", &[2]].concat());
        let dcep = AssetCode::new("DC/EP").unwrap();
        assert_eq!(encode_to_vec(&dcep), [&[0u8, 0, 0, 5][..], b"DC/EP"].concat());
        assert_eq!(decode_exact::<AssetCode>(&encode_to_vec(&dcep)).unwrap(), dcep);
        let longest = AssetCode::new("A".repeat(32)).unwrap();
        assert_eq!(
            decode_exact::<AssetCode>(&encode_to_vec(&longest)).unwrap(),
            longest
        );
        let too_long = [&[0u8, 0, 0, 33][..], &[b'A'; 33]].concat();
        assert!(matches!(
            decode_exact::<AssetCode>(&too_long),
            Err(Error::TooLong { .. })
        ));
        let spaced = [&[0u8, 0, 0, 3][..], b"E U"].concat();
        assert!(matches!(
            decode_exact::<AssetCode>(&spaced),
            Err(Error::Malformed { .. })
        ));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics_and_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(tx) = Transaction::decode(&bytes) {
                let mut again = tx.body.encode();
                again.extend_from_slice(&tx.signature);
                prop_assert_eq!(again, bytes);
            }
        }
    }
}
