//! What a DID resolver answers an HTTP request with: the whole DID Resolution result
//! (`application/did-resolution`, or its older name `application/ld+json` with the DID
//! Resolution profile) or the document alone in one of the [`ContentType`]s, chosen from the
//! `Accept` header ([`Representation::negotiate`]).

use crate::error::DidError;
use crate::resolution::{ContentType, best_range};

/// `application/did-resolution`: a whole DID Resolution result.
pub const DID_RESOLUTION: &str = "application/did-resolution";
/// The DID Resolution result's JSON-LD profile.
pub const DID_RESOLUTION_PROFILE: &str = "https://w3id.org/did-resolution";

/// The answer's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Representation {
    /// The whole result (document, document metadata, resolution metadata), as
    /// [`DID_RESOLUTION`].
    Result,
    /// The whole result, as `application/ld+json;profile="https://w3id.org/did-resolution"`.
    ResultLdJson,
    /// The document alone.
    Document(ContentType),
}

impl Representation {
    /// The media type of the answer's body.
    pub fn media_type(self) -> &'static str {
        match self {
            Representation::Result => DID_RESOLUTION,
            Representation::ResultLdJson => "application/ld+json;profile=\"https://w3id.org/did-resolution\"",
            Representation::Document(content) => content.as_str(),
        }
    }

    /// Picks the answer for an HTTP `Accept` header: the supported media range with the highest
    /// `q` (ties go to the earlier one). No header, `*/*` or `application/*` ask for the whole
    /// result, a resolver's own answer; `application/ld+json` is the result with the DID
    /// Resolution profile and the document without it; the document types as
    /// [`ContentType::negotiate`] reads them. `representationNotSupported` if nothing fits.
    pub fn negotiate(accept: Option<&str>) -> Result<Representation, DidError> {
        let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
            return Ok(Representation::Result);
        };
        best_range(accept, |media, params| {
            let profile = params
                .iter()
                .any(|(n, v)| n == "profile" && v.split(' ').any(|p| p == DID_RESOLUTION_PROFILE));
            match media {
                DID_RESOLUTION | "*/*" | "application/*" => Some(Representation::Result),
                "application/ld+json" if profile => Some(Representation::ResultLdJson),
                _ => ContentType::negotiate(Some(media))
                    .ok()
                    .map(Representation::Document),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_tells_the_result_from_the_document() {
        use Representation::*;
        let cases: &[(Option<&str>, Representation)] = &[
            (None, Result),
            (Some("*/*"), Result),
            (Some("application/did-resolution"), Result),
            (
                Some("application/ld+json;profile=\"https://w3id.org/did-resolution\""),
                ResultLdJson,
            ),
            (
                Some("application/ld+json; profile=https://w3id.org/did-resolution; q=0.9"),
                ResultLdJson,
            ),
            (Some("application/ld+json"), Document(ContentType::DidLdJson)),
            (Some("application/did+ld+json"), Document(ContentType::DidLdJson)),
            (Some("application/did+json"), Document(ContentType::DidJson)),
            (
                Some("application/did+json;q=0.5, application/did-resolution;q=0.6"),
                Result,
            ),
            (
                Some("text/html, application/did+json;q=0.1"),
                Document(ContentType::DidJson),
            ),
        ];
        for &(accept, expected) in cases {
            assert_eq!(Representation::negotiate(accept), Ok(expected), "{accept:?}");
        }
        for refused in ["text/html", "application/did-resolution;q=0", "image/png;q=1"] {
            assert_eq!(
                Representation::negotiate(Some(refused)),
                Err(DidError::RepresentationNotSupported {
                    accept: refused.into()
                })
            );
        }
    }
}
