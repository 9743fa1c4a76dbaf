//! The `did:cypher` registry's rules: creating, updating and deactivating DID documents on the
//! chain. Pure and deterministic, like the rest of the state machine; documents are parsed and
//! checked with the `did` crate.
//!
//! - **Create** (`Op::DidCreate { nonce, document }`): the document (JSON, at most
//!   [`did::MAX_DOCUMENT_BYTES`], valid under [`did::Document::validate`]) has the id
//!   `did_cypher(signer key, nonce)` (`did_not_derived` otherwise), so nobody can register
//!   another party's identifier, and lists the signer's key as a `capabilityInvocation` method
//!   (`did_not_controller` otherwise). Version 1.
//! - **Update** (`Op::DidUpdate { did, version, document }`) and **deactivate**
//!   (`Op::DidDeactivate { did, version }`): `version` is the DID's current version
//!   (`did_stale_version` otherwise, so a replayed or raced update fails), and the signer holds a
//!   current controller key. Each adds one version; a deactivated DID takes no further change
//!   (`did_deactivated`).
//!
//! Who controls a DID: a key in its current document's `capabilityInvocation` (the DID Core
//! relation for "may act for the subject, e.g. update its document"), or, for each DID the
//! current document names as a `controller`, a `capabilityInvocation` key of that controller's
//! current document: a did:cypher of this chain that is not deactivated, or a did:key (its one
//! key). `authentication` keys do not count: they prove who the subject is to a verifier, which
//! is a weaker power than rewriting the document, and a wallet may hand them to more devices.
//! Controllers are followed one level only (a controller's own controllers do not count).
//!
//! An update must keep the document's id, and every document must keep a way to be updated
//! (a `capabilityInvocation` Ed25519 key or a controller): the chain refuses one that would
//! freeze the DID by accident (`did_invalid_document`); deactivation is the way to end a DID.

use did::{Did, Document, MAX_DOCUMENT_BYTES, Relation};

use crate::codec::put_var_bytes;
use crate::crypto::sha256;
use crate::state::exec::{BlockContext, StateView};
use crate::state::reason::FailReason;
use crate::state::tx::{Op, Transaction};
use crate::state::types::AccountId;

/// A DID as the chain's state holds it: where its version chain stands and, from its current
/// document, who may change it. The documents themselves (every version) are in storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DidRecord {
    /// The current version id: 1 on create, one more for each update and the deactivation.
    pub version: u64,
    /// Block time of the creating block (ms since the Unix epoch).
    pub created_ms: u64,
    /// Block time of the block that made the current version.
    pub updated_ms: u64,
    /// Deactivated: no further change is possible.
    pub deactivated: bool,
    /// SHA-256 of the current document's JSON as submitted.
    pub document_hash: [u8; 32],
    /// The Ed25519 keys of the current document's `capabilityInvocation` methods.
    pub keys: Vec<[u8; 32]>,
    /// The current document's `controller` DIDs.
    pub controllers: Vec<String>,
}

impl DidRecord {
    /// Canonical bytes (part of a block's changes digest). The keys and controllers derive
    /// from the document its hash commits to.
    pub(crate) fn encode(&self, did: &str, out: &mut Vec<u8>) {
        put_var_bytes(out, did.as_bytes());
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&self.created_ms.to_be_bytes());
        out.extend_from_slice(&self.updated_ms.to_be_bytes());
        out.push(u8::from(self.deactivated));
        out.extend_from_slice(&self.document_hash);
    }
}

/// One version of a DID, as a block made it: what storage keeps forever.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DidVersion {
    /// The DID.
    pub did: String,
    /// Its version id.
    pub version: u64,
    /// The document's JSON as submitted; `None` for the deactivation (the last document stays
    /// the DID's document).
    pub document: Option<Vec<u8>>,
    /// Block time of the block that made it.
    pub time_ms: u64,
    /// Height of that block.
    pub height: u64,
    /// The transaction that made it.
    pub tx_id: [u8; 32],
}

impl DidVersion {
    /// Canonical bytes (part of a block's changes digest); the document by its hash.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        put_var_bytes(out, self.did.as_bytes());
        out.extend_from_slice(&self.version.to_be_bytes());
        match &self.document {
            None => out.push(0),
            Some(d) => {
                out.push(1);
                out.extend_from_slice(&sha256(&[d]));
            }
        }
        out.extend_from_slice(&self.time_ms.to_be_bytes());
        out.extend_from_slice(&self.height.to_be_bytes());
        out.extend_from_slice(&self.tx_id);
    }
}

/// What one successful DID operation stages: the DID's new record and the version it made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DidStep {
    /// The DID's record after the operation.
    pub record: DidRecord,
    /// The version the operation made.
    pub version: DidVersion,
}

/// The record of a parsed, valid document: its authorization summary at version `version`.
pub fn record_of(
    document: &Document,
    bytes: &[u8],
    version: u64,
    created_ms: u64,
    updated_ms: u64,
) -> DidRecord {
    DidRecord {
        version,
        created_ms,
        updated_ms,
        deactivated: false,
        document_hash: sha256(&[bytes]),
        keys: document
            .methods_for(Relation::CapabilityInvocation)
            .filter_map(|m| m.ed25519().map(|k| k.to_bytes()))
            .collect(),
        controllers: document.controller.iter().map(ToString::to_string).collect(),
    }
}

