//! The conformance suite against the chain plugin: a committee of four validators (in this
//! process, on 127.0.0.1, real TCP links, SQLite, HTTP API) and `ChainPlugin`s over HTTP.
//!
//! One committee serves every check of this binary. The checks take turns (a lock), since
//! moving the chain's time forward would expire another check's escrows; each check gets two
//! fresh accounts funded by the asset's issuer, so none sees another's money or events.
//!
//! Time: the validators read an `OffsetClock` (wall clock plus the jumps the checks make) and
//! the plugins a `ManualClock` that moves only by those jumps. The chain's block time is then
//! never behind the plugins' time, and the plugins decide when an escrow has expired exactly
//! at its expiry, as the checks require.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use ed25519_dalek::SigningKey;
use htlc::{Address, Clock, Fulfillment, ManualClock, OffsetClock, Timestamp};
use ledger_node::api::{ChainClient, Signer, TxState};
use ledger_node::crypto::sha256;
use ledger_node::node::local::start_local_committee;
use ledger_node::state::{AssetCode, Op, account_of};
use plugins::chain::{ChainPlugin, ChainPluginConfig};
use plugins::conformance::{Harness, MIN_FUNDING};
use plugins::{AccountId, LedgerPlugin, PrepareTransfer, TransferId};
use rand::Rng;

const VALIDATORS: u16 = 4;
/// With its `/`, as the e-CNY ledger writes it (and as a URL path segment must escape it).
const ASSET: &str = "DC/EP";

/// The committee, running on its own runtime for the life of the test binary.
struct Network {
    api: String,
    tls: tls::ClientTls,
    node_clock: Arc<OffsetClock>,
    issuer: [u8; 32],
    turn: Arc<tokio::sync::Mutex<()>>,
}

fn network() -> &'static Network {
    static NETWORK: OnceLock<Network> = OnceLock::new();
    NETWORK.get_or_init(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let (ready, started) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let network = start_network().await;
                ready.send(network).expect("test waits");
                std::future::pending::<()>().await;
            });
        });
        started.recv().expect("the committee starts")
    })
}

async fn start_network() -> Network {
    // The committee lives as long as the test binary (a static never drops, so a `TempDir`
    // would never be removed): its files go to cargo's per-target scratch directory instead,
    // replaced by the next run rather than piling up in /tmp.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("chain-conformance");
    let _ = std::fs::remove_dir_all(&dir);
    let seeds: Vec<[u8; 32]> = (0..VALIDATORS)
        .map(|i| {
            let i = u8::try_from(i).expect("fewer than 256 validators");
            sha256(&[b"chain conformance validator", &[i]])
        })
        .collect();
    let node_clock = Arc::new(OffsetClock::new());
    let committee = start_local_committee(&dir, &seeds, node_clock.clone() as Arc<dyn Clock>)
        .await
        .expect("the committee starts");
    let api = committee.api_url(usize::from(VALIDATORS) - 1);
    let issuer = sha256(&[b"chain conformance central bank"]);
    let client = committee.client(usize::from(VALIDATORS) - 1).unwrap();
    let chain_id = client.chain_id().await.expect("chain id");
    let mut bank = Signer::new(SigningKey::from_bytes(&issuer), chain_id, 0);
    let created = client
        .submit_and_wait(
            &bank.sign(Op::CreateAsset {
                code: AssetCode::new(ASSET).expect("code"),
                scale: 2,
            }),
            Duration::from_secs(30),
        )
        .await
        .expect("create asset");
    assert_eq!(created.status, TxState::Final, "{created:?}");
    Network {
        api,
        tls: committee.client_tls(),
        node_clock,
        issuer,
        turn: Arc::new(tokio::sync::Mutex::new(())),
    }
}

