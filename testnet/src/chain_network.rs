//! The demo network with the DC/EP leg on the committee chain (the `testnet` crate):
//! the digital-euro ledger as in [`crate::network`], four validators of the committee chain in
//! this process (real TCP links between them, SQLite, HTTP APIs on free 127.0.0.1 ports), the
//! central bank issuing DC/EP on the chain to the clearing bank and to Bank B, the clearing
//! bank's connector configured with a `kind = "chain"` ledger, Bank B's receiver on the chain
//! and Bank A paying from its digital-euro account.
//!
//! Block times are the machine's clock, so this network runs on the wall clock only.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use htlc::{Address, AssetCode, Clock};
use ledger_node::api::{ChainClient, Signer, TxState};
use ledger_node::crypto::sha256;
use ledger_node::node::local::{LocalCommittee, start_local_committee};
use ledger_node::state::{Op, account_of};
use mock_ledgers::config::{LedgerConfig, fixtures};
use mock_ledgers::server::RunningLedger;
use plugins::chain::{ChainPlugin, ChainPluginConfig, SigningKey};
use plugins::{AccountId, LedgerPlugin};

use crate::network::{
    AccountBalance, BankB, CONNECTOR_FIXTURE, NetworkError, NetworkOptions, ParticipantClients, bank_a_payer,
    dev_certs, https_url, ledger_balances, serve_api_with, start_ledger, stop_ledger, stop_within,
};
use connector::LedgerId;
use connector::config::ConnectorConfig;
use connector::receiver::Receiver;
use connector::runtime::{self, RunningConnector};
use connector::sender::Payer;
use tls::dev::DevCerts;

/// The chain's ledger id in the connector, and its asset.
pub const CHAIN_LEDGER: &str = "dcep-chain";
/// DC/EP's asset code on the chain: the e-CNY ledger's, since every ledger shares `htlc`'s rule.
pub const DCEP: &str = "DC/EP";
/// DC/EP the central bank issues to the clearing bank (minor units: 1,000,000.00).
pub const CLEARING_BANK_DCEP: u64 = 100_000_000;
/// DC/EP the central bank issues to Bank B, so its account exists (10.00).
pub const BANK_B_DCEP: u64 = 1_000;
/// Validators in the local committee.
pub const VALIDATORS: usize = 4;
/// Longest wait for one setup transaction to become final.
const SETUP_FINALITY: Duration = Duration::from_secs(30);

/// A demo key, derived from a name (published: test use only).
pub fn demo_seed(name: &str) -> [u8; 32] {
    sha256(&[b"cypherlink demo chain", name.as_bytes()])
}

fn chain_error(what: &str) -> impl Fn(ledger_node::api::ClientError) -> NetworkError + '_ {
    move |e| NetworkError::Ledger(format!("chain: {what}: {e}"))
}

/// The chain plugin settings the demo's parties use on validator `node_url`.
pub fn chain_plugin_config(node_url: &str, key: &SigningKey, tls: &tls::ClientTls) -> ChainPluginConfig {
    ChainPluginConfig {
        node_url: node_url.to_owned(),
        key: key.clone(),
        asset: AssetCode::new(DCEP).expect("a valid asset code"),
        ledger_id: CHAIN_LEDGER.into(),
        ilp_prefix: Address::new("test.dcep").expect("a valid ILP prefix"),
        expected_finality_ms: 1_000,
        finality_timeout: SETUP_FINALITY,
        tls: Some(tls.clone()),
    }
}

