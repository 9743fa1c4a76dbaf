//! The genesis of a chain: the first committee and the agreed start time. It is what every
//! validator and light client is configured with, so it has a canonical encoding too.

use std::sync::Arc;

use crate::codec::{Decode, Encode, Reader, put_var_bytes};
use crate::committee::{Committee, LeaderRule, MAX_COMMITTEE, MAX_OPERATOR_LEN, ValidatorInfo};
use crate::core::Recovery;
use crate::crypto::{KeyPair, PublicKey, Signature};
use crate::error::{Error, Result};
use crate::types::Block;

/// The first committee of a chain and its start time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Genesis {
    /// Epoch of the first committee.
    pub epoch: u64,
    /// Timestamp of the genesis block; every later block's is strictly greater.
    pub timestamp_ms: u64,
    /// The validators, in index order.
    pub members: Vec<ValidatorInfo>,
}

/// Start time of the local test networks (2026-01-01T00:00:00Z).
pub const TEST_GENESIS_MS: u64 = 1_767_225_600_000;

impl Genesis {
    /// A first committee (epoch 1) of the validators with these BLS key seeds, operated by
    /// `bank-0`, `bank-1`, ... in order, starting at [`TEST_GENESIS_MS`]: the local test
    /// networks, their fixtures and benchmarks.
    pub fn for_test_keys(seeds: &[[u8; 32]]) -> Result<Genesis> {
        let members = seeds
            .iter()
            .enumerate()
            .map(|(i, seed)| {
                let k = KeyPair::from_ikm(seed)?;
                Ok(ValidatorInfo {
                    public_key: *k.public(),
                    pop: k.proof_of_possession(),
                    operator: format!("bank-{i}"),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Genesis {
            epoch: 1,
            timestamp_ms: TEST_GENESIS_MS,
            members,
        })
    }

    /// Forms the committee (checking proofs of possession and the operator rule).
    pub fn committee(&self) -> Result<Committee> {
        Committee::new(self.epoch, self.members.clone(), LeaderRule::RoundRobin)
    }

    /// The genesis block, with the application's initial state root.
    pub fn block(&self, committee: &Committee, state_root: [u8; 32]) -> Arc<Block> {
        Block::genesis(committee, self.timestamp_ms, state_root)
    }

    /// Where a new validator starts.
    pub fn recovery(&self, committee: &Committee, state_root: [u8; 32]) -> Recovery {
        Recovery::genesis(self.block(committee, state_root), committee)
    }
}

impl Encode for ValidatorInfo {
    fn encode(&self, out: &mut Vec<u8>) {
        self.public_key.encode(out);
        self.pop.encode(out);
        put_var_bytes(out, self.operator.as_bytes());
    }
}

impl Decode for ValidatorInfo {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let public_key = PublicKey::decode(r)?;
        let pop = Signature::decode(r)?;
        let op = r.var_bytes("operator", MAX_OPERATOR_LEN)?;
        let operator = String::from_utf8(op.to_vec()).map_err(|_| Error::Decode {
            what: "operator",
            at: 0,
        })?;
        Ok(Self {
            public_key,
            pop,
            operator,
        })
    }
}

impl Encode for Genesis {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.extend_from_slice(&self.timestamp_ms.to_be_bytes());
        out.extend_from_slice(&(self.members.len() as u16).to_be_bytes());
        for m in &self.members {
            m.encode(out);
        }
    }
}

impl Decode for Genesis {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let epoch = r.u64("genesis epoch")?;
        let timestamp_ms = r.u64("genesis timestamp")?;
        let n = usize::from(r.u16("member count")?);
        if n > MAX_COMMITTEE {
            return Err(Error::TooLong {
                what: "committee",
                len: n,
                max: MAX_COMMITTEE,
            });
        }
        let members = (0..n)
            .map(|_| ValidatorInfo::decode(r))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            epoch,
            timestamp_ms,
            members,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{decode_exact, encode_to_vec};
    use crate::crypto::KeyPair;

    #[test]
    fn genesis_round_trips_and_forms_its_committee() {
        let g = Genesis {
            epoch: 1,
            timestamp_ms: 1_700_000_000_000,
            members: (0..4)
                .map(|i| {
                    let k = KeyPair::for_test(8, i);
                    ValidatorInfo {
                        public_key: *k.public(),
                        pop: k.proof_of_possession(),
                        operator: format!("bank {i}"),
                    }
                })
                .collect(),
        };
        let back: Genesis = decode_exact(&encode_to_vec(&g)).unwrap();
        assert_eq!(back, g);
        let c = back.committee().unwrap();
        let b = back.block(&c, [0; 32]);
        assert_eq!((b.height(), b.view(), b.timestamp_ms()), (0, 0, g.timestamp_ms));
    }
}
