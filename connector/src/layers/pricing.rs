//! Pricing: how much leaves on the outgoing ledger for what came in, and what a sender must put
//! in to deliver a given amount. A corridor (incoming ledger -> outgoing ledger) has an exact
//! rate and a fee: a fixed part in incoming minor units plus basis points of the rest.
//!
//! `out = floor((in - fixed) × rate × (10000 - bps) / 10000)` — forwarding rounds down, so the
//! connector never pays out more than its price allows; quoting inverts it rounding up, so a
//! quoted source amount always delivers at least the quoted destination amount.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))] // money and limits: every sum is checked

use htlc::{ErrorCode, MoneyError, Rate};
use serde::{Deserialize, Serialize};

use super::Rejection;

const BPS_PER_UNIT: u128 = 10_000;

/// The price of one corridor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pricing {
    /// Outgoing minor units per incoming minor unit, before fees.
    pub rate: Rate,
    /// Fixed fee, incoming minor units.
    pub fee_fixed: u64,
    /// Proportional fee in basis points (1/100 of a percent), at most 10000.
    pub fee_bps: u32,
}

/// The outcome of pricing an incoming amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Priced {
    /// What leaves on the outgoing ledger, its minor units.
    pub outgoing: u64,
    /// What the connector keeps, incoming minor units (fixed + proportional, rounding included).
    pub fee: u64,
}

/// A quote's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quoted {
    /// What the sender escrows, incoming minor units.
    pub source: u64,
    /// What the receiver gets, outgoing minor units.
    pub destination: u64,
    /// The connector's fee within `source`.
    pub fee: u64,
}

/// Why a price cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    /// Basis points above 10000.
    #[error("fee of {bps} basis points exceeds 100%")]
    FeeTooLarge {
        /// The configured value.
        bps: u32,
    },
    /// Nothing would be left to forward.
    #[error("{amount} does not cover the fee; nothing would be delivered")]
    NothingToDeliver {
        /// The amount offered.
        amount: u64,
    },
    /// Arithmetic overflow.
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl Pricing {
    /// A corridor price; `fee_bps` must be at most 10000.
    pub fn new(rate: Rate, fee_fixed: u64, fee_bps: u32) -> Result<Self, PricingError> {
        if u128::from(fee_bps) > BPS_PER_UNIT {
            return Err(PricingError::FeeTooLarge { bps: fee_bps });
        }
        Ok(Pricing {
            rate,
            fee_fixed,
            fee_bps,
        })
    }

    /// The rate after the proportional fee, or `None` if the fee takes everything.
    fn net_rate(&self) -> Option<Rate> {
        let keep = BPS_PER_UNIT.checked_sub(u128::from(self.fee_bps))?;
        let numerator = self.rate.numerator().checked_mul(keep)?;
        let denominator = self.rate.denominator().checked_mul(BPS_PER_UNIT)?;
        Rate::new(numerator, denominator).ok()
    }

    /// Prices an incoming amount.
    pub fn forward(&self, incoming: u64) -> Result<Priced, PricingError> {
        let nothing = PricingError::NothingToDeliver { amount: incoming };
        let after_fixed = incoming.checked_sub(self.fee_fixed).ok_or(nothing.clone())?;
        let net = self.net_rate().ok_or(nothing.clone())?;
        let outgoing = net.forward(after_fixed)?;
        if outgoing == 0 {
            return Err(nothing);
        }
        // The fee is what the sender paid beyond the cheapest amount that delivers `outgoing`
        // at the bare rate.
        let worth = self.rate.source_for(outgoing)?;
        Ok(Priced {
            outgoing,
            fee: incoming.saturating_sub(worth),
        })
    }

    /// The smallest incoming amount that delivers at least `destination`.
    pub fn quote_destination(&self, destination: u64) -> Result<Quoted, PricingError> {
        let net = self
            .net_rate()
            .ok_or(PricingError::NothingToDeliver { amount: 0 })?;
        let source = net
            .source_for(destination)?
            .checked_add(self.fee_fixed)
            .ok_or(MoneyError::Overflow)?;
        let priced = self.forward(source)?;
        Ok(Quoted {
            source,
            destination: priced.outgoing,
            fee: priced.fee,
        })
    }

    /// What `source` delivers.
    pub fn quote_source(&self, source: u64) -> Result<Quoted, PricingError> {
        let priced = self.forward(source)?;
        Ok(Quoted {
            source,
            destination: priced.outgoing,
            fee: priced.fee,
        })
    }
}

