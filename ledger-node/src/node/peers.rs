//! TCP links between nodes: dialling with backoff, accepting, the handshake, and one bounded
//! outgoing queue per peer so that a slow or dead peer never blocks the others (a full queue
//! drops the frame: consensus tolerates loss; the dropped count is a metric).
//!
//! Who dials whom: validator i dials every validator j > i, so each pair has one connection; a
//! full node dials the validators it lists. A new connection from a peer replaces its old one.
//!
//! A link runs over mutual TLS (`peer_tls`: both ends show a certificate from the committee's
//! CA, and the dialer checks that the certificate names the address it dialled) or over plain
//! TCP where the configuration says so. Either way the [`handshake`] then proves each validator's
//! BLS key, inside the tunnel when there is one.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::codec::encode_to_vec;
use crate::consensus::messages::{UnverifiedMessage, VerifiedBody};
use crate::node::frame::{Frame, MAX_FRAME, MAX_SYNC_BLOCKS};
use crate::node::handshake::{FULL_NODE, handshake};
use crate::node::metrics::gauge_value;
use crate::node::{DriverInput, Shared};

/// Frames waiting for one peer.
const QUEUE: usize = 8_192;

/// A frame ready for the wire, shared by every peer it is broadcast to.
pub type WireFrame = Arc<Vec<u8>>;

struct Link {
    generation: u64,
    tx: mpsc::Sender<WireFrame>,
}

/// The live links to validators.
#[derive(Default)]
pub struct Peers {
    links: Mutex<HashMap<u16, Link>>,
    generation: AtomicU64,
    /// Frames dropped because a peer's queue was full or it was not connected.
    pub dropped: AtomicU64,
}

impl std::fmt::Debug for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peers")
            .field("connected", &self.connected())
            .finish()
    }
}

impl Peers {
    /// Queues a frame for `to`; never waits.
    pub fn send(&self, to: u16, frame: WireFrame) {
        let sent = self
            .links
            .lock()
            .ok()
            .and_then(|l| l.get(&to).map(|k| k.tx.try_send(frame).is_ok()))
            .unwrap_or(false);
        if !sent {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Queues a frame for every connected validator.
    pub fn broadcast(&self, frame: WireFrame) {
        if let Ok(l) = self.links.lock() {
            for k in l.values() {
                if k.tx.try_send(frame.clone()).is_err() {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// Indexes of connected validators, sorted.
    pub fn connected(&self) -> Vec<u16> {
        let mut v: Vec<u16> = self
            .links
            .lock()
            .map(|l| l.keys().copied().collect())
            .unwrap_or_default();
        v.sort_unstable();
        v
    }

    fn register(&self, peer: u16, tx: mpsc::Sender<WireFrame>) -> u64 {
        let generation = self.generation.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut l) = self.links.lock() {
            l.insert(peer, Link { generation, tx });
        }
        generation
    }

    fn unregister(&self, peer: u16, generation: u64) {
        if let Ok(mut l) = self.links.lock()
            && l.get(&peer).is_some_and(|k| k.generation == generation)
        {
            l.remove(&peer);
        }
    }
}

/// A link's byte stream: a TCP socket, or a TLS session on one.
pub trait LinkIo: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> LinkIo for T {}

/// How long a TLS handshake on a peer link may take.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(3);

/// What carries peer links: mutual TLS, or plain TCP said explicitly in the configuration.
#[derive(Clone)]
pub enum Transport {
    /// `peer_plain_tcp = true`.
    PlainTcp,
    /// `peer_tls`: accept and dial with certificates from the committee's CA.
    MutualTls {
        /// Accepts links; demands a peer certificate.
        acceptor: TlsAcceptor,
        /// Dials links; presents ours, checks theirs names the address dialled.
        connector: TlsConnector,
    },
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::PlainTcp => "PlainTcp",
            Transport::MutualTls { .. } => "MutualTls",
        })
    }
}

impl Transport {
    /// The transport a configuration asks for: TLS when `peer_tls` is given.
    pub fn new(peer_tls: Option<&tls::PeerTls>) -> Result<Transport, tls::TlsError> {
        Ok(match peer_tls {
            None => Transport::PlainTcp,
            Some(t) => Transport::MutualTls {
                acceptor: TlsAcceptor::from(Arc::new(t.acceptor_config()?)),
                connector: TlsConnector::from(Arc::new(t.dialer_config()?)),
            },
        })
    }

    /// Secures a connection we accepted.
    async fn accepted(&self, tcp: TcpStream) -> Result<Box<dyn LinkIo>, String> {
        match self {
            Transport::PlainTcp => Ok(Box::new(tcp)),
            Transport::MutualTls { acceptor, .. } => {
                let tls = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(tcp))
                    .await
                    .map_err(|_| "TLS handshake timed out".to_string())?
                    .map_err(|e| format!("TLS: {e}"))?;
                Ok(Box::new(tls))
            }
        }
    }

    /// Secures a connection we dialled to `addr`.
    async fn dialled(&self, tcp: TcpStream, addr: SocketAddr) -> Result<Box<dyn LinkIo>, String> {
        match self {
            Transport::PlainTcp => Ok(Box::new(tcp)),
            Transport::MutualTls { connector, .. } => {
                let name = ServerName::IpAddress(addr.ip().into());
                let tls = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, connector.connect(name, tcp))
                    .await
                    .map_err(|_| "TLS handshake timed out".to_string())?
                    .map_err(|e| format!("TLS: {e}"))?;
                Ok(Box::new(tls))
            }
        }
    }
}

