//! The OpenAPI 3.1 document of the receiver's HTTP API ([`super::http`]), generated from the
//! handlers and types and served at `GET /openapi.json`. `docs/openapi/receiver-api.json` is
//! this document; `connector/tests/receiver_openapi.rs` fails if it is stale (regenerate with
//! `UPDATE_OPENAPI=1 cargo test -p connector --test receiver_openapi`).

use actix_web::HttpResponse;
use utoipa::OpenApi;

use super::http;

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "CypherLink receiver API",
        version = "1.0.0",
        description = "A receiving bank's side of a cross-ledger payment. A payer first calls \
                       `/.well-known/pay` (SPSP-style setup) for an ILP address and a shared secret, \
                       builds its packet's condition from them and pays through a connector; the \
                       receiving bank checks each escrow offered to its account against the secret and \
                       claims or rejects it. Payer and receiving bank then look the outcome up by the \
                       payment's end-to-end id (UETR), optionally waiting for it to be decided. Amounts \
                       are integers of the receiving ledger asset's minor unit. Errors are \
                       application/problem+json (RFC 7807) with a stable `code`."
    ),
    paths(http::setup, http::received, http::healthz, document),
    components(schemas(crate::api::Problem)),
    tags(
        (name = "payee", description = "Connection setup and what was received, for payers and the receiving bank"),
        (name = "monitoring", description = "Health and this document"),
    )
)]
pub struct ReceiverApi;

/// The document as pretty JSON, with a trailing newline.
pub fn json() -> String {
    crate::api::openapi::pretty(ReceiverApi::openapi())
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "monitoring",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json")))]
pub(super) async fn document() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(json())
}
