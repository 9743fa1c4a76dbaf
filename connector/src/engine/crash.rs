//! Crash points, for proving recovery: when the configured point is reached the connector
//! prints `CRASHPOINT <name>` on stdout and freezes — no further journal commit and no further
//! ledger call starts — so a test can SIGKILL it at exactly that step of a payment and check
//! that a restart finishes the payment correctly.
//!
//! Compiled into debug builds only (`cfg(debug_assertions)`, like the CLI's hidden
//! `--crash-at`): `cargo test` builds the `cypherlink` binary the recovery test kills in the dev
//! profile, so the test always has them, while a release build carries no crash point at all.
//! A cargo feature would not do: the test runs the root package's own binary, and a package's
//! tests cannot switch on that package's features, so the test would be skipped or always on.

use std::fmt;
use std::io::Write;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::payment::{Payment, PaymentState};

/// The steps of a payment a test can kill the connector at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// The incoming escrow is recorded, nothing sent on yet.
    AfterIncomingRecorded,
    /// The outgoing escrow is prepared and recorded.
    AfterOutgoingPrepared,
    /// The outgoing escrow was fulfilled and the preimage recorded.
    AfterOutgoingFulfilled,
    /// The incoming escrow was fulfilled at its ledger, not yet recorded.
    AfterIncomingFulfilled,
}

impl CrashPoint {
    /// All points, in payment order.
    pub const ALL: [CrashPoint; 4] = [
        CrashPoint::AfterIncomingRecorded,
        CrashPoint::AfterOutgoingPrepared,
        CrashPoint::AfterOutgoingFulfilled,
        CrashPoint::AfterIncomingFulfilled,
    ];

    /// The name used in configuration and in the stdout marker.
    pub fn as_str(self) -> &'static str {
        match self {
            CrashPoint::AfterIncomingRecorded => "after-incoming-recorded",
            CrashPoint::AfterOutgoingPrepared => "after-outgoing-prepared",
            CrashPoint::AfterOutgoingFulfilled => "after-outgoing-fulfilled",
            CrashPoint::AfterIncomingFulfilled => "after-incoming-fulfilled",
        }
    }
}

impl fmt::Display for CrashPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CrashPoint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CrashPoint::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown crash point {s:?}"))
    }
}

/// The armed point, if any, and whether it has fired.
#[derive(Debug, Default)]
pub(crate) struct CrashPoints {
    armed: Option<CrashPoint>,
    frozen: AtomicBool,
}

impl CrashPoints {
    pub(crate) fn new(armed: Option<CrashPoint>) -> Self {
        CrashPoints {
            armed,
            frozen: AtomicBool::new(false),
        }
    }

    /// Called when a payment passes `point`.
    pub(crate) fn reached(&self, point: CrashPoint) {
        if self.armed == Some(point) && !self.frozen.swap(true, Ordering::SeqCst) {
            tracing::warn!(%point, "crash point reached: freezing");
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "CRASHPOINT {point}");
            let _ = out.flush();
        }
    }

    /// Called after a commit with the payments it recorded: the points that follow what was
    /// recorded, whichever path recorded it.
    pub(crate) fn recorded(&self, payments: &[Payment]) {
        for payment in payments {
            match payment.state {
                PaymentState::Forwarding => self.reached(CrashPoint::AfterIncomingRecorded),
                PaymentState::Forwarded => self.reached(CrashPoint::AfterOutgoingPrepared),
                PaymentState::Fulfilling => self.reached(CrashPoint::AfterOutgoingFulfilled),
                _ => {}
            }
        }
    }

    /// Waits forever once frozen; call before any commit or ledger request.
    pub(crate) async fn gate(&self) {
        if self.frozen.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
    }
}
