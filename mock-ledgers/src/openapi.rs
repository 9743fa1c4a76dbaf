//! The OpenAPI 3.1 document of the REST plugin API, generated from the handlers and the wire
//! types, and served at `GET /openapi.json`. `docs/openapi/ledger-api.json` is this document;
//! `tests/openapi.rs` fails if it is stale (regenerate with
//! `UPDATE_OPENAPI=1 cargo test -p mock-ledgers --test openapi`).
//!
//! The error answers are declared here, once each; every handler lists the ones it can give.

use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi};

use crate::server::feed;
use crate::server::http::{accounts, cbdc, ops, transfers, webhooks};
use plugins::api::{IDEMPOTENCY_KEY_HEADER, MAX_IDEMPOTENCY_KEY_LEN};

htlc::problem_responses! {
    /// A request that does not parse.
    pub Malformed = 400, "`malformed`: a path id, query, header or JSON body that does not parse or break a \
        rule of its field (a POST also needs an `Idempotency-Key` of 1-255 visible ASCII characters)";
    /// No valid signature.
    pub Unauthorized = 401, "`unauthorized`: missing or malformed signature headers, an unknown key, a \
        timestamp outside the window, a bad signature or a replayed nonce; nothing was read or changed";
    /// Not the caller's account.
    pub Forbidden = 403, "`forbidden`: the account is not operated by the caller, or its kind may not do this";
    /// No such account.
    pub UnknownAccount = 404, "`unknown_account`: no account with this id";
    /// No such transfer (that the caller may see).
    pub UnknownTransfer = 404, "`unknown_transfer`: no transfer with this id involving the caller's accounts";
    /// The transfer is final.
    pub AlreadyFinal = 409, "`already_final`: the transfer is already fulfilled, rejected or expired";
    /// The body is over the limit.
    pub TooLarge = 413, "`too_large`: the body is over the ledger's limit (`reason` carries it)";
    /// A prepare the ledger refuses.
    pub PrepareRefused = 422, "`insufficient_funds`, `limit_exceeded`, `expired` (expiry not in the future), \
        `expiry_too_far`, `amount_overflow`, or `duplicate` (the id or the idempotency key was used for other terms)";
    /// A fulfilment or rejection the ledger refuses.
    pub ClaimRefused = 422, "`wrong_condition` (fulfil only), `expired`, or `duplicate` (the idempotency key was \
        used for another request)";
    /// A payment the ledger refuses.
    pub PaymentRefused = 422, "`insufficient_funds`, `limit_exceeded`, `amount_overflow`, or `duplicate`";
    /// An issuance or redemption the ledger refuses.
    pub SupplyRefused = 422, "`supply_cap_exceeded`, `insufficient_funds`, `amount_overflow`, or `duplicate`";
    /// A webhook the ledger's policy refuses.
    pub WebhookRefused = 422, "`webhook_url_forbidden`: the ledger's webhook policy refuses the URL (scheme, \
        credentials or an internal address) and nothing is stored; or `duplicate`";
    /// The store or the writer cannot answer.
    pub Unavailable = 503, "`unavailable`: the ledger's store or writer cannot answer now; retry";
}

/// The `Idempotency-Key` header every POST carries: a repeat with the same key answers the
/// first answer again.
pub struct IdempotencyKey;

impl IntoParams for IdempotencyKey {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let key = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[!-~]+$"))
            .min_length(Some(1))
            .max_length(Some(MAX_IDEMPOTENCY_KEY_LEN));
        vec![
            ParameterBuilder::new()
                .name(IDEMPOTENCY_KEY_HEADER)
                .parameter_in(ParameterIn::Header)
                .required(Required::True)
                .description(Some(
                    "Unique per request; a repeat with the same key and request answers the first answer \
                     again (with `Idempotent-Replayed: true`)",
                ))
                .schema(Some(key))
                .build(),
        ]
    }
}

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
        ops::info, transfers::prepare, transfers::get_transfer, transfers::fulfill, transfers::reject,
        cbdc::pay, cbdc::issue, cbdc::redeem, cbdc::supply,
        accounts::lookup, accounts::balance, accounts::receivable, accounts::statement,
        feed::long_poll, feed::stream,
        webhooks::register_webhook, webhooks::get_webhook, webhooks::remove_webhook,
        ops::healthz, ops::metrics, ops::document,
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
        (name = "ops", description = "Health, metrics and this document (unauthenticated)"),
    )
)]
pub struct LedgerApi;

/// The document as pretty JSON, with a trailing newline.
pub fn json() -> String {
    let mut text = LedgerApi::openapi().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}
