//! `stream`: the Interledger transport codecs CypherLink speaks, as pure functions (no IO, no
//! async, no clock; randomness comes from the caller's RNG).
//!
//! - [`StreamPacket`] and [`Frame`]: STREAM (RFC 29) packets with every frame type; unknown
//!   frames are skipped as the RFC requires. Byte-exact against the RFC's fixtures.
//! - [`StreamKeys`]: a connection's shared secret turned into the AES-256-GCM packet cipher
//!   (`nonce | tag | ciphertext`) and the fulfillment key (htlc's derivation).
//! - [`connection`]: SPSP connection tokens and their shared secrets, derived from one server
//!   secret so a receiver stores nothing per connection.
//! - [`Receipt`]: STREAM receipts (RFC 39).
//! - [`ildcp`]: the `peer.config` request and response (RFC 31).
//!
//! Every decoder refuses bad input with a specific [`StreamError`] and never panics.

pub mod connection;
mod crypto;
mod error;
mod error_code;
mod frame;
pub mod ildcp;
mod oer;
mod packet;
mod receipt;

pub use crypto::{NONCE_LEN, OVERHEAD, StreamKeys, TAG_LEN, generate_shared_secret};
pub use error::StreamError;
pub use error_code::ErrorCode;
pub use frame::{Frame, frame_type};
pub use ildcp::IldcpResponse;
pub use packet::{STREAM_VERSION, StreamPacket};
pub use receipt::{RECEIPT_LEN, RECEIPT_VERSION, Receipt};
