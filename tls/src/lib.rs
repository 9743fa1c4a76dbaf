//! TLS for every CypherLink listener and client.
//!
//! A server names its certificate chain and private key (PEM files) and, for mutual TLS, the CA
//! whose certificates its clients must present ([`ServerTls`]); a client names the CA it trusts
//! (the system's roots when it names none) and, for mutual TLS, its own certificate and key
//! ([`ClientTls`]). Both become rustls configurations with the `ring` provider, TLS 1.2 and 1.3
//! only, as rustls builds them by default.
//!
//! [`dev`] makes a throwaway local CA with a server and a client certificate for `localhost` and
//! `127.0.0.1`, so the demo and the tests run on TLS with nothing to configure
//! (`cypherlink dev-certs` writes the same files for a developer).
//!
//! This crate depends on nothing of CypherLink's: every server and client crate uses it.

pub mod dev;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file is missing, unreadable or not PEM.
    #[error("cannot read the {what} {path}: {reason}")]
    Read {
        /// Which file: `certificate`, `private key`, `CA certificate`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A PEM file holds no item of the kind expected.
    #[error("the {what} file {path} holds no {what}")]
    Empty {
        /// Which kind of item.
        what: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// A client names only one of its certificate and key.
    #[error("a client certificate needs both `cert` and `key`")]
    HalfIdentity,
    /// rustls refused the certificates or keys (e.g. a key that does not match).
    #[error("TLS configuration refused: {0}")]
    Rustls(#[from] rustls::Error),
    /// The CA for client certificates could not be used.
    #[error("client certificate verifier: {0}")]
    Verifier(String),
    /// The system's trusted roots could not be loaded.
    #[error("no trusted CA: none configured and the system has none ({0})")]
    NoRoots(String),
    /// Development certificates could not be generated.
    #[error("generating certificates: {0}")]
    Generate(#[from] rcgen::Error),
    /// Development certificates could not be written.
    #[error("writing {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
}

/// A listener's TLS settings (`[server.tls]`, `[api.tls]`, ... in each configuration file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerTls {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// Mutual TLS: a PEM file of the CA certificates that sign the clients' certificates. Set,
    /// a client without a certificate from one of them cannot connect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ca: Option<PathBuf>,
}

/// A client's TLS settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientTls {
    /// PEM file of the CA certificates to trust; unset, the system's roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<PathBuf>,
    /// Mutual TLS: this client's PEM certificate chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<PathBuf>,
    /// Mutual TLS: this client's PEM private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
}

/// Mutual TLS on a link between peers that both dial and accept (`peer_tls` of a chain
/// node). One certificate serves both directions, so it must allow server and client
/// authentication (both extended key usages, as etcd asks of its peer certificates); both ends
/// must present one signed by `ca`, and the dialer checks that the listener's certificate names
/// the address it dialled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerTls {
    /// This node's PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// This node's PEM private key.
    pub key: PathBuf,
    /// PEM file of the CA certificates that sign every peer's certificate.
    pub ca: PathBuf,
}

/// The ALPN protocol of peer links, so a peer certificate cannot be used to speak HTTP to a
/// node's peer port or the reverse.
pub const PEER_ALPN: &[u8] = b"cypherlink-p2p/1";

impl PeerTls {
    /// Resolves relative paths against `base` (the configuration file's directory).
    pub fn relative_to(&mut self, base: &Path) {
        for path in [&mut self.cert, &mut self.key, &mut self.ca] {
            *path = base.join(&*path);
        }
    }

    /// The configuration for accepting a link: a peer certificate is required.
    pub fn acceptor_config(&self) -> Result<rustls::ServerConfig, TlsError> {
        let mut config = ServerTls {
            cert: self.cert.clone(),
            key: self.key.clone(),
            client_ca: Some(self.ca.clone()),
        }
        .server_config()?;
        config.alpn_protocols = vec![PEER_ALPN.to_vec()];
        Ok(config)
    }

