//! [`DidUrl`]: a DID with an optional path, query and fragment (W3C DID Core §3.2), and the DID
//! parameters its query carries ([`DidParameters`]):
//!
//! ```text
//! did-url = did path-abempty [ "?" query ] [ "#" fragment ]
//! ```
//!
//! The query's `service`, `relativeRef`, `versionId` and `versionTime` parameters are decoded
//! and checked when the URL is parsed, so a malformed one is an `invalidDidUrl` at once; other
//! parameters (method-specific ones, `hl`) are left in the query for whoever understands them.

use std::fmt;
use std::str::FromStr;

use htlc::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::did::{Did, did_end};
use crate::error::{DidError, SyntaxError};
use crate::syntax::{check_chars, is_pchar, is_query_char, pct_decode};

/// The longest DID URL accepted, in bytes.
pub const MAX_DID_URL_LEN: usize = 2048;

/// A syntactically valid DID URL. A bare DID is a DID URL with no path, query or fragment.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DidUrl {
    text: String,
    did: Did,
    /// Byte offset where the path ends (the query's `?`, the fragment's `#`, or the end).
    path_end: usize,
    /// Byte offset where the query ends (the fragment's `#`, or the end).
    query_end: usize,
    parameters: DidParameters,
}

/// The DID parameters W3C DID Core defines, decoded from a DID URL's query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct DidParameters {
    /// `service`: the id (fragment) of a service in the DID document.
    pub service: Option<String>,
    /// `relativeRef`: a relative URI reference to apply to the selected service's endpoint.
    pub relative_ref: Option<String>,
    /// `versionId`: the document version to resolve.
    pub version_id: Option<String>,
    /// `versionTime`: resolve the version that was current at this instant.
    pub version_time: Option<Timestamp>,
}

impl DidUrl {
    /// Parses a DID URL; every error is an `invalidDidUrl`, including one in its DID part.
    pub fn parse(text: &str) -> Result<DidUrl, DidError> {
        let invalid = |reason, position| DidError::InvalidDidUrl { reason, position };
        if text.len() > MAX_DID_URL_LEN {
            return Err(invalid(SyntaxError::TooLong, MAX_DID_URL_LEN));
        }
        let did_len = did_end(text);
        let did = Did::parse_prefix(&text[..did_len]).map_err(|(reason, at)| invalid(reason, at))?;
        let fragment_start = text.find('#').unwrap_or(text.len());
        let query_end = fragment_start;
        let path_end = text[..fragment_start].find('?').unwrap_or(fragment_start);

        let check = |from: usize, to: usize, class: fn(u8) -> bool, reason: SyntaxError| {
            check_chars(&text.as_bytes()[from..to], from, class).map_err(|(at, pct)| {
                invalid(
                    if pct {
                        SyntaxError::InvalidPctEncoding
                    } else {
                        reason
                    },
                    at,
                )
            })
        };
        check(
            did_len,
            path_end,
            |b| is_pchar(b) || b == b'/',
            SyntaxError::InvalidPathChar,
        )?;
        if path_end < query_end {
            check(
                path_end + 1,
                query_end,
                is_query_char,
                SyntaxError::InvalidQueryChar,
            )?;
        }
        if fragment_start < text.len() {
            check(
                fragment_start + 1,
                text.len(),
                is_query_char,
                SyntaxError::InvalidFragmentChar,
            )?;
        }
        let parameters = if path_end < query_end {
            DidParameters::parse(&text[path_end + 1..query_end], path_end + 1)?
        } else {
            DidParameters::default()
        };
        Ok(DidUrl {
            text: text.to_owned(),
            did,
            path_end,
            query_end,
            parameters,
        })
    }

    /// The DID this URL is of.
    pub fn did(&self) -> &Did {
        &self.did
    }

    /// The path, `""` or starting with `/`.
    pub fn path(&self) -> &str {
        &self.text[self.did.as_str().len()..self.path_end]
    }

