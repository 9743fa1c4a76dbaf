//! `docs/openapi/ledger-api.json` must be the document the code generates. Regenerate with
//! `UPDATE_OPENAPI=1 cargo test -p mock-ledgers --test openapi`.

#[path = "../../tests/support/openapi_document.rs"]
mod openapi_document;

#[test]
fn committed_openapi_document_is_current() {
    let generated = mock_ledgers::openapi::json();
    openapi_document::assert_committed_document_is_current(
        "ledger-api.json",
        &generated,
        "cargo test -p mock-ledgers --test openapi",
    );
    let doc: serde_json::Value = serde_json::from_str(&generated).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/v1/transfers",
        "/v1/transfers/{id}/fulfill",
        "/v1/events",
        "/v1/webhooks",
        "/v1/accounts/{id}/statement",
        "/openapi.json",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
}

/// Every signed operation answers 401 to an unsigned or badly signed request, and says so;
/// every query parameter is one.
#[test]
fn every_signed_operation_documents_its_refusal_and_queries_are_queries() {
    let doc: serde_json::Value = serde_json::from_str(&mock_ledgers::openapi::json()).unwrap();
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let signed = operation["security"].as_array().is_some_and(|s| !s.is_empty());
            assert_eq!(
                signed,
                path.starts_with("/v1/"),
                "{method} {path}: signed exactly under /v1"
            );
            if signed {
                let refusal = &operation["responses"]["401"]["content"]["application/problem+json"];
                assert!(
                    refusal.is_object(),
                    "{method} {path}: 401 problem+json documented"
                );
            }
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap();
                if parameter["in"] == "path" {
                    assert!(
                        path.contains(&format!("{{{name}}}")),
                        "{method} {path}: {name} is no path parameter"
                    );
                }
            }
            for (status, response) in operation["responses"].as_object().unwrap() {
                assert!(
                    response["description"].is_string(),
                    "{method} {path} {status}: a description"
                );
            }
        }
    }
}
