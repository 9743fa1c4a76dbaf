//! `docs/openapi/chain-api.json` must be the document the code generates. Regenerate with
//! `UPDATE_OPENAPI=1 cargo test -p ledger-node --test openapi`.

#[path = "../../tests/support/openapi_document.rs"]
mod openapi_document;

#[test]
fn committed_openapi_document_is_current() {
    let generated = ledger_node::node::http::openapi_json();
    openapi_document::assert_committed_document_is_current(
        "chain-api.json",
        &generated,
        "cargo test -p ledger-node --test openapi",
    );
    let doc: serde_json::Value = serde_json::from_str(&generated).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for p in [
        "/v1/transactions",
        "/v1/transactions/{id}",
        "/v1/transactions/{id}/proof",
        "/v1/accounts/{account}",
        "/v1/escrows/{id}",
        "/v1/blocks/{height}",
        "/v1/committee",
        "/v1/events",
        "/metrics",
        "/openapi.json",
        "/1.0/identifiers/{did}",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} documented");
    }
    // Every problem code the API answers with is named where clients look for it.
    let codes = doc["components"]["schemas"]["Problem"]["properties"]["code"]["description"]
        .as_str()
        .unwrap();
    for code in ledger_node::node::http::PROBLEM_CODES {
        assert!(
            codes.contains(&format!("`{code}`")),
            "problem code {code} undocumented"
        );
    }
    // Submissions document their refusals before the mempool and the rate limit.
    for p in ["/v1/transactions", "/v1/transactions/batch"] {
        let responses = &doc["paths"][p]["post"]["responses"];
        let limited = &responses["429"];
        assert!(
            limited["headers"]["Retry-After"].is_object(),
            "{p}: 429 with Retry-After"
        );
    }
    let refused = doc["paths"]["/v1/transactions"]["post"]["responses"]["422"]["description"]
        .as_str()
        .unwrap();
    for code in [
        "unknown_signer",
        "nonce_reused",
        "nonce_too_far_ahead",
        "insufficient_funds",
    ] {
        assert!(refused.contains(code), "422 {code} undocumented");
    }
}

/// Errors are documented as what they are sent as (problem+json), every answer has a
/// description, and query parameters are in the query.
#[test]
fn errors_are_problem_json_and_parameters_are_where_they_are_sent() {
    let doc: serde_json::Value = serde_json::from_str(&ledger_node::node::http::openapi_json()).unwrap();
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                assert!(
                    response["description"].is_string(),
                    "{method} {path} {status}: a description"
                );
                // DID resolution answers errors as DID Resolution results, as its binding asks.
                if (status.starts_with('4') || status.starts_with('5'))
                    && !path.starts_with("/1.0/identifiers/")
                {
                    let content = response["content"].as_object().unwrap();
                    assert_eq!(
                        content.keys().collect::<Vec<_>>(),
                        ["application/problem+json"],
                        "{method} {path} {status}"
                    );
                }
            }
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap();
                let in_path = path.contains(&format!("{{{name}}}"));
                assert_eq!(parameter["in"] == "path", in_path, "{method} {path}: {name}");
            }
        }
    }
    let health = &doc["paths"]["/healthz"]["get"]["responses"]["200"]["content"];
    assert!(health["text/plain"].is_object(), "/healthz is text/plain");
}
