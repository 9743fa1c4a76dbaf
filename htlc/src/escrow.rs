//! The hash-time-locked transfer: the one state machine every ledger in CypherLink shares.
//!
//! ```text
//!            fulfil(preimage), now < expiry
//! Prepared ─────────────────────────────────► Fulfilled
//!    │  reject(), now < expiry
//!    ├──────────────────────────────────────► Rejected
//!    │  refund(), now >= expiry
//!    └──────────────────────────────────────► Expired
//! ```
//!
//! The boundary is exact: at the expiry instant the escrow can no longer be fulfilled and can be
//! refunded, so at no instant are both possible. A repeated fulfil with the same preimage answers
//! as the first did (ledgers and connectors retry); every other illegal step is a typed error and
//! leaves the escrow as it was.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::condition::{Condition, Fulfillment};
use crate::time::{Clock, Timestamp};

/// Where an escrow stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EscrowStatus {
    /// Funds locked; waiting for the preimage or the expiry.
    Prepared,
    /// Released to the payee with the preimage.
    Fulfilled,
    /// Cancelled by the payee (or the ledger) before expiry; funds back to the payer.
    Rejected,
    /// Refunded to the payer at or after expiry.
    Expired,
}

impl EscrowStatus {
    /// Every status.
    pub const ALL: [EscrowStatus; 4] = [
        EscrowStatus::Prepared,
        EscrowStatus::Fulfilled,
        EscrowStatus::Rejected,
        EscrowStatus::Expired,
    ];

    /// True once no further transition is possible.
    pub fn is_final(self) -> bool {
        self != EscrowStatus::Prepared
    }

    /// Lower-case name, as stored and shown in APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            EscrowStatus::Prepared => "prepared",
            EscrowStatus::Fulfilled => "fulfilled",
            EscrowStatus::Rejected => "rejected",
            EscrowStatus::Expired => "expired",
        }
    }
}

impl fmt::Display for EscrowStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is none of [`EscrowStatus::as_str`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown escrow status {0:?}")]
pub struct UnknownEscrowStatus(pub String);

impl FromStr for EscrowStatus {
    type Err = UnknownEscrowStatus;
    /// The one reading of a stored or received status name: the inverse of
    /// [`EscrowStatus::as_str`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EscrowStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownEscrowStatus(s.to_owned()))
    }
}

/// An illegal escrow step. The escrow is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EscrowError {
    /// The preimage does not hash to the condition.
    #[error("fulfillment does not match condition {condition}")]
    WrongFulfillment {
        /// The escrow's condition.
        condition: Condition,
    },
    /// Too late to fulfil or reject: the escrow can only be refunded now.
    #[error("escrow expired at {expires_at} (now {now})")]
    Expired {
        /// The escrow's expiry.
        expires_at: Timestamp,
        /// The time the step was attempted.
        now: Timestamp,
    },
    /// Too early to refund.
    #[error("escrow does not expire until {expires_at} (now {now})")]
    NotYetExpired {
        /// The escrow's expiry.
        expires_at: Timestamp,
        /// The time the step was attempted.
        now: Timestamp,
    },
    /// The escrow already reached a final state.
    #[error("escrow is already {}", status.as_str())]
    AlreadyFinal {
        /// Its final state.
        status: EscrowStatus,
    },
}

/// What a successful step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The escrow moved to a new state; the caller must move the money.
    Moved(EscrowStatus),
    /// A repeat of a step already taken; nothing to do.
    AlreadyDone(EscrowStatus),
}

/// A hash-time-locked transfer of `amount` minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escrow {
    amount: u64,
    condition: Condition,
    expires_at: Timestamp,
    status: EscrowStatus,
    fulfillment: Option<Fulfillment>,
}

impl Escrow {
    /// A new escrow in the Prepared state.
    pub fn new(amount: u64, condition: Condition, expires_at: Timestamp) -> Self {
        Escrow {
            amount,
            condition,
            expires_at,
            status: EscrowStatus::Prepared,
            fulfillment: None,
        }
    }

    /// Rebuilds an escrow from storage. A Fulfilled escrow must come with its preimage.
    pub fn restore(
        amount: u64,
        condition: Condition,
        expires_at: Timestamp,
        status: EscrowStatus,
        fulfillment: Option<Fulfillment>,
    ) -> Result<Self, EscrowError> {
        match (status, fulfillment) {
            (EscrowStatus::Fulfilled, Some(f)) if !condition.is_fulfilled_by(&f) => {
                Err(EscrowError::WrongFulfillment { condition })
            }
            (EscrowStatus::Fulfilled, None) => Err(EscrowError::WrongFulfillment { condition }),
            _ => Ok(Escrow {
                amount,
                condition,
                expires_at,
                status,
                fulfillment: if status == EscrowStatus::Fulfilled {
                    fulfillment
                } else {
                    None
                },
            }),
        }
    }

