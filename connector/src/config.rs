//! The connector's configuration file (TOML). Everything that can have a default has one; what
//! cannot (the ledgers to connect to and the corridors to price) must be given. Amounts are
//! written as decimals in the ledger's asset (`"1.00"`), converted with the scale the ledger
//! reports when the connector connects.
//!
//! ```toml
//! [connector]
//! ilp_address = "test.clearing"
//! database = "connector.sqlite"          # relative to the config file
//!
//! [api]
//! listen = "127.0.0.1:7200"
//! operator_token = "change-me"
//!
//! [[ledgers]]
//! id = "digital-euro"
//! url = "http://127.0.0.1:7102"
//! key_id = "clearing-bank-k1"
//! key_secret = "..."
//! account = "clearing-bank"
//! liquidity_floor = "10000.00"
//!
//! [[ledgers]]                           # the committee chain, through a node's API
//! id = "dcep-chain"
//! kind = "chain"
//! url = "http://127.0.0.1:7500"
//! key_secret = "<64 hex: the account's Ed25519 seed>"
//! account = "<64 hex: its public key>"
//! [ledgers.chain]
//! asset = "DC/EP"
//! ilp_prefix = "test.dcep"
//! expected_finality_ms = 1000            # default
//!
//! [[corridors]]
//! from = "digital-euro"
//! to = "e-cny"
//! rate = "2"                            # destination units per source unit
//! fee_fixed = "1.00"                     # source units
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use htlc::{Address, AssetCode};
use plugins::AccountId;
use serde::{Deserialize, Serialize};

use crate::LedgerId;
use crate::layers::expiry::ExpiryPolicy;
use crate::quote::QuotePolicy;
use crate::store::Durability;

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorConfig {
    /// Identity and storage.
    pub connector: ConnectorSection,
    /// The HTTP API.
    #[serde(default)]
    pub api: ApiSection,
    /// The timeout ladder.
    #[serde(default)]
    pub timeouts: ExpiryPolicy,
    /// Quote validity.
    #[serde(default)]
    pub quotes: QuotePolicy,
    /// The ledgers the connector holds accounts on.
    pub ledgers: Vec<LedgerSection>,
    /// Extra routes (each ledger's own ILP prefix is routed automatically).
    #[serde(default)]
    pub routes: Vec<RouteSection>,
    /// Prices per direction between two ledgers.
    #[serde(default)]
    pub corridors: Vec<CorridorSection>,
    /// Limits per counterparty (or per ledger when `account` is left out).
    #[serde(default)]
    pub limits: Vec<LimitSection>,
}

/// `[connector]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorSection {
    /// The connector's ILP address (shown as `triggeredBy` in its rejects).
    pub ilp_address: Address,
    /// SQLite journal; relative paths are relative to the config file.
    #[serde(default = "default_database")]
    pub database: PathBuf,
    /// fsync policy of the journal.
    #[serde(default)]
    pub durability: Durability,
    /// Seconds between liquidity checks of each ledger account.
    #[serde(default = "default_liquidity_interval")]
    pub liquidity_check_secs: u64,
}

fn default_database() -> PathBuf {
    PathBuf::from("connector.sqlite")
}

fn default_liquidity_interval() -> u64 {
    5
}

/// `[api]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiSection {
    /// Where the HTTP API listens (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// Bearer token for `/v1/admin/*`.
    pub operator_token: String,
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
    /// A listener of its own for `GET /metrics`, with no token (for a scraper on a private
    /// interface). Unset (the default), metrics are served only on the API, with the operator
    /// token: they reveal the clearing bank's liquidity.
    pub metrics_listen: Option<SocketAddr>,
    /// HTTPS for the API (the operator token travels on it): certificate, key and, for
    /// mutual TLS, the CA of the clients' certificates.
    pub tls: Option<tls::ServerTls>,
    /// Serve the API over plain HTTP. Only when said here: with neither this nor `tls` the
    /// connector does not start.
    pub plain_http: bool,
}

impl Default for ApiSection {
    fn default() -> Self {
        ApiSection {
            listen: SocketAddr::from(([127, 0, 0, 1], 7200)),
            operator_token: "TEST-ONLY-operator-token".into(),
            max_body_bytes: 64 * 1024,
            metrics_listen: None,
            tls: None,
            plain_http: false,
        }
    }
}

/// `[[ledgers]]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerSection {
    /// The connector's name for it.
    pub id: LedgerId,
    /// How the ledger is reached: `rest` (the REST plugin API; default) or `chain` (a
    /// committee chain node's API, with a `[ledgers.chain]` table).
    #[serde(default)]
    pub kind: LedgerKind,
    /// Base URL of its REST plugin API, or of a chain node's API.
    pub url: String,
    /// REST: the signing key id (unused for a chain).
    #[serde(default)]
    pub key_id: String,
    /// REST: the HMAC secret. Chain: the account's Ed25519 seed, 64 hex characters.
    pub key_secret: String,
    /// The connector's account there (on a chain: its public key, hex).
    pub account: AccountId,
    /// Chain ledgers only: the asset and how the connector reaches payees through it.
    #[serde(default)]
    pub chain: Option<ChainLedgerSection>,
    /// Alert when the available balance drops below this (decimal, ledger asset).
    #[serde(default)]
    pub liquidity_floor: Option<String>,
    /// Route the ledger's own ILP prefix to it (default true).
    #[serde(default = "yes")]
    pub route_prefix: bool,
    /// REST over `https://`: the CA to trust (default: the system's roots) and, for mutual
    /// TLS, the connector's client certificate.
    #[serde(default)]
    pub tls: Option<tls::ClientTls>,
}

