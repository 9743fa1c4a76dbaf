//! The names consensus gives things: a view (round) number, a validator's place in its
//! committee, a block's hash.
//!
//! A leaf beside the codec, so that the committee, the chain data and the messages can all name
//! them without importing each other.

use crate::codec::{Decode, Encode, Reader};
use crate::error::Result;

/// A consensus round number. View 0 belongs to the genesis block only.
pub type View = u64;

/// Position of a validator in its committee (also its bit in certificate bitmaps).
pub type ValidatorIndex = u16;

/// SHA-256 of a block header's canonical encoding.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct BlockHash(pub [u8; 32]);

impl std::fmt::Debug for BlockHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in &self.0[..4] {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl Encode for BlockHash {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}
impl Decode for BlockHash {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(BlockHash(r.bytes32("block hash")?))
    }
}
