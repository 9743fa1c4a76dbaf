//! The committee: who votes in an epoch, how many faults it tolerates, who leads each view.
//!
//! A committee of n = 3f+1 validators tolerates f Byzantine members; any two quorums of 2f+1
//! share at least f+1 members, so at least one honest one. Formation refuses anything that would
//! break that arithmetic: a key without a valid proof of possession, a duplicated key, a size that
//! is not 3f+1, or an operator hosting f+1 or more virtual validators (one machine going bad
//! would then be more than f faults).

use std::collections::HashMap;
use std::sync::Arc;

use crate::crypto::{KeyPair, PublicKey, Signature, VerifyCache, verify_pop};
use crate::error::{Error, Result};
use crate::ids::{ValidatorIndex, View};

/// Largest committee the codec and bitmaps accept.
pub const MAX_COMMITTEE: usize = 1024;
/// Longest operator name.
pub const MAX_OPERATOR_LEN: usize = 64;

/// One registered validator identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorInfo {
    /// Its BLS public key.
    pub public_key: PublicKey,
    /// Its signature over its own public key under the proof-of-possession tag.
    pub pop: Signature,
    /// Who runs it. One operator (a bank) may host several virtual validators, but never f+1.
    pub operator: String,
}

/// How the leader of a view is chosen. Every validator evaluates the same rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeaderRule {
    /// Leader of view v is member v mod n.
    RoundRobin,
    /// Leaders of views 1, 2, ... are read from the list; after it ends, round robin. Used by
    /// the twins search to explore leader schedules; a deployment keeps `RoundRobin`.
    Schedule(Vec<ValidatorIndex>),
}

/// A formed committee: validated keys, thresholds, leader rule, and a cache of certificates that
/// already verified (shared by clones; see [`Committee::detached`]).
#[derive(Clone, Debug)]
pub struct Committee {
    epoch: u64,
    members: Vec<ValidatorInfo>,
    f: usize,
    leader_rule: LeaderRule,
    cache: Arc<VerifyCache>,
}

impl Committee {
    /// The committee of `keys` in order, member i run by operator `op{i}`, each with its proof
    /// of possession: the one set-up of test committees, simulations and local networks.
    pub fn of_keys(epoch: u64, keys: &[KeyPair], leader_rule: LeaderRule) -> Result<Self> {
        let members = keys
            .iter()
            .enumerate()
            .map(|(i, k)| ValidatorInfo {
                public_key: *k.public(),
                pop: k.proof_of_possession(),
                operator: format!("op{i}"),
            })
            .collect();
        Self::new(epoch, members, leader_rule)
    }

    /// Forms a committee, checking every rule in the module doc.
    pub fn new(epoch: u64, members: Vec<ValidatorInfo>, leader_rule: LeaderRule) -> Result<Self> {
        let n = members.len();
        if !(4..=MAX_COMMITTEE).contains(&n) || !(n - 1).is_multiple_of(3) {
            return Err(Error::Committee {
                why: format!("size {n} is not 3f+1 with 4 <= n <= {MAX_COMMITTEE}"),
            });
        }
        let f = (n - 1) / 3;
        let mut keys = HashMap::new();
        let mut per_operator: HashMap<&str, usize> = HashMap::new();
        for (i, m) in members.iter().enumerate() {
            verify_pop(&m.public_key, &m.pop).map_err(|_| Error::Committee {
                why: format!("member {i} has no valid proof of possession"),
            })?;
            if let Some(j) = keys.insert(m.public_key.to_bytes(), i) {
                return Err(Error::Committee {
                    why: format!("members {j} and {i} share a key"),
                });
            }
            if m.operator.is_empty() || m.operator.len() > MAX_OPERATOR_LEN {
                return Err(Error::Committee {
                    why: format!("member {i} has an operator name of bad length"),
                });
            }
            let count = per_operator.entry(m.operator.as_str()).or_default();
            *count += 1;
            if *count > f {
                return Err(Error::Committee {
                    why: format!(
                        "operator {:?} controls {} identities, at most f = {f} allowed",
                        m.operator, count
                    ),
                });
            }
        }
        if let LeaderRule::Schedule(s) = &leader_rule
            && s.iter().any(|&l| usize::from(l) >= n)
        {
            return Err(Error::Committee {
                why: "leader schedule names a non-member".into(),
            });
        }
        Ok(Self {
            epoch,
            members,
            f,
            leader_rule,
            cache: Arc::new(VerifyCache::default()),
        })
    }

    /// The same committee with its own, empty verification cache (so a simulated validator pays
    /// for its own verifications, as a real process would).
    pub fn detached(&self) -> Self {
        Self {
            cache: Arc::new(VerifyCache::default()),
            ..self.clone()
        }
    }

    /// The same members and cache under another leader rule (the twins search explores leader
    /// schedules without re-checking proofs of possession every time).
    pub fn with_leader_rule(&self, leader_rule: LeaderRule) -> Result<Self> {
        if let LeaderRule::Schedule(s) = &leader_rule
            && s.iter().any(|&l| usize::from(l) >= self.size())
        {
            return Err(Error::Committee {
                why: "leader schedule names a non-member".into(),
            });
        }
        Ok(Self {
            leader_rule,
            ..self.clone()
        })
    }

