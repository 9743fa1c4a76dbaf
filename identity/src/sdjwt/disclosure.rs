//! One disclosure (RFC 9901 section 4.2): the base64url of the JSON array `[salt, name, value]`
//! for an object member or `[salt, value]` for an array element. Its digest is the base64url
//! SHA-256 of that text exactly as it travels (never of a re-encoding), so a verifier hashes
//! the string it received.

use rand::{CryptoRng, RngCore};
use serde_json::Value;

use crate::encoding::{b64_decode, b64_encode, parse_json_strict, sha256_b64};
use crate::error::IdentityError;

/// Bytes of randomness in a salt: 128 bits, as RFC 9901 recommends.
pub const SALT_BYTES: usize = 16;

/// A decoded disclosure with its text and digest.
#[derive(Debug, Clone, PartialEq)]
pub struct Disclosure {
    encoded: String,
    digest: String,
    salt: String,
    name: Option<String>,
    value: Value,
}

impl Disclosure {
    /// A new disclosure for an object member (`name`) or, with `None`, an array element, salted
    /// with 128 random bits.
    pub fn new<R: RngCore + CryptoRng>(name: Option<&str>, value: Value, rng: &mut R) -> Disclosure {
        let mut salt = [0u8; SALT_BYTES];
        rng.fill_bytes(&mut salt);
        Disclosure::with_salt(b64_encode(salt), name, value)
    }

    /// A disclosure with a given salt (for test vectors and the RFC's examples).
    pub fn with_salt(salt: String, name: Option<&str>, value: Value) -> Disclosure {
        let array = match name {
            Some(name) => Value::Array(vec![salt.clone().into(), name.into(), value.clone()]),
            None => Value::Array(vec![salt.clone().into(), value.clone()]),
        };
        let encoded = b64_encode(serde_json::to_vec(&array).expect("JSON serializes"));
        Disclosure {
            digest: sha256_b64(&encoded),
            encoded,
            salt,
            name: name.map(str::to_owned),
            value,
        }
    }

    /// Decodes a disclosure's text; `index` names it in errors.
    pub fn parse(encoded: &str, index: usize) -> Result<Disclosure, IdentityError> {
        let malformed = |reason| IdentityError::MalformedDisclosure { index, reason };
        let bytes = b64_decode(encoded).ok_or_else(|| malformed("not base64url"))?;
        let json = parse_json_strict(&bytes, "disclosure").map_err(|e| match e {
            IdentityError::DuplicateJsonKey { .. } => malformed("repeated member in its value"),
            _ => malformed("not JSON"),
        })?;
        let Value::Array(mut items) = json else {
            return Err(malformed("not a JSON array"));
        };
        let (salt, name, value) = match items.len() {
            3 => {
                let value = items.pop().expect("three items");
                let Some(Value::String(name)) = items.pop() else {
                    return Err(malformed("claim name is not a string"));
                };
                (items.pop().expect("three items"), Some(name), value)
            }
            2 => {
                let value = items.pop().expect("two items");
                (items.pop().expect("two items"), None, value)
            }
            _ => return Err(malformed("not an array of two or three elements")),
        };
        let Value::String(salt) = salt else {
            return Err(malformed("salt is not a string"));
        };
        if matches!(name.as_deref(), Some("_sd" | "...")) {
            return Err(malformed("reserved claim name"));
        }
        Ok(Disclosure {
            digest: sha256_b64(encoded),
            encoded: encoded.to_owned(),
            salt,
            name,
            value,
        })
    }

    /// The base64url text, as it appears between `~`.
    pub fn encoded(&self) -> &str {
        &self.encoded
    }

    /// base64url SHA-256 of [`Disclosure::encoded`].
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The salt.
    pub fn salt(&self) -> &str {
        &self.salt
    }

    /// The claim name, or `None` for an array element.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The claim value (which may itself hold digests of nested disclosures).
    pub fn value(&self) -> &Value {
        &self.value
    }
}

/// A decoy digest (RFC 9901 section 4.2.5): the digest of random bytes, indistinguishable from
/// a real one, hiding how many claims a credential has.
pub fn decoy_digest<R: RngCore + CryptoRng>(rng: &mut R) -> String {
    let mut salt = [0u8; SALT_BYTES];
    rng.fill_bytes(&mut salt);
    sha256_b64(&b64_encode(salt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_shapes_and_refuses_the_rest() {
        let d = Disclosure::with_salt("s".into(), Some("a"), 1.into());
        let back = Disclosure::parse(d.encoded(), 0).unwrap();
        assert_eq!(back, d);
        let e = Disclosure::with_salt("s".into(), None, "FR".into());
        assert_eq!(Disclosure::parse(e.encoded(), 0).unwrap().name(), None);
        let bad = |json: &str| Disclosure::parse(&b64_encode(json), 3);
        for json in [
            r#"["s"]"#,
            r#"["s",1,2]"#,
            r#"[1,"a",2]"#,
            r#"{"a":1}"#,
            r#"["s","_sd",[]]"#,
            r#"["s","...",1]"#,
            "[",
            r#"["s","a",{"b":1,"b":2}]"#,
        ] {
            assert!(
                matches!(
                    bad(json),
                    Err(IdentityError::MalformedDisclosure { index: 3, .. })
                ),
                "{json}"
            );
        }
    }
}
