//! The pipeline of every `/v1` request: read the body within the limit, check the HMAC
//! signature and the nonce, and for a POST the idempotency key, before anything is read or
//! changed. [`Signed`] is that pipeline as a handler argument; [`Signed::change`] hands a checked
//! POST to the writer.

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;

use actix_web::{FromRequest, HttpRequest, HttpResponse, dev, web};
use bytes::Bytes;
use plumbing::body::{BodyError, read_limited};
use sha2::{Digest, Sha256};

use super::{ApiError, Data, malformed, respond};
use crate::server::AppState;
use crate::server::writer::{Idem, Op};
use plugins::api::{IDEMPOTENCY_KEY_HEADER, MAX_IDEMPOTENCY_KEY_LEN};
use plugins::auth::{self, AuthError};
use plugins::error::PluginError;
use plugins::plugin::{AccountId, TransferId};

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
async fn read_body(state: &AppState, req: &HttpRequest, payload: web::Payload) -> Result<Bytes, ApiError> {
    let declared = req.headers().get("content-length").and_then(|v| v.to_str().ok());
    read_limited(declared, payload, state.config.server.max_body_bytes)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge { limit } => ApiError(PluginError::TooLarge { limit }),
            BodyError::Read(e) => malformed(format!("reading body: {e}")),
        })
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

pub(super) fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| malformed(format!("invalid JSON body: {e}")))
}

/// A `/v1` request whose signature checked out: the caller, the body, and the resource its path
/// names. The id is parsed only once the request is authenticated, so an unsigned request gets
/// a 401 whatever its path holds; `I = ()` for a route without an `{id}`.
pub struct Signed<I = ()> {
    /// Who signed it.
    pub caller: Caller,
    /// The body, as signed.
    pub body: Bytes,
    /// The `{id}` of the path.
    pub id: I,
    /// The server's state.
    pub state: Data,
    /// The request (its query string and headers).
    pub req: HttpRequest,
}

/// What a route's `{id}` segment names.
pub trait PathId: Sized + 'static {
    /// Whether the route has an `{id}` segment.
    const IN_PATH: bool = true;
    /// The id from the segment's text, or a 400 naming what is wrong.
    fn parse(text: &str) -> Result<Self, ApiError>;
}

impl PathId for () {
    const IN_PATH: bool = false;
    fn parse(_: &str) -> Result<Self, ApiError> {
        Ok(())
    }
}

impl PathId for AccountId {
    fn parse(text: &str) -> Result<Self, ApiError> {
        AccountId::new(text).map_err(ApiError)
    }
}

impl PathId for TransferId {
    fn parse(text: &str) -> Result<Self, ApiError> {
        uuid::Uuid::from_str(text)
            .map(TransferId)
            .map_err(|_| malformed(format!("invalid transfer id {text:?}: expected a UUID")))
    }
}

impl<I: PathId> FromRequest for Signed<I> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let body = web::Payload::from_request(req, payload);
        let path = I::IN_PATH.then(|| web::Path::<String>::extract(req));
        let state = Data::extract(req);
        let req = req.clone();
        Box::pin(async move {
            // As before the extractor, a path that is not text fails before anything else.
            let text = match path {
                Some(path) => path.await?.into_inner(),
                None => String::new(),
            };
            let state = state.await?;
            let (caller, body) = signed(&state, &req, body.await?).await?;
            let id = I::parse(&text)?;
            Ok(Signed {
                caller,
                body,
                id,
                state,
                req,
            })
        })
    }
}

impl<I> Signed<I> {
    /// The query string as `Q`, or a 400 naming what is wrong.
    pub fn query<Q: serde::de::DeserializeOwned>(&self) -> Result<Q, ApiError> {
        web::Query::<Q>::from_query(self.req.query_string())
            .map(web::Query::into_inner)
            .map_err(|e| malformed(e.to_string()))
    }

    /// Hands this POST to the writer as the operation `make` builds from the caller, the body
    /// and the id, once its idempotency key is checked.
    pub async fn change(
        self,
        make: impl FnOnce(&Caller, &[u8], I) -> Result<Op, ApiError>,
    ) -> Result<HttpResponse, ApiError> {
        let idem = idempotency(&self.req, &self.caller, &self.body)?;
        let op = make(&self.caller, &self.body, self.id)?;
        Ok(respond(
            self.state
                .writer
                .submit(self.caller.participant, Some(idem), op)
                .await,
        ))
    }
}
