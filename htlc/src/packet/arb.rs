//! Proptest strategies for packets and their fields (feature `proptest`, and in this crate's
//! tests), so every crate that carries ILP packets tests against the same generators.

use proptest::prelude::*;

use crate::address::{Address, SCHEMES};
use crate::condition::{Condition, Fulfillment};
use crate::error_code::ErrorCode;
use crate::packet::{AmountTooLarge, Fulfill, Packet, Prepare, Reject};
use crate::time::Timestamp;

/// A valid address: a scheme and one to four segments.
pub fn address() -> impl Strategy<Value = Address> {
    (
        proptest::sample::select(SCHEMES.to_vec()),
        proptest::collection::vec("[A-Za-z0-9_~-]{1,20}", 1..5),
    )
        .prop_filter_map("a valid address", |(scheme, segs)| {
            Address::new(format!("{scheme}.{}", segs.join("."))).ok()
        })
}

/// Any timestamp ILP can carry (years 0000 to 9999).
pub fn timestamp() -> impl Strategy<Value = Timestamp> {
    (-62_167_219_200_000i64..=253_402_300_799_999)
        .prop_filter_map("in range", |ms| Timestamp::from_unix_millis(ms).ok())
}

/// Packet data: mostly short, sometimes past 127 bytes (the long length form).
pub fn data() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        proptest::collection::vec(any::<u8>(), 120..600),
    ]
}

/// An F08 reject: data that starts with the two amounts (followed by anything, as a newer sender
/// may append), or arbitrary data, which F08 also allows.
pub fn f08_reject() -> impl Strategy<Value = Reject> {
    let amounts_first = (
        any::<u64>(),
        any::<u64>(),
        proptest::collection::vec(any::<u8>(), 0..20),
    )
        .prop_map(|(received, maximum, tail)| {
            let mut bytes = AmountTooLarge { received, maximum }.encode().to_vec();
            bytes.extend(tail);
            bytes
        });
    (
        proptest::option::of(address()),
        ".{0,40}",
        prop_oneof![amounts_first, data()],
    )
        .prop_map(|(by, message, data)| {
            Reject::new(ErrorCode::F08_AMOUNT_TOO_LARGE, by, message, data)
                .unwrap_or_else(|e| unreachable!("within limits: {e}"))
        })
}

/// Any valid packet of the three types; a third of the Rejects are F08.
pub fn packet() -> impl Strategy<Value = Packet> {
    let prepare =
        (address(), any::<u64>(), timestamp(), any::<[u8; 32]>(), data()).prop_map(|(d, a, t, c, data)| {
            Prepare::new(d, a, t, Condition::from_bytes(c), data)
                .unwrap_or_else(|e| unreachable!("within limits: {e}"))
                .into()
        });
    let fulfill = (any::<[u8; 32]>(), data()).prop_map(|(f, data)| {
        Fulfill::new(Fulfillment::from_bytes(f), data)
            .unwrap_or_else(|e| unreachable!("within limits: {e}"))
            .into()
    });
    let reject = (
        proptest::sample::select(ErrorCode::ALL.to_vec()),
        proptest::option::of(address()),
        ".{0,40}",
        data(),
    )
        .prop_map(|(c, by, m, data)| {
            Reject::new(c, by, m, data)
                .unwrap_or_else(|e| unreachable!("within limits: {e}"))
                .into()
        });
    prop_oneof![prepare, fulfill, reject, f08_reject().prop_map(Packet::from)]
}
