//! The two encodings every format here shares: base64url without padding (canonical only: no
//! `=`, no `+`/`/`, no stray bits in the last character, so one value has one text and a
//! changed character never decodes to the same bytes) and JSON parsed strictly (a member
//! given twice is refused, since parsers disagree on which one wins).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::IdentityError;

/// base64url without padding.
pub(crate) fn b64_encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes canonical base64url without padding; `None` for anything else. The engine refuses
/// padding, the standard alphabet's `+` and `/`, and non-zero trailing bits.
pub(crate) fn b64_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// base64url of the SHA-256 of `text`'s bytes: a disclosure's digest, `sd_hash`.
pub fn sha256_b64(text: &str) -> String {
    b64_encode(Sha256::digest(text.as_bytes()))
}

/// The message a duplicate member produces, recognised to give its own error.
const DUPLICATE: &str = "duplicate member";

/// Parses JSON, refusing a member given twice in any object (and trailing data).
pub(crate) fn parse_json_strict(bytes: &[u8], part: &'static str) -> Result<Value, IdentityError> {
    serde_json::from_slice::<Strict>(bytes).map(|s| s.0).map_err(|e| {
        let reason = e.to_string();
        if reason.starts_with(DUPLICATE) {
            IdentityError::DuplicateJsonKey { part }
        } else {
            IdentityError::MalformedJson { part, reason }
        }
    })
}

/// [`parse_json_strict`] for a part that must be a JSON object.
pub(crate) fn parse_object_strict(
    bytes: &[u8],
    part: &'static str,
) -> Result<Map<String, Value>, IdentityError> {
    match parse_json_strict(bytes, part)? {
        Value::Object(map) => Ok(map),
        _ => Err(IdentityError::MalformedJson {
            part,
            reason: "not a JSON object".to_owned(),
        }),
    }
}

/// A JSON value built by [`StrictVisitor`].
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

/// Builds a [`Value`] like serde_json's own, but fails on a repeated object member.
struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom(DUPLICATE));
            }
            let Strict(value) = access.next_value()?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_is_canonical_only() {
        assert_eq!(b64_decode("AQ").as_deref(), Some(&[1u8][..]));
        assert_eq!(b64_decode("AR"), None, "stray bits in the last character");
        assert_eq!(b64_decode("AQ=="), None, "padding");
        assert_eq!(b64_decode("+/8"), None, "standard alphabet");
        assert_eq!(b64_encode([0xfb, 0xff]), "-_8");
    }

    #[test]
    fn duplicate_members_are_refused_at_any_depth() {
        assert_eq!(
            parse_json_strict(br#"{"a":1,"a":2}"#, "test"),
            Err(IdentityError::DuplicateJsonKey { part: "test" })
        );
        assert_eq!(
            parse_json_strict(br#"{"a":{"b":[{"c":1,"c":1}]}}"#, "test"),
            Err(IdentityError::DuplicateJsonKey { part: "test" })
        );
        let ok = parse_json_strict(br#"{"a":[1,-2,3.5,"x",null,true,{"b":{}}]}"#, "test").unwrap();
        assert_eq!(ok, serde_json::json!({"a":[1,-2,3.5,"x",null,true,{"b":{}}]}));
        assert!(matches!(
            parse_json_strict(b"{} x", "test"),
            Err(IdentityError::MalformedJson { .. })
        ));
        assert!(matches!(
            parse_object_strict(b"[]", "test"),
            Err(IdentityError::MalformedJson { .. })
        ));
    }
}
