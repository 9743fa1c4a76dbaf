//! The HTTP surface: routes, request authentication, body limits, idempotency keys, and the
//! mapping of every error to `application/problem+json` (through [`ApiError`], which renders
//! with [`plugins::api::problem`] — the one place codes become statuses).
//!
//! Every `/v1` route authenticates before it reads or changes anything, so an unsigned, stale
//! or replayed request gets a 401 and changes nothing.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use sha2::{Digest, Sha256};

use htlc::Timestamp;

use crate::server::writer::{Idem, Op, Reply};
use crate::server::{AppState, feed, store};
use plugins::api::{
    self, AccountLookup, FulfillRequest, Health, IDEMPOTENCY_KEY_HEADER, IssuanceRequest, LookupQuery,
    MAX_IDEMPOTENCY_KEY_LEN, NameMatch, PROBLEM_JSON, PaymentRequest, RedemptionRequest, RejectRequest,
    Statement, StatementQuery, Supply, WebhookRequest,
};
use plugins::auth::{self, AuthError};
use plugins::error::PluginError;
use plugins::plugin::{AccountId, PrepareTransfer, TransferId};

/// Header set on a response that repeats a stored first answer.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";

/// An error answered as problem+json.
#[derive(Debug)]
pub struct ApiError(pub PluginError);

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<PluginError> for ApiError {
    fn from(e: PluginError) -> Self {
        ApiError(e)
    }
}

impl From<store::StoreError> for ApiError {
    fn from(e: store::StoreError) -> Self {
        tracing::error!(error = %e, "database read failed");
        ApiError(PluginError::Unavailable {
            reason: e.to_string(),
        })
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(api::problem::http_status(&self.0)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        respond(Reply::problem(&self.0))
    }
}

/// Turns a writer reply into an HTTP response.
pub fn respond(reply: Reply) -> HttpResponse {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = HttpResponse::build(status);
    if reply.replayed {
        builder.insert_header((REPLAYED_HEADER, "true"));
    }
    if reply.body.is_empty() {
        return builder.finish();
    }
    let content_type = if reply.status >= 400 {
        PROBLEM_JSON
    } else {
        "application/json"
    };
    builder.content_type(content_type).body(reply.body)
}

fn ok_json(value: &impl serde::Serialize) -> HttpResponse {
    respond(Reply::json(200, value))
}

fn malformed(reason: impl Into<String>) -> ApiError {
    ApiError(PluginError::Malformed {
        reason: reason.into(),
    })
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Participant.
    pub participant: String,
    /// Key used.
    pub key_id: String,
}

fn path_and_query(req: &HttpRequest) -> &str {
    req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/")
}

/// Reads the body, refusing more than the configured limit without buffering it.
async fn read_body(
    state: &AppState,
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<Bytes, ApiError> {
    let limit = state.config.server.max_body_bytes;
    let too_big = || ApiError(PluginError::TooLarge { limit });
    let declared = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_big());
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| malformed(format!("reading body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Checks the signature headers; records the nonce only once the signature is valid.
fn authenticate(state: &AppState, req: &HttpRequest, body: &[u8]) -> Result<Caller, ApiError> {
    let result = (|| {
        let headers = auth::read_headers(|name| req.headers().get(name).and_then(|v| v.to_str().ok()))?;
        let key = state
            .config
            .keys
            .get(&headers.key_id)
            .ok_or_else(|| AuthError::UnknownKey(headers.key_id.clone()))?;
        let now = state.clock.now().unix_secs();
        auth::verify_signature(
            &headers,
            &key.secret,
            req.method().as_str(),
            path_and_query(req),
            body,
            now,
            state.config.auth_window_secs,
        )?;
        state
            .nonces
            .check_and_insert(&headers.key_id, &headers.nonce, headers.timestamp, now)?;
        Ok(Caller {
            participant: key.participant.clone(),
            key_id: headers.key_id,
        })
    })();
    result.map_err(|e: AuthError| {
        let reason = match &e {
            AuthError::BadHeader(_) => "bad_header",
            AuthError::UnknownKey(_) => "unknown_key",
            AuthError::OutsideWindow { .. } => "outside_window",
            AuthError::BadSignature => "bad_signature",
            AuthError::ReplayedNonce => "replayed_nonce",
            AuthError::PredatesRestart { .. } => "predates_restart",
        };
        state.metrics.auth_failures.with_label_values(&[reason]).inc();
        tracing::info!(ledger = %state.config.info.ledger_id, path = %req.path(), %reason, "request refused: {e}");
        ApiError(PluginError::Unauthorized { reason: e.to_string() })
    })
}

/// Reads the body and authenticates.
async fn signed(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(Caller, Bytes), ApiError> {
    let body = read_body(state, req, payload).await?;
    let caller = authenticate(state, req, &body)?;
    Ok((caller, body))
}

fn idempotency(req: &HttpRequest, caller: &Caller, body: &[u8]) -> Result<Idem, ApiError> {
    let key = req
        .headers()
        .get(IDEMPOTENCY_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY_LEN && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            malformed(format!(
                "every POST needs an {IDEMPOTENCY_KEY_HEADER} header of 1-{MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters"
            ))
        })?;
    let mut hash = Sha256::new();
    hash.update(req.method().as_str());
    hash.update(b"\n");
    hash.update(path_and_query(req));
    hash.update(b"\n");
    hash.update(body);
    Ok(Idem {
        scope_key: format!("{}\n{key}", caller.participant),
        request_hash: hash.finalize().to_vec(),
    })
}

fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| malformed(format!("invalid JSON body: {e}")))
}

/// A signed, idempotent POST handed to the writer.
async fn change(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    make: impl FnOnce(&Caller, &[u8]) -> Result<Op, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let (caller, body) = signed(state, req, payload).await?;
    let idem = idempotency(req, &caller, &body)?;
    let op = make(&caller, &body)?;
    Ok(respond(
        state.writer.submit(caller.participant, Some(idem), op).await,
    ))
}

fn transfer_id(text: &str) -> Result<TransferId, ApiError> {
    uuid::Uuid::from_str(text)
        .map(TransferId)
        .map_err(|_| malformed(format!("invalid transfer id {text:?}: expected a UUID")))
}

fn account_id(text: &str) -> Result<AccountId, ApiError> {
    AccountId::new(text).map_err(ApiError)
}

type Data = web::Data<AppState>;

/// Prepare a hash-time-locked transfer.
#[utoipa::path(post, path = "/v1/transfers", tag = "transfers",
    request_body = PrepareTransfer,
    params(("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses(
        (status = 201, description = "Prepared", body = plugins::plugin::Transfer),
        (status = 200, description = "Already prepared with the same id and terms", body = plugins::plugin::Transfer),
        (status = "4XX", description = "Refused", body = api::Problem, content_type = "application/problem+json"),
    ),
    security(("signature" = [])))]
pub async fn prepare(state: Data, req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    change(&state, &req, payload, |_, body| Ok(Op::Prepare(json(body)?))).await
}

/// Fulfil a transfer addressed to one of the caller's accounts.
#[utoipa::path(post, path = "/v1/transfers/{id}/fulfill", tag = "transfers",
    request_body = FulfillRequest,
    params(("id" = String, Path, description = "Transfer id"), ("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses(
        (status = 200, description = "Fulfilled (or already fulfilled with this preimage)", body = plugins::plugin::Transfer),
        (status = "4XX", description = "wrong_condition, expired, already_final, ...", body = api::Problem, content_type = "application/problem+json"),
    ),
    security(("signature" = [])))]
