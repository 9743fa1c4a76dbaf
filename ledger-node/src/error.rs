//! The crate's one error type. Local failures are `Err`; a message dropped from the network is
//! not an error of ours but a counted [`crate::consensus::messages::DropReason`].

use thiserror::Error;

/// Everything that can fail in the consensus core.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Error {
    /// Bytes could not be decoded; `what` names the field, `at` is the byte offset.
    #[error("decode error in {what} at byte {at}")]
    Decode {
        /// Field or structure being decoded.
        what: &'static str,
        /// Byte offset where decoding failed.
        at: usize,
    },
    /// A length prefix or count exceeded its limit.
    #[error("{what} length {len} exceeds the limit {max}")]
    TooLong {
        /// Field or structure whose length is limited.
        what: &'static str,
        /// Length found.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// Input bytes continued after a complete message.
    #[error("{extra} trailing bytes after a complete message")]
    TrailingBytes {
        /// Number of unread bytes.
        extra: usize,
    },
    /// A BLS key or signature encoding was not a valid curve point.
    #[error("invalid BLS {what} encoding")]
    BadPoint {
        /// "public key" or "signature".
        what: &'static str,
    },
    /// A signature, aggregate or certificate did not verify.
    #[error("invalid signature on {what}")]
    BadSignature {
        /// What was signed.
        what: &'static str,
    },
    /// A certificate does not have enough distinct signers.
    #[error("{what} has {signers} signers, needs {quorum}")]
    NoQuorum {
        /// Certificate kind.
        what: &'static str,
        /// Distinct signers present.
        signers: usize,
        /// Signers required.
        quorum: usize,
    },
    /// A message belongs to another epoch.
    #[error("wrong epoch {got}, committee is at epoch {expected}")]
    WrongEpoch {
        /// Epoch carried by the message.
        got: u64,
        /// Epoch of our committee.
        expected: u64,
    },
    /// A validator index outside the committee.
    #[error("validator index {index} outside a committee of {size}")]
    UnknownValidator {
        /// Index found.
        index: u16,
        /// Committee size.
        size: usize,
    },
    /// A message breaks a structural rule (wrong proposer, view not following its certificate ...).
    #[error("malformed {what}: {why}")]
    Malformed {
        /// Message kind.
        what: &'static str,
        /// Which rule it breaks.
        why: &'static str,
    },
    /// Committee formation refused.
    #[error("invalid committee: {why}")]
    Committee {
        /// Which rule the proposed membership breaks.
        why: String,
    },
    /// A safety rule refused to sign.
    #[error("safety rule {rule} refused view {view}")]
    Unsafe {
        /// Name of the rule that failed.
        rule: &'static str,
        /// View of the request.
        view: u64,
    },
    /// The safety record could not be read or written.
    #[error("safety storage failed: {0}")]
    Storage(String),
}

/// Result alias for the crate.
pub type Result<T> = std::result::Result<T, Error>;