/// The connector fixture with its e-CNY ledger replaced by the chain, as an operator writes it.
pub fn chain_connector_config(
    dir: &Path,
    digital_euro: SocketAddr,
    chain_url: &str,
    key: &SigningKey,
    options: &NetworkOptions,
    certs: &DevCerts,
    chain_tls: &tls::ClientTls,
) -> ConnectorConfig {
    let fixture = CONNECTOR_FIXTURE.replace("\"e-cny\"", &format!("\"{CHAIN_LEDGER}\""));
    let mut config = ConnectorConfig::from_toml(&fixture).expect("the connector fixture is valid");
    let chain_section = format!(
        r#"
        [connector]
        ilp_address = "test.clearing"
        [api]
        plain_http = true
        [[ledgers]]
        id = "{CHAIN_LEDGER}"
        kind = "chain"
        url = "{chain_url}"
        key_secret = "{seed}"
        account = "{account}"
        liquidity_floor = "200000.00"
        [ledgers.chain]
        asset = "{DCEP}"
        ilp_prefix = "test.dcep"
        expected_finality_ms = 1000
        "#,
        seed = hex::encode(key.to_bytes()),
        account = account_of(key).to_hex(),
    );
    let chain_ledger = ConnectorConfig::from_toml(&chain_section)
        .expect("the chain ledger section is valid")
        .ledgers
        .remove(0);
    for ledger in &mut config.ledgers {
        if ledger.id.as_str() == CHAIN_LEDGER {
            *ledger = chain_ledger.clone();
            ledger.tls = Some(chain_tls.clone());
        } else {
            ledger.url = https_url(digital_euro);
            ledger.tls = Some(certs.client());
        }
    }
    config.connector.database = dir.join("connector.sqlite");
    config.connector.durability = options.durability;
    serve_api_with(&mut config, certs);
    config
}

/// The central bank creates DC/EP on the chain and issues it to each `(key, amount)`.
async fn issue_dcep(chain: &ChainClient, to: &[(&SigningKey, u64)]) -> Result<(), NetworkError> {
    let central_bank = SigningKey::from_bytes(&demo_seed("central bank"));
    let chain_id = chain
        .chain_id()
        .await
        .map_err(chain_error("reading the chain id"))?;
    let mut signer = Signer::new(central_bank, chain_id, 0);
    let asset = AssetCode::new(DCEP).map_err(|e| NetworkError::Ledger(e.to_string()))?;
    let mut txs = vec![signer.sign(Op::CreateAsset {
        code: asset.clone(),
        scale: 2,
    })];
    for (key, amount) in to {
        txs.push(signer.sign(Op::Issue {
            asset: asset.clone(),
            to: account_of(key),
            amount: *amount,
        }));
    }
    for tx in txs {
        let status = chain
            .submit_and_wait(&tx, SETUP_FINALITY)
            .await
            .map_err(chain_error("issuing DC/EP"))?;
        if status.status != TxState::Final {
            return Err(NetworkError::Ledger(format!(
                "chain: issuing DC/EP failed: {status:?}"
            )));
        }
    }
    Ok(())
}

/// The running network. Dropping it stops nothing; call [`ChainNetwork::stop`]. The validators
/// run until the process (or the test's runtime) ends.
pub struct ChainNetwork {
    /// The digital-euro ledger.
    pub digital_euro: RunningLedger,
    /// The four validators.
    pub committee: LocalCommittee,
    /// The clearing bank's connector.
    pub connector: RunningConnector,
    /// The connector configuration in use (with the real ports).
    pub connector_config: ConnectorConfig,
    /// Bank A paying from its digital-euro account.
    pub payer: Payer,
    /// Bank B's receiver on the chain.
    pub receiver: Arc<Receiver>,
    /// Bank B's setup URL (`.../.well-known/pay`).
    pub receiver_url: String,
    de_config: LedgerConfig,
    de_readers: ParticipantClients,
    /// Reads every chain account in reports through one validator (the connector's), so a
    /// report is one node's view at one height: through two nodes, one may still be a block
    /// behind the other and show a payment half done.
    chain_reader: Arc<ChainPlugin>,
    /// (holder name, account) of each chain account shown in reports.
    chain_accounts: Vec<(&'static str, AccountId)>,
    bank_b: BankB,
}

impl std::fmt::Debug for ChainNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainNetwork")
            .field("digital_euro", &self.digital_euro.addr())
            .field("validators", &self.committee.apis)
            .field("connector", &self.connector.api_addr)
            .finish_non_exhaustive()
    }
}

