//! The node's configuration file (TOML) and the genesis file it points to.
//!
//! ```toml
//! genesis = "genesis.toml"          # relative paths are relative to this file
//! data_dir = "data/node0"
//! listen = "127.0.0.1:7400"          # validator-to-validator links
//! peer_tls = { cert = "certs/node0.pem", key = "certs/node0-key.pem", ca = "certs/ca.pem" }  # mutual TLS
//! # peer_plain_tcp = true            # or plain TCP, said explicitly (one of the two is required)
//! api = "127.0.0.1:7500"             # HTTP API
//! api_tls = { cert = "certs/server.pem", key = "certs/server-key.pem" }  # HTTPS (client_ca: mutual TLS)
//! # api_plain_http = true            # or plain HTTP, said explicitly (one of the two is required)
//!
//! [validator]                        # omit for a non-voting full node
//! index = 0
//! key_file = "keys/validator0.key"   # 32+ bytes of BLS key material, hex
//!
//! [[peers]]
//! index = 1
//! address = "127.0.0.1:7401"
//!
//! [consensus]                        # optional tuning; defaults shown in ConsensusTuning
//! base_timeout_ms = 1000
//!
//! [limits]                           # optional; admission rate limits, defaults in AdmissionLimits
//! account_tx_per_s = 200.0
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::committee::ValidatorInfo;
use crate::crypto::{KeyPair, PublicKey, Signature};
use crate::genesis::Genesis;
use crate::state::ChainParams;
use crate::state::types::hex_of;

pub use plumbing::ConfigError;

/// The validator identity of this node.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorSection {
    /// Index in the committee.
    pub index: u16,
    /// File holding the BLS key material (hex). Keep it secret; the fixtures' keys are for tests.
    pub key_file: PathBuf,
}

/// A validator to connect to.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerSection {
    /// Its committee index (its key is taken from the genesis).
    pub index: u16,
    /// Where it listens.
    pub address: SocketAddr,
}

/// Consensus and batching knobs.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsensusTuning {
    /// First view timeout.
    pub base_timeout_ms: u64,
    /// Largest block.
    pub max_block_txs: usize,
    /// A leader waits at most this long for transactions.
    pub batch_delay_ms: u64,
    /// An idle leader waits this long before an empty block.
    pub idle_delay_ms: u64,
    /// Committed blocks kept in memory for peers catching up.
    pub retain_committed_blocks: usize,
    /// Most pending transactions.
    pub mempool_max: usize,
}

impl Default for ConsensusTuning {
    fn default() -> Self {
        Self {
            base_timeout_ms: 1_000,
            max_block_txs: 2_000,
            batch_delay_ms: 2,
            idle_delay_ms: 100,
            retain_committed_blocks: 512,
            mempool_max: 200_000,
        }
    }
}

/// How many transactions one source may have admitted: a token bucket per signing account
/// and one per client address (IPv4 address, or IPv6 /64 network, since one IPv6 host commonly
/// holds a whole /64). A bucket holds up to its burst and refills at its rate; each transaction
/// takes one token. These are this node's own protection (not chain rules): submission is
/// unauthenticated, so without them one client could fill the mempool and the chain.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdmissionLimits {
    /// Sustained transactions per second one signing account may have admitted.
    pub account_tx_per_s: f64,
    /// How many one account may send at once (at least a full batch of 1000 by default).
    pub account_burst: u32,
    /// Sustained transactions per second from one client address. Behind a gateway all
    /// clients share its address: raise this accordingly.
    pub client_tx_per_s: f64,
    /// How many one client address may send at once.
    pub client_burst: u32,
    /// Buckets kept per kind; beyond it, idle (refilled) ones are forgotten first, then the
    /// least recently used. Bounds the memory a flood of new keys or addresses can take.
    pub max_tracked: usize,
}

impl Default for AdmissionLimits {
    fn default() -> Self {
        Self {
            account_tx_per_s: 200.0,
            account_burst: 1_000,
            client_tx_per_s: 2_000.0,
            client_burst: 4_000,
            max_tracked: 100_000,
        }
    }
}

impl AdmissionLimits {
    fn check(&self) -> Result<(), ConfigError> {
        for (name, rate) in [
            ("limits.account_tx_per_s", self.account_tx_per_s),
            ("limits.client_tx_per_s", self.client_tx_per_s),
        ] {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(ConfigError::Invalid(format!(
                    "{name} {rate} must be a positive number"
                )));
            }
        }
        for (name, n) in [
            ("limits.account_burst", self.account_burst as usize),
            ("limits.client_burst", self.client_burst as usize),
            ("limits.max_tracked", self.max_tracked),
        ] {
            if n == 0 {
                return Err(ConfigError::Invalid(format!("{name} must be at least 1")));
            }
        }
        Ok(())
    }
}

