//! Fuzzes light-client proof checking on arbitrary JSON: never panics, never accepts junk.
#![no_main]

use std::sync::OnceLock;

use ledger_node::committee::ValidatorInfo;
use ledger_node::crypto::KeyPair;
use ledger_node::genesis::Genesis;
use ledger_node::proof::InclusionProof;
use libfuzzer_sys::fuzz_target;

fn genesis() -> &'static Genesis {
    static G: OnceLock<Genesis> = OnceLock::new();
    G.get_or_init(|| Genesis {
        epoch: 1,
        timestamp_ms: 0,
        members: (0..4)
            .map(|i| {
                let k = KeyPair::for_test(1, i);
                ValidatorInfo {
                    public_key: *k.public(),
                    pop: k.proof_of_possession(),
                    operator: format!("op{i}"),
                }
            })
            .collect(),
        params: Default::default(),
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = serde_json::from_slice::<InclusionProof>(data) {
        assert!(p.verify(genesis()).is_err(), "no fuzzed proof can carry a real certificate");
    }
});
