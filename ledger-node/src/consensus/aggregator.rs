//! Turning 2f+1 individual signatures on one message into a certificate.
//!
//! The happy path costs one aggregation (cheap point additions) and one pairing check, however
//! large the committee. Only if that check fails — some signer sent garbage — are the signatures
//! checked one by one; the bad ones are thrown out (and counted) and the rest still certify once
//! enough good ones are present, so one bad vote can neither stall nor poison a round.

use std::collections::BTreeMap;

use crate::committee::Committee;
use crate::crypto::{self, Signature};
use crate::ids::ValidatorIndex;
use crate::types::SignerBitmap;

/// Counters of the aggregation work done (for benchmarks and metrics).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AggregationStats {
    /// Aggregate pairing checks made.
    pub aggregate_checks: u64,
    /// Individual signature checks made after an aggregate failed.
    pub fallback_checks: u64,
    /// Signatures found bad and discarded.
    pub bad_signatures: u64,
}

/// Signatures collected for one message.
#[derive(Debug)]
pub struct Aggregator {
    msg: Vec<u8>,
    sigs: BTreeMap<ValidatorIndex, (Signature, bool)>,
    certified: bool,
}

impl Aggregator {
    /// Starts collecting signatures on `msg`.
    pub fn new(msg: Vec<u8>) -> Self {
        Self {
            msg,
            sigs: BTreeMap::new(),
            certified: false,
        }
    }

    /// Adds a signature; false when `signer` already contributed.
    pub fn add(&mut self, signer: ValidatorIndex, sig: Signature) -> bool {
        if self.sigs.contains_key(&signer) {
            return false;
        }
        self.sigs.insert(signer, (sig, false));
        true
    }

    /// Distinct signers so far (checked or not).
    pub fn len(&self) -> usize {
        self.sigs.len()
    }

    /// The distinct signers so far (checked or not).
    pub fn signers(&self) -> impl Iterator<Item = ValidatorIndex> + '_ {
        self.sigs.keys().copied()
    }

    /// Whether nothing was collected.
    pub fn is_empty(&self) -> bool {
        self.sigs.is_empty()
    }

    /// Whether a certificate was already produced (later signatures add nothing).
    pub fn is_certified(&self) -> bool {
        self.certified
    }

    /// With at least a quorum collected, returns the signer bitmap and aggregate signature of a
    /// valid certificate, or `None` if too few good signatures remain.
    pub fn try_certify(
        &mut self,
        c: &Committee,
        stats: &mut AggregationStats,
    ) -> Option<(SignerBitmap, Signature)> {
        if self.certified || self.sigs.len() < c.quorum() {
            return None;
        }
        let (bitmap, agg) = self.aggregate(c)?;
        stats.aggregate_checks += 1;
        let pks: Vec<_> = bitmap.iter().filter_map(|i| c.public_key(i)).collect();
        if crypto::fast_aggregate_verify(&pks, &self.msg, &agg) {
            self.certified = true;
            return Some((bitmap, agg));
        }
        // Fallback: find the bad signatures among those not yet checked alone.
        let msg = &self.msg;
        self.sigs.retain(|&i, (sig, checked)| {
            if *checked {
                return true;
            }
            stats.fallback_checks += 1;
            let ok = c.public_key(i).is_some_and(|pk| crypto::verify(pk, msg, sig));
            if !ok {
                stats.bad_signatures += 1;
            }
            *checked = ok;
            ok
        });
        if self.sigs.len() < c.quorum() {
            return None;
        }
        // Every remaining signature verified alone, so their sum verifies.
        let cert = self.aggregate(c)?;
        self.certified = true;
        Some(cert)
    }

    fn aggregate(&self, c: &Committee) -> Option<(SignerBitmap, Signature)> {
        let mut bitmap = SignerBitmap::new(c.size());
        let mut sigs = Vec::with_capacity(self.sigs.len());
        for (&i, (s, _)) in &self.sigs {
            bitmap.set(i);
            sigs.push(s);
        }
        crypto::aggregate(&sigs).ok().map(|a| (bitmap, a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::committee::LeaderRule;
    use crate::crypto::KeyPair;

    fn committee(keys: &[KeyPair]) -> Committee {
        Committee::of_keys(0, keys, LeaderRule::RoundRobin).unwrap()
    }

    #[test]
    fn certifies_with_one_check_and_survives_a_bad_signature() {
        let keys: Vec<_> = (0..4).map(|i| KeyPair::for_test(9, i)).collect();
        let c = committee(&keys);
        let msg = b"block".to_vec();
        let mut stats = AggregationStats::default();

        let mut good = Aggregator::new(msg.clone());
        for i in 0..3u16 {
            assert!(good.add(i, keys[usize::from(i)].sign(&msg)));
        }
        assert!(!good.add(0, keys[0].sign(&msg)));
        assert!(good.try_certify(&c, &mut stats).is_some());
        assert_eq!(stats.aggregate_checks, 1);
        assert_eq!(stats.fallback_checks, 0);

        let mut mixed = Aggregator::new(msg.clone());
        mixed.add(0, keys[0].sign(&msg));
        mixed.add(1, keys[1].sign(b"something else"));
        mixed.add(2, keys[2].sign(&msg));
        assert!(mixed.try_certify(&c, &mut stats).is_none());
        assert_eq!(stats.bad_signatures, 1);
        assert_eq!(mixed.len(), 2);
        mixed.add(3, keys[3].sign(&msg));
        let (bitmap, _) = mixed.try_certify(&c, &mut stats).unwrap();
        assert_eq!(bitmap.iter().collect::<Vec<_>>(), vec![0, 2, 3]);
    }
}