impl ChainNetwork {
    /// Starts everything with its files under `dir`, on `clock` (the wall clock: block times are).
    pub async fn start(
        dir: &Path,
        clock: Arc<dyn Clock>,
        options: NetworkOptions,
    ) -> Result<Self, NetworkError> {
        let certs = dev_certs(dir)?;
        let (de_config, digital_euro, de_readers) =
            start_ledger(fixtures::DIGITAL_EURO, dir, options.durability, &certs, &clock).await?;

        let seeds: Vec<[u8; 32]> = (0..VALIDATORS)
            .map(|i| demo_seed(&format!("validator {i}")))
            .collect();
        let committee = start_local_committee(&dir.join("chain"), &seeds, Arc::clone(&clock))
            .await
            .map_err(|e| NetworkError::Ledger(format!("chain: {e}")))?;
        let clearing_key = SigningKey::from_bytes(&demo_seed("clearing bank"));
        let bank_b_key = SigningKey::from_bytes(&demo_seed("bank b"));
        issue_dcep(
            &committee
                .client(0)
                .map_err(chain_error("connecting to the chain"))?,
            &[(&clearing_key, CLEARING_BANK_DCEP), (&bank_b_key, BANK_B_DCEP)],
        )
        .await?;

        let connector_config = chain_connector_config(
            dir,
            digital_euro.addr(),
            &committee.api_url(0),
            &clearing_key,
            &options,
            &certs,
            &committee.client_tls(),
        );
        let connector = runtime::start(&connector_config, Arc::clone(&clock), options.engine.clone()).await?;

        // Bank B reaches the chain through another validator than the connector.
        let bank_b_chain = Arc::new(
            ChainPlugin::connect_with_clock(
                chain_plugin_config(
                    &committee.api_url(VALIDATORS - 1),
                    &bank_b_key,
                    &committee.client_tls(),
                ),
                Arc::clone(&clock),
            )
            .await?,
        );
        let clearing_chain = Arc::new(
            ChainPlugin::connect_with_clock(
                chain_plugin_config(&committee.api_url(0), &clearing_key, &committee.client_tls()),
                Arc::clone(&clock),
            )
            .await?,
        );
        let bank_b = BankB::start(
            Arc::clone(&bank_b_chain) as Arc<dyn LedgerPlugin>,
            bank_b_chain.account().clone(),
            dir,
            options.durability,
            Arc::clone(&clock),
            options.receiver_online,
            &certs,
        )
        .await?;

        let payer = bank_a_payer(
            de_readers.get("bank-a").cloned(),
            &connector.base_url(),
            clock,
            &certs,
        )?;
        Ok(ChainNetwork {
            digital_euro,
            committee,
            connector,
            connector_config,
            payer,
            receiver: Arc::clone(&bank_b.receiver),
            receiver_url: bank_b.url.clone(),
            de_config,
            de_readers,
            chain_accounts: vec![
                ("Clearing bank", clearing_chain.account().clone()),
                ("Bank B", bank_b_chain.account().clone()),
            ],
            chain_reader: clearing_chain,
            bank_b,
        })
    }

    /// Every digital-euro account, then the clearing bank's and Bank B's DC/EP on the chain.
    pub async fn balances(&self) -> Result<Vec<AccountBalance>, NetworkError> {
        let mut out = ledger_balances(&self.de_config, &self.de_readers).await?;
        let reader = &self.chain_reader;
        for (name, account) in &self.chain_accounts {
            let balance = reader.balance(account).await?;
            out.push(AccountBalance {
                ledger: LedgerId::new(CHAIN_LEDGER),
                account: account.clone(),
                name: (*name).to_owned(),
                asset: reader.info().asset.clone(),
                available: balance.available,
                held: balance.held,
            });
        }
        Ok(out)
    }

    /// Stops the connector, the receiver and the digital-euro ledger.
    pub async fn stop(self) {
        stop_within("the connector", self.connector.stop()).await;
        stop_within("Bank B's receiver", self.bank_b.stop()).await;
        stop_ledger("digital-euro", self.digital_euro).await;
    }
}
