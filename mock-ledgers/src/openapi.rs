//! The OpenAPI 3 document of the REST plugin API, generated from the handlers and types.
//! `docs/openapi/ledger-api.json` is this document; `tests/openapi.rs` fails if it is stale
//! (regenerate with `UPDATE_OPENAPI=1 cargo test -p mock-ledgers --test openapi`).

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::server::{feed, http};

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "signature",
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                    "CypherLink-Signature",
                    "HMAC-SHA256 request signature; also send CypherLink-Key-Id, CypherLink-Timestamp and \
                     CypherLink-Nonce. See docs/rest-plugin-api.md for the canonical string.",
                ))),
            );
        }
    }
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "CypherLink REST plugin API",
        version = "1.0.0",
        description = "What a bank core ledger (or CBDC ledger) implements so a CypherLink connector can \
                       use it: hash-time-locked transfers, balances, an event feed with a resume cursor, \
                       webhooks, account lookup and statements. Every /v1 request is HMAC-signed; every POST \
                       carries an Idempotency-Key; errors are application/problem+json with a stable code."
    ),
    paths(
        http::info, http::prepare, http::get_transfer, http::fulfill, http::reject, http::pay,
        http::issue, http::redeem, http::supply, http::lookup, http::balance, http::receivable, http::statement,
        feed::long_poll, feed::stream, http::register_webhook, http::get_webhook, http::remove_webhook,
        http::healthz, http::metrics,
    ),
    components(schemas(plugins::api::Problem, plugins::plugin::LedgerEvent, plugins::api::Statement)),
    modifiers(&Security),
    tags(
        (name = "transfers", description = "Hash-time-locked transfers (escrows)"),
        (name = "accounts", description = "Balances, lookup, name check, statements"),
        (name = "events", description = "Event feed (long poll, SSE) and webhooks"),
        (name = "payments", description = "Immediate payments"),
        (name = "cbdc", description = "Two-tier issuance and redemption"),
        (name = "ledger", description = "Ledger identity"),
        (name = "ops", description = "Health and metrics (unauthenticated)"),
    )
)]
pub struct LedgerApi;

/// The document as pretty JSON, with a trailing newline.
pub fn json() -> String {
    let mut text = LedgerApi::openapi().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}
