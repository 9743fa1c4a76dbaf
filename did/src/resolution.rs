//! W3C DID Resolution results: [`ResolutionResult`] with the document, its metadata
//! ([`DocumentMetadata`]) and the resolution's own metadata ([`ResolutionMetadata`]), under the
//! standard JSON names; the two DID document media types ([`ContentType`]) and the choice
//! between them from an HTTP `Accept` header ([`ContentType::negotiate`]).
//!
//! Times are written as DID Core asks, in UTC without fractions of a second
//! (`2021-05-10T17:00:00Z`); any RFC 3339 time is read. A resolver comparing a `versionTime`
//! against update times should therefore compare at whole seconds, so that the `updated`
//! value it returned selects the version it described.

use std::fmt;

use htlc::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::document::Document;
use crate::error::{DidError, ErrorCode};

/// `application/did+ld+json`: a DID document as JSON-LD.
pub const DID_LD_JSON: &str = "application/did+ld+json";
/// `application/did+json`: a DID document as plain JSON.
pub const DID_JSON: &str = "application/did+json";
/// The JSON-LD context of a resolution result.
pub const DID_RESOLUTION_CONTEXT: &str = "https://w3id.org/did-resolution/v1";

/// The result of resolving a DID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolutionResult {
    /// The DID Resolution context.
    #[serde(rename = "@context", default = "resolution_context")]
    pub context: String,
    /// The document; `null` when resolution failed.
    pub did_document: Option<Document>,
    /// Metadata about the document (its versions, deactivation).
    #[serde(default)]
    pub did_document_metadata: DocumentMetadata,
    /// Metadata about the resolution (content type or error).
    #[serde(default)]
    pub did_resolution_metadata: ResolutionMetadata,
}

fn resolution_context() -> String {
    DID_RESOLUTION_CONTEXT.to_owned()
}

/// `didDocumentMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentMetadata {
    /// When the DID was created.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "whole_seconds")]
    pub created: Option<Timestamp>,
    /// When the returned version was made (absent for the first version).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "whole_seconds")]
    pub updated: Option<Timestamp>,
    /// True once the DID is deactivated; written only then.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deactivated: bool,
    /// When the version after the returned one was made, if there is one.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "whole_seconds")]
    pub next_update: Option<Timestamp>,
    /// The returned version's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// The id of the version after the returned one, if there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_version_id: Option<String>,
}

/// `didResolutionMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolutionMetadata {
    /// The media type of the document, on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<ContentType>,
    /// The error code, on failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorCode>,
}

impl ResolutionResult {
    /// A successful resolution.
    pub fn found(document: Document, metadata: DocumentMetadata, content_type: ContentType) -> Self {
        ResolutionResult {
            context: resolution_context(),
            did_document: Some(document),
            did_document_metadata: metadata,
            did_resolution_metadata: ResolutionMetadata {
                content_type: Some(content_type),
                error: None,
            },
        }
    }

    /// A failed resolution: no document, the error's code.
    pub fn failed(error: &DidError) -> Self {
        ResolutionResult::failed_with(error.code())
    }

    /// A failed resolution with a code no [`DidError`] carries (e.g. `internalError`).
    pub fn failed_with(code: ErrorCode) -> Self {
        ResolutionResult {
            context: resolution_context(),
            did_document: None,
            did_document_metadata: DocumentMetadata::default(),
            did_resolution_metadata: ResolutionMetadata {
                content_type: None,
                error: Some(code),
            },
        }
    }
}

/// The media types a DID document is served as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentType {
    /// [`DID_LD_JSON`], the default.
    DidLdJson,
    /// [`DID_JSON`].
    DidJson,
}

impl ContentType {
    /// The media type string.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::DidLdJson => DID_LD_JSON,
            ContentType::DidJson => DID_JSON,
        }
    }

    /// Picks the representation for an HTTP `Accept` header: the supported media range with the
    /// highest `q` (ties go to the earlier one), `application/did+ld+json` when there is no
    /// header or it accepts anything. `application/ld+json` and `application/json` count as
    /// asking for the DID forms of each. `representationNotSupported` if nothing fits.
    pub fn negotiate(accept: Option<&str>) -> Result<ContentType, DidError> {
        let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
            return Ok(ContentType::DidLdJson);
        };
        best_range(accept, |media, _| match media {
            DID_LD_JSON | "application/ld+json" | "application/*" | "*/*" => Some(ContentType::DidLdJson),
            DID_JSON | "application/json" => Some(ContentType::DidJson),
            _ => None,
        })
    }
}

/// The choice for the media range of `accept` with the highest `q` (ties go to the earlier
/// one), among those `choose` supports: it gets each range's media type (lower case) and its
/// parameters (names in lower case, values unquoted). `representationNotSupported` if none.
pub(crate) fn best_range<T: Copy>(
    accept: &str,
    choose: impl Fn(&str, &[(String, String)]) -> Option<T>,
) -> Result<T, DidError> {
    let mut best: Option<(u16, T)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let params: Vec<(String, String)> = parts
            .filter_map(|p| {
                let (name, value) = p.split_once('=')?;
                Some((
                    name.trim().to_ascii_lowercase(),
                    value.trim().trim_matches('"').to_owned(),
                ))
            })
            .collect();
        let Some(choice) = choose(&media, &params) else {
            continue;
        };
        let quality = match params.iter().find(|(n, _)| n == "q") {
            Some((_, q)) => parse_quality(q),
            None => Some(1000),
        };
        let Some(quality) = quality.filter(|&q| q > 0) else {
            continue;
        };
        if best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, choice));
        }
    }
    best.map(|(_, choice)| choice)
        .ok_or_else(|| DidError::RepresentationNotSupported {
            accept: accept.to_owned(),
        })
}

