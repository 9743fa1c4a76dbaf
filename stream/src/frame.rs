//! STREAM frames (RFC 29 §5.3): each is `type: u8 | contents: var octets`. Known frames must
//! use their contents exactly; frames of unknown types are skipped (RFC 29: "Implementations
//! MUST ignore frames with unknown types") so newer peers can add frames.

use htlc::Address;

use crate::error::StreamError;
use crate::error_code::ErrorCode;
use crate::oer::{self, Reader};

/// The frame type bytes of RFC 29 §5.3.
pub mod frame_type {
    /// ConnectionClose.
    pub const CONNECTION_CLOSE: u8 = 0x01;
    /// ConnectionNewAddress.
    pub const CONNECTION_NEW_ADDRESS: u8 = 0x02;
    /// ConnectionMaxData.
    pub const CONNECTION_MAX_DATA: u8 = 0x03;
    /// ConnectionDataBlocked.
    pub const CONNECTION_DATA_BLOCKED: u8 = 0x04;
    /// ConnectionMaxStreamId.
    pub const CONNECTION_MAX_STREAM_ID: u8 = 0x05;
    /// ConnectionStreamIdBlocked.
    pub const CONNECTION_STREAM_ID_BLOCKED: u8 = 0x06;
    /// ConnectionAssetDetails.
    pub const CONNECTION_ASSET_DETAILS: u8 = 0x07;
    /// StreamClose.
    pub const STREAM_CLOSE: u8 = 0x10;
    /// StreamMoney.
    pub const STREAM_MONEY: u8 = 0x11;
    /// StreamMaxMoney.
    pub const STREAM_MAX_MONEY: u8 = 0x12;
    /// StreamMoneyBlocked.
    pub const STREAM_MONEY_BLOCKED: u8 = 0x13;
    /// StreamData.
    pub const STREAM_DATA: u8 = 0x14;
    /// StreamMaxData.
    pub const STREAM_MAX_DATA: u8 = 0x15;
    /// StreamDataBlocked.
    pub const STREAM_DATA_BLOCKED: u8 = 0x16;
    /// StreamReceipt.
    pub const STREAM_RECEIPT: u8 = 0x17;
}

/// One STREAM frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// The sender closes the connection.
    ConnectionClose {
        /// Why.
        code: ErrorCode,
        /// For debugging.
        message: String,
    },
    /// The sender's (new) ILP address, so the other side can send to it.
    ConnectionNewAddress {
        /// The address.
        source_account: Address,
    },
    /// The sender's asset.
    ConnectionAssetDetails {
        /// Asset code (any UTF-8).
        source_asset_code: String,
        /// Asset scale.
        source_asset_scale: u8,
    },
    /// Total bytes the sender will receive on the connection.
    ConnectionMaxData {
        /// The offset.
        max_offset: u64,
    },
    /// Total bytes the sender wants to send on the connection.
    ConnectionDataBlocked {
        /// The offset.
        max_offset: u64,
    },
    /// Highest stream id the sender accepts.
    ConnectionMaxStreamId {
        /// The id.
        max_stream_id: u64,
    },
    /// Highest stream id the sender wants to open.
    ConnectionStreamIdBlocked {
        /// The id.
        max_stream_id: u64,
    },
    /// The sender closes one stream.
    StreamClose {
        /// The stream.
        stream_id: u64,
        /// Why.
        code: ErrorCode,
        /// For debugging.
        message: String,
    },
    /// This stream's share of the Prepare amount.
    StreamMoney {
        /// The stream.
        stream_id: u64,
        /// Its shares of the amount.
        shares: u64,
    },
    /// How much the sender will receive on a stream (larger than u64 reads as `u64::MAX`).
    StreamMaxMoney {
        /// The stream.
        stream_id: u64,
        /// The most it will receive in total.
        receive_max: u64,
        /// What it has received.
        total_received: u64,
    },
    /// How much the sender wants to send on a stream (larger than u64 reads as `u64::MAX`).
    StreamMoneyBlocked {
        /// The stream.
        stream_id: u64,
        /// The most it wants to send in total.
        send_max: u64,
        /// What it has sent.
        total_sent: u64,
    },
    /// Bytes of a stream at an offset.
    StreamData {
        /// The stream.
        stream_id: u64,
        /// Position in the byte stream.
        offset: u64,
        /// The bytes.
        data: Vec<u8>,
    },
    /// Total bytes the sender will receive on a stream.
    StreamMaxData {
        /// The stream.
        stream_id: u64,
        /// The offset.
        max_offset: u64,
    },
    /// Total bytes the sender wants to send on a stream.
    StreamDataBlocked {
        /// The stream.
        stream_id: u64,
        /// The offset.
        max_offset: u64,
    },
    /// An RFC 39 receipt for a stream (opaque here; see [`crate::Receipt`]).
    StreamReceipt {
        /// The stream.
        stream_id: u64,
        /// The encoded receipt.
        receipt: Vec<u8>,
    },
}

