//! A payment as the connector records it: the incoming leg, the outgoing leg it created for it,
//! and where the pair stands.
//!
//! ```text
//!  (incoming escrow seen)
//!        │ decide: forward            decide: refuse
//!        ▼                                  │
//!   Forwarding ──outgoing refused──► Rejecting ──incoming rejected──► Rejected
//!        │ outgoing prepared                ▲
//!        ▼                                  │ outgoing rejected / expired
//!   Forwarded ──────────────────────────────┘
//!        │ outgoing fulfilled (preimage learned)
//!        ▼
//!   Fulfilling ──incoming fulfilled──► Fulfilled
//!        └──incoming already expired──► Lost (the margin was not enough: an alert)
//! ```
//!
//! Every state is written to SQLite before the action it leads to, and every action is
//! idempotent at the ledger (the outgoing transfer id is derived from the incoming one), so
//! after a crash the connector re-runs the action of each unfinished payment's state.

use htlc::{Condition, ErrorCode, Fulfillment, Timestamp};
use plugins::{AccountId, TransferId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::LedgerId;

/// Namespace for the payment id of an incoming transfer (UUID v5).
const PAYMENT_NAMESPACE: Uuid = Uuid::from_u128(0x6c1f_0b5e_9a42_4f0e_8d3c_7a51_2e90_c4d1);
/// Namespace for the outgoing transfer id derived from an incoming one (UUID v5).
const OUTGOING_NAMESPACE: Uuid = Uuid::from_u128(0x0e2d_95a3_41c7_4b66_b1f8_3c0a_9d27_5e14);

/// Where a payment stands. `fulfilled`, `rejected` and `lost` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    /// Incoming seen and accepted; outgoing escrow being prepared.
    Forwarding,
    /// Outgoing escrow prepared; waiting for the next hop.
    Forwarded,
    /// Preimage learned from the outgoing leg; fulfilling the incoming leg.
    Fulfilling,
    /// Both legs fulfilled. Final.
    Fulfilled,
    /// Refused or failed downstream; rejecting the incoming leg.
    Rejecting,
    /// Incoming leg rejected or refunded. Final.
    Rejected,
    /// Outgoing fulfilled but the incoming leg expired first: the connector paid and was not
    /// paid. Final; raised as an alert.
    Lost,
}

impl PaymentState {
    /// Every state, for metrics and filters.
    pub const ALL: [PaymentState; 7] = [
        PaymentState::Forwarding,
        PaymentState::Forwarded,
        PaymentState::Fulfilling,
        PaymentState::Fulfilled,
        PaymentState::Rejecting,
        PaymentState::Rejected,
        PaymentState::Lost,
    ];

    /// True once nothing more will happen.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            PaymentState::Fulfilled | PaymentState::Rejected | PaymentState::Lost
        )
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentState::Forwarding => "forwarding",
            PaymentState::Forwarded => "forwarded",
            PaymentState::Fulfilling => "fulfilling",
            PaymentState::Fulfilled => "fulfilled",
            PaymentState::Rejecting => "rejecting",
            PaymentState::Rejected => "rejected",
            PaymentState::Lost => "lost",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        PaymentState::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The leg that arrived: an escrow for the connector's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = IncomingLeg)]
pub struct IncomingLeg {
    /// Its ledger.
    pub ledger: LedgerId,
    /// The payer's transfer id.
    pub transfer: TransferId,
    /// The payer.
    pub from: AccountId,
    /// Minor units of the incoming ledger.
    pub amount: u64,
    /// The deadline to claim it (earlier of escrow and packet expiry).
    pub expires_at: Timestamp,
}

/// The leg the connector created: its escrow on the next ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = OutgoingLeg)]
pub struct OutgoingLeg {
    /// Its ledger.
    pub ledger: LedgerId,
    /// Derived from the incoming transfer (see [`outgoing_transfer_id`]).
    pub transfer: TransferId,
    /// The connector's paying account.
    pub from: AccountId,
    /// The next hop.
    pub to: AccountId,
    /// Minor units of the outgoing ledger.
    pub amount: u64,
    /// Its expiry.
    pub expires_at: Timestamp,
}

