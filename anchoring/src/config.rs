//! The service's configuration (TOML). Every field but the submitters has a default, so a file
//! says only what differs; [`DEFAULT_CONFIG`] is the built-in file used without `--config`
//! (test secrets only: a deployment writes its own).

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use plumbing::{ConfigError, Durability};
use serde::Deserialize;

use crate::batch::BatchRule;

/// The built-in configuration (`anchoring/anchor.toml`).
pub const DEFAULT_CONFIG: &str = include_str!("../anchor.toml");

/// Longest accepted namespace, in bytes: the chain's own limit.
pub const MAX_NAMESPACE_LEN: usize = ledger_node::state::types::MAX_NAMESPACE_LEN;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchorConfig {
    /// Where the API listens.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// HTTPS for the API (PEM files); unset, `plain_http = true` must say so.
    #[serde(default)]
    pub tls: Option<tls::ServerTls>,
    /// Serve plain HTTP (tests, or behind a TLS proxy).
    #[serde(default)]
    pub plain_http: bool,
    /// The SQLite file.
    #[serde(default = "default_database")]
    pub database: PathBuf,
    /// How hard a commit survives power loss.
    #[serde(default)]
    pub durability: Durability,
    /// Largest request body read, in bytes (413 beyond).
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Most digests in one request (400 beyond).
    #[serde(default = "default_max_digests")]
    pub max_digests_per_request: usize,
    /// Accepted clock difference of signed requests, in seconds.
    #[serde(default = "default_window")]
    pub auth_window_secs: u64,
    /// When batches close.
    #[serde(default)]
    pub batch: BatchSection,
    /// The chain the roots are anchored on.
    pub chain: ChainSection,
    /// Who may submit, and where.
    #[serde(default)]
    pub submitters: Vec<Submitter>,
}

/// `[batch]`: a namespace's open batch closes after `max_items` or `max_wait_ms`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchSection {
    /// Items per batch at most.
    #[serde(default = "default_max_items")]
    pub max_items: usize,
    /// Milliseconds from a batch's first item to its close at most.
    #[serde(default = "default_max_wait")]
    pub max_wait_ms: u64,
}

impl Default for BatchSection {
    fn default() -> Self {
        BatchSection {
            max_items: default_max_items(),
            max_wait_ms: default_max_wait(),
        }
    }
}

impl BatchSection {
    /// As the pure rule.
    pub fn rule(&self) -> BatchRule {
        BatchRule {
            max_items: self.max_items,
            max_wait_ms: self.max_wait_ms,
        }
    }
}

/// `[chain]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainSection {
    /// A node's API, e.g. `http://127.0.0.1:7500`.
    pub url: String,
    /// How to trust the node's certificate (https URLs).
    #[serde(default)]
    pub tls: Option<tls::ClientTls>,
    /// The service's Ed25519 account key: a file holding its 32-byte seed as hex.
    pub key_file: PathBuf,
}

/// `[[submitters]]`: one key of one submitter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submitter {
    /// `CypherLink-Key-Id` of its requests.
    pub key_id: String,
    /// The HMAC secret (at least 16 bytes).
    pub secret: String,
    /// The namespaces it may write to and read from.
    pub namespaces: Vec<String>,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7600))
}
fn default_database() -> PathBuf {
    PathBuf::from("data/anchor.sqlite")
}
fn default_max_body() -> usize {
    1 << 20
}
fn default_max_digests() -> usize {
    1000
}
fn default_window() -> u64 {
    60
}
/// At 10,000 digests/s and the default window, a batch closes on time with ~2,000 items; at
/// lower rates the window closes it first.
fn default_max_items() -> usize {
    4000
}
/// The chain commits in ~70-90 ms at light load (BENCHMARKS.md); a 200 ms window keeps the
/// median item's wait (half the window) plus commit and proof well under a second.
fn default_max_wait() -> u64 {
    200
}

/// A namespace the service accepts: 1 to [`MAX_NAMESPACE_LEN`] bytes of `A-Z a-z 0-9 : . _ -`,
/// so that it is one URL path segment as it is.
pub fn valid_namespace(ns: &str) -> bool {
    (1..=MAX_NAMESPACE_LEN).contains(&ns.len())
        && ns
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":._-".contains(&b))
}

/// The submitters by key id.
#[derive(Debug, Clone, Default)]
pub struct Submitters {
    by_key: BTreeMap<String, Submitter>,
}

impl Submitters {
    /// The submitter holding `key_id`.
    pub fn get(&self, key_id: &str) -> Option<&Submitter> {
        self.by_key.get(key_id)
    }
}

impl Submitter {
    /// Whether it may use `namespace`.
    pub fn owns(&self, namespace: &str) -> bool {
        self.namespaces.iter().any(|n| n == namespace)
    }
}

impl AnchorConfig {
    /// Parses `text` (named `origin` in errors) and resolves relative paths against `base`.
    pub fn parse(text: &str, origin: &str, base: &Path) -> Result<Self, ConfigError> {
        let mut c: AnchorConfig = plumbing::config::parse(text, origin)?;
        c.database = base.join(&c.database);
        c.chain.key_file = base.join(&c.chain.key_file);
        if let Some(t) = &mut c.tls {
            t.cert = base.join(&t.cert);
            t.key = base.join(&t.key);
            t.client_ca = t.client_ca.as_ref().map(|ca| base.join(ca));
        }
        if let Some(t) = &mut c.chain.tls {
            for p in [&mut t.ca, &mut t.cert, &mut t.key].into_iter().flatten() {
                *p = base.join(&*p);
            }
        }
        c.check()?;
        Ok(c)
    }

