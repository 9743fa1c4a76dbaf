//! `cypherlink packet decode|encode`: ILPv4 packets between hex and JSON, for debugging what
//! crosses the wire. The JSON uses the field names of RFC 27 and the `ilp-packet` library;
//! amounts are decimal strings (they may exceed 2^53), conditions and fulfillments are hex,
//! data is base64, times are RFC 3339.

use std::io::Read;

use anyhow::Context;
use base64::Engine as _;
use clap::Subcommand;
use htlc::{
    Address, AmountTooLarge, Condition, ErrorCode, Fulfill, Fulfillment, Packet, Prepare, Reject, Timestamp,
};
use serde::{Deserialize, Serialize};

use super::InputError;

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// `cypherlink packet ...`
#[derive(Debug, Subcommand)]
pub(crate) enum PacketCommand {
    /// Print a hex-encoded packet as JSON.
    ///
    /// Example: cypherlink packet decode 0e2b4630380e746573742e...
    Decode {
        /// The packet in hex (spaces and a leading 0x are ignored). Reads stdin if omitted.
        hex: Option<String>,
    },
    /// Read a packet as JSON on stdin and print it in hex.
    ///
    /// Prepare: {"type":"prepare","amount":"107","expiresAt":"2017-12-23T01:21:40.549Z",
    /// "executionCondition":"<64 hex>","destination":"example.alice","data":"<base64>"}.
    /// Fulfill: {"type":"fulfill","fulfillment":"<64 hex>","data":"<base64>"}.
    /// Reject: {"type":"reject","code":"F08","triggeredBy":"test.connector","message":"too big",
    /// "data":"<base64>"}. For F08, "amountTooLarge":{"received":"7","maximum":"5"} may replace data
    /// or, as decode prints it, stand beside data when it agrees with data's first 16 bytes.
    Encode,
}

/// Runs a `packet` subcommand.
pub(crate) fn run(command: PacketCommand) -> anyhow::Result<()> {
    match command {
        PacketCommand::Decode { hex } => {
            let text = match hex {
                Some(text) => text,
                None => read_stdin()?,
            };
            let json = decode_to_json(&text)?;
            super::print_line(&serde_json::to_string_pretty(&json)?)?;
        }
        PacketCommand::Encode => {
            let text = read_stdin()?;
            super::print_line(&encode_from_json(&text)?)?;
        }
    }
    Ok(())
}

fn read_stdin() -> anyhow::Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("reading stdin")?;
    Ok(text)
}

/// A packet in its JSON form.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "camelCase")]
pub(crate) enum PacketJson {
    /// ILP Prepare.
    #[serde(rename_all = "camelCase")]
    Prepare {
        amount: AmountText,
        expires_at: Timestamp,
        execution_condition: Condition,
        destination: Address,
        #[serde(default)]
        data: String,
    },
    /// ILP Fulfill.
    #[serde(rename_all = "camelCase")]
    Fulfill {
        fulfillment: String,
        #[serde(default)]
        data: String,
    },
    /// ILP Reject.
    #[serde(rename_all = "camelCase")]
    Reject {
        code: ErrorCode,
        /// RFC 27 name of the code (output only; ignored on input).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default)]
        triggered_by: Option<Address>,
        #[serde(default)]
        message: String,
        #[serde(default)]
        data: String,
        /// F08 details, decoded from (or encoded into) the data.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount_too_large: Option<AmountTooLargeJson>,
    },
}

/// A u64 written as a decimal string (or, on input, a JSON number).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum AmountText {
    /// `"107"`
    #[serde(with = "u64_string")]
    Text(u64),
    /// `107`
    Number(u64),
}

impl AmountText {
    fn value(self) -> u64 {
        match self {
            AmountText::Text(v) | AmountText::Number(v) => v,
        }
    }
}

/// F08 data in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct AmountTooLargeJson {
    received: AmountText,
    maximum: AmountText,
}

mod u64_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_string())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(|_| serde::de::Error::custom("expected an unsigned 64-bit integer"))
    }
}

fn to_json(packet: &Packet) -> PacketJson {
    match packet {
        Packet::Prepare(p) => PacketJson::Prepare {
            amount: AmountText::Text(p.amount()),
            expires_at: p.expires_at(),
            execution_condition: *p.execution_condition(),
            destination: p.destination().clone(),
            data: BASE64.encode(p.data()),
        },
        Packet::Fulfill(f) => PacketJson::Fulfill {
            fulfillment: f.fulfillment().to_hex(),
            data: BASE64.encode(f.data()),
        },
        Packet::Reject(r) => PacketJson::Reject {
            code: r.code(),
            name: Some(r.code().name().to_owned()),
            triggered_by: r.triggered_by().cloned(),
            message: r.message().to_owned(),
            data: BASE64.encode(r.data()),
            amount_too_large: r.amount_too_large_details().map(|d| AmountTooLargeJson {
                received: AmountText::Text(d.received),
                maximum: AmountText::Text(d.maximum),
            }),
        },
    }
}

