//! Configuration files of a bank's own side of a payment: its receiver (`cypherlink receiver`)
//! and its payer (`cypherlink pay`). Both name one account on one ledger and the key that signs
//! for it; the receiver adds its seed, where it listens and its database, the payer the
//! connector it pays through.
//!
//! ```toml
//! # cypherlink receiver --config bank-b-receiver.toml
//! [ledger]
//! url = "http://127.0.0.1:7103"
//! key_id = "bank-b-k1"
//! key_secret = "..."
//! account = "bank-b"
//!
//! [receiver]
//! seed = "<64 hex digits>"           # every shared secret derives from it: keep it secret and stable
//! listen = "127.0.0.1:7300"          # default
//! database = "bank-b-receiver.sqlite" # default receiver.sqlite, relative to the file
//! tls = { cert = "certs/server.pem", key = "certs/server-key.pem" }  # required: TLS only
//! ```
//!
//! ```toml
//! # cypherlink pay --config bank-a-payer.toml ...
//! [ledger]
//! url = "http://127.0.0.1:7102"
//! key_id = "bank-a-k1"
//! key_secret = "..."
//! account = "bank-a"
//!
//! [connector]
//! url = "http://127.0.0.1:7200"
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use plugins::AccountId;
use serde::{Deserialize, Serialize};

use super::ReceiverSeed;
use crate::LedgerId;
use crate::config::ConfigError;
use crate::store::Durability;
use plumbing::config::{Checked, resolve};

/// `[ledger]`: the bank's account and the key that signs for it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerAccountSection {
    /// Base URL of the ledger's REST plugin API.
    pub url: String,
    /// Signing key id.
    pub key_id: String,
    /// Signing key secret.
    pub key_secret: String,
    /// The bank's account there.
    pub account: AccountId,
    /// For an `https://` ledger: the CA to trust (default: the system's) and, for mutual TLS,
    /// the client certificate.
    #[serde(default)]
    pub tls: Option<tls::ClientTls>,
}

impl std::fmt::Debug for LedgerAccountSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerAccountSection")
            .field("url", &self.url)
            .field("key_id", &self.key_id)
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

/// `[receiver]`
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverSection {
    /// 32 bytes, hex: every connection's shared secret derives from it. Changing it orphans
    /// the connections handed out before (their payments are refused and refunded).
    pub seed: String,
    /// Where the setup API listens (`127.0.0.1:0` picks a free port).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// SQLite file recording what was received and the ledger event cursor; relative paths are
    /// relative to the config file.
    #[serde(default = "default_database")]
    pub database: PathBuf,
    /// fsync policy of the database.
    #[serde(default)]
    pub durability: Durability,
    /// The setup API's certificate and key (required: the setup answer carries a secret);
    /// relative paths are relative to the config file.
    pub tls: tls::ServerTls,
}

impl std::fmt::Debug for ReceiverSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiverSection")
            .field("listen", &self.listen)
            .field("database", &self.database)
            .field("durability", &self.durability)
            .finish_non_exhaustive()
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7300))
}

fn default_database() -> PathBuf {
    PathBuf::from("receiver.sqlite")
}

/// A receiving bank's receiver: the file `cypherlink receiver --config` reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverConfig {
    /// The account payments arrive on.
    pub ledger: LedgerAccountSection,
    /// Seed, listen address, database.
    pub receiver: ReceiverSection,
}

impl ReceiverConfig {
    /// Reads a config file; a relative database path becomes relative to its directory.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        plumbing::config::load_checked(path)
    }

    /// Parses and checks TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        plumbing::config::parse_checked(text, "<text>")
    }

    /// The seed as a [`ReceiverSeed`].
    pub fn seed(&self) -> Result<ReceiverSeed, ConfigError> {
        let bytes = hex::decode(self.receiver.seed.trim()).ok();
        bytes
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(ReceiverSeed::new)
            .ok_or_else(|| {
                ConfigError::Invalid("receiver.seed must be 32 bytes written as 64 hex digits".into())
            })
    }
}

impl Checked for ReceiverConfig {
    fn check(&self) -> Result<(), ConfigError> {
        self.seed()?;
        check_url(&self.ledger.url, "ledger.url")
    }

    fn relative_to(&mut self, dir: &Path) {
        let receiver = &mut self.receiver;
        for file in [
            &mut receiver.database,
            &mut receiver.tls.cert,
            &mut receiver.tls.key,
        ] {
            resolve(dir, file);
        }
        if let Some(ca) = receiver.tls.client_ca.as_mut() {
            resolve(dir, ca);
        }
    }
}

/// `[connector]` of a payer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorSection {
    /// Base URL of the connector's API (quotes, payment status).
    pub url: String,
    /// The connector's name for the payer's ledger; default: the ledger's own id.
    #[serde(default)]
    pub ledger: Option<LedgerId>,
}