/// The node's configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// The genesis file.
    pub genesis: PathBuf,
    /// Where the database lives.
    pub data_dir: PathBuf,
    /// Peer-to-peer listen address.
    pub listen: SocketAddr,
    /// Mutual TLS on links between nodes: this node's certificate (valid for server and client
    /// authentication) and key, and the CA that signs every node's certificate.
    #[serde(default)]
    pub peer_tls: Option<tls::PeerTls>,
    /// Links between nodes over plain TCP. Only when said here: with neither this nor
    /// `peer_tls` the node does not start.
    #[serde(default)]
    pub peer_plain_tcp: bool,
    /// HTTP API listen address.
    pub api: SocketAddr,
    /// HTTPS for the API: certificate, key and, for mutual TLS, the CA of the clients'
    /// certificates.
    #[serde(default)]
    pub api_tls: Option<tls::ServerTls>,
    /// Serve the API over plain HTTP. Only when said here: with neither this nor `api_tls` the
    /// node does not start.
    #[serde(default)]
    pub api_plain_http: bool,
    /// This node's validator identity; absent for a full node.
    #[serde(default)]
    pub validator: Option<ValidatorSection>,
    /// Validators to connect to.
    #[serde(default)]
    pub peers: Vec<PeerSection>,
    /// Consensus tuning.
    #[serde(default)]
    pub consensus: ConsensusTuning,
    /// Admission rate limits.
    #[serde(default)]
    pub limits: AdmissionLimits,
}

impl NodeConfig {
    /// Reads a configuration file, resolving relative paths against its directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let mut c: NodeConfig = plumbing::config::load(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        c.genesis = base.join(&c.genesis);
        c.data_dir = base.join(&c.data_dir);
        if let Some(v) = &mut c.validator {
            v.key_file = base.join(&v.key_file);
        }
        if let Some(tls) = &mut c.api_tls {
            tls.cert = base.join(&tls.cert);
            tls.key = base.join(&tls.key);
            tls.client_ca = tls.client_ca.as_ref().map(|ca| base.join(ca));
        }
        tls::check_transport(c.api_tls.as_ref(), c.api_plain_http, "api_").map_err(ConfigError::Invalid)?;
        if let Some(tls) = &mut c.peer_tls {
            tls.relative_to(base);
        }
        match (&c.peer_tls, c.peer_plain_tcp) {
            (None, false) => {
                return Err(ConfigError::Invalid(
                    "configure peer_tls (cert, key, ca) or say peer_plain_tcp = true explicitly".into(),
                ));
            }
            (Some(_), true) => {
                return Err(ConfigError::Invalid(
                    "set either peer_tls or peer_plain_tcp, not both".into(),
                ));
            }
            _ => {}
        }
        if c.consensus.max_block_txs == 0 || c.consensus.max_block_txs > crate::codec::MAX_TXS {
            return Err(ConfigError::Invalid(format!(
                "consensus.max_block_txs {} must be 1..={}",
                c.consensus.max_block_txs,
                crate::codec::MAX_TXS
            )));
        }
        c.limits.check()?;
        if c.consensus.base_timeout_ms < 50 {
            return Err(ConfigError::Invalid(format!(
                "consensus.base_timeout_ms {} is below 50",
                c.consensus.base_timeout_ms
            )));
        }
        Ok(c)
    }

    /// The database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("chain.sqlite")
    }

    /// The safety record's database file.
    pub fn safety_path(&self) -> PathBuf {
        self.data_dir.join("safety.sqlite")
    }
}

/// One member in the genesis file.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisMember {
    /// BLS public key, hex (48 bytes).
    pub public_key: String,
    /// Proof of possession, hex (96 bytes).
    pub pop: String,
    /// Operator (bank) name.
    pub operator: String,
}

/// The genesis file.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisFile {
    /// First epoch.
    pub epoch: u64,
    /// Genesis time, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// Chain-wide bounds of the state machine (the defaults when absent).
    #[serde(default)]
    pub params: GenesisParams,
    /// The committee in index order.
    pub members: Vec<GenesisMember>,
}

/// The `[params]` table of a genesis file: rules every validator applies alike, so they are
/// part of the genesis (and, unless they are the defaults, of its encoding and chain id).
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GenesisParams {
    /// A transaction's nonce may be at most this far above its signer's highest used one
    /// (default 1,024).
    pub max_nonce_gap: u64,
    /// An escrow's expiry may be at most this long after the time of the block creating it
    /// (default 7 days).
    pub max_escrow_hold_ms: u64,
}

