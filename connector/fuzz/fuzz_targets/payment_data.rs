//! Any bytes as CypherLink payment data: decoding never panics, and what decodes re-encodes to
//! bytes that decode to the same value.
#![no_main]

use connector::payment_data::PaymentData;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(data) = PaymentData::decode(bytes) {
        assert_eq!(PaymentData::decode(&data.encode()), Ok(data));
    }
});
