//! Load for the crash tests: waiting until it has got far enough to strike, and collecting
//! what each worker did once it stops.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::task::JoinHandle;

use super::process::PATIENCE;

/// Waits until `count` (requests acknowledged so far) reaches `at_least`.
pub(crate) async fn reach(count: &AtomicUsize, at_least: usize) {
    tokio::time::timeout(PATIENCE, async {
        while count.load(Ordering::Relaxed) < at_least {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the load did not reach {at_least} within {PATIENCE:?}"));
}

/// Awaits every worker; what each returned, in order.
pub(crate) async fn join<T>(workers: Vec<JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for worker in workers {
        let done = tokio::time::timeout(PATIENCE, worker)
            .await
            .unwrap_or_else(|_| panic!("a worker still runs after {PATIENCE:?}"));
        out.push(done.expect("the worker did not panic"));
    }
    out
}
