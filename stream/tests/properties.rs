//! Properties and bad input: decode inverts encode for any packet, canonical bytes re-encode
//! exactly, unknown frames are skipped, every malformed input gets its specific error, sealed
//! packets open only with their secret and their ILP type, and ILDCP round-trips.

use htlc::packet::arb;
use htlc::{Fulfill, Fulfillment, PacketType, Timestamp};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use stream::{ErrorCode, Frame, IldcpResponse, StreamError, StreamKeys, StreamPacket, ildcp};

fn arb_frame() -> impl Strategy<Value = Frame> {
    let id = any::<u64>;
    prop_oneof![
        (any::<u8>(), ".{0,20}").prop_map(|(c, message)| Frame::ConnectionClose {
            code: ErrorCode(c),
            message
        }),
        arb::address().prop_map(|source_account| Frame::ConnectionNewAddress { source_account }),
        (".{0,8}", any::<u8>()).prop_map(|(source_asset_code, source_asset_scale)| {
            Frame::ConnectionAssetDetails {
                source_asset_code,
                source_asset_scale,
            }
        }),
        id().prop_map(|max_offset| Frame::ConnectionMaxData { max_offset }),
        id().prop_map(|max_offset| Frame::ConnectionDataBlocked { max_offset }),
        id().prop_map(|max_stream_id| Frame::ConnectionMaxStreamId { max_stream_id }),
        id().prop_map(|max_stream_id| Frame::ConnectionStreamIdBlocked { max_stream_id }),
        (id(), any::<u8>(), ".{0,20}").prop_map(|(stream_id, c, message)| Frame::StreamClose {
            stream_id,
            code: ErrorCode(c),
            message
        }),
        (id(), id()).prop_map(|(stream_id, shares)| Frame::StreamMoney { stream_id, shares }),
        (id(), id(), id()).prop_map(|(stream_id, receive_max, total_received)| {
            Frame::StreamMaxMoney {
                stream_id,
                receive_max,
                total_received,
            }
        }),
        (id(), id(), id()).prop_map(|(stream_id, send_max, total_sent)| Frame::StreamMoneyBlocked {
            stream_id,
            send_max,
            total_sent
        }),
        (id(), id(), arb::data()).prop_map(|(stream_id, offset, data)| Frame::StreamData {
            stream_id,
            offset,
            data
        }),
        (id(), id()).prop_map(|(stream_id, max_offset)| Frame::StreamMaxData {
            stream_id,
            max_offset
        }),
        (id(), id()).prop_map(|(stream_id, max_offset)| Frame::StreamDataBlocked {
            stream_id,
            max_offset
        }),
        (id(), proptest::collection::vec(any::<u8>(), 0..80))
            .prop_map(|(stream_id, receipt)| Frame::StreamReceipt { stream_id, receipt }),
    ]
}

fn arb_packet() -> impl Strategy<Value = StreamPacket> {
    (
        proptest::sample::select(vec![PacketType::Prepare, PacketType::Fulfill, PacketType::Reject]),
        any::<u64>(),
        any::<u64>(),
        proptest::collection::vec(arb_frame(), 0..6),
    )
        .prop_map(
            |(ilp_packet_type, sequence, prepare_amount, frames)| StreamPacket {
                ilp_packet_type,
                sequence,
                prepare_amount,
                frames,
            },
        )
}

