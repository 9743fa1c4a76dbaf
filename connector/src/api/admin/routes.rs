//! `/v1/admin/routes`: the routing table: list, set a route, remove one.

use actix_web::{HttpResponse, web};
use plugins::AccountId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::unknown_ledger;
use crate::LedgerId;
use crate::api::openapi::{Malformed, NotFound, TooLarge, Unauthorized, UnknownLedger, UnsupportedMediaType};
use crate::api::{ApiError, ApiState};
use crate::layers::route::{NextHop, Route};

/// A route: destinations under `prefix` go to `ledger`. Used for input and output.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RouteView {
    /// ILP address prefix, matched on whole segments (longest match wins).
    #[schema(example = "test.ecny")]
    prefix: String,
    /// The ledger to forward on.
    ledger: LedgerId,
    /// A fixed next-hop account (e.g. another connector's). Absent: the address segment
    /// right after the prefix names the account (`test.ecny.bank-b.x` -> `bank-b`).
    #[serde(default)]
    account: Option<AccountId>,
}

impl From<&Route> for RouteView {
    fn from(route: &Route) -> Self {
        RouteView {
            prefix: route.prefix.clone(),
            ledger: route.ledger.clone(),
            account: match &route.next_hop {
                NextHop::AccountFromAddress => None,
                NextHop::Account(a) => Some(a.clone()),
            },
        }
    }
}

/// The routing table.
#[utoipa::path(get, path = "/v1/admin/routes", tag = "admin",
    responses((status = 200, description = "Every route", body = [RouteView]), Unauthorized),
    security(("operator" = [])))]
pub(super) async fn list_routes(state: web::Data<ApiState>) -> HttpResponse {
    let tables = state.connector.tables();
    let out: Vec<RouteView> = tables.routes.routes().iter().map(RouteView::from).collect();
    HttpResponse::Ok().json(out)
}

/// Adds a route, or replaces the one with the same prefix.
#[utoipa::path(put, path = "/v1/admin/routes", tag = "admin",
    request_body = RouteView,
    responses(
        (status = 200, description = "The route as stored", body = RouteView),
        Malformed, Unauthorized, TooLarge, UnsupportedMediaType, UnknownLedger,
    ),
    security(("operator" = [])))]
pub(super) async fn put_route(
    state: web::Data<ApiState>,
    body: web::Json<RouteView>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if htlc::Address::new(body.prefix.trim_end_matches('.')).is_err()
        && !htlc::address::SCHEMES.contains(&body.prefix.as_str())
    {
        return Err(ApiError::bad_request(
            "malformed",
            format!("{:?} is not an ILP address prefix", body.prefix),
        ));
    }
    if !state.connector.tables().ledgers.contains_key(&body.ledger) {
        return Err(unknown_ledger(&body.ledger));
    }
    let route = Route {
        prefix: body.prefix,
        ledger: body.ledger,
        next_hop: body.account.map_or(NextHop::AccountFromAddress, NextHop::Account),
    };
    tracing::info!(prefix = %route.prefix, ledger = %route.ledger, "route set by operator");
    let view = RouteView::from(&route);
    state.connector.update_tables(|t| t.routes.insert(route));
    Ok(HttpResponse::Ok().json(view))
}

/// Removes the route with this prefix.
#[utoipa::path(delete, path = "/v1/admin/routes/{prefix}", tag = "admin",
    params(("prefix" = String, Path, description = "The route's prefix")),
    responses((status = 204, description = "Removed"), Malformed, Unauthorized, NotFound),
    security(("operator" = [])))]
pub(super) async fn delete_route(
    state: web::Data<ApiState>,
    prefix: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if state.connector.update_tables(|t| t.routes.remove(&prefix)) {
        tracing::info!(prefix = %prefix, "route removed by operator");
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found(format!("no route {prefix}")))
    }
}
