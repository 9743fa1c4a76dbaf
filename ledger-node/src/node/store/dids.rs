//! The did:cypher registry in SQLite (migration 4): the rows a group commit writes for the DID
//! changes of its blocks, the records a restarted node loads into its state, the records
//! admission needs, and a DID's version history for resolution.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Row;
use sqlx::sqlite::SqliteConnection;

use super::rows::{b32, i, u};
use super::{CommittedItem, Reader, StoreError};
use crate::api::did::{DidHistory, StoredDidVersion};
use crate::state::{DidRecord, Op, State, Transaction};

/// (did, version, created, updated, deactivated, document hash, keys, controllers as JSON).
type RecordRow<'a> = (&'a str, i64, i64, i64, bool, String, String, String);
/// (did, version, document as hex or null, time, height, transaction id).
type VersionRow<'a> = (&'a str, i64, Option<String>, i64, i64, String);

/// The two JSON parameters of the group commit's DID statements (`write::GROUP_COMMIT`) for
/// `items`: the last record of each DID in the group, then every version made.
pub(super) fn did_rows(items: &[CommittedItem]) -> Result<(String, String), StoreError> {
    let mut records: BTreeMap<&str, &DidRecord> = BTreeMap::new();
    let mut versions: Vec<VersionRow<'_>> = Vec::new();
    for it in items {
        let ch = &it.exec.outcome.changes;
        records.extend(ch.dids.iter().map(|(d, r)| (d.as_str(), r)));
        versions.extend(ch.did_versions.iter().map(|v| {
            (
                v.did.as_str(),
                i(v.version),
                v.document.as_ref().map(hex::encode),
                i(v.time_ms),
                i(v.height),
                hex::encode(v.tx_id),
            )
        }));
    }
    let records = records
        .into_iter()
        .map(|(did, r)| {
            Ok((
                did,
                i(r.version),
                i(r.created_ms),
                i(r.updated_ms),
                r.deactivated,
                hex::encode(r.document_hash),
                hex::encode(r.keys.concat()),
                to_json(&r.controllers)?,
            ))
        })
        .collect::<Result<Vec<RecordRow<'_>>, StoreError>>()?;
    Ok((to_json(&records)?, to_json(&versions)?))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(format!("encoding DID rows: {e}")))
}

/// The record columns, in the order `record_of` reads them.
macro_rules! record_select {
    ($where:literal) => {
        concat!(
            "SELECT did, version, created_ms, updated_ms, deactivated, document_hash, keys, \
             controllers FROM dids",
            $where
        )
    };
}

fn record_of(row: &sqlx::sqlite::SqliteRow) -> Result<(String, DidRecord), StoreError> {
    let keys: &[u8] = row.get(6);
    if !keys.len().is_multiple_of(32) {
        return Err(StoreError::Corrupt("DID keys are not 32-byte keys".into()));
    }
    let controllers: Vec<String> = serde_json::from_str(row.get::<&str, _>(7))
        .map_err(|e| StoreError::Corrupt(format!("DID controllers: {e}")))?;
    Ok((
        row.get(0),
        DidRecord {
            version: u(row.get(1)),
            created_ms: u(row.get(2)),
            updated_ms: u(row.get(3)),
            deactivated: row.get(4),
            document_hash: b32(row.get::<&[u8], _>(5))?,
            keys: keys.chunks(32).map(b32).collect::<Result<_, _>>()?,
            controllers,
        },
    ))
}

/// Loads every DID record into `state` (a restarted node).
pub(super) async fn load_into(conn: &mut SqliteConnection, state: &mut State) -> Result<(), StoreError> {
    for row in sqlx::query(record_select!("")).fetch_all(&mut *conn).await? {
        let (did, record) = record_of(&row)?;
        state.dids.insert(did, record);
    }
    Ok(())
}

/// The DIDs `txs` name (created, updated or deactivated), for admission.
fn named_dids(txs: &[&Transaction]) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    for tx in txs {
        match &tx.body.op {
            Op::DidCreate { nonce, .. } => {
                if let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&tx.body.signer.0) {
                    named.insert(did::cypher::did_cypher(&key, *nonce).to_string());
                }
            }
            Op::DidUpdate { did, .. } | Op::DidDeactivate { did, .. } => {
                named.insert(did.clone());
            }
            _ => {}
        }
    }
    named
}

/// Adds to `state` the records of the DIDs `txs` name and of their did:cypher controllers:
/// what admission needs to judge them (read in the caller's SQLite transaction).
pub(super) async fn admission_dids(
    conn: &mut SqliteConnection,
    txs: &[&Transaction],
    state: &mut State,
) -> Result<(), StoreError> {
    let mut wanted = named_dids(txs);
    for _round in 0..2 {
        if wanted.is_empty() {
            break;
        }
        let names = to_json(&wanted)?;
        let mut next = BTreeSet::new();
        let query = sqlx::query(record_select!(" WHERE did IN (SELECT value FROM json_each(?))"));
        for row in query.bind(names).fetch_all(&mut *conn).await? {
            let (did, record) = record_of(&row)?;
            next.extend(
                record
                    .controllers
                    .iter()
                    .filter(|c| !state.dids.contains_key(*c) && c.starts_with("did:cypher:"))
                    .cloned(),
            );
            state.dids.insert(did, record);
        }
        wanted = next;
    }
    Ok(())
}

impl Reader {
    /// Every version of `did`, oldest first (`None` if it is not registered).
    pub async fn did_history(&self, did: &str) -> Result<Option<DidHistory>, StoreError> {
        let rows =
            sqlx::query("SELECT version, document, time_ms FROM did_versions WHERE did = ? ORDER BY version")
                .bind(did)
                .fetch_all(&self.pool)
                .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let versions = rows
            .iter()
            .map(|r| StoredDidVersion {
                version: u(r.get(0)),
                document: r.get(1),
                time_ms: u(r.get(2)),
            })
            .collect();
        Ok(Some(DidHistory {
            did: did.to_owned(),
            versions,
        }))
    }
}
