//! ILP addresses (RFC 15): `scheme` followed by one or more `.segment`s, at most 1023 bytes.
//!
//! Addresses are case-sensitive. A segment is one or more of `A-Z a-z 0-9 _ ~ -`. Routing
//! compares whole segments: `g.bank` is a prefix of `g.bank.alice` but not of `g.bankx`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The longest address RFC 15 allows, in bytes.
pub const MAX_ADDRESS_LEN: usize = 1023;

/// The allocation schemes of RFC 15, as they appear as an address's first segment.
pub const SCHEMES: [&str; 10] = [
    "g", "private", "example", "peer", "self", "test", "test1", "test2", "test3", "local",
];

/// A validated ILP address.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(String);

/// Why a string is not an ILP address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Empty string.
    #[error("address is empty")]
    Empty,
    /// Longer than 1023 bytes.
    #[error("address is {len} bytes, more than the {MAX_ADDRESS_LEN} allowed")]
    TooLong {
        /// The length found.
        len: usize,
    },
    /// The first segment is not one of the RFC 15 schemes.
    #[error(
        "unknown address scheme {scheme:?} (expected one of g, private, example, peer, self, test, test1-3, local)"
    )]
    UnknownScheme {
        /// The first segment as given.
        scheme: String,
    },
    /// Only a scheme, with no segment after it.
    #[error("address {address:?} has no segment after its scheme")]
    MissingSegment {
        /// The address as given.
        address: String,
    },
    /// An empty segment (two dots in a row, or a trailing dot).
    #[error("address has an empty segment at byte {position}")]
    EmptySegment {
        /// Byte offset where the empty segment starts.
        position: usize,
    },
    /// A character outside `A-Z a-z 0-9 _ ~ -`.
    #[error("address has the invalid character {character:?} at byte {position}")]
    InvalidCharacter {
        /// The character found.
        character: char,
        /// Its byte offset.
        position: usize,
    },
}

fn is_segment_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'~' | b'-')
}

/// Checks `bytes` against RFC 15 without allocating.
pub fn validate(bytes: &[u8]) -> Result<(), AddressError> {
    if bytes.is_empty() {
        return Err(AddressError::Empty);
    }
    if bytes.len() > MAX_ADDRESS_LEN {
        return Err(AddressError::TooLong { len: bytes.len() });
    }
    let scheme_end = bytes.iter().position(|&b| b == b'.').unwrap_or(bytes.len());
    let scheme = &bytes[..scheme_end];
    if !SCHEMES.iter().any(|s| s.as_bytes() == scheme) {
        return Err(AddressError::UnknownScheme {
            scheme: String::from_utf8_lossy(scheme).into_owned(),
        });
    }
    if scheme_end == bytes.len() {
        return Err(AddressError::MissingSegment {
            address: String::from_utf8_lossy(bytes).into_owned(),
        });
    }
    let mut segment_start = scheme_end + 1;
    for (position, &b) in bytes.iter().enumerate().skip(segment_start) {
        if b == b'.' {
            if position == segment_start {
                return Err(AddressError::EmptySegment { position });
            }
            segment_start = position + 1;
        } else if !is_segment_byte(b) {
            let character = std::str::from_utf8(&bytes[position..])
                .ok()
                .and_then(|s| s.chars().next())
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            return Err(AddressError::InvalidCharacter { character, position });
        }
    }
    if segment_start == bytes.len() {
        return Err(AddressError::EmptySegment {
            position: segment_start,
        });
    }
    Ok(())
}

impl Address {
    /// Validates and wraps `text`.
    pub fn new(text: impl Into<String>) -> Result<Self, AddressError> {
        let text = text.into();
        validate(text.as_bytes())?;
        Ok(Address(text))
    }

    /// Validates raw bytes from a packet.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, AddressError> {
        validate(bytes)?;
        // validate() admits only ASCII, so this conversion cannot fail.
        Ok(Address(String::from_utf8_lossy(bytes).into_owned()))
    }

    /// The address text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first segment (`g`, `test`, ...).
    pub fn scheme(&self) -> &str {
        self.0.split('.').next().unwrap_or_default()
    }

    /// The segments after the scheme.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('.').skip(1)
    }

    /// True if `prefix` equals this address or covers it on a segment boundary
    /// (`g.bank` covers `g.bank.alice`, not `g.bankx`). A prefix may be a bare scheme like `g`.
    pub fn has_prefix(&self, prefix: &str) -> bool {
        let rest = match self.0.strip_prefix(prefix) {
            Some(rest) => rest,
            None => return false,
        };
        rest.is_empty() || rest.starts_with('.') || prefix.ends_with('.')
    }

    /// This address with one more segment, e.g. a connector's address plus an account name.
    pub fn with_suffix(&self, segment: &str) -> Result<Self, AddressError> {
        Address::new(format!("{}.{}", self.0, segment))
    }

    /// Of `prefixes`, the longest that covers this address, with its index.
    pub fn longest_prefix<'p, I, S>(&self, prefixes: I) -> Option<(usize, &'p str)>
    where
        I: IntoIterator<Item = &'p S>,
        S: AsRef<str> + 'p + ?Sized,
    {
        prefixes
            .into_iter()
            .map(AsRef::as_ref)
            .enumerate()
            .filter(|(_, p)| self.has_prefix(p))
            .max_by_key(|(_, p)| p.len())
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({})", self.0)
    }
}

