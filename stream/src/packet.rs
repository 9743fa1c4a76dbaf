//! The STREAM packet (RFC 29 §5.2), before encryption: `version | ILP packet type | sequence |
//! prepare amount | frames`, then junk the receiver ignores (senders may pad with zeros).
//!
//! Decoding keeps the known frames in order and drops unknown ones; encoding is canonical, so
//! `encode(decode(b)) == b` for every canonical packet whose frames are all known.

use htlc::PacketType;

use crate::error::StreamError;
use crate::frame::Frame;
use crate::oer::{self, Reader};

/// The only STREAM version.
pub const STREAM_VERSION: u8 = 1;

/// A decrypted STREAM packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamPacket {
    /// The ILP packet this one must travel in; a receiver discards it in any other.
    pub ilp_packet_type: PacketType,
    /// Request/response identifier; a reply repeats the Prepare's.
    pub sequence: u64,
    /// On a Prepare, the least the receiver should accept; on a reply, what arrived.
    pub prepare_amount: u64,
    /// The frames, in order.
    pub frames: Vec<Frame>,
}

impl StreamPacket {
    /// Exact length of [`StreamPacket::encode`]'s output.
    pub fn encoded_len(&self) -> usize {
        let frames: usize = self.frames.iter().map(Frame::encoded_len).sum();
        2 + oer::var_uint_size(self.sequence)
            + oer::var_uint_size(self.prepare_amount)
            + oer::var_uint_size(oer::usize_to_u64(self.frames.len()))
            + frames
    }

    /// Appends the canonical encoding to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.reserve(self.encoded_len());
        out.push(STREAM_VERSION);
        out.push(self.ilp_packet_type as u8);
        oer::write_var_uint(out, self.sequence);
        oer::write_var_uint(out, self.prepare_amount);
        oer::write_var_uint(out, oer::usize_to_u64(self.frames.len()));
        for frame in &self.frames {
            frame.write(out);
        }
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out);
        out
    }

    /// Decodes a packet, skipping unknown frames and ignoring bytes after the frames.
    pub fn decode(bytes: &[u8]) -> Result<Self, StreamError> {
        let mut r = Reader::new(bytes);
        let version = r.read_u8("version")?;
        if version != STREAM_VERSION {
            return Err(StreamError::UnsupportedVersion { found: version });
        }
        let type_byte = r.read_u8("ILP packet type")?;
        let ilp_packet_type =
            PacketType::from_byte(type_byte).ok_or(StreamError::BadPacketType { found: type_byte })?;
        let sequence = r.read_var_uint("sequence")?;
        let prepare_amount = r.read_var_uint("prepare amount")?;
        let count = r.read_var_uint("frame count")?;
        // Each frame takes at least 2 bytes, so a count that lies cannot make us reserve more
        // than the input could hold.
        let mut frames = Vec::with_capacity(
            usize::try_from(count)
                .unwrap_or(usize::MAX)
                .min(r.remaining() / 2),
        );
        for _ in 0..count {
            if let Some(frame) = Frame::read(&mut r)? {
                frames.push(frame);
            }
        }
        Ok(StreamPacket {
            ilp_packet_type,
            sequence,
            prepare_amount,
            frames,
        })
    }

    /// Decodes a packet that arrived in an ILP packet of type `arrived_in`, refusing one made
    /// for another type (RFC 29 §5.2).
    pub fn decode_for(bytes: &[u8], arrived_in: PacketType) -> Result<Self, StreamError> {
        let packet = StreamPacket::decode(bytes)?;
        if packet.ilp_packet_type != arrived_in {
            return Err(StreamError::WrongPacketType {
                expected: arrived_in as u8,
                found: packet.ilp_packet_type as u8,
            });
        }
        Ok(packet)
    }
}
