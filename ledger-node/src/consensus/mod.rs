//! CypherBFT, the committee's consensus, as a sans-IO library: values in, values out, time handed
//! in by the caller.
//!
//! Chained HotStuff among n = 3f+1 validators with BLS quorum certificates; a block is final once
//! it and its child, proposed in consecutive views, are both certified (the two-chain rule of
//! DiemBFT v4 / Jolteon). It acts on the chain data of [`crate::types`] and knows nothing of what
//! the transactions mean: the state machine plugs in as a [`core::Application`].
//!
//! Its parts, each using only those listed before it:
//! - [`messages`]: wire messages, and `UnverifiedMessage::verify`, the only way to a
//!   `VerifiedMessage`; refusals are counted [`messages::DropReason`]s. [`wire`]: their
//!   encoding;
//! - [`aggregator`]: 2f+1 signatures into one certificate, with a per-signature fallback;
//! - [`safety`]: the voting rules and the record saved (through [`safety::SafetyStorage`])
//!   before any vote leaves;
//! - [`pacemaker`]: views, timers with exponential backoff, timeout certificates;
//! - [`mempool`]: pending transactions; [`block_tree`]: the blocks above the last commit;
//! - [`core`]: one validator's state machine tying them together (inputs in, actions out);
//! - `sim` (feature `sim`): a deterministic simulated network driving many `Core`s, with
//!   faults and Byzantine validators.

pub mod aggregator;
pub mod block_tree;
pub mod core;
pub mod mempool;
pub mod messages;
pub mod pacemaker;
pub mod safety;
#[cfg(feature = "sim")]
pub mod sim;
pub mod wire;