pub async fn fulfill(
    state: Data,
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = transfer_id(&path)?;
    change(&state, &req, payload, |_, body| {
        let r: FulfillRequest = json(body)?;
        Ok(Op::Fulfill(id, r.fulfillment))
    })
    .await
}

/// Reject a transfer addressed to one of the caller's accounts.
#[utoipa::path(post, path = "/v1/transfers/{id}/reject", tag = "transfers",
    request_body = RejectRequest,
    params(("id" = String, Path, description = "Transfer id"), ("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses(
        (status = 200, description = "Rejected; funds back with the payer", body = plugins::plugin::Transfer),
        (status = "4XX", description = "expired, already_final, ...", body = api::Problem, content_type = "application/problem+json"),
    ),
    security(("signature" = [])))]
pub async fn reject(
    state: Data,
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = transfer_id(&path)?;
    change(&state, &req, payload, |_, body| {
        let reason = if body.is_empty() {
            None
        } else {
            let request: RejectRequest = json(body)?;
            request.reason
        };
        if reason
            .as_ref()
            .is_some_and(|r| r.len() > plugins::plugin::MAX_REJECT_REASON_LEN)
        {
            return Err(malformed(format!(
                "reason is longer than {} bytes",
                plugins::plugin::MAX_REJECT_REASON_LEN
            )));
        }
        Ok(Op::Reject(id, reason))
    })
    .await
}

