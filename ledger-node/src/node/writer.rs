//! Persisting committed blocks: group commits (every block committed since the last write goes
//! into one SQLite transaction), then telling whoever waits: transactions waiting to be final,
//! the event feed's long polls.

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::api::types::{TxState, TxStatus};
use crate::node::metrics::gauge_value;
use crate::node::store::{CommittedItem, Store};
use crate::node::{Committed, Shared};
use crate::state::{FailReason, Transaction, TxId};

/// Most blocks in one group commit.
const MAX_GROUP: usize = 256;

/// Runs until the driver drops its sender.
pub async fn run(mut store: Store, mut rx: mpsc::UnboundedReceiver<CommittedItem>, shared: Arc<Shared>) {
    while let Some(first) = rx.recv().await {
        let mut items = vec![first];
        while items.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(i) => items.push(i),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let last_event = match store.write(&items).await {
            Ok(e) => e,
            Err(e) => {
                // Without storage the node cannot keep its promises; a restart resumes from
                // the last stored block and fetches the rest from peers.
                tracing::error!(error = %e, "cannot persist committed blocks; stopping");
                eprintln!("fatal: cannot persist committed blocks: {e}");
                std::process::exit(4);
            }
        };
        tracing::debug!(
            blocks = items.len(),
            last_height = items.last().map(|i| i.block.height()),
            write_ms = started.elapsed().as_secs_f64() * 1e3,
            "stored"
        );
        let last = items.last().map(|i| i.block.clone());
        let mut ok = 0u64;
        let mut failed = 0u64;
        {
            let mut waiters = shared.waiters.lock().unwrap_or_else(|p| p.into_inner());
            let mut pending = shared.pending.lock().unwrap_or_else(|p| p.into_inner());
            for it in &items {
                let height = it.block.height();
                for r in &it.exec.outcome.receipts {
                    if r.outcome.is_ok() {
                        ok += 1;
                    } else {
                        failed += 1;
                    }
                    pending.remove(&r.tx_id);
                    if let Some(ws) = waiters.remove(&r.tx_id) {
                        let kind = it
                            .block
                            .payload()
                            .get(r.index as usize)
                            .and_then(|t| Transaction::decode(t).ok())
                            .map(|t| t.body.op.kind().to_owned());
                        let status = TxStatus {
                            id: TxId(r.tx_id),
                            status: if r.outcome.is_ok() {
                                TxState::Final
                            } else {
                                TxState::Failed
                            },
                            height: Some(height),
                            index: Some(r.index),
                            kind,
                            reason: r.outcome.as_ref().err().map(FailReason::code),
                            detail: r.outcome.as_ref().err().map(|e| e.to_string()),
                        };
                        for w in ws {
                            let _ = w.send(status.clone());
                        }
                    }
                }
            }
        }
        shared.metrics.committed_txs.with_label_values(&["ok"]).inc_by(ok);
        shared
            .metrics
            .committed_txs
            .with_label_values(&["failed"])
            .inc_by(failed);
        shared.metrics.committed_blocks.inc_by(items.len() as u64);
        shared.metrics.group_commit.set(gauge_value(items.len()));
        if let Some(b) = last {
            shared.metrics.height.set(gauge_value(b.height()));
            shared.committed.send_replace(Committed {
                height: b.height(),
                state_root: b.header().state_root,
                last_event,
            });
        }
    }
}
