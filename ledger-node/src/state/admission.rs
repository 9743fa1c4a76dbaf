//! Admission: what a node refuses before its mempool, judged against the committed state.
//!
//! Every transaction in a block is stored by every validator forever, failed ones too (their
//! receipts are part of the state root). Submission is unauthenticated, so without a filter
//! anyone could fill the chain for free with transactions signed by fresh keys that can only
//! fail. Admission tries each transaction on the committed state (followed by the earlier
//! transactions of the same request that it admitted) with the state machine itself, at the
//! node's time, and refuses:
//!
//! - a nonce already used or out of the window (`nonce_reused`): no later block can make it
//!   fresh again;
//! - a nonce more than the chain's `max_nonce_gap` above the highest used
//!   (`nonce_too_far_ahead`): execution would refuse it too; a client may have at most that many
//!   transactions in flight beyond what is committed;
//! - from a signer with no account in the committed state, anything that fails
//!   (`unknown_signer`). A newcomer can still do what succeeds without funds: create an
//!   asset, anchor, fulfil an open escrow with its preimage, reject one it is the payee of,
//!   refund an expired one;
//! - from a known signer, spending an asset it holds none of (`insufficient_funds`).
//!
//! Anything else a known signer sends is admitted even if it fails now: funds or an escrow may
//! arrive in a block not yet committed, so only execution can tell, and the node's rate limit
//! per account bounds what one signer pushes. Admission is a filter, not a rule of the chain:
//! the state machine still decides every transaction that reaches a block.

use crate::state::exec::{BlockContext, Changes, Layered, Scratch, StateView, apply_signed};
use crate::state::reason::FailReason;
use crate::state::tx::Transaction;
use crate::state::types::AccountId;

/// Why a node refuses a transaction before its mempool.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The signer has no account in the committed state and the transaction fails against it.
    #[error("signer {signer} has no account on the chain and this transaction would fail: {why}")]
    UnknownSigner {
        /// The signer.
        signer: AccountId,
        /// Why it would fail.
        why: FailReason,
    },
    /// A rule execution would apply too (`nonce_reused`, `nonce_too_far_ahead`), or spending
    /// an asset the signer holds none of (`insufficient_funds`).
    #[error(transparent)]
    Rule(FailReason),
}

impl Refusal {
    /// Stable machine-readable code (the API's problem code). A refusal for a rule of the
    /// state machine carries that rule's code, so a client handles both alike.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::UnknownSigner { .. } => "unknown_signer",
            Refusal::Rule(r) => r.code().as_str(),
        }
    }
}

/// What an admissible transaction would change, for [`Admission::accept`].
#[derive(Debug)]
pub struct Admissible(Option<Scratch>);

/// Judges the transactions of one request in order.
pub struct Admission<'a> {
    committed: &'a dyn StateView,
    admitted: Changes,
    ctx: BlockContext,
}

impl<'a> Admission<'a> {
    /// Judges against `committed` in the context `ctx` (the chain's id and rules; the node's
    /// time as the block time).
    pub fn new(committed: &'a dyn StateView, ctx: BlockContext) -> Self {
        Self {
            committed,
            admitted: Changes::default(),
            ctx,
        }
    }

    /// Whether `tx`, whose signature verified, is admitted. Later transactions see its effects
    /// only once it is [`Admission::accept`]ed (a caller that refuses it for another reason,
    /// such as a rate limit, does not accept it).
    pub fn judge(&self, tx: &Transaction) -> Result<Admissible, Refusal> {
        let view = Layered {
            layers: vec![&self.admitted],
            base: self.committed,
        };
        let (staged, outcome) = apply_signed(&view, &self.ctx, tx);
        let Err(why) = outcome else {
            return Ok(Admissible(staged));
        };
        // Known means known to the committed state: an account made by an earlier transaction
        // of the same request (an anchor, say) does not make its junk admissible.
        let known = self.committed.account(&tx.body.signer).is_some();
        match why {
            FailReason::NonceReused { .. } | FailReason::NonceTooFarAhead { .. } | FailReason::WrongChain => {
                Err(Refusal::Rule(why))
            }
            why if !known => Err(Refusal::UnknownSigner {
                signer: tx.body.signer,
                why,
            }),
            FailReason::InsufficientFunds { available: 0, .. } => Err(Refusal::Rule(why)),
            _ => Ok(Admissible(staged)),
        }
    }

