//! Any bytes as the JSON body of each POST the ledger API accepts: parsing never panics, and a
//! body that parses serializes to JSON that parses back to the same request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugins::PrepareTransfer;
use plugins::api::{
    FulfillRequest, IssuanceRequest, PaymentRequest, RedemptionRequest, RejectRequest, WebhookRequest,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(bytes: &[u8]) {
    if let Ok(request) = serde_json::from_slice::<T>(bytes) {
        let json = serde_json::to_vec(&request).expect("a parsed request serializes");
        let again: T = serde_json::from_slice(&json).expect("its JSON parses");
        assert_eq!(again, request);
    }
}

fuzz_target!(|bytes: &[u8]| {
    round_trip::<PrepareTransfer>(bytes);
    round_trip::<FulfillRequest>(bytes);
    round_trip::<RejectRequest>(bytes);
    round_trip::<PaymentRequest>(bytes);
    round_trip::<IssuanceRequest>(bytes);
    round_trip::<RedemptionRequest>(bytes);
    round_trip::<WebhookRequest>(bytes);
});
