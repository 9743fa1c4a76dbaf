//! What a light client can check offline of one certificate, holding only the committee (its
//! members' public keys, e.g. from the genesis): that a header was certified by 2f+1 of them.
//! Certified is not final: a certified block may still be abandoned. Proofs that a transaction
//! is in a *final* block are [`crate::proof`]'s.

use crate::committee::Committee;
use crate::error::{Error, Result};
use crate::types::{BlockHeader, QuorumCert};

/// Checks that `qc` is a valid certificate of `header` by `committee` (certified, not final).
pub fn verify_certified_header(committee: &Committee, header: &BlockHeader, qc: &QuorumCert) -> Result<()> {
    if qc.block_hash != header.hash() || qc.view != header.view || header.epoch != committee.epoch() {
        return Err(Error::Malformed {
            what: "certified header",
            why: "certificate does not name this header",
        });
    }
    if qc.view == 0 {
        return Err(Error::Malformed {
            what: "certified header",
            why: "the genesis block is trusted, not certified",
        });
    }
    qc.verify(committee)
}