    /// Records an admitted transaction's effects for the transactions after it.
    pub fn accept(&mut self, admitted: Admissible) {
        if let Some(s) = admitted.0 {
            s.fold_into(&mut self.admitted);
        }
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;
    use htlc::EscrowStatus;

    use super::*;
    use crate::state::ledger::State;
    use crate::state::tx::{Op, TxBody, account_of};
    use crate::state::types::{Account, AssetCode, AssetInfo, ChainParams, Escrow, EscrowId};
    use htlc::{Condition, Fulfillment, Timestamp};

    const CHAIN: [u8; 32] = [7; 32];
    const NOW: u64 = 1_000_000;

    fn key(i: u8) -> SigningKey {
        SigningKey::from_bytes(&[i + 40; 32])
    }
    fn acct(i: u8) -> AccountId {
        account_of(&key(i))
    }
    fn dcep() -> AssetCode {
        AssetCode::new("DCEP").unwrap()
    }
    fn tx(who: u8, nonce: u64, op: Op) -> Transaction {
        Transaction::decode(
            &TxBody {
                chain_id: CHAIN,
                signer: acct(who),
                nonce,
                op,
            }
            .sign(&key(who)),
        )
        .unwrap()
    }
    fn pay(who: u8, nonce: u64, to: u8, amount: u64) -> Transaction {
        tx(
            who,
            nonce,
            Op::Transfer {
                asset: dcep(),
                to: acct(to),
                amount,
            },
        )
    }
    fn ctx(params: ChainParams) -> BlockContext {
        BlockContext {
            chain_id: CHAIN,
            height: 10,
            timestamp_ms: NOW,
            params,
        }
    }
    fn code(r: Result<Admissible, Refusal>) -> &'static str {
        match r {
            Ok(_) => "admitted",
            Err(e) => e.code(),
        }
    }

    const PREIMAGE: Fulfillment = Fulfillment::from_bytes([3; 32]);

    /// Account 0 issues DCEP; account 1 holds 500 and has used nonces up to 5; account 2 holds
    /// nothing but has signed (nonce 1); account 1 has an open escrow to account 3 (expiring
    /// after NOW), an expired one to account 3, and a fulfilled one.
    fn committed() -> State {
        let mut s = State::genesis(&CHAIN);
        s.assets.insert(
            dcep(),
            AssetInfo {
                issuer: acct(0),
                scale: 2,
                supply: 2_500,
            },
        );
        let mut issuer = Account::default();
        issuer.use_nonce(4);
        s.accounts.insert(acct(0), issuer);
        let mut one = Account::default();
        for n in 1..=5 {
            one.use_nonce(n);
        }
        one.set_balance(&dcep(), 500);
        s.accounts.insert(acct(1), one);
        let mut two = Account::default();
        two.use_nonce(1);
        s.accounts.insert(acct(2), two);
        for (reference, expires_at_ms) in [([1; 16], NOW + 60_000), ([2; 16], NOW - 1)] {
            let e = escrow(reference, expires_at_ms);
            s.open.insert(e.id, e);
        }
        s.closed
            .insert(EscrowId::derive(&acct(1), &[9; 16]), EscrowStatus::Fulfilled);
        s
    }

    fn escrow(reference: [u8; 16], expires_at_ms: u64) -> Escrow {
        Escrow {
            id: EscrowId::derive(&acct(1), &reference),
            payer: acct(1),
            payee: acct(3),
            asset: dcep(),
            lock: htlc::Escrow::new(
                1_000,
                PREIMAGE.condition(),
                Timestamp::from_unix_millis(i64::try_from(expires_at_ms).unwrap()).unwrap(),
            ),
            memo: vec![],
            reference,
            created_height: 2,
            closed_height: None,
            reject_reason: None,
        }
    }

