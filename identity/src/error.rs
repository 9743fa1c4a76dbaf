//! The crate's one error enum, [`IdentityError`]: every refusal names what failed and carries
//! the values a caller needs to explain it, and [`IdentityError::code`] gives the stable code a
//! service puts in its answer.

use thiserror::Error;

/// Everything that can go wrong while building, parsing or verifying a JWS, an SD-JWT (VC),
/// a Key Binding JWT or a status list.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdentityError {
    /// Input longer than the limit for its kind (a presentation, a token, a status list).
    #[error("{what} is {len} bytes, more than the limit of {max}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A JWS that is not three base64url parts separated by dots, or whose parts do not decode.
    #[error("malformed JWS ({token}): {reason}")]
    MalformedJws {
        /// Which token.
        token: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A JSON part (header, payload, disclosure) that is not the JSON expected.
    #[error("malformed JSON in {part}: {reason}")]
    MalformedJson {
        /// Which part.
        part: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// A JSON object with the same member twice (JSON parsers disagree on which one wins).
    #[error("duplicate JSON member in {part}")]
    DuplicateJsonKey {
        /// Which part.
        part: &'static str,
    },
    /// `alg: none`: an unsigned token.
    #[error("unsigned token (alg none) refused")]
    AlgNone,
    /// Any algorithm other than `EdDSA`.
    #[error("unexpected algorithm {alg:?} (only EdDSA is accepted)")]
    UnexpectedAlg {
        /// The header's `alg`.
        alg: String,
    },
    /// A `crit` header: no extension is understood here, so none may be critical.
    #[error("critical header extension refused")]
    CritHeader,
    /// The header's `typ` is not the one the caller expects.
    #[error("wrong token type: expected {expected}, found {found:?}")]
    WrongTyp {
        /// The type expected.
        expected: &'static str,
        /// The type found (none if absent).
        found: Option<String>,
    },
    /// The signature does not verify under the key it must verify under (for a Key Binding
    /// JWT: it was signed by a key other than the credential's `cnf` key, or altered).
    #[error("signature of the {token} does not verify")]
    BadSignature {
        /// Which token.
        token: &'static str,
    },
    /// A claim the format requires is missing.
    #[error("{token} has no {claim} claim")]
    MissingClaim {
        /// Which token.
        token: &'static str,
        /// The claim.
        claim: &'static str,
    },
    /// A claim is present but not of the form required.
    #[error("{token} claim {claim} is invalid: {reason}")]
    InvalidClaim {
        /// Which token.
        token: &'static str,
        /// The claim.
        claim: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// `_sd_alg` names a hash other than `sha-256`.
    #[error("unsupported _sd_alg {alg:?}")]
    UnsupportedSdAlg {
        /// The value found.
        alg: String,
    },
    /// A disclosure that does not decode to `[salt, name, value]` or `[salt, value]`.
    #[error("disclosure {index} is malformed: {reason}")]
    MalformedDisclosure {
        /// Its position in the presentation (0 = first after the issuer-signed JWT).
        index: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A disclosure whose digest the credential does not contain: altered, or taken from
    /// another credential.
    #[error("disclosure with digest {digest} is not part of this credential (tampered or foreign)")]
    UnreferencedDisclosure {
        /// The disclosure's digest.
        digest: String,
    },
    /// The same disclosure sent twice.
    #[error("disclosure with digest {digest} is present more than once")]
    DuplicateDisclosure {
        /// The disclosure's digest.
        digest: String,
    },
    /// A digest that appears more than once in the credential.
    #[error("digest {digest} appears more than once in the credential")]
    DuplicateDigest {
        /// The digest.
        digest: String,
    },
    /// A disclosed claim whose name already exists at its place, or is reserved (`_sd`, `...`).
    #[error("disclosed claim {name:?} collides with an existing or reserved name")]
    ClaimCollision {
        /// The claim name.
        name: String,
    },
    /// Nesting deeper than [`crate::sdjwt::MAX_DEPTH`].
    #[error("claims nested more than {max} levels deep")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// A presentation without a Key Binding JWT (or an SD-JWT given where a presentation is
    /// expected).
    #[error("presentation has no key binding JWT")]
    MissingKeyBinding,
    /// The Key Binding JWT's `nonce` is not the challenge.
    #[error("wrong nonce: expected {expected:?}, found {found:?}")]
    WrongNonce {
        /// The challenge.
        expected: String,
        /// The nonce found.
        found: String,
    },
    /// The Key Binding JWT's `aud` is not this verifier.
    #[error("wrong audience: expected {expected:?}, found {found:?}")]
    WrongAudience {
        /// This verifier.
        expected: String,
        /// The audience found.
        found: String,
    },
    /// The Key Binding JWT's `sd_hash` does not cover the presentation it came with.
    #[error("key binding sd_hash does not match the presentation")]
    SdHashMismatch,
    /// The Key Binding JWT's `iat` is outside the freshness window.
    #[error("key binding iat {iat} is outside the window around {now} (-{max_age} s / +{skew} s)")]
    StaleKeyBinding {
        /// Its `iat` (Unix seconds).
        iat: i64,
        /// The verifier's time (Unix seconds).
        now: i64,
        /// Oldest accepted age in seconds.
        max_age: i64,
        /// Accepted clock skew into the future in seconds.
        skew: i64,
    },
    /// The credential's `exp` has passed.
    #[error("{token} expired at {exp} (now {now})")]
    Expired {
        /// Which token.
        token: &'static str,
        /// Its `exp` (Unix seconds).
        exp: i64,
        /// The verifier's time.
        now: i64,
    },
    /// The credential's `nbf` or `iat` is in the future.
    #[error("{token} is not valid before {not_before} (now {now})")]
    NotYetValid {
        /// Which token.
        token: &'static str,
        /// Its `nbf` or `iat`.
        not_before: i64,
        /// The verifier's time.
        now: i64,
    },
    /// The caller's key lookup found no usable key for the issuer (unknown, deactivated, rotated
    /// before issuance...).
    #[error("no key for issuer {iss} (kid {kid:?}): {reason}")]
    IssuerKeyUnavailable {
        /// The credential's `iss`.
        iss: String,
        /// The header's `kid`.
        kid: Option<String>,
        /// The lookup's reason.
        reason: String,
    },
    /// The status list marks the credential revoked (invalid).
    #[error("credential revoked (status list index {idx})")]
    Revoked {
        /// Its index.
        idx: usize,
    },
    /// The status list marks the credential suspended.
    #[error("credential suspended (status list index {idx})")]
    Suspended {
        /// Its index.
        idx: usize,
    },
    /// A status other than valid, invalid or suspended (application specific).
    #[error("credential has status {status:#04x} (status list index {idx})")]
    OtherStatus {
        /// Its index.
        idx: usize,
        /// The status value.
        status: u8,
    },
    /// An index beyond the status list.
    #[error("status index {idx} beyond the list's {len} entries")]
    StatusIndexOutOfRange {
        /// The index.
        idx: usize,
        /// Entries in the list.
        len: usize,
    },
    /// A status value that does not fit the list's bits per entry.
    #[error("status {status} does not fit in {bits} bits")]
    StatusTooWide {
        /// The value.
        status: u8,
        /// Bits per entry.
        bits: u8,
    },
    /// A `bits` value other than 1, 2, 4 or 8.
    #[error("status list bits must be 1, 2, 4 or 8, not {bits}")]
    InvalidStatusBits {
        /// The value found.
        bits: u64,
    },
    /// The compressed status list does not inflate (not zlib, corrupt, or larger than the limit).
    #[error("status list does not decompress: {reason}")]
    Decompression {
        /// What failed.
        reason: &'static str,
    },
    /// The status list token is for another list than the credential references.
    #[error("status list token is for {found:?}, not {expected:?}")]
    StatusListMismatch {
        /// The credential's `status.status_list.uri`.
        expected: String,
        /// The token's `sub`.
        found: String,
    },
    /// An issuance request the issuer cannot honour (a reserved claim name, a selectively
    /// disclosable path that names nothing).
    #[error("invalid credential request: {reason}")]
    InvalidRequest {
        /// What is wrong.
        reason: String,
    },
    /// The holder asked to disclose a claim the credential does not have as a disclosure.
    #[error("no disclosure for {path:?} in this credential")]
    NoSuchDisclosure {
        /// The requested path.
        path: String,
    },
}

impl IdentityError {
    /// A stable, specific code for the failure (snake case), for service answers and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            IdentityError::TooLarge { .. } => "oversized_input",
            IdentityError::MalformedJws { .. } => "malformed_jwt",
            IdentityError::MalformedJson { .. } => "malformed_json",
            IdentityError::DuplicateJsonKey { .. } => "duplicate_json_member",
            IdentityError::AlgNone => "alg_none",
            IdentityError::UnexpectedAlg { .. } => "unexpected_alg",
            IdentityError::CritHeader => "crit_header",
            IdentityError::WrongTyp { .. } => "wrong_typ",
            IdentityError::BadSignature { token } if *token == crate::jws::KB_JWT => "key_binding_signature",
            IdentityError::BadSignature { .. } => "bad_signature",
            IdentityError::MissingClaim { .. } => "missing_claim",
            IdentityError::InvalidClaim { .. } => "invalid_claim",
            IdentityError::UnsupportedSdAlg { .. } => "unsupported_sd_alg",
            IdentityError::MalformedDisclosure { .. } => "malformed_disclosure",
            IdentityError::UnreferencedDisclosure { .. } => "tampered_or_extra_disclosure",
            IdentityError::DuplicateDisclosure { .. } => "duplicate_disclosure",
            IdentityError::DuplicateDigest { .. } => "duplicate_digest",
            IdentityError::ClaimCollision { .. } => "claim_collision",
            IdentityError::TooDeep { .. } => "too_deep",
            IdentityError::MissingKeyBinding => "missing_key_binding",
            IdentityError::WrongNonce { .. } => "wrong_nonce",
            IdentityError::WrongAudience { .. } => "wrong_audience",
            IdentityError::SdHashMismatch => "sd_hash_mismatch",
            IdentityError::StaleKeyBinding { .. } => "stale_key_binding",
            IdentityError::Expired { .. } => "expired",
            IdentityError::NotYetValid { .. } => "not_yet_valid",
            IdentityError::IssuerKeyUnavailable { .. } => "issuer_key_unavailable",
            IdentityError::Revoked { .. } => "revoked",
            IdentityError::Suspended { .. } => "suspended",
            IdentityError::OtherStatus { .. } => "other_status",
            IdentityError::StatusIndexOutOfRange { .. } => "status_index_out_of_range",
            IdentityError::StatusTooWide { .. } => "status_too_wide",
            IdentityError::InvalidStatusBits { .. } => "invalid_status_bits",
            IdentityError::Decompression { .. } => "status_list_decompression",
            IdentityError::StatusListMismatch { .. } => "status_list_mismatch",
            IdentityError::InvalidRequest { .. } => "invalid_request",
            IdentityError::NoSuchDisclosure { .. } => "no_such_disclosure",
        }
    }
}
