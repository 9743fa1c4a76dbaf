//! Any bytes as an ILP address: validation never panics, and an accepted address round-trips.
#![no_main]

use htlc::Address;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(address) = Address::from_bytes(bytes) {
        assert_eq!(address.as_str().as_bytes(), bytes);
        assert!(address.has_prefix(address.scheme()));
    }
});