/// A paying bank's account and the connector it pays through: the file `cypherlink pay
/// --config` reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayerConfig {
    /// The account payments are made from.
    pub ledger: LedgerAccountSection,
    /// The connector.
    pub connector: ConnectorSection,
    /// Whom the payer trusts over HTTPS when it asks the connector for quotes and receivers
    /// for their setup (default: the system's roots), and its client certificate if any.
    #[serde(default)]
    pub tls: Option<tls::ClientTls>,
}

impl PayerConfig {
    /// Reads a config file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        plumbing::config::load_checked(path)
    }

    /// Parses and checks TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        plumbing::config::parse_checked(text, "<text>")
    }
}

impl Checked for PayerConfig {
    fn check(&self) -> Result<(), ConfigError> {
        check_url(&self.ledger.url, "ledger.url")?;
        check_url(&self.connector.url, "connector.url")
    }
}

fn check_url(url: &str, field: &str) -> Result<(), ConfigError> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(())
    } else {
        Err(ConfigError::Invalid(format!(
            "{field} must be an http:// or https:// URL, not {url:?}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    fn receiver_toml(seed: &str) -> String {
        format!(
            r#"
            [ledger]
            url = "http://127.0.0.1:7103"
            key_id = "bank-b-k1"
            key_secret = "s"
            account = "bank-b"

            [receiver]
            seed = "{seed}"
            tls = {{ cert = "certs/server.pem", key = "certs/server-key.pem" }}
            "#
        )
    }

    #[test]
    fn a_receiver_needs_only_its_account_and_seed() {
        let c = ReceiverConfig::from_toml(&receiver_toml(SEED)).unwrap();
        assert_eq!(c.receiver.listen, "127.0.0.1:7300".parse().unwrap());
        assert_eq!(c.receiver.database, PathBuf::from("receiver.sqlite"));
        assert_eq!(c.receiver.durability, Durability::Full);
        let from_config = c.seed().unwrap().shared_secret("tag");
        let direct = ReceiverSeed::new(hex::decode(SEED).unwrap().try_into().unwrap()).shared_secret("tag");
        assert_eq!(from_config, direct);
        assert!(!format!("{c:?}").contains(SEED), "Debug does not print the seed");
        assert!(!format!("{c:?}").contains("key_secret: "), "nor the key secret");
    }

    #[test]
    fn receiver_mistakes_are_explained() {
        for seed in ["00", "zz", &SEED[..62], &format!("{SEED}00")] {
            let err = ReceiverConfig::from_toml(&receiver_toml(seed))
                .unwrap_err()
                .to_string();
            assert!(err.contains("64 hex digits"), "{seed}: {err}");
        }
        let typo = receiver_toml(SEED).replace("seed =", "sead =");
        let err = ReceiverConfig::from_toml(&typo).unwrap_err().to_string();
        assert!(err.contains("sead"), "{err}");
        let unknown = receiver_toml(SEED).replace("[receiver]", "[receiver]\ncolour = \"red\"");
        let err = ReceiverConfig::from_toml(&unknown).unwrap_err().to_string();
        assert!(err.contains("colour"), "{err}");
        let no_tls = receiver_toml(SEED).replace("tls = ", "# tls = ");
        let err = ReceiverConfig::from_toml(&no_tls).unwrap_err().to_string();
        assert!(err.contains("tls"), "TLS is required: {err}");
        let no_scheme = receiver_toml(SEED).replace("http://", "");
        let err = ReceiverConfig::from_toml(&no_scheme).unwrap_err().to_string();
        assert!(err.contains("ledger.url"), "{err}");
    }

    #[test]
    fn relative_database_paths_follow_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.toml");
        std::fs::write(&path, receiver_toml(SEED)).unwrap();
        let c = ReceiverConfig::from_file(&path).unwrap();
        assert_eq!(c.receiver.database, dir.path().join("receiver.sqlite"));
        assert_eq!(c.receiver.tls.cert, dir.path().join("certs/server.pem"));
        assert_eq!(c.receiver.tls.key, dir.path().join("certs/server-key.pem"));
    }

    #[test]
    fn a_payer_names_its_account_and_connector() {
        let text = r#"
            [ledger]
            url = "http://127.0.0.1:7102"
            key_id = "bank-a-k1"
            key_secret = "s"
            account = "bank-a"

            [connector]
            url = "http://127.0.0.1:7200"
        "#;
        let c = PayerConfig::from_toml(text).unwrap();
        assert_eq!(c.connector.ledger, None);
        assert_eq!(c.ledger.account.as_str(), "bank-a");
        let err = PayerConfig::from_toml(&text.replace("[connector]", "[conector]"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("conector"), "{err}");
    }

    #[test]
    fn the_fixtures_parse() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
        let receiver = ReceiverConfig::from_file(&fixtures.join("bank-b-receiver.toml")).unwrap();
        assert_eq!(receiver.ledger.account.as_str(), "bank-b");
        let payer = PayerConfig::from_file(&fixtures.join("bank-a-payer.toml")).unwrap();
        assert_eq!(payer.ledger.account.as_str(), "bank-a");
    }
}
