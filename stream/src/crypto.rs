//! STREAM encryption (RFC 29 §5.1) and the keys a shared secret gives: AES-256-GCM under
//! `HMAC-SHA256(secret, "ilp_stream_encryption")`, laid out `nonce(12) | tag(16) | ciphertext`,
//! and the fulfillment key of htlc's derivation. Nonces come from the caller's RNG (or are
//! passed in), so this stays pure and tests are deterministic.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce, Tag};
use htlc::condition::stream_encryption_key;
use htlc::packet::MAX_DATA_LEN;
use htlc::{Condition, Fulfillment, FulfillmentKey, PacketType};
use rand::{CryptoRng, RngCore};

use crate::error::StreamError;
use crate::packet::StreamPacket;

/// AES-GCM nonce length.
pub const NONCE_LEN: usize = 12;
/// AES-GCM tag length.
pub const TAG_LEN: usize = 16;
/// Bytes encryption adds to a packet.
pub const OVERHEAD: usize = NONCE_LEN + TAG_LEN;

/// A fresh 32-byte shared secret (the size RFC 29 §4.1 recommends), from the caller's RNG.
pub fn generate_shared_secret(rng: &mut (impl RngCore + CryptoRng)) -> [u8; 32] {
    let mut secret = [0u8; 32];
    rng.fill_bytes(&mut secret);
    secret
}

/// Everything one connection's shared secret derives: the packet cipher and the fulfillment key.
#[derive(Clone)]
pub struct StreamKeys {
    cipher: Aes256Gcm,
    fulfillment: FulfillmentKey,
}

impl std::fmt::Debug for StreamKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StreamKeys(..)")
    }
}

impl StreamKeys {
    /// Derives both keys (the AES key schedule is computed once, here).
    pub fn from_shared_secret(shared_secret: &[u8]) -> Self {
        let key = stream_encryption_key(shared_secret);
        StreamKeys {
            cipher: Aes256Gcm::new(&key.into()),
            fulfillment: FulfillmentKey::from_shared_secret(shared_secret),
        }
    }

    /// Encrypts `plaintext` under `nonce`. The caller must never reuse a nonce with one secret.
    pub fn encrypt_with_nonce(
        &self,
        nonce: [u8; NONCE_LEN],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, StreamError> {
        let len = OVERHEAD + plaintext.len();
        if len > MAX_DATA_LEN {
            return Err(StreamError::TooLarge {
                len,
                max: MAX_DATA_LEN,
            });
        }
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&[0u8; TAG_LEN]);
        out.extend_from_slice(plaintext);
        let (head, body) = out.split_at_mut(OVERHEAD);
        let tag = self
            .cipher
            .encrypt_in_place_detached(Nonce::from_slice(&nonce), &[], body)
            // Only fails for inputs over 64 GiB, far above the length checked above.
            .map_err(|_| StreamError::TooLarge {
                len,
                max: MAX_DATA_LEN,
            })?;
        head[NONCE_LEN..].copy_from_slice(&tag);
        Ok(out)
    }

    /// Encrypts `plaintext` under a random nonce from `rng`.
    pub fn encrypt(
        &self,
        rng: &mut (impl RngCore + CryptoRng),
        plaintext: &[u8],
    ) -> Result<Vec<u8>, StreamError> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        self.encrypt_with_nonce(nonce, plaintext)
    }

    /// Decrypts `nonce | tag | ciphertext`; any change to the bytes or another key fails.
    pub fn decrypt(&self, data: &[u8]) -> Result<Vec<u8>, StreamError> {
        if data.len() < OVERHEAD {
            return Err(StreamError::TooShortToDecrypt { len: data.len() });
        }
        let (nonce, rest) = data.split_at(NONCE_LEN);
        let (tag, ciphertext) = rest.split_at(TAG_LEN);
        let mut plaintext = ciphertext.to_vec();
        self.cipher
            .decrypt_in_place_detached(
                Nonce::from_slice(nonce),
                &[],
                &mut plaintext,
                Tag::from_slice(tag),
            )
            .map_err(|_| StreamError::DecryptionFailed)?;
        Ok(plaintext)
    }

    /// Encodes and encrypts a STREAM packet: the `data` of the ILP packet that carries it.
    pub fn seal(
        &self,
        rng: &mut (impl RngCore + CryptoRng),
        packet: &StreamPacket,
    ) -> Result<Vec<u8>, StreamError> {
        self.encrypt(rng, &packet.encode())
    }

    /// Decrypts and decodes the `data` of an ILP packet of type `arrived_in`.
    pub fn open(&self, data: &[u8], arrived_in: PacketType) -> Result<StreamPacket, StreamError> {
        StreamPacket::decode_for(&self.decrypt(data)?, arrived_in)
    }

    /// The fulfillment of a Prepare carrying `data` (RFC 29 §6.3).
    pub fn fulfillment(&self, data: &[u8]) -> Fulfillment {
        self.fulfillment.fulfillment(data)
    }

    /// The condition a sender puts on a Prepare carrying `data` (RFC 29 §6.2).
    pub fn condition(&self, data: &[u8]) -> Condition {
        self.fulfillment(data).condition()
    }
}