/// Look a transfer up (payer's or payee's operator).
#[utoipa::path(get, path = "/v1/transfers/{id}", tag = "transfers",
    params(("id" = String, Path, description = "Transfer id")),
    responses(
        (status = 200, body = plugins::plugin::Transfer),
        (status = 404, description = "unknown_transfer", body = api::Problem, content_type = "application/problem+json"),
    ),
    security(("signature" = [])))]
pub async fn get_transfer(
    state: Data,
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (caller, _) = signed(&state, &req, payload).await?;
    let id = transfer_id(&path)?;
    let transfer = store::transfer(&state.pool, id)
        .await?
        .filter(|t| {
            [&t.from, &t.to].iter().any(|a| {
                state
                    .accounts
                    .get(*a)
                    .is_some_and(|m| m.owner == caller.participant)
            })
        })
        .ok_or(PluginError::UnknownTransfer { id })?;
    Ok(ok_json(&transfer))
}

/// Pay immediately (no escrow).
#[utoipa::path(post, path = "/v1/payments", tag = "payments",
    request_body = PaymentRequest,
    params(("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses(
        (status = 201, body = api::Payment),
        (status = "4XX", body = api::Problem, content_type = "application/problem+json"),
    ),
    security(("signature" = [])))]
pub async fn pay(state: Data, req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    change(&state, &req, payload, |_, body| Ok(Op::Pay(json(body)?))).await
}

/// Issue new CBDC to an intermediary (central bank only).
#[utoipa::path(post, path = "/v1/issuances", tag = "cbdc",
    request_body = IssuanceRequest,
    params(("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses(
        (status = 201, body = api::SupplyChange),
        (status = "4XX", body = api::Problem, content_type = "application/problem+json"),
    ),
    security(("signature" = [])))]
pub async fn issue(state: Data, req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    change(&state, &req, payload, |_, body| Ok(Op::Issue(json(body)?))).await
}

/// Redeem CBDC back to the central bank (intermediaries only).
#[utoipa::path(post, path = "/v1/redemptions", tag = "cbdc",
    request_body = RedemptionRequest,
    params(("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses(
        (status = 201, body = api::SupplyChange),
        (status = "4XX", body = api::Problem, content_type = "application/problem+json"),
    ),
    security(("signature" = [])))]
pub async fn redeem(state: Data, req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    change(&state, &req, payload, |_, body| Ok(Op::Redeem(json(body)?))).await
}

/// Total supply against balances and escrows.
#[utoipa::path(get, path = "/v1/supply", tag = "cbdc",
    responses((status = 200, body = Supply)),
    security(("signature" = [])))]
pub async fn supply(state: Data, req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    signed(&state, &req, payload).await?;
    let (total_supply, balances, escrowed) = store::supply(&state.pool).await?;
    Ok(ok_json(&Supply {
        total_supply,
        balances,
        escrowed,
        max_supply: state.config.max_supply,
    }))
}

/// The ledger's identity, asset and timing.
#[utoipa::path(get, path = "/v1/info", tag = "ledger",
    responses((status = 200, body = plugins::plugin::LedgerInfo)),
    security(("signature" = [])))]
pub async fn info(state: Data, req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    signed(&state, &req, payload).await?;
    Ok(ok_json(&state.config.info))
}

/// Account lookup and name check.
#[utoipa::path(get, path = "/v1/accounts/{id}", tag = "accounts",
    params(("id" = String, Path, description = "Account id"), LookupQuery),
    responses(
        (status = 200, body = AccountLookup),
        (status = 404, description = "unknown_account", body = api::Problem, content_type = "application/problem+json"),
    ),
    security(("signature" = [])))]
pub async fn lookup(
    state: Data,
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (caller, _) = signed(&state, &req, payload).await?;
    let id = account_id(&path)?;
    let query =
        web::Query::<LookupQuery>::from_query(req.query_string()).map_err(|e| malformed(e.to_string()))?;
    let meta = state
        .accounts
        .get(&id)
        .ok_or_else(|| PluginError::UnknownAccount { account: id.clone() })?;
    Ok(ok_json(&AccountLookup {
        account: id,
        kind: meta.kind,
        holder_name: (meta.owner == caller.participant).then(|| meta.name.clone()),
        name_match: query.name.as_deref().map(|n| name_match(&meta.name, n)),
    }))
}

/// Compares names ignoring case, spacing and punctuation.
pub fn name_match(holder: &str, asked: &str) -> NameMatch {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    let (h, a) = (norm(holder), norm(asked));
    if !a.is_empty() && h == a {
        NameMatch::Match
    } else if a.len() >= 3 && (h.contains(&a) || a.contains(&h)) {
        NameMatch::CloseMatch
    } else {
        NameMatch::NoMatch
    }
}

