//! Reading the issuer-signed part of an SD-JWT, shared by the holder and the verifier: the JWS
//! (EdDSA, `typ` `dc+sd-jwt` or `vc+sd-jwt`), its claims, `_sd_alg` (only `sha-256`; absent
//! means `sha-256`, as RFC 9901 says) and the disclosures' decoding.

use serde_json::{Map, Value};

use super::{Disclosure, SD_ALG, disclosure};
use crate::error::IdentityError;
use crate::jws::{self, CREDENTIAL, Jws, TYP_DC_SD_JWT, TYP_VC_SD_JWT};

/// The issuer-signed JWT decoded (signature not yet checked) with its disclosures.
pub(crate) struct Parsed<'a> {
    pub(crate) jws: Jws<'a>,
    /// The payload without `_sd_alg`.
    pub(crate) payload: Map<String, Value>,
    pub(crate) disclosures: Vec<Disclosure>,
}

/// Decodes the issuer-signed JWT and the disclosures' texts.
pub(crate) fn parse_parts<'a>(jwt: &'a str, disclosures: &[&str]) -> Result<Parsed<'a>, IdentityError> {
    let jws = jws::parse(jwt, super::MAX_PRESENTATION_BYTES, CREDENTIAL)?;
    jws.expect_typ(TYP_DC_SD_JWT, &[TYP_VC_SD_JWT])?;
    let mut payload = jws.claims()?;
    match payload.remove("_sd_alg") {
        None => {}
        Some(Value::String(alg)) if alg == SD_ALG => {}
        Some(other) => {
            return Err(IdentityError::UnsupportedSdAlg {
                alg: other.as_str().map_or_else(|| other.to_string(), str::to_owned),
            });
        }
    }
    let disclosures = disclosures
        .iter()
        .enumerate()
        .map(|(index, text)| disclosure::Disclosure::parse(text, index))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Parsed {
        jws,
        payload,
        disclosures,
    })
}
