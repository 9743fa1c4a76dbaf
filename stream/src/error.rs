//! The one error type of this crate: every way bytes can fail to be a STREAM packet, a
//! receipt or an ILDCP message, each naming the field and the values a caller needs to
//! report it (or to answer with the right ILP error: F06 for [`StreamError::DecryptionFailed`]).

use htlc::AddressError;

/// Why bytes are not a valid STREAM packet, receipt or ILDCP message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// The input ends inside a field (a length prefix that promises more than there is).
    #[error("truncated {field}: needed {needed} bytes, {available} available")]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Bytes it needs.
        needed: usize,
        /// Bytes left.
        available: usize,
    },
    /// A length prefix in the indefinite form, or longer than any length needs.
    #[error("bad length prefix 0x{byte:02x} for {field}")]
    BadLengthPrefix {
        /// The field.
        field: &'static str,
        /// The first prefix byte.
        byte: u8,
    },
    /// A length prefix longer than the shortest form (canonical OER forbids it).
    #[error("non-canonical length prefix for {field}")]
    NonCanonicalLength {
        /// The field.
        field: &'static str,
    },
    /// A VarUInt that is empty or has a leading zero byte.
    #[error("non-canonical VarUInt for {field}")]
    NonCanonicalVarUInt {
        /// The field.
        field: &'static str,
    },
    /// A VarUInt over 8 bytes where the RFC gives no saturating reading.
    #[error("{field} is a {len}-byte VarUInt, more than a u64 holds")]
    VarUIntTooLarge {
        /// The field.
        field: &'static str,
        /// Its byte length.
        len: usize,
    },
    /// The STREAM version byte is not 1.
    #[error("unsupported STREAM version {found}")]
    UnsupportedVersion {
        /// The version byte found.
        found: u8,
    },
    /// The ILP packet type byte is not 12, 13 or 14.
    #[error("bad ILP packet type {found} in a STREAM packet")]
    BadPacketType {
        /// The type byte found.
        found: u8,
    },
    /// The STREAM packet names another ILP packet type than the one it came in (RFC 29 §5.2:
    /// it must be discarded, so data cannot be moved between packets).
    #[error("STREAM packet for ILP type {found} arrived in type {expected}")]
    WrongPacketType {
        /// The ILP packet it arrived in.
        expected: u8,
        /// The type the STREAM packet names.
        found: u8,
    },
    /// A known frame's contents go on past its last field.
    #[error("frame type {frame_type} has {extra} bytes after its fields")]
    TrailingFrameBytes {
        /// The frame type.
        frame_type: u8,
        /// Bytes left over.
        extra: usize,
    },
    /// Bytes after a message that has a fixed end (a receipt, ILDCP data).
    #[error("{extra} bytes after the {what}")]
    TrailingBytes {
        /// The message.
        what: &'static str,
        /// Bytes left over.
        extra: usize,
    },
    /// A text field is not UTF-8.
    #[error("{field} is not valid UTF-8")]
    InvalidUtf8 {
        /// The field.
        field: &'static str,
    },
    /// An address field breaks RFC 15.
    #[error("bad {field} address: {source}")]
    BadAddress {
        /// The field.
        field: &'static str,
        /// The rule broken.
        source: AddressError,
    },
    /// Too short to hold the nonce and tag of an encrypted packet.
    #[error("{len} bytes cannot be an encrypted STREAM packet (at least 28 needed)")]
    TooShortToDecrypt {
        /// The length found.
        len: usize,
    },
    /// AES-GCM authentication failed: another key, or the bytes were changed.
    #[error("STREAM packet does not decrypt with this shared secret")]
    DecryptionFailed,
    /// The encrypted packet would not fit in an ILP packet's data.
    #[error("encrypted STREAM packet would be {len} bytes, more than the {max} ILP data holds")]
    TooLarge {
        /// Its encrypted length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The receipt version byte is not 1.
    #[error("unsupported receipt version {found}")]
    UnsupportedReceiptVersion {
        /// The version byte found.
        found: u8,
    },
    /// The receipt's HMAC does not match its contents under this secret.
    #[error("receipt HMAC does not verify")]
    BadReceiptHmac,
    /// A Prepare that is not an ILDCP request.
    #[error("not an ILDCP request: {reason}")]
    NotIldcpRequest {
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// A Fulfill whose fulfillment is not the 32 zero bytes of ILDCP.
    #[error("not an ILDCP response: the fulfillment is not all zeros")]
    NotIldcpResponse,
}