/// How long data sent on a peer link may stay unacknowledged, and an idle link unanswered to
/// keepalive probes, before the kernel fails the socket. Without it a link cut by a partition
/// sat in TCP's retransmission backoff after the partition healed (about as long again as the
/// partition, up to minutes; `tests/chain_netns.rs`), and consensus with it. A few base view
/// timeouts: shorter only redials links that are merely slow.
const PEER_DEAD_AFTER: Duration = Duration::from_secs(5);

/// Lets the kernel notice a dead peer link within [`PEER_DEAD_AFTER`] (unacknowledged data,
/// or an idle link failing keepalive probes), so the dialer reconnects.
fn watch_for_dead_link(stream: &TcpStream) {
    let socket = socket2::SockRef::from(stream);
    let _ = stream.set_nodelay(true);
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(Duration::from_secs(2))
        .with_interval(Duration::from_secs(1))
        .with_retries(3);
    if let Err(e) = socket
        .set_tcp_keepalive(&keepalive)
        .and_then(|()| socket.set_tcp_user_timeout(Some(PEER_DEAD_AFTER)))
    {
        tracing::debug!(error = %e, "peer link without dead-link detection");
    }
}

/// Accepts connections forever.
pub async fn listen(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((tcp, addr)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            watch_for_dead_link(&tcp);
            let mut stream = match shared.transport.accepted(tcp).await {
                Ok(stream) => stream,
                Err(e) => {
                    tracing::debug!(%addr, error = %e, "inbound link refused");
                    shared.metrics.dropped("link_tls");
                    return;
                }
            };
            let me = shared.identity.as_ref().map(|(i, k)| (*i, k));
            match handshake(&mut stream, false, me, &shared.committee, &shared.chain_id, None).await {
                Ok(peer) => run_link(stream, peer, shared).await,
                Err(e) => tracing::debug!(%addr, error = %e, "inbound handshake failed"),
            }
        });
    }
}

