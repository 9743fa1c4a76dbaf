//! ILP error codes (RFC 27): three IA5 characters whose first letter says whether a sender should
//! give up (F, final), retry as is (T, temporary) or retry with more money or time (R, relative).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A three-character ILP error code. Codes not listed in RFC 27 are representable (peers may
/// send them); [`ErrorCode::name`] then answers `"Unknown"`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode([u8; 3]);

/// Whether and how a sender should retry after a rejection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// `F..`: the payment is invalid; do not retry unchanged.
    Final,
    /// `T..`: a passing failure; retry later.
    Temporary,
    /// `R..`: not enough margin of money or time; retry with more.
    Relative,
    /// Any other first letter.
    Unknown,
}

/// Why three bytes are not an error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid ILP error code {text:?}: expected three IA5 (ASCII) characters")]
pub struct InvalidErrorCode {
    /// The input, lossily decoded.
    pub text: String,
}

macro_rules! codes {
    ($($(#[$doc:meta])* $ident:ident = $code:literal, $name:literal;)*) => {
        impl ErrorCode {
            $($(#[$doc])* pub const $ident: ErrorCode = ErrorCode(*$code);)*

            /// Every code defined by RFC 27.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$ident),*];

            /// The RFC 27 name, e.g. `"Amount Too Large"` for F08.
            pub fn name(self) -> &'static str {
                match &self.0 {
                    $($code => $name,)*
                    _ => "Unknown",
                }
            }
        }
    };
}

codes! {
    /// Generic sender error.
    F00_BAD_REQUEST = b"F00", "Bad Request";
    /// The packet was syntactically invalid.
    F01_INVALID_PACKET = b"F01", "Invalid Packet";
    /// No route to the destination.
    F02_UNREACHABLE = b"F02", "Unreachable";
    /// The amount is invalid (precision, or more than exists).
    F03_INVALID_AMOUNT = b"F03", "Invalid Amount";
    /// The receiver deemed the amount insufficient.
    F04_INSUFFICIENT_DESTINATION_AMOUNT = b"F04", "Insufficient Destination Amount";
    /// The receiver generated a different condition.
    F05_WRONG_CONDITION = b"F05", "Wrong Condition";
    /// The receiver was not expecting this payment.
    F06_UNEXPECTED_PAYMENT = b"F06", "Unexpected Payment";
    /// The receiver cannot accept it because of a constraint (e.g. a balance limit).
    F07_CANNOT_RECEIVE = b"F07", "Cannot Receive";
    /// More than a connector will forward; the data carries received and maximum amounts.
    F08_AMOUNT_TOO_LARGE = b"F08", "Amount Too Large";
    /// Reserved for application protocols.
    F99_APPLICATION_ERROR = b"F99", "Application Error";
    /// Unexpected internal failure.
    T00_INTERNAL_ERROR = b"T00", "Internal Error";
    /// The next hop could not be reached.
    T01_PEER_UNREACHABLE = b"T01", "Peer Unreachable";
    /// The next hop is overloaded.
    T02_PEER_BUSY = b"T02", "Peer Busy";
    /// This connector is overloaded.
    T03_CONNECTOR_BUSY = b"T03", "Connector Busy";
    /// Not enough balance or bandwidth right now.
    T04_INSUFFICIENT_LIQUIDITY = b"T04", "Insufficient Liquidity";
    /// The sender is being rate-limited.
    T05_RATE_LIMITED = b"T05", "Rate Limited";
    /// Reserved for application protocols.
    T99_APPLICATION_ERROR = b"T99", "Application Error";
    /// The next party did not answer before the expiry.
    R00_TRANSFER_TIMED_OUT = b"R00", "Transfer Timed Out";
    /// Too little arrived to forward anything.
    R01_INSUFFICIENT_SOURCE_AMOUNT = b"R01", "Insufficient Source Amount";
    /// The expiry left no room for this hop's safety margin.
    R02_INSUFFICIENT_TIMEOUT = b"R02", "Insufficient Timeout";
    /// Reserved for application protocols.
    R99_APPLICATION_ERROR = b"R99", "Application Error";
}

impl ErrorCode {
    /// Accepts any three IA5 (7-bit ASCII) characters.
    pub fn from_bytes(bytes: [u8; 3]) -> Result<Self, InvalidErrorCode> {
        if bytes.iter().all(u8::is_ascii) {
            Ok(ErrorCode(bytes))
        } else {
            Err(InvalidErrorCode {
                text: String::from_utf8_lossy(&bytes).into_owned(),
            })
        }
    }

    /// Parses a code such as `"F08"`.
    pub fn parse(text: &str) -> Result<Self, InvalidErrorCode> {
        let bytes: [u8; 3] = text.as_bytes().try_into().map_err(|_| InvalidErrorCode {
            text: text.to_owned(),
        })?;
        Self::from_bytes(bytes)
    }

    /// The three bytes as sent on the wire.
    pub fn as_bytes(&self) -> &[u8; 3] {
        &self.0
    }

    /// The code as text, e.g. `"F08"`.
    pub fn as_str(&self) -> &str {
        // Only ASCII bytes are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// Final, temporary or relative, from the first letter.
    pub fn class(self) -> ErrorClass {
        match self.0[0] {
            b'F' => ErrorClass::Final,
            b'T' => ErrorClass::Temporary,
            b'R' => ErrorClass::Relative,
            _ => ErrorClass::Unknown,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.as_str(), self.name())
    }
}

impl fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ErrorCode({})", self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ErrorCode::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rfc27_code_is_present_with_its_name() {
        assert_eq!(ErrorCode::ALL.len(), 21);
        assert_eq!(ErrorCode::F08_AMOUNT_TOO_LARGE.name(), "Amount Too Large");
        assert_eq!(ErrorCode::R02_INSUFFICIENT_TIMEOUT.as_str(), "R02");
        assert_eq!(
            ErrorCode::T04_INSUFFICIENT_LIQUIDITY.class(),
            ErrorClass::Temporary
        );
        assert_eq!(ErrorCode::F02_UNREACHABLE.class(), ErrorClass::Final);
        assert_eq!(ErrorCode::R00_TRANSFER_TIMED_OUT.class(), ErrorClass::Relative);
        for code in ErrorCode::ALL {
            assert_ne!(code.name(), "Unknown");
            assert_eq!(ErrorCode::parse(code.as_str()).unwrap(), *code);
        }
    }

    #[test]
    fn unknown_but_well_formed_codes_are_kept() {
        let code = ErrorCode::parse("F42").unwrap();
        assert_eq!(code.name(), "Unknown");
        assert_eq!(code.to_string(), "F42 Unknown");
        assert!(ErrorCode::parse("F0").is_err());
        assert!(ErrorCode::from_bytes([b'F', 0xff, b'0']).is_err());
    }
}
