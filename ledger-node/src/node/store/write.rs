//! A group commit in one round trip to SQLite's thread.
//!
//! sqlx runs each statement on the connection's own thread, so every statement costs two
//! thread wake-ups; a group commit used to be a dozen statements (begin, blocks, transactions
//! in chunks, assets, escrows, anchors, events, accounts, balances, index, commit), several of
//! them multi-row `VALUES` lists whose text, and so whose plan, changed with every row count.
//! It is now one script whose text never changes, so SQLite parses and plans it once. Each
//! table's rows travel as one JSON array bound as a single parameter and unpacked by
//! `jsonb_each`; small blobs travel as hex (`unhex` on the SQLite side), as in the connector's
//! journal, and the blocks' encodings as one blob of their own (see [`GROUP_COMMIT`]).
//! Measured in the chain bench at 3,000 transfers/s: the same CPU and latency as before (a
//! one-block group still takes ~6 ms on a loaded machine): the cost is the pages a group
//! dirties, not the statements (BENCHMARKS.md).
//!
//! Rows are folded in Rust first so the script needs no ordering rules between blocks: the last
//! version of each account, asset and escrow of the group wins, the first anchor of an id stays
//! (as `INSERT OR IGNORE` did block by block). Every row carries its own key (height, index,
//! event number), so no statement depends on the order `jsonb_each` yields rows in, and none
//! asks for one: `ORDER BY key` made SQLite sort every array again in a temporary b-tree. The
//! indexes by account and by id are not part of a group commit: their rows are held in memory
//! and merged in large sorted batches ([`super::recent`]).

use std::collections::BTreeMap;

use plumbing::sqlite::commit_or_roll_back;
use serde::Serialize;
use sqlx::sqlite::SqliteConnection;

use super::recent::{BlockRows, block_index_rows};
use super::rows::i;
use super::{CommittedItem, StoreError};
use crate::api::types::{AnchorView, EscrowView, FeedKind};
use crate::codec::Encode;
use crate::state::exec::Event;
use crate::state::{Account, AccountId, AssetCode, AssetInfo, Escrow, EscrowId, Transaction};

/// Parameters in order: the blocks' and certificates' encodings back to back (one blob),
/// blocks, the transactions' ids and signers (one blob, 64 bytes a row), transactions, assets,
/// escrows, anchors, finality evidence, events, accounts, accounts whose balances are rewritten, balances. A
/// block row locates its encodings in the blob (1-based start and length, as `substr` takes
/// them): blocks are the bulk of a group, and as hex inside JSON they cost an encoding in Rust,
/// a JSON parse and an `unhex` in SQLite. The transactions' ids and signers travel the same
/// way, found by the row's array position (`key`). (The indexes by account and by id are
/// written in larger batches: [`super::recent`].)
const GROUP_COMMIT: &str = "BEGIN; \
INSERT INTO blocks (height, hash, view, timestamp_ms, tx_count, block, qc, state_parent, \
 changes_digest, receipts_root) \
 SELECT value->>0, unhex(value->>1), value->>2, value->>3, value->>4, \
 substr(bytes.b, value->>5, value->>6), substr(bytes.b, value->>7, value->>8), \
 unhex(value->>9), unhex(value->>10), unhex(value->>11) \
 FROM (SELECT ? AS b) AS bytes, jsonb_each(?); \
INSERT INTO txs (id, height, idx, signer, nonce, kind, ok, reason, detail) \
 SELECT substr(keys.b, key * 64 + 1, 32), value->>0, value->>1, \
 CASE WHEN value->>2 THEN substr(keys.b, key * 64 + 33, 32) END, value->>3, value->>4, \
 value->>5, value->>6, value->>7 FROM (SELECT ? AS b) AS keys, jsonb_each(?); \
INSERT OR REPLACE INTO assets (code, issuer, scale, supply) \
 SELECT value->>0, unhex(value->>1), value->>2, value->>3 FROM jsonb_each(?); \
INSERT OR REPLACE INTO escrows (id, payer, payee, asset, amount, condition, expires_at_ms, memo, \
 reference, status, fulfillment, created_height, closed_height, reject_reason) \
 SELECT unhex(value->>0), unhex(value->>1), unhex(value->>2), value->>3, value->>4, \
 unhex(value->>5), value->>6, unhex(value->>7), unhex(value->>8), value->>9, \
 unhex(value->>10), value->>11, value->>12, value->>13 FROM jsonb_each(?); \
INSERT OR IGNORE INTO anchors (id, namespace, root, items, submitter, height, sequence, previous, \
 batch) \
 SELECT unhex(value->>0), value->>1, unhex(value->>2), value->>3, unhex(value->>4), value->>5, \
 value->>6, unhex(value->>7), unhex(value->>8) FROM jsonb_each(?); \
INSERT OR IGNORE INTO finality (height, child, child_qc) \
 SELECT value->>0, unhex(value->>1), unhex(value->>2) FROM jsonb_each(?); \
INSERT INTO events (seq, height, tx_id, kind, subject, data) \
 SELECT value->>0, value->>1, unhex(value->>2), value->>3, unhex(value->>4), value->>5 \
 FROM jsonb_each(?); \
INSERT OR REPLACE INTO accounts (id, nonce, used) \
 SELECT unhex(value->>0), value->>1, value->>2 FROM jsonb_each(?); \
DELETE FROM balances WHERE account IN (SELECT unhex(value) FROM jsonb_each(?)); \
INSERT INTO balances (account, asset, amount) \
 SELECT unhex(value->>0), value->>1, value->>2 FROM jsonb_each(?); \
COMMIT;";

