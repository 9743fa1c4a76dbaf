//! Real handshakes over TCP on 127.0.0.1 with the development certificates.

use std::sync::Arc;

use rustls_pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::*;

/// Serves one connection with `server` (echoing one byte) and connects with `client`; the
/// result is whether the byte came back over TLS.
async fn handshake(server: &ServerTls, client: &ClientTls) -> Result<(), String> {
    let client = client.client_config().map_err(|e| e.to_string())?;
    handshake_with(server.server_config().unwrap(), client, "localhost").await
}

/// [`handshake`] with rustls configurations, the client naming the server `name`.
async fn handshake_with(
    server: rustls::ServerConfig,
    client: rustls::ClientConfig,
    name: &'static str,
) -> Result<(), String> {
    let acceptor = TlsAcceptor::from(Arc::new(server));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = acceptor.accept(tcp).await.map_err(|e| e.to_string())?;
        let mut byte = [0u8; 1];
        tls.read_exact(&mut byte).await.map_err(|e| e.to_string())?;
        tls.write_all(&byte).await.map_err(|e| e.to_string())?;
        tls.shutdown().await.map_err(|e| e.to_string())
    });
    let connector = TlsConnector::from(Arc::new(client));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let talk = async {
        let mut tls = connector
            .connect(ServerName::try_from(name).unwrap(), tcp)
            .await
            .map_err(|e| e.to_string())?;
        tls.write_all(b"x").await.map_err(|e| e.to_string())?;
        let mut back = [0u8; 1];
        tls.read_exact(&mut back).await.map_err(|e| e.to_string())?;
        if &back == b"x" {
            Ok(())
        } else {
            Err("wrong echo".into())
        }
    };
    let client_side = talk.await;
    let server_side = serving.await.unwrap();
    client_side.and(server_side)
}

fn fresh() -> (tempfile::TempDir, dev::DevCerts) {
    let dir = tempfile::tempdir().unwrap();
    let certs = dev::generate(dir.path(), &[]).unwrap();
    (dir, certs)
}

#[tokio::test]
async fn a_client_trusting_the_dev_ca_talks_to_the_dev_server() {
    let (_dir, certs) = fresh();
    handshake(&certs.server(), &certs.client()).await.unwrap();
}

#[tokio::test]
async fn a_client_trusting_another_ca_is_refused() {
    let (_dir, certs) = fresh();
    let (_other_dir, other) = fresh();
    let refused = handshake(&certs.server(), &other.client()).await.unwrap_err();
    assert!(refused.contains("certificate"), "{refused}");
}

#[tokio::test]
async fn mutual_tls_needs_a_client_certificate_from_the_ca() {
    let (_dir, certs) = fresh();
    handshake(&certs.mutual_server(), &certs.mutual_client())
        .await
        .unwrap();
    assert!(handshake(&certs.mutual_server(), &certs.client()).await.is_err());
    let (_other_dir, other) = fresh();
    let stranger = ClientTls {
        ca: Some(certs.ca.clone()),
        ..other.mutual_client()
    };
    assert!(handshake(&certs.mutual_server(), &stranger).await.is_err());
}

#[tokio::test]
async fn peers_with_certificates_from_one_ca_link_by_address() {
    let (_dir, certs) = fresh();
    let peer = certs.peer();
    let linked = handshake_with(
        peer.acceptor_config().unwrap(),
        peer.dialer_config().unwrap(),
        "127.0.0.1",
    );
    linked.await.unwrap();
}

#[tokio::test]
async fn a_peer_from_another_ca_is_refused_both_ways() {
    let (_dir, certs) = fresh();
    let (_other_dir, other) = fresh();
    let ours = certs.peer();
    let theirs = other.peer();
    let dialling_in = handshake_with(
        ours.acceptor_config().unwrap(),
        theirs.dialer_config().unwrap(),
        "127.0.0.1",
    );
    assert!(dialling_in.await.is_err());
    let dialling_out = handshake_with(
        theirs.acceptor_config().unwrap(),
        ours.dialer_config().unwrap(),
        "127.0.0.1",
    );
    assert!(dialling_out.await.is_err());
}

#[tokio::test]
async fn a_peer_port_speaks_no_http_and_needs_a_certificate() {
    let (_dir, certs) = fresh();
    let peer = certs.peer();
    let https_client = certs.mutual_client().client_config().unwrap();
    assert!(
        handshake_with(peer.acceptor_config().unwrap(), https_client, "127.0.0.1")
            .await
            .is_err()
    );
    let mut anonymous = certs.client().client_config().unwrap();
    anonymous.alpn_protocols = vec![PEER_ALPN.to_vec()];
    assert!(
        handshake_with(peer.acceptor_config().unwrap(), anonymous, "127.0.0.1")
            .await
            .is_err()
    );
}

#[test]
fn bad_files_get_errors_that_name_them() {
    let (dir, certs) = fresh();
    let missing = ServerTls {
        cert: dir.path().join("nope.pem"),
        ..certs.server()
    };
    assert!(matches!(
        missing.server_config(),
        Err(TlsError::Read {
            what: "certificate",
            ..
        })
    ));
    let key_as_cert = ServerTls {
        cert: certs.server_key.clone(),
        ..certs.server()
    };
    assert!(matches!(
        key_as_cert.server_config(),
        Err(TlsError::Empty {
            what: "certificate",
            ..
        })
    ));
    let wrong_key = ServerTls {
        key: certs.client_key.clone(),
        ..certs.server()
    };
    assert!(matches!(wrong_key.server_config(), Err(TlsError::Rustls(_))));
    let half = ClientTls {
        cert: Some(certs.client_cert.clone()),
        ..certs.client()
    };
    assert!(matches!(half.client_config(), Err(TlsError::HalfIdentity)));
}

#[cfg(unix)]
#[test]
fn private_keys_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, certs) = fresh();
    for key in [&certs.server_key, &certs.client_key] {
        let mode = std::fs::metadata(key).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{} is {mode:o}", key.display());
    }
}
