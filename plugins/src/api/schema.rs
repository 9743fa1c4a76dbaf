//! Schema-only types for the OpenAPI document: how `htlc` values (which know nothing of
//! OpenAPI) look on the wire.

use utoipa::ToSchema;

/// An asset and its scale, e.g. `{"code": "EUR", "scale": 2}`: amounts are integers of
/// 10^-scale units.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AssetDoc {
    /// Asset code.
    #[schema(example = "EUR")]
    code: String,
    /// Decimal places of the minor unit.
    #[schema(example = 2)]
    scale: u8,
}

/// Where a transfer stands.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum EscrowStatusDoc {
    /// Funds locked, waiting for the preimage or the expiry.
    Prepared,
    /// Released to the payee.
    Fulfilled,
    /// Declined by the payee; refunded.
    Rejected,
    /// Refunded at expiry.
    Expired,
}
