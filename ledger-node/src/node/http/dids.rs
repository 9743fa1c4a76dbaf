//! `/1.0/identifiers/{did}`: DID resolution, as the W3C DID Resolution HTTP(S) binding asks.
//! did:cypher DIDs resolve from the registry's stored versions, did:key from the identifier
//! alone ([`crate::api::did`] decides which version and what metadata). The answer is the
//! whole DID Resolution result, or the document alone when the `Accept` header asks for a DID
//! document type ([`did::Representation`]); errors are always the whole result, with
//! `didResolutionMetadata.error` and the binding's status (the one place this API answers
//! errors other than as problem documents: resolvers and their clients read these).

use actix_web::http::StatusCode;
use actix_web::http::header::ACCEPT;
use actix_web::{HttpRequest, HttpResponse, web};
use did::{ContentType, ErrorCode, Representation, ResolutionResult};
use serde::Deserialize;
use utoipa::IntoParams;

use super::Ctx;
use crate::api::did::{Resolution, VersionQuery, classify, failed, resolve_did_key, resolve_history};

/// The DID parameters a resolution may carry (at most one of them).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ResolveQuery {
    /// Resolve this version (1 is the creation; each update and the deactivation add one).
    pub version_id: Option<String>,
    /// Resolve the version in force at this time (RFC 3339, compared at whole seconds).
    pub version_time: Option<String>,
}

/// Resolves a DID: did:cypher from this chain (any version), did:key locally.
///
/// `Accept`: `application/did-resolution` (the default) or
/// `application/ld+json;profile="https://w3id.org/did-resolution"` for the whole DID Resolution
/// result; `application/did+ld+json` or `application/did+json` for the document alone.
#[utoipa::path(get, path = "/1.0/identifiers/{did}", tag = "dids",
    params(("did" = String, Path, description = "The DID, e.g. did:cypher:SanM6HZNLWJLUCcGZpBczR or did:key:z6Mk..."),
           ResolveQuery),
    responses(
        (status = 200, description = "The DID Resolution result (or the document alone, as asked)", content(
            (Object = "application/did-resolution"), (Object = "application/ld+json"),
            (Object = "application/did+ld+json"), (Object = "application/did+json"))),
        (status = 400, description = "`invalidDid`: not a DID or not a valid did:cypher; `invalidDidUrl`: a \
            malformed versionId or versionTime, or both", body = Object, content_type = "application/did-resolution"),
        (status = 404, description = "`notFound`: no such DID, version, or version at that time",
            body = Object, content_type = "application/did-resolution"),
        (status = 406, description = "`representationNotSupported`: nothing the Accept header allows",
            body = Object, content_type = "application/did-resolution"),
        (status = 410, description = "The DID is deactivated: its last document with `deactivated: true`", content(
            (Object = "application/did-resolution"), (Object = "application/ld+json"),
            (Object = "application/did+ld+json"), (Object = "application/did+json"))),
        (status = 500, description = "`internalError`: the node's storage failed",
            body = Object, content_type = "application/did-resolution"),
        (status = 501, description = "`methodNotSupported`: a DID method other than did:cypher and did:key",
            body = Object, content_type = "application/did-resolution")))]
pub async fn resolve(ctx: Ctx, req: HttpRequest, did: web::Path<String>) -> HttpResponse {
    let accept = req.headers().get(ACCEPT).and_then(|v| v.to_str().ok());
    match Representation::negotiate(accept) {
        Ok(representation) => respond(representation, resolve_one(&ctx, &did, req.query_string()).await),
        Err(_) => respond(
            Representation::Result,
            failed(ErrorCode::RepresentationNotSupported),
        ),
    }
}

/// The [`ResolveQuery`] parameters of a query string; a parameter given twice, or one that
/// does not decode, is `invalidDidUrl` (read here rather than by an extractor, so that every
/// answer is a DID Resolution result).
fn version_query(query: &str) -> Result<VersionQuery, ErrorCode> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
        .map_err(|_| ErrorCode::InvalidDidUrl)?
        .into_inner();
    let one = |name: &str| -> Result<Option<&str>, ErrorCode> {
        let mut values = pairs.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str());
        let first = values.next();
        match values.next() {
            Some(_) => Err(ErrorCode::InvalidDidUrl),
            None => Ok(first),
        }
    };
    VersionQuery::from_params(one("versionId")?, one("versionTime")?)
}

async fn resolve_one(ctx: &Ctx, did: &str, query: &str) -> Resolution {
    let (parsed, on_chain) = match classify(did) {
        Ok(found) => found,
        Err(code) => return failed(code),
    };
    let query = match version_query(query) {
        Ok(query) => query,
        Err(code) => return failed(code),
    };
    if !on_chain {
        return resolve_did_key(&parsed, query);
    }
    match ctx.reader.did_history(did).await {
        Ok(Some(history)) => resolve_history(&history, query),
        Ok(None) => failed(ErrorCode::NotFound),
        Err(e) => {
            tracing::warn!(error = %e, "resolving a DID");
            failed(ErrorCode::InternalError)
        }
    }
}

/// The answer: the document alone if that was asked and there is one, else the whole result.
fn respond(representation: Representation, resolution: Resolution) -> HttpResponse {
    let status = StatusCode::from_u16(resolution.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut result: ResolutionResult = resolution.result;
    let (media_type, representation) = match representation {
        Representation::Document(content) if result.did_document.is_some() => {
            (representation.media_type(), Some(content))
        }
        Representation::Document(_) => (Representation::Result.media_type(), None),
        other => (other.media_type(), None),
    };
    let body = match (representation, result.did_document.as_mut()) {
        (Some(content), Some(document)) => {
            if content == ContentType::DidJson {
                // Plain JSON has no JSON-LD context.
                document.context.clear();
            }
            serde_json::to_vec(document)
        }
        _ => serde_json::to_vec(&result),
    };
    match body {
        Ok(body) => HttpResponse::build(status).content_type(media_type).body(body),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_parameters_are_read_once_each() {
        assert_eq!(version_query(""), Ok(VersionQuery::Latest));
        assert_eq!(version_query("versionId=3"), Ok(VersionQuery::Id(3)));
        assert!(matches!(
            version_query("versionTime=2026-12-08T10%3A00%3A00Z"),
            Ok(VersionQuery::Time(_))
        ));
        for bad in [
            "versionId=1&versionId=2",
            "versionId=x",
            "versionTime=yesterday",
            "versionId=1&versionTime=2026-12-08T10:00:00Z",
        ] {
            assert_eq!(version_query(bad), Err(ErrorCode::InvalidDidUrl), "{bad}");
        }
    }
}
