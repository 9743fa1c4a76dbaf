//! Rate limits of submissions: a token bucket per signing account and one per client address
//! ([`crate::node::config::AdmissionLimits`]). Pure: every call takes the time, so the rules are
//! tested without sleeping; the API passes the node's clock.
//!
//! Memory is bounded: a bucket that has refilled is the same as no bucket, so it is forgotten
//! first when the table is full; if every bucket is busy, the least recently used eighth goes
//! (those sources start again with a full bucket, which errs on the side of serving them).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;

use crate::node::config::AdmissionLimits;
use crate::state::AccountId;

/// What a [`Buckets::take`] got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Taken {
    /// Tokens granted (the first `granted` of the transactions go through).
    pub granted: u32,
    /// If fewer than asked: whole seconds (at least 1) until the rest, up to a burst, would be
    /// granted; the `Retry-After` of the answer.
    pub retry_after_s: Option<u64>,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at_ms: u64,
}

/// `x` rounded toward zero to a whole count, saturating: negative or NaN gives 0, past `u64::MAX`
/// gives `u64::MAX` (what float-to-int `as` does). The rule wanted for whole tokens and seconds.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn saturating_u64(x: f64) -> u64 {
    x as u64
}

/// Token buckets keyed by source.
#[derive(Debug)]
pub struct Buckets<K> {
    per_ms: f64,
    burst: f64,
    max_keys: usize,
    map: HashMap<K, Bucket>,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    /// Buckets of `burst` tokens refilling at `per_s` a second, at most `max_keys` of them.
    pub fn new(per_s: f64, burst: u32, max_keys: usize) -> Self {
        Self {
            per_ms: per_s / 1_000.0,
            burst: f64::from(burst.max(1)),
            max_keys: max_keys.max(1),
            map: HashMap::new(),
        }
    }

    /// Buckets held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn refilled(&self, b: &Bucket, now_ms: u64) -> f64 {
        // A clock that steps back refills nothing (and takes nothing back).
        let elapsed = now_ms.saturating_sub(b.at_ms) as f64;
        (b.tokens + elapsed * self.per_ms).min(self.burst)
    }

    /// Takes up to `n` tokens from `key`'s bucket at `now_ms`.
    pub fn take(&mut self, key: &K, n: u32, now_ms: u64) -> Taken {
        if !self.map.contains_key(key) {
            self.make_room(now_ms);
        }
        let fresh = Bucket {
            tokens: self.burst,
            at_ms: now_ms,
        };
        let current = self.map.get(key).copied().unwrap_or(fresh);
        let mut tokens = self.refilled(&current, now_ms);
        let granted = u32::try_from(saturating_u64(tokens.floor())).map_or(n, |whole| whole.min(n));
        tokens -= f64::from(granted);
        self.map.insert(
            key.clone(),
            Bucket {
                tokens,
                at_ms: now_ms.max(current.at_ms),
            },
        );
        let retry_after_s = (granted < n).then(|| {
            let wanted = f64::from(n - granted).min(self.burst);
            let ms = (wanted - tokens) / self.per_ms;
            saturating_u64((ms / 1_000.0).ceil()).max(1)
        });
        Taken {
            granted,
            retry_after_s,
        }
    }

    /// Before adding a bucket to a full table: forgets the refilled ones, else the least
    /// recently used eighth (so a flood of new keys costs amortised constant time per key).
    fn make_room(&mut self, now_ms: u64) {
        if self.map.len() < self.max_keys {
            return;
        }
        let (per_ms, burst) = (self.per_ms, self.burst);
        self.map.retain(|_, b| {
            let elapsed = now_ms.saturating_sub(b.at_ms) as f64;
            b.tokens + elapsed * per_ms < burst
        });
        if self.map.len() < self.max_keys {
            return;
        }
        let mut ages: Vec<u64> = self.map.values().map(|b| b.at_ms).collect();
        let cut = (ages.len() / 8).max(1);
        let (_, &mut oldest_kept, _) = ages.select_nth_unstable(cut - 1);
        let mut to_drop = cut;
        self.map.retain(|_, b| {
            if to_drop > 0 && b.at_ms <= oldest_kept {
                to_drop -= 1;
                false
            } else {
                true
            }
        });
    }
}

/// The client a request is counted against: its IPv4 address, or its IPv6 /64 network.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The node's buckets.
#[derive(Debug)]
pub struct RateLimits {
    /// Per signing account (charged once a transaction is judged admissible, so a forged or
    /// junk transaction naming a victim's account cannot drain the victim's bucket).
    pub accounts: Buckets<AccountId>,
    /// Per client address (charged before anything else is checked).
    pub clients: Buckets<IpAddr>,
}

