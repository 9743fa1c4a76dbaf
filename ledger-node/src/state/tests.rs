//! The state machine's rules, one test per rule, and properties over random transaction
//! sequences: money is conserved per asset, and a failed transaction changes nothing but the
//! signer's nonce.

use ed25519_dalek::SigningKey;
use htlc::{Condition, EscrowStatus, Fulfillment};
use proptest::prelude::*;

use super::exec::{BlockContext, execute_block};
use super::*;
use crate::state::types::NONCE_WINDOW;

const CHAIN: [u8; 32] = [42; 32];

fn key(i: u8) -> SigningKey {
    SigningKey::from_bytes(&[i + 1; 32])
}
fn acct(i: u8) -> AccountId {
    account_of(&key(i))
}
fn code(s: &str) -> AssetCode {
    AssetCode::new(s).unwrap()
}

struct Harness {
    state: State,
    sigs: SigCache,
    nonces: std::collections::HashMap<u8, u64>,
    now: u64,
    params: ChainParams,
}

impl Harness {
    fn new() -> Self {
        Self {
            state: State::genesis(&CHAIN),
            sigs: SigCache::new(1000),
            nonces: Default::default(),
            now: 1_000,
            params: ChainParams::default(),
        }
    }
    fn tx(&mut self, who: u8, op: Op) -> Vec<u8> {
        let n = self.nonces.entry(who).or_insert(0);
        *n += 1;
        TxBody {
            chain_id: CHAIN,
            signer: acct(who),
            nonce: *n,
            op,
        }
        .sign(&key(who))
    }
    fn block(&mut self, txs: Vec<Vec<u8>>) -> BlockOutcome {
        self.now += 10;
        let ctx = BlockContext {
            chain_id: CHAIN,
            height: self.state.height + 1,
            timestamp_ms: self.now,
            params: self.params,
        };
        let prepared = self.sigs.prepare(&txs);
        let out = execute_block(&self.state, self.state.root, &ctx, &prepared);
        let root = out.state_root();
        self.state.apply(&out.changes, ctx.height, root);
        out
    }
    fn one(&mut self, who: u8, op: Op) -> Result<(), FailReason> {
        let t = self.tx(who, op);
        self.block(vec![t]).receipts[0].outcome.clone()
    }
    fn bal(&self, who: u8, asset: &str) -> u64 {
        self.state
            .accounts
            .get(&acct(who))
            .map_or(0, |a| a.balance(&code(asset)))
    }
    fn setup_dcep(&mut self) {
        assert_eq!(
            self.one(
                0,
                Op::CreateAsset {
                    code: code("DCEP"),
                    scale: 2
                }
            ),
            Ok(())
        );
        assert_eq!(
            self.one(
                0,
                Op::Issue {
                    asset: code("DCEP"),
                    to: acct(1),
                    amount: 10_000
                }
            ),
            Ok(())
        );
    }
    fn escrow(&mut self, payer: u8, payee: u8, amount: u64, preimage: [u8; 32], expires: u64) -> EscrowId {
        let reference = [payer ^ 0x5a; 16];
        let r = self.one(
            payer,
            Op::EscrowCreate {
                reference,
                asset: code("DCEP"),
                payee: acct(payee),
                amount,
                condition: Fulfillment::from_bytes(preimage).condition(),
                expires_at_ms: expires,
                memo: b"ilp prepare".to_vec(),
            },
        );
        assert_eq!(r, Ok(()));
        EscrowId::derive(&acct(payer), &reference)
    }
}