    /// Reads a file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = plumbing::config::read(path)?;
        Self::parse(
            &text,
            &path.display().to_string(),
            path.parent().unwrap_or(Path::new(".")),
        )
    }

    /// The built-in configuration, paths relative to the working directory.
    pub fn built_in() -> Result<Self, ConfigError> {
        Self::parse(DEFAULT_CONFIG, "the built-in configuration", Path::new("."))
    }

    fn check(&self) -> Result<(), ConfigError> {
        tls::check_transport(self.tls.as_ref(), self.plain_http, "").map_err(ConfigError::Invalid)?;
        let b = &self.batch;
        if b.max_items == 0 || b.max_items > 50_000 {
            return Err(ConfigError::invalid(format!(
                "batch.max_items {} must be 1..=50000",
                b.max_items
            )));
        }
        if b.max_wait_ms == 0 || b.max_wait_ms > 3_600_000 {
            return Err(ConfigError::invalid(format!(
                "batch.max_wait_ms {} must be 1..=3600000",
                b.max_wait_ms
            )));
        }
        if self.max_digests_per_request == 0 || self.max_body_bytes < 1024 {
            return Err(ConfigError::invalid(
                "max_digests_per_request must be at least 1 and max_body_bytes at least 1024",
            ));
        }
        let mut keys = HashSet::new();
        for s in &self.submitters {
            if !keys.insert(s.key_id.as_str()) {
                return Err(ConfigError::invalid(format!(
                    "key id {:?} appears twice",
                    s.key_id
                )));
            }
            if s.key_id.is_empty() || s.key_id.len() > 128 || s.secret.len() < 16 {
                return Err(ConfigError::invalid(format!(
                    "submitter {:?}: key id of 1-128 bytes and a secret of at least 16 bytes",
                    s.key_id
                )));
            }
            for ns in &s.namespaces {
                if !valid_namespace(ns) {
                    return Err(ConfigError::invalid(format!(
                        "submitter {:?}: namespace {ns:?} is not 1-{MAX_NAMESPACE_LEN} bytes of A-Z a-z 0-9 : . _ -",
                        s.key_id
                    )));
                }
            }
        }
        Ok(())
    }

    /// The submitters by key id.
    pub fn submitters(&self) -> Submitters {
        Submitters {
            by_key: self
                .submitters
                .iter()
                .map(|s| (s.key_id.clone(), s.clone()))
                .collect(),
        }
    }

    /// The service's chain key, from `chain.key_file`.
    pub fn chain_key(&self) -> Result<SigningKey, ConfigError> {
        let path = &self.chain.key_file;
        let text = plumbing::config::read(path)?;
        let seed = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .and_then(|l| hex::decode(l).ok())
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| {
                ConfigError::invalid(format!(
                    "{}: expected a 32-byte seed as 64 hex characters",
                    path.display()
                ))
            })?;
        Ok(SigningKey::from_bytes(&seed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "plain_http = true\n[chain]\nurl = \"http://127.0.0.1:7500\"\nkey_file = \"k\"\n";

    #[test]
    fn the_built_in_file_parses_and_a_minimal_file_gets_the_defaults() {
        let c = AnchorConfig::built_in().unwrap();
        assert!(!c.submitters.is_empty());
        let m = AnchorConfig::parse(MINIMAL, "test", Path::new("/etc/x")).unwrap();
        assert_eq!(m.batch.max_items, 4000);
        assert_eq!(m.batch.max_wait_ms, 200);
        assert_eq!(m.chain.key_file, Path::new("/etc/x/k"));
        assert_eq!(m.database, Path::new("/etc/x/data/anchor.sqlite"));
    }

    #[test]
    fn bad_values_name_what_is_wrong() {
        let cases = [
            ("[batch]\nmax_items = 0\n", "batch.max_items"),
            ("[batch]\nmax_wait_ms = 0\n", "batch.max_wait_ms"),
            (
                "[[submitters]]\nkey_id = \"a\"\nsecret = \"short\"\nnamespaces = []\n",
                "secret of at least 16",
            ),
            (
                "[[submitters]]\nkey_id = \"a\"\nsecret = \"0123456789abcdef\"\nnamespaces = [\"a b\"]\n",
                "namespace \"a b\"",
            ),
            (
                "[[submitters]]\nkey_id = \"a\"\nsecret = \"0123456789abcdef\"\nnamespaces = []\n\
                 [[submitters]]\nkey_id = \"a\"\nsecret = \"0123456789abcdef\"\nnamespaces = []\n",
                "appears twice",
            ),
        ];
        for (extra, needle) in cases {
            let err = AnchorConfig::parse(&format!("{MINIMAL}{extra}"), "t", Path::new(".")).unwrap_err();
            assert!(err.to_string().contains(needle), "{extra}: {err}");
        }
        let no_transport = MINIMAL.replace("plain_http = true\n", "");
        assert!(AnchorConfig::parse(&no_transport, "t", Path::new(".")).is_err());
    }

    #[test]
    fn namespaces_are_checked() {
        assert!(valid_namespace("isp.attestations"));
        assert!(!valid_namespace(""));
        assert!(!valid_namespace(&"a".repeat(MAX_NAMESPACE_LEN + 1)));
        assert!(!valid_namespace("a?b"));
        assert!(!valid_namespace("a/b"));
    }
}