impl Frame {
    /// The frame's type byte.
    pub fn frame_type(&self) -> u8 {
        use frame_type as t;
        match self {
            Frame::ConnectionClose { .. } => t::CONNECTION_CLOSE,
            Frame::ConnectionNewAddress { .. } => t::CONNECTION_NEW_ADDRESS,
            Frame::ConnectionAssetDetails { .. } => t::CONNECTION_ASSET_DETAILS,
            Frame::ConnectionMaxData { .. } => t::CONNECTION_MAX_DATA,
            Frame::ConnectionDataBlocked { .. } => t::CONNECTION_DATA_BLOCKED,
            Frame::ConnectionMaxStreamId { .. } => t::CONNECTION_MAX_STREAM_ID,
            Frame::ConnectionStreamIdBlocked { .. } => t::CONNECTION_STREAM_ID_BLOCKED,
            Frame::StreamClose { .. } => t::STREAM_CLOSE,
            Frame::StreamMoney { .. } => t::STREAM_MONEY,
            Frame::StreamMaxMoney { .. } => t::STREAM_MAX_MONEY,
            Frame::StreamMoneyBlocked { .. } => t::STREAM_MONEY_BLOCKED,
            Frame::StreamData { .. } => t::STREAM_DATA,
            Frame::StreamMaxData { .. } => t::STREAM_MAX_DATA,
            Frame::StreamDataBlocked { .. } => t::STREAM_DATA_BLOCKED,
            Frame::StreamReceipt { .. } => t::STREAM_RECEIPT,
        }
    }

    /// Exact length of the contents (without type and length prefix).
    fn contents_len(&self) -> usize {
        let v = oer::var_uint_size;
        let s = oer::var_octets_size;
        match self {
            Frame::ConnectionClose { message, .. } => 1 + s(message.len()),
            Frame::ConnectionNewAddress { source_account } => s(source_account.as_str().len()),
            Frame::ConnectionAssetDetails {
                source_asset_code, ..
            } => s(source_asset_code.len()) + 1,
            Frame::ConnectionMaxData { max_offset } | Frame::ConnectionDataBlocked { max_offset } => {
                v(*max_offset)
            }
            Frame::ConnectionMaxStreamId { max_stream_id }
            | Frame::ConnectionStreamIdBlocked { max_stream_id } => v(*max_stream_id),
            Frame::StreamClose {
                stream_id, message, ..
            } => v(*stream_id) + 1 + s(message.len()),
            Frame::StreamMoney { stream_id, shares } => v(*stream_id) + v(*shares),
            Frame::StreamMaxMoney {
                stream_id,
                receive_max: a,
                total_received: b,
            }
            | Frame::StreamMoneyBlocked {
                stream_id,
                send_max: a,
                total_sent: b,
            } => v(*stream_id) + v(*a) + v(*b),
            Frame::StreamData {
                stream_id,
                offset,
                data,
            } => v(*stream_id) + v(*offset) + s(data.len()),
            Frame::StreamMaxData {
                stream_id,
                max_offset,
            }
            | Frame::StreamDataBlocked {
                stream_id,
                max_offset,
            } => v(*stream_id) + v(*max_offset),
            Frame::StreamReceipt { stream_id, receipt } => v(*stream_id) + s(receipt.len()),
        }
    }

    /// Exact encoded length of the whole frame.
    pub(crate) fn encoded_len(&self) -> usize {
        1 + oer::var_octets_size(self.contents_len())
    }

