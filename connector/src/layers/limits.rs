//! Limits on what one counterparty can make the connector do: the largest single packet it
//! forwards (F08, with the maximum in the reject data so the sender can split), and the most it
//! has in flight for that counterparty at once (T04, retry later).
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))] // money and limits: every sum is checked

use htlc::{AmountTooLarge, ErrorCode};
use serde::{Deserialize, Serialize};

use super::Rejection;

/// Limits for one counterparty account, in the incoming ledger's minor units. `None` = no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccountLimits {
    /// Largest single incoming amount forwarded.
    pub max_packet_amount: Option<u64>,
    /// Largest total in flight (prepared, not yet final) from this counterparty.
    pub exposure_limit: Option<u64>,
}

/// Checks an incoming amount against the counterparty's limits, given what it already has in
/// flight.
pub fn check(limits: &AccountLimits, amount: u64, in_flight: u64) -> Result<(), Rejection> {
    if let Some(maximum) = limits.max_packet_amount.filter(|max| amount > *max) {
        return Err(Rejection {
            code: ErrorCode::F08_AMOUNT_TOO_LARGE,
            message: format!("amount {amount} exceeds the maximum packet amount {maximum}"),
            data: AmountTooLarge {
                received: amount,
                maximum,
            }
            .encode()
            .to_vec(),
        });
    }
    if let Some(limit) = limits.exposure_limit {
        let total = in_flight.saturating_add(amount);
        if total > limit {
            return Err(Rejection::new(
                ErrorCode::T04_INSUFFICIENT_LIQUIDITY,
                format!("exposure limit {limit} reached ({in_flight} in flight, {amount} more asked)"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_packet_amount_is_f08_with_details() {
        let limits = AccountLimits {
            max_packet_amount: Some(5),
            exposure_limit: None,
        };
        assert!(check(&limits, 5, 0).is_ok());
        let r = check(&limits, 7, 0).unwrap_err();
        assert_eq!(r.code, ErrorCode::F08_AMOUNT_TOO_LARGE);
        assert_eq!(
            AmountTooLarge::decode(&r.data).unwrap(),
            AmountTooLarge {
                received: 7,
                maximum: 5
            }
        );
    }

    #[test]
    fn exposure_counts_what_is_in_flight() {
        let limits = AccountLimits {
            max_packet_amount: None,
            exposure_limit: Some(1_000),
        };
        assert!(check(&limits, 400, 600).is_ok());
        assert_eq!(
            check(&limits, 401, 600).unwrap_err().code,
            ErrorCode::T04_INSUFFICIENT_LIQUIDITY
        );
        assert!(check(&AccountLimits::default(), u64::MAX, u64::MAX).is_ok());
    }
}
