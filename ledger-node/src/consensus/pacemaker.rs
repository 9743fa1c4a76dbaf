//! The pacemaker: which view a validator is in, when it gives up on it, and how timeouts from
//! the committee turn into a timeout certificate.
//!
//! A view ends when a QC for it (or a later one) is seen, or when 2f+1 validators time out on it
//! (a TC). Each view's timer is `base * 2^k`, capped, where k counts views in a row that ended by
//! timeout: the wait grows while views fail (so it eventually exceeds the real message delay) and
//! falls back to `base` as soon as a QC shows progress. f+1 validators timing out in views at
//! or above w (ours or higher) prove that at least one honest validator gave up on a view that
//! high, so we join w at once rather than waiting out our own timer: this is what lets a
//! partitioned or restarted validator catch up. Counting views at or above w, not w alone (the
//! rule of PBFT's view change), matters when validators sit in different views with no
//! certificate to show for them, as after restarts: one timeout per view never adds up to f+1
//! in any one view, and no timeout certificate would ever form. Time is only ever the `now_ms`
//! handed in.

use std::collections::BTreeMap;

use crate::committee::Committee;
use crate::consensus::aggregator::{AggregationStats, Aggregator};
use crate::ids::View;
use crate::types::{TimeoutCert, timeout_signing_bytes};

/// Timer settings.
#[derive(Clone, Debug)]
pub struct PacemakerConfig {
    /// Timeout of a view after progress.
    pub base_timeout_ms: u64,
    /// Cap on the backed-off timeout.
    pub max_timeout_ms: u64,
}

impl Default for PacemakerConfig {
    fn default() -> Self {
        Self {
            base_timeout_ms: 1_000,
            max_timeout_ms: 60_000,
        }
    }
}

/// What a newly counted timeout brought about.
#[derive(Debug, Default)]
pub struct TimeoutOutcome {
    /// f+1 validators gave up on views at or above this one (>= ours, and not ours if we timed
    /// out on it already): join it.
    pub join: Option<View>,
    /// 2f+1 did: the certificate.
    pub tc: Option<TimeoutCert>,
}

/// View state of one validator.
#[derive(Debug)]
pub struct Pacemaker {
    config: PacemakerConfig,
    view: View,
    failures: u32,
    timed_out: bool,
    high_tc: Option<TimeoutCert>,
    timeouts: BTreeMap<View, Aggregator>,
}

impl Pacemaker {
    /// Starts in `view`.
    pub fn new(config: PacemakerConfig, view: View) -> Self {
        Self {
            config,
            view,
            failures: 0,
            timed_out: false,
            high_tc: None,
            timeouts: BTreeMap::new(),
        }
    }

    /// The current view.
    pub fn view(&self) -> View {
        self.view
    }

    /// Views in a row that ended without a QC.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The highest TC seen.
    pub fn high_tc(&self) -> Option<&TimeoutCert> {
        self.high_tc.as_ref()
    }

    /// Whether we already gave up on the current view.
    pub fn timed_out(&self) -> bool {
        self.timed_out
    }

    /// Marks the current view as given up on.
    pub fn mark_timed_out(&mut self) {
        self.timed_out = true;
    }

    /// Timer length for the current view: `base * 2^failures`, capped.
    pub fn timeout_ms(&self) -> u64 {
        let factor = 1u64.checked_shl(self.failures.min(20)).unwrap_or(u64::MAX);
        self.config
            .base_timeout_ms
            .saturating_mul(factor)
            .min(self.config.max_timeout_ms)
    }

    /// Moves to `view` if it is newer. `progress` is true when a QC caused it (resets the
    /// backoff) and false for a TC or a join (grows it). Returns whether the view changed.
    pub fn advance(&mut self, view: View, progress: bool) -> bool {
        if view <= self.view {
            if progress && view == self.view {
                self.failures = 0;
            }
            return false;
        }
        self.view = view;
        self.timed_out = false;
        self.failures = if progress {
            0
        } else {
            self.failures.saturating_add(1)
        };
        // Timeouts for views we left can no longer matter.
        self.timeouts = self.timeouts.split_off(&view);
        true
    }