impl From<PricingError> for Rejection {
    fn from(e: PricingError) -> Self {
        let code = match e {
            PricingError::NothingToDeliver { .. } => ErrorCode::R01_INSUFFICIENT_SOURCE_AMOUNT,
            PricingError::Money(_) => ErrorCode::F03_INVALID_AMOUNT,
            PricingError::FeeTooLarge { .. } => ErrorCode::T00_INTERNAL_ERROR,
        };
        Rejection::new(code, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn scenario() -> Pricing {
        // 1 DE = 2 DC/EP, both scale 2; a fixed fee of 1.00 DE.
        Pricing::new(Rate::from_decimal("2", 2, 2).unwrap(), 100, 0).unwrap()
    }

    #[test]
    fn the_whitepaper_scenario() {
        let q = scenario().quote_destination(200_000).unwrap();
        assert_eq!(
            q,
            Quoted {
                source: 100_100,
                destination: 200_000,
                fee: 100
            }
        );
        assert_eq!(
            scenario().forward(100_100).unwrap(),
            Priced {
                outgoing: 200_000,
                fee: 100
            }
        );
    }

    #[test]
    fn amounts_that_do_not_cover_the_fee_are_refused() {
        assert!(matches!(
            scenario().forward(100),
            Err(PricingError::NothingToDeliver { .. })
        ));
        assert!(matches!(
            scenario().forward(50),
            Err(PricingError::NothingToDeliver { .. })
        ));
        let r: Rejection = scenario().forward(100).unwrap_err().into();
        assert_eq!(r.code, ErrorCode::R01_INSUFFICIENT_SOURCE_AMOUNT);
    }

    #[test]
    fn basis_points_are_charged_on_what_remains() {
        let p = Pricing::new(Rate::ONE, 0, 25).unwrap(); // 0.25%
        assert_eq!(
            p.forward(10_000).unwrap(),
            Priced {
                outgoing: 9_975,
                fee: 25
            }
        );
        let q = p.quote_destination(9_975).unwrap();
        assert_eq!(q.source, 10_000);
        assert!(Pricing::new(Rate::ONE, 0, 10_001).is_err());
        assert!(
            Pricing::new(Rate::ONE, 0, 10_000)
                .unwrap()
                .forward(1_000_000)
                .is_err()
        );
    }

    proptest! {
        #[test]
        fn a_quote_always_delivers_what_it_promises(
            num in 1u128..100_000, den in 1u128..100_000, fixed in 0u64..10_000, bps in 0u32..2_000,
            want in 1u64..10_000_000_000,
        ) {
            let p = Pricing::new(Rate::new(num, den).unwrap(), fixed, bps).unwrap();
            if let Ok(q) = p.quote_destination(want) {
                prop_assert!(q.destination >= want);
                let forwarded = p.forward(q.source).unwrap();
                prop_assert_eq!(forwarded.outgoing, q.destination);
                // One unit less would not have been enough.
                if let Ok(less) = p.forward(q.source - 1) {
                    prop_assert!(less.outgoing < want);
                }
            }
        }

        #[test]
        fn forwarding_never_pays_more_than_the_rate(
            num in 1u128..100_000, den in 1u128..100_000, fixed in 0u64..10_000, bps in 0u32..2_000,
            incoming in any::<u64>(),
        ) {
            let p = Pricing::new(Rate::new(num, den).unwrap(), fixed, bps).unwrap();
            if let Ok(out) = p.forward(incoming) {
                prop_assert!(u128::from(out.outgoing) * den <= u128::from(incoming) * num);
                prop_assert!(out.fee <= incoming);
            }
        }
    }
}
