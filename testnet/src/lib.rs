//! `testnet`: CypherLink's network on one machine, for the demo, the end-to-end tests and the
//! benchmark.
//!
//! - [`network`]: the whitepaper's network: the digital-euro and e-CNY ledgers, the clearing
//!   bank's connector between them, Bank B's receiver on e-CNY and Bank A's payer.
//! - [`chain_network`]: the same with the DC/EP leg on a committee chain of four validators.
//!
//! It sits above every other crate (the connector, the mock ledgers, the chain node), so that
//! none of them has to depend on the others' servers: the connector library knows ledgers only
//! through `plugins`.

pub mod chain_network;
pub mod network;
