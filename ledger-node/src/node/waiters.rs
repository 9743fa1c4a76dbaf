//! The registry of clients waiting for a transaction's final status: admission registers a
//! waiter before it looks for the transaction among the committed ones, the writer answers
//! waiters when it stores a block, and what nobody waits for any more is dropped.

use std::collections::HashMap;

use crate::api::types::TxStatus;
use crate::node::Shared;
use crate::node::http::ApiError;

/// The receiving end of a registered waiter.
pub type Waiter = tokio::sync::oneshot::Receiver<TxStatus>;

/// Drops the senders of waiters whose receivers are gone, for these transactions.
pub fn forget_abandoned_waiters(ctx: &Shared, ids: impl IntoIterator<Item = [u8; 32]>) {
    let mut waiters = ctx.waiters.lock().unwrap_or_else(|p| p.into_inner());
    for id in ids {
        if let Some(ws) = waiters.get_mut(&id) {
            ws.retain(|w| !w.is_closed());
            if ws.is_empty() {
                waiters.remove(&id);
            }
        }
    }
}

/// Answers (and forgets) everyone waiting for a transaction the lookup found committed.
pub fn settle_waiters(ctx: &Shared, found: &HashMap<[u8; 32], TxStatus>) {
    let mut waiters = ctx.waiters.lock().unwrap_or_else(|p| p.into_inner());
    for (id, status) in found {
        for w in waiters.remove(id).unwrap_or_default() {
            let _ = w.send(status.clone());
        }
    }
}

/// Waits for the writer to report the transaction final (or the timeout).
pub async fn await_final(
    ctx: &Shared,
    pending: TxStatus,
    rx: Waiter,
    deadline: tokio::time::Instant,
) -> Result<TxStatus, ApiError> {
    if let Ok(Ok(s)) = tokio::time::timeout_at(deadline, rx).await {
        return Ok(s);
    }
    // Committed before we registered, or still pending.
    Ok(ctx.reader.tx_status(&pending.id.0).await?.unwrap_or(pending))
}