#[test]
fn issuer_issues_and_redeems_others_cannot() {
    let mut h = Harness::new();
    h.setup_dcep();
    assert_eq!(h.bal(1, "DCEP"), 10_000);
    let r = h.one(
        1,
        Op::Issue {
            asset: code("DCEP"),
            to: acct(1),
            amount: 5,
        },
    );
    assert_eq!(r, Err(FailReason::NotIssuer(code("DCEP"))));
    let r = h.one(
        0,
        Op::CreateAsset {
            code: code("DCEP"),
            scale: 2,
        },
    );
    assert_eq!(r, Err(FailReason::AssetExists(code("DCEP"))));
    // The issuer redeems from its own balance only.
    let r = h.one(
        0,
        Op::Redeem {
            asset: code("DCEP"),
            amount: 1,
        },
    );
    assert!(matches!(r, Err(FailReason::InsufficientFunds { .. })));
    assert_eq!(
        h.one(
            1,
            Op::Transfer {
                asset: code("DCEP"),
                to: acct(0),
                amount: 400
            }
        ),
        Ok(())
    );
    assert_eq!(
        h.one(
            0,
            Op::Redeem {
                asset: code("DCEP"),
                amount: 400
            }
        ),
        Ok(())
    );
    assert_eq!(h.state.assets[&code("DCEP")].supply, 9_600);
    let r = h.one(
        0,
        Op::Issue {
            asset: code("DCEP"),
            to: acct(2),
            amount: u64::MAX,
        },
    );
    assert_eq!(r, Err(FailReason::SupplyOverflow(code("DCEP"))));
}

#[test]
fn transfers_refuse_overdrafts_zero_and_unknown_assets() {
    let mut h = Harness::new();
    h.setup_dcep();
    let before = h.state.accounts.clone();
    let r = h.one(
        1,
        Op::Transfer {
            asset: code("DCEP"),
            to: acct(2),
            amount: 10_001,
        },
    );
    assert_eq!(
        r,
        Err(FailReason::InsufficientFunds {
            available: 10_000,
            needed: 10_001
        })
    );
    assert_eq!(h.bal(1, "DCEP"), 10_000);
    assert_eq!(h.state.accounts[&acct(1)].nonce, before[&acct(1)].nonce + 1);
    for (op, want) in [
        (
            Op::Transfer {
                asset: code("DCEP"),
                to: acct(2),
                amount: 0,
            },
            FailCode::ZeroAmount,
        ),
        (
            Op::Transfer {
                asset: code("EUR"),
                to: acct(2),
                amount: 1,
            },
            FailCode::UnknownAsset,
        ),
        (
            Op::Transfer {
                asset: code("DCEP"),
                to: acct(1),
                amount: 1,
            },
            FailCode::SelfPayment,
        ),
    ] {
        assert_eq!(h.one(1, op).unwrap_err().code(), want);
    }
    assert_eq!(
        h.one(
            1,
            Op::Transfer {
                asset: code("DCEP"),
                to: acct(2),
                amount: 2_500
            }
        ),
        Ok(())
    );
    assert_eq!((h.bal(1, "DCEP"), h.bal(2, "DCEP")), (7_500, 2_500));
}

#[test]
fn replays_forgeries_and_other_chains_change_nothing() {
    let mut h = Harness::new();
    h.setup_dcep();
    let t = h.tx(
        1,
        Op::Transfer {
            asset: code("DCEP"),
            to: acct(2),
            amount: 100,
        },
    );
    assert_eq!(h.block(vec![t.clone()]).receipts[0].outcome, Ok(()));
    let snapshot = h.state.accounts.clone();
    // The same bytes again, and another transaction with a used nonce.
    let out = h.block(vec![t.clone()]);
    assert_eq!(
        out.receipts[0].outcome.as_ref().unwrap_err().code(),
        FailCode::NonceReused
    );
    let old_nonce = TxBody {
        chain_id: CHAIN,
        signer: acct(1),
        nonce: 1,
        op: Op::Transfer {
            asset: code("DCEP"),
            to: acct(3),
            amount: 1,
        },
    }
    .sign(&key(1));
    assert_eq!(
        h.block(vec![old_nonce]).receipts[0].outcome,
        Err(FailReason::NonceReused { nonce: 1, last: 1 })
    );
    // Signed by someone else's key.
    let forged = TxBody {
        chain_id: CHAIN,
        signer: acct(1),
        nonce: 50,
        op: Op::Transfer {
            asset: code("DCEP"),
            to: acct(3),
            amount: 1,
        },
    }
    .sign(&key(3));
    assert_eq!(
        h.block(vec![forged]).receipts[0].outcome,
        Err(FailReason::BadSignature)
    );
    let other_chain = TxBody {
        chain_id: [1; 32],
        signer: acct(1),
        nonce: 60,
        op: Op::Transfer {
            asset: code("DCEP"),
            to: acct(3),
            amount: 1,
        },
    }
    .sign(&key(1));
    assert_eq!(
        h.block(vec![other_chain]).receipts[0].outcome,
        Err(FailReason::WrongChain)
    );
    assert_eq!(
        h.block(vec![b"garbage".to_vec()]).receipts[0].outcome,
        Err(FailReason::Malformed)
    );
    assert_eq!(h.state.accounts, snapshot);
}

