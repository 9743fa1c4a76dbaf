//! OpenAPI descriptions of `htlc`'s wire values (feature `openapi`), so that every service's
//! document describes a condition, a timestamp or an asset the same way, with the pattern or
//! format a client (or a fuzzer) needs to produce a valid one; and [`problem_responses!`](crate::problem_responses), the
//! one way the services declare their `application/problem+json` error answers.
//!
//! The schemas are written by hand because the values serialize by hand (hex, RFC 3339, the
//! address grammar): a derive would describe their Rust fields, not their JSON.

use std::borrow::Cow;

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{Content, Ref, RefOr, Response, ResponseBuilder, Schema, header::HeaderBuilder};
use utoipa::{PartialSchema, ToSchema};

pub use utoipa;

use crate::{Address, AssetCode, Condition, ErrorCode, Fulfillment, Timestamp};

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Pattern of 32 bytes as lower-case hex, the form every service writes.
pub const HEX32_PATTERN: &str = "^[0-9a-f]{64}$";

fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

/// A schema of 32 bytes as lower-case hex (hash locks, and the chain's ids and hashes).
pub fn hex32(description: &str, example: &str) -> RefOr<Schema> {
    string(description)
        .pattern(Some(HEX32_PATTERN))
        .examples([example])
        .into()
}

impl PartialSchema for Condition {
    fn schema() -> RefOr<Schema> {
        hex32(
            "A hash lock: the SHA-256 of a fulfillment, 32 bytes as lower-case hex.",
            "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925",
        )
    }
}

impl ToSchema for Condition {}

impl PartialSchema for Fulfillment {
    fn schema() -> RefOr<Schema> {
        hex32(
            "The preimage of a condition, 32 bytes as lower-case hex.",
            "0000000000000000000000000000000000000000000000000000000000000000",
        )
    }
}

impl ToSchema for Fulfillment {}

impl PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        string("An instant, RFC 3339, in milliseconds.")
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .examples(["2026-11-21T10:00:00.000Z"])
            .into()
    }
}

impl ToSchema for Timestamp {}

impl PartialSchema for AssetCode {
    fn schema() -> RefOr<Schema> {
        string("An asset code: 1 to 32 characters of A-Z a-z 0-9 / : . _ -")
            .pattern(Some("^[A-Za-z0-9/:._-]{1,32}$"))
            .examples(["DC/EP"])
            .into()
    }
}

impl ToSchema for AssetCode {}

impl PartialSchema for Address {
    fn schema() -> RefOr<Schema> {
        string(
            "An ILP address (RFC 15): a scheme, then one or more dot-separated segments of \
             A-Z a-z 0-9 _ ~ -, at most 1023 bytes.",
        )
        .pattern(Some(
            "^(g|private|example|peer|self|test|test1|test2|test3|local)(\\.[A-Za-z0-9_~-]+)+$",
        ))
        .max_length(Some(crate::address::MAX_ADDRESS_LEN))
        .examples(["test.ecny.bank-b"])
        .into()
    }
}

impl ToSchema for Address {}

impl PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        string("An ILPv4 error code (RFC 27): F, T or R and two digits.")
            .pattern(Some("^[FTR][0-9]{2}$"))
            .examples(["F02"])
            .into()
    }
}

impl ToSchema for ErrorCode {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("IlpErrorCode")
    }
}

/// An error answer: `description`, with a body of the document's `Problem` schema as
/// `application/problem+json`. Every document that uses it has a component named `Problem`.
pub fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, Content::new(Some(Ref::from_schema_name("Problem"))))
        .build()
}

/// [`problem`] with the `Retry-After` header (whole seconds) a client must wait.
pub fn problem_with_retry_after(description: &str) -> Response {
    let mut response = problem(description);
    response.headers.insert(
        "Retry-After".to_owned(),
        RefOr::T(
            HeaderBuilder::new()
                .schema(Some(u64::schema()))
                .description(Some("Seconds to wait before retrying (at least 1)"))
                .build(),
        ),
    );
    response
}

/// Declares problem+json answers, one type per status and meaning, for the `responses(...)` of
/// `#[utoipa::path]`, where they sit next to the success answers:
/// `responses((status = 200, body = Transfer), Malformed, Unauthorized, UnknownTransfer)`.
///
/// ```
/// htlc::problem_responses! {
///     /// A request that does not parse.
///     pub Malformed = 400, "`malformed`: the request does not parse";
///     /// Too many requests.
///     pub RateLimited = 429 with Retry-After, "`rate_limited`: wait and retry";
/// }
/// ```
#[macro_export]
macro_rules! problem_responses {
    () => {};
    (
        $(#[$meta:meta])* $vis:vis $name:ident = $status:literal with Retry-After, $description:expr;
        $($rest:tt)*
    ) => {
        $crate::problem_responses!(@one [$(#[$meta])*] $vis $name, $status,
            $crate::openapi::problem_with_retry_after($description));
        $crate::problem_responses!($($rest)*);
    };
    (
        $(#[$meta:meta])* $vis:vis $name:ident = $status:literal, $description:expr;
        $($rest:tt)*
    ) => {
        $crate::problem_responses!(@one [$(#[$meta])*] $vis $name, $status,
            $crate::openapi::problem($description));
        $crate::problem_responses!($($rest)*);
    };
    (@one [$(#[$meta:meta])*] $vis:vis $name:ident, $status:literal, $response:expr) => {
        $(#[$meta])*
        $vis struct $name;

        impl $crate::openapi::utoipa::IntoResponses for $name {
            fn responses() -> ::std::collections::BTreeMap<
                ::std::string::String,
                $crate::openapi::utoipa::openapi::RefOr<$crate::openapi::utoipa::openapi::Response>,
            > {
                ::std::collections::BTreeMap::from([(
                    ::std::string::ToString::to_string(&$status),
                    $response.into(),
                )])
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use utoipa::IntoResponses;

    use super::*;

    crate::problem_responses! {
        /// Test.
        Malformed = 400, "malformed";
        /// Test.
        Limited = 429 with Retry-After, "rate_limited";
    }

    fn json(value: &impl serde::Serialize) -> serde_json::Value {
        serde_json::to_value(value).unwrap()
    }

    #[test]
    fn problem_responses_are_problem_json_with_their_status_and_headers() {
        let malformed = json(&Malformed::responses());
        assert_eq!(malformed["400"]["description"], "malformed");
        assert_eq!(
            malformed["400"]["content"][PROBLEM_JSON]["schema"]["$ref"],
            "#/components/schemas/Problem"
        );
        let limited = json(&Limited::responses());
        assert!(limited["429"]["headers"]["Retry-After"].is_object());
    }

    #[test]
    fn value_schemas_admit_what_the_values_write() {
        let condition = json(&Condition::schema());
        let hex = Condition::from_bytes([0xab; 32]).to_hex();
        assert_eq!(condition["pattern"], HEX32_PATTERN);
        assert!(
            hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_eq!(json(&Timestamp::schema())["format"], "date-time");
        assert_eq!(json(&ErrorCode::schema())["pattern"], "^[FTR][0-9]{2}$");
    }
}