    #[test]
    fn an_unfunded_new_key_cannot_transfer_issue_redeem_or_lock() {
        let state = committed();
        let a = Admission::new(&state, ctx(ChainParams::default()));
        let escrow = Op::EscrowCreate {
            reference: [5; 16],
            asset: dcep(),
            payee: acct(1),
            amount: 1,
            condition: Condition::from_bytes([0; 32]),
            expires_at_ms: NOW + 1_000,
            memo: vec![],
        };
        let issue = Op::Issue {
            asset: dcep(),
            to: acct(9),
            amount: 1,
        };
        let redeem = Op::Redeem {
            asset: dcep(),
            amount: 1,
        };
        for t in [
            pay(9, 1, 1, 10),
            tx(9, 1, escrow),
            tx(9, 1, issue),
            tx(9, 1, redeem),
        ] {
            match a.judge(&t) {
                Err(Refusal::UnknownSigner { signer, .. }) => assert_eq!(signer, acct(9)),
                other => panic!("{} from a new key: {other:?}", t.body.op.kind()),
            }
        }
    }

    #[test]
    fn a_new_key_may_do_what_needs_no_funds() {
        let state = committed();
        let a = Admission::new(&state, ctx(ChainParams::default()));
        let open = EscrowId::derive(&acct(1), &[1; 16]);
        let expired = EscrowId::derive(&acct(1), &[2; 16]);
        let admitted = [
            // A new issuer (a central bank's first transaction).
            tx(
                9,
                1,
                Op::CreateAsset {
                    code: AssetCode::new("EUR").unwrap(),
                    scale: 2,
                },
            ),
            tx(
                9,
                1,
                Op::Anchor {
                    namespace: "identity/attestations".into(),
                    root: [1; 32],
                    items: 3,
                    sequence: 1,
                    previous: [0; 32],
                },
            ),
            // Anyone holding the preimage fulfils; the payee (account 3, never seen) rejects.
            tx(
                9,
                1,
                Op::EscrowFulfill {
                    escrow: open,
                    fulfillment: PREIMAGE,
                },
            ),
            tx(
                3,
                1,
                Op::EscrowReject {
                    escrow: open,
                    reason: "F99".into(),
                },
            ),
            // Anyone refunds an expired escrow.
            tx(9, 1, Op::EscrowRefund { escrow: expired }),
        ];
        for t in admitted {
            assert_eq!(code(a.judge(&t)), "admitted", "{}", t.body.op.kind());
        }
    }

    #[test]
    fn a_new_key_is_refused_what_fails_on_the_committed_state() {
        let state = committed();
        let a = Admission::new(&state, ctx(ChainParams::default()));
        let open = EscrowId::derive(&acct(1), &[1; 16]);
        let expired = EscrowId::derive(&acct(1), &[2; 16]);
        let fulfilled = EscrowId::derive(&acct(1), &[9; 16]);
        let refused = [
            tx(
                9,
                1,
                Op::CreateAsset {
                    code: dcep(),
                    scale: 2,
                },
            ),
            tx(
                9,
                1,
                Op::EscrowFulfill {
                    escrow: open,
                    fulfillment: Fulfillment::from_bytes([4; 32]),
                },
            ),
            tx(
                9,
                1,
                Op::EscrowFulfill {
                    escrow: expired,
                    fulfillment: PREIMAGE,
                },
            ),
            tx(9, 1, Op::EscrowRefund { escrow: open }),
            tx(9, 1, Op::EscrowRefund { escrow: fulfilled }),
            tx(
                9,
                1,
                Op::EscrowRefund {
                    escrow: EscrowId([8; 32]),
                },
            ),
            tx(
                9,
                1,
                Op::EscrowReject {
                    escrow: open,
                    reason: String::new(),
                },
            ),
        ];
        for t in refused {
            assert_eq!(code(a.judge(&t)), "unknown_signer", "{:?}", t.body.op);
        }
    }

    #[test]
    fn stale_nonces_are_refused_for_everyone() {
        let state = committed();
        let a = Admission::new(&state, ctx(ChainParams::default()));
        assert_eq!(code(a.judge(&pay(1, 5, 2, 1))), "nonce_reused");
        assert_eq!(code(a.judge(&pay(1, 6, 2, 1))), "admitted");
        // A nonce is never fresh again, so even an anchor (which cannot otherwise fail) is refused.
        let anchor = Op::Anchor {
            namespace: "x".into(),
            root: [0; 32],
            items: 1,
            sequence: 1,
            previous: [0; 32],
        };
        assert_eq!(code(a.judge(&tx(0, 4, anchor))), "nonce_reused");
    }

