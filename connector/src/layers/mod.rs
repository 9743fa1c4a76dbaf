//! The switching layers, each a small pure function over configuration and the incoming leg.
//! [`crate::switch::decide`] runs them in order; each either passes its result on or stops the
//! payment with a [`Rejection`] that becomes the ILP Reject sent back.

pub mod expiry;
pub mod limits;
pub mod pricing;
pub mod route;
pub mod validate;

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

    /// The ILP Reject packet, as triggered by this connector.
    pub fn to_packet(&self, triggered_by: &Address) -> Reject {
        let message: String = self
            .message
            .chars()
            .take(htlc::packet::MAX_MESSAGE_LEN / 4)
            .collect();
        // Message length is bounded above (4 bytes per char at most) and data is built by us.
        Reject::new(self.code, Some(triggered_by.clone()), message, self.data.clone()).unwrap_or_else(|_| {
            Reject::new(self.code, Some(triggered_by.clone()), "", Vec::new())
                .unwrap_or_else(|_| unreachable!("an empty reject is always valid"))
        })
    }
}
