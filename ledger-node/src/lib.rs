//! # ledger-node: the committee chain (CypherBFT consensus, state machine, node process)
//!
//! CypherBFT is the committee consensus of CypherLink's own chain: chained HotStuff among
//! n = 3f+1 validators, with BLS12-381 aggregate signatures so that a quorum certificate (2f+1
//! votes) is one 96-byte signature plus a bitmap, checked with one pairing. The seeds' Prepare /
//! Pre-Commit / Commit / Decide phases are successive QCs on a chain of blocks: a block is final
//! once it and its child, proposed in consecutive views, are both certified (the two-chain
//! rule of DiemBFT v4 / Jolteon; the chain first committed on a three-chain, see BENCHMARKS.md).
//!
//! Modules, from the bottom up:
//! - [`crypto`]: keys, proofs of possession, signing with a domain tag, aggregation;
//! - [`committee`]: membership, thresholds, leader rotation, the virtual-validator operator rule;
//!   [`genesis`]: the first committee and start time, as validators and light clients load it;
//! - [`types`] and [`merkle`]: blocks, votes, QCs, timeouts, TCs; the transaction Merkle root;
//! - [`codec`]: the canonical binary encoding, with length limits, for the wire and the hash;
//! - [`messages`]: wire messages, and `UnverifiedMessage::verify` — the only way to a
//!   `VerifiedMessage`; refusals are counted [`messages::DropReason`]s;
//! - [`aggregator`]: 2f+1 signatures into one certificate, with a per-signature fallback;
//! - [`safety`]: the voting rules and the record saved (through [`safety::SafetyStorage`])
//!   before any vote leaves;
//! - [`pacemaker`]: views, timers with exponential backoff, timeout certificates;
//! - [`mempool`] and [`store`]: pending transactions; the block tree above the last commit;
//! - [`core`]: the sans-IO state machine tying them together (inputs in, actions out);
//! - [`light`]: offline checks a light client can make with the committee's keys;
//! - `sim` (feature `sim`): a deterministic simulated network driving many `Core`s, with faults
//!   and Byzantine validators.
//!
//! On top of the core, what the chain records and how it runs:
//! - [`state`]: the state machine (signed transactions, assets, transfers, hash-time-locked
//!   escrows, anchors; failures with reasons; the state root), pure and deterministic, plugged
//!   into the core as its [`core::Application`]; asset codes and the escrow state machine are
//!   `htlc`'s, shared with every other ledger;
//! - [`proof`]: inclusion proofs a light client checks offline with the genesis keys;
//! - `api` (feature `client`): the HTTP API's JSON shapes (typed values; text only in their
//!   JSON form) and a Rust client for other crates;
//! - `node` (feature `node`): the node process: SQLite storage, authenticated TCP links, the
//!   consensus thread with catching up, the HTTP API (`cypherlink node`).
//!
//! The node owns a `Core`, verifies incoming frames with
//! `UnverifiedMessage::decode(..)?.verify(&committee)`, feeds them to `Core::handle` with the
//! time, and executes the returned actions (send frames, arm timers, store committed blocks).

pub mod aggregator;
#[cfg(feature = "client")]
pub mod api;
pub mod codec;
pub mod committee;
pub mod core;
pub mod crypto;
pub mod error;
pub mod genesis;
pub mod light;
pub mod mempool;
pub mod merkle;
pub mod messages;
#[cfg(feature = "node")]
pub mod node;
pub mod pacemaker;
pub mod proof;
pub mod safety;
#[cfg(feature = "sim")]
pub mod sim;
pub mod state;
pub mod store;
pub mod types;

pub use error::{Error, Result};
