//! A fixed history of blocks (every escrow step, the rules each can break, assets, anchors)
//! with its state roots, receipt codes and the escrow JSON of its feed pinned, and the JSON of
//! every other shape of the HTTP API. The values were produced by the release before the chain
//! took its asset codes and its escrow state machine from `htlc` and its API types became
//! typed: changing how the chain is written must not change what it commits to or what its API
//! says.

use ed25519_dalek::SigningKey;
use htlc::{Condition, Fulfillment};
use ledger_node::api::types::{
    AccountView, AnchorView, AssetBalance, AssetView, BlockView, CommitteeView, EscrowView, EventPage,
    EventView, FeedKind, MemberView, NodeStatus, ProblemCode, TxState, TxStatus,
};
use ledger_node::node::http::{ApiError, Problem};
use ledger_node::state::exec::{BlockContext, Event, execute_block};
use ledger_node::state::{
    AccountId, AssetCode, ChainParams, EscrowId, FailCode, FailReason, Op, Refusal, SigCache, State, TxBody,
    TxId, account_of,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

const CHAIN: [u8; 32] = [42; 32];

fn key(i: u8) -> SigningKey {
    SigningKey::from_bytes(&[i + 1; 32])
}

fn acct(i: u8) -> AccountId {
    account_of(&key(i))
}

/// Each block: its state root, its receipts' codes, the escrow views of its feed entries.
const PINNED: [(&str, &[&str], &[&str]); 5] = [
    (
        "c24d96a4ca1476fef9d7625315b5da5e0e5ec629083e8f3de1b3bd60b601a482",
        &["ok", "ok", "ok"],
        &[],
    ),
    (
        "2c22a866caad57b9247faa6a045c4c78ea153164a02887deff0778edf62191d2",
        &[
            "ok",
            "ok",
            "ok",
            "ok",
            "zero_amount",
            "expiry_in_past",
            "escrow_exists",
        ],
        &[
            r#"{"id":"f6cc2eaf95bf1a144f793c43319feec3cb2f29776082d35637eaa81f431c6dac","payer":"8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394","payee":"ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1","asset":"DCEP","amount":2000,"condition":"f0e38b830ebd8a506615ecd154330ec07ff6bf5030447b44e297db1d4b7514ac","expires_at_ms":10000,"memo":"AQEB","reference":"01010101010101010101010101010101","status":"prepared","created_height":2}"#,
            r#"{"id":"33e5c91a99b587a64e35458bf303bf5561a52dee4d9058a389809a35a6d5c9da","payer":"8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394","payee":"ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1","asset":"DCEP","amount":1000,"condition":"308c1cf897a05c3584d7186e30bb80ba686ce171f54cb380b20fab93799f7341","expires_at_ms":3000,"memo":"AgIC","reference":"02020202020202020202020202020202","status":"prepared","created_height":2}"#,
            r#"{"id":"12ccd40cea744f5c6d2c575673667007190d98913c0d43553cb659943bf6e5d8","payer":"8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394","payee":"ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1","asset":"DCEP","amount":300,"condition":"967ebe35961d9404b393547bc6758397ddf39c46a8bf479cab1a644f9c9b2560","expires_at_ms":10000,"memo":"AwMD","reference":"03030303030303030303030303030303","status":"prepared","created_height":2}"#,
        ],
    ),
    (
        "baf162a44a1081362b9be16b008eee08e79843c709a3301725803bed0bee3d8d",
        &[
            "wrong_fulfillment",
            "ok",
            "not_yet_expired",
            "not_payee",
            "ok",
            "escrow_final",
        ],
        &[
            r#"{"id":"f6cc2eaf95bf1a144f793c43319feec3cb2f29776082d35637eaa81f431c6dac","payer":"8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394","payee":"ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1","asset":"DCEP","amount":2000,"condition":"f0e38b830ebd8a506615ecd154330ec07ff6bf5030447b44e297db1d4b7514ac","expires_at_ms":10000,"memo":"AQEB","reference":"01010101010101010101010101010101","status":"fulfilled","fulfillment":"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b","created_height":2,"closed_height":3}"#,
            r#"{"id":"12ccd40cea744f5c6d2c575673667007190d98913c0d43553cb659943bf6e5d8","payer":"8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394","payee":"ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1","asset":"DCEP","amount":300,"condition":"967ebe35961d9404b393547bc6758397ddf39c46a8bf479cab1a644f9c9b2560","expires_at_ms":10000,"memo":"AwMD","reference":"03030303030303030303030303030303","status":"rejected","created_height":2,"closed_height":3,"reject_reason":"F05 condition does not match"}"#,
        ],
    ),
    (
        "fc387aecda94f09c17bac5ebbdb874ef85dc722aa199acaf80b468a48fbbb0f2",
        &[
            "escrow_expired",
            "escrow_expired",
            "ok",
            "escrow_final",
            "unknown_escrow",
        ],
        &[
            r#"{"id":"33e5c91a99b587a64e35458bf303bf5561a52dee4d9058a389809a35a6d5c9da","payer":"8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394","payee":"ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1","asset":"DCEP","amount":1000,"condition":"308c1cf897a05c3584d7186e30bb80ba686ce171f54cb380b20fab93799f7341","expires_at_ms":3000,"memo":"AgIC","reference":"02020202020202020202020202020202","status":"expired","created_height":2,"closed_height":4}"#,
        ],
    ),
    (
        "300fd366fb1714fb4e67d4a6b21577ae352e3bca4622ffd971bf49febe58108c",
        &["ok", "insufficient_funds", "not_issuer"],
        &[],
    ),
];

#[test]
fn a_fixed_history_commits_to_the_pinned_roots_and_shows_the_pinned_json() {
    let mut nonces = std::collections::HashMap::<u8, u64>::new();
    let mut tx = |who: u8, op: Op| -> Vec<u8> {
        let n = nonces.entry(who).or_insert(0);
        *n += 1;
        TxBody {
            chain_id: CHAIN,
            signer: acct(who),
            nonce: *n,
            op,
        }
        .sign(&key(who))
    };
    let dcep = AssetCode::new("DCEP").unwrap();
    let pre = |p: u8| Fulfillment::from_bytes([p; 32]);
    let cond = |p: u8| -> Condition { pre(p).condition() };
    let escrow = |payer: u8, r: u8| EscrowId::derive(&acct(payer), &[r; 16]);
    let create = |r: u8, amount: u64, p: u8, expires_at_ms: u64| Op::EscrowCreate {
        reference: [r; 16],
        asset: dcep.clone(),
        payee: acct(2),
        amount,
        condition: cond(p),
        expires_at_ms,
        memo: vec![r; 3],
    };
    let fulfil = |payer: u8, r: u8, p: u8| Op::EscrowFulfill {
        escrow: escrow(payer, r),
        fulfillment: pre(p),
    };
    let reject = |r: u8, reason: &str| Op::EscrowReject {
        escrow: escrow(1, r),
        reason: reason.into(),
    };
    let refund = |payer: u8, r: u8| Op::EscrowRefund {
        escrow: escrow(payer, r),
    };
    let blocks: Vec<(u64, Vec<Vec<u8>>)> = vec![
        (
            1_000,
            vec![
                tx(
                    0,
                    Op::CreateAsset {
                        code: dcep.clone(),
                        scale: 2,
                    },
                ),
                tx(
                    0,
                    Op::Issue {
                        asset: dcep.clone(),
                        to: acct(1),
                        amount: 10_000,
                    },
                ),
                tx(
                    0,
                    Op::Issue {
                        asset: dcep.clone(),
                        to: acct(2),
                        amount: 500,
                    },
                ),
            ],
        ),
        (
            2_000,
            vec![
                tx(1, create(1, 2_000, 11, 10_000)),
                tx(1, create(2, 1_000, 12, 3_000)),
                tx(1, create(3, 300, 13, 10_000)),
                tx(
                    2,
                    Op::Transfer {
                        asset: dcep.clone(),
                        to: acct(1),
                        amount: 100,
                    },
                ),
                tx(1, create(4, 0, 14, 10_000)),
                tx(1, create(5, 5, 15, 2_000)),
                tx(1, create(1, 7, 11, 10_000)),
            ],
        ),
        (
            2_500,
            vec![
                tx(3, fulfil(1, 1, 99)),
                tx(3, fulfil(1, 1, 11)),
                tx(3, refund(1, 2)),
                tx(1, reject(3, "mine")),
                tx(2, reject(3, "F05 condition does not match")),
                tx(3, fulfil(1, 1, 11)),
            ],
        ),
        (
            3_000,
            vec![
                tx(3, fulfil(1, 2, 12)),
                tx(2, reject(2, "")),
                tx(3, refund(1, 2)),
                tx(2, reject(2, "")),
                tx(3, refund(7, 7)),
            ],
        ),
        (
            3_100,
            vec![
                tx(
                    4,
                    Op::Anchor {
                        namespace: "identity/attestations".into(),
                        root: [3; 32],
                        items: 2,
                        sequence: 1,
                        previous: [0; 32],
                    },
                ),
                tx(
                    0,
                    Op::Redeem {
                        asset: dcep.clone(),
                        amount: 50,
                    },
                ),
                tx(
                    2,
                    Op::Redeem {
                        asset: dcep.clone(),
                        amount: 1,
                    },
                ),
            ],
        ),
    ];
    let mut state = State::genesis(&CHAIN);
    let sigs = SigCache::new(1000);
    for ((now, txs), (root, codes, views)) in blocks.into_iter().zip(PINNED) {
        let ctx = BlockContext {
            chain_id: CHAIN,
            height: state.height + 1,
            timestamp_ms: now,
            params: ChainParams::default(),
        };
        let out = execute_block(&state, state.root, &ctx, &sigs.prepare(&txs));
        let got: Vec<&str> = out
            .receipts
            .iter()
            .map(|r| r.outcome.as_ref().map_or_else(|e| e.code().as_str(), |()| "ok"))
            .collect();
        assert_eq!(got, codes, "receipts of block {}", ctx.height);
        assert_eq!(
            hex::encode(out.state_root()),
            root,
            "state root of block {}",
            ctx.height
        );
        let shown: Vec<EscrowView> = out
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Escrow { escrow, .. } => Some(EscrowView::from(escrow.as_ref())),
                Event::Anchored(_) => None,
            })
            .collect();
        assert_eq!(shown.len(), views.len());
        for (view, json) in shown.iter().zip(views) {
            assert_eq!(&serde_json::to_string(view).unwrap(), json);
            assert_eq!(&serde_json::from_str::<EscrowView>(json).unwrap(), view);
        }
        state.apply(&out.changes, ctx.height, out.state_root());
    }
}

