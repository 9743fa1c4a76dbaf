//! The OpenAPI 3.1 document of the service's API, generated from the handlers and types and
//! served at `GET /openapi.json`.

use actix_web::HttpResponse;
use utoipa::OpenApi;

use super::routes;

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "CypherLink anchoring API",
        version = "1.0.0",
        description = "Authorized submitters send 32-byte digests (never the data) to their own \
                       namespaces. Digests are batched per namespace; a batch closes after N digests or \
                       T milliseconds, gets the next batch number and the previous batch's hash (the \
                       sequence attestation), and its Merkle root is anchored on the committee chain in \
                       one transaction. Once the anchor's block is final every item has a certificate: \
                       the anchor's inclusion proof with the item's digest and Merkle path, checkable \
                       offline against the chain's genesis. Every /v1 request is signed with the \
                       CL1-HMAC-SHA256 scheme of the ledger API (CypherLink-Key-Id, -Timestamp, -Nonce, \
                       -Signature headers). Errors are application/problem+json (RFC 7807) with a stable \
                       `code`."
    ),
    paths(routes::post_digests, routes::get_certificate, routes::get_batch, routes::healthz, routes::metrics, document),
    components(schemas(super::Problem)),
    tags(
        (name = "anchoring", description = "Digests in, certificates out"),
        (name = "monitoring", description = "Health, metrics and this document"),
    )
)]
pub struct AnchoringApi;

/// The document as pretty JSON, with a trailing newline.
pub fn json() -> String {
    let mut text = AnchoringApi::openapi().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "monitoring",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json")))]
pub(super) async fn document() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(json())
}
