//! `docs/openapi/ledger-api.json` must be the document the code generates. Regenerate with
//! `UPDATE_OPENAPI=1 cargo test -p mock-ledgers --test openapi`.

#[test]
fn committed_openapi_document_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi/ledger-api.json");
    let generated = mock_ledgers::openapi::json();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: run `UPDATE_OPENAPI=1 cargo test -p mock-ledgers --test openapi` and commit it",
        path.display()
    );
    let doc: serde_json::Value = serde_json::from_str(&generated).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/v1/transfers",
        "/v1/transfers/{id}/fulfill",
        "/v1/events",
        "/v1/webhooks",
        "/v1/accounts/{id}/statement",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
}