/// Two funded accounts on the shared committee, each with its own plugin.
struct ChainHarness {
    clock: Arc<ManualClock>,
    payer: Arc<ChainPlugin>,
    payee: Arc<ChainPlugin>,
    unknown: AccountId,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

async fn harness() -> ChainHarness {
    let net = network();
    let turn = net.turn.clone().lock_owned().await;
    let client = ChainClient::new(net.api.clone()).with_tls(&net.tls).expect("TLS");
    let chain_id = client.chain_id().await.expect("chain id");
    let issuer = SigningKey::from_bytes(&net.issuer);
    let nonce = client.account(&account_of(&issuer)).await.expect("issuer").nonce;
    let mut bank = Signer::new(issuer, chain_id, nonce);
    let clock = Arc::new(ManualClock::new(
        Timestamp::from_unix_millis(net.node_clock.now().unix_millis()).expect("now"),
    ));
    let mut rng = rand::thread_rng();
    let mut party = async |name: &str| {
        let key = SigningKey::from_bytes(&rng.r#gen());
        let funded = client
            .submit_and_wait(
                &bank.sign(Op::Issue {
                    asset: AssetCode::new(ASSET).expect("code"),
                    to: account_of(&key),
                    amount: 5 * MIN_FUNDING,
                }),
                Duration::from_secs(30),
            )
            .await
            .expect("issue");
        assert_eq!(funded.status, TxState::Final, "{funded:?}");
        let config = ChainPluginConfig {
            node_url: net.api.clone(),
            key,
            asset: AssetCode::new(ASSET).expect("code"),
            ledger_id: format!("chain-{name}"),
            ilp_prefix: Address::new("test.chain").expect("address"),
            expected_finality_ms: 500,
            finality_timeout: Duration::from_secs(30),
            tls: Some(net.tls.clone()),
        };
        Arc::new(
            ChainPlugin::connect_with_clock(config, clock.clone() as Arc<dyn Clock>)
                .await
                .expect("plugin connects"),
        )
    };
    let payer = party("payer").await;
    let payee = party("payee").await;
    let stranger = account_of(&SigningKey::from_bytes(&rand::thread_rng().r#gen()));
    ChainHarness {
        clock,
        payer,
        payee,
        unknown: AccountId::new(stranger.to_hex()).expect("hex id"),
        _turn: turn,
    }
}

#[async_trait]
impl Harness for ChainHarness {
    fn payer(&self) -> Arc<dyn LedgerPlugin> {
        self.payer.clone()
    }
    fn payee(&self) -> Arc<dyn LedgerPlugin> {
        self.payee.clone()
    }
    fn payer_account(&self) -> AccountId {
        self.payer.account().clone()
    }
    fn payee_account(&self) -> AccountId {
        self.payee.account().clone()
    }
    fn unknown_account(&self) -> AccountId {
        self.unknown.clone()
    }
    fn now(&self) -> Timestamp {
        self.clock.now()
    }
    /// Moves both clocks, then lets each party refund what expired (as its refunder would).
    async fn advance(&self, millis: i64) {
        self.clock.advance_millis(millis);
        network().node_clock.advance_millis(millis);
        self.payer.refund_expired().await.expect("payer refunds");
        self.payee.refund_expired().await.expect("payee refunds");
    }
}

plugins::conformance_suite!(chain, crate::harness());

/// A payer whose receiver went offline with many payments pending gets every one back in a
/// single refund round, with nothing left over and no money lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_round_refunds_many_expired_escrows() {
    const ESCROWS: usize = 30;
    const EXPIRY_MS: i64 = 30_000;
    let h = harness().await;
    let before = h.payer.balance(h.payer.account()).await.expect("balance");
    let expires_at = h.now().checked_add_millis(EXPIRY_MS).expect("expiry in range");
    let prepares = (0..ESCROWS).map(|i| {
        let i = u8::try_from(i).expect("fewer than 256 escrows");
        let fulfillment = Fulfillment::from_bytes(sha256(&[b"refund round", &[i]]));
        h.payer.prepare(PrepareTransfer {
            id: TransferId::random(),
            from: h.payer_account(),
            to: h.payee_account(),
            amount: 100 + u64::from(i),
            condition: fulfillment.condition(),
            expires_at,
            memo: Vec::new(),
        })
    });
    for prepared in futures::future::join_all(prepares).await {
        prepared.expect("prepare");
    }
    let held = h.payer.balance(h.payer.account()).await.expect("balance");
    assert_eq!(held.held, (0..ESCROWS as u64).map(|i| 100 + i).sum::<u64>());

    h.clock.advance_millis(EXPIRY_MS);
    network().node_clock.advance_millis(EXPIRY_MS);
    assert_eq!(h.payer.refund_expired().await.expect("refund round"), ESCROWS);
    assert_eq!(h.payer.balance(h.payer.account()).await.expect("balance"), before);
    assert_eq!(
        h.payer.refund_expired().await.expect("second round"),
        0,
        "nothing left"
    );
}
