//! Rebuilding the claims from an issuer-signed payload and a set of disclosures (RFC 9901
//! section 7.1, step 3): every `_sd` digest and every `{"...": digest}` array element whose
//! disclosure is present is replaced by the disclosed member or element, recursively through
//! disclosed values; the rest disappear. Refused: a digest appearing twice (decoys included),
//! a disclosure given twice or referenced by nothing, a disclosed name colliding with a member
//! already there, a member disclosure in an array or an element disclosure in `_sd`, nesting
//! past [`MAX_DEPTH`]. Also records each disclosure's place as a JSON Pointer, which the holder
//! uses to choose disclosures by claim.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::{Disclosure, MAX_DEPTH, pointer_token};
use crate::error::IdentityError;
use crate::jws::CREDENTIAL;

/// The rebuilt claims and, for each disclosure (same order as given), its JSON Pointer. An array
/// element's index is its position in the array as issued (hidden elements counted).
pub(crate) struct Unpacked {
    pub(crate) claims: Map<String, Value>,
    pub(crate) paths: Vec<String>,
}

/// Rebuilds `payload` (minus `_sd_alg`, which the caller has checked) with `disclosures`.
pub(crate) fn unpack(
    payload: Map<String, Value>,
    disclosures: &[Disclosure],
) -> Result<Unpacked, IdentityError> {
    let mut by_digest = HashMap::with_capacity(disclosures.len());
    for (index, disclosure) in disclosures.iter().enumerate() {
        if by_digest.insert(disclosure.digest(), index).is_some() {
            return Err(IdentityError::DuplicateDisclosure {
                digest: disclosure.digest().to_owned(),
            });
        }
    }
    let mut walker = Walker {
        disclosures,
        by_digest,
        paths: vec![None; disclosures.len()],
        seen: HashSet::new(),
    };
    let claims = walker.object(payload, "", 0)?;
    let mut paths = Vec::with_capacity(disclosures.len());
    for (index, path) in walker.paths.into_iter().enumerate() {
        match path {
            Some(path) => paths.push(path),
            None => {
                return Err(IdentityError::UnreferencedDisclosure {
                    digest: disclosures[index].digest().to_owned(),
                });
            }
        }
    }
    Ok(Unpacked { claims, paths })
}

struct Walker<'d> {
    disclosures: &'d [Disclosure],
    by_digest: HashMap<&'d str, usize>,
    paths: Vec<Option<String>>,
    seen: HashSet<String>,
}

impl<'d> Walker<'d> {
    /// Notes a digest found in the payload and returns its disclosure, if present.
    fn lookup(
        &mut self,
        digest: &Value,
        claim: &'static str,
    ) -> Result<Option<(usize, &'d Disclosure)>, IdentityError> {
        let Some(digest) = digest.as_str() else {
            return Err(IdentityError::InvalidClaim {
                token: CREDENTIAL,
                claim,
                reason: "digest is not a string".to_owned(),
            });
        };
        if !self.seen.insert(digest.to_owned()) {
            return Err(IdentityError::DuplicateDigest {
                digest: digest.to_owned(),
            });
        }
        Ok(self.by_digest.get(digest).map(|&i| (i, &self.disclosures[i])))
    }

    fn value(&mut self, value: Value, path: &str, depth: usize) -> Result<Value, IdentityError> {
        match value {
            Value::Object(map) => self.object(map, path, depth).map(Value::Object),
            Value::Array(items) => self.array(items, path, depth).map(Value::Array),
            other => Ok(other),
        }
    }

    fn object(
        &mut self,
        mut map: Map<String, Value>,
        path: &str,
        depth: usize,
    ) -> Result<Map<String, Value>, IdentityError> {
        if depth > MAX_DEPTH {
            return Err(IdentityError::TooDeep { max: MAX_DEPTH });
        }
        if map.contains_key("...") {
            return Err(IdentityError::ClaimCollision {
                name: "...".to_owned(),
            });
        }
        let digests = match map.remove("_sd") {
            None => Vec::new(),
            Some(Value::Array(digests)) => digests,
            Some(_) => {
                return Err(IdentityError::InvalidClaim {
                    token: CREDENTIAL,
                    claim: "_sd",
                    reason: "not an array".to_owned(),
                });
            }
        };
        let mut out = Map::new();
        for (name, value) in map {
            let child = format!("{path}/{}", pointer_token(&name));
            let value = self.value(value, &child, depth + 1)?;
            out.insert(name, value);
        }
        for digest in &digests {
            let Some((index, disclosure)) = self.lookup(digest, "_sd")? else {
                continue;
            };
            let Some(name) = disclosure.name() else {
                return Err(IdentityError::MalformedDisclosure {
                    index,
                    reason: "an array element's disclosure referenced from _sd",
                });
            };
            if out.contains_key(name) {
                return Err(IdentityError::ClaimCollision {
                    name: name.to_owned(),
                });
            }
            let child = format!("{path}/{}", pointer_token(name));
            let value = self.value(disclosure.value().clone(), &child, depth + 1)?;
            self.paths[index] = Some(child);
            out.insert(name.to_owned(), value);
        }
        Ok(out)
    }

    fn array(&mut self, items: Vec<Value>, path: &str, depth: usize) -> Result<Vec<Value>, IdentityError> {
        if depth > MAX_DEPTH {
            return Err(IdentityError::TooDeep { max: MAX_DEPTH });
        }
        let mut out = Vec::with_capacity(items.len());
        for (position, item) in items.into_iter().enumerate() {
            let child = format!("{path}/{position}");
            let digest = match &item {
                Value::Object(map) if map.len() == 1 => map.get("..."),
                _ => None,
            };
            let Some(digest) = digest else {
                out.push(self.value(item, &child, depth + 1)?);
                continue;
            };
            let Some((index, disclosure)) = self.lookup(digest, "...")? else {
                continue;
            };
            if disclosure.name().is_some() {
                return Err(IdentityError::MalformedDisclosure {
                    index,
                    reason: "an object member's disclosure referenced as an array element",
                });
            }
            out.push(self.value(disclosure.value().clone(), &child, depth + 1)?);
            self.paths[index] = Some(child);
        }
        Ok(out)
    }
}
