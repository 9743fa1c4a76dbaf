//! The REST plugin API as data: request and response bodies ([`types`]) and errors as
//! `application/problem+json` ([`problem`]).
//!
//! The server (`mock-ledgers`) and the client ([`crate::client`]) both speak these types, so
//! the two cannot drift apart; the OpenAPI document `mock-ledgers` generates from them is
//! committed as `docs/openapi/ledger-api.json`, and a test fails when it is stale.

pub mod problem;
pub mod types;

pub use problem::Problem;
pub use types::*;

/// Header every POST must carry; a repeat with the same key returns the first answer.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";
/// Longest idempotency key accepted.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;
/// Media type of error bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";