/// Parses and checks a submitted document: size, then the `did` crate's rules, then that it
/// keeps a way to be updated.
fn parse_document(bytes: &[u8]) -> Result<Document, FailReason> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(FailReason::DidTooLarge {
            bytes: bytes.len(),
            max: MAX_DOCUMENT_BYTES,
        });
    }
    let document = Document::from_json(bytes).map_err(|e| FailReason::DidInvalidDocument {
        reason: e.to_string(),
    })?;
    let has_key = document
        .methods_for(Relation::CapabilityInvocation)
        .any(|m| m.ed25519().is_some());
    if !has_key && document.controller.is_empty() {
        return Err(FailReason::DidInvalidDocument {
            reason: "no capabilityInvocation key and no controller: nobody could update it".into(),
        });
    }
    Ok(document)
}

/// Whether `signer` holds a current controller key of the DID whose record is `record`.
pub fn controls(view: &dyn StateView, record: &DidRecord, signer: &AccountId) -> bool {
    record.keys.contains(&signer.0)
        || record
            .controllers
            .iter()
            .any(|c| controller_key_is(view, c, signer))
}

/// Whether `signer` is a current `capabilityInvocation` key of the controller DID `controller`.
fn controller_key_is(view: &dyn StateView, controller: &str, signer: &AccountId) -> bool {
    let Ok(did) = Did::parse(controller) else {
        return false;
    };
    match did.method() {
        did::cypher::METHOD => view
            .did(controller)
            .is_some_and(|r| !r.deactivated && r.keys.contains(&signer.0)),
        did::key::METHOD => did::key::ed25519_of_did_key(&did).is_ok_and(|k| k.to_bytes() == signer.0),
        _ => false,
    }
}

/// Applies a DID operation of `tx` (whose signature verified): the DID and its staged step, or
/// the rule broken. Not a DID operation: `None`.
pub fn apply(
    view: &dyn StateView,
    ctx: &BlockContext,
    tx: &Transaction,
) -> Option<Result<(String, DidStep), FailReason>> {
    let signer = tx.body.signer;
    let version = |did: &str, version, document| DidVersion {
        did: did.to_owned(),
        version,
        document,
        time_ms: ctx.timestamp_ms,
        height: ctx.height,
        tx_id: tx.id,
    };
    Some(match &tx.body.op {
        Op::DidCreate { nonce, document } => {
            create(view, ctx, &signer, *nonce, document).map(|(did, record)| {
                let v = version(&did, 1, Some(document.clone()));
                (did, DidStep { record, version: v })
            })
        }
        Op::DidUpdate {
            did,
            version: given,
            document,
        } => current(view, did, *given, &signer).and_then(|record| {
            let parsed = parse_document(document)?;
            if parsed.id.as_str() != did {
                return Err(FailReason::DidInvalidDocument {
                    reason: format!("the document's id {} is not the DID updated, {did}", parsed.id),
                });
            }
            let next = record.version + 1;
            let record = record_of(&parsed, document, next, record.created_ms, ctx.timestamp_ms);
            let v = version(did, next, Some(document.clone()));
            Ok((did.clone(), DidStep { record, version: v }))
        }),
        Op::DidDeactivate { did, version: given } => current(view, did, *given, &signer).map(|record| {
            let next = record.version + 1;
            let record = DidRecord {
                version: next,
                updated_ms: ctx.timestamp_ms,
                deactivated: true,
                ..record.clone()
            };
            let v = version(did, next, None);
            (did.clone(), DidStep { record, version: v })
        }),
        _ => return None,
    })
}

fn create(
    view: &dyn StateView,
    ctx: &BlockContext,
    signer: &AccountId,
    nonce: u64,
    bytes: &[u8],
) -> Result<(String, DidRecord), FailReason> {
    let document = parse_document(bytes)?;
    let did = document.id.to_string();
    let key = ed25519_dalek::VerifyingKey::from_bytes(&signer.0)
        .map_err(|_| FailReason::DidNotDerived { did: did.clone() })?;
    if did::cypher::check_did_cypher(&document.id, &key, nonce).is_err() {
        return Err(FailReason::DidNotDerived { did });
    }
    if view.did(&did).is_some() {
        return Err(FailReason::DidExists { did });
    }
    let record = record_of(&document, bytes, 1, ctx.timestamp_ms, ctx.timestamp_ms);
    if !record.keys.contains(&signer.0) {
        return Err(FailReason::DidNotController { did });
    }
    Ok((did, record))
}

/// The record of `did` if it may be changed now at version `given` by `signer`.
fn current<'v>(
    view: &'v dyn StateView,
    did: &str,
    given: u64,
    signer: &AccountId,
) -> Result<&'v DidRecord, FailReason> {
    let record = view
        .did(did)
        .ok_or_else(|| FailReason::DidNotFound { did: did.to_owned() })?;
    if record.deactivated {
        return Err(FailReason::DidDeactivated { did: did.to_owned() });
    }
    if !controls(view, record, signer) {
        return Err(FailReason::DidNotController { did: did.to_owned() });
    }
    if given != record.version {
        return Err(FailReason::DidStaleVersion {
            given,
            current: record.version,
        });
    }
    Ok(record)
}

#[cfg(test)]
#[path = "did_tests.rs"]
mod tests;
