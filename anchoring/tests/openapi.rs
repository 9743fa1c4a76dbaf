//! `docs/openapi/anchoring-api.json` must be the document the code generates, covering every
//! route the service serves, with every error answer as problem+json. Regenerate the file with
//! `UPDATE_OPENAPI=1 cargo test -p anchoring --test openapi`.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

/// What `anchoring::http::serve` routes.
const ROUTES: [(&str, &str); 6] = [
    ("/v1/namespaces/{namespace}/digests", "post"),
    ("/v1/items/{id}/certificate", "get"),
    ("/v1/namespaces/{namespace}/batches/{sequence}", "get"),
    ("/healthz", "get"),
    ("/metrics", "get"),
    ("/openapi.json", "get"),
];

#[test]
fn committed_document_is_current_and_covers_every_route() {
    let text = anchoring::http::openapi::json();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi/anchoring-api.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&file, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        committed == text,
        "{} is stale: UPDATE_OPENAPI=1 cargo test -p anchoring --test openapi",
        file.display()
    );
    let doc: Value = serde_json::from_str(&text).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let documented: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, ops)| ops.as_object().unwrap().keys().map(|m| (path.clone(), m.clone())))
        .collect();
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(p, m)| (p.to_string(), m.to_string()))
        .collect();
    assert_eq!(documented, served);
    // Every signed route declares the signature headers and its error answers as problem+json.
    for (path, method) in &ROUTES[..3] {
        let op = &paths[*path][*method];
        let params: Vec<&str> = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        for h in [
            "CypherLink-Key-Id",
            "CypherLink-Timestamp",
            "CypherLink-Nonce",
            "CypherLink-Signature",
        ] {
            assert!(params.contains(&h), "{method} {path} declares {h}");
        }
        for status in ["400", "401", "403", "413", "500"] {
            let r = &op["responses"][status]["content"]["application/problem+json"];
            assert!(r.is_object(), "{method} {path} declares {status} as problem+json");
        }
    }
    let post = &paths["/v1/namespaces/{namespace}/digests"]["post"]["responses"];
    assert!(post["202"].is_object());
    let cert = &paths["/v1/items/{id}/certificate"]["get"]["responses"];
    assert!(cert["200"].is_object() && cert["202"].is_object() && cert["404"].is_object());
}
