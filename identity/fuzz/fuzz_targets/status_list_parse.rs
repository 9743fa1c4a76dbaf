//! Any bytes as a status list: an `lst` value never panics and never inflates past the limit,
//! lookups in an accepted list stay in range; any text as a status list token never panics.
#![no_main]

use htlc::Timestamp;
use identity::status_list::MAX_STATUS_LIST_BYTES;
use identity::{StatusList, StatusListToken};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u8, &str)| {
    let (bits, text) = input;
    if let Ok(list) = StatusList::from_lst(u64::from(bits), text) {
        assert!(list.as_bytes().len() <= MAX_STATUS_LIST_BYTES);
        let len = list.len();
        if len > 0 {
            assert!(list.get(len - 1).is_ok());
        }
        assert!(list.get(len).is_err());
    }
    let key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]).verifying_key();
    let now = Timestamp::from_unix_millis(1_796_083_200_000).unwrap();
    let _ = StatusListToken::verify(text, |_| Ok(key), "https://isp.example/status/1", now, 60);
});
