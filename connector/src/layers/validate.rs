//! Validation: the escrow that arrived must carry an ILP Prepare in its memo, and the two must
//! agree on amount and condition. The memo is decoded here, once, for the whole switching path
//! and for the journal: the packet, its CypherLink payment data (whose UETR names the payment)
//! and the deadline the connector works to, the earlier of the escrow's expiry (which the ledger
//! enforces) and the packet's (which the sender asked for).

use htlc::{ErrorCode, Prepare, Timestamp};

use super::Rejection;
use crate::payment_data::PaymentData;

/// The incoming leg's memo, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingPacket {
    /// The decoded packet.
    pub prepare: Prepare,
    /// The packet's data read as CypherLink payment data; `None` for other data, which is
    /// forwarded all the same (only the receiver needs to understand it).
    pub data: Option<PaymentData>,
    /// The deadline for claiming the incoming leg: the earlier of the escrow's and the packet's
    /// expiry.
    pub expires_at: Timestamp,
}

/// The terms of an escrow that arrived, as its ledger reports them, borrowed while the escrow
/// is checked (the stored record of the leg is [`crate::payment::IncomingLeg`]).
#[derive(Debug, Clone, Copy)]
pub struct EscrowTerms<'a> {
    /// Escrowed amount, minor units of the incoming ledger.
    pub amount: u64,
    /// The escrow's hash lock.
    pub condition: &'a htlc::Condition,
    /// The escrow's expiry.
    pub expires_at: Timestamp,
    /// The escrow's memo, which should be an encoded ILP Prepare.
    pub memo: &'a [u8],
}

/// Decodes the memo, or F01 when it is not an ILP Prepare. Kept apart from [`check`] so that
/// an escrow refused by the checks is still journaled under its packet's UETR and destination.
pub fn decode(escrow: &EscrowTerms<'_>) -> Result<IncomingPacket, Rejection> {
    let prepare = Prepare::decode(escrow.memo).map_err(|e| {
        Rejection::new(
            ErrorCode::F01_INVALID_PACKET,
            format!("escrow memo is not an ILP Prepare: {e}"),
        )
    })?;
    Ok(IncomingPacket {
        data: PaymentData::decode(prepare.data()).ok(),
        expires_at: prepare.expires_at().min(escrow.expires_at),
        prepare,
    })
}

/// Cross-checks the packet against its escrow: same amount (F03) and condition (F01), and a
/// deadline still ahead (R00).
pub fn check(escrow: &EscrowTerms<'_>, packet: &IncomingPacket, now: Timestamp) -> Result<(), Rejection> {
    let prepare = &packet.prepare;
    if prepare.amount() != escrow.amount {
        return Err(Rejection::new(
            ErrorCode::F03_INVALID_AMOUNT,
            format!(
                "escrow amount {} differs from the packet amount {}",
                escrow.amount,
                prepare.amount()
            ),
        ));
    }
    if prepare.execution_condition() != escrow.condition {
        return Err(Rejection::new(
            ErrorCode::F01_INVALID_PACKET,
            "escrow condition differs from the packet's execution condition",
        ));
    }
    if packet.expires_at <= now {
        return Err(Rejection::new(
            ErrorCode::R00_TRANSFER_TIMED_OUT,
            format!("arrived already expired ({})", packet.expires_at),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use htlc::{Address, Condition};

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(ms).unwrap()
    }

    fn prepare(amount: u64, expiry: i64, data: Vec<u8>) -> Prepare {
        Prepare::new(
            Address::new("test.ecny.bank-b").unwrap(),
            amount,
            t(expiry),
            Condition::from_bytes([1; 32]),
            data,
        )
        .unwrap()
    }

    fn escrow<'a>(amount: u64, condition: &'a Condition, expiry: i64, memo: &'a [u8]) -> EscrowTerms<'a> {
        EscrowTerms {
            amount,
            condition,
            expires_at: t(expiry),
            memo,
        }
    }

    fn validate(escrow: EscrowTerms<'_>, now: Timestamp) -> Result<IncomingPacket, Rejection> {
        let packet = decode(&escrow)?;
        check(&escrow, &packet, now)?;
        Ok(packet)
    }

    #[test]
    fn accepts_a_matching_escrow_and_takes_the_earlier_expiry() {
        let memo = prepare(100, 9_000, vec![]).encode();
        let c = Condition::from_bytes([1; 32]);
        let ok = validate(escrow(100, &c, 10_000, &memo), t(0)).unwrap();
        assert_eq!(ok.expires_at, t(9_000));
        assert_eq!(ok.prepare, Prepare::decode(&memo).unwrap());
        let ok = validate(escrow(100, &c, 8_000, &memo), t(0)).unwrap();
        assert_eq!(ok.expires_at, t(8_000));
    }

    #[test]
    fn reads_the_payment_data_once_with_the_packet() {
        let data = PaymentData::new(200_000, "invoice 7").unwrap();
        let memo = prepare(100, 9_000, data.encode()).encode();
        let c = Condition::from_bytes([1; 32]);
        assert_eq!(decode(&escrow(100, &c, 10_000, &memo)).unwrap().data, Some(data));
        let other = prepare(100, 9_000, b"STREAM".to_vec()).encode();
        assert_eq!(decode(&escrow(100, &c, 10_000, &other)).unwrap().data, None);
    }

    #[test]
    fn refuses_with_the_matching_code() {
        let memo = prepare(100, 9_000, vec![]).encode();
        let c = Condition::from_bytes([1; 32]);
        let other = Condition::from_bytes([2; 32]);
        let code = |r: Result<IncomingPacket, Rejection>| r.unwrap_err().code;
        assert_eq!(
            code(validate(escrow(100, &c, 10_000, b"junk"), t(0))),
            ErrorCode::F01_INVALID_PACKET
        );
        assert_eq!(
            code(validate(escrow(99, &c, 10_000, &memo), t(0))),
            ErrorCode::F03_INVALID_AMOUNT
        );
        assert_eq!(
            code(validate(escrow(100, &other, 10_000, &memo), t(0))),
            ErrorCode::F01_INVALID_PACKET
        );
        assert_eq!(
            code(validate(escrow(100, &c, 10_000, &memo), t(9_000))),
            ErrorCode::R00_TRANSFER_TIMED_OUT
        );
    }
}