    #[test]
    fn nonces_more_than_the_gap_ahead_are_refused() {
        let state = committed();
        let params = ChainParams {
            max_nonce_gap: 10,
            ..ChainParams::default()
        };
        let a = Admission::new(&state, ctx(params));
        // Account 1's highest nonce is 5.
        assert_eq!(code(a.judge(&pay(1, 15, 2, 1))), "admitted");
        assert_eq!(code(a.judge(&pay(1, 16, 2, 1))), "nonce_too_far_ahead");
        assert_eq!(code(a.judge(&pay(1, u64::MAX, 2, 1))), "nonce_too_far_ahead");
        // A new key's highest is 0.
        let anchor = |n| {
            tx(
                9,
                n,
                Op::Anchor {
                    namespace: "x".into(),
                    root: [0; 32],
                    items: 1,
                    sequence: 1,
                    previous: [0; 32],
                },
            )
        };
        assert_eq!(code(a.judge(&anchor(10))), "admitted");
        assert_eq!(code(a.judge(&anchor(11))), "nonce_too_far_ahead");
    }

    #[test]
    fn a_known_signer_is_refused_spending_only_what_it_holds_none_of() {
        let state = committed();
        let a = Admission::new(&state, ctx(ChainParams::default()));
        // Account 2 signed before but holds nothing.
        match a.judge(&pay(2, 2, 1, 1)) {
            Err(Refusal::Rule(FailReason::InsufficientFunds {
                available: 0,
                needed: 1,
            })) => {}
            other => panic!("{other:?}"),
        }
        // Account 1 holds 500: more than that may be on its way in a block not yet committed,
        // so execution decides.
        assert_eq!(code(a.judge(&pay(1, 6, 2, 501))), "admitted");
        // Other failures of a known signer are left to execution too.
        let wrong = Op::EscrowFulfill {
            escrow: EscrowId::derive(&acct(1), &[1; 16]),
            fulfillment: Fulfillment::from_bytes([4; 32]),
        };
        assert_eq!(code(a.judge(&tx(2, 2, wrong))), "admitted");
    }

    #[test]
    fn later_transactions_of_a_request_see_the_earlier_admitted_ones() {
        let state = committed();
        let mut a = Admission::new(&state, ctx(ChainParams::default()));
        let eur = AssetCode::new("EUR").unwrap();
        let create = tx(
            9,
            1,
            Op::CreateAsset {
                code: eur.clone(),
                scale: 2,
            },
        );
        let issue = tx(
            9,
            2,
            Op::Issue {
                asset: eur.clone(),
                to: acct(8),
                amount: 100,
            },
        );
        let spend = tx(
            8,
            1,
            Op::Transfer {
                asset: eur,
                to: acct(1),
                amount: 40,
            },
        );
        // Alone, the issue and the spend cannot succeed.
        assert_eq!(code(a.judge(&issue)), "unknown_signer");
        assert_eq!(code(a.judge(&spend)), "unknown_signer");
        let created = a.judge(&create).unwrap();
        a.accept(created);
        let issued = a.judge(&issue).unwrap();
        a.accept(issued);
        assert_eq!(code(a.judge(&spend)), "admitted");
    }

    #[test]
    fn an_admitted_transaction_does_not_vouch_for_a_new_key() {
        let state = committed();
        let mut a = Admission::new(&state, ctx(ChainParams::default()));
        let anchor = tx(
            9,
            1,
            Op::Anchor {
                namespace: "x".into(),
                root: [0; 32],
                items: 1,
                sequence: 1,
                previous: [0; 32],
            },
        );
        let admitted = a.judge(&anchor).unwrap();
        a.accept(admitted);
        assert_eq!(code(a.judge(&pay(9, 2, 1, 1))), "unknown_signer");
    }

    #[test]
    fn a_burst_of_one_signer_moves_its_nonce_along() {
        let state = committed();
        let params = ChainParams {
            max_nonce_gap: 4,
            ..ChainParams::default()
        };
        let mut a = Admission::new(&state, ctx(params));
        // Highest 5, gap 4: nonce 10 is too far ahead of the committed state, but not once
        // 6..=9 are admitted before it.
        assert_eq!(code(a.judge(&pay(1, 10, 2, 1))), "nonce_too_far_ahead");
        for n in 6..=10 {
            let ok = a.judge(&pay(1, n, 2, 1)).unwrap();
            a.accept(ok);
        }
        // A nonce admitted earlier in the request is used.
        assert_eq!(code(a.judge(&pay(1, 6, 2, 1))), "nonce_reused");
    }
}
