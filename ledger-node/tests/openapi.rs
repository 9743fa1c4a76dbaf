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
}
