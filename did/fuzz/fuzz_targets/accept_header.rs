//! Any text as an HTTP Accept header: negotiation never panics and either picks one of the two
//! DID document media types or refuses with representationNotSupported.
#![no_main]

use did::{ContentType, ErrorCode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match ContentType::negotiate(Some(text)) {
        Ok(ContentType::DidLdJson | ContentType::DidJson) => {}
        Err(error) => assert_eq!(error.code(), ErrorCode::RepresentationNotSupported),
    }
});
