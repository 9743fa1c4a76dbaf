//! How the chain's own values look in the OpenAPI document, for the types whose JSON is made
//! by hand (ids as hex, codes as their names): a derive would describe their Rust form.

use htlc::openapi::hex32;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use super::types::FeedKind;
use crate::state::{AccountId, EscrowId, FailCode, TxId};

/// How the chain's ids look in the OpenAPI document: 64 lower-case hex characters.
macro_rules! hex_id_schema {
    ($ty:ty, $description:literal) => {
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                hex32(
                    $description,
                    "4be6a8c0d4f3e2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a493",
                )
            }
        }

        impl ToSchema for $ty {}
    };
}

hex_id_schema!(
    AccountId,
    "An account: its Ed25519 public key, 32 bytes as lower-case hex."
);
hex_id_schema!(
    TxId,
    "A transaction id: the Merkle leaf hash of its bytes, as lower-case hex."
);
hex_id_schema!(
    EscrowId,
    "An escrow id: SHA-256(\"CYPHERLINK-ESCROW-V1\" || payer || reference), as lower-case hex."
);

/// A string schema whose values are `names`.
fn names(description: &str, names: impl IntoIterator<Item = &'static str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(names))
        .into()
}

impl PartialSchema for FailCode {
    fn schema() -> RefOr<Schema> {
        names(
            "Why a transaction failed, or was refused before the mempool.",
            FailCode::ALL.into_iter().map(FailCode::as_str),
        )
    }
}

impl ToSchema for FailCode {}

impl PartialSchema for FeedKind {
    fn schema() -> RefOr<Schema> {
        names(
            "What a feed entry reports.",
            FeedKind::ALL.into_iter().map(FeedKind::as_str),
        )
    }
}

impl ToSchema for FeedKind {}
