//! STREAM close reasons (RFC 29 §5.4), carried by ConnectionClose and StreamClose frames.

use std::fmt;

/// A STREAM close reason (RFC 29 §5.4). Unknown codes are kept, so a frame re-encodes as it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub u8);

impl ErrorCode {
    /// Closed normally.
    pub const NO_ERROR: ErrorCode = ErrorCode(0x01);
    /// The endpoint hit an unexpected error.
    pub const INTERNAL_ERROR: ErrorCode = ErrorCode(0x02);
    /// The endpoint is overloaded.
    pub const ENDPOINT_BUSY: ErrorCode = ErrorCode(0x03);
    /// The other side exceeded advertised flow-control limits.
    pub const FLOW_CONTROL_ERROR: ErrorCode = ErrorCode(0x04);
    /// The other side opened more streams than allowed.
    pub const STREAM_ID_ERROR: ErrorCode = ErrorCode(0x05);
    /// Frames for a stream that is already closed.
    pub const STREAM_STATE_ERROR: ErrorCode = ErrorCode(0x06);
    /// A frame with invalid syntax.
    pub const FRAME_FORMAT_ERROR: ErrorCode = ErrorCode(0x07);
    /// Invalid data or another protocol violation.
    pub const PROTOCOL_VIOLATION: ErrorCode = ErrorCode(0x08);
    /// The application closed with an error.
    pub const APPLICATION_ERROR: ErrorCode = ErrorCode(0x09);

    /// The RFC's name for the code, if it is one the RFC defines.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x01 => "NoError",
            0x02 => "InternalError",
            0x03 => "EndpointBusy",
            0x04 => "FlowControlError",
            0x05 => "StreamIdError",
            0x06 => "StreamStateError",
            0x07 => "FrameFormatError",
            0x08 => "ProtocolViolation",
            0x09 => "ApplicationError",
            _ => return None,
        })
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "unknown error code 0x{:02x}", self.0),
        }
    }
}
