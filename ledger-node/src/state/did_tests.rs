//! The did:cypher registry's rules: every failure reason (each leaving the DIDs as they were),
//! the version chain, key rotation, control through a controller DID (did:cypher and did:key),
//! deactivation, and the operations' wire form.

use did::{Did, Document, MethodRef, PublicKey, VerificationMethod};
use ed25519_dalek::SigningKey;

use super::*;
use crate::state::exec::{BlockContext, BlockOutcome, execute_block};
use crate::state::reason::FailCode;
use crate::state::{Op, SigCache, State, Transaction, TxBody, account_of};

const CHAIN: [u8; 32] = [21; 32];

fn key(i: u8) -> SigningKey {
    SigningKey::from_bytes(&[i + 100; 32])
}

/// The DID key `i` creates with nonce 0.
fn did_of(i: u8) -> Did {
    did::cypher::did_cypher(&key(i).verifying_key(), 0)
}

/// A document for `subject` whose capabilityInvocation keys are `keys`, naming `controllers`.
fn document(subject: &Did, keys: &[u8], controllers: &[Did]) -> Vec<u8> {
    let mut d = Document::new(subject.clone());
    for &k in keys {
        let pk = PublicKey::Ed25519(key(k).verifying_key());
        let m = VerificationMethod::multikey(subject, &format!("key-{k}"), pk).unwrap();
        d.capability_invocation.push(MethodRef::Reference(m.id.clone()));
        d.authentication.push(MethodRef::Reference(m.id.clone()));
        d.verification_method.push(m);
    }
    d.controller = controllers.to_vec();
    d.context = d.standard_context();
    d.to_json()
}

struct Chain {
    state: State,
    sigs: SigCache,
    nonces: [u64; 16],
    now: u64,
}

impl Chain {
    fn new() -> Self {
        Chain {
            state: State::genesis(&CHAIN),
            sigs: SigCache::new(100),
            nonces: [0; 16],
            now: 5_000,
        }
    }

    fn block(&mut self, txs: Vec<Vec<u8>>) -> BlockOutcome {
        self.now += 1_000;
        let ctx = BlockContext {
            chain_id: CHAIN,
            height: self.state.height + 1,
            timestamp_ms: self.now,
            params: crate::state::ChainParams::default(),
        };
        let out = execute_block(&self.state, self.state.root, &ctx, &self.sigs.prepare(&txs));
        self.state.apply(&out.changes, ctx.height, out.state_root());
        out
    }

    fn tx(&mut self, who: u8, op: Op) -> Vec<u8> {
        self.nonces[usize::from(who)] += 1;
        TxBody {
            chain_id: CHAIN,
            signer: account_of(&key(who)),
            nonce: self.nonces[usize::from(who)],
            op,
        }
        .sign(&key(who))
    }

    /// Runs one operation in its own block; a failure must leave every DID as it was.
    fn one(&mut self, who: u8, op: Op) -> Result<(), FailCode> {
        let before = self.state.dids.clone();
        let t = self.tx(who, op);
        let out = self.block(vec![t]);
        let outcome = out.receipts[0].outcome.clone().map_err(|e| e.code());
        if outcome.is_err() {
            assert!(out.changes.dids.is_empty() && out.changes.did_versions.is_empty());
            assert_eq!(
                self.state.dids, before,
                "a failed DID operation changed the registry"
            );
        }
        outcome
    }

    fn create(&mut self, who: u8, keys: &[u8], controllers: &[Did]) -> Result<(), FailCode> {
        let document = document(&did_of(who), keys, controllers);
        self.one(who, Op::DidCreate { nonce: 0, document })
    }

    fn update(&mut self, who: u8, subject: &Did, version: u64, keys: &[u8]) -> Result<(), FailCode> {
        let document = document(subject, keys, &[]);
        self.one(
            who,
            Op::DidUpdate {
                did: subject.to_string(),
                version,
                document,
            },
        )
    }

    fn deactivate(&mut self, who: u8, subject: &Did, version: u64) -> Result<(), FailCode> {
        self.one(
            who,
            Op::DidDeactivate {
                did: subject.to_string(),
                version,
            },
        )
    }

    fn record(&self, subject: &Did) -> &DidRecord {
        &self.state.dids[subject.as_str()]
    }
}

