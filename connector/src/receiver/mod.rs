//! The receiving bank's side (scenario steps 1 and 8-10).
//!
//! Setup hands a payer an ILP address and a fresh shared secret, with the field names of SPSP
//! (RFC 9). Nothing is stored per payer: the address ends in a random tag, and the secret is
//! derived from the receiver's seed and that tag (as STREAM servers do), so any packet to a
//! tagged address can be checked later. When an escrow arrives for the receiver's account, it
//! re-derives the fulfillment from the secret and the packet data (STREAM derivation), checks
//! that it matches the condition and that the amount is at least what the data promises, and
//! fulfils — or rejects with the ILP code that says why.

pub mod config;
mod follow;
pub mod http;
pub mod openapi;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use htlc::{Address, Asset, Condition, ErrorCode, Fulfillment, FulfillmentKey, Prepare, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

pub use follow::{ReceivedPayment, Receiver};

use crate::layers::Rejection;
use crate::payment_data::PaymentData;

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const BASE64URL: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
/// HMAC label deriving per-tag shared secrets from the receiver's seed.
const SHARED_SECRET_LABEL: &[u8] = b"ilp_stream_shared_secret";
/// Random bytes in a connection tag.
const TAG_BYTES: usize = 18;

/// The setup response, as SPSP's JSON (`application/spsp4+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SpspResponse {
    /// Where to send packets: the receiver's address plus a connection tag.
    pub destination_account: Address,
    /// 32 bytes, base64: the fulfillment of every packet derives from it.
    #[schema(example = "q4Vb0mJ3m1Qe8l2rYzT5wN7cXhU9aKpD6sFgHjLoPiE=")]
    pub shared_secret: String,
    /// The asset the receiver is paid in (as early SPSP versions carried it), so a payer can
    /// read amounts like "2000.00" in the receiver's units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_info: Option<Asset>,
}

impl SpspResponse {
    /// The decoded shared secret.
    pub fn secret(&self) -> Result<Vec<u8>, base64::DecodeError> {
        BASE64.decode(&self.shared_secret)
    }
}

/// The receiver's long-term secret from which every connection's shared secret derives.
#[derive(Clone)]
pub struct ReceiverSeed([u8; 32]);

impl std::fmt::Debug for ReceiverSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReceiverSeed(..)")
    }
}

impl ReceiverSeed {
    /// Wraps 32 secret bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        ReceiverSeed(bytes)
    }

    /// A random seed.
    pub fn random() -> Self {
        ReceiverSeed(rand::random())
    }

    /// The shared secret of the connection `tag`.
    pub fn shared_secret(&self, tag: &str) -> [u8; 32] {
        let mut label = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        label.update(SHARED_SECRET_LABEL);
        let key = label.finalize().into_bytes();
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(tag.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// A new connection: `address.<random tag>` and its shared secret.
    pub fn setup(&self, address: &Address) -> SpspResponse {
        let tag = BASE64URL.encode(rand::random::<[u8; TAG_BYTES]>());
        let destination_account = address
            .with_suffix(&tag)
            .unwrap_or_else(|_| unreachable!("base64url characters are valid address characters"));
        SpspResponse {
            destination_account,
            shared_secret: BASE64.encode(self.shared_secret(&tag)),
            asset_info: None,
        }
    }
}

/// An escrow offered to the receiver.
#[derive(Debug, Clone, Copy)]
pub struct Offer<'a> {
    /// Escrowed amount, minor units.
    pub amount: u64,
    /// Its condition.
    pub condition: &'a Condition,
    /// Its expiry.
    pub expires_at: Timestamp,
    /// Its memo (an ILP Prepare).
    pub memo: &'a [u8],
}

/// An escrow the receiver can claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The preimage to fulfil with.
    pub fulfillment: Fulfillment,
    /// The payment's end-to-end data.
    pub data: PaymentData,
    /// The connection tag it came through.
    pub tag: String,
}

