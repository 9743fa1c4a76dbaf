//! # ledger-node: the committee chain (CypherBFT consensus, state machine, node process)
//!
//! CypherBFT is the committee consensus of CypherLink's own chain: chained HotStuff among
//! n = 3f+1 validators, with BLS12-381 aggregate signatures so that a quorum certificate (2f+1
//! votes) is one 96-byte signature plus a bitmap, checked with one pairing. Each view certifies
//! at most one block, and a block is final once it and its child, proposed in consecutive views,
//! are both certified: the two-chain rule of DiemBFT v4 / Jolteon (until 2026-12-05 the chain
//! committed on HotStuff's three-chain, one view later; see BENCHMARKS.md).
//!
//! Modules, from the bottom up; each uses only modules on its own line or above:
//! - leaves: [`error`]; [`codec`]: the canonical binary encoding's rules, limits and traits;
//!   [`ids`]: views, validator indexes, block hashes; [`crypto`]: keys, proofs of possession,
//!   signing with a domain tag, aggregation; [`merkle`]: the transaction Merkle root;
//! - [`committee`]: membership, thresholds, leader rotation, the virtual-validator operator rule;
//! - [`types`]: blocks, votes, QCs, timeouts, TCs, each with its encoding; [`light`]: the
//!   offline check that a header is certified (not yet final) by the committee's keys;
//! - [`consensus`]: the protocol as a sans-IO library (messages and their wire form,
//!   aggregator, safety rules, pacemaker, mempool, block tree, and the [`consensus::core`]
//!   state machine tying them together), with its simulated network (feature `sim`);
//! - [`state`]: the state machine (signed transactions, assets, transfers, hash-time-locked
//!   escrows, anchors; failures with reasons; the state root), pure and deterministic, plugged
//!   into the core as its [`consensus::core::Application`]; asset codes and the escrow state
//!   machine are `htlc`'s, shared with every other ledger;
//! - [`genesis`]: the first committee, start time and chain parameters, as validators and light
//!   clients load it (the core's first recovery point, the state's parameters); [`proof`]:
//!   inclusion proofs with finality (anchor certificates) a light client checks offline with
//!   the genesis alone, and [`proof::CertificateVerifier`] that checks many with a per-block
//!   cache;
//! - `api` (feature `client`): the HTTP API's JSON shapes (typed values; text only in their
//!   JSON form) and a Rust client for other crates;
//! - `node` (feature `node`): the node process: SQLite storage, authenticated TCP links, the
//!   consensus thread with catching up, the HTTP API (`cypherlink node`).
//!
//! The node owns a `Core`, verifies incoming frames with
//! `UnverifiedMessage::decode(..)?.verify(&committee)`, feeds them to `Core::handle` with the
//! time, and executes the returned actions (send frames, arm timers, store committed blocks).

#[cfg(feature = "client")]
pub mod api;
pub mod codec;
pub mod committee;
pub mod consensus;
pub mod crypto;
pub mod error;
pub mod genesis;
pub mod ids;
pub mod light;
pub mod merkle;
#[cfg(feature = "node")]
pub mod node;
pub mod proof;
pub mod state;
pub mod types;

pub use error::{Error, Result};
