//! Any bytes: decoding never panics, and what decodes re-encodes to bytes that decode the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stream::StreamPacket;

fuzz_target!(|data: &[u8]| {
    if let Ok(packet) = StreamPacket::decode(data) {
        let again = packet.encode();
        assert_eq!(StreamPacket::decode(&again).as_ref(), Ok(&packet));
    }
});
