//! Fuzzes the transaction decoder (bytes from clients and from blocks): never panics, and what
//! decodes re-encodes to the same bytes (one encoding per transaction, so one id).
#![no_main]

use ledger_node::state::Transaction;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = Transaction::decode(data) {
        let mut again = tx.body.encode();
        again.extend_from_slice(&tx.signature);
        assert_eq!(again, data);
    }
});