fn base64_field(name: &str, text: &str) -> Result<Vec<u8>, InputError> {
    BASE64
        .decode(text.trim())
        .map_err(|e| InputError(format!("{name} is not valid base64: {e}")))
}

fn from_json(json: PacketJson) -> Result<Packet, InputError> {
    let packet_error = |e: htlc::PacketError| InputError(e.to_string());
    Ok(match json {
        PacketJson::Prepare {
            amount,
            expires_at,
            execution_condition,
            destination,
            data,
        } => Prepare::new(
            destination,
            amount.value(),
            expires_at,
            execution_condition,
            base64_field("data", &data)?,
        )
        .map_err(packet_error)?
        .into(),
        PacketJson::Fulfill { fulfillment, data } => {
            let fulfillment =
                Fulfillment::from_hex(&fulfillment).map_err(|e| InputError(format!("fulfillment: {e}")))?;
            Fulfill::new(fulfillment, base64_field("data", &data)?)
                .map_err(packet_error)?
                .into()
        }
        PacketJson::Reject {
            code,
            triggered_by,
            message,
            data,
            amount_too_large,
            ..
        } => {
            let data = reject_data(code, &data, amount_too_large)?;
            Reject::new(code, triggered_by, message, data)
                .map_err(packet_error)?
                .into()
        }
    })
}

/// A Reject's data from its JSON form. `data` is the packet's bytes and wins; `amountTooLarge`
/// is the F08 reading of its first 16 bytes, which `decode` prints beside it. Given alone it
/// builds the data; given with data it must agree with it, so the printed form of any packet
/// re-encodes to the same bytes and a contradiction is refused rather than silently dropped.
fn reject_data(
    code: ErrorCode,
    data: &str,
    amount_too_large: Option<AmountTooLargeJson>,
) -> Result<Vec<u8>, InputError> {
    let bytes = base64_field("data", data)?;
    let Some(details) = amount_too_large else {
        return Ok(bytes);
    };
    if code != ErrorCode::F08_AMOUNT_TOO_LARGE {
        return Err(InputError(format!(
            "amountTooLarge is only for F08 rejects, not {}",
            code.as_str()
        )));
    }
    let details = AmountTooLarge {
        received: details.received.value(),
        maximum: details.maximum.value(),
    };
    if bytes.is_empty() {
        return Ok(details.encode().to_vec());
    }
    match AmountTooLarge::decode(&bytes) {
        Ok(in_data) if in_data == details => Ok(bytes),
        Ok(in_data) => Err(InputError(format!(
            "amountTooLarge (received {}, maximum {}) disagrees with data (received {}, maximum {})",
            details.received, details.maximum, in_data.received, in_data.maximum
        ))),
        Err(_) => Err(InputError(format!(
            "amountTooLarge given but data is {} bytes, fewer than its 16",
            bytes.len()
        ))),
    }
}

/// Hex text to the packet's JSON form.
pub(crate) fn decode_to_json(hex_text: &str) -> anyhow::Result<PacketJson> {
    let cleaned: String = hex_text.split_whitespace().collect();
    let cleaned = cleaned.strip_prefix("0x").unwrap_or(&cleaned);
    let bytes = hex::decode(cleaned).map_err(|e| InputError(format!("not valid hex: {e}")))?;
    let packet = Packet::decode(&bytes).map_err(|e| InputError(format!("not a valid ILP packet: {e}")))?;
    Ok(to_json(&packet))
}