impl FromStr for Address {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Address::new(s)
    }
}

impl AsRef<str> for Address {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Address::new(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_every_scheme_and_the_rfc_examples() {
        for scheme in SCHEMES {
            assert!(Address::new(format!("{scheme}.a")).is_ok(), "{scheme}");
        }
        for ok in [
            "g.acme.bob",
            "g.us-fed.ach.0.acmebank.swx0a0.acmecorp.sales.199.~ipr.cdfa5e16-e759-4ba3-88f6-8b9dc83c1868.2",
            "private.bob.1",
            "test.Alice_~-9",
        ] {
            assert!(Address::new(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_with_a_specific_reason() {
        assert_eq!(Address::new(""), Err(AddressError::Empty));
        assert!(matches!(
            Address::new("gg.x"),
            Err(AddressError::UnknownScheme { .. })
        ));
        assert!(
            matches!(Address::new("G.x"), Err(AddressError::UnknownScheme { .. })),
            "case-sensitive scheme"
        );
        assert!(matches!(
            Address::new("test4.x"),
            Err(AddressError::UnknownScheme { .. })
        ));
        assert!(matches!(
            Address::new("g"),
            Err(AddressError::MissingSegment { .. })
        ));
        assert_eq!(
            Address::new("g..a"),
            Err(AddressError::EmptySegment { position: 2 })
        );
        assert_eq!(
            Address::new("g.a."),
            Err(AddressError::EmptySegment { position: 4 })
        );
        assert_eq!(
            Address::new("g.a b"),
            Err(AddressError::InvalidCharacter {
                character: ' ',
                position: 3
            })
        );
        assert_eq!(
            Address::new("g.é"),
            Err(AddressError::InvalidCharacter {
                character: 'é',
                position: 2
            })
        );
        let long = format!("g.{}", "a".repeat(MAX_ADDRESS_LEN - 2));
        assert!(Address::new(&long).is_ok());
        assert_eq!(
            Address::new(format!("{long}a")),
            Err(AddressError::TooLong {
                len: MAX_ADDRESS_LEN + 1
            })
        );
    }

    #[test]
    fn addresses_are_case_sensitive() {
        assert_ne!(Address::new("g.Bank").unwrap(), Address::new("g.bank").unwrap());
        assert!(!Address::new("g.Bank.a").unwrap().has_prefix("g.bank"));
    }

    #[test]
    fn prefixes_match_whole_segments() {
        let a = Address::new("g.bank.alice").unwrap();
        assert!(a.has_prefix("g"));
        assert!(a.has_prefix("g.bank"));
        assert!(a.has_prefix("g.bank."));
        assert!(a.has_prefix("g.bank.alice"));
        assert!(!a.has_prefix("g.ban"));
        assert!(!a.has_prefix("g.bank.alice.x"));
        let routes = ["g", "g.bank", "g.bankx", "g.bank.alice.x"];
        assert_eq!(a.longest_prefix(routes.iter()), Some((1, "g.bank")));
        assert_eq!(
            Address::new("test.x").unwrap().longest_prefix(routes.iter()),
            None
        );
    }

    #[test]
    fn serde_validates() {
        assert!(serde_json::from_str::<Address>("\"g.ok\"").is_ok());
        assert!(serde_json::from_str::<Address>("\"nope\"").is_err());
    }

    proptest! {
        #[test]
        fn validation_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1100)) {
            let _ = validate(&bytes);
        }

        #[test]
        fn generated_addresses_are_valid(
            scheme in proptest::sample::select(SCHEMES.to_vec()),
            segs in proptest::collection::vec("[A-Za-z0-9_~-]{1,12}", 1..6),
        ) {
            let text = format!("{scheme}.{}", segs.join("."));
            let addr = Address::new(&text).unwrap();
            prop_assert_eq!(addr.scheme(), scheme);
            prop_assert_eq!(addr.segments().count(), segs.len());
            prop_assert!(addr.has_prefix(scheme));
        }
    }
}