    /// The query without its `?`, if there is one (possibly empty).
    pub fn query(&self) -> Option<&str> {
        (self.path_end < self.query_end).then(|| &self.text[self.path_end + 1..self.query_end])
    }

    /// The fragment without its `#`, if there is one (possibly empty).
    pub fn fragment(&self) -> Option<&str> {
        (self.query_end < self.text.len()).then(|| &self.text[self.query_end + 1..])
    }

    /// The DID parameters of the query.
    pub fn parameters(&self) -> &DidParameters {
        &self.parameters
    }

    /// True when this is `<did>#<fragment>` with a non-empty fragment and nothing else: the form
    /// of a verification method or service id.
    pub fn is_fragment_of(&self, did: &Did) -> bool {
        &self.did == did
            && self.path().is_empty()
            && self.query().is_none()
            && self.fragment().is_some_and(|f| !f.is_empty())
    }

    /// The DID URL as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl DidParameters {
    /// Decodes the standard parameters of `query` (which starts at byte `offset` of the URL).
    fn parse(query: &str, offset: usize) -> Result<DidParameters, DidError> {
        let mut parameters = DidParameters::default();
        let mut at = offset;
        for pair in query.split('&') {
            let position = at;
            at += pair.len() + 1;
            let (name, raw) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match name {
                "service" => Slot::Text(&mut parameters.service),
                "relativeRef" => Slot::Text(&mut parameters.relative_ref),
                "versionId" => Slot::Text(&mut parameters.version_id),
                "versionTime" => Slot::Time(&mut parameters.version_time),
                _ => continue,
            };
            let invalid = |reason| DidError::InvalidDidUrl { reason, position };
            let value = pct_decode(raw).filter(|v| !v.is_empty());
            let value = value.ok_or(invalid(SyntaxError::InvalidParameter))?;
            match slot {
                Slot::Text(Some(_)) | Slot::Time(Some(_)) => {
                    return Err(invalid(SyntaxError::DuplicateParameter));
                }
                Slot::Text(slot) => {
                    if name == "relativeRef" && !is_relative_ref(&value) {
                        return Err(invalid(SyntaxError::InvalidParameter));
                    }
                    *slot = Some(value);
                }
                Slot::Time(slot) => {
                    let time = Timestamp::parse_rfc3339(&value);
                    *slot = Some(time.map_err(|_| invalid(SyntaxError::InvalidParameter))?);
                }
            }
        }
        Ok(parameters)
    }
}

enum Slot<'a> {
    Text(&'a mut Option<String>),
    Time(&'a mut Option<Timestamp>),
}

/// An RFC 3986 relative reference, loosely: no scheme (no `:` before the first `/`, `?` or `#`)
/// and no whitespace or control characters.
fn is_relative_ref(value: &str) -> bool {
    let first_segment = &value[..value.find(['/', '?', '#']).unwrap_or(value.len())];
    !first_segment.contains(':') && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl fmt::Display for DidUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for DidUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DidUrl({})", self.text)
    }
}

impl FromStr for DidUrl {
    type Err = DidError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DidUrl::parse(s)
    }
}

impl From<Did> for DidUrl {
    fn from(did: Did) -> Self {
        let len = did.as_str().len();
        DidUrl {
            text: did.as_str().to_owned(),
            did,
            path_end: len,
            query_end: len,
            parameters: DidParameters::default(),
        }
    }
}

impl Serialize for DidUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for DidUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        DidUrl::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_path_query_and_fragment() {
        let url = DidUrl::parse("did:example:123/path/to?service=files&relativeRef=%2Fa%3Fb#frag").unwrap();
        assert_eq!(url.did().as_str(), "did:example:123");
        assert_eq!(url.path(), "/path/to");
        assert_eq!(url.query(), Some("service=files&relativeRef=%2Fa%3Fb"));
        assert_eq!(url.fragment(), Some("frag"));
        assert_eq!(url.parameters().service.as_deref(), Some("files"));
        assert_eq!(url.parameters().relative_ref.as_deref(), Some("/a?b"));
        assert_eq!(
            url.to_string(),
            "did:example:123/path/to?service=files&relativeRef=%2Fa%3Fb#frag"
        );

