//! The end-to-end data a CypherLink sender puts in the ILP Prepare: the payment's UETR (its one
//! end-to-end id), the least amount the receiver must get, and a short reference for the payee.
//!
//! It travels in clear so that every connector can log and trace the payment by its UETR; it
//! cannot be altered, because the fulfillment is derived from these exact bytes and the shared
//! secret (STREAM-style): change one byte and the receiver's preimage no longer matches.
//!
//! Wire form: `"CLP1" | uetr (16) | min destination amount (u64 BE) | reference length (u8) |
//! reference (UTF-8, at most 140 bytes)`. Bytes after the reference are ignored (extensions).

use uuid::Uuid;

/// Magic and version.
pub const MAGIC: &[u8; 4] = b"CLP1";
/// Longest reference, as a SWIFT unstructured remittance line.
pub const MAX_REFERENCE_LEN: usize = 140;
// Its length goes on the wire as one byte.
const _: () = assert!(MAX_REFERENCE_LEN <= 255);

/// The data of a CypherLink payment packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentData {
    /// The end-to-end id (UUID v4, as SWIFT gpi's UETR).
    pub uetr: Uuid,
    /// The receiver refuses less than this (F04).
    pub min_destination_amount: u64,
    /// Free text for the payee (invoice number, ...).
    pub reference: String,
}

/// Why packet data is not CypherLink payment data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentDataError {
    /// Does not start with `CLP1`.
    #[error("not CypherLink payment data (no CLP1 header)")]
    NotPaymentData,
    /// Ends early.
    #[error("payment data truncated")]
    Truncated,
    /// Reference over 140 bytes or not UTF-8.
    #[error("invalid payment reference")]
    InvalidReference,
}

impl PaymentData {
    /// A fresh payment with a random UETR.
    pub fn new(min_destination_amount: u64, reference: impl Into<String>) -> Result<Self, PaymentDataError> {
        let reference = reference.into();
        if reference.len() > MAX_REFERENCE_LEN {
            return Err(PaymentDataError::InvalidReference);
        }
        Ok(PaymentData {
            uetr: Uuid::new_v4(),
            min_destination_amount,
            reference,
        })
    }

    /// The wire form.
    pub fn encode(&self) -> Vec<u8> {
        let reference = &self.reference.as_bytes()[..self.reference.len().min(MAX_REFERENCE_LEN)];
        let mut out = Vec::with_capacity(4 + 16 + 8 + 1 + reference.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(self.uetr.as_bytes());
        out.extend_from_slice(&self.min_destination_amount.to_be_bytes());
        out.push(u8::try_from(reference.len()).expect("MAX_REFERENCE_LEN is under 256"));
        out.extend_from_slice(reference);
        out
    }

    /// Parses the wire form.
    pub fn decode(bytes: &[u8]) -> Result<Self, PaymentDataError> {
        let rest = bytes
            .strip_prefix(MAGIC)
            .ok_or(PaymentDataError::NotPaymentData)?;
        let (uetr, rest) = rest
            .split_first_chunk::<16>()
            .ok_or(PaymentDataError::Truncated)?;
        let (amount, rest) = rest.split_first_chunk::<8>().ok_or(PaymentDataError::Truncated)?;
        let (&len, rest) = rest.split_first().ok_or(PaymentDataError::Truncated)?;
        let len = usize::from(len);
        if len > MAX_REFERENCE_LEN {
            return Err(PaymentDataError::InvalidReference);
        }
        let reference = rest.get(..len).ok_or(PaymentDataError::Truncated)?;
        let reference = std::str::from_utf8(reference).map_err(|_| PaymentDataError::InvalidReference)?;
        Ok(PaymentData {
            uetr: Uuid::from_bytes(*uetr),
            min_destination_amount: u64::from_be_bytes(*amount),
            reference: reference.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let data = PaymentData::new(200_000, "invoice 42").unwrap();
        assert_eq!(PaymentData::decode(&data.encode()), Ok(data.clone()));
        let mut extended = data.encode();
        extended.extend_from_slice(b"future");
        assert_eq!(PaymentData::decode(&extended), Ok(data.clone()));
        assert_eq!(
            PaymentData::decode(b"STREAM"),
            Err(PaymentDataError::NotPaymentData)
        );
        let encoded = data.encode();
        assert_eq!(
            PaymentData::decode(&encoded[..encoded.len() - 1]),
            Err(PaymentDataError::Truncated)
        );
        assert!(PaymentData::new(1, "x".repeat(141)).is_err());
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = PaymentData::decode(&bytes);
        }

        #[test]
        fn encode_then_decode(amount in any::<u64>(), reference in ".{0,30}", uetr in any::<u128>()) {
            let data = PaymentData { uetr: Uuid::from_u128(uetr), min_destination_amount: amount, reference };
            if data.reference.len() <= MAX_REFERENCE_LEN {
                prop_assert_eq!(PaymentData::decode(&data.encode()), Ok(data));
            }
        }
    }
}