    /// The configuration for dialling a link: trusts only `ca`, presents this node's
    /// certificate.
    pub fn dialer_config(&self) -> Result<rustls::ClientConfig, TlsError> {
        let mut config = ClientTls {
            ca: Some(self.ca.clone()),
            cert: Some(self.cert.clone()),
            key: Some(self.key.clone()),
        }
        .client_config()?;
        config.alpn_protocols = vec![PEER_ALPN.to_vec()];
        Ok(config)
    }
}

/// The one crypto provider: `ring` (the tree builds no other).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Installs [`provider`] as the process default, for libraries that build their own rustls
/// configurations (reqwest). Safe to call any number of times.
pub fn install_default_provider() {
    // Fails only if a provider is installed already, which is what was wanted.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The rule every CypherLink listener follows: TLS, or plain HTTP said explicitly; neither (a
/// listener nobody decided about) and both are configuration errors. `prefix` names the keys
/// in the caller's file (`server.`, `api.`, `api_`), so the message points at them.
pub fn check_transport(tls: Option<&ServerTls>, plain_http: bool, prefix: &str) -> Result<(), String> {
    match (tls, plain_http) {
        (None, false) => Err(format!(
            "configure {prefix}tls (cert, key) or say {prefix}plain_http = true explicitly"
        )),
        (Some(_), true) => Err(format!("set either {prefix}tls or {prefix}plain_http, not both")),
        _ => Ok(()),
    }
}

/// The rustls configuration of an optional [`ServerTls`]: `None` for plain HTTP.
pub fn server_config(tls: Option<&ServerTls>) -> Result<Option<rustls::ServerConfig>, TlsError> {
    tls.map(ServerTls::server_config).transpose()
}

impl ServerTls {
    /// The rustls server configuration, HTTP/1.1 only (what every CypherLink API speaks).
    pub fn server_config(&self) -> Result<rustls::ServerConfig, TlsError> {
        let builder =
            rustls::ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
        let builder = match &self.client_ca {
            Some(ca) => {
                let roots = Arc::new(root_store(ca)?);
                let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider())
                    .build()
                    .map_err(|e| TlsError::Verifier(e.to_string()))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_single_cert(certificates(&self.cert)?, private_key(&self.key)?)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

impl ClientTls {
    /// Trusts the CA in `ca`, with no client certificate.
    pub fn trusting(ca: impl Into<PathBuf>) -> Self {
        ClientTls {
            ca: Some(ca.into()),
            cert: None,
            key: None,
        }
    }

    /// The rustls client configuration.
    pub fn client_config(&self) -> Result<rustls::ClientConfig, TlsError> {
        let roots = match &self.ca {
            Some(ca) => root_store(ca)?,
            None => system_roots()?,
        };
        let builder = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots);
        let mut config = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                builder.with_client_auth_cert(certificates(cert)?, private_key(key)?)?
            }
            (None, None) => builder.with_no_client_auth(),
            _ => return Err(TlsError::HalfIdentity),
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

fn unreadable(what: &'static str, path: &Path, reason: impl ToString) -> TlsError {
    TlsError::Read {
        what,
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

/// Every certificate in a PEM file, in order.
pub fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let what = "certificate";
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| unreadable(what, path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(what, path, e))?;
    if certs.is_empty() {
        return Err(TlsError::Empty {
            what,
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// The first private key in a PEM file.
pub fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| match e {
        rustls_pki_types::pem::Error::NoItemsFound => TlsError::Empty {
            what: "private key",
            path: path.to_owned(),
        },
        e => unreadable("private key", path, e),
    })
}

/// A root store holding every certificate of a PEM file.
fn root_store(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in certificates(path)? {
        roots
            .add(cert)
            .map_err(|e| unreadable("CA certificate", path, e))?;
    }
    Ok(roots)
}

fn system_roots() -> Result<RootCertStore, TlsError> {
    let loaded = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(loaded.certs);
    if added == 0 {
        let why = loaded
            .errors
            .first()
            .map(ToString::to_string)
            .unwrap_or_else(|| "no certificates found".into());
        return Err(TlsError::NoRoots(why));
    }
    Ok(roots)
}

#[cfg(test)]
mod tests;
