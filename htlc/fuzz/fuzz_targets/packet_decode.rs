//! Any bytes fed to the ILP packet decoder: it must never panic, and whatever it accepts must
//! re-encode canonically to bytes that decode to the same packet.
#![no_main]

use htlc::{Packet, PrepareBytesMut};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(packet) = Packet::decode(bytes) {
        let canonical = packet.encode();
        let again = Packet::decode(&canonical).expect("canonical encoding decodes");
        assert_eq!(again, packet);
        assert_eq!(again.encode(), canonical);
    }
    let mut copy = bytes.to_vec();
    if let Ok(mut view) = PrepareBytesMut::new(&mut copy) {
        let amount = view.amount();
        view.set_amount(amount.wrapping_add(1));
        assert_eq!(view.amount(), amount.wrapping_add(1));
        let _ = view.expires_at();
    }
});