proptest! {
    #[test]
    fn decode_inverts_encode(p in arb_packet()) {
        let bytes = p.encode();
        prop_assert_eq!(bytes.len(), p.encoded_len());
        prop_assert_eq!(StreamPacket::decode(&bytes), Ok(p));
    }

    #[test]
    fn valid_bytes_re_encode_exactly(bytes in arb_packet().prop_map(|p| p.encode()), at in any::<usize>(), byte in any::<u8>()) {
        // Canonical bytes re-encode exactly; whatever a one-byte change still decodes to
        // re-encodes to bytes that decode to the same packet.
        prop_assert_eq!(StreamPacket::decode(&bytes).unwrap().encode(), bytes.clone());
        let mut changed = bytes;
        let at = at % changed.len();
        changed[at] = byte;
        if let Ok(p) = StreamPacket::decode(&changed) {
            let again = p.encode();
            prop_assert_eq!(StreamPacket::decode(&again), Ok(p));
        }
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = StreamPacket::decode(&bytes);
    }

    #[test]
    fn sealed_packets_open_only_with_their_secret(p in arb_packet(), seed in any::<u64>(), flip in any::<usize>()) {
        let keys = StreamKeys::from_shared_secret(&[1; 32]);
        let sealed = keys.seal(&mut StdRng::seed_from_u64(seed), &p).unwrap();
        prop_assert_eq!(keys.open(&sealed, p.ilp_packet_type), Ok(p.clone()));
        let other = StreamKeys::from_shared_secret(&[2; 32]);
        prop_assert_eq!(other.open(&sealed, p.ilp_packet_type), Err(StreamError::DecryptionFailed));
        let mut changed = sealed;
        let at = flip % changed.len();
        changed[at] ^= 0x01;
        prop_assert_eq!(keys.decrypt(&changed), Err(StreamError::DecryptionFailed));
    }
}

fn money(frames: Vec<Frame>) -> StreamPacket {
    StreamPacket {
        ilp_packet_type: PacketType::Prepare,
        sequence: 1,
        prepare_amount: 5,
        frames,
    }
}

#[test]
fn unknown_frames_are_skipped_and_junk_after_the_frames_ignored() {
    let known = Frame::StreamMoney {
        stream_id: 1,
        shares: 2,
    };
    // count 3: an unknown type 0x42 with 3 bytes, the known frame, an unknown 0xff with none.
    let mut bytes = vec![1, 12, 1, 1, 1, 5, 1, 3, 0x42, 3, 9, 9, 9];
    bytes.extend_from_slice(&money(vec![known.clone()]).encode()[8..]);
    bytes.extend_from_slice(&[0xff, 0]);
    bytes.extend_from_slice(&[0, 0, 0]); // zero padding
    assert_eq!(StreamPacket::decode(&bytes), Ok(money(vec![known])));
}

