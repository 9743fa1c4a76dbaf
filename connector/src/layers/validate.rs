//! Validation: the escrow that arrived must carry an ILP Prepare in its memo, and the two must
//! agree on amount and condition. The deadline the connector works to is the earlier of the
//! escrow's expiry (which the ledger enforces) and the packet's (which the sender asked for).

use htlc::{ErrorCode, Prepare, Timestamp};

use super::Rejection;

/// What the validation layer hands on: the packet and the deadline for claiming the incoming leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidIncoming {
    /// The decoded packet.
    pub prepare: Prepare,
    /// The earlier of the escrow's and the packet's expiry.
    pub expires_at: Timestamp,
}

/// The incoming leg as the ledger reports it.
#[derive(Debug, Clone, Copy)]
pub struct IncomingLeg<'a> {
    /// Escrowed amount, minor units of the incoming ledger.
    pub amount: u64,
    /// The escrow's hash lock.
    pub condition: &'a htlc::Condition,
    /// The escrow's expiry.
    pub expires_at: Timestamp,
    /// The escrow's memo, which should be an encoded ILP Prepare.
    pub memo: &'a [u8],
}

/// Decodes and cross-checks the incoming leg.
pub fn validate(leg: IncomingLeg<'_>, now: Timestamp) -> Result<ValidIncoming, Rejection> {
    let prepare = Prepare::decode(leg.memo).map_err(|e| {
        Rejection::new(
            ErrorCode::F01_INVALID_PACKET,
            format!("escrow memo is not an ILP Prepare: {e}"),
        )
    })?;
    if prepare.amount() != leg.amount {
        return Err(Rejection::new(
            ErrorCode::F03_INVALID_AMOUNT,
            format!(
                "escrow amount {} differs from the packet amount {}",
                leg.amount,
                prepare.amount()
            ),
        ));
    }
    if prepare.execution_condition() != leg.condition {
        return Err(Rejection::new(
            ErrorCode::F01_INVALID_PACKET,
            "escrow condition differs from the packet's execution condition",
        ));
    }
    let expires_at = prepare.expires_at().min(leg.expires_at);
    if expires_at <= now {
        return Err(Rejection::new(
            ErrorCode::R00_TRANSFER_TIMED_OUT,
            format!("arrived already expired ({expires_at})"),
        ));
    }
    Ok(ValidIncoming { prepare, expires_at })
}

#[cfg(test)]
mod tests {
    use super::*;
    use htlc::{Address, Condition};

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(ms).unwrap()
    }

    fn prepare(amount: u64, expiry: i64) -> Prepare {
        Prepare::new(
            Address::new("test.ecny.bank-b").unwrap(),
            amount,
            t(expiry),
            Condition::from_bytes([1; 32]),
            vec![],
        )
        .unwrap()
    }

    fn leg<'a>(amount: u64, condition: &'a Condition, expiry: i64, memo: &'a [u8]) -> IncomingLeg<'a> {
        IncomingLeg {
            amount,
            condition,
            expires_at: t(expiry),
            memo,
        }
    }

    #[test]
    fn accepts_a_matching_escrow_and_takes_the_earlier_expiry() {
        let memo = prepare(100, 9_000).encode();
        let c = Condition::from_bytes([1; 32]);
        let ok = validate(leg(100, &c, 10_000, &memo), t(0)).unwrap();
        assert_eq!(ok.expires_at, t(9_000));
        let ok = validate(leg(100, &c, 8_000, &memo), t(0)).unwrap();
        assert_eq!(ok.expires_at, t(8_000));
    }

    #[test]
    fn refuses_with_the_matching_code() {
        let memo = prepare(100, 9_000).encode();
        let c = Condition::from_bytes([1; 32]);
        let other = Condition::from_bytes([2; 32]);
        let code = |r: Result<ValidIncoming, Rejection>| r.unwrap_err().code;
        assert_eq!(
            code(validate(leg(100, &c, 10_000, b"junk"), t(0))),
            ErrorCode::F01_INVALID_PACKET
        );
        assert_eq!(
            code(validate(leg(99, &c, 10_000, &memo), t(0))),
            ErrorCode::F03_INVALID_AMOUNT
        );
        assert_eq!(
            code(validate(leg(100, &other, 10_000, &memo), t(0))),
            ErrorCode::F01_INVALID_PACKET
        );
        assert_eq!(
            code(validate(leg(100, &c, 10_000, &memo), t(9_000))),
            ErrorCode::R00_TRANSFER_TIMED_OUT
        );
    }
}
