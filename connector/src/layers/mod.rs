//! The switching layers, each a small pure function over configuration and the incoming leg.
//! [`crate::switch::decide`] runs them in order; each either passes its result on or stops the
//! payment with a [`Rejection`] that becomes the ILP Reject sent back.

pub mod expiry;
pub mod limits;
pub mod pricing;
pub mod route;
pub mod validate;

use htlc::packet::{MAX_DATA_LEN, MAX_MESSAGE_LEN};
use htlc::{Address, ErrorCode, Reject};

/// Why the connector refuses to forward: an ILP error code, a message for the sender, and the
/// code-specific data (F08 carries the received and maximum amounts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The RFC 27 code.
    pub code: ErrorCode,
    /// Explanation for the sender's logs.
    pub message: String,
    /// Code-specific data.
    pub data: Vec<u8>,
}

impl Rejection {
    /// A rejection with no data.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Rejection {
            code,
            message: message.into(),
            data: Vec::new(),
        }
    }

    /// The ILP Reject packet, as triggered by `triggered_by` (see
    /// [`crate::switch::SwitchTables::reject`]). The message is cut, on a character boundary,
    /// to what a Reject holds, and data too long for one is left out, so every rejection has a
    /// packet.
    pub fn to_packet(&self, triggered_by: &Address) -> Reject {
        let message = &self.message[..utf8_prefix_len(&self.message, MAX_MESSAGE_LEN)];
        let data = if self.data.len() <= MAX_DATA_LEN {
            self.data.clone()
        } else {
            Vec::new()
        };
        Reject::new(self.code, Some(triggered_by.clone()), message, data)
            .unwrap_or_else(|_| unreachable!("message and data are cut to a Reject's limits"))
    }
}

/// The length of the longest prefix of `text` that is at most `max` bytes and ends on a
/// character boundary.
fn utf8_prefix_len(text: &str, max: usize) -> usize {
    text.char_indices()
        .map(|(at, c)| at + c.len_utf8())
        .take_while(|&end| end <= max)
        .last()
        .unwrap_or(0)
}