/// `value` serializes to `json` and `json` reads back as `value`.
fn same_json<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T, json: &str) {
    assert_eq!(serde_json::to_string(value).unwrap(), json);
    assert_eq!(&serde_json::from_str::<T>(json).unwrap(), value);
}

#[test]
fn every_api_shape_serializes_as_before() {
    let dcep = AssetCode::new("DC/EP").unwrap();
    same_json(
        &TxStatus {
            id: TxId([1; 32]),
            status: TxState::Failed,
            height: Some(7),
            index: Some(2),
            kind: Some("escrow_fulfill".into()),
            reason: Some(FailCode::WrongFulfillment),
            detail: Some("fulfillment does not match the condition".into()),
        },
        r#"{"id":"0101010101010101010101010101010101010101010101010101010101010101","status":"failed","height":7,"index":2,"kind":"escrow_fulfill","reason":"wrong_fulfillment","detail":"fulfillment does not match the condition"}"#,
    );
    same_json(
        &AccountView {
            account: AccountId([2; 32]),
            nonce: 3,
            balances: vec![AssetBalance {
                asset: dcep.clone(),
                amount: 5,
                held: 1,
            }],
        },
        r#"{"account":"0202020202020202020202020202020202020202020202020202020202020202","nonce":3,"balances":[{"asset":"DC/EP","amount":5,"held":1}]}"#,
    );
    same_json(
        &AssetView {
            code: dcep,
            issuer: AccountId([3; 32]),
            scale: 2,
            supply: 9,
        },
        r#"{"code":"DC/EP","issuer":"0303030303030303030303030303030303030303030303030303030303030303","scale":2,"supply":9}"#,
    );
    let anchor = AnchorView {
        id: TxId([4; 32]),
        namespace: "identity/attestations".into(),
        root: [5; 32],
        items: 2,
        submitter: AccountId([6; 32]),
        height: 8,
        sequence: 1,
        previous: [0; 32],
        batch: [7; 32],
    };
    same_json(
        &EventPage {
            events: vec![EventView {
                cursor: 9,
                height: 8,
                time_ms: 1_700_000_000_000,
                tx_id: TxId([4; 32]),
                kind: FeedKind::Anchored,
                escrow: None,
                anchor: Some(anchor),
            }],
            next: 9,
        },
        r#"{"events":[{"cursor":9,"height":8,"time_ms":1700000000000,"tx_id":"0404040404040404040404040404040404040404040404040404040404040404","kind":"anchored","anchor":{"id":"0404040404040404040404040404040404040404040404040404040404040404","namespace":"identity/attestations","root":"0505050505050505050505050505050505050505050505050505050505050505","items":2,"submitter":"0606060606060606060606060606060606060606060606060606060606060606","height":8,"sequence":1,"previous":"0000000000000000000000000000000000000000000000000000000000000000","batch":"0707070707070707070707070707070707070707070707070707070707070707"}}],"next":9}"#,
    );
    same_json(
        &BlockView {
            height: 8,
            hash: [7; 32],
            view: 11,
            timestamp_ms: 1_700_000_000_000,
            proposer: 1,
            parent_hash: [8; 32],
            payload_root: [9; 32],
            state_root: [10; 32],
            tx_ids: vec![TxId([4; 32]), TxId([1; 32])],
            qc_signers: vec![0, 1, 3],
            block: vec![0x00, 0xff],
            qc: vec![0x01, 0x02],
        },
        r#"{"height":8,"hash":"0707070707070707070707070707070707070707070707070707070707070707","view":11,"timestamp_ms":1700000000000,"proposer":1,"parent_hash":"0808080808080808080808080808080808080808080808080808080808080808","payload_root":"0909090909090909090909090909090909090909090909090909090909090909","state_root":"0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a","tx_ids":["0404040404040404040404040404040404040404040404040404040404040404","0101010101010101010101010101010101010101010101010101010101010101"],"qc_signers":[0,1,3],"block":"00ff","qc":"0102"}"#,
    );
    same_json(
        &CommitteeView {
            epoch: 0,
            chain_id: [11; 32],
            quorum: 3,
            members: vec![MemberView {
                index: 0,
                public_key: vec![12; 48],
                operator: "bank a".into(),
            }],
            genesis: vec![0xab, 0xcd],
        },
        r#"{"epoch":0,"chain_id":"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b","quorum":3,"members":[{"index":0,"public_key":"0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c","operator":"bank a"}],"genesis":"abcd"}"#,
    );
    same_json(
        &NodeStatus {
            chain_id: [11; 32],
            validator: Some(2),
            committed_height: 8,
            state_root: [10; 32],
            view: 12,
            mempool: 0,
            catching_up: false,
            last_event: 9,
        },
        r#"{"chain_id":"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b","validator":2,"committed_height":8,"state_root":"0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a","view":12,"mempool":0,"catching_up":false,"last_event":9}"#,
    );
}