#[test]
fn nonces_may_arrive_out_of_order_within_the_window_but_never_twice() {
    let mut a = Account::default();
    for n in [3, 1, 2, 70, 8, 7] {
        assert!(a.nonce_is_fresh(n), "{n}");
        a.use_nonce(n);
    }
    for n in [0, 1, 2, 3, 7, 8, 70] {
        assert!(!a.nonce_is_fresh(n), "{n} reused");
    }
    assert!(a.nonce_is_fresh(9) && a.nonce_is_fresh(69) && a.nonce_is_fresh(71));
    assert!(!a.nonce_is_fresh(70 - NONCE_WINDOW), "older than the window");
}

/// Signed by account `who` with an explicit nonce.
fn with_nonce(who: u8, nonce: u64, op: Op) -> Vec<u8> {
    TxBody {
        chain_id: CHAIN,
        signer: acct(who),
        nonce,
        op,
    }
    .sign(&key(who))
}

#[test]
fn a_nonce_more_than_the_gap_ahead_fails_and_uses_nothing_up() {
    let mut h = Harness::new();
    h.params.max_nonce_gap = 100;
    h.setup_dcep();
    let pay = |n| {
        with_nonce(
            1,
            n,
            Op::Transfer {
                asset: code("DCEP"),
                to: acct(2),
                amount: 1,
            },
        )
    };
    // Account 1 has used no nonce: 101 is too far, and so is the review's 2^64 - 1, which
    // would otherwise have left the account 63 nonces for the rest of its life.
    let snapshot = h.state.accounts.clone();
    for n in [101, u64::MAX] {
        assert_eq!(
            h.block(vec![pay(n)]).receipts[0].outcome,
            Err(FailReason::NonceTooFarAhead {
                nonce: n,
                last: 0,
                max_gap: 100
            })
        );
    }
    assert_eq!(h.state.accounts, snapshot, "a refused nonce is not consumed");
    // Exactly the gap is allowed; the bound then moves with the highest used nonce, also
    // within one block.
    let out = h.block(vec![pay(100), pay(200), pay(301)]);
    let codes: Vec<&str> = out
        .receipts
        .iter()
        .map(|r| r.outcome.as_ref().map_or_else(|e| e.code().as_str(), |()| "ok"))
        .collect();
    assert_eq!(codes, ["ok", "ok", "nonce_too_far_ahead"]);
    assert_eq!(h.state.accounts[&acct(1)].nonce, 200);
    // Nonces below the highest are still usable within the window.
    assert_eq!(h.block(vec![pay(150)]).receipts[0].outcome, Ok(()));
}