fn yes() -> bool {
    true
}

/// How a ledger is reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    /// The REST plugin API (bank core ledgers, the CBDC ledgers).
    #[default]
    Rest,
    /// The committee chain, through a node's API.
    Chain,
}

/// `[ledgers.chain]`: what a chain ledger does not describe itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainLedgerSection {
    /// The asset the connector moves on this chain (e.g. `DC/EP`).
    pub asset: AssetCode,
    /// ILP address prefix of the accounts reached through it.
    pub ilp_prefix: Address,
    /// Submission-to-finality time the timeout ladder plans with (ms).
    #[serde(default = "default_chain_finality_ms")]
    pub expected_finality_ms: u64,
    /// How often the connector refunds its expired escrows (ms).
    #[serde(default = "default_refund_every_ms")]
    pub refund_every_ms: u64,
}

fn default_chain_finality_ms() -> u64 {
    1_000
}

fn default_refund_every_ms() -> u64 {
    1_000
}

/// `[[routes]]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSection {
    /// Address prefix.
    pub prefix: String,
    /// Ledger to forward on.
    pub ledger: LedgerId,
    /// Fixed next-hop account; if absent, the address segment after the prefix.
    #[serde(default)]
    pub account: Option<AccountId>,
}

/// `[[corridors]]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorridorSection {
    /// Incoming ledger.
    pub from: LedgerId,
    /// Outgoing ledger.
    pub to: LedgerId,
    /// Destination major units per source major unit, as a decimal.
    pub rate: String,
    /// Fixed fee, source major units (decimal).
    #[serde(default = "zero")]
    pub fee_fixed: String,
    /// Proportional fee, basis points.
    #[serde(default)]
    pub fee_bps: u32,
}

fn zero() -> String {
    "0".into()
}

/// `[[limits]]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSection {
    /// The counterparty's ledger.
    pub ledger: LedgerId,
    /// The counterparty; absent = every other counterparty on that ledger.
    #[serde(default)]
    pub account: Option<AccountId>,
    /// Largest single payment (decimal, ledger asset).
    #[serde(default)]
    pub max_packet_amount: Option<String>,
    /// Largest amount in flight (decimal, ledger asset).
    #[serde(default)]
    pub exposure_limit: Option<String>,
}

pub use plumbing::ConfigError;

impl ConnectorConfig {
    /// Reads a config file; relative paths in it become relative to its directory.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        plumbing::config::load_checked(path)
    }

    /// Parses and checks TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        plumbing::config::parse_checked(text, "<text>")
    }
}

impl plumbing::config::Checked for ConnectorConfig {
    fn relative_to(&mut self, dir: &Path) {
        plumbing::config::resolve(dir, &mut self.connector.database);
    }