#[test]
fn every_malformed_input_gets_a_specific_error() {
    let good = money(vec![Frame::StreamMoney {
        stream_id: 1,
        shares: 1,
    }])
    .encode();
    let with = |at: usize, byte: u8| {
        let mut b = good.clone();
        b[at] = byte;
        StreamPacket::decode(&b)
    };
    assert_eq!(with(0, 2), Err(StreamError::UnsupportedVersion { found: 2 }));
    assert_eq!(with(1, 15), Err(StreamError::BadPacketType { found: 15 }));
    assert!(matches!(
        StreamPacket::decode(&good[..good.len() - 1]),
        Err(StreamError::Truncated { .. })
    ));
    assert!(matches!(
        StreamPacket::decode(&[]),
        Err(StreamError::Truncated { field: "version", .. })
    ));
    // A frame count that lies.
    assert!(matches!(
        with(7, 9),
        Err(StreamError::Truncated {
            field: "frame type",
            ..
        })
    ));
    // A frame length that lies.
    assert!(matches!(
        with(9, 100),
        Err(StreamError::Truncated {
            field: "frame contents",
            needed: 100,
            ..
        })
    ));
    // A frame longer than its fields.
    let mut long = good.clone();
    long[9] = 5;
    long.push(0);
    assert_eq!(
        StreamPacket::decode(&long),
        Err(StreamError::TrailingFrameBytes {
            frame_type: 0x11,
            extra: 1
        })
    );
    // VarUInts: empty, leading zero, over 8 bytes (not a saturating field).
    assert_eq!(
        StreamPacket::decode(&[1, 12, 0]),
        Err(StreamError::NonCanonicalVarUInt { field: "sequence" })
    );
    assert_eq!(
        StreamPacket::decode(&[1, 12, 2, 0, 1]),
        Err(StreamError::NonCanonicalVarUInt { field: "sequence" })
    );
    let mut nine = vec![1, 12, 9, 1];
    nine.extend_from_slice(&[0; 8]);
    assert_eq!(
        StreamPacket::decode(&nine),
        Err(StreamError::VarUIntTooLarge {
            field: "sequence",
            len: 9
        })
    );
    // Length prefixes: long form for a short length, indefinite form.
    assert_eq!(
        StreamPacket::decode(&[1, 12, 0x81, 1, 7]),
        Err(StreamError::NonCanonicalLength { field: "sequence" })
    );
    assert_eq!(
        StreamPacket::decode(&[1, 12, 0x80]),
        Err(StreamError::BadLengthPrefix {
            field: "sequence",
            byte: 0x80
        })
    );
    // Bad text and bad addresses inside frames.
    let close = money(vec![Frame::ConnectionClose {
        code: ErrorCode::NO_ERROR,
        message: "ab".into(),
    }])
    .encode();
    let mut bad_utf8 = close.clone();
    let last = bad_utf8.len() - 1;
    bad_utf8[last] = 0xff;
    assert_eq!(
        StreamPacket::decode(&bad_utf8),
        Err(StreamError::InvalidUtf8 {
            field: "error message"
        })
    );
    let address = [1, 12, 1, 1, 1, 5, 1, 1, 2, 4, 3, b'x', b'.', b'y'];
    assert!(matches!(
        StreamPacket::decode(&address),
        Err(StreamError::BadAddress {
            field: "source account",
            ..
        })
    ));
    // The wrong ILP packet type, and data too short to be encrypted.
    assert_eq!(
        StreamPacket::decode_for(&good, PacketType::Fulfill),
        Err(StreamError::WrongPacketType {
            expected: 13,
            found: 12
        })
    );
    let keys = StreamKeys::from_shared_secret(b"s");
    assert_eq!(
        keys.decrypt(&[0; 27]),
        Err(StreamError::TooShortToDecrypt { len: 27 })
    );
    let big = vec![0u8; 32_767 - 27];
    assert_eq!(
        keys.encrypt_with_nonce([0; 12], &big),
        Err(StreamError::TooLarge {
            len: 32_768,
            max: 32_767
        })
    );
}

#[test]
fn ildcp_request_and_response() {
    let expires = Timestamp::parse_rfc3339("2026-01-01T00:00:00.000Z").unwrap();
    let request = ildcp::request(expires);
    assert_eq!(request.destination().as_str(), "peer.config");
    assert_eq!(request.amount(), 0);
    assert!(request.data().is_empty());
    assert_eq!(
        request.execution_condition().as_bytes().to_vec(),
        base64_decode("Zmh6rfhivXdsj8GLjp+OIAiXFIVu4jOzkCpZHQ1fKSU=")
    );
    assert_eq!(ildcp::check_request(&request), Ok(()));
    let elsewhere = htlc::Prepare::new(
        htlc::Address::new("peer.route.control").unwrap(),
        0,
        expires,
        ildcp::condition(),
        vec![],
    )
    .unwrap();
    assert!(matches!(
        ildcp::check_request(&elsewhere),
        Err(StreamError::NotIldcpRequest { .. })
    ));

    let response = IldcpResponse {
        client_address: htlc::Address::new("g.bank-a.child").unwrap(),
        asset_scale: 9,
        asset_code: "XRP".into(),
    };
    let data = response.encode();
    assert_eq!(data, b"\x0eg.bank-a.child\x09\x03XRP");
    let fulfill = response.to_fulfill().unwrap();
    assert_eq!(IldcpResponse::from_fulfill(&fulfill), Ok(response));
    let wrong = Fulfill::new(Fulfillment::from_bytes([1; 32]), data.clone()).unwrap();
    assert_eq!(
        IldcpResponse::from_fulfill(&wrong),
        Err(StreamError::NotIldcpResponse)
    );
    let mut long = data.clone();
    long.push(0);
    assert_eq!(
        IldcpResponse::decode(&long),
        Err(StreamError::TrailingBytes {
            what: "ILDCP response",
            extra: 1
        })
    );
    assert!(matches!(
        IldcpResponse::decode(&data[..5]),
        Err(StreamError::Truncated { .. })
    ));
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).unwrap()
}
