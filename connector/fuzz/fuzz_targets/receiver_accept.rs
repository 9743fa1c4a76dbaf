//! Any escrow memo offered to a receiver: the decision never panics, and it accepts only
//! packets whose fulfillment matches the condition.
#![no_main]

use connector::receiver::{Offer, ReceiverSeed, accept};
use htlc::{Address, Condition, Timestamp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u64, [u8; 32], &[u8])| {
    let (amount, condition, memo) = input;
    let address = Address::new("test.ecny.bank-b").expect("valid address");
    let seed = ReceiverSeed::new([7; 32]);
    let condition = Condition::from_bytes(condition);
    let offer = Offer {
        amount,
        condition: &condition,
        expires_at: Timestamp::MAX,
        memo,
    };
    if let Ok(accepted) = accept(&address, &seed, offer, Timestamp::UNIX_EPOCH) {
        assert!(condition.is_fulfilled_by(&accepted.fulfillment));
    }
});
