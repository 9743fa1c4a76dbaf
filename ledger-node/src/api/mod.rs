//! The node's HTTP API as other crates use it (feature `client`): the JSON shapes ([`types`],
//! described for the OpenAPI document in [`openapi`]) and a Rust client ([`client`]). The
//! server side is `crate::node::http` (feature `node`).

pub mod client;
pub mod openapi;
pub mod types;

pub use client::{ChainClient, ClientError, Signer};
pub use types::*;
