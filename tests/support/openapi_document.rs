//! The check every OpenAPI test shares: `docs/openapi/<file>` must be the document the code
//! generates, so the committed documents never drift from the services. Each crate's test
//! includes this file by path (`#[path = ".../tests/support/openapi_document.rs"]`): the crates
//! cannot share a dev-dependency without one of them depending on another's tests.

use std::path::{Path, PathBuf};

/// The workspace's `docs/openapi` directory, found from the including crate's manifest.
pub(crate) fn documents_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").is_file())
        .unwrap_or(manifest);
    root.join("docs/openapi")
}

/// Fails unless `docs/openapi/<file>` equals `generated`; with `UPDATE_OPENAPI` set in the
/// environment, writes it first. `regenerate` is the command that does that, for the message.
pub(crate) fn assert_committed_document_is_current(file: &str, generated: &str, regenerate: &str) {
    let path = documents_dir().join(file);
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::create_dir_all(path.parent().expect("docs/openapi")).expect("create docs/openapi");
        std::fs::write(&path, generated).expect("write the document");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: run `UPDATE_OPENAPI=1 {regenerate}` and commit it",
        path.display()
    );
}
