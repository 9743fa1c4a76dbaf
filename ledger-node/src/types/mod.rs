//! Chain data: blocks, votes, quorum certificates (QC), timeouts and timeout certificates (TC),
//! each with its canonical encoding next to it.
//!
//! What consensus produces, what the node stores and serves, and what a light client checks;
//! so they sit below consensus ([`crate::consensus`]), which acts on them, and below the light
//! client ([`crate::light`]), which only checks them.

mod block;
mod cert;

pub use block::{Block, BlockHeader};
pub use cert::{
    QuorumCert, SignerBitmap, Timeout, TimeoutCert, Vote, timeout_signing_bytes, vote_signing_bytes,
};
