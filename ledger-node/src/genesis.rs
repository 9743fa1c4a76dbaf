//! The genesis of a chain: the first committee and the agreed start time. It is what every
//! validator and light client is configured with, so it has a canonical encoding too.

use std::sync::Arc;

use crate::codec::{Decode, Encode, Reader, put_len_u16, put_var_bytes};
use crate::committee::{Committee, LeaderRule, MAX_COMMITTEE, MAX_OPERATOR_LEN, ValidatorInfo};
use crate::consensus::core::Recovery;
use crate::crypto::{KeyPair, PublicKey, Signature};
use crate::error::{Error, Result};
use crate::state::ChainParams;
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
    /// The state machine's chain-wide bounds.
    pub params: ChainParams,
}

/// Marks the encoding of [`ChainParams`] other than the defaults after the members.
const PARAMS_TAG: u8 = 1;

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
            params: ChainParams::default(),
        })
    }

    /// Checks the parameters (both bounds at least 1, else nothing could ever succeed).
    pub fn check_params(&self) -> Result<()> {
        if self.params.max_nonce_gap == 0 || self.params.max_escrow_hold_ms == 0 {
            return Err(Error::Malformed {
                what: "genesis params",
                why: "max_nonce_gap and max_escrow_hold_ms must be at least 1",
            });
        }
        Ok(())
    }

    /// The chain id: `SHA-256("CYPHERLINK-CHAIN-V1" || the genesis encoding)`. Transactions
    /// and proofs name it, so nothing made for one chain passes on another.
    pub fn chain_id(&self) -> [u8; 32] {
        crate::crypto::sha256(&[b"CYPHERLINK-CHAIN-V1", &crate::codec::encode_to_vec(self)])
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

/// `epoch | timestamp | member count u16 | members`, then, only for parameters other than the
/// defaults, `1u8 | max_nonce_gap u64 | max_escrow_hold_ms u64`. A genesis written before the
/// parameters existed thus keeps its encoding, and its chain id; the defaults are part of the
/// protocol (changing them changes the rules of every chain that did not set them).
impl Encode for Genesis {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.extend_from_slice(&self.timestamp_ms.to_be_bytes());
        put_len_u16(out, self.members.len());
        for m in &self.members {
            m.encode(out);
        }
        if self.params != ChainParams::default() {
            out.push(PARAMS_TAG);
            out.extend_from_slice(&self.params.max_nonce_gap.to_be_bytes());
            out.extend_from_slice(&self.params.max_escrow_hold_ms.to_be_bytes());
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
        // The genesis is always a whole encoding: what follows the members is its parameters.
        let params = if r.remaining() == 0 {
            ChainParams::default()
        } else {
            if r.u8("genesis params tag")? != PARAMS_TAG {
                return Err(Error::Decode {
                    what: "genesis params tag",
                    at: 0,
                });
            }
            let params = ChainParams {
                max_nonce_gap: r.u64("max_nonce_gap")?,
                max_escrow_hold_ms: r.u64("max_escrow_hold_ms")?,
            };
            if params == ChainParams::default() {
                // Only one encoding per genesis: the defaults are written as nothing.
                return Err(Error::Malformed {
                    what: "genesis params",
                    why: "default parameters must not be encoded",
                });
            }
            params
        };
        Ok(Self {
            epoch,
            timestamp_ms,
            members,
            params,
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
            params: ChainParams::default(),
        };
        let back: Genesis = decode_exact(&encode_to_vec(&g)).unwrap();
        assert_eq!(back, g);
        let c = back.committee().unwrap();
        let b = back.block(&c, [0; 32]);
        assert_eq!((b.height(), b.view(), b.timestamp_ms()), (0, 0, g.timestamp_ms));
    }

    fn members() -> Vec<ValidatorInfo> {
        (0..4)
            .map(|i| {
                let k = KeyPair::for_test(9, i);
                ValidatorInfo {
                    public_key: *k.public(),
                    pop: k.proof_of_possession(),
                    operator: format!("bank {i}"),
                }
            })
            .collect()
    }

    #[test]
    fn default_params_keep_the_encoding_and_chain_id_of_a_genesis_without_them() {
        let g = Genesis {
            epoch: 1,
            timestamp_ms: 1_700_000_000_000,
            members: members(),
            params: ChainParams::default(),
        };
        // The layout from before the parameters existed.
        let mut old = Vec::new();
        old.extend_from_slice(&1u64.to_be_bytes());
        old.extend_from_slice(&1_700_000_000_000u64.to_be_bytes());
        old.extend_from_slice(&4u16.to_be_bytes());
        for m in &g.members {
            m.encode(&mut old);
        }
        assert_eq!(encode_to_vec(&g), old);
        let back: Genesis = decode_exact(&old).unwrap();
        assert_eq!(back.params, ChainParams::default());
        // The defaults written out are not a second encoding of the same genesis.
        let mut spelled = old.clone();
        spelled.push(PARAMS_TAG);
        spelled.extend_from_slice(&crate::state::types::DEFAULT_MAX_NONCE_GAP.to_be_bytes());
        spelled.extend_from_slice(&crate::state::types::DEFAULT_MAX_ESCROW_HOLD_MS.to_be_bytes());
        assert!(decode_exact::<Genesis>(&spelled).is_err());
    }

    #[test]
    fn other_params_are_encoded_and_make_another_chain() {
        let plain = Genesis {
            epoch: 1,
            timestamp_ms: 1_700_000_000_000,
            members: members(),
            params: ChainParams::default(),
        };
        let tight = Genesis {
            params: ChainParams {
                max_nonce_gap: 16,
                max_escrow_hold_ms: 60_000,
            },
            ..plain.clone()
        };
        let bytes = encode_to_vec(&tight);
        assert_eq!(bytes.len(), encode_to_vec(&plain).len() + 17);
        assert_eq!(decode_exact::<Genesis>(&bytes).unwrap(), tight);
        assert_ne!(
            crate::crypto::sha256(&[&bytes]),
            crate::crypto::sha256(&[&encode_to_vec(&plain)])
        );
        tight.check_params().unwrap();
        let zero = Genesis {
            params: ChainParams {
                max_nonce_gap: 0,
                ..tight.params
            },
            ..tight
        };
        assert!(zero.check_params().is_err());
    }
}