#[test]
fn an_escrow_may_hold_funds_no_longer_than_the_genesis_allows() {
    let mut h = Harness::new();
    h.params.max_escrow_hold_ms = 60_000;
    h.setup_dcep();
    let create = |h: &mut Harness, reference: u8, expires_at_ms: u64| {
        h.tx(
            1,
            Op::EscrowCreate {
                reference: [reference; 16],
                asset: code("DCEP"),
                payee: acct(2),
                amount: 100,
                condition: Condition::from_bytes([0; 32]),
                expires_at_ms,
                memo: vec![],
            },
        )
    };
    // The next block is at now + 10; the hold is measured from it.
    let block_time = h.now + 10;
    for expires in [block_time + 60_001, u64::MAX] {
        let t = create(&mut h, 1, expires);
        let nonce_before = h.state.accounts[&acct(1)].nonce;
        let out = h.block(vec![t]);
        assert_eq!(
            out.receipts[0].outcome,
            Err(FailReason::ExpiryTooFar {
                expires_at_ms: expires,
                now_ms: h.now,
                max_hold_ms: 60_000
            })
        );
        // Nothing is locked; like any ledger rule broken, the nonce is consumed.
        assert!(h.state.open.is_empty());
        assert_eq!(h.bal(1, "DCEP"), 10_000);
        assert_eq!(h.state.accounts[&acct(1)].nonce, nonce_before + 1);
    }
    let block_time = h.now + 10;
    let t = create(&mut h, 2, block_time + 60_000);
    assert_eq!(h.block(vec![t]).receipts[0].outcome, Ok(()));
    assert_eq!(h.bal(1, "DCEP"), 9_900);
}

#[test]
fn escrow_fulfil_before_expiry_pays_the_payee() {
    let mut h = Harness::new();
    h.setup_dcep();
    let pre = [7u8; 32];
    let id = h.escrow(1, 2, 2_000, pre, 10_000);
    assert_eq!(h.bal(1, "DCEP"), 8_000);
    assert!(h.state.open.contains_key(&id));
    // Wrong preimage: nothing moves.
    let r = h.one(
        3,
        Op::EscrowFulfill {
            escrow: id,
            fulfillment: Fulfillment::from_bytes([8; 32]),
        },
    );
    assert_eq!(r, Err(FailReason::WrongFulfillment));
    // Refund before expiry: refused.
    let r = h.one(4, Op::EscrowRefund { escrow: id });
    assert_eq!(r.unwrap_err().code(), FailCode::NotYetExpired);
    // Anyone holding the preimage fulfils; the payee is paid.
    let out = {
        let t = h.tx(
            3,
            Op::EscrowFulfill {
                escrow: id,
                fulfillment: Fulfillment::from_bytes(pre),
            },
        );
        h.block(vec![t])
    };
    assert_eq!(out.receipts[0].outcome, Ok(()));
    assert!(matches!(&out.events[0], Event::Escrow { escrow, .. }
        if escrow.status() == EscrowStatus::Fulfilled
            && escrow.lock.fulfillment() == Some(&Fulfillment::from_bytes(pre))));
    assert_eq!(h.bal(2, "DCEP"), 2_000);
    assert_eq!(h.state.closed[&id], EscrowStatus::Fulfilled);
    let r = h.one(4, Op::EscrowRefund { escrow: id });
    assert_eq!(r, Err(FailReason::EscrowFinal(EscrowStatus::Fulfilled)));
    // The same reference cannot lock twice.
    let r = h.one(
        1,
        Op::EscrowCreate {
            reference: [1 ^ 0x5a; 16],
            asset: code("DCEP"),
            payee: acct(2),
            amount: 1,
            condition: Condition::from_bytes([0; 32]),
            expires_at_ms: 1_000_000,
            memo: vec![],
        },
    );
    assert_eq!(r, Err(FailReason::EscrowExists));
}