impl RateLimits {
    /// Buckets for these limits.
    pub fn new(l: &AdmissionLimits) -> Self {
        Self {
            accounts: Buckets::new(l.account_tx_per_s, l.account_burst, l.max_tracked),
            clients: Buckets::new(l.client_tx_per_s, l.client_burst, l.max_tracked),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_grants_its_burst_then_its_rate() {
        let mut b = Buckets::new(2.0, 5, 10);
        let t0 = 1_000_000;
        assert_eq!(
            b.take(&1, 5, t0),
            Taken {
                granted: 5,
                retry_after_s: None
            }
        );
        // Empty: one token comes every 500 ms, so the next is half a second away: 1 s.
        assert_eq!(
            b.take(&1, 1, t0),
            Taken {
                granted: 0,
                retry_after_s: Some(1)
            }
        );
        assert_eq!(b.take(&1, 1, t0 + 499).granted, 0);
        assert_eq!(b.take(&1, 1, t0 + 500).granted, 1);
        // After a long pause it is full again, never fuller.
        assert_eq!(b.take(&1, 9, t0 + 3_600_000).granted, 5);
        // Another source has its own bucket.
        assert_eq!(b.take(&2, 1, t0).granted, 1);
    }

    #[test]
    fn a_batch_takes_what_there_is_and_learns_when_the_rest_fits() {
        let mut b = Buckets::new(10.0, 100, 10);
        let t0 = 5_000;
        let first = b.take(&"client", 60, t0);
        assert_eq!(first.granted, 60);
        let second = b.take(&"client", 70, t0);
        // 40 left: 40 granted; the other 30 need 3 s at 10 a second.
        assert_eq!(
            second,
            Taken {
                granted: 40,
                retry_after_s: Some(3)
            }
        );
        // More than a burst can never pass at once: the wait is for a full bucket.
        let huge = b.take(&"client", 1_000, t0);
        assert_eq!(
            huge,
            Taken {
                granted: 0,
                retry_after_s: Some(10)
            }
        );
    }

    #[test]
    fn retry_after_is_a_whole_second_at_least_and_rounds_up() {
        let mut fast = Buckets::new(1_000.0, 1, 10);
        fast.take(&0, 1, 0);
        assert_eq!(fast.take(&0, 1, 0).retry_after_s, Some(1));
        let mut slow = Buckets::new(0.001, 1, 10);
        slow.take(&0, 1, 0);
        assert_eq!(slow.take(&0, 1, 1).retry_after_s, Some(1_000));
    }

    #[test]
    fn a_clock_stepping_back_refills_nothing() {
        let mut b = Buckets::new(1.0, 2, 10);
        b.take(&0, 2, 10_000);
        assert_eq!(b.take(&0, 1, 5_000).granted, 0);
        // Time counts again from the latest instant seen, not the earlier one.
        assert_eq!(b.take(&0, 1, 10_999).granted, 0);
        assert_eq!(b.take(&0, 1, 11_000).granted, 1);
    }

    #[test]
    fn memory_is_bounded_and_idle_sources_are_forgotten_before_busy_ones() {
        let mut b = Buckets::new(1.0, 10, 100);
        // A busy source, drained at 0 s: full again only at 10 s.
        b.take(&u32::MAX, 10, 0);
        // 99 others take a token each; one second later theirs are full again (idle).
        for k in 0..99u32 {
            b.take(&k, 1, 1 + u64::from(k));
        }
        assert_eq!(b.len(), 100);
        // A newcomer at 5 s: the table is full, the idle ones go, the busy one stays.
        b.take(&1_000, 1, 5_000);
        assert_eq!(b.len(), 2);
        // Still 5 s short of full: it was not handed a fresh bucket.
        assert_eq!(b.take(&u32::MAX, 10, 5_000).granted, 5);
        // A flood of new sources never takes more than the bound.
        for k in 2_000..10_000u32 {
            b.take(&k, 1, 6_000 + u64::from(k));
            assert!(b.len() <= 100, "{} buckets", b.len());
        }
    }

    #[test]
    fn when_every_source_is_busy_the_least_recently_used_go_first() {
        let mut b = Buckets::new(0.001, 5, 16);
        for k in 0..16u32 {
            b.take(&k, 5, u64::from(k));
        }
        b.take(&100, 1, 100);
        assert!(b.len() <= 16);
        // Source 0 (the oldest) was forgotten and starts full; source 15 was kept, still empty.
        assert_eq!(b.take(&15, 1, 101).granted, 0);
        assert_eq!(b.take(&0, 5, 101).granted, 5);
    }

    #[test]
    fn ipv6_clients_count_per_64_network_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(client_key(mapped), "10.0.0.1".parse::<IpAddr>().unwrap());
    }
}
