//! STREAM receipts (RFC 39): a receiver's signed statement of the total received on a stream,
//! `version(1) | nonce(16) | stream id(u8) | total received(u64) | HMAC-SHA256(secret, the rest)`,
//! which a verifier holding the receipt secret checks without seeing the ILP packets.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::StreamError;
use crate::oer::Reader;

/// The receipt format version.
pub const RECEIPT_VERSION: u8 = 1;
/// Encoded length of a receipt.
pub const RECEIPT_LEN: usize = 1 + 16 + 1 + 8 + 32;
const SIGNED_LEN: usize = RECEIPT_LEN - 32;

/// A decoded, verified receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// The nonce the verifier gave for this connection.
    pub nonce: [u8; 16],
    /// The stream (RFC 39 gives it one byte).
    pub stream_id: u8,
    /// Total received on the stream so far, in the receiver's units.
    pub total_received: u64,
}

impl Receipt {
    /// The signed wire form under `secret`.
    pub fn sign(&self, secret: &[u8; 32]) -> [u8; RECEIPT_LEN] {
        let mut out = [0u8; RECEIPT_LEN];
        out[0] = RECEIPT_VERSION;
        out[1..17].copy_from_slice(&self.nonce);
        out[17] = self.stream_id;
        out[18..SIGNED_LEN].copy_from_slice(&self.total_received.to_be_bytes());
        let mac = hmac(secret, &out[..SIGNED_LEN]);
        out[SIGNED_LEN..].copy_from_slice(&mac);
        out
    }

    /// Decodes a receipt and checks its HMAC under `secret`.
    pub fn verify(bytes: &[u8], secret: &[u8; 32]) -> Result<Self, StreamError> {
        let mut r = Reader::new(bytes);
        let version = r.read_u8("receipt version")?;
        if version != RECEIPT_VERSION {
            return Err(StreamError::UnsupportedReceiptVersion { found: version });
        }
        let nonce = r.read_array("receipt nonce")?;
        let stream_id = r.read_u8("receipt stream id")?;
        let total_received = r.read_u64("receipt total received")?;
        let mac: [u8; 32] = r.read_array("receipt HMAC")?;
        if r.remaining() > 0 {
            return Err(StreamError::TrailingBytes {
                what: "receipt",
                extra: r.remaining(),
            });
        }
        let expected = hmac(secret, &bytes[..SIGNED_LEN]);
        if !bool::from(expected.ct_eq(&mac)) {
            return Err(StreamError::BadReceiptHmac);
        }
        Ok(Receipt {
            nonce,
            stream_id,
            total_received,
        })
    }
}

fn hmac(secret: &[u8; 32], message: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_verify_and_every_change_is_caught() {
        let secret = [7u8; 32];
        let receipt = Receipt {
            nonce: [1; 16],
            stream_id: 3,
            total_received: 1_000,
        };
        let bytes = receipt.sign(&secret);
        assert_eq!(Receipt::verify(&bytes, &secret), Ok(receipt));
        assert_eq!(
            Receipt::verify(&bytes, &[8u8; 32]),
            Err(StreamError::BadReceiptHmac)
        );
        for at in 1..RECEIPT_LEN {
            let mut changed = bytes;
            changed[at] ^= 1;
            assert_eq!(
                Receipt::verify(&changed, &secret),
                Err(StreamError::BadReceiptHmac),
                "byte {at}"
            );
        }
        let mut v2 = bytes;
        v2[0] = 2;
        assert_eq!(
            Receipt::verify(&v2, &secret),
            Err(StreamError::UnsupportedReceiptVersion { found: 2 })
        );
        let mut long = bytes.to_vec();
        long.push(0);
        assert_eq!(
            Receipt::verify(&long, &secret),
            Err(StreamError::TrailingBytes {
                what: "receipt",
                extra: 1
            })
        );
        assert!(matches!(
            Receipt::verify(&bytes[..40], &secret),
            Err(StreamError::Truncated { .. })
        ));
    }
}