#[test]
fn escrow_expiry_boundary_is_exact() {
    let mut h = Harness::new();
    h.setup_dcep();
    let pre = [9u8; 32];
    // The next block is at now + 10: expiring exactly then means the fulfil comes too late and
    // the refund is just in time.
    let expires = h.now + 20;
    let id = h.escrow(1, 2, 500, pre, expires);
    assert_eq!(h.now + 10, expires);
    let t1 = h.tx(
        2,
        Op::EscrowFulfill {
            escrow: id,
            fulfillment: Fulfillment::from_bytes(pre),
        },
    );
    let t2 = h.tx(3, Op::EscrowRefund { escrow: id });
    let out = h.block(vec![t1, t2]);
    assert_eq!(
        out.receipts[0].outcome.as_ref().unwrap_err().code(),
        FailCode::EscrowExpired
    );
    assert_eq!(out.receipts[1].outcome, Ok(()));
    assert_eq!((h.bal(1, "DCEP"), h.bal(2, "DCEP")), (10_000, 0));
    assert_eq!(h.state.closed[&id], EscrowStatus::Expired);
    let r = h.one(
        1,
        Op::EscrowCreate {
            reference: [3; 16],
            asset: code("DCEP"),
            payee: acct(2),
            amount: 1,
            condition: Condition::from_bytes([0; 32]),
            expires_at_ms: h.now + 10,
            memo: vec![],
        },
    );
    assert_eq!(r.unwrap_err().code(), FailCode::ExpiryInPast);
}

#[test]
fn only_the_payee_rejects_and_only_before_expiry() {
    let mut h = Harness::new();
    h.setup_dcep();
    let id = h.escrow(1, 2, 300, [1; 32], 1_000_000);
    assert_eq!(
        h.one(
            3,
            Op::EscrowReject {
                escrow: id,
                reason: String::new()
            }
        ),
        Err(FailReason::NotPayee)
    );
    let reason = "F05 condition does not match".to_owned();
    assert_eq!(h.one(2, Op::EscrowReject { escrow: id, reason }), Ok(()));
    assert_eq!(h.bal(1, "DCEP"), 10_000);
    assert_eq!(
        h.one(
            2,
            Op::EscrowReject {
                escrow: id,
                reason: String::new()
            }
        ),
        Err(FailReason::EscrowFinal(EscrowStatus::Rejected))
    );
    let unknown = EscrowId([0; 32]);
    assert_eq!(
        h.one(2, Op::EscrowRefund { escrow: unknown }),
        Err(FailReason::UnknownEscrow)
    );
}

fn anchor(namespace: &str, root: u8, sequence: u64, previous: [u8; 32]) -> Op {
    Op::Anchor {
        namespace: namespace.into(),
        root: [root; 32],
        items: 12,
        sequence,
        previous,
    }
}

#[test]
fn anchors_are_recorded_with_their_submitter() {
    let mut h = Harness::new();
    let t = h.tx(5, anchor("identity/attestations", 3, 1, [0; 32]));
    let out = h.block(vec![t]);
    assert_eq!(out.receipts[0].outcome, Ok(()));
    assert_eq!(out.changes.anchors.len(), 1);
    let a = &out.changes.anchors[0];
    assert_eq!(a.submitter, acct(5));
    assert_eq!(
        a.batch,
        batch_hash(&acct(5), "identity/attestations", 1, &[0; 32], &[3; 32], 12)
    );
    assert!(matches!(&out.events[0], Event::Anchored(a) if a.root == [3; 32]));
}

#[test]
fn anchors_follow_their_namespace_chain_in_one_block_and_across_blocks() {
    let mut h = Harness::new();
    let b1 = batch_hash(&acct(5), "ns", 1, &[0; 32], &[1; 32], 12);
    let b2 = batch_hash(&acct(5), "ns", 2, &b1, &[2; 32], 12);
    let (t1, t2) = (
        h.tx(5, anchor("ns", 1, 1, [0; 32])),
        h.tx(5, anchor("ns", 2, 2, b1)),
    );
    let out = h.block(vec![t1, t2]);
    assert!(out.receipts.iter().all(|r| r.outcome.is_ok()));
    assert_eq!(h.one(5, anchor("ns", 3, 3, b2)), Ok(()));
    let tip = h.state.anchor_tips[&(acct(5), "ns".to_owned())];
    assert_eq!(tip.sequence, 3);
    assert_eq!(tip.batch, batch_hash(&acct(5), "ns", 3, &b2, &[3; 32], 12));
    // Another namespace, and another signer's same namespace, start their own chains at 1.
    assert_eq!(h.one(5, anchor("other", 1, 1, [0; 32])), Ok(()));
    assert_eq!(h.one(6, anchor("ns", 1, 1, [0; 32])), Ok(()));
}

