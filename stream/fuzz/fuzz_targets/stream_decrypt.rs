//! Any bytes as an encrypted packet: opening never panics and (without the key) never succeeds
//! except for bytes sealed under it; a sealed copy of any plaintext opens to that plaintext.
#![no_main]

use htlc::PacketType;
use libfuzzer_sys::fuzz_target;
use stream::StreamKeys;

fuzz_target!(|data: &[u8]| {
    let keys = StreamKeys::from_shared_secret(b"fuzz");
    let _ = keys.open(data, PacketType::Prepare);
    let mut nonce = [0u8; 12];
    for (n, b) in nonce.iter_mut().zip(data) {
        *n = *b;
    }
    if let Ok(sealed) = keys.encrypt_with_nonce(nonce, data) {
        assert_eq!(keys.decrypt(&sealed).as_deref(), Ok(data));
    }
});
