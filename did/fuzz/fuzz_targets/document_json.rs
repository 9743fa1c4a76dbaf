//! Any bytes as a DID document: reading never panics, and an accepted document is valid and
//! comes back unchanged from the JSON it writes.
#![no_main]

use did::Document;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(document) = Document::from_json(bytes) {
        assert_eq!(document.validate(), Ok(()));
        let json = document.to_json();
        assert_eq!(Document::from_json(&json).as_ref(), Ok(&document));
    }
});