#[test]
fn out_of_sequence_anchors_fail_and_change_nothing_but_the_nonce() {
    let mut h = Harness::new();
    assert_eq!(h.one(5, anchor("ns", 1, 1, [0; 32])), Ok(()));
    let b1 = batch_hash(&acct(5), "ns", 1, &[0; 32], &[1; 32], 12);
    let b6_1 = batch_hash(&acct(6), "ns", 1, &[0; 32], &[9; 32], 12);
    assert_eq!(h.one(6, anchor("ns", 9, 1, [0; 32])), Ok(()));
    let cases = [
        ("gap", 5, anchor("ns", 2, 3, b1), 2, 3),
        ("repeat", 5, anchor("ns", 2, 1, [0; 32]), 2, 1),
        ("wrong previous", 5, anchor("ns", 2, 2, [7; 32]), 2, 2),
        ("zero sequence", 5, anchor("ns", 2, 0, [0; 32]), 2, 0),
        ("other signer's tip", 5, anchor("ns", 2, 2, b6_1), 2, 2),
        ("first batch naming a previous", 5, anchor("new", 2, 1, b1), 1, 1),
        ("someone else's namespace tip", 7, anchor("ns", 2, 2, b1), 1, 2),
    ];
    for (what, who, op, expected, got) in cases {
        let tips = h.state.anchor_tips.clone();
        let t = h.tx(who, op);
        let out = h.block(vec![t]);
        assert_eq!(
            out.receipts[0].outcome,
            Err(FailReason::AnchorOutOfSequence { expected, got }),
            "{what}"
        );
        assert_eq!(
            out.receipts[0].outcome.as_ref().unwrap_err().code().as_str(),
            "anchor_out_of_sequence"
        );
        assert!(out.changes.anchors.is_empty() && out.events.is_empty(), "{what}");
        assert_eq!(out.changes.accounts.len(), 1, "{what}: only the signer's nonce");
        assert_eq!(h.state.anchor_tips, tips, "{what}");
    }
    // The chain goes on from where it was.
    assert_eq!(h.one(5, anchor("ns", 2, 2, b1)), Ok(()));
}

#[test]
fn the_state_root_chains_and_depends_on_outcomes() {
    let mut a = Harness::new();
    let mut b = Harness::new();
    a.setup_dcep();
    b.setup_dcep();
    assert_eq!(a.state.root, b.state.root);
    let ta = a.tx(
        1,
        Op::Transfer {
            asset: code("DCEP"),
            to: acct(2),
            amount: 1,
        },
    );
    let tb = b.tx(
        1,
        Op::Transfer {
            asset: code("DCEP"),
            to: acct(2),
            amount: 2,
        },
    );
    a.block(vec![ta]);
    b.block(vec![tb]);
    assert_ne!(a.state.root, b.state.root);
}