    fn check(&self) -> Result<(), ConfigError> {
        let known = |id: &LedgerId| self.ledgers.iter().any(|l| &l.id == id);
        if self.ledgers.is_empty() {
            return Err(ConfigError::Invalid(
                "at least one [[ledgers]] entry is needed".into(),
            ));
        }
        for (i, ledger) in self.ledgers.iter().enumerate() {
            if self.ledgers[..i].iter().any(|l| l.id == ledger.id) {
                return Err(ConfigError::Invalid(format!(
                    "ledger {} is listed twice",
                    ledger.id
                )));
            }
            let problem = match (ledger.kind, &ledger.chain) {
                (LedgerKind::Rest, Some(_)) => Some("a [ledgers.chain] table needs kind = \"chain\""),
                (LedgerKind::Rest, None) if ledger.key_id.is_empty() => Some("key_id is required"),
                (LedgerKind::Chain, None) => Some("kind = \"chain\" needs a [ledgers.chain] table"),
                (LedgerKind::Chain, Some(_))
                    if hex::decode(&ledger.key_secret).map(|k| k.len()) != Ok(32) =>
                {
                    Some("key_secret of a chain ledger must be an Ed25519 seed of 64 hex characters")
                }
                _ => None,
            };
            if let Some(problem) = problem {
                return Err(ConfigError::Invalid(format!("ledger {}: {problem}", ledger.id)));
            }
        }
        for c in &self.corridors {
            if !known(&c.from) || !known(&c.to) {
                return Err(ConfigError::Invalid(format!(
                    "corridor {} -> {} names a ledger not in [[ledgers]]",
                    c.from, c.to
                )));
            }
        }
        for r in &self.routes {
            if !known(&r.ledger) {
                return Err(ConfigError::Invalid(format!(
                    "route {} names unknown ledger {}",
                    r.prefix, r.ledger
                )));
            }
        }
        for l in &self.limits {
            if !known(&l.ledger) {
                return Err(ConfigError::Invalid(format!(
                    "limits name unknown ledger {}",
                    l.ledger
                )));
            }
        }
        tls::check_transport(self.api.tls.as_ref(), self.api.plain_http, "api.")
            .map_err(ConfigError::Invalid)?;
        if self.api.operator_token.len() < 16 {
            return Err(ConfigError::Invalid(
                "api.operator_token must be at least 16 characters".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        [connector]
        ilp_address = "test.clearing"

        [api]
        plain_http = true

        [[ledgers]]
        id = "digital-euro"
        url = "http://127.0.0.1:7102"
        key_id = "k"
        key_secret = "s"
        account = "clearing-bank"

        [[ledgers]]
        id = "e-cny"
        url = "http://127.0.0.1:7103"
        key_id = "k"
        key_secret = "s"
        account = "clearing-bank"

        [[corridors]]
        from = "digital-euro"
        to = "e-cny"
        rate = "2"
        fee_fixed = "1.00"
    "#;

    fn with_chain(table: &str, seed: &str) -> String {
        MINIMAL.replacen(
            "        [[corridors]]",
            &format!(
                "        [[ledgers]]\n        id = \"dcep-chain\"\n        kind = \"chain\"\n        \
                 url = \"http://127.0.0.1:7500\"\n        key_secret = \"{seed}\"\n        \
                 account = \"{acct}\"\n{table}\n        [[corridors]]",
                acct = "ab".repeat(32)
            ),
            1,
        )
    }

    #[test]
    fn chain_ledgers_need_their_table_and_a_seed() {
        let table = "        [ledgers.chain]\n        asset = \"DC/EP\"\n        ilp_prefix = \"test.dcep\"";
        let c = ConnectorConfig::from_toml(&with_chain(table, &"07".repeat(32))).unwrap();
        let chain = &c.ledgers[2];
        assert_eq!(chain.kind, LedgerKind::Chain);
        let section = chain.chain.as_ref().unwrap();
        assert_eq!(
            (section.asset.as_str(), section.expected_finality_ms),
            ("DC/EP", 1_000)
        );
        assert_eq!(c.ledgers[0].kind, LedgerKind::Rest, "rest is the default");
        let err = |text: &str| ConnectorConfig::from_toml(text).unwrap_err().to_string();
        assert!(err(&with_chain("", &"07".repeat(32))).contains("needs a [ledgers.chain] table"));
        assert!(err(&with_chain(table, "not-hex")).contains("64 hex characters"));
        let spaced = table.replace("DC/EP", "DC EP");
        assert!(err(&with_chain(&spaced, &"07".repeat(32))).contains("invalid asset code"));
    }

    #[test]
    fn the_api_needs_tls_or_an_explicit_plain_http() {
        let err = |text: &str| ConnectorConfig::from_toml(text).unwrap_err().to_string();
        let silent = MINIMAL.replace("plain_http = true", "");
        assert!(
            err(&silent).contains("plain_http = true explicitly"),
            "{}",
            err(&silent)
        );
        let both = MINIMAL.replace(
            "plain_http = true",
            "plain_http = true\n        tls = { cert = \"c.pem\", key = \"k.pem\" }",
        );
        assert!(err(&both).contains("not both"), "{}", err(&both));
        let tls = MINIMAL.replace("plain_http = true", "tls = { cert = \"c.pem\", key = \"k.pem\" }");
        let c = ConnectorConfig::from_toml(&tls).unwrap();
        assert_eq!(c.api.tls.unwrap().cert, PathBuf::from("c.pem"));
        assert_eq!(c.api.metrics_listen, None, "metrics are closed by default");
    }

    #[test]
    fn defaults_fill_everything_optional() {
        let c = ConnectorConfig::from_toml(MINIMAL).unwrap();
        assert_eq!(c.api.listen.port(), 7200);
        assert_eq!(c.timeouts, ExpiryPolicy::default());
        assert_eq!(c.quotes, QuotePolicy::default());
        assert_eq!(c.connector.database, PathBuf::from("connector.sqlite"));
        assert!(c.ledgers[0].route_prefix);
        assert_eq!(c.corridors[0].fee_bps, 0);
    }

    #[test]
    fn mistakes_are_explained() {
        let unknown = MINIMAL.replace("to = \"e-cny\"", "to = \"mars\"");
        let err = ConnectorConfig::from_toml(&unknown).unwrap_err().to_string();
        assert!(
            err.contains("mars") || err.contains("not in [[ledgers]]"),
            "{err}"
        );
        let typo = MINIMAL.replace("fee_fixed", "fee_fixd");
        let err = ConnectorConfig::from_toml(&typo).unwrap_err().to_string();
        assert!(err.contains("fee_fixd"), "{err}");
        let bad_address = MINIMAL.replace("test.clearing", "nope");
        assert!(ConnectorConfig::from_toml(&bad_address).is_err());
    }
}