/// (height, hash, view, timestamp, tx count, block start, block length, certificate start,
/// certificate length, state parent, changes digest, receipts root).
type BlockRow = (
    i64,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    String,
    String,
    String,
);
/// (height, index, signed, nonce, kind, ok, reason, detail); the id and signer are in the
/// group's key blob at the row's position (see [`GROUP_COMMIT`]).
type TxRow<'a> = (
    i64,
    i64,
    bool,
    Option<i64>,
    &'a str,
    bool,
    Option<&'static str>,
    Option<String>,
);
/// (namespace, root, items, submitter, height, sequence, previous, batch hash).
type AnchorRow<'a> = (&'a str, String, i64, String, i64, i64, String, String);
type EscrowRow<'a> = (
    String,
    String,
    String,
    &'a str,
    i64,
    String,
    i64,
    String,
    String,
    &'static str,
    Option<String>,
    i64,
    Option<i64>,
    Option<&'a str>,
);

/// One group's rows, one collection per table, folded as the module doc says.
#[derive(Default)]
struct Rows<'a> {
    blocks: Vec<BlockRow>,
    /// The encodings [`BlockRow`]s point into.
    block_bytes: Vec<u8>,
    txs: Vec<TxRow<'a>>,
    /// Each transaction's id and signer (zeros if undecodable), 64 bytes a row, in row order.
    tx_keys: Vec<u8>,
    assets: BTreeMap<&'a AssetCode, &'a AssetInfo>,
    escrows: BTreeMap<EscrowId, &'a Escrow>,
    /// Anchor id to its row after the id; the first of an id stays.
    anchors: BTreeMap<[u8; 32], AnchorRow<'a>>,
    /// (height of the committed block, its child's header, the child's certificate), hex.
    finality: Vec<(i64, String, String)>,
    /// (seq, height, tx id, kind, subject, data), numbered from the store's next event.
    events: Vec<(i64, i64, String, &'static str, String, String)>,
    accounts: BTreeMap<&'a AccountId, &'a Account>,
    /// The index rows, block by block.
    index: BlockRows,
}