/// Decides whether the receiver at `address` accepts `offer`.
pub fn accept(
    address: &Address,
    seed: &ReceiverSeed,
    offer: Offer<'_>,
    now: Timestamp,
) -> Result<Accepted, Rejection> {
    let prepare = Prepare::decode(offer.memo).map_err(|e| {
        Rejection::new(
            ErrorCode::F01_INVALID_PACKET,
            format!("memo is not an ILP Prepare: {e}"),
        )
    })?;
    if prepare.amount() != offer.amount {
        return Err(Rejection::new(
            ErrorCode::F03_INVALID_AMOUNT,
            format!(
                "escrow holds {} but the packet says {}",
                offer.amount,
                prepare.amount()
            ),
        ));
    }
    let destination = prepare.destination();
    let tag = destination
        .as_str()
        .strip_prefix(address.as_str())
        .and_then(|rest| rest.strip_prefix('.'))
        .and_then(|rest| rest.split('.').next())
        .filter(|tag| !tag.is_empty())
        .ok_or_else(|| {
            Rejection::new(
                ErrorCode::F06_UNEXPECTED_PAYMENT,
                format!("{destination} is not a connection of {address}"),
            )
        })?;
    let key = FulfillmentKey::from_shared_secret(&seed.shared_secret(tag));
    let fulfillment = key.fulfill(prepare.data(), offer.condition).ok_or_else(|| {
        Rejection::new(
            ErrorCode::F05_WRONG_CONDITION,
            "condition does not match this connection",
        )
    })?;
    let data = PaymentData::decode(prepare.data())
        .map_err(|e| Rejection::new(ErrorCode::F06_UNEXPECTED_PAYMENT, e.to_string()))?;
    if offer.amount < data.min_destination_amount {
        return Err(Rejection::new(
            ErrorCode::F04_INSUFFICIENT_DESTINATION_AMOUNT,
            format!(
                "received {} but the payment promises at least {}",
                offer.amount, data.min_destination_amount
            ),
        ));
    }
    if offer.expires_at.min(prepare.expires_at()) <= now {
        return Err(Rejection::new(
            ErrorCode::R00_TRANSFER_TIMED_OUT,
            "arrived expired",
        ));
    }
    Ok(Accepted {
        fulfillment,
        data,
        tag: tag.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(ms).unwrap()
    }

    /// What a sender builds from an SPSP response.
    fn packet(spsp: &SpspResponse, amount: u64, min: u64) -> (Prepare, Condition) {
        let data = PaymentData::new(min, "invoice 7").unwrap().encode();
        let key = FulfillmentKey::from_shared_secret(&spsp.secret().unwrap());
        let condition = key.fulfillment(&data).condition();
        let prepare = Prepare::new(
            spsp.destination_account.clone(),
            amount,
            t(10_000),
            condition,
            data,
        )
        .unwrap();
        (prepare, condition)
    }

    fn offer<'a>(amount: u64, condition: &'a Condition, memo: &'a [u8]) -> Offer<'a> {
        Offer {
            amount,
            condition,
            expires_at: t(10_000),
            memo,
        }
    }

    #[test]
    fn a_payment_built_from_setup_is_accepted() {
        let seed = ReceiverSeed::random();
        let me = Address::new("test.ecny.bank-b").unwrap();
        let spsp = seed.setup(&me);
        assert!(spsp.destination_account.has_prefix("test.ecny.bank-b"));
        let (prepare, condition) = packet(&spsp, 200_000, 200_000);
        let memo = prepare.encode();
        let accepted = accept(&me, &seed, offer(200_000, &condition, &memo), t(0)).unwrap();
        assert_eq!(accepted.fulfillment.condition(), condition);
        assert_eq!(accepted.data.min_destination_amount, 200_000);
        assert_eq!(accepted.data.reference, "invoice 7");
    }

    #[test]
    fn refusals_carry_the_right_code() {
        let seed = ReceiverSeed::random();
        let me = Address::new("test.ecny.bank-b").unwrap();
        let spsp = seed.setup(&me);
        let code = |r: Result<Accepted, Rejection>| r.unwrap_err().code;

        let (short, c) = packet(&spsp, 199_999, 200_000);
        let memo = short.encode();
        assert_eq!(
            code(accept(&me, &seed, offer(199_999, &c, &memo), t(0))),
            ErrorCode::F04_INSUFFICIENT_DESTINATION_AMOUNT
        );
        assert_eq!(
            code(accept(&me, &seed, offer(200_000, &c, &memo), t(0))),
            ErrorCode::F03_INVALID_AMOUNT
        );

        let (ok, c) = packet(&spsp, 200_000, 200_000);
        let memo = ok.encode();
        let other = ReceiverSeed::random();
        assert_eq!(
            code(accept(&me, &other, offer(200_000, &c, &memo), t(0))),
            ErrorCode::F05_WRONG_CONDITION
        );
        let elsewhere = Address::new("test.ecny.bank-c").unwrap();
        assert_eq!(
            code(accept(&elsewhere, &seed, offer(200_000, &c, &memo), t(0))),
            ErrorCode::F06_UNEXPECTED_PAYMENT
        );
        assert_eq!(
            code(accept(&me, &seed, offer(200_000, &c, &memo), t(10_000))),
            ErrorCode::R00_TRANSFER_TIMED_OUT
        );
        assert_eq!(
            code(accept(&me, &seed, offer(200_000, &c, b"junk"), t(0))),
            ErrorCode::F01_INVALID_PACKET
        );
    }

    #[test]
    fn each_setup_gets_its_own_secret() {
        let seed = ReceiverSeed::random();
        let me = Address::new("test.ecny.bank-b").unwrap();
        let (a, b) = (seed.setup(&me), seed.setup(&me));
        assert_ne!(a.destination_account, b.destination_account);
        assert_ne!(a.shared_secret, b.shared_secret);
        assert_eq!(a.secret().unwrap().len(), 32);
    }
}