/// JSON text to the packet's hex form.
pub(crate) fn encode_from_json(json_text: &str) -> anyhow::Result<String> {
    let json: PacketJson =
        serde_json::from_str(json_text).map_err(|e| InputError(format!("invalid packet JSON: {e}")))?;
    Ok(hex::encode(from_json(json)?.encode()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREPARE_HEX: &str = "0c68000000000000006b323031373132323330313231343035343974e1136dc71c9e5f283bec83461cbf1261c4014f72d48f8dd65453a0b84e7de10d6578616d706c652e616c696365205db343fdc41898f6df4202329139dc242dd0f558a811b46b28918fdab37c6cb0";

    #[test]
    fn prepare_round_trips_through_json() {
        let json = decode_to_json(PREPARE_HEX).unwrap();
        let text = serde_json::to_string(&json).unwrap();
        assert!(text.contains(r#""amount":"107""#), "{text}");
        assert!(
            text.contains(r#""expiresAt":"2017-12-23T01:21:40.549Z""#),
            "{text}"
        );
        assert!(text.contains(r#""destination":"example.alice""#), "{text}");
        assert_eq!(encode_from_json(&text).unwrap(), PREPARE_HEX);
    }

    #[test]
    fn f08_details_are_shown_and_accepted() {
        let hex = encode_from_json(
            r#"{"type":"reject","code":"F08","triggeredBy":"test.connector","message":"too big",
                "amountTooLarge":{"received":"7","maximum":5}}"#,
        )
        .unwrap();
        let json = decode_to_json(&hex).unwrap();
        let text = serde_json::to_string(&json).unwrap();
        assert!(text.contains(r#""name":"Amount Too Large""#), "{text}");
        assert!(
            text.contains(r#""amountTooLarge":{"received":"7","maximum":"5"}"#),
            "{text}"
        );
    }

    /// The F08 reject from the vectors README (received 7, maximum 5), canonical: the published
    /// hex has one stray 0x00 inside the maximum, after the envelope's end (see htlc's tests).
    const F08_HEX: &str =
        "0e2b4630380e746573742e636f6e6e6563746f7207746f6f206269671000000000000000070000000000000005";

    #[test]
    fn f08_reject_decodes_then_encodes_to_the_same_bytes() {
        // Issue 23: decode printed both data and amountTooLarge, and encode refused its own output.
        let json = decode_to_json(F08_HEX).unwrap();
        let text = serde_json::to_string_pretty(&json).unwrap();
        assert!(text.contains(r#""data": "AAAAAAAAAAcAAAAAAAAABQ==""#), "{text}");
        assert!(text.contains(r#""received": "7""#), "{text}");
        assert!(text.contains(r#""maximum": "5""#), "{text}");
        assert_eq!(encode_from_json(&text).unwrap(), F08_HEX);
        // The published form (46 bytes, one ignored after the envelope) is accepted too and
        // encodes to its canonical 45 bytes, which are then stable.
        let published =
            "0e2b4630380e746573742e636f6e6e6563746f7207746f6f20626967100000000000000007000000000000000005";
        let text = serde_json::to_string(&decode_to_json(published).unwrap()).unwrap();
        let canonical = encode_from_json(&text).unwrap();
        assert_eq!(canonical, &published[..90]);
        let again = serde_json::to_string(&decode_to_json(&canonical).unwrap()).unwrap();
        assert_eq!(encode_from_json(&again).unwrap(), canonical);
    }

    #[test]
    fn amount_too_large_that_contradicts_data_is_refused() {
        let json = |details: &str, data: &str| {
            format!(
                r#"{{"type":"reject","code":"F08","message":"m","data":"{data}","amountTooLarge":{details}}}"#
            )
        };
        let agreeing = r#"{"received":"7","maximum":"5"}"#;
        let err = encode_from_json(&json(
            r#"{"received":"7","maximum":"6"}"#,
            "AAAAAAAAAAcAAAAAAAAABQ==",
        ))
        .unwrap_err();
        assert!(err.to_string().contains("disagrees with data"), "{err}");
        let err = encode_from_json(&json(agreeing, "AAAA")).unwrap_err();
        assert!(err.to_string().contains("fewer than its 16"), "{err}");
        let err = encode_from_json(&json(agreeing, "").replace("F08", "F99")).unwrap_err();
        assert!(err.to_string().contains("only for F08"), "{err}");
        assert!(err.is::<InputError>(), "{err}");
    }

    proptest::proptest! {
        /// Every valid packet, F08 rejects with arbitrary data included, prints as JSON that
        /// encodes back to the same bytes.
        #[test]
        fn printed_json_re_encodes_to_the_same_bytes(p in htlc::packet::arb::packet()) {
            let bytes = hex::encode(p.encode());
            let text = serde_json::to_string_pretty(&decode_to_json(&bytes).unwrap()).unwrap();
            proptest::prop_assert_eq!(encode_from_json(&text).unwrap(), bytes);
        }
    }

    #[test]
    fn bad_input_is_an_input_error() {
        for bad in ["zz", "0c01", "ff00"] {
            let err = decode_to_json(bad).unwrap_err();
            assert!(err.is::<InputError>(), "{bad}: {err}");
        }
        let err = encode_from_json(r#"{"type":"fulfill","fulfillment":"00"}"#).unwrap_err();
        assert!(err.is::<InputError>(), "{err}");
        let err = encode_from_json(r#"{"type":"prepare"}"#).unwrap_err();
        assert!(err.is::<InputError>(), "{err}");
    }
}