impl<'a> Rows<'a> {
    fn add(&mut self, it: &'a CommittedItem, next_event: &mut u64) {
        let b = &it.block;
        let c = &it.exec.outcome.commitment;
        let height = i(b.height());
        let (block_at, block_len) = append(&mut self.block_bytes, b.as_ref());
        let (qc_at, qc_len) = append(&mut self.block_bytes, &it.qc);
        self.blocks.push((
            height,
            hex::encode(b.hash().0),
            i(b.view()),
            i(b.timestamp_ms()),
            sql_len(b.payload().len()),
            block_at,
            block_len,
            qc_at,
            qc_len,
            hex::encode(c.parent_root),
            hex::encode(c.changes_digest),
            hex::encode(c.receipts_root),
        ));
        if let Some(f) = &it.final_by {
            self.finality.push((
                height,
                hex::encode(crate::codec::encode_to_vec(&f.child)),
                hex::encode(crate::codec::encode_to_vec(&f.child_qc)),
            ));
        }
        let decoded: Vec<Option<Transaction>> =
            b.payload().iter().map(|t| Transaction::decode(t).ok()).collect();
        for r in &it.exec.outcome.receipts {
            self.index.ids.push((r.tx_id, b.height(), r.index));
            let tx = decoded.get(r.index as usize).and_then(Option::as_ref);
            self.tx_keys.extend_from_slice(&r.tx_id);
            self.tx_keys
                .extend_from_slice(tx.map_or(&[0; 32], |t| &t.body.signer.0));
            self.txs.push((
                height,
                i64::from(r.index),
                tx.is_some(),
                tx.map(|t| i(t.body.nonce)),
                tx.map_or("unknown", |t| t.body.op.kind()),
                r.outcome.is_ok(),
                r.outcome.as_ref().err().map(|e| e.code().as_str()),
                r.outcome.as_ref().err().map(|e| e.to_string()),
            ));
        }
        self.index.accounts.extend(block_index_rows(b.height(), &decoded));
        self.index.through = b.height();
        let ch = &it.exec.outcome.changes;
        self.accounts.extend(ch.accounts.iter());
        self.assets.extend(ch.assets.iter());
        self.escrows.extend(ch.escrows.iter().map(|(id, e)| (*id, e)));
        for a in &ch.anchors {
            self.anchors.entry(a.id).or_insert((
                &a.namespace,
                hex::encode(a.root),
                i(a.items),
                hex::encode(a.submitter.0),
                i(a.height),
                i(a.sequence),
                hex::encode(a.previous),
                hex::encode(a.batch),
            ));
        }
        for ev in &it.exec.outcome.events {
            let (kind, subject, tx_id, data) = match ev {
                Event::Escrow { tx_id, escrow } => (
                    FeedKind::of_escrow(escrow.status()),
                    escrow.id.0,
                    *tx_id,
                    serde_json::to_string(&EscrowView::from(escrow.as_ref())).unwrap_or_default(),
                ),
                Event::Anchored(a) => (
                    FeedKind::Anchored,
                    a.id,
                    a.id,
                    serde_json::to_string(&AnchorView::from(a)).unwrap_or_default(),
                ),
            };
            self.events.push((
                i(*next_event),
                height,
                hex::encode(tx_id),
                kind.as_str(),
                hex::encode(subject),
                data,
            ));
            *next_event += 1;
        }
    }
}

fn escrow_row(e: &Escrow) -> EscrowRow<'_> {
    (
        hex::encode(e.id.0),
        hex::encode(e.payer.0),
        hex::encode(e.payee.0),
        e.asset.as_str(),
        i(e.amount()),
        e.lock.condition().to_hex(),
        i(e.expires_at_ms()),
        hex::encode(&e.memo),
        hex::encode(e.reference),
        e.status().as_str(),
        e.lock.fulfillment().map(|f| f.to_hex()),
        i(e.created_height),
        e.closed_height.map(i),
        e.reject_reason.as_deref(),
    )
}

fn json<T: Serialize>(rows: &T) -> Result<String, StoreError> {
    serde_json::to_string(rows).map_err(|e| StoreError::Corrupt(format!("encoding rows: {e}")))
}