#[test]
fn creation_takes_the_derived_id_and_the_signers_own_key() {
    let mut c = Chain::new();
    // Key 1 cannot register key 2's identifier, even listing key 2 as its key.
    let squat = document(&did_of(2), &[2], &[]);
    assert_eq!(
        c.one(
            1,
            Op::DidCreate {
                nonce: 0,
                document: squat.clone()
            }
        ),
        Err(FailCode::DidNotDerived)
    );
    // Nor its own identifier with another nonce.
    assert_eq!(
        c.one(
            1,
            Op::DidCreate {
                nonce: 1,
                document: document(&did_of(1), &[1], &[])
            }
        ),
        Err(FailCode::DidNotDerived)
    );
    // Its own identifier, but without its key in capabilityInvocation.
    assert_eq!(c.create(1, &[3], &[]), Err(FailCode::DidNotController));
    assert_eq!(c.create(1, &[1], &[]), Ok(()));
    let r = c.record(&did_of(1)).clone();
    assert_eq!(
        (r.version, r.created_ms, r.updated_ms, r.deactivated),
        (1, c.now, c.now, false)
    );
    assert_eq!(r.keys, vec![key(1).verifying_key().to_bytes()]);
    assert_eq!(c.create(1, &[1, 3], &[]), Err(FailCode::DidExists));
}

#[test]
fn malformed_and_oversized_documents_are_refused() {
    let mut c = Chain::new();
    let bad = |document: Vec<u8>| Op::DidCreate { nonce: 0, document };
    assert_eq!(
        c.one(1, bad(b"{not json".to_vec())),
        Err(FailCode::DidInvalidDocument)
    );
    // Valid for the did crate, but nobody could ever update it.
    assert_eq!(
        c.one(1, bad(document(&did_of(1), &[], &[]))),
        Err(FailCode::DidInvalidDocument)
    );
    let mut big = document(&did_of(1), &[1], &[]);
    big.extend(std::iter::repeat_n(b' ', did::MAX_DOCUMENT_BYTES));
    assert_eq!(c.one(1, bad(big)), Err(FailCode::DidTooLarge));
    assert!(c.state.dids.is_empty());
}

#[test]
fn rotation_moves_control_to_the_new_key_and_versions_chain() {
    let mut c = Chain::new();
    let me = did_of(1);
    c.create(1, &[1], &[]).unwrap();
    assert_eq!(c.update(3, &me, 1, &[3]), Err(FailCode::DidNotController));
    // Rotate from key 1 to key 2.
    assert_eq!(c.update(1, &me, 1, &[2]), Ok(()));
    let r = c.record(&me);
    assert_eq!((r.version, r.updated_ms), (2, c.now));
    assert!(r.created_ms < r.updated_ms);
    // The old key no longer controls; the new key must name the current version.
    assert_eq!(c.update(1, &me, 2, &[1]), Err(FailCode::DidNotController));
    assert_eq!(c.update(2, &me, 1, &[2, 4]), Err(FailCode::DidStaleVersion));
    assert_eq!(c.update(2, &me, 3, &[2, 4]), Err(FailCode::DidStaleVersion));
    assert_eq!(c.update(2, &me, 2, &[2, 4]), Ok(()));
    assert_eq!(c.record(&me).version, 3);
    // An update must keep the id.
    let other = document(&did_of(5), &[2], &[]);
    let op = Op::DidUpdate {
        did: me.to_string(),
        version: 3,
        document: other,
    };
    assert_eq!(c.one(2, op), Err(FailCode::DidInvalidDocument));
    assert_eq!(c.update(2, &did_of(9), 1, &[2]), Err(FailCode::DidNotFound));
}

#[test]
fn deactivation_is_final() {
    let mut c = Chain::new();
    let me = did_of(1);
    c.create(1, &[1], &[]).unwrap();
    assert_eq!(c.deactivate(2, &me, 1), Err(FailCode::DidNotController));
    assert_eq!(c.deactivate(1, &me, 2), Err(FailCode::DidStaleVersion));
    assert_eq!(c.deactivate(1, &me, 1), Ok(()));
    assert!(c.record(&me).deactivated);
    assert_eq!(c.record(&me).version, 2);
    assert_eq!(c.update(1, &me, 2, &[1]), Err(FailCode::DidDeactivated));
    assert_eq!(c.deactivate(1, &me, 2), Err(FailCode::DidDeactivated));
    assert_eq!(c.create(1, &[1], &[]), Err(FailCode::DidExists));
    assert_eq!(c.deactivate(1, &did_of(7), 1), Err(FailCode::DidNotFound));
}

