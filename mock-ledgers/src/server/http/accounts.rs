//! `/v1/accounts/{id}`: lookup with a name check, receivable capacity, balance, statement.

use actix_web::HttpResponse;

use htlc::Timestamp;

use super::signed::Signed;
use super::{ApiError, malformed, ok_json};
use crate::config::AccountTerms;
use crate::openapi::{Forbidden, Malformed, TooLarge, Unauthorized, Unavailable, UnknownAccount};
use crate::server::book::AccountState;
use crate::server::{AppState, store};
use plugins::api::{self, AccountLookup, LookupQuery, NameMatch, Statement, StatementQuery};
use plugins::error::PluginError;
use plugins::plugin::{AccountId, Balance};

/// The configured account `id`, or the 404 of an unknown one.
fn configured<'a>(state: &'a AppState, id: &AccountId) -> Result<&'a AccountTerms, ApiError> {
    Ok(state
        .accounts
        .get(id)
        .ok_or_else(|| PluginError::UnknownAccount { account: id.clone() })?)
}

/// The account `id` as stored now, or the 404 of an unknown one.
async fn stored(state: &AppState, id: &AccountId) -> Result<AccountState, ApiError> {
    Ok(store::account(&state.pool, id)
        .await?
        .ok_or_else(|| PluginError::UnknownAccount { account: id.clone() })?)
}

/// The account of a signed request, refused unless the caller operates it.
fn owned(request: &Signed<AccountId>) -> Result<(), ApiError> {
    let (id, participant) = (&request.id, &request.caller.participant);
    if configured(&request.state, id)?.owner != *participant {
        return Err(ApiError(PluginError::Forbidden {
            reason: format!("account {id} is not operated by {participant}"),
        }));
    }
    Ok(())
}

/// Account lookup and name check.
#[utoipa::path(get, path = "/v1/accounts/{id}", tag = "accounts",
    params(("id" = AccountId, Path, description = "Account id"), LookupQuery),
    responses(
        (status = 200, description = "The account, and how the name compares", body = AccountLookup),
        Malformed, Unauthorized, UnknownAccount, TooLarge,
    ),
    security(("signature" = [])))]
pub async fn lookup(request: Signed<AccountId>) -> Result<HttpResponse, ApiError> {
    let query: LookupQuery = request.query()?;
    let meta = configured(&request.state, &request.id)?;
    Ok(ok_json(&AccountLookup {
        account: request.id.clone(),
        kind: meta.kind,
        holder_name: (meta.owner == request.caller.participant).then(|| meta.name.clone()),
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

/// How much more an account can receive now. Any participant may ask (a connector quoting a
/// payment checks the payee's capacity before promising anything); nothing private is shown.
#[utoipa::path(get, path = "/v1/accounts/{id}/receivable", tag = "accounts",
    params(("id" = AccountId, Path, description = "Account id")),
    responses(
        (status = 200, description = "What the account can still receive", body = api::Receivable),
        Malformed, Unauthorized, UnknownAccount, TooLarge, Unavailable,
    ),
    security(("signature" = [])))]
pub async fn receivable(request: Signed<AccountId>) -> Result<HttpResponse, ApiError> {
    let account = stored(&request.state, &request.id).await?;
    let receivable = crate::rules::for_config(&request.state.config).receivable(&account);
    Ok(ok_json(&api::Receivable {
        account: request.id,
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
pub async fn balance(request: Signed<AccountId>) -> Result<HttpResponse, ApiError> {
    owned(&request)?;
    Ok(ok_json(&stored(&request.state, &request.id).await?.to_balance()))
}

/// Statement of an account for a period.
#[utoipa::path(get, path = "/v1/accounts/{id}/statement", tag = "accounts",
    params(("id" = AccountId, Path, description = "Account id"), StatementQuery),
    responses(
        (status = 200, description = "Opening balance, entries and closing balance", body = Statement),
        Malformed, Unauthorized, Forbidden, UnknownAccount, TooLarge, Unavailable,
    ),
    security(("signature" = [])))]
pub async fn statement(request: Signed<AccountId>) -> Result<HttpResponse, ApiError> {
    owned(&request)?;
    let query: StatementQuery = request.query()?;
    let parse = |t: &str| Timestamp::parse_rfc3339(t).map_err(|e| malformed(e.to_string()));
    let (from, to) = (parse(&query.from)?, parse(&query.to)?);
    if to <= from {
        return Err(malformed("statement period: `to` must be after `from`"));
    }
    let Signed { state, id, .. } = request;
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
