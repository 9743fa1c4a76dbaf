//! The OpenAPI 3.1 document of the connector's HTTP API, generated from the handlers and types
//! and served at `GET /openapi.json`. `docs/openapi/connector-api.json` is this document;
//! `connector/tests/openapi.rs` fails if it is stale (regenerate with
//! `UPDATE_OPENAPI=1 cargo test -p connector --test openapi`).

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{admin, public};

htlc::problem_responses! {
    /// A request that does not parse.
    pub Malformed = 400, "`malformed`: a path, query or JSON body that does not parse, does not fit the \
        schema or breaks a rule of its field";
    /// No operator token.
    pub Unauthorized = 401, "`unauthorized`: no or a wrong operator token; nothing was read or changed";
    /// Nothing with this id.
    pub NotFound = 404, "`not_found`: nothing with this id";
    /// The body is over the limit.
    pub TooLarge = 413, "`body_too_large`: the body is over the API's limit (`[api] max_body_bytes`)";
    /// The body is not JSON.
    pub UnsupportedMediaType = 415, "`unsupported_media_type`: the body is not `application/json`";
    /// A ledger the connector does not know.
    pub UnknownLedger = 422, "`unknown_ledger`: the connector holds no account on this ledger";
    /// A quote that cannot be given.
    pub QuoteRefused = 422, "`unknown_ledger`, `no_route`, `amount_too_small`, `limit_exceeded`, \
        `insufficient_timeout`, `payee_cannot_receive` or `unknown_payee`: nothing was promised";
    /// The journal cannot answer.
    pub Unavailable = 503, "`unavailable`: the journal (or, for a quote, the payee's ledger) cannot answer now";
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "operator",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("opaque token")
                        .description(Some(
                            "The operator token from the connector's config file (`[api] operator_token`), \
                             sent as `Authorization: Bearer <token>`. Every /v1/admin route requires it; \
                             without it (or with a wrong one) the answer is 401 problem+json and nothing \
                             is read or changed.",
                        ))
                        .build(),
                ),
            );
        }
    }
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "CypherLink connector API",
        version = "1.0.0",
        description = "A clearing bank's connector between ledgers. Participants (banks) ask for quotes and \
                       look payments up by their end-to-end id (UETR); operators, with a bearer token, read \
                       and set routes, corridor prices and limits, follow payments with their event trail \
                       and reconcile the journal against each ledger's statement. Errors are \
                       application/problem+json (RFC 7807) with a stable `code`. Amounts in journal records \
                       and quotes are integers of the ledger asset's minor unit; amounts an operator \
                       configures are decimals in the asset, as in the config file."
    ),
    paths(
        public::create_quote, public::payment_by_uetr, public::healthz, public::metrics,
        admin::ledgers::ledgers,
        admin::routes::list_routes, admin::routes::put_route, admin::routes::delete_route,
        admin::corridors::list_corridors, admin::corridors::put_corridor, admin::corridors::delete_corridor,
        admin::limits::list_limits, admin::limits::put_limits, admin::limits::delete_ledger_limits,
        admin::limits::delete_account_limits,
        admin::payments::list_payments, admin::payments::payment_stream, admin::payments::payment,
        admin::reconciliation::reconciliation,
        document,
    ),
    components(schemas(super::Problem)),
    modifiers(&Security),
    tags(
        (name = "payments", description = "Quotes and payment status, for participating banks"),
        (name = "admin", description = "Operator API: ledgers, routes, corridors, limits, payments, reconciliation (bearer token)"),
        (name = "monitoring", description = "Health, metrics and this document (no token)"),
    )
)]
pub struct ConnectorApi;

/// The document as pretty JSON, with a trailing newline.
pub fn json() -> String {
    pretty(ConnectorApi::openapi())
}

/// An OpenAPI document as committed under `docs/openapi/`: pretty JSON, trailing newline.
pub(crate) fn pretty(document: utoipa::openapi::OpenApi) -> String {
    let mut text = document.to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "monitoring",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json")))]
pub(super) async fn document() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(json())
}