fn owned_account(state: &AppState, caller: &Caller, text: &str) -> Result<AccountId, ApiError> {
    let id = account_id(text)?;
    let meta = state
        .accounts
        .get(&id)
        .ok_or_else(|| PluginError::UnknownAccount { account: id.clone() })?;
    if meta.owner != caller.participant {
        return Err(ApiError(PluginError::Forbidden {
            reason: format!("account {id} is not operated by {}", caller.participant),
        }));
    }
    Ok(id)
}

/// How much more an account can receive now. Any participant may ask (a connector quoting a
/// payment checks the payee's capacity before promising anything); nothing private is shown.
#[utoipa::path(get, path = "/v1/accounts/{id}/receivable", tag = "accounts",
    params(("id" = String, Path, description = "Account id")),
    responses(
        (status = 200, body = api::Receivable),
        (status = "4XX", body = api::Problem, content_type = "application/problem+json"),
    ),
    security(("signature" = [])))]
pub async fn receivable(
    state: Data,
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    signed(&state, &req, payload).await?;
    let id = AccountId::new(path.into_inner()).map_err(ApiError)?;
    let account = store::account(&state.pool, &id)
        .await?
        .ok_or_else(|| PluginError::UnknownAccount { account: id.clone() })?;
    let receivable = crate::rules::for_config(&state.config).receivable(&account);
    Ok(ok_json(&api::Receivable {
        account: id,
        receivable,
    }))
}

/// Balance of an account the caller operates.
#[utoipa::path(get, path = "/v1/accounts/{id}/balance", tag = "accounts",
    params(("id" = String, Path, description = "Account id")),
    responses(
        (status = 200, body = plugins::plugin::Balance),
        (status = "4XX", body = api::Problem, content_type = "application/problem+json"),
    ),
    security(("signature" = [])))]
pub async fn balance(
    state: Data,
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (caller, _) = signed(&state, &req, payload).await?;
    let id = owned_account(&state, &caller, &path)?;
    let account = store::account(&state.pool, &id)
        .await?
        .ok_or_else(|| PluginError::UnknownAccount { account: id.clone() })?;
    Ok(ok_json(&account.to_balance()))
}

/// Statement of an account for a period.
#[utoipa::path(get, path = "/v1/accounts/{id}/statement", tag = "accounts",
    params(("id" = String, Path, description = "Account id"), StatementQuery),
    responses(
        (status = 200, body = Statement),
        (status = "4XX", body = api::Problem, content_type = "application/problem+json"),
    ),
    security(("signature" = [])))]
pub async fn statement(
    state: Data,
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (caller, _) = signed(&state, &req, payload).await?;
    let id = owned_account(&state, &caller, &path)?;
    let query =
        web::Query::<StatementQuery>::from_query(req.query_string()).map_err(|e| malformed(e.to_string()))?;
    let parse = |t: &str| Timestamp::parse_rfc3339(t).map_err(|e| malformed(e.to_string()));
    let (from, to) = (parse(&query.from)?, parse(&query.to)?);
    if to <= from {
        return Err(malformed("statement period: `to` must be after `from`"));
    }
    let (opening, entries) = store::statement(&state.pool, &id, from, to)
        .await?
        .ok_or_else(|| {
            malformed(format!(
                "the period holds more than {} entries; ask for a shorter one",
                store::MAX_STATEMENT_ENTRIES
            ))
        })?;
    let closing = entries.last().map(|e| e.balance_after).unwrap_or(opening);
    Ok(ok_json(&Statement {
        account: id,
        from,
        to,
        opening_balance: opening,
        entries,
        closing_balance: closing,
    }))
}

/// Register (or replace) the webhook of the calling key.
///
/// The URL must satisfy the ledger's webhook policy: an allowed scheme (by default `https`
/// only), no credentials, and no internal address (loopback, link-local, private, ...) unless
/// the operator allows it. A host name is checked at each delivery, against every address it
/// resolves to.
#[utoipa::path(post, path = "/v1/webhooks", tag = "events",
    request_body = WebhookRequest,
    params(("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses(
        (status = 201, body = api::Webhook),
        (status = 400, description = "malformed: not an absolute URL, or longer than 2048 bytes", body = api::Problem, content_type = "application/problem+json"),
        (status = 422, description = "webhook_url_forbidden: the ledger's webhook policy refuses the URL (scheme, credentials or an internal address); nothing is stored", body = api::Problem, content_type = "application/problem+json"),
        (status = "4XX", body = api::Problem, content_type = "application/problem+json"),
    ),
    security(("signature" = [])))]
