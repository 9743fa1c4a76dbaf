//! The timeout ladder. The outgoing escrow must expire early enough that, if the receiver
//! fulfils it at the last moment, the connector still learns the preimage (outgoing ledger's
//! finality), fulfils the incoming escrow (incoming ledger's finality) and absorbs any clock
//! difference between the ledgers, all before the incoming escrow expires:
//!
//! `outgoing expiry = incoming expiry − (finality_in + finality_out + clock skew + processing)`
//!
//! capped at `now + max hold`, so a sender cannot lock the connector's liquidity for long. The
//! result must still leave the next hop at least `min_outgoing_window` plus the outgoing ledger's
//! finality to act, or the payment is refused with R02 Insufficient Timeout.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))] // money and limits: every sum is checked

use htlc::{ErrorCode, Timestamp};
use serde::{Deserialize, Serialize};

use super::Rejection;

/// The connector's timing rules, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExpiryPolicy {
    /// How far apart the ledgers' clocks may be.
    pub clock_skew_ms: u64,
    /// Time the connector itself needs to react to a fulfillment (database write + request).
    pub processing_ms: u64,
    /// The longest the connector locks its own funds for one payment.
    pub max_hold_ms: u64,
    /// The least time the next hop is given to fulfil.
    pub min_outgoing_window_ms: u64,
}

impl Default for ExpiryPolicy {
    fn default() -> Self {
        ExpiryPolicy {
            clock_skew_ms: 1_000,
            processing_ms: 1_000,
            max_hold_ms: 30_000,
            min_outgoing_window_ms: 2_000,
        }
    }
}

/// The finality times of the two ledgers of a corridor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finality {
    /// Incoming ledger, ms.
    pub incoming_ms: u64,
    /// Outgoing ledger, ms.
    pub outgoing_ms: u64,
}

fn millis(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

impl ExpiryPolicy {
    /// The margin kept between the incoming and the outgoing expiry.
    pub fn margin_ms(&self, finality: Finality) -> u64 {
        finality
            .incoming_ms
            .saturating_add(finality.outgoing_ms)
            .saturating_add(self.clock_skew_ms)
            .saturating_add(self.processing_ms)
    }

    /// The least time the outgoing escrow must stay open for the next hop.
    pub fn min_outgoing_window(&self, finality: Finality) -> u64 {
        self.min_outgoing_window_ms.saturating_add(finality.outgoing_ms)
    }

    /// The outgoing expiry for an incoming leg expiring at `incoming_expires_at`, or R02.
    pub fn outgoing_expiry(
        &self,
        incoming_expires_at: Timestamp,
        finality: Finality,
        now: Timestamp,
    ) -> Result<Timestamp, Rejection> {
        let insufficient = |detail: String| Rejection::new(ErrorCode::R02_INSUFFICIENT_TIMEOUT, detail);
        let margin = self.margin_ms(finality);
        let ladder = millis(margin)
            .checked_neg()
            .and_then(|back| incoming_expires_at.checked_add_millis(back))
            .ok_or_else(|| insufficient("expiry too early".into()))?;
        let cap = now
            .checked_add_millis(millis(self.max_hold_ms))
            .unwrap_or(Timestamp::MAX);
        let outgoing = ladder.min(cap);
        let window = outgoing.millis_since(now);
        let needed = self.min_outgoing_window(finality);
        if window < millis(needed) {
            return Err(insufficient(format!(
                "incoming expiry {incoming_expires_at} leaves {window} ms for the next hop after a {margin} ms margin; {needed} ms needed"
            )));
        }
        Ok(outgoing)
    }

    /// How long before its expiry a sender must start a payment over this corridor so that it
    /// fits: margin plus the next hop's window. Quotes ask senders for at least this much.
    pub fn required_incoming_window(&self, finality: Finality) -> u64 {
        self.margin_ms(finality)
            .saturating_add(self.min_outgoing_window(finality))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const F: Finality = Finality {
        incoming_ms: 500,
        outgoing_ms: 300,
    };

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(ms).unwrap()
    }

    #[test]
    fn the_outgoing_leg_expires_a_margin_earlier() {
        let p = ExpiryPolicy::default();
        // margin = 500 + 300 + 1000 + 1000 = 2800
        assert_eq!(p.margin_ms(F), 2_800);
        assert_eq!(p.outgoing_expiry(t(20_000), F, t(0)), Ok(t(17_200)));
    }

    #[test]
    fn the_hold_is_capped() {
        let p = ExpiryPolicy::default();
        assert_eq!(p.outgoing_expiry(t(600_000), F, t(0)), Ok(t(30_000)));
    }

    #[test]
    fn too_little_time_is_r02() {
        let p = ExpiryPolicy::default();
        let needed = p.required_incoming_window(F);
        assert_eq!(needed, 2_800 + 2_300);
        let just_enough = millis(needed);
        assert!(p.outgoing_expiry(t(just_enough), F, t(0)).is_ok());
        let err = p.outgoing_expiry(t(just_enough - 1), F, t(0)).unwrap_err();
        assert_eq!(err.code, ErrorCode::R02_INSUFFICIENT_TIMEOUT);
    }

    proptest! {
        /// Whenever a payment is forwarded, the connector keeps at least its full margin before
        /// the incoming expiry and gives the next hop at least its window.
        #[test]
        fn the_ladder_always_keeps_its_margin(
            incoming in 0i64..10_000_000, now in 0i64..10_000_000,
            fin_in in 0u64..5_000, fin_out in 0u64..5_000, skew in 0u64..5_000,
        ) {
            let p = ExpiryPolicy { clock_skew_ms: skew, ..ExpiryPolicy::default() };
            let f = Finality { incoming_ms: fin_in, outgoing_ms: fin_out };
            if let Ok(out) = p.outgoing_expiry(t(incoming), f, t(now)) {
                prop_assert!(t(incoming).millis_since(out) >= millis(p.margin_ms(f)));
                prop_assert!(out.millis_since(t(now)) >= millis(p.min_outgoing_window(f)));
                prop_assert!(out.millis_since(t(now)) <= millis(p.max_hold_ms));
            }
        }
    }
}