    /// Records a TC; returns the view it leads to.
    pub fn record_tc(&mut self, tc: TimeoutCert) -> View {
        let next = tc.view.saturating_add(1);
        if self.high_tc.as_ref().is_none_or(|h| h.view < tc.view) {
            self.high_tc = Some(tc);
        }
        next
    }

    /// Counts a timeout (ours or a peer's) for `t_view` signed by `signer`.
    pub fn add_timeout(
        &mut self,
        c: &Committee,
        t_view: View,
        signer: u16,
        sig: crate::crypto::Signature,
        stats: &mut AggregationStats,
    ) -> TimeoutOutcome {
        let mut out = TimeoutOutcome::default();
        if t_view < self.view {
            return out;
        }
        let agg = self
            .timeouts
            .entry(t_view)
            .or_insert_with(|| Aggregator::new(timeout_signing_bytes(c.epoch(), t_view).to_vec()));
        if !agg.add(signer, sig) || agg.is_certified() {
            return out;
        }
        if let Some(w) = self.join_view(c.join_threshold())
            && !(w == self.view && self.timed_out)
        {
            out.join = Some(w);
        }
        let Some(agg) = self.timeouts.get_mut(&t_view) else {
            return out;
        };
        if let Some((signers, signature)) = agg.try_certify(c, stats) {
            out.tc = Some(TimeoutCert {
                epoch: c.epoch(),
                view: t_view,
                signers,
                signature,
            });
        }
        out
    }

    /// The highest view w such that `threshold` distinct validators timed out in views at or
    /// above w (only views at or above ours are held).
    fn join_view(&self, threshold: usize) -> Option<View> {
        let mut signers = std::collections::BTreeSet::new();
        for (&view, agg) in self.timeouts.iter().rev() {
            signers.extend(agg.signers());
            if signers.len() >= threshold {
                return Some(view);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_on_failure_and_resets_on_progress() {
        let mut p = Pacemaker::new(
            PacemakerConfig {
                base_timeout_ms: 100,
                max_timeout_ms: 1000,
            },
            1,
        );
        assert_eq!(p.timeout_ms(), 100);
        assert!(p.advance(2, false));
        assert!(p.advance(3, false));
        assert_eq!(p.timeout_ms(), 400);
        assert!(p.advance(7, false));
        assert!(p.advance(8, false));
        assert_eq!(p.timeout_ms(), 1000);
        assert!(!p.advance(8, false));
        assert!(p.advance(9, true));
        assert_eq!(p.timeout_ms(), 100);
    }

    #[test]
    fn joins_the_highest_view_that_f_plus_one_validators_reached() {
        let keys: Vec<_> = (0..4).map(|i| crate::crypto::KeyPair::for_test(3, i)).collect();
        let c = Committee::of_keys(0, &keys, crate::committee::LeaderRule::RoundRobin).unwrap();
        let mut stats = AggregationStats::default();
        let mut timeout = |p: &mut Pacemaker, view: View, signer: u16| {
            let sig = keys[usize::from(signer)].sign(&timeout_signing_bytes(0, view));
            p.add_timeout(&c, view, signer, sig, &mut stats)
        };
        // Restarted validators in views 100..=103: one timeout per view.
        let mut p = Pacemaker::new(PacemakerConfig::default(), 100);
        assert_eq!(timeout(&mut p, 103, 3).join, None, "one validator proves nothing");
        assert_eq!(
            timeout(&mut p, 101, 1).join,
            Some(101),
            "3 and 1 got to 101 or beyond"
        );
        assert!(p.advance(101, false));
        p.mark_timed_out();
        assert_eq!(
            timeout(&mut p, 102, 2).join,
            Some(102),
            "2 and 3 got to 102 or beyond"
        );
        // Byzantine timeouts alone (f = 1) drag no one: a second one from 3 counts once.
        let mut q = Pacemaker::new(PacemakerConfig::default(), 5);
        assert_eq!(timeout(&mut q, 900, 3).join, None);
        assert_eq!(timeout(&mut q, 950, 3).join, None);
        // In our own view, as before: f+1 timeouts make us time out too, once.
        assert_eq!(timeout(&mut q, 5, 0).join, Some(5), "0 at 5 and 3 beyond it");
    }
}
