//! Any text as a DID: parsing never panics, and an accepted DID displays as the text given and
//! splits into a method and method-specific id that rebuild it.
//! Each input is also tried behind `did:`: without sanitizer hooks libFuzzer cannot solve the
//! prefix comparison, and a first hour never got past it (34 edges).
#![no_main]

use did::Did;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    check(text);
    check(&format!("did:{text}"));
});

fn check(text: &str) {
    if let Ok(did) = Did::parse(text) {
        assert_eq!(did.as_str(), text);
        assert_eq!(
            Did::new(did.method(), did.method_specific_id()).as_ref(),
            Ok(&did)
        );
    }
}
