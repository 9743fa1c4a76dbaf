//! `/v1/webhooks`: the calling key's webhook: register (or replace), read, remove.

use actix_web::HttpResponse;

use super::signed::{Signed, json};
use super::{ApiError, ok_json, respond};
use crate::openapi::{IdempotencyKey, Malformed, TooLarge, Unauthorized, Unavailable, WebhookRefused};
use crate::server::store;
use crate::server::writer::Op;
use plugins::api::{self, WebhookRequest};

/// Register (or replace) the webhook of the calling key.
///
/// The URL must satisfy the ledger's webhook policy: an allowed scheme (by default `https`
/// only), no credentials, and no internal address (loopback, link-local, private, ...) unless
/// the operator allows it. A host name is checked at each delivery, against every address it
/// resolves to.
#[utoipa::path(post, path = "/v1/webhooks", tag = "events",
    request_body = WebhookRequest,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Registered", body = api::Webhook),
        Malformed, Unauthorized, TooLarge, WebhookRefused, Unavailable,
    ),
    security(("signature" = [])))]
pub async fn register_webhook(request: Signed) -> Result<HttpResponse, ApiError> {
    let state = request.state.clone();
    request.change(|caller, body, ()| {
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
    responses(
        (status = 200, description = "The webhook, or `null`", body = Option<api::Webhook>),
        Malformed, Unauthorized, TooLarge, Unavailable,
    ),
    security(("signature" = [])))]
pub async fn get_webhook(request: Signed) -> Result<HttpResponse, ApiError> {
    let Signed { caller, state, .. } = request;
    let hook = store::webhooks(&state.pool)
        .await?
        .into_iter()
        .find(|(_, w)| w.key_id == caller.key_id)
        .map(|(_, w)| w);
    Ok(ok_json(&hook))
}

/// Remove the calling key's webhook.
#[utoipa::path(delete, path = "/v1/webhooks", tag = "events",
    responses(
        (status = 204, description = "Removed (or there was none)"),
        Malformed, Unauthorized, TooLarge, Unavailable,
    ),
    security(("signature" = [])))]
pub async fn remove_webhook(request: Signed) -> Result<HttpResponse, ApiError> {
    let Signed { caller, state, .. } = request;
    let key_id = caller.key_id.clone();
    Ok(respond(
        state
            .writer
            .submit(caller.participant, None, Op::RemoveWebhook { key_id })
            .await,
    ))
}