    /// Locked amount in minor units.
    pub fn amount(&self) -> u64 {
        self.amount
    }
    /// The hash lock.
    pub fn condition(&self) -> &Condition {
        &self.condition
    }
    /// When it stops being fulfillable and becomes refundable.
    pub fn expires_at(&self) -> Timestamp {
        self.expires_at
    }
    /// Current state.
    pub fn status(&self) -> EscrowStatus {
        self.status
    }
    /// The preimage, once fulfilled.
    pub fn fulfillment(&self) -> Option<&Fulfillment> {
        self.fulfillment.as_ref()
    }

    /// Releases the funds to the payee. Succeeds only with the preimage, strictly before expiry;
    /// repeating it with the same preimage answers [`Transition::AlreadyDone`].
    pub fn fulfill(
        &mut self,
        fulfillment: &Fulfillment,
        clock: &impl Clock,
    ) -> Result<Transition, EscrowError> {
        if !self.condition.is_fulfilled_by(fulfillment) {
            return Err(EscrowError::WrongFulfillment {
                condition: self.condition,
            });
        }
        match self.status {
            EscrowStatus::Fulfilled => Ok(Transition::AlreadyDone(EscrowStatus::Fulfilled)),
            EscrowStatus::Prepared => {
                self.check_before_expiry(clock.now())?;
                self.status = EscrowStatus::Fulfilled;
                self.fulfillment = Some(*fulfillment);
                Ok(Transition::Moved(EscrowStatus::Fulfilled))
            }
            status => Err(EscrowError::AlreadyFinal { status }),
        }
    }

    /// Cancels the escrow before expiry (the payee declines); the funds return to the payer.
    pub fn reject(&mut self, clock: &impl Clock) -> Result<Transition, EscrowError> {
        self.check_prepared()?;
        self.check_before_expiry(clock.now())?;
        self.status = EscrowStatus::Rejected;
        Ok(Transition::Moved(EscrowStatus::Rejected))
    }

    /// Returns the funds to the payer, at or after expiry.
    pub fn refund(&mut self, clock: &impl Clock) -> Result<Transition, EscrowError> {
        self.check_prepared()?;
        let now = clock.now();
        if now < self.expires_at {
            return Err(EscrowError::NotYetExpired {
                expires_at: self.expires_at,
                now,
            });
        }
        self.status = EscrowStatus::Expired;
        Ok(Transition::Moved(EscrowStatus::Expired))
    }

    fn check_prepared(&self) -> Result<(), EscrowError> {
        match self.status {
            EscrowStatus::Prepared => Ok(()),
            status => Err(EscrowError::AlreadyFinal { status }),
        }
    }