/// One payment through the connector, as its journal records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = Payment)]
pub struct Payment {
    /// Derived from the incoming leg (see [`payment_id`]).
    pub id: Uuid,
    /// The end-to-end id from the packet data, if the sender gave one.
    pub uetr: Option<Uuid>,
    /// Where it stands.
    pub state: PaymentState,
    /// The hash lock shared by both legs.
    pub condition: Condition,
    /// The packet's destination address.
    #[schema(example = "test.ecny.bank-b.nB3xS1c0dYhRk2oUaWp4Zg")]
    pub destination: String,
    /// What arrived.
    pub incoming: IncomingLeg,
    /// What the connector sent on, if it decided to forward.
    pub outgoing: Option<OutgoingLeg>,
    /// The connector's fee, incoming minor units (earned only if fulfilled).
    pub fee: u64,
    /// The packet for the next hop, kept until the outgoing leg is prepared.
    #[serde(skip)]
    pub outgoing_memo: Option<Vec<u8>>,
    /// The preimage, once learned.
    #[serde(skip)]
    pub fulfillment: Option<Fulfillment>,
    /// The ILP error the payment was refused with.
    pub reject_code: Option<ErrorCode>,
    /// Its message.
    pub reject_message: Option<String>,
    /// When the incoming leg was first seen.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

impl Payment {
    /// The payment's money still at risk for its payer's exposure limit (incoming units).
    pub fn in_flight_amount(&self) -> u64 {
        if self.state.is_final() {
            0
        } else {
            self.incoming.amount
        }
    }
}

/// The payment id of an incoming transfer: stable across restarts, unique per ledger.
pub fn payment_id(ledger: &LedgerId, transfer: TransferId) -> Uuid {
    derived_id(&PAYMENT_NAMESPACE, ledger, transfer)
}

/// The outgoing transfer id for an incoming transfer: preparing it again after a crash is an
/// idempotent repeat at the outgoing ledger, never a second payment.
pub fn outgoing_transfer_id(ledger: &LedgerId, transfer: TransferId) -> TransferId {
    TransferId(derived_id(&OUTGOING_NAMESPACE, ledger, transfer))
}

/// A name-based id (UUIDv8): the first 48 bits are the incoming transfer id's (its creation
/// time when, as usual, that id is a UUIDv7), the rest a SHA-1 of `ledger/transfer` in
/// `namespace`. Deterministic, and as time-ordered as the incoming ids, so the journal's and the
/// outgoing ledger's indexes keyed by it grow at their right edge instead of one random page per
/// payment.
fn derived_id(namespace: &Uuid, ledger: &LedgerId, transfer: TransferId) -> Uuid {
    let mut bytes = Uuid::new_v5(namespace, format!("{ledger}/{}", transfer.0).as_bytes()).into_bytes();
    bytes[..6].copy_from_slice(&transfer.0.as_bytes()[..6]);
    Uuid::new_v8(bytes)
}

/// One entry of a payment's event trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = TrailEntry)]
pub struct TrailEntry {
    /// When.
    pub at: Timestamp,
    /// What happened (`incoming_seen`, `outgoing_prepared`, ...).
    pub kind: String,
    /// Details for an operator.
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        let de = LedgerId::new("digital-euro");
        let t = TransferId(Uuid::from_u128(7));
        assert_eq!(payment_id(&de, t), payment_id(&de, t));
        assert_ne!(payment_id(&de, t), payment_id(&LedgerId::new("e-cny"), t));
        assert_ne!(outgoing_transfer_id(&de, t).0, payment_id(&de, t));
        assert_ne!(outgoing_transfer_id(&de, t), t);
    }

    #[test]
    fn derived_ids_keep_the_incoming_ids_time_order() {
        let de = LedgerId::new("digital-euro");
        let earlier = TransferId(Uuid::from_u128(0x0190_0000_0001 << 80 | 0xffff));
        let later = TransferId(Uuid::from_u128(0x0190_0000_0002 << 80));
        assert!(payment_id(&de, earlier) < payment_id(&de, later));
        assert!(outgoing_transfer_id(&de, earlier) < outgoing_transfer_id(&de, later));
        assert_eq!(payment_id(&de, later).get_version_num(), 8);
    }

    #[test]
    fn state_names_round_trip() {
        for s in PaymentState::ALL {
            assert_eq!(PaymentState::parse(s.as_str()), Some(s));
        }
        assert_eq!(PaymentState::ALL.iter().filter(|s| s.is_final()).count(), 3);
    }
}
