//! Throwaway development certificates: a local CA, a server certificate for `localhost`,
//! `127.0.0.1` and `::1` (plus any names asked for), and a client certificate for mutual TLS,
//! all signed by that CA and valid for 30 days. Nothing here is fit for production: the CA's
//! key sits next to the certificates it signs.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::{ClientTls, PeerTls, ServerTls, TlsError};

/// How long development certificates are valid.
pub const VALIDITY: Duration = Duration::from_secs(30 * 24 * 3600);

/// The files [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevCerts {
    /// The CA certificate: what clients (and mutual-TLS servers) trust.
    pub ca: PathBuf,
    /// The server's certificate chain (leaf, then the CA).
    pub server_cert: PathBuf,
    /// The server's private key.
    pub server_key: PathBuf,
    /// The client's certificate chain, for mutual TLS.
    pub client_cert: PathBuf,
    /// The client's private key.
    pub client_key: PathBuf,
}

impl DevCerts {
    /// The files [`generate`] writes into `dir`, without generating them (for files made
    /// earlier, e.g. by `cypherlink dev-certs`).
    pub fn in_dir(dir: &Path) -> DevCerts {
        DevCerts {
            ca: dir.join("ca.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server-key.pem"),
            client_cert: dir.join("client.pem"),
            client_key: dir.join("client-key.pem"),
        }
    }

    /// A listener with the server certificate, no client certificates asked for.
    pub fn server(&self) -> ServerTls {
        ServerTls {
            cert: self.server_cert.clone(),
            key: self.server_key.clone(),
            client_ca: None,
        }
    }

    /// A listener that also demands a client certificate signed by the CA.
    pub fn mutual_server(&self) -> ServerTls {
        ServerTls {
            client_ca: Some(self.ca.clone()),
            ..self.server()
        }
    }

    /// Peer links: the server certificate (valid for client authentication too) both ways.
    pub fn peer(&self) -> PeerTls {
        PeerTls {
            cert: self.server_cert.clone(),
            key: self.server_key.clone(),
            ca: self.ca.clone(),
        }
    }

    /// A client trusting the CA.
    pub fn client(&self) -> ClientTls {
        ClientTls::trusting(&self.ca)
    }

    /// A client trusting the CA and presenting the client certificate.
    pub fn mutual_client(&self) -> ClientTls {
        ClientTls {
            ca: Some(self.ca.clone()),
            cert: Some(self.client_cert.clone()),
            key: Some(self.client_key.clone()),
        }
    }
}

/// Generates a CA, a server and a client certificate into `dir` (created if missing):
/// `ca.pem`, `server.pem`, `server-key.pem`, `client.pem`, `client-key.pem`. The server
/// certificate names `localhost`, `127.0.0.1`, `::1` and `extra_names` (host names or IP
/// addresses), and serves as a client certificate too, for peer links ([`DevCerts::peer`]).
pub fn generate(dir: &Path, extra_names: &[String]) -> Result<DevCerts, TlsError> {
    std::fs::create_dir_all(dir).map_err(|source| TlsError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let now = SystemTime::now();
    let validity = |params: &mut CertificateParams| {
        // A day of slack for clocks that disagree.
        params.not_before = (now - Duration::from_secs(24 * 3600)).into();
        params.not_after = (now + VALIDITY).into();
    };

    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "CypherLink development CA (throwaway)");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    validity(&mut ca_params);
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    names.extend(extra_names.iter().cloned());
    let server_key = KeyPair::generate()?;
    let mut server_params = CertificateParams::new(names)?;
    server_params
        .distinguished_name
        .push(DnType::CommonName, "CypherLink development server");
    server_params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    validity(&mut server_params);
    let server_cert = server_params.signed_by(&server_key, &issuer)?;

    let client_key = KeyPair::generate()?;
    let mut client_params = CertificateParams::new(Vec::<String>::new())?;
    client_params
        .distinguished_name
        .push(DnType::CommonName, "CypherLink development client");
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    validity(&mut client_params);
    let client_cert = client_params.signed_by(&client_key, &issuer)?;

    let certs = DevCerts::in_dir(dir);
    let ca_pem = ca_cert.pem();
    write(&certs.ca, &ca_pem, false)?;
    write(
        &certs.server_cert,
        &format!("{}{ca_pem}", server_cert.pem()),
        false,
    )?;
    write(&certs.server_key, &server_key.serialize_pem(), true)?;
    write(
        &certs.client_cert,
        &format!("{}{ca_pem}", client_cert.pem()),
        false,
    )?;
    write(&certs.client_key, &client_key.serialize_pem(), true)?;
    Ok(certs)
}

/// Writes a file; private keys are readable by their owner only.
fn write(path: &Path, contents: &str, private: bool) -> Result<(), TlsError> {
    let failed = |source| TlsError::Write {
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(failed)?;
    std::io::Write::write_all(&mut file, contents.as_bytes()).map_err(failed)
}