    fn check_before_expiry(&self, now: Timestamp) -> Result<(), EscrowError> {
        if now < self.expires_at {
            Ok(())
        } else {
            Err(EscrowError::Expired {
                expires_at: self.expires_at,
                now,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::ManualClock;
    use proptest::prelude::*;

    const EXPIRY: i64 = 10_000;

    fn setup() -> (Escrow, Fulfillment, ManualClock) {
        let preimage = Fulfillment::from_bytes([42; 32]);
        let escrow = Escrow::new(
            100,
            preimage.condition(),
            Timestamp::from_unix_millis(EXPIRY).unwrap(),
        );
        (escrow, preimage, ManualClock::new(Timestamp::UNIX_EPOCH))
    }

    #[test]
    fn fulfil_before_expiry_then_repeat_is_idempotent() {
        let (mut e, f, clock) = setup();
        assert_eq!(
            e.fulfill(&f, &clock),
            Ok(Transition::Moved(EscrowStatus::Fulfilled))
        );
        assert_eq!(e.fulfillment(), Some(&f));
        clock.advance_millis(EXPIRY * 2);
        assert_eq!(
            e.fulfill(&f, &clock),
            Ok(Transition::AlreadyDone(EscrowStatus::Fulfilled))
        );
        assert_eq!(
            e.refund(&clock),
            Err(EscrowError::AlreadyFinal {
                status: EscrowStatus::Fulfilled
            })
        );
    }

    #[test]
    fn the_expiry_instant_belongs_to_refund() {
        let (mut e, f, clock) = setup();
        clock.set(Timestamp::from_unix_millis(EXPIRY - 1).unwrap());
        assert!(matches!(e.refund(&clock), Err(EscrowError::NotYetExpired { .. })));
        clock.advance_millis(1);
        let before = e.clone();
        assert!(matches!(e.fulfill(&f, &clock), Err(EscrowError::Expired { .. })));
        assert!(matches!(e.reject(&clock), Err(EscrowError::Expired { .. })));
        assert_eq!(e, before, "failed steps change nothing");
        assert_eq!(e.refund(&clock), Ok(Transition::Moved(EscrowStatus::Expired)));
        assert!(matches!(
            e.fulfill(&f, &clock),
            Err(EscrowError::AlreadyFinal { .. })
        ));
    }

    #[test]
    fn an_agreed_instant_is_a_clock() {
        // How the chain steps its escrows: the block's timestamp is the clock.
        let (mut e, f, _) = setup();
        let at_expiry = Timestamp::from_unix_millis(EXPIRY).unwrap();
        assert!(matches!(
            e.fulfill(&f, &at_expiry),
            Err(EscrowError::Expired { .. })
        ));
        assert_eq!(e.refund(&at_expiry), Ok(Transition::Moved(EscrowStatus::Expired)));
    }

    #[test]
    fn wrong_preimage_is_refused_in_every_state() {
        let (mut e, f, clock) = setup();
        let wrong = Fulfillment::from_bytes([1; 32]);
        assert!(matches!(
            e.fulfill(&wrong, &clock),
            Err(EscrowError::WrongFulfillment { .. })
        ));
        assert_eq!(e.status(), EscrowStatus::Prepared);
        e.fulfill(&f, &clock).unwrap();
        assert!(matches!(
            e.fulfill(&wrong, &clock),
            Err(EscrowError::WrongFulfillment { .. })
        ));
    }

    #[test]
    fn reject_is_final() {
        let (mut e, f, clock) = setup();
        assert_eq!(e.reject(&clock), Ok(Transition::Moved(EscrowStatus::Rejected)));
        assert_eq!(
            e.fulfill(&f, &clock),
            Err(EscrowError::AlreadyFinal {
                status: EscrowStatus::Rejected
            })
        );
        assert_eq!(
            e.reject(&clock),
            Err(EscrowError::AlreadyFinal {
                status: EscrowStatus::Rejected
            })
        );
    }

    #[test]
    fn status_names_read_back_as_written_everywhere() {
        for status in EscrowStatus::ALL {
            assert_eq!(status.as_str().parse(), Ok(status));
            assert_eq!(status.to_string(), status.as_str());
            let json = format!("\"{status}\"");
            assert_eq!(serde_json::to_string(&status).unwrap(), json);
            assert_eq!(serde_json::from_str::<EscrowStatus>(&json).unwrap(), status);
        }
        assert_eq!(
            "melted".parse::<EscrowStatus>(),
            Err(UnknownEscrowStatus("melted".into()))
        );
        assert!(
            "Prepared".parse::<EscrowStatus>().is_err(),
            "names are lower-case"
        );
    }

    #[test]
    fn restore_checks_the_preimage() {
        let (e, f, _) = setup();
        let restored = Escrow::restore(
            100,
            *e.condition(),
            e.expires_at(),
            EscrowStatus::Fulfilled,
            Some(f),
        )
        .unwrap();
        assert_eq!(restored.fulfillment(), Some(&f));
        assert!(Escrow::restore(100, *e.condition(), e.expires_at(), EscrowStatus::Fulfilled, None).is_err());
        let wrong = Some(Fulfillment::from_bytes([0; 32]));
        assert!(
            Escrow::restore(
                100,
                *e.condition(),
                e.expires_at(),
                EscrowStatus::Fulfilled,
                wrong
            )
            .is_err()
        );
    }

    #[derive(Debug, Clone)]
    enum Step {
        Advance(i64),
        Fulfil { right: bool },
        Reject,
        Refund,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0i64..6_000).prop_map(Step::Advance),
            any::<bool>().prop_map(|right| Step::Fulfil { right }),
            Just(Step::Reject),
            Just(Step::Refund),
        ]
    }

    proptest! {
        /// Whatever the sequence of steps and times: at most one final state is ever reached and
        /// never left; errors change nothing; Fulfilled happens only with the preimage strictly
        /// before expiry; Expired only at or after it.
        #[test]
        fn state_machine_properties(steps in proptest::collection::vec(step(), 0..40)) {
            let (mut e, f, clock) = setup();
            let wrong = Fulfillment::from_bytes([7; 32]);
            let mut final_state: Option<EscrowStatus> = None;
            for s in steps {
                let before = e.clone();
                let now = clock.now();
                let result = match s {
                    Step::Advance(ms) => { clock.advance_millis(ms); continue; }
                    Step::Fulfil { right } => e.fulfill(if right { &f } else { &wrong }, &clock),
                    Step::Reject => e.reject(&clock),
                    Step::Refund => e.refund(&clock),
                };
                match result {
                    Err(_) => prop_assert_eq!(&e, &before),
                    Ok(Transition::AlreadyDone(st)) => {
                        prop_assert_eq!(&e, &before);
                        prop_assert_eq!(Some(st), final_state);
                    }
                    Ok(Transition::Moved(st)) => {
                        prop_assert!(final_state.is_none(), "left a final state");
                        match st {
                            EscrowStatus::Fulfilled | EscrowStatus::Rejected => prop_assert!(now.unix_millis() < EXPIRY),
                            EscrowStatus::Expired => prop_assert!(now.unix_millis() >= EXPIRY),
                            EscrowStatus::Prepared => prop_assert!(false, "moved to Prepared"),
                        }
                        final_state = Some(st);
                    }
                }
                prop_assert_eq!(e.status().is_final(), final_state.is_some());
            }
        }
    }
}