#[test]
fn dc_ep_is_an_asset_code_on_the_chain_as_on_every_ledger() {
    // The e-CNY ledger's code, with its `/`, which the chain refused before it shared htlc's rule.
    let mut h = Harness::new();
    let dcep = code("DC/EP");
    assert_eq!(
        h.one(
            0,
            Op::CreateAsset {
                code: dcep.clone(),
                scale: 2
            }
        ),
        Ok(())
    );
    let issue = Op::Issue {
        asset: dcep.clone(),
        to: acct(1),
        amount: 2_000,
    };
    assert_eq!(h.one(0, issue), Ok(()));
    let pre = Fulfillment::from_bytes([5; 32]);
    let create = Op::EscrowCreate {
        reference: [1; 16],
        asset: dcep.clone(),
        payee: acct(2),
        amount: 2_000,
        condition: pre.condition(),
        expires_at_ms: h.now + 1_000,
        memo: vec![],
    };
    assert_eq!(h.one(1, create), Ok(()));
    let id = EscrowId::derive(&acct(1), &[1; 16]);
    let fulfil = Op::EscrowFulfill {
        escrow: id,
        fulfillment: pre,
    };
    assert_eq!(h.one(3, fulfil), Ok(()));
    assert_eq!((h.bal(1, "DC/EP"), h.bal(2, "DC/EP")), (0, 2_000));
    assert_eq!(h.state.assets[&dcep].supply, 2_000);
}

#[test]
fn an_expiry_after_the_year_9999_is_too_far_whatever_the_genesis_allows() {
    // The latest instant htlc's timestamps (and ILP packets) express.
    const LAST_MS: u64 = 253_402_300_799_999;
    let mut h = Harness::new();
    h.params.max_escrow_hold_ms = u64::MAX;
    h.setup_dcep();
    let create = |h: &mut Harness, reference: u8, expires_at_ms: u64| {
        h.tx(
            1,
            Op::EscrowCreate {
                reference: [reference; 16],
                asset: code("DCEP"),
                payee: acct(2),
                amount: 100,
                condition: Condition::from_bytes([0; 32]),
                expires_at_ms,
                memo: vec![],
            },
        )
    };
    let t = create(&mut h, 1, LAST_MS + 1);
    assert_eq!(
        h.block(vec![t]).receipts[0].outcome,
        Err(FailReason::ExpiryTooFar {
            expires_at_ms: LAST_MS + 1,
            now_ms: h.now,
            max_hold_ms: u64::MAX
        })
    );
    let t = create(&mut h, 2, LAST_MS);
    assert_eq!(h.block(vec![t]).receipts[0].outcome, Ok(()));
    let id = EscrowId::derive(&acct(1), &[2; 16]);
    assert_eq!(h.state.open[&id].expires_at_ms(), LAST_MS);
}

// ---- properties ------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Step {
    Issue(u8, u64),
    Redeem(u64),
    Transfer(u8, u8, u64),
    Create(u8, u8, u64, u8, u64),
    Fulfil(u8, u8, bool),
    Reject(u8, u8),
    Refund(u8, u8),
    Replay,
    Forge(u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u8..4, 0u64..3_000).prop_map(|(t, a)| Step::Issue(t, a)),
        (0u64..2_000).prop_map(Step::Redeem),
        (0u8..4, 0u8..4, 0u64..3_000).prop_map(|(f, t, a)| Step::Transfer(f, t, a)),
        (0u8..4, 0u8..4, 0u64..3_000, 0u8..4, 0u64..200)
            .prop_map(|(f, t, a, r, e)| Step::Create(f, t, a, r, e)),
        (0u8..4, 0u8..4, any::<bool>()).prop_map(|(w, r, good)| Step::Fulfil(w, r, good)),
        (0u8..4, 0u8..4).prop_map(|(w, r)| Step::Reject(w, r)),
        (0u8..4, 0u8..4).prop_map(|(w, r)| Step::Refund(w, r)),
        Just(Step::Replay),
        (0u8..4).prop_map(Step::Forge),
    ]
}

