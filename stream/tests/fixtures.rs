//! The published vectors: every STREAM packet fixture of RFC 29's test vectors (decode to the
//! fields, encode back to the bytes), the STREAM crypto vector (shared secret "foo"), and the
//! RFC 39 receipt inside the StreamReceipt fixture.

use base64::Engine as _;
use htlc::{Address, PacketType};
use serde_json::Value;
use stream::{ErrorCode, Frame, Receipt, StreamKeys, StreamPacket};

fn b64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(text).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn fixtures() -> Vec<Value> {
    let path = format!(
        "{}/../fixtures/vectors/ilp/StreamPacketFixtures.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn num(v: &Value) -> u64 {
    v.as_str().unwrap().parse().unwrap()
}

fn small(v: &Value) -> u8 {
    u8::try_from(v.as_u64().unwrap()).unwrap()
}

fn text(v: &Value) -> String {
    v.as_str().unwrap().to_owned()
}

/// The fixture's JSON frame as our type.
fn frame(f: &Value) -> Frame {
    match f["name"].as_str().unwrap() {
        "ConnectionClose" => Frame::ConnectionClose {
            code: ErrorCode(small(&f["errorCode"])),
            message: text(&f["errorMessage"]),
        },
        "ConnectionNewAddress" => Frame::ConnectionNewAddress {
            source_account: Address::new(text(&f["sourceAccount"])).unwrap(),
        },
        "ConnectionAssetDetails" => Frame::ConnectionAssetDetails {
            source_asset_code: text(&f["sourceAssetCode"]),
            source_asset_scale: small(&f["sourceAssetScale"]),
        },
        "ConnectionMaxData" => Frame::ConnectionMaxData {
            max_offset: num(&f["maxOffset"]),
        },
        "ConnectionDataBlocked" => Frame::ConnectionDataBlocked {
            max_offset: num(&f["maxOffset"]),
        },
        "ConnectionMaxStreamId" => Frame::ConnectionMaxStreamId {
            max_stream_id: num(&f["maxStreamId"]),
        },
        "ConnectionStreamIdBlocked" => Frame::ConnectionStreamIdBlocked {
            max_stream_id: num(&f["maxStreamId"]),
        },
        "StreamClose" => Frame::StreamClose {
            stream_id: num(&f["streamId"]),
            code: ErrorCode(small(&f["errorCode"])),
            message: text(&f["errorMessage"]),
        },
        "StreamMoney" => Frame::StreamMoney {
            stream_id: num(&f["streamId"]),
            shares: num(&f["shares"]),
        },
        "StreamMaxMoney" => Frame::StreamMaxMoney {
            stream_id: num(&f["streamId"]),
            receive_max: num(&f["receiveMax"]),
            total_received: num(&f["totalReceived"]),
        },
        "StreamMoneyBlocked" => Frame::StreamMoneyBlocked {
            stream_id: num(&f["streamId"]),
            send_max: num(&f["sendMax"]),
            total_sent: num(&f["totalSent"]),
        },
        "StreamData" => Frame::StreamData {
            stream_id: num(&f["streamId"]),
            offset: num(&f["offset"]),
            data: b64(f["data"].as_str().unwrap()),
        },
        "StreamMaxData" => Frame::StreamMaxData {
            stream_id: num(&f["streamId"]),
            max_offset: num(&f["maxOffset"]),
        },
        "StreamDataBlocked" => Frame::StreamDataBlocked {
            stream_id: num(&f["streamId"]),
            max_offset: num(&f["maxOffset"]),
        },
        "StreamReceipt" => Frame::StreamReceipt {
            stream_id: num(&f["streamId"]),
            receipt: b64(f["receipt"].as_str().unwrap()),
        },
        other => panic!("fixture frame {other} has no mapping"),
    }
}

#[test]
fn every_packet_fixture_decodes_to_its_fields_and_encodes_to_its_bytes() {
    let all = fixtures();
    assert_eq!(all.len(), 53, "the published file has 53 fixtures");
    let mut frame_types = std::collections::BTreeSet::new();
    for fixture in &all {
        let name = fixture["name"].as_str().unwrap();
        let p = &fixture["packet"];
        let expected = StreamPacket {
            ilp_packet_type: PacketType::from_byte(small(&p["packetType"])).unwrap(),
            sequence: num(&p["sequence"]),
            prepare_amount: num(&p["amount"]),
            frames: p["frames"].as_array().unwrap().iter().map(frame).collect(),
        };
        let bytes = b64(fixture["buffer"].as_str().unwrap());
        assert_eq!(
            StreamPacket::decode(&bytes),
            Ok(expected.clone()),
            "{name} decodes"
        );
        if fixture["decode_only"].as_bool() != Some(true) {
            assert_eq!(expected.encode(), bytes, "{name} encodes");
            assert_eq!(expected.encoded_len(), bytes.len(), "{name} length");
        }
        frame_types.extend(expected.frames.iter().map(Frame::frame_type));
    }
    assert_eq!(frame_types.len(), 15, "every frame type is covered");
}

#[test]
fn the_receipt_in_the_fixture_verifies_under_its_all_zero_secret() {
    let all = fixtures();
    let fixture = all.iter().find(|f| f["name"] == "frame:stream_receipt").unwrap();
    let receipt = b64(fixture["packet"]["frames"][0]["receipt"].as_str().unwrap());
    let decoded = Receipt::verify(&receipt, &[0; 32]).unwrap();
    assert_eq!(
        decoded,
        Receipt {
            nonce: [0; 16],
            stream_id: 1,
            total_received: 500
        }
    );
    assert_eq!(decoded.sign(&[0; 32]).to_vec(), receipt);
}

#[test]
fn crypto_vector_for_the_shared_secret_foo() {
    // The vectors README: encryption key = HMAC-SHA256("foo", "ilp_stream_encryption").
    let key = htlc::condition::stream_encryption_key(b"foo");
    assert_eq!(key.to_vec(), b64("zfOGMU/uY+EOUCE6tN3WhE77bF/N6pS0wSOmMgEAMEA="));
    let keys = StreamKeys::from_shared_secret(b"foo");
    let packet = StreamPacket {
        ilp_packet_type: PacketType::Prepare,
        sequence: 1,
        prepare_amount: 10,
        frames: vec![Frame::StreamMoney {
            stream_id: 1,
            shares: 1,
        }],
    };
    let sealed = keys.encrypt_with_nonce([3; 12], &packet.encode()).unwrap();
    assert_eq!(&sealed[..12], &[3; 12], "nonce first");
    assert_eq!(
        sealed.len(),
        28 + packet.encoded_len(),
        "nonce | tag | ciphertext"
    );
    assert_eq!(keys.open(&sealed, PacketType::Prepare), Ok(packet));
    // The same nonce, key and plaintext through an independent AES-256-GCM (Python's
    // `cryptography`), rearranged to nonce | tag | ciphertext.
    assert_eq!(
        hex(&sealed),
        "030303030303030303030303c8e593ac4b11b8d5942514f9f5b1fbef09ad1ee979e33b4da9282b1ebef2"
    );
    // Fulfillment as the README gives it: HMAC(HMAC(secret, "ilp_stream_fulfillment"), data).
    let expected = htlc::FulfillmentKey::from_shared_secret(b"foo").fulfillment(&sealed);
    assert_eq!(keys.fulfillment(&sealed), expected);
    assert!(keys.condition(&sealed).is_fulfilled_by(&expected));
}
