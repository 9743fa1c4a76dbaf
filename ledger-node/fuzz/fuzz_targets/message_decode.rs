//! Fuzzes the network message decoder: any bytes must decode to a message or an error, never
//! panic, and whatever decodes must re-encode to the same bytes (one encoding per value).
#![no_main]

use ledger_node::consensus::wire::{decode_message, encode_message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = decode_message(data) {
        assert_eq!(encode_message(&m), data);
    }
});