        let bare = DidUrl::parse("did:example:123").unwrap();
        assert_eq!((bare.path(), bare.query(), bare.fragment()), ("", None, None));
        assert_eq!(bare, DidUrl::from(Did::parse("did:example:123").unwrap()));
        // An empty query or fragment is still there, so the text round-trips.
        let empty = DidUrl::parse("did:example:123?#").unwrap();
        assert_eq!((empty.query(), empty.fragment()), (Some(""), Some("")));
        // A '?' inside the fragment belongs to the fragment.
        let late = DidUrl::parse("did:example:123#a?b").unwrap();
        assert_eq!((late.query(), late.fragment()), (None, Some("a?b")));
    }

    #[test]
    fn version_parameters_are_decoded() {
        let url = DidUrl::parse("did:example:1?versionId=4&versionTime=2021-05-10T17:00:00Z").unwrap();
        assert_eq!(url.parameters().version_id.as_deref(), Some("4"));
        let time = Timestamp::parse_rfc3339("2021-05-10T17:00:00Z").unwrap();
        assert_eq!(url.parameters().version_time, Some(time));
        // Parameters nobody here knows are left alone.
        let other = DidUrl::parse("did:example:1?hl=zQm&example:flag").unwrap();
        assert_eq!(other.parameters(), &DidParameters::default());
    }

    #[test]
    fn each_broken_rule_is_named_with_its_position() {
        let cases: &[(&str, SyntaxError, usize)] = &[
            ("did:example:1/a b", SyntaxError::InvalidPathChar, 15),
            ("did:example:1?a b", SyntaxError::InvalidQueryChar, 15),
            ("did:example:1#a#b", SyntaxError::InvalidFragmentChar, 15),
            ("did:example:1#a%g0", SyntaxError::InvalidPctEncoding, 15),
            ("did:example:1/%", SyntaxError::InvalidPctEncoding, 14),
            ("did:Example:1#a", SyntaxError::InvalidMethodChar, 4),
            ("did:example:#a", SyntaxError::MissingMethodSpecificId, 12),
            (
                "did:example:1?versionTime=yesterday",
                SyntaxError::InvalidParameter,
                14,
            ),
            ("did:example:1?versionId=", SyntaxError::InvalidParameter, 14),
            ("did:example:1?service", SyntaxError::InvalidParameter, 14),
            ("did:example:1?a=1&service=%FF", SyntaxError::InvalidParameter, 18),
            (
                "did:example:1?service=a&relativeRef=http%3A%2F%2Fx",
                SyntaxError::InvalidParameter,
                24,
            ),
            (
                "did:example:1?versionId=1&versionId=2",
                SyntaxError::DuplicateParameter,
                26,
            ),
        ];
        for &(text, reason, position) in cases {
            assert_eq!(
                DidUrl::parse(text),
                Err(DidError::InvalidDidUrl { reason, position }),
                "{text:?}"
            );
        }
        let long = format!("did:example:1#{}", "a".repeat(MAX_DID_URL_LEN));
        assert_eq!(
            DidUrl::parse(&long),
            Err(DidError::InvalidDidUrl {
                reason: SyntaxError::TooLong,
                position: MAX_DID_URL_LEN
            })
        );
    }

    #[test]
    fn fragment_form_is_recognised() {
        let did = Did::parse("did:example:1").unwrap();
        assert!(DidUrl::parse("did:example:1#k").unwrap().is_fragment_of(&did));
        assert!(!DidUrl::parse("did:example:2#k").unwrap().is_fragment_of(&did));
        assert!(!DidUrl::parse("did:example:1/p#k").unwrap().is_fragment_of(&did));
        assert!(!DidUrl::parse("did:example:1?q#k").unwrap().is_fragment_of(&did));
        assert!(!DidUrl::parse("did:example:1").unwrap().is_fragment_of(&did));
        assert!(!DidUrl::parse("did:example:1#").unwrap().is_fragment_of(&did));
    }
}