    /// The epoch this committee signs for.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }
    /// Number of validators, n.
    pub fn size(&self) -> usize {
        self.members.len()
    }
    /// Faults tolerated, f = (n-1)/3.
    pub fn f(&self) -> usize {
        self.f
    }
    /// Signers needed for a certificate: 2f+1.
    pub fn quorum(&self) -> usize {
        2 * self.f + 1
    }
    /// Distinct timeouts that make a validator join a view change early: f+1 (at least one honest).
    pub fn join_threshold(&self) -> usize {
        self.f + 1
    }
    /// All members in index order.
    pub fn members(&self) -> &[ValidatorInfo] {
        &self.members
    }
    /// The leader rule.
    pub fn leader_rule(&self) -> &LeaderRule {
        &self.leader_rule
    }
    /// Public key of member `i`, if it exists.
    pub fn public_key(&self, i: ValidatorIndex) -> Option<&PublicKey> {
        self.members.get(usize::from(i)).map(|m| &m.public_key)
    }
    /// The leader of `view`.
    pub fn leader(&self, view: View) -> ValidatorIndex {
        let n = self.members.len() as u64;
        let rr = ValidatorIndex::try_from(view % n)
            .expect("a committee has at most MAX_COMMITTEE members, so any index fits");
        match &self.leader_rule {
            LeaderRule::RoundRobin => rr,
            LeaderRule::Schedule(s) => usize::try_from(view)
                .ok()
                .and_then(|v| v.checked_sub(1))
                .and_then(|i| s.get(i).copied())
                .unwrap_or(rr),
        }
    }
    /// The cache of certificates that verified.
    pub fn cache(&self) -> &VerifyCache {
        &self.cache
    }

    /// Names the committee in proofs: `SHA-256("CYPHERLINK-COMMITTEE-V1" || n u16-BE || each
    /// member's compressed BLS key in index order)`. Only the keys (and their order, which
    /// signer bitmaps index) decide which certificates verify, so only they are hashed.
    pub fn digest(&self) -> [u8; 32] {
        let n = u16::try_from(self.members.len())
            .expect("a committee has at most MAX_COMMITTEE members")
            .to_be_bytes();
        let keys: Vec<_> = self.members.iter().map(|m| m.public_key.to_bytes()).collect();
        let mut parts: Vec<&[u8]> = vec![b"CYPHERLINK-COMMITTEE-V1", &n];
        parts.extend(keys.iter().map(|k| k.as_slice()));
        crate::crypto::sha256(&parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::KeyPair;

    fn info(k: &KeyPair, op: &str) -> ValidatorInfo {
        ValidatorInfo {
            public_key: *k.public(),
            pop: k.proof_of_possession(),
            operator: op.into(),
        }
    }

    #[test]
    fn forms_with_valid_pops_and_rotates_leaders() {
        let keys: Vec<_> = (0..4).map(|i| KeyPair::for_test(1, i)).collect();
        let members = keys
            .iter()
            .enumerate()
            .map(|(i, k)| info(k, &format!("bank{i}")))
            .collect();
        let c = Committee::new(3, members, LeaderRule::RoundRobin).unwrap();
        assert_eq!((c.size(), c.f(), c.quorum(), c.join_threshold()), (4, 1, 3, 2));
        assert_eq!(c.leader(5), 1);
    }

    #[test]
    fn refuses_missing_pop_duplicates_bad_sizes_and_dominant_operators() {
        let keys: Vec<_> = (0..7).map(|i| KeyPair::for_test(2, i)).collect();
        let good: Vec<_> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| info(k, &format!("op{i}")))
            .collect();
        let mut bad_pop = good[..4].to_vec();
        bad_pop[1].pop = keys[2].proof_of_possession();
        assert!(Committee::new(0, bad_pop, LeaderRule::RoundRobin).is_err());
        let mut dup = good[..4].to_vec();
        dup[3] = dup[0].clone();
        assert!(Committee::new(0, dup, LeaderRule::RoundRobin).is_err());
        assert!(Committee::new(0, good[..5].to_vec(), LeaderRule::RoundRobin).is_err());
        // n = 7, f = 2: an operator may host two identities but not three.
        let mut ops = good.clone();
        ops[1].operator = "op0".into();
        assert!(Committee::new(0, ops.clone(), LeaderRule::RoundRobin).is_ok());
        ops[2].operator = "op0".into();
        assert!(Committee::new(0, ops, LeaderRule::RoundRobin).is_err());
    }

    #[test]
    fn digest_names_the_keys_in_order() {
        let keys: Vec<_> = (0..5).map(|i| KeyPair::for_test(4, i)).collect();
        let members: Vec<_> = keys.iter().map(|k| info(k, "x")).collect();
        let form = |m: &[ValidatorInfo], op: &str| {
            let m: Vec<_> = m
                .iter()
                .enumerate()
                .map(|(i, v)| ValidatorInfo {
                    operator: format!("{op}{i}"),
                    ..v.clone()
                })
                .collect();
            Committee::new(0, m, LeaderRule::RoundRobin).unwrap().digest()
        };
        let d = form(&members[..4], "a");
        assert_eq!(d, form(&members[..4], "b"), "operators are not part of it");
        let mut swapped = members[..4].to_vec();
        swapped.swap(0, 1);
        assert_ne!(d, form(&swapped, "a"));
        let mut other = members[..4].to_vec();
        other[3] = members[4].clone();
        assert_ne!(d, form(&other, "a"));
    }

    #[test]
    fn schedule_overrides_then_falls_back() {
        let keys: Vec<_> = (0..4).map(|i| KeyPair::for_test(1, i)).collect();
        let members = keys
            .iter()
            .enumerate()
            .map(|(i, k)| info(k, &format!("b{i}")))
            .collect();
        let c = Committee::new(0, members, LeaderRule::Schedule(vec![3, 3, 0])).unwrap();
        assert_eq!([c.leader(1), c.leader(2), c.leader(3), c.leader(6)], [3, 3, 0, 2]);
    }
}