impl Default for GenesisParams {
    fn default() -> Self {
        Self::from(ChainParams::default())
    }
}

impl From<ChainParams> for GenesisParams {
    fn from(p: ChainParams) -> Self {
        Self {
            max_nonce_gap: p.max_nonce_gap,
            max_escrow_hold_ms: p.max_escrow_hold_ms,
        }
    }
}

fn unhex(s: &str, what: &str) -> Result<Vec<u8>, ConfigError> {
    hex::decode(s.trim()).map_err(|_| ConfigError::Invalid(format!("{what} is not hex: {s:?}")))
}

impl GenesisFile {
    /// Reads a genesis file.
    pub fn load(path: &Path) -> Result<Genesis, ConfigError> {
        let g: GenesisFile = plumbing::config::load(path)?;
        g.to_genesis()
    }

    /// Decodes the keys.
    pub fn to_genesis(&self) -> Result<Genesis, ConfigError> {
        let members = self
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| {
                Ok(ValidatorInfo {
                    public_key: PublicKey::from_bytes(&unhex(&m.public_key, "public_key")?)
                        .map_err(|e| ConfigError::Invalid(format!("member {i}: {e}")))?,
                    pop: Signature::from_bytes(&unhex(&m.pop, "pop")?)
                        .map_err(|e| ConfigError::Invalid(format!("member {i}: {e}")))?,
                    operator: m.operator.clone(),
                })
            })
            .collect::<Result<Vec<_>, ConfigError>>()?;
        let genesis = Genesis {
            epoch: self.epoch,
            timestamp_ms: self.timestamp_ms,
            members,
            params: ChainParams {
                max_nonce_gap: self.params.max_nonce_gap,
                max_escrow_hold_ms: self.params.max_escrow_hold_ms,
            },
        };
        genesis
            .check_params()
            .map_err(|e| ConfigError::Invalid(format!("genesis [params]: {e}")))?;
        Ok(genesis)
    }

    /// The file form of a genesis.
    pub fn from_genesis(g: &Genesis) -> Self {
        Self {
            epoch: g.epoch,
            timestamp_ms: g.timestamp_ms,
            params: g.params.into(),
            members: g
                .members
                .iter()
                .map(|m| GenesisMember {
                    public_key: hex_of(&m.public_key.to_bytes()),
                    pop: hex_of(&m.pop.to_bytes()),
                    operator: m.operator.clone(),
                })
                .collect(),
        }
    }
}

/// Reads a BLS key file (hex key material, at least 32 bytes).
pub fn load_key(path: &Path) -> Result<KeyPair, ConfigError> {
    let text = plumbing::config::read(path)?;
    let ikm = unhex(
        text.lines()
            .find(|l| !l.trim_start().starts_with('#'))
            .unwrap_or(""),
        "key",
    )?;
    if ikm.len() < 32 {
        return Err(ConfigError::Invalid(format!(
            "{}: key material shorter than 32 bytes",
            path.display()
        )));
    }
    KeyPair::from_ikm(&ikm).map_err(|e| ConfigError::Invalid(e.to_string()))
}

