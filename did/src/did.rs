//! [`Did`]: a decentralized identifier, `did:<method>:<method-specific-id>`, checked against
//! the W3C DID Core ABNF:
//!
//! ```text
//! did                = "did:" method-name ":" method-specific-id
//! method-name        = 1*method-char
//! method-char        = %x61-7A / DIGIT
//! method-specific-id = *( *idchar ":" ) 1*idchar
//! idchar             = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded
//! ```
//!
//! A `Did` keeps the text exactly as given: DIDs compare character by character (DID Core
//! §3.1), so `%2f` and `%2F` are different identifiers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{DidError, SyntaxError};
use crate::syntax::{check_chars, is_id_char, is_method_char};
use crate::url::DidUrl;

/// The longest DID accepted, in bytes. Long enough for any Ed25519 or X25519 did:key (56
/// characters), did:cypher (about 33) and the usual did:web; short enough to bound the work a
/// hostile identifier can cause.
pub const MAX_DID_LEN: usize = 1024;

const SCHEME: &str = "did:";

/// A syntactically valid DID (no path, query or fragment).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Did {
    text: String,
    /// Byte offset of the `:` that ends the method name.
    method_end: usize,
}

impl Did {
    /// Parses a DID; a DID URL (with a path, query or fragment) is refused.
    pub fn parse(text: &str) -> Result<Did, DidError> {
        let invalid = |reason, position| DidError::InvalidDid { reason, position };
        let end = did_end(text);
        if end < text.len() {
            return Err(invalid(SyntaxError::HasUrlComponents, end));
        }
        Did::parse_prefix(text).map_err(|(reason, position)| invalid(reason, position))
    }

    /// Builds `did:<method>:<method_specific_id>` and checks it.
    pub fn new(method: &str, method_specific_id: &str) -> Result<Did, DidError> {
        Did::parse(&format!("{SCHEME}{method}:{method_specific_id}"))
    }

    /// Checks `text` as a whole DID (the caller has cut it at the first `/`, `?` or `#`);
    /// errors are (rule, byte offset) so the DID URL parser can report them as its own.
    pub(crate) fn parse_prefix(text: &str) -> Result<Did, (SyntaxError, usize)> {
        if text.len() > MAX_DID_LEN {
            return Err((SyntaxError::TooLong, MAX_DID_LEN));
        }
        let Some(rest) = text.strip_prefix(SCHEME) else {
            return Err((SyntaxError::NotDidScheme, 0));
        };
        let method_len = rest.bytes().take_while(|&b| b != b':').count();
        let method = &rest.as_bytes()[..method_len];
        if method.is_empty() {
            return Err((SyntaxError::EmptyMethod, SCHEME.len()));
        }
        if let Some(bad) = method.iter().position(|&b| !is_method_char(b)) {
            return Err((SyntaxError::InvalidMethodChar, SCHEME.len() + bad));
        }
        let method_end = SCHEME.len() + method_len;
        let id = &text.as_bytes()[(method_end + 1).min(text.len())..];
        if method_end == text.len() || id.is_empty() {
            return Err((SyntaxError::MissingMethodSpecificId, text.len()));
        }
        check_chars(id, method_end + 1, |b| is_id_char(b) || b == b':').map_err(|(at, pct)| {
            let reason = if pct {
                SyntaxError::InvalidPctEncoding
            } else {
                SyntaxError::InvalidIdChar
            };
            (reason, at)
        })?;
        if id.ends_with(b":") {
            return Err((SyntaxError::TrailingColon, text.len() - 1));
        }
        Ok(Did {
            text: text.to_owned(),
            method_end,
        })
    }

    /// The method name, e.g. `key` or `cypher`.
    pub fn method(&self) -> &str {
        &self.text[SCHEME.len()..self.method_end]
    }

    /// Everything after `did:<method>:`.
    pub fn method_specific_id(&self) -> &str {
        &self.text[self.method_end + 1..]
    }

    /// The DID as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The DID URL `<did>#<fragment>`, e.g. a verification method's id.
    pub fn with_fragment(&self, fragment: &str) -> Result<DidUrl, DidError> {
        DidUrl::parse(&format!("{}#{fragment}", self.text))
    }
}

/// Where the DID part of a DID URL ends: at the first `/`, `?` or `#`.
pub(crate) fn did_end(text: &str) -> usize {
    text.find(['/', '?', '#']).unwrap_or(text.len())
}

impl fmt::Display for Did {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Did {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Did({})", self.text)
    }
}

impl FromStr for Did {
    type Err = DidError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Did::parse(s)
    }
}

impl AsRef<str> for Did {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl Serialize for Did {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Did {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Did::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_parts_of_a_did() {
        let did = Did::parse("did:example:123456789abcdefghi").unwrap();
        assert_eq!(did.method(), "example");
        assert_eq!(did.method_specific_id(), "123456789abcdefghi");
        assert_eq!(did.to_string(), "did:example:123456789abcdefghi");
        let nested = Did::parse("did:web:example.com%3A8443:users:alice").unwrap();
        assert_eq!(nested.method(), "web");
        assert_eq!(nested.method_specific_id(), "example.com%3A8443:users:alice");
        // Empty segments are allowed; only the last one must not be empty.
        assert!(Did::parse("did:a::b").is_ok());
        assert!(Did::parse("did:a:b:").is_err());
    }

    #[test]
    fn each_broken_rule_is_named_with_its_position() {
        let cases: &[(&str, SyntaxError, usize)] = &[
            ("", SyntaxError::NotDidScheme, 0),
            ("DID:example:1", SyntaxError::NotDidScheme, 0),
            ("did::1", SyntaxError::EmptyMethod, 4),
            ("did:Example:1", SyntaxError::InvalidMethodChar, 4),
            ("did:ex-ample:1", SyntaxError::InvalidMethodChar, 6),
            ("did:example", SyntaxError::MissingMethodSpecificId, 11),
            ("did:example:", SyntaxError::MissingMethodSpecificId, 12),
            ("did:example:a b", SyntaxError::InvalidIdChar, 13),
            ("did:example:a%4", SyntaxError::InvalidPctEncoding, 13),
            ("did:example:a:", SyntaxError::TrailingColon, 13),
            ("did:example:a#key", SyntaxError::HasUrlComponents, 13),
            ("did:example:a/path", SyntaxError::HasUrlComponents, 13),
        ];
        for &(text, reason, position) in cases {
            assert_eq!(
                Did::parse(text),
                Err(DidError::InvalidDid { reason, position }),
                "{text:?}"
            );
        }
        let long = format!("did:example:{}", "a".repeat(MAX_DID_LEN));
        assert!(matches!(
            Did::parse(&long),
            Err(DidError::InvalidDid {
                reason: SyntaxError::TooLong,
                ..
            })
        ));
    }

    #[test]
    fn serde_uses_the_text_and_checks_it() {
        let did: Did = serde_json::from_str("\"did:key:z6Mk\"").unwrap();
        assert_eq!(serde_json::to_string(&did).unwrap(), "\"did:key:z6Mk\"");
        assert!(serde_json::from_str::<Did>("\"did:key\"").is_err());
    }

    #[test]
    fn a_fragment_makes_a_did_url() {
        let did = Did::parse("did:example:1").unwrap();
        let url = did.with_fragment("key-1").unwrap();
        assert_eq!(url.did(), &did);
        assert_eq!(url.fragment(), Some("key-1"));
        assert!(did.with_fragment("a b").is_err());
    }
}