/// Keeps a connection to validator `peer` at `addr`, reconnecting with exponential backoff
/// (100 ms doubling to 2 s, reset after a successful handshake).
pub async fn dial(peer: u16, addr: SocketAddr, shared: Arc<Shared>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let attempt = async {
            let tcp = tokio::time::timeout(Duration::from_secs(3), TcpStream::connect(addr))
                .await
                .map_err(|_| "connect timed out".to_string())?
                .map_err(|e| e.to_string())?;
            watch_for_dead_link(&tcp);
            let mut stream = shared.transport.dialled(tcp, addr).await?;
            let me = shared.identity.as_ref().map(|(i, k)| (*i, k));
            handshake(
                &mut stream,
                true,
                me,
                &shared.committee,
                &shared.chain_id,
                Some(peer),
            )
            .await
            .map_err(|e| e.to_string())?;
            Ok::<_, String>(stream)
        };
        match attempt.await {
            Ok(stream) => {
                backoff = Duration::from_millis(100);
                tracing::info!(peer, %addr, "connected");
                run_link(stream, peer, shared.clone()).await;
                tracing::info!(peer, %addr, "disconnected");
            }
            Err(e) => tracing::debug!(peer, %addr, error = %e, "dial failed"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

async fn run_link(stream: Box<dyn LinkIo>, peer: u16, shared: Arc<Shared>) {
    let (rd, wr) = tokio::io::split(stream);
    let (tx, mut rx) = mpsc::channel::<WireFrame>(QUEUE);
    let generation = (peer != FULL_NODE).then(|| shared.peers.register(peer, tx.clone()));
    shared
        .metrics
        .peers
        .set(gauge_value(shared.peers.connected().len()));
    let writer = tokio::spawn(async move {
        let mut w = BufWriter::with_capacity(256 * 1024, wr);
        while let Some(f) = rx.recv().await {
            if w.write_all(&f).await.is_err() {
                return;
            }
            while let Ok(f) = rx.try_recv() {
                if w.write_all(&f).await.is_err() {
                    return;
                }
            }
            if w.flush().await.is_err() {
                return;
            }
        }
    });
    let mut r = BufReader::with_capacity(256 * 1024, rd);
    loop {
        let mut len = [0u8; 4];
        if r.read_exact(&mut len).await.is_err() {
            break;
        }
        let len = u32::from_be_bytes(len) as usize;
        if len == 0 || len > MAX_FRAME {
            break;
        }
        let mut body = vec![0u8; len];
        if r.read_exact(&mut body).await.is_err() {
            break;
        }
        let Ok(frame) = Frame::decode(&body) else {
            shared.metrics.dropped("malformed");
            continue;
        };
        match frame {
            Frame::Consensus(bytes) => {
                if peer == FULL_NODE || shared.identity.is_none() {
                    continue;
                }
                let msg = UnverifiedMessage::decode(peer, &bytes).and_then(|m| m.verify(&shared.committee));
                match msg {
                    Ok(m) if matches!(m.body(), VerifiedBody::Transactions(_)) => {
                        if shared.warmer.forward(m).await.is_err() {
                            break;
                        }
                    }
                    Ok(m) => {
                        check_proposed_signatures(&shared, m.body());
                        if shared.inbox.send(DriverInput::Message(m)).await.is_err() {
                            break;
                        }
                    }
                    Err(reason) => shared.metrics.dropped(&format!("{reason:?}")),
                }
            }
            Frame::SyncRequest { from, max } => {
                let max = max.clamp(1, u32::from(MAX_SYNC_BLOCKS));
                let blocks = shared
                    .reader
                    .blocks_from(from, max, 8 * 1024 * 1024)
                    .await
                    .unwrap_or_default();
                let items = blocks
                    .iter()
                    .map(|b| (encode_to_vec(b.block.as_ref()), encode_to_vec(&b.qc)))
                    .collect();
                if tx
                    .send(Arc::new(Frame::SyncResponse(items).to_wire()))
                    .await
                    .is_err()
                {
                    break;
                }
            }
            Frame::SyncResponse(items) => {
                let _ = shared.sync_tx.send((peer, items));
            }
        }
    }
    if let Some(g) = generation {
        shared.peers.unregister(peer, g);
    }
    shared
        .metrics
        .peers
        .set(gauge_value(shared.peers.connected().len()));
    writer.abort();
}

/// Checks the signatures of a proposal's transactions not already known, here on the network
/// task (batch verification, off the consensus thread), so that executing the block finds them
/// in the cache. Gossiped transactions are checked by the [`super::warm`] thread instead.
fn check_proposed_signatures(shared: &Shared, body: &VerifiedBody) {
    if let VerifiedBody::Proposal(p) = body {
        let txs: Vec<&[u8]> = p.inner().block.payload().iter().map(Vec::as_slice).collect();
        if !txs.is_empty() {
            shared.sigs.check(&txs);
        }
    }
}