fn preimage(r: u8) -> [u8; 32] {
    [r.wrapping_mul(31).wrapping_add(1); 32]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn money_is_conserved_and_failures_change_nothing(blocks in proptest::collection::vec(proptest::collection::vec(step(), 1..6), 1..12)) {
        let mut h = Harness::new();
        h.setup_dcep();
        let asset = code("DCEP");
        let mut last: Option<Vec<u8>> = None;
        for steps in blocks {
            let mut txs = Vec::new();
            for s in steps {
                let t = match s {
                    Step::Issue(to, a) => h.tx(0, Op::Issue { asset: asset.clone(), to: acct(to), amount: a }),
                    Step::Redeem(a) => h.tx(0, Op::Redeem { asset: asset.clone(), amount: a }),
                    Step::Transfer(f, to, a) => h.tx(f, Op::Transfer { asset: asset.clone(), to: acct(to), amount: a }),
                    Step::Create(f, to, a, r, e) => h.tx(f, Op::EscrowCreate {
                        reference: [r; 16], asset: asset.clone(), payee: acct(to), amount: a,
                        condition: Fulfillment::from_bytes(preimage(r)).condition(), expires_at_ms: h.now + e, memo: vec![r],
                    }),
                    Step::Fulfil(w, r, good) => {
                        let id = EscrowId::derive(&acct(w), &[r; 16]);
                        let f = Fulfillment::from_bytes(if good { preimage(r) } else { [0xee; 32] });
                        h.tx(3, Op::EscrowFulfill { escrow: id, fulfillment: f })
                    }
                    Step::Reject(w, r) => h.tx(r % 4, Op::EscrowReject { escrow: EscrowId::derive(&acct(w), &[r; 16]), reason: format!("F99 {r}") }),
                    Step::Refund(w, r) => h.tx(2, Op::EscrowRefund { escrow: EscrowId::derive(&acct(w), &[r; 16]) }),
                    Step::Replay => match &last { Some(t) => t.clone(), None => continue },
                    Step::Forge(w) => TxBody { chain_id: CHAIN, signer: acct(w), nonce: 1_000_000,
                        op: Op::Transfer { asset: asset.clone(), to: acct(3), amount: 1 } }.sign(&key(3)),
                };
                last = Some(t.clone());
                txs.push(t);
            }
            // Execute one transaction at a time too, to compare each failure with the state
            // before it.
            let before = h.state.clone();
            let out = h.block(txs.clone());
            let mut replay = Harness { state: before, sigs: SigCache::new(10), nonces: Default::default(), now: h.now - 10, params: ChainParams::default() };
            for (i, t) in txs.iter().enumerate() {
                let prev = replay.state.clone();
                let ctx = BlockContext { chain_id: CHAIN, height: prev.height + 1, timestamp_ms: h.now, params: ChainParams::default() };
                let p = replay.sigs.prepare(std::slice::from_ref(t));
                let single = execute_block(&prev, prev.root, &ctx, &p);
                prop_assert_eq!(&single.receipts[0].outcome, &out.receipts[i].outcome);
                if let Err(reason) = &single.receipts[0].outcome {
                    let mut expected = prev.clone();
                    if reason.consumes_nonce() {
                        let tx = Transaction::decode(t).unwrap();
                        expected.accounts.entry(tx.body.signer).or_default().use_nonce(tx.body.nonce);
                    }
                    let mut after = prev.clone();
                    after.apply(&single.changes, prev.height, prev.root);
                    prop_assert_eq!(&after.accounts, &expected.accounts);
                    prop_assert_eq!(&after.assets, &prev.assets);
                    prop_assert_eq!(&after.open, &prev.open);
                    prop_assert_eq!(&after.closed, &prev.closed);
                    prop_assert!(single.changes.escrows.is_empty() && single.changes.anchors.is_empty());
                }
                replay.state.apply(&single.changes, prev.height, prev.root);
            }
            // Conservation: balances plus open escrows equal the supply.
            let balances: u128 = h.state.accounts.values().map(|a| u128::from(a.balance(&asset))).sum();
            let locked: u128 = h.state.open.values().filter(|e| e.asset == asset).map(|e| u128::from(e.amount())).sum();
            prop_assert_eq!(balances + locked, u128::from(h.state.assets[&asset].supply));
        }
    }
}
