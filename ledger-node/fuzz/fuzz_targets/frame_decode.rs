//! Fuzzes the node-to-node frame decoder: never panics, and what decodes re-encodes to the same
//! bytes.
#![no_main]

use ledger_node::node::frame::Frame;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = Frame::decode(data) {
        assert_eq!(&f.to_wire()[4..], data);
    }
});