pub async fn register_webhook(
    state: Data,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    change(&state, &req, payload, |caller, body| {
        let r: WebhookRequest = json(body)?;
        // Refused here, before the writer: nothing is stored, not even the idempotent answer,
        // so the same request may succeed once the operator changes the policy.
        let url = state.config.webhooks.policy().check_url(&r.url).map_err(|refused| {
            tracing::info!(ledger = %state.config.info.ledger_id, participant = %caller.participant, key_id = %caller.key_id, url = %r.url.chars().take(200).collect::<String>(), reason = %refused, "webhook registration refused");
            ApiError(refused.into())
        })?;
        Ok(Op::RegisterWebhook {
            key_id: caller.key_id.clone(),
            url: url.into(),
            after: r.after,
        })
    })
    .await
}

/// The calling key's webhook and its delivery state (`null` if none is registered).
#[utoipa::path(get, path = "/v1/webhooks", tag = "events",
    responses((status = 200, body = Option<api::Webhook>)),
    security(("signature" = [])))]
pub async fn get_webhook(
    state: Data,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (caller, _) = signed(&state, &req, payload).await?;
    let hook = store::webhooks(&state.pool)
        .await?
        .into_iter()
        .find(|(_, w)| w.key_id == caller.key_id)
        .map(|(_, w)| w);
    Ok(ok_json(&hook))
}

/// Remove the calling key's webhook.
#[utoipa::path(delete, path = "/v1/webhooks", tag = "events",
    responses((status = 204, description = "Removed")),
    security(("signature" = [])))]
pub async fn remove_webhook(
    state: Data,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (caller, _) = signed(&state, &req, payload).await?;
    let key_id = caller.key_id.clone();
    Ok(respond(
        state
            .writer
            .submit(caller.participant, None, Op::RemoveWebhook { key_id })
            .await,
    ))
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Health)))]
pub async fn healthz(state: Data) -> HttpResponse {
    ok_json(&Health {
        status: "ok".into(),
        ledger_id: state.config.info.ledger_id.clone(),
    })
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(state: Data) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}

async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(ContentType::json())
        .body(crate::openapi::json())
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError(PluginError::Unsupported {
        what: "no such endpoint; see /openapi.json".into(),
    }))
}

/// Builds and binds the server (not yet running).
pub fn serve(
    state: Arc<AppState>,
    listen: SocketAddr,
    tls: Option<rustls::ServerConfig>,
) -> std::io::Result<(actix_web::dev::Server, SocketAddr)> {
    let workers = state.config.server.workers;
    let data = web::Data::from(state);
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .route("/healthz", web::get().to(healthz))
            .route("/metrics", web::get().to(metrics))
            .route("/openapi.json", web::get().to(openapi_json))
            .route("/v1/info", web::get().to(info))
            .route("/v1/transfers", web::post().to(prepare))
            .route("/v1/transfers/{id}", web::get().to(get_transfer))
            .route("/v1/transfers/{id}/fulfill", web::post().to(fulfill))
            .route("/v1/transfers/{id}/reject", web::post().to(reject))
            .route("/v1/payments", web::post().to(pay))
            .route("/v1/issuances", web::post().to(issue))
            .route("/v1/redemptions", web::post().to(redeem))
            .route("/v1/supply", web::get().to(supply))
            .route("/v1/accounts/{id}", web::get().to(lookup))
            .route("/v1/accounts/{id}/balance", web::get().to(balance))
            .route("/v1/accounts/{id}/receivable", web::get().to(receivable))
            .route("/v1/accounts/{id}/statement", web::get().to(statement))
            .route("/v1/events", web::get().to(feed::long_poll))
            .route("/v1/events/stream", web::get().to(feed::stream))
            .route("/v1/webhooks", web::post().to(register_webhook))
            .route("/v1/webhooks", web::get().to(get_webhook))
            .route("/v1/webhooks", web::delete().to(remove_webhook))
            .default_service(web::to(not_found))
    })
    .workers(workers)
    .keep_alive(plugins::client::SERVER_KEEP_ALIVE)
    .disable_signals()
    .shutdown_timeout(5);
    let server = match tls {
        Some(tls) => server.bind_rustls_0_23(listen, tls)?,
        None => server.bind(listen)?,
    };
    let addr = server.addrs().first().copied().unwrap_or(listen);
    Ok((server.run(), addr))
}

/// For the feed module: read and authenticate.
pub(crate) async fn signed_request(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Caller, ApiError> {
    signed(state, req, payload).await.map(|(c, _)| c)
}