    /// Appends `type | length | contents`.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.push(self.frame_type());
        oer::write_length(out, self.contents_len());
        match self {
            Frame::ConnectionClose { code, message } => {
                out.push(code.0);
                oer::write_var_octets(out, message.as_bytes());
            }
            Frame::ConnectionNewAddress { source_account } => {
                oer::write_var_octets(out, source_account.as_str().as_bytes());
            }
            Frame::ConnectionAssetDetails {
                source_asset_code,
                source_asset_scale,
            } => {
                oer::write_var_octets(out, source_asset_code.as_bytes());
                out.push(*source_asset_scale);
            }
            Frame::ConnectionMaxData { max_offset } | Frame::ConnectionDataBlocked { max_offset } => {
                oer::write_var_uint(out, *max_offset);
            }
            Frame::ConnectionMaxStreamId { max_stream_id }
            | Frame::ConnectionStreamIdBlocked { max_stream_id } => oer::write_var_uint(out, *max_stream_id),
            Frame::StreamClose {
                stream_id,
                code,
                message,
            } => {
                oer::write_var_uint(out, *stream_id);
                out.push(code.0);
                oer::write_var_octets(out, message.as_bytes());
            }
            Frame::StreamMoney { stream_id, shares } => {
                oer::write_var_uint(out, *stream_id);
                oer::write_var_uint(out, *shares);
            }
            Frame::StreamMaxMoney {
                stream_id,
                receive_max: a,
                total_received: b,
            }
            | Frame::StreamMoneyBlocked {
                stream_id,
                send_max: a,
                total_sent: b,
            } => {
                oer::write_var_uint(out, *stream_id);
                oer::write_var_uint(out, *a);
                oer::write_var_uint(out, *b);
            }
            Frame::StreamData {
                stream_id,
                offset,
                data,
            } => {
                oer::write_var_uint(out, *stream_id);
                oer::write_var_uint(out, *offset);
                oer::write_var_octets(out, data);
            }
            Frame::StreamMaxData {
                stream_id,
                max_offset,
            }
            | Frame::StreamDataBlocked {
                stream_id,
                max_offset,
            } => {
                oer::write_var_uint(out, *stream_id);
                oer::write_var_uint(out, *max_offset);
            }
            Frame::StreamReceipt { stream_id, receipt } => {
                oer::write_var_uint(out, *stream_id);
                oer::write_var_octets(out, receipt);
            }
        }
    }

    /// Reads one frame; `Ok(None)` for a well-formed frame of an unknown type (skipped).
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Option<Frame>, StreamError> {
        let kind = r.read_u8("frame type")?;
        let contents = r.read_var_octets("frame contents")?;
        let mut c = Reader::new(contents);
        let frame = match read_contents(kind, &mut c)? {
            Some(frame) => frame,
            None => return Ok(None),
        };
        if c.remaining() > 0 {
            return Err(StreamError::TrailingFrameBytes {
                frame_type: kind,
                extra: c.remaining(),
            });
        }
        Ok(Some(frame))
    }
}

fn read_contents(kind: u8, c: &mut Reader<'_>) -> Result<Option<Frame>, StreamError> {
    use frame_type as t;
    Ok(Some(match kind {
        t::CONNECTION_CLOSE => Frame::ConnectionClose {
            code: ErrorCode(c.read_u8("error code")?),
            message: c.read_utf8("error message")?,
        },
        t::CONNECTION_NEW_ADDRESS => {
            let bytes = c.read_var_octets("source account")?;
            let source_account = Address::from_bytes(bytes).map_err(|source| StreamError::BadAddress {
                field: "source account",
                source,
            })?;
            Frame::ConnectionNewAddress { source_account }
        }
        t::CONNECTION_ASSET_DETAILS => Frame::ConnectionAssetDetails {
            source_asset_code: c.read_utf8("source asset code")?,
            source_asset_scale: c.read_u8("source asset scale")?,
        },
        t::CONNECTION_MAX_DATA => Frame::ConnectionMaxData {
            max_offset: c.read_var_uint("max offset")?,
        },
        t::CONNECTION_DATA_BLOCKED => Frame::ConnectionDataBlocked {
            max_offset: c.read_var_uint("max offset")?,
        },
        t::CONNECTION_MAX_STREAM_ID => Frame::ConnectionMaxStreamId {
            max_stream_id: c.read_var_uint("max stream id")?,
        },
        t::CONNECTION_STREAM_ID_BLOCKED => Frame::ConnectionStreamIdBlocked {
            max_stream_id: c.read_var_uint("max stream id")?,
        },
        t::STREAM_CLOSE => Frame::StreamClose {
            stream_id: c.read_var_uint("stream id")?,
            code: ErrorCode(c.read_u8("error code")?),
            message: c.read_utf8("error message")?,
        },
        t::STREAM_MONEY => Frame::StreamMoney {
            stream_id: c.read_var_uint("stream id")?,
            shares: c.read_var_uint("shares")?,
        },
        t::STREAM_MAX_MONEY => Frame::StreamMaxMoney {
            stream_id: c.read_var_uint("stream id")?,
            receive_max: c.read_var_uint_saturating("receive max")?,
            total_received: c.read_var_uint("total received")?,
        },
        t::STREAM_MONEY_BLOCKED => Frame::StreamMoneyBlocked {
            stream_id: c.read_var_uint("stream id")?,
            send_max: c.read_var_uint_saturating("send max")?,
            total_sent: c.read_var_uint("total sent")?,
        },
        t::STREAM_DATA => Frame::StreamData {
            stream_id: c.read_var_uint("stream id")?,
            offset: c.read_var_uint("offset")?,
            data: c.read_var_octets("data")?.to_vec(),
        },
        t::STREAM_MAX_DATA => Frame::StreamMaxData {
            stream_id: c.read_var_uint("stream id")?,
            max_offset: c.read_var_uint("max offset")?,
        },
        t::STREAM_DATA_BLOCKED => Frame::StreamDataBlocked {
            stream_id: c.read_var_uint("stream id")?,
            max_offset: c.read_var_uint("max offset")?,
        },
        t::STREAM_RECEIPT => Frame::StreamReceipt {
            stream_id: c.read_var_uint("stream id")?,
            receipt: c.read_var_octets("receipt")?.to_vec(),
        },
        _ => return Ok(None),
    }))
}