#[test]
fn a_controller_did_controls_while_it_is_active() {
    let mut c = Chain::new();
    let (boss, worker) = (did_of(1), did_of(2));
    c.create(1, &[1], &[]).unwrap();
    c.create(2, &[2], std::slice::from_ref(&boss)).unwrap();
    // The controller's key updates the worker's document (and drops the worker's own key).
    let doc = document(&worker, &[], std::slice::from_ref(&boss));
    let op = |version| Op::DidUpdate {
        did: worker.to_string(),
        version,
        document: doc.clone(),
    };
    assert_eq!(c.one(3, op(1)), Err(FailCode::DidNotController));
    assert_eq!(c.one(1, op(1)), Ok(()));
    assert_eq!(c.update(2, &worker, 2, &[2]), Err(FailCode::DidNotController));
    // The controller rotates its own key: only the new one controls the worker now.
    c.update(1, &boss, 1, &[4]).unwrap();
    assert_eq!(c.one(1, op(2)), Err(FailCode::DidNotController));
    assert_eq!(c.one(4, op(2)), Ok(()));
    // A deactivated controller controls nothing.
    c.deactivate(4, &boss, 2).unwrap();
    assert_eq!(c.one(4, op(3)), Err(FailCode::DidNotController));
}

#[test]
fn a_did_key_controller_controls_with_its_key() {
    let mut c = Chain::new();
    let me = did_of(1);
    let wallet = did::key::did_key_from_ed25519(&key(6).verifying_key());
    c.create(1, &[1], &[wallet]).unwrap();
    assert_eq!(c.deactivate(5, &me, 1), Err(FailCode::DidNotController));
    assert_eq!(c.deactivate(6, &me, 1), Ok(()));
}

#[test]
fn several_versions_in_one_block_are_each_kept() {
    let mut c = Chain::new();
    let me = did_of(1);
    let create = c.tx(
        1,
        Op::DidCreate {
            nonce: 0,
            document: document(&me, &[1], &[]),
        },
    );
    let update = c.tx(
        1,
        Op::DidUpdate {
            did: me.to_string(),
            version: 1,
            document: document(&me, &[1, 2], &[]),
        },
    );
    let deactivate = c.tx(
        2,
        Op::DidDeactivate {
            did: me.to_string(),
            version: 2,
        },
    );
    let out = c.block(vec![create, update, deactivate]);
    assert!(
        out.receipts.iter().all(|r| r.outcome.is_ok()),
        "{:?}",
        out.receipts
    );
    let versions: Vec<(u64, bool)> = out
        .changes
        .did_versions
        .iter()
        .map(|v| (v.version, v.document.is_some()))
        .collect();
    assert_eq!(versions, [(1, true), (2, true), (3, false)]);
    assert_eq!(out.changes.dids.len(), 1);
    assert!(c.record(&me).deactivated);
}

#[test]
fn did_changes_enter_the_changes_digest() {
    let mut c = Chain::new();
    let empty = crate::state::Changes::default().digest();
    let t = c.tx(
        1,
        Op::DidCreate {
            nonce: 0,
            document: document(&did_of(1), &[1], &[]),
        },
    );
    let out = c.block(vec![t]);
    let mut changes = out.changes.clone();
    changes.accounts.clear();
    let with_did = changes.digest();
    assert_ne!(with_did, empty);
    changes.did_versions[0].time_ms += 1;
    assert_ne!(changes.digest(), with_did);
}

#[test]
fn the_operations_round_trip_on_the_wire() {
    let me = did_of(1);
    for op in [
        Op::DidCreate {
            nonce: 7,
            document: document(&me, &[1], &[]),
        },
        Op::DidUpdate {
            did: me.to_string(),
            version: 3,
            document: b"{}".to_vec(),
        },
        Op::DidDeactivate {
            did: me.to_string(),
            version: u64::MAX,
        },
    ] {
        let body = TxBody {
            chain_id: CHAIN,
            signer: account_of(&key(1)),
            nonce: 1,
            op,
        };
        let tx = Transaction::decode(&body.sign(&key(1))).unwrap();
        assert_eq!(tx.body, body);
    }
}