/// The chain id: SHA-256 of the genesis encoding.
pub fn chain_id(g: &Genesis) -> [u8; 32] {
    g.chain_id()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn genesis_params_default_when_absent_and_round_trip_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let g = Genesis::for_test_keys(&[[1; 32], [2; 32], [3; 32], [4; 32]]).unwrap();
        let text = toml::to_string(&GenesisFile::from_genesis(&g)).unwrap();
        assert!(
            text.contains("[params]\nmax_nonce_gap = 1024\nmax_escrow_hold_ms = 604800000\n"),
            "{text}"
        );
        // As in fixtures/chain/genesis.toml: the rules before the committee.
        assert!(text.find("[params]") < text.find("[[members]]"), "{text}");
        assert_eq!(GenesisFile::load(&write(dir.path(), "a.toml", &text)).unwrap(), g);
        // A genesis file from before the parameters (no [params]) has the defaults and the
        // same chain id as the one written out with them.
        let without: String = text
            .lines()
            .filter(|l| !l.starts_with("[params]") && !l.starts_with("max_"))
            .map(|l| format!("{l}\n"))
            .collect();
        let old = GenesisFile::load(&write(dir.path(), "b.toml", &without)).unwrap();
        assert_eq!(chain_id(&old), chain_id(&g));
        let tight = text.replace("max_nonce_gap = 1024", "max_nonce_gap = 16");
        let tight = GenesisFile::load(&write(dir.path(), "c.toml", &tight)).unwrap();
        assert_eq!(tight.params.max_nonce_gap, 16);
        assert_ne!(chain_id(&tight), chain_id(&g));
        let zero = text.replace("max_escrow_hold_ms = 604800000", "max_escrow_hold_ms = 0");
        assert!(matches!(
            GenesisFile::load(&write(dir.path(), "d.toml", &zero)),
            Err(ConfigError::Invalid(_))
        ));
    }

    #[test]
    fn the_api_needs_tls_or_an_explicit_plain_http() {
        let dir = tempfile::tempdir().unwrap();
        let base = "genesis = \"g.toml\"\ndata_dir = \"d\"\nlisten = \"127.0.0.1:1\"\napi = \"127.0.0.1:2\"\npeer_plain_tcp = true\n";
        let err = NodeConfig::load(&write(dir.path(), "n.toml", base)).unwrap_err();
        assert!(
            err.to_string().contains("api_plain_http = true explicitly"),
            "{err}"
        );
        let tls = format!("{base}api_tls = {{ cert = \"certs/s.pem\", key = \"certs/k.pem\" }}\n");
        let c = NodeConfig::load(&write(dir.path(), "n.toml", &tls)).unwrap();
        let api_tls = c.api_tls.unwrap();
        assert_eq!(
            api_tls.cert,
            dir.path().join("certs/s.pem"),
            "relative to the file"
        );
        let both = format!("{tls}api_plain_http = true\n");
        let err = NodeConfig::load(&write(dir.path(), "n.toml", &both)).unwrap_err();
        assert!(err.to_string().contains("not both"), "{err}");
    }

    #[test]
    fn peer_links_need_mutual_tls_or_an_explicit_plain_tcp() {
        let dir = tempfile::tempdir().unwrap();
        let base = "genesis = \"g.toml\"\ndata_dir = \"d\"\nlisten = \"127.0.0.1:1\"\napi = \"127.0.0.1:2\"\napi_plain_http = true\n";
        let err = NodeConfig::load(&write(dir.path(), "n.toml", base)).unwrap_err();
        assert!(
            err.to_string().contains("peer_plain_tcp = true explicitly"),
            "{err}"
        );
        let tls = format!(
            "{base}peer_tls = {{ cert = \"certs/n.pem\", key = \"certs/n-key.pem\", ca = \"certs/ca.pem\" }}\n"
        );
        let c = NodeConfig::load(&write(dir.path(), "n.toml", &tls)).unwrap();
        assert_eq!(
            c.peer_tls.unwrap().ca,
            dir.path().join("certs/ca.pem"),
            "relative to the file"
        );
        let both = format!("{tls}peer_plain_tcp = true\n");
        let err = NodeConfig::load(&write(dir.path(), "n.toml", &both)).unwrap_err();
        assert!(err.to_string().contains("not both"), "{err}");
        let half = format!("{base}peer_tls = {{ cert = \"certs/n.pem\", key = \"certs/n-key.pem\" }}\n");
        assert!(matches!(
            NodeConfig::load(&write(dir.path(), "n.toml", &half)),
            Err(ConfigError::Parse { .. })
        ));
    }

    #[test]
    fn limits_default_and_reject_what_would_refuse_everything() {
        let dir = tempfile::tempdir().unwrap();
        let base = "genesis = \"g.toml\"\ndata_dir = \"d\"\nlisten = \"127.0.0.1:1\"\napi = \"127.0.0.1:2\"\napi_plain_http = true\npeer_plain_tcp = true\n";
        let c = NodeConfig::load(&write(dir.path(), "n.toml", base)).unwrap();
        assert_eq!(c.limits.account_burst, AdmissionLimits::default().account_burst);
        let custom = format!("{base}[limits]\naccount_tx_per_s = 0.5\nclient_burst = 10\n");
        let c = NodeConfig::load(&write(dir.path(), "n.toml", &custom)).unwrap();
        assert_eq!((c.limits.account_tx_per_s, c.limits.client_burst), (0.5, 10));
        for bad in [
            "account_tx_per_s = 0.0",
            "client_tx_per_s = -1.0",
            "account_burst = 0",
            "max_tracked = 0",
            "per_s = 3",
        ] {
            let text = format!("{base}[limits]\n{bad}\n");
            assert!(
                NodeConfig::load(&write(dir.path(), "n.toml", &text)).is_err(),
                "{bad}"
            );
        }
    }
}
