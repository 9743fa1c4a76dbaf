//! `docs/openapi/chain-api.json` must be the document the code generates. Regenerate with
//! `UPDATE_OPENAPI=1 cargo test -p ledger-node --test openapi`.

#[test]
fn committed_openapi_document_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi/chain-api.json");
    let generated = ledger_node::node::http::openapi_json();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: run `UPDATE_OPENAPI=1 cargo test -p ledger-node --test openapi` and commit it",
        path.display()
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
