//! The expiry sweeper: refunds escrows once the ledger's clock passes their expiry.
//!
//! It sleeps until the earliest expiry (the writer publishes it after every commit, so a new,
//! earlier escrow wakes it), capped at one second so that a clock that jumps (a `ManualClock`
//! in tests, an NTP step) is noticed. Tests that need a refund to have happened call
//! [`crate::server::RunningLedger::sweep_now`] instead of waiting.

use std::sync::Arc;
use std::time::Duration;

use htlc::{Clock, Timestamp};
use tokio::sync::watch;

use crate::server::writer::WriterHandle;

const MAX_NAP_MS: u64 = 1_000;

/// Runs until the writer stops.
pub fn spawn(
    writer: WriterHandle,
    clock: Arc<dyn Clock>,
    mut next: watch::Receiver<Option<Timestamp>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let due = *next.borrow_and_update();
            let nap = match due {
                Some(t) => u64::try_from(t.millis_since(clock.now()))
                    .unwrap_or(0)
                    .min(MAX_NAP_MS),
                None => MAX_NAP_MS,
            };
            if due.is_some() && nap == 0 {
                if writer.sweep().await.is_err() {
                    // The writer is gone (shutdown) or the database failed; back off.
                    if next.has_changed().is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(nap)) => {}
                changed = next.changed() => if changed.is_err() { return },
            }
        }
    })
}
