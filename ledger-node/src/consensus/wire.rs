//! The wire form of consensus messages: a tag byte, then the canonical encoding of the
//! message's values ([`crate::codec`] rules, with the limits on blocks per response and on
//! transactions). [`decode_message`] is the decoder for untrusted bytes from peers (fuzzed).

use std::sync::Arc;

use super::messages::{Message, Proposal};
use crate::codec::{
    Decode, Encode, MAX_BLOCKS_PER_RESPONSE, Reader, decode_exact, encode_to_vec, get_txs, put_len_u16,
    put_txs,
};
use crate::error::{Error, Result};
use crate::ids::BlockHash;
use crate::types::{Block, QuorumCert, Timeout, TimeoutCert, Vote};

/// Encodes a network message (the frame body a transport sends).
pub fn encode_message(m: &Message) -> Vec<u8> {
    encode_to_vec(m)
}

/// Decodes a network message; never panics on any input.
pub fn decode_message(bytes: &[u8]) -> Result<Message> {
    decode_exact(bytes)
}

const TAG_PROPOSAL: u8 = 1;
const TAG_VOTE: u8 = 2;
const TAG_TIMEOUT: u8 = 3;
const TAG_TC: u8 = 4;
const TAG_SYNC_INFO: u8 = 5;
const TAG_TXS: u8 = 6;
const TAG_BLOCK_REQUEST: u8 = 7;
const TAG_BLOCK_RESPONSE: u8 = 8;

fn put_opt_tc(out: &mut Vec<u8>, tc: &Option<TimeoutCert>) {
    match tc {
        None => out.push(0),
        Some(tc) => {
            out.push(1);
            tc.encode(out);
        }
    }
}
fn get_opt_tc(r: &mut Reader<'_>) -> Result<Option<TimeoutCert>> {
    Ok(if r.flag("tc tag")? {
        Some(TimeoutCert::decode(r)?)
    } else {
        None
    })
}

impl Encode for Message {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Message::Proposal(p) => {
                out.push(TAG_PROPOSAL);
                p.block.encode(out);
                put_opt_tc(out, &p.tc);
            }
            Message::Vote(v) => {
                out.push(TAG_VOTE);
                v.encode(out);
            }
            Message::Timeout(t) => {
                out.push(TAG_TIMEOUT);
                t.encode(out);
            }
            Message::TimeoutCert(tc) => {
                out.push(TAG_TC);
                tc.encode(out);
            }
            Message::SyncInfo { high_qc, high_tc } => {
                out.push(TAG_SYNC_INFO);
                high_qc.encode(out);
                put_opt_tc(out, high_tc);
            }
            Message::Transactions(txs) => {
                out.push(TAG_TXS);
                put_txs(out, txs);
            }
            Message::BlockRequest { hash, max_blocks } => {
                out.push(TAG_BLOCK_REQUEST);
                hash.encode(out);
                out.extend_from_slice(&max_blocks.to_be_bytes());
            }
            Message::BlockResponse(blocks) => {
                out.push(TAG_BLOCK_RESPONSE);
                put_len_u16(out, blocks.len());
                for b in blocks {
                    b.encode(out);
                }
            }
        }
    }
}

impl Decode for Message {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(match r.u8("message tag")? {
            TAG_PROPOSAL => Message::Proposal(Proposal {
                block: Arc::new(Block::decode(r)?),
                tc: get_opt_tc(r)?,
            }),
            TAG_VOTE => Message::Vote(Vote::decode(r)?),
            TAG_TIMEOUT => Message::Timeout(Timeout::decode(r)?),
            TAG_TC => Message::TimeoutCert(TimeoutCert::decode(r)?),
            TAG_SYNC_INFO => Message::SyncInfo {
                high_qc: QuorumCert::decode(r)?,
                high_tc: get_opt_tc(r)?,
            },
            TAG_TXS => Message::Transactions(get_txs(r)?),
            TAG_BLOCK_REQUEST => Message::BlockRequest {
                hash: BlockHash::decode(r)?,
                max_blocks: r.u16("max blocks")?,
            },
            TAG_BLOCK_RESPONSE => {
                let n = usize::from(r.u16("block count")?);
                if n > usize::from(MAX_BLOCKS_PER_RESPONSE) {
                    return Err(Error::TooLong {
                        what: "block response",
                        len: n,
                        max: usize::from(MAX_BLOCKS_PER_RESPONSE),
                    });
                }
                let mut blocks = Vec::with_capacity(n);
                for _ in 0..n {
                    blocks.push(Arc::new(Block::decode(r)?));
                }
                Message::BlockResponse(blocks)
            }
            _ => {
                return Err(Error::Decode {
                    what: "message tag",
                    at: 0,
                });
            }
        })
    }
}
