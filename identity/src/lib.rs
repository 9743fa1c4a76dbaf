//! `identity`: the formats CypherLink's identity roles exchange, all standard so that software
//! written elsewhere reads what CypherLink issues and CypherLink reads theirs. Pure: no IO, no
//! async, no clock (times are arguments), randomness only from an RNG the caller passes.
//!
//! - [`jws`]: compact JWS/JWT with `alg: EdDSA` (Ed25519) only; `typ` checked against the
//!   caller's expectation; `none`, other algorithms, `crit`, repeated JSON members,
//!   non-canonical base64url and oversized input refused.
//! - [`sdjwt`]: SD-JWT VCs (RFC 9901 and the SD-JWT VC draft) for the three roles: an
//!   [`Issuer`] (the identity service provider) issues credentials with salted, selectively
//!   disclosable claims bound to the holder's key (`cnf.jwk`); a holder ([`SdJwt`]) presents a
//!   chosen subset with a Key Binding JWT (`aud`, `nonce`, `sd_hash`); a verifier
//!   ([`verify_presentation`]) checks everything and returns only what was disclosed, and the
//!   status list entry to check.
//! - [`status_list`]: the IETF Token Status List (revocation and suspension): the compressed
//!   bit string and the signed status list token.
//!
//! Public keys and their JWK form come from the `did` crate ([`did::PublicKey`]); times from
//! `htlc` ([`htlc::Timestamp`], Unix seconds in the tokens). Every failure is an
//! [`IdentityError`] naming what failed, with a stable [`IdentityError::code`].
//!
//! Used by (later steps): the ISP service (issuance, status lists), the wallet (holding,
//! presenting) and the merchant verifier.

mod encoding;
mod error;
pub mod jws;
pub mod sdjwt;
pub mod status_list;

pub use crate::encoding::sha256_b64;
pub use crate::error::IdentityError;
pub use crate::sdjwt::holder::SdJwt;
pub use crate::sdjwt::issuer::{CredentialRequest, IssuedCredential, Issuer};
pub use crate::sdjwt::verifier::{Expectations, IssuerKeyQuery, VerifiedPresentation, verify_presentation};
pub use crate::sdjwt::{Disclosure, StatusRef};
pub use crate::status_list::token::StatusListToken;
pub use crate::status_list::{Status, StatusList};
