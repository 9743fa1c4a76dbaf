//! Frames between nodes: a u32 big-endian length, then a kind byte and its body. Consensus
//! messages travel in their canonical encoding ([`crate::codec`]); catching up uses its own two
//! frames so blocks far older than the consensus core's memory can be served from storage.
//! Decoding is length-limited before any allocation and never panics (fuzzed).

use crate::codec::{MAX_MESSAGE_BYTES, Reader, put_len_u16, put_len_u32, put_var_bytes};
use crate::error::{Error, Result};

/// Largest frame body accepted.
pub const MAX_FRAME: usize = MAX_MESSAGE_BYTES + 64;
/// Most blocks in one catch-up response (its count is a u16 on the wire).
pub const MAX_SYNC_BLOCKS: u16 = 256;

const KIND_CONSENSUS: u8 = 1;
const KIND_SYNC_REQUEST: u8 = 2;
const KIND_SYNC_RESPONSE: u8 = 3;

/// A frame's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// An encoded [`crate::consensus::messages::Message`].
    Consensus(Vec<u8>),
    /// Committed blocks from `from` upwards, at most `max`.
    SyncRequest {
        /// First height wanted.
        from: u64,
        /// How many at most.
        max: u32,
    },
    /// Committed blocks in height order, each as (block encoding, certificate encoding).
    SyncResponse(Vec<(Vec<u8>, Vec<u8>)>),
}

impl Frame {
    /// The frame with its length prefix, ready to write.
    pub fn to_wire(&self) -> Vec<u8> {
        let mut body = Vec::new();
        match self {
            Frame::Consensus(m) => {
                body.reserve(m.len() + 1);
                body.push(KIND_CONSENSUS);
                body.extend_from_slice(m);
            }
            Frame::SyncRequest { from, max } => {
                body.push(KIND_SYNC_REQUEST);
                body.extend_from_slice(&from.to_be_bytes());
                body.extend_from_slice(&max.to_be_bytes());
            }
            Frame::SyncResponse(items) => {
                body.push(KIND_SYNC_RESPONSE);
                put_len_u16(&mut body, items.len());
                for (b, q) in items {
                    put_var_bytes(&mut body, b);
                    put_var_bytes(&mut body, q);
                }
            }
        }
        let mut out = Vec::with_capacity(body.len() + 4);
        put_len_u32(&mut out, body.len());
        out.extend_from_slice(&body);
        out
    }

    /// Decodes a frame body (without its length prefix).
    pub fn decode(body: &[u8]) -> Result<Self> {
        if body.len() > MAX_FRAME {
            return Err(Error::TooLong {
                what: "frame",
                len: body.len(),
                max: MAX_FRAME,
            });
        }
        let mut r = Reader::new(body);
        let f = match r.u8("frame kind")? {
            KIND_CONSENSUS => Frame::Consensus(r.take(r.remaining(), "consensus frame")?.to_vec()),
            KIND_SYNC_REQUEST => Frame::SyncRequest {
                from: r.u64("sync from")?,
                max: r.u32("sync max")?,
            },
            KIND_SYNC_RESPONSE => {
                let n = usize::from(r.u16("sync count")?);
                if n > usize::from(MAX_SYNC_BLOCKS) {
                    return Err(Error::TooLong {
                        what: "sync response",
                        len: n,
                        max: usize::from(MAX_SYNC_BLOCKS),
                    });
                }
                let mut items = Vec::with_capacity(n.min(r.remaining() / 8));
                for _ in 0..n {
                    let b = r.var_bytes("sync block", MAX_MESSAGE_BYTES)?.to_vec();
                    let q = r.var_bytes("sync qc", 64 * 1024)?.to_vec();
                    items.push((b, q));
                }
                Frame::SyncResponse(items)
            }
            _ => {
                return Err(Error::Decode {
                    what: "frame kind",
                    at: 0,
                });
            }
        };
        if r.remaining() != 0 {
            return Err(Error::TrailingBytes { extra: r.remaining() });
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_refuse_junk() {
        for f in [
            Frame::Consensus(vec![1, 2, 3]),
            Frame::SyncRequest { from: 9, max: 64 },
            Frame::SyncResponse(vec![(vec![1; 10], vec![2; 5])]),
        ] {
            let w = f.to_wire();
            assert_eq!(
                u32::from_be_bytes(w[..4].try_into().unwrap()) as usize,
                w.len() - 4
            );
            assert_eq!(Frame::decode(&w[4..]).unwrap(), f);
        }
        assert!(Frame::decode(&[]).is_err());
        assert!(Frame::decode(&[9]).is_err());
        assert!(Frame::decode(&[2, 0, 0]).is_err());
        assert!(Frame::decode(&[3, 0xff, 0xff]).is_err());
    }
}
