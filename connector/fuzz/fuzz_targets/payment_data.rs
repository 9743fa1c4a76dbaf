//! Any bytes as CypherLink payment data: decoding never panics, and what decodes re-encodes to
//! bytes that decode to the same value. Each input is also tried behind the format's magic
//! prefix: without sanitizer hooks libFuzzer cannot solve the prefix comparison, and a first
//! hour of fuzzing never got past it (coverage stayed at 11 edges).
#![no_main]

use connector::payment_data::{MAGIC, PaymentData};
use libfuzzer_sys::fuzz_target;

fn check(bytes: &[u8]) {
    if let Ok(data) = PaymentData::decode(bytes) {
        assert_eq!(PaymentData::decode(&data.encode()), Ok(data));
    }
}

fuzz_target!(|bytes: &[u8]| {
    check(bytes);
    check(&[MAGIC.as_slice(), bytes].concat());
});