/// An HTTP quality value (`0` to `1`, up to three decimals) in thousandths; `None` if malformed.
fn parse_quality(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ContentType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ContentType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match String::deserialize(deserializer)?.as_str() {
            DID_LD_JSON => Ok(ContentType::DidLdJson),
            DID_JSON => Ok(ContentType::DidJson),
            other => Err(serde::de::Error::custom(format!(
                "unknown DID document content type {other:?}"
            ))),
        }
    }
}

/// Optional timestamps as RFC 3339 at whole seconds (DID Core's normalized XML datetime).
mod whole_seconds {
    use htlc::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        time: &Option<Timestamp>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match time {
            // to_rfc3339 is `YYYY-MM-DDTHH:MM:SS.mmmZ`; drop the milliseconds.
            Some(time) => serializer.serialize_str(&format!("{}Z", &time.to_rfc3339()[..19])),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Timestamp>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| Timestamp::parse_rfc3339(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Did;

    #[test]
    fn results_use_the_standard_field_names() {
        let did = Did::parse("did:example:1").unwrap();
        let metadata = DocumentMetadata {
            created: Some(Timestamp::parse_rfc3339("2021-05-10T17:00:00.250Z").unwrap()),
            updated: Some(Timestamp::parse_rfc3339("2021-06-01T08:30:15Z").unwrap()),
            deactivated: true,
            version_id: Some("2".into()),
            ..DocumentMetadata::default()
        };
        let result = ResolutionResult::found(Document::new(did), metadata, ContentType::DidLdJson);
        let json: serde_json::Value = serde_json::to_value(&result).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "@context": "https://w3id.org/did-resolution/v1",
                "didDocument": {"@context": ["https://www.w3.org/ns/did/v1"], "id": "did:example:1"},
                "didDocumentMetadata": {
                    "created": "2021-05-10T17:00:00Z",
                    "updated": "2021-06-01T08:30:15Z",
                    "deactivated": true,
                    "versionId": "2"
                },
                "didResolutionMetadata": {"contentType": "application/did+ld+json"}
            })
        );
        let back: ResolutionResult = serde_json::from_value(json).unwrap();
        assert_eq!(back.did_document, result.did_document);
        assert_eq!(
            back.did_document_metadata.updated,
            result.did_document_metadata.updated
        );
    }

    #[test]
    fn failures_carry_the_code_and_no_document() {
        let error = DidError::NotFound {
            did: "did:cypher:x".into(),
        };
        let json = serde_json::to_value(ResolutionResult::failed(&error)).unwrap();
        assert_eq!(json["didDocument"], serde_json::Value::Null);
        assert_eq!(json["didDocumentMetadata"], serde_json::json!({}));
        assert_eq!(
            json["didResolutionMetadata"],
            serde_json::json!({"error": "notFound"})
        );
    }

    #[test]
    fn negotiation_picks_the_best_supported_type() {
        use ContentType::*;
        let cases: &[(Option<&str>, ContentType)] = &[
            (None, DidLdJson),
            (Some(""), DidLdJson),
            (Some("*/*"), DidLdJson),
            (Some("application/did+json"), DidJson),
            (Some("application/did+ld+json"), DidLdJson),
            (Some("text/html, application/json;q=0.5"), DidJson),
            (
                Some("application/did+json;q=0.4, application/did+ld+json;q=0.9"),
                DidLdJson,
            ),
            (Some("application/did+ld+json;q=0, application/did+json"), DidJson),
            (Some("Application/DID+JSON"), DidJson),
            (Some("application/did+json, application/did+ld+json"), DidJson),
        ];
        for &(accept, expected) in cases {
            assert_eq!(ContentType::negotiate(accept), Ok(expected), "{accept:?}");
        }
        for refused in [
            "text/html",
            "application/did+json;q=0",
            "application/did+json;q=2",
            "image/*",
        ] {
            assert_eq!(
                ContentType::negotiate(Some(refused)),
                Err(DidError::RepresentationNotSupported {
                    accept: refused.into()
                })
            );
        }
    }

    #[test]
    fn quality_values_are_read_exactly() {
        assert_eq!(parse_quality("1"), Some(1000));
        assert_eq!(parse_quality("1.000"), Some(1000));
        assert_eq!(parse_quality("0.5"), Some(500));
        assert_eq!(parse_quality("0.125"), Some(125));
        assert_eq!(parse_quality("0"), Some(0));
        for bad in ["1.5", "0.1234", "-1", "x", "", "0.-1"] {
            assert_eq!(parse_quality(bad), None, "{bad}");
        }
    }
}
