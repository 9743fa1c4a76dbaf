//! Any text as a did:key (and as a Multikey value): resolving never panics, and a resolved
//! document is valid and names the key the DID was made from.
#![no_main]

use did::key::{did_key_from_public_key, public_key_of_did_key, resolve_did_key};
use did::{Did, PublicKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(key) = PublicKey::from_multibase(text) {
        assert_eq!(PublicKey::from_multibase(&key.to_multibase()), Ok(key));
    }
    let Ok(did) = Did::new("key", text) else { return };
    if let Ok(document) = resolve_did_key(&did) {
        assert_eq!(document.validate(), Ok(()));
        let key = public_key_of_did_key(&did).expect("a resolved did:key has a key");
        assert!(document.all_methods().any(|m| m.key == key));
        // The canonical form of the same key resolves to the same methods' keys.
        let canonical = resolve_did_key(&did_key_from_public_key(&key)).expect("canonical did:key resolves");
        assert_eq!(
            canonical.verification_method.len(),
            document.verification_method.len()
        );
    }
});