#[test]
fn problem_documents_carry_the_same_codes() {
    let cases = [
        (
            ApiError::Refused {
                reason: FailReason::BadSignature,
            },
            ProblemCode::Rule(FailCode::BadSignature),
            r#"{"type":"urn:cypherlink:chain:bad_signature","title":"Unprocessable Entity","status":422,"code":"bad_signature","detail":"invalid signature"}"#,
        ),
        (
            ApiError::NotAdmitted(Refusal::Rule(FailReason::InsufficientFunds {
                available: 0,
                needed: 5,
            })),
            ProblemCode::Rule(FailCode::InsufficientFunds),
            r#"{"type":"urn:cypherlink:chain:insufficient_funds","title":"Unprocessable Entity","status":422,"code":"insufficient_funds","detail":"insufficient funds: 0 available, 5 needed"}"#,
        ),
        (
            ApiError::Malformed("tx must be hex".into()),
            ProblemCode::Malformed,
            r#"{"type":"urn:cypherlink:chain:malformed","title":"Bad Request","status":400,"code":"malformed","detail":"tx must be hex"}"#,
        ),
        (
            ApiError::RateLimited {
                what: "this client".into(),
                retry_after_s: 2,
            },
            ProblemCode::RateLimited,
            r#"{"type":"urn:cypherlink:chain:rate_limited","title":"Too Many Requests","status":429,"code":"rate_limited","detail":"this client is over its rate limit; retry after 2 s"}"#,
        ),
    ];
    for (error, code, json) in cases {
        let problem = error.problem();
        assert_eq!(problem.code, code);
        same_json::<Problem>(&problem, json);
    }
    // Every code the API documents reads back as itself; one a newer node may add is kept.
    for name in ledger_node::node::http::PROBLEM_CODES {
        let code: ProblemCode = name.parse().unwrap();
        assert!(!matches!(code, ProblemCode::Other(_)), "{name}");
        assert_eq!(code.as_str(), *name);
    }
    let newer: ProblemCode = "asset_frozen".parse().unwrap();
    assert_eq!(newer, ProblemCode::Other("asset_frozen".into()));
    assert_eq!(serde_json::to_string(&newer).unwrap(), r#""asset_frozen""#);
}
