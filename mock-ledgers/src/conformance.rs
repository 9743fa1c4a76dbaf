//! A [`Harness`] for ledgers served by [`crate::server`] and reached with [`RestPlugin`]
//! over real HTTP on 127.0.0.1, with a `ManualClock` shared by the ledger and the clients.

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use htlc::{Clock, ManualClock, Timestamp};

use crate::config::LedgerConfig;
use crate::server::{self, RunningLedger};
use plugins::client::{RestPlugin, RestPluginConfig};
use plugins::conformance::Harness;
use plugins::plugin::{AccountId, LedgerPlugin};

/// A running ledger with two connected clients.
pub struct RestHarness {
    /// The ledger.
    pub ledger: RunningLedger,
    /// Its clock.
    pub clock: Arc<ManualClock>,
    payer: Arc<RestPlugin>,
    payee: Arc<RestPlugin>,
    payer_account: AccountId,
    payee_account: AccountId,
    _keep: Box<dyn Any + Send + Sync>,
}

impl RestHarness {
    /// Starts `config` (its `server.listen` and `server.database` should point at port 0 and
    /// a scratch file) at `start` time and connects the two parties with the named keys.
    /// `keep` lives as long as the harness (e.g. the temporary directory of the database).
    pub async fn start(
        config: LedgerConfig,
        start: Timestamp,
        payer: (&str, &str),
        payee: (&str, &str),
        keep: Box<dyn Any + Send + Sync>,
    ) -> Self {
        let clock = Arc::new(ManualClock::new(start));
        let connect = |key_id: &str| {
            let secret = config
                .keys
                .get(key_id)
                .map(|k| k.secret.clone())
                .unwrap_or_default();
            RestPluginConfig::new("", key_id, secret)
        };
        let (payer_cfg, payee_cfg) = (connect(payer.1), connect(payee.1));
        let ledger = server::run_with_clock(config, clock.clone() as Arc<dyn Clock>)
            .await
            .expect("ledger starts");
        let base = ledger.base_url();
        let client = |mut c: RestPluginConfig| {
            c.base_url = base.clone();
            RestPlugin::connect_with_clock(c, clock.clone() as Arc<dyn Clock>)
        };
        let payer_plugin = client(payer_cfg).await.expect("payer connects");
        let payee_plugin = client(payee_cfg).await.expect("payee connects");
        RestHarness {
            ledger,
            clock,
            payer: Arc::new(payer_plugin),
            payee: Arc::new(payee_plugin),
            payer_account: AccountId::new(payer.0).expect("payer account id"),
            payee_account: AccountId::new(payee.0).expect("payee account id"),
            _keep: keep,
        }
    }
}

#[async_trait]
impl Harness for RestHarness {
    fn payer(&self) -> Arc<dyn LedgerPlugin> {
        self.payer.clone()
    }
    fn payee(&self) -> Arc<dyn LedgerPlugin> {
        self.payee.clone()
    }
    fn payer_account(&self) -> AccountId {
        self.payer_account.clone()
    }
    fn payee_account(&self) -> AccountId {
        self.payee_account.clone()
    }
    fn now(&self) -> Timestamp {
        self.clock.now()
    }
    async fn advance(&self, millis: i64) {
        self.clock.advance_millis(millis);
        self.ledger.sweep_now().await.expect("sweep");
    }
}
