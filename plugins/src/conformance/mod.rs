//! The behaviour every [`LedgerPlugin`] must show, written once and run against every
//! implementation (the mock bank and both CBDC ledgers over HTTP in `mock-ledgers`; the chain
//! plugin in `plugins/tests/chain_conformance.rs`).
//!
//! An implementation provides a [`Harness`]: two plugins acting for two different operators,
//! each operating one funded account, and a way to move the ledger's time forward and let it
//! process expiries. [`conformance_suite!`](crate::conformance_suite) then expands into one test
//! per check:
//!
//! ```ignore
//! plugins::conformance_suite!(my_ledger, my_crate::start_harness());
//! ```
//!
//! Checks assert what a connector relies on: funds move exactly once, refusals change
//! nothing, time boundaries are exact, events resume without gaps or repeats, and money is
//! neither created nor destroyed.

mod checks;

use std::sync::Arc;

use async_trait::async_trait;
use htlc::Timestamp;

use crate::plugin::{AccountId, LedgerPlugin};

pub use checks::*;

/// A fresh ledger with two funded accounts operated by two different parties.
#[async_trait]
pub trait Harness: Send + Sync {
    /// The plugin of the party operating [`Harness::payer_account`].
    fn payer(&self) -> Arc<dyn LedgerPlugin>;
    /// The plugin of the party operating [`Harness::payee_account`].
    fn payee(&self) -> Arc<dyn LedgerPlugin>;
    /// An account funded with at least [`MIN_FUNDING`] minor units.
    fn payer_account(&self) -> AccountId;
    /// Another account, funded likewise.
    fn payee_account(&self) -> AccountId;
    /// An account id the ledger does not have.
    fn unknown_account(&self) -> AccountId {
        AccountId::new("no-such-account").unwrap_or_else(|_| unreachable!())
    }
    /// The ledger's current time.
    fn now(&self) -> Timestamp;
    /// Moves the ledger's time forward and returns once the ledger has processed every expiry
    /// up to the new time.
    async fn advance(&self, millis: i64);
}

/// Funding each harness account must have.
pub const MIN_FUNDING: u64 = 1_000_000;

/// Expands into one `#[tokio::test]` per conformance check, each on a fresh harness made by
/// `$make` (an expression evaluating to a future of a `Box<dyn Harness>` or any `Harness`).
#[macro_export]
macro_rules! conformance_suite {
    ($name:ident, $make:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::conformance_suite!(@tests $make;
                prepare_then_fulfil, prepare_then_reject, expiry_refunds, wrong_preimage_changes_nothing,
                fulfil_after_expiry_fails, double_fulfil_is_idempotent, duplicate_transfer_id,
                insufficient_funds_changes_nothing, unknown_accounts, expiry_must_be_in_the_future,
                events_resume_without_gaps_or_repeats, random_sequence_conserves_money);
        }
    };
    (@tests $make:expr; $($check:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let harness = $make.await;
                $crate::conformance::$check(&harness).await;
            }
        )*
    };
}
