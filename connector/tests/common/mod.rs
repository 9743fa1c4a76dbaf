//! Checks shared by the OpenAPI tests of the connector's two HTTP APIs (operator/participant
//! and receiver): the committed document is the generated one, and documented shapes are the
//! ones the real types serialize.

use std::collections::BTreeSet;

use serde_json::Value;

#[path = "../../../tests/support/openapi_document.rs"]
mod openapi_document;

/// Fails unless `docs/openapi/<file>` equals `generated`; with `UPDATE_OPENAPI` set, writes it
/// first. `test` names the test target that regenerates it, for the failure message.
pub(crate) fn assert_committed_document_is_current(file: &str, generated: &str, test: &str) {
    openapi_document::assert_committed_document_is_current(
        file,
        generated,
        &format!("cargo test -p connector --test {test}"),
    );
}

/// The documented properties of a component schema, and its required ones: its own, and
/// those of the schemas it combines with `allOf` (a flattened struct).
fn documented(doc: &Value, name: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut properties = BTreeSet::new();
    let mut required = BTreeSet::new();
    collect(
        doc,
        &doc["components"]["schemas"][name],
        &mut properties,
        &mut required,
    );
    assert!(!properties.is_empty(), "schema {name} has properties");
    (properties, required)
}

fn collect(doc: &Value, schema: &Value, properties: &mut BTreeSet<String>, required: &mut BTreeSet<String>) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return collect(doc, &doc["components"]["schemas"][name], properties, required);
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        collect(doc, part, properties, required);
    }
    properties.extend(
        schema["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.clone()),
    );
    required.extend(
        schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| v.as_str().unwrap().to_owned()),
    );
}

/// The keys of a JSON object.
fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

/// The fields the real type sends are exactly the documented ones, and every documented
/// required field is one the type always sends with a value.
pub(crate) fn assert_documented(doc: &Value, name: &str, sent: &Value) {
    let (properties, required) = documented(doc, name);
    assert_eq!(keys(sent), properties, "{name}: sent fields vs documented fields");
    for field in &required {
        assert!(!sent[field].is_null(), "{name}.{field} is documented as required");
    }
}
