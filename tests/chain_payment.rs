//! The scenario with the DC/EP leg on the committee chain (DESIGN.md steps 4-13): Bank A pays
//! 1001.00 DE on the digital-euro ledger; the clearing bank's connector locks 2000.00 DC/EP on
//! the chain for Bank B under the same condition; Bank B's receiver fulfils on the chain; the
//! connector learns the preimage from the chain and is paid on the digital-euro ledger.
//!
//! Every part is real: the digital-euro ledger (HTTP + SQLite), four validators with TCP links
//! and SQLite (in this process), the connector (configured with a `kind = "chain"` ledger), the
//! receiver and the sender. All on the machine's clock, since block times are wall-clock time.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use connector::LedgerId;
use connector::config::ConnectorConfig;
use connector::engine::EngineOptions;
use connector::network::{CONNECTOR_FIXTURE, ledger_config};
use connector::receiver::{Receiver, ReceiverSeed, http as receiver_http};
use connector::sender::Payer;
use connector::store::{Durability, Store};
use htlc::{Address, Clock, SystemClock};
use ledger_node::api::{ChainClient, Signer, TxState};
use ledger_node::crypto::sha256;
use ledger_node::node::local::start_local_committee;
use ledger_node::state::{AssetCode, Op, account_of};
use plugins::chain::{ChainPlugin, ChainPluginConfig, SigningKey};
use plugins::config::fixtures;
use plugins::{AccountId, LedgerPlugin, RestPlugin, RestPluginConfig};

const DCEP: &str = "DCEP";

fn seed(name: &str) -> [u8; 32] {
    sha256(&[b"chain payment test", name.as_bytes()])
}

/// The central bank creates DC/EP and issues it to the clearing bank (liquidity) and to Bank B
/// (so its account exists on the chain).
async fn issue_dcep(chain: &ChainClient, to: &[(&SigningKey, u64)]) {
    let central_bank = SigningKey::from_bytes(&seed("central bank"));
    let mut signer = Signer::new(central_bank, chain.chain_id().await.unwrap(), 0);
    let mut txs = vec![signer.sign(Op::CreateAsset {
        code: AssetCode::new(DCEP).unwrap(),
        scale: 2,
    })];
    for (key, amount) in to {
        txs.push(signer.sign(Op::Issue {
            asset: AssetCode::new(DCEP).unwrap(),
            to: account_of(key),
            amount: *amount,
        }));
    }
    for tx in txs {
        let status = chain.submit_and_wait(&tx, Duration::from_secs(30)).await.unwrap();
        assert_eq!(status.status, TxState::Final, "{status:?}");
    }
}

fn chain_plugin_config(url: &str, key: &SigningKey) -> ChainPluginConfig {
    ChainPluginConfig {
        node_url: url.to_owned(),
        key: key.clone(),
        asset: DCEP.into(),
        ledger_id: "dcep-chain".into(),
        ilp_prefix: Address::new("test.dcep").unwrap(),
        expected_finality_ms: 1_000,
        finality_timeout: Duration::from_secs(30),
    }
}

/// The connector fixture with its e-CNY ledger replaced by the chain, as an operator writes it.
fn connector_config(
    dir: &std::path::Path,
    de_url: &str,
    chain_url: &str,
    key: &SigningKey,
) -> ConnectorConfig {
    let account = account_of(key).to_hex();
    let seed_hex = hex::encode(key.to_bytes());
    let fixture = CONNECTOR_FIXTURE.replace("\"e-cny\"", "\"dcep-chain\"");
    let mut config = ConnectorConfig::from_toml(&fixture).unwrap();
    let chain_section: ConnectorConfig = ConnectorConfig::from_toml(&format!(
        r#"
        [connector]
        ilp_address = "test.clearing"
        [[ledgers]]
        id = "dcep-chain"
        kind = "chain"
        url = "{chain_url}"
        key_secret = "{seed_hex}"
        account = "{account}"
        [ledgers.chain]
        asset = "DCEP"
        ilp_prefix = "test.dcep"
        expected_finality_ms = 1000
        "#
    ))
    .unwrap();
    for ledger in &mut config.ledgers {
        if ledger.id.as_str() == "dcep-chain" {
            *ledger = chain_section.ledgers[0].clone();
        } else {
            ledger.url = de_url.to_owned();
        }
    }
    config.connector.database = dir.join("connector.sqlite");
    config.connector.durability = Durability::Normal;
    config.api.listen = "127.0.0.1:0".parse().unwrap();
    config
}

