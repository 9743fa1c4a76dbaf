//! Operator routes under `/v1/admin`, all behind the bearer token (checked by the scope's
//! middleware in `api/mod.rs` before a handler runs), one module per resource.
//!
//! Amounts an operator sets (limits, fees) and reads as configuration (balances, limits, fees)
//! are decimals in the ledger's asset, as in the config file: `"1000.00"`. Journal records
//! (payments, reconciliation) carry minor units, as the journal and the ledgers do.
//!
//! Changes to routes, corridors and limits apply at once to new quotes and payments, and last
//! until the connector restarts: the config file stays the durable source.

pub(super) mod corridors;
pub(super) mod ledgers;
pub(super) mod limits;
pub(super) mod payments;
pub(super) mod reconciliation;
pub(super) mod routes;

use actix_web::web;
use htlc::Asset;

use super::ApiError;
use crate::LedgerId;
use crate::switch::SwitchTables;

/// Routes relative to the `/v1/admin` scope, one resource per path so that another method on
/// a known path is a 405 rather than a 404. The stream is registered before `{id}`, which would
/// otherwise take "stream" for a payment id.
pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/ledgers").get(ledgers::ledgers))
        .service(
            web::resource("/routes")
                .get(routes::list_routes)
                .put(routes::put_route),
        )
        .service(web::resource("/routes/{prefix}").delete(routes::delete_route))
        .service(
            web::resource("/corridors")
                .get(corridors::list_corridors)
                .put(corridors::put_corridor),
        )
        .service(web::resource("/corridors/{from}/{to}").delete(corridors::delete_corridor))
        .service(
            web::resource("/limits")
                .get(limits::list_limits)
                .put(limits::put_limits),
        )
        .service(web::resource("/limits/{ledger}").delete(limits::delete_ledger_limits))
        .service(web::resource("/limits/{ledger}/{account}").delete(limits::delete_account_limits))
        .service(web::resource("/payments").get(payments::list_payments))
        .service(web::resource("/payments/stream").get(payments::payment_stream))
        .service(web::resource("/payments/{id}").get(payments::payment))
        .service(web::resource("/reconciliation").get(reconciliation::reconciliation));
}

fn unknown_ledger(id: &LedgerId) -> ApiError {
    ApiError::unprocessable("unknown_ledger", format!("unknown ledger {id}"))
}

/// The asset of a ledger the connector holds an account on, or 422.
fn asset_of(tables: &SwitchTables, id: &LedgerId) -> Result<Asset, ApiError> {
    tables
        .ledgers
        .get(id)
        .map(|l| l.info.asset.clone())
        .ok_or_else(|| unknown_ledger(id))
}