/// Persists `items` (committed blocks, in order) in one transaction, numbering their events
/// from `next_event`. Returns the next event number after them and the blocks' index rows,
/// for the caller to hold until they are merged. If any statement fails, the
/// transaction is rolled back and nothing is written.
pub(super) async fn write_group(
    conn: &mut SqliteConnection,
    items: &[CommittedItem],
    mut next_event: u64,
) -> Result<(u64, BlockRows), StoreError> {
    let mut rows = Rows::default();
    for it in items {
        rows.add(it, &mut next_event);
    }
    let assets: Vec<_> = rows
        .assets
        .iter()
        .map(|(code, a)| {
            (
                code.as_str(),
                hex::encode(a.issuer.0),
                i64::from(a.scale),
                i(a.supply),
            )
        })
        .collect();
    let escrows: Vec<_> = rows.escrows.values().map(|e| escrow_row(e)).collect();
    let anchors: Vec<_> = rows
        .anchors
        .iter()
        .map(|(id, (ns, root, items, by, h, seq, prev, batch))| {
            (hex::encode(id), ns, root, items, by, h, seq, prev, batch)
        })
        .collect();
    let accounts: Vec<_> = rows
        .accounts
        .iter()
        .map(|(id, a)| (hex::encode(id.0), i(a.nonce), i(a.used)))
        .collect();
    let rewritten: Vec<&String> = accounts.iter().map(|(id, _, _)| id).collect();
    // Zero balances have no row: an account's balances are deleted and its non-zero ones
    // inserted again.
    let balances: Vec<_> = rows
        .accounts
        .iter()
        .zip(&accounts)
        .flat_map(|((_, a), (id, _, _))| a.balances.iter().map(move |(c, v)| (id, c.as_str(), i(*v))))
        .collect();
    let group = sqlx::query(GROUP_COMMIT)
        .bind(rows.block_bytes)
        .bind(json(&rows.blocks)?)
        .bind(rows.tx_keys)
        .bind(json(&rows.txs)?)
        .bind(json(&assets)?)
        .bind(json(&escrows)?)
        .bind(json(&anchors)?)
        .bind(json(&rows.finality)?)
        .bind(json(&rows.events)?)
        .bind(json(&accounts)?)
        .bind(json(&rewritten)?)
        .bind(json(&balances)?);
    commit_or_roll_back(conn, group).await?;
    Ok((next_event, rows.index))
}

/// Inserts a chunk of index rows (each kind in key order, so neighbouring rows share pages)
/// and, with the last chunk of a merge, the height the merge covers, in one transaction.
const MERGE_INDEX: &str = "BEGIN; \
INSERT OR IGNORE INTO account_txs (account, height, idx) \
 SELECT unhex(value->>0), value->>1, value->>2 FROM jsonb_each(?); \
INSERT OR IGNORE INTO tx_ids (prefix, height, idx) \
 SELECT unhex(value->>0), value->>1, value->>2 FROM jsonb_each(?); \
UPDATE merged_index SET height = MAX(height, ?) WHERE id = 1; \
COMMIT;";

/// Merges held index rows into SQLite (see [`super::recent`]); on failure nothing is written.
pub(super) async fn merge_index(conn: &mut SqliteConnection, rows: &BlockRows) -> Result<(), StoreError> {
    let accounts: Vec<_> = rows
        .accounts
        .iter()
        .map(|(a, h, k)| (hex::encode(a), i(*h), i64::from(*k)))
        .collect();
    let ids: Vec<_> = rows
        .ids
        .iter()
        .map(|(id, h, k)| (hex::encode(&id[..super::ID_PREFIX_LEN]), i(*h), i64::from(*k)))
        .collect();
    let merge = sqlx::query(MERGE_INDEX)
        .bind(json(&accounts)?)
        .bind(json(&ids)?)
        .bind(i(rows.through));
    commit_or_roll_back(conn, merge).await
}

/// Encodes `value` at the end of `buf`; returns where it starts (1-based) and its length.
fn append(buf: &mut Vec<u8>, value: &impl Encode) -> (i64, i64) {
    let start = buf.len();
    value.encode(buf);
    (sql_len(start) + 1, sql_len(buf.len() - start))
}

/// A length or offset in memory as an SQLite integer; it is at most `isize::MAX`, so it fits.
fn sql_len(n: usize) -> i64 {
    i64::try_from(n).expect("an in-memory length is at most isize::MAX")
}