async fn balance(plugin: &dyn LedgerPlugin, account: &AccountId) -> (i128, u64) {
    let b = plugin.balance(account).await.unwrap();
    (b.available, b.held)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bank_a_pays_bank_b_2000_dcep_settled_on_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);

    // The digital-euro ledger, from its fixture.
    let de_config = ledger_config(fixtures::DIGITAL_EURO, dir.path(), Durability::Normal).unwrap();
    let de = plugins::server::run_with_clock(de_config.clone(), Arc::clone(&clock))
        .await
        .unwrap();
    let de_url = format!("http://{}", de.addr());
    let de_client = |key_id: &str| {
        let secret = de_config.keys[key_id].secret.clone();
        RestPlugin::connect_with_clock(RestPluginConfig::new(&de_url, key_id, secret), Arc::clone(&clock))
    };
    let bank_a_de: Arc<dyn LedgerPlugin> = Arc::new(de_client("bank-a-k1").await.unwrap());
    let clearing_de = de_client("clearing-bank-k1").await.unwrap();

    // The committee chain with DC/EP issued by the central bank.
    let seeds: Vec<[u8; 32]> = (0..4u8).map(|i| seed(&format!("validator {i}"))).collect();
    let committee = start_local_committee(&dir.path().join("chain"), &seeds, Arc::clone(&clock))
        .await
        .unwrap();
    let chain_url = committee.api_url(0);
    let clearing_key = SigningKey::from_bytes(&seed("clearing bank"));
    let bank_b_key = SigningKey::from_bytes(&seed("bank b"));
    issue_dcep(
        &ChainClient::new(chain_url.clone()),
        &[(&clearing_key, 100_000_000), (&bank_b_key, 1_000)],
    )
    .await;

    // The clearing bank's connector: digital euro <-> DC/EP on the chain.
    let config = connector_config(dir.path(), &de_url, &chain_url, &clearing_key);
    let running = connector::runtime::start(&config, Arc::clone(&clock), EngineOptions::default())
        .await
        .unwrap();

    // Bank B's receiver on the chain (through another validator).
    let bank_b_chain = Arc::new(
        ChainPlugin::connect_with_clock(
            chain_plugin_config(&committee.api_url(3), &bank_b_key),
            Arc::clone(&clock),
        )
        .await
        .unwrap(),
    );
    let bank_b = bank_b_chain.account().clone();
    let receiver = Receiver::new(
        bank_b_chain.clone(),
        bank_b.clone(),
        ReceiverSeed::random(),
        Store::open(&dir.path().join("bank-b-receiver.sqlite"), Durability::Normal)
            .await
            .unwrap(),
        Arc::clone(&clock),
    )
    .unwrap();
    let (server, receiver_addr) =
        receiver_http::serve(receiver.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
    tokio::spawn(server);
    tokio::spawn(receiver.clone().run());

    let clearing_chain =
        ChainPlugin::connect_with_clock(chain_plugin_config(&chain_url, &clearing_key), Arc::clone(&clock))
            .await
            .unwrap();
    let clearing = clearing_chain.account().clone();
    let (bank_a_acct, clearing_acct) = (
        AccountId::new("bank-a").unwrap(),
        AccountId::new("clearing-bank").unwrap(),
    );
    let read = async || {
        BTreeMap::from([
            ("DE bank-a", balance(&*bank_a_de, &bank_a_acct).await),
            ("DE clearing-bank", balance(&clearing_de, &clearing_acct).await),
            ("DCEP clearing-bank", balance(&clearing_chain, &clearing).await),
            ("DCEP bank-b", balance(&*bank_b_chain, &bank_b).await),
        ])
    };
    let before = read().await;

    // Bank A: setup, quote 2000.00 DC/EP, pay.
    let payer = Payer::new(
        Arc::clone(&bank_a_de),
        LedgerId::new("digital-euro"),
        bank_a_acct.clone(),
        running.base_url(),
        Arc::clone(&clock),
    );
    let spsp = payer
        .setup(&format!("http://{receiver_addr}/.well-known/pay"))
        .await
        .unwrap();
    assert!(
        spsp.destination_account.to_string().starts_with("test.dcep."),
        "{}",
        spsp.destination_account
    );
    let receipt = payer
        .pay(&spsp, 200_000, "invoice on chain", |_| {})
        .await
        .unwrap();
    assert_eq!((receipt.quote.source_amount, receipt.quote.fee), (100_100, 100));

    // Exact movements: 1001.00 DE from Bank A to the clearing bank, 2000.00 DC/EP from the
    // clearing bank to Bank B; nothing left locked anywhere.
    let after = read().await;
    let moved: BTreeMap<&str, i128> = after
        .iter()
        .map(|(k, (available, held))| {
            assert_eq!(*held, 0, "{k} still has funds held");
            (*k, available - before[k].0)
        })
        .collect();
    assert_eq!(
        moved,
        BTreeMap::from([
            ("DE bank-a", -100_100),
            ("DE clearing-bank", 100_100),
            ("DCEP clearing-bank", -200_000),
            ("DCEP bank-b", 200_000),
        ])
    );
    let received = receiver.received(receipt.uetr).await.unwrap();
    assert_eq!(
        (received.len(), received[0].amount, received[0].outcome.as_str()),
        (1, 200_000, "fulfilled")
    );
    running.stop().await;
}
