//! The anchoring service's test set-up: its submitters, its configuration and key written to a
//! directory, and the digests the tests anchor.

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use ledger_node::crypto::sha256;
use ledger_node::state::{AccountId, account_of};

/// A submitter: key id, secret, its namespace.
pub(crate) const ISP: (&str, &str, &str) = ("isp-k1", "TEST-ONLY-isp-k1-secret-0001", "isp.attestations");
/// Another submitter.
pub(crate) const SHOP: (&str, &str, &str) = ("shop-k1", "TEST-ONLY-shop-k1-secret-0001", "shop.receipts");

/// Writes the service's key and configuration (plain HTTP on a free port, its database in
/// `dir`, anchoring on the node at `chain`) into `dir`; the file and the service's chain account.
pub(crate) fn write_config(
    dir: &Path,
    chain: &str,
    max_items: usize,
    max_wait_ms: u64,
) -> (PathBuf, AccountId) {
    let seed = sha256(&[b"anchoring test service"]);
    std::fs::write(dir.join("anchor.key"), hex::encode(seed)).unwrap();
    let config = format!(
        "listen = \"127.0.0.1:0\"\nplain_http = true\ndatabase = \"anchor.sqlite\"\nmax_body_bytes = 65536\n\
         max_digests_per_request = 500\n[batch]\nmax_items = {max_items}\nmax_wait_ms = {max_wait_ms}\n\
         [chain]\nurl = \"{chain}\"\nkey_file = \"anchor.key\"\n\
         [[submitters]]\nkey_id = \"{}\"\nsecret = \"{}\"\nnamespaces = [\"{}\"]\n\
         [[submitters]]\nkey_id = \"{}\"\nsecret = \"{}\"\nnamespaces = [\"{}\"]\n",
        ISP.0, ISP.1, ISP.2, SHOP.0, SHOP.1, SHOP.2
    );
    let path = dir.join("anchor.toml");
    std::fs::write(&path, config).unwrap();
    (path, account_of(&SigningKey::from_bytes(&seed)))
}

/// The `i`th test digest.
pub(crate) fn digest(i: u64) -> [u8; 32] {
    sha256(&[b"anchored item", &i.to_be_bytes()])
}
