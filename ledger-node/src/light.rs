//! What a light client can check offline, holding only the committee (its members' public keys,
//! e.g. from the genesis or a KeyBlock): that a header was certified by 2f+1 of them, and that a
//! transaction is in a certified block.

use crate::committee::Committee;
use crate::error::{Error, Result};
use crate::merkle::{PathStep, verify_path};
use crate::types::{BlockHeader, QuorumCert};

/// Checks that `qc` is a valid certificate of `header` by `committee`.
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

/// Checks that `tx` is in the block of `header` (by its Merkle path) and that the block is
/// certified.
pub fn verify_transaction_inclusion(
    committee: &Committee,
    header: &BlockHeader,
    qc: &QuorumCert,
    tx: &[u8],
    path: &[PathStep],
) -> Result<()> {
    verify_certified_header(committee, header, qc)?;
    if verify_path(&header.payload_root, tx, path) {
        Ok(())
    } else {
        Err(Error::Malformed {
            what: "inclusion proof",
            why: "path does not lead to the payload root",
        })
    }
}
