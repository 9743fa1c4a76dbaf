//! Checks shared by the OpenAPI tests of the connector's two HTTP APIs (operator/participant
//! and receiver): the committed document is the generated one, and documented shapes are the
//! ones the real types serialize.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

/// Fails unless `docs/openapi/<file>` equals `generated`; with `UPDATE_OPENAPI` set, writes it
/// first. `test` names the test target that regenerates it, for the failure message.
pub fn assert_committed_document_is_current(file: &str, generated: &str, test: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/openapi")
        .join(file);
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::create_dir_all(path.parent().expect("docs/openapi")).expect("create docs/openapi");
        std::fs::write(&path, generated).expect("write the document");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: run `UPDATE_OPENAPI=1 cargo test -p connector --test {test}` and commit it",
        path.display()
    );
}

/// The documented properties of a component schema, and its required ones.
fn documented(doc: &Value, name: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let schema = &doc["components"]["schemas"][name];
    let properties = schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("schema {name} has properties"))
        .keys()
        .cloned()
        .collect();
    let required = schema["required"]
        .as_array()
        .map(|r| r.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    (properties, required)
}

/// The keys of a JSON object.
fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

/// The fields the real type sends are exactly the documented ones, and every documented
/// required field is one the type always sends with a value.
pub fn assert_documented(doc: &Value, name: &str, sent: &Value) {
    let (properties, required) = documented(doc, name);
    assert_eq!(keys(sent), properties, "{name}: sent fields vs documented fields");
    for field in &required {
        assert!(!sent[field].is_null(), "{name}.{field} is documented as required");
    }
}
