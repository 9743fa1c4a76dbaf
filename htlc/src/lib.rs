//! `htlc`: CypherLink's pure primitives. No IO, no async, no global state: everything here is a
//! value or a function, so it can be tested exhaustively and used by every other crate.
//!
//! - [`packet`] (with the OER helpers in `oer`): the ILPv4 Prepare / Fulfill / Reject codec,
//!   byte-compatible with RFC 27 and the published vectors.
//! - [`address`]: RFC 15 ILP addresses and longest-prefix matching for routing.
//! - [`error_code`]: the RFC 27 error codes as typed constants.
//! - [`condition`]: conditions and fulfillments, and STREAM-style fulfillment derivation from a
//!   shared secret.
//! - [`escrow`]: the hash-time-locked transfer state machine every ledger shares.
//! - [`money`]: integer amounts, asset scales and exact rational exchange rates.
//! - [`time`]: millisecond timestamps in ILP and RFC 3339 form, and the injected [`Clock`].
//! - `openapi` (feature `openapi`): how these values look in the services' OpenAPI documents,
//!   and the macro that declares their problem+json answers.
//!
//! A payment in CypherLink is a chain of escrows locked by one [`Condition`]; the receiver
//! derives the [`Fulfillment`] from the packet data with a [`FulfillmentKey`], and each hop
//! releases its escrow with it before the [`Timestamp`] in the [`Prepare`] passes.

pub mod address;
pub mod condition;
pub mod error_code;
pub mod escrow;
pub mod money;
mod oer;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod packet;
pub mod time;

pub use address::{Address, AddressError};
pub use condition::{Condition, Fulfillment, FulfillmentKey, HashLockError};
pub use error_code::{ErrorClass, ErrorCode};
pub use escrow::{Escrow, EscrowError, EscrowStatus, Transition, UnknownEscrowStatus};
pub use money::{Asset, AssetCode, MoneyError, Rate};
pub use packet::{
    AmountTooLarge, Fulfill, Packet, PacketError, PacketType, Prepare, PrepareBytesMut, Reject,
};
pub use time::{Clock, ManualClock, OffsetClock, SystemClock, Timestamp, TimestampError};
