//! The authenticated handshake between nodes. Proposals carry no signature of their own (see
//! [`crate::consensus::messages`]): a leader's authority rests on this link, so each validator
//! proves it holds its committee key before any frame is accepted from it.
//!
//! Both sides send a hello (magic, chain id, committee index or "full node", 32 fresh random
//! bytes), then each signs the transcript `SHA-256(tag || dialer hello || listener hello)` with
//! its BLS key, under a role byte so a dialer's proof cannot be reflected back as a listener's.
//! The signed bytes start with a byte no consensus message starts with, so a handshake signature
//! can never pass as a vote or a timeout. A non-voting full node proves nothing and is only ever
//! served catch-up requests.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::committee::Committee;
use crate::crypto::{KeyPair, Signature, sha256, verify};

const MAGIC: &[u8; 16] = b"CYPHERLINK-P2P/1";
const HELLO_LEN: usize = 16 + 32 + 2 + 32;
const SIGNATURE_LEN: usize = 96;
/// The index a full node announces.
pub const FULL_NODE: u16 = u16::MAX;
const SIGNED_PREFIX: u8 = 0x10;

/// Why a handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The connection failed or timed out.
    #[error("handshake i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The peer is on another chain or speaks another protocol.
    #[error("peer speaks another protocol or chain")]
    WrongChain,
    /// The peer claims an index outside the committee, or not the one we dialled.
    #[error("peer claims index {0}, which is not acceptable here")]
    WrongIndex(u16),
    /// The peer's proof of key possession does not verify.
    #[error("peer {0} failed to prove its key")]
    BadProof(u16),
    /// No reply in time.
    #[error("handshake timed out")]
    Timeout,
}

fn hello(chain_id: &[u8; 32], index: u16) -> [u8; HELLO_LEN] {
    let mut h = [0u8; HELLO_LEN];
    h[..16].copy_from_slice(MAGIC);
    h[16..48].copy_from_slice(chain_id);
    h[48..50].copy_from_slice(&index.to_be_bytes());
    let nonce: [u8; 32] = rand::random();
    h[50..].copy_from_slice(&nonce);
    h
}

fn signed_bytes(dialer: &[u8], listener: &[u8], role: u8) -> Vec<u8> {
    let t = sha256(&[b"CYPHERLINK-HANDSHAKE-V1", dialer, listener]);
    let mut m = Vec::with_capacity(34);
    m.push(SIGNED_PREFIX);
    m.extend_from_slice(&t);
    m.push(role);
    m
}

/// Runs the handshake on a fresh connection. `me` is our index and key (none for a full node);
/// `expect` the index we dialled (none when accepting). Returns the peer's index
/// ([`FULL_NODE`] for a full node).
pub async fn handshake(
    stream: &mut (impl AsyncRead + AsyncWrite + Unpin),
    dialer: bool,
    me: Option<(u16, &KeyPair)>,
    committee: &Committee,
    chain_id: &[u8; 32],
    expect: Option<u16>,
) -> Result<u16, HandshakeError> {
    tokio::time::timeout(
        Duration::from_secs(5),
        run(stream, dialer, me, committee, chain_id, expect),
    )
    .await
    .map_err(|_| HandshakeError::Timeout)?
}

async fn run(
    stream: &mut (impl AsyncRead + AsyncWrite + Unpin),
    dialer: bool,
    me: Option<(u16, &KeyPair)>,
    committee: &Committee,
    chain_id: &[u8; 32],
    expect: Option<u16>,
) -> Result<u16, HandshakeError> {
    let mine = hello(chain_id, me.map_or(FULL_NODE, |(i, _)| i));
    stream.write_all(&mine).await?;
    let mut theirs = [0u8; HELLO_LEN];
    stream.read_exact(&mut theirs).await?;
    if &theirs[..16] != MAGIC || &theirs[16..48] != chain_id {
        return Err(HandshakeError::WrongChain);
    }
    let peer = u16::from_be_bytes([theirs[48], theirs[49]]);
    let peer_is_validator = usize::from(peer) < committee.size();
    if (peer != FULL_NODE && !peer_is_validator)
        || expect.is_some_and(|e| e != peer)
        || me.is_some_and(|(i, _)| i == peer)
        // Two full nodes have nothing to say to each other.
        || (me.is_none() && !peer_is_validator)
    {
        return Err(HandshakeError::WrongIndex(peer));
    }
    let (d, l) = if dialer {
        (&mine, &theirs)
    } else {
        (&theirs, &mine)
    };
    let my_role = u8::from(!dialer);
    let proof = match me {
        Some((_, key)) => key.sign(&signed_bytes(d, l, my_role)).to_bytes(),
        None => [0u8; SIGNATURE_LEN],
    };
    stream.write_all(&proof).await?;
    let mut their_proof = [0u8; SIGNATURE_LEN];
    stream.read_exact(&mut their_proof).await?;
    if peer_is_validator {
        let pk = committee
            .public_key(peer)
            .ok_or(HandshakeError::WrongIndex(peer))?;
        let sig = Signature::from_bytes(&their_proof).map_err(|_| HandshakeError::BadProof(peer))?;
        if !verify(pk, &signed_bytes(d, l, 1 - my_role), &sig) {
            return Err(HandshakeError::BadProof(peer));
        }
    }
    Ok(peer)
}
