//! `/v1/accounts/{id}`: lookup with a name check, receivable capacity, balance, statement.

use actix_web::{HttpRequest, HttpResponse, web};

use htlc::Timestamp;

use super::signed::{Caller, signed};
use super::{ApiError, Data, malformed, ok_json};
use crate::openapi::{Forbidden, Malformed, TooLarge, Unauthorized, Unavailable, UnknownAccount};
use crate::server::{AppState, store};
use plugins::api::{self, AccountLookup, LookupQuery, NameMatch, Statement, StatementQuery};
use plugins::error::PluginError;
use plugins::plugin::{AccountId, Balance};

fn account_id(text: &str) -> Result<AccountId, ApiError> {
    AccountId::new(text).map_err(ApiError)
}

/// Account lookup and name check.
#[utoipa::path(get, path = "/v1/accounts/{id}", tag = "accounts",
    params(("id" = AccountId, Path, description = "Account id"), LookupQuery),
    responses(
        (status = 200, description = "The account, and how the name compares", body = AccountLookup),
        Malformed, Unauthorized, UnknownAccount, TooLarge,
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
    params(("id" = AccountId, Path, description = "Account id")),
    responses(
        (status = 200, description = "What the account can still receive", body = api::Receivable),
        Malformed, Unauthorized, UnknownAccount, TooLarge, Unavailable,
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
    params(("id" = AccountId, Path, description = "Account id")),
    responses(
        (status = 200, description = "The account's funds", body = Balance),
        Malformed, Unauthorized, Forbidden, UnknownAccount, TooLarge, Unavailable,
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
    params(("id" = AccountId, Path, description = "Account id"), StatementQuery),
    responses(
        (status = 200, description = "Opening balance, entries and closing balance", body = Statement),
        Malformed, Unauthorized, Forbidden, UnknownAccount, TooLarge, Unavailable,
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
