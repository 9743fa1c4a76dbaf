//! The node's HTTP API as other crates use it (feature `client`): the JSON shapes ([`types`],
//! described for the OpenAPI document in [`openapi`]), a Rust client ([`client`]) and DID
//! resolution over stored versions ([`did`]). The server side is `crate::node::http` (feature
//! `node`).

pub mod client;
pub mod did;
pub mod openapi;
pub mod types;

pub use client::{ChainClient, ClientError, Signer};
pub use types::*;
