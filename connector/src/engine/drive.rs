//! Driving one payment: the action its committed state calls for, repeated until the payment
//! reaches a state that waits for the ledgers (Forwarded) or is final. Every action is
//! idempotent at the ledger, so a repeat after a crash or a lost response is harmless.
//!
//! The one rule that keeps the connector from losing money: the incoming leg is rejected only
//! when the outgoing leg is known not to exist or to be final without a fulfillment. While the
//! outgoing leg is uncertain (a prepare whose answer was lost), the payment waits.

use std::sync::Arc;

use htlc::{ErrorCode, EscrowStatus};
use plugins::{PluginError, PrepareTransfer, Transfer};
use uuid::Uuid;

#[cfg(debug_assertions)]
use super::CrashPoint;
use super::follow::{SeenIn, outgoing_status};
use super::{Connector, trail};
use crate::payment::{Payment, PaymentState};

/// What to do after one step.
enum Step {
    /// Look at the (new) state again.
    Again,
    /// Wait, then try the same step again.
    Retry,
}

pub(super) async fn drive(connector: Arc<Connector>, id: Uuid) {
    let mut delay = connector.options.retry_delay;
    loop {
        let payment = {
            let mut inflight = connector.lock_inflight();
            match inflight.get(&id) {
                Some(p)
                    if matches!(
                        p.state,
                        PaymentState::Forwarding | PaymentState::Fulfilling | PaymentState::Rejecting
                    ) =>
                {
                    p.clone()
                }
                _ => {
                    // Nothing to do until an event moves it (or it is final): let go.
                    inflight.release_driver(&id);
                    return;
                }
            }
        };
        #[cfg(debug_assertions)]
        connector.crash.gate().await;
        let step = match payment.state {
            PaymentState::Forwarding => connector.prepare_outgoing(&payment).await,
            PaymentState::Fulfilling => connector.fulfill_incoming(&payment).await,
            _ => connector.reject_incoming(&payment).await,
        };
        match step {
            Step::Again => delay = connector.options.retry_delay,
            Step::Retry => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(connector.options.max_retry_delay);
            }
        }
    }
}

/// The ILP code for a ledger's refusal of the outgoing prepare.
fn refusal_code(error: &PluginError) -> ErrorCode {
    match error {
        PluginError::InsufficientFunds { .. } => ErrorCode::T04_INSUFFICIENT_LIQUIDITY,
        PluginError::LimitExceeded { .. } => ErrorCode::F07_CANNOT_RECEIVE,
        PluginError::UnknownAccount { .. } => ErrorCode::F02_UNREACHABLE,
        PluginError::Expired { .. } => ErrorCode::R02_INSUFFICIENT_TIMEOUT,
        PluginError::Unavailable { .. } => ErrorCode::T01_PEER_UNREACHABLE,
        _ => ErrorCode::T00_INTERNAL_ERROR,
    }
}

impl Connector {
    fn count_error(&self, ledger: &crate::LedgerId, error: &PluginError) {
        self.metrics
            .ledger_errors
            .with_label_values(&[ledger.as_str(), error.code()])
            .inc();
    }

    /// Forwarding: prepare the outgoing escrow.
    async fn prepare_outgoing(&self, p: &Payment) -> Step {
        let (Some(out), Some(memo)) = (&p.outgoing, &p.outgoing_memo) else {
            // Reloaded without its packet: only a lookup can tell what happened.
            return self.settle_uncertain_outgoing(p).await;
        };
        let Some(plugin) = self.ledger(&out.ledger) else {
            return self
                .refuse(p, ErrorCode::T00_INTERNAL_ERROR, "outgoing ledger not configured")
                .await;
        };
        let request = PrepareTransfer {
            id: out.transfer,
            from: out.from.clone(),
            to: out.to.clone(),
            amount: out.amount,
            condition: p.condition,
            expires_at: out.expires_at,
            memo: memo.clone(),
        };
        match plugin.prepare(request).await {
            Ok(transfer) => {
                self.apply_outgoing_status(p.id, &transfer).await;
                Step::Again
            }
            Err(error) if error.is_retryable() => {
                self.count_error(&out.ledger, &error);
                if self.now() >= out.expires_at {
                    // Too late for the escrow to matter; find out whether it exists.
                    return self.settle_uncertain_outgoing(p).await;
                }
                tracing::warn!(payment = %p.id, ledger = %out.ledger, %error, "outgoing prepare failed; retrying");
                Step::Retry
            }
            Err(PluginError::Duplicate { .. }) => self.settle_uncertain_outgoing(p).await,
            Err(error) => {
                self.count_error(&out.ledger, &error);
                let code = refusal_code(&error);
                self.refuse(p, code, &format!("outgoing ledger refused: {error}"))
                    .await
            }
        }
    }

    /// The outgoing escrow's fate is unknown to us: ask its ledger.
    async fn settle_uncertain_outgoing(&self, p: &Payment) -> Step {
        let Some(out) = &p.outgoing else {
            return self
                .refuse(p, ErrorCode::T00_INTERNAL_ERROR, "no outgoing leg recorded")
                .await;
        };
        let Some(plugin) = self.ledger(&out.ledger) else {
            return Step::Retry;
        };
        match plugin.transfer(out.transfer).await {
            Ok(transfer) => {
                self.apply_outgoing_status(p.id, &transfer).await;
                Step::Again
            }
            Err(PluginError::UnknownTransfer { .. }) if self.now() >= out.expires_at => {
                // It never existed and can no longer be created with a live expiry.
                self.refuse(p, ErrorCode::T01_PEER_UNREACHABLE, "outgoing ledger unreachable")
                    .await
            }
            Err(error) => {
                self.count_error(&out.ledger, &error);
                Step::Retry
            }
        }
    }

    /// Moves the payment according to what the outgoing ledger says of its escrow.
    async fn apply_outgoing_status(&self, id: Uuid, transfer: &Transfer) -> Option<Payment> {
        self.transition(id, |p, now| {
            outgoing_status(p, transfer.status, transfer, SeenIn::Lookup, now)
        })
        .await
    }

    /// Records a refusal; the next step rejects the incoming leg.
    async fn refuse(&self, p: &Payment, code: ErrorCode, message: &str) -> Step {
        tracing::info!(payment = %p.id, %code, message, "payment refused");
        let message = message.to_owned();
        self.transition(p.id, |p, now| {
            (p.state == PaymentState::Forwarding).then(|| {
                p.state = PaymentState::Rejecting;
                p.reject_code = Some(code);
                p.reject_message = Some(message.clone());
                p.outgoing_memo = None;
                trail(now, "refused", format!("{code}: {message}"))
            })
        })
        .await;
        Step::Again
    }

    /// Fulfilling: claim the incoming escrow with the preimage.
    async fn fulfill_incoming(&self, p: &Payment) -> Step {
        let (Some(plugin), Some(fulfillment)) = (self.ledger(&p.incoming.ledger), p.fulfillment) else {
            return Step::Retry;
        };
        let outcome = match plugin.fulfill(p.incoming.transfer, fulfillment).await {
            Ok(_)
            | Err(PluginError::AlreadyFinal {
                status: EscrowStatus::Fulfilled,
                ..
            }) => Ok(()),
            Err(error @ (PluginError::Expired { .. } | PluginError::AlreadyFinal { .. })) => Err(error),
            Err(error) => {
                self.count_error(&p.incoming.ledger, &error);
                tracing::warn!(payment = %p.id, %error, "fulfilling the incoming escrow failed; retrying");
                return Step::Retry;
            }
        };
        match outcome {
            Ok(()) => {
                #[cfg(debug_assertions)]
                {
                    self.crash.reached(CrashPoint::AfterIncomingFulfilled);
                    self.crash.gate().await;
                }
                self.transition(p.id, |p, now| {
                    (p.state == PaymentState::Fulfilling).then(|| {
                        p.state = PaymentState::Fulfilled;
                        trail(
                            now,
                            "incoming_fulfilled",
                            "incoming escrow fulfilled; payment complete",
                        )
                    })
                })
                .await;
            }
            Err(error) => {
                tracing::error!(payment = %p.id, %error, "LOSS: outgoing leg paid but the incoming leg can no longer be claimed");
                self.transition(p.id, |p, now| {
                    (p.state == PaymentState::Fulfilling).then(|| {
                        p.state = PaymentState::Lost;
                        trail(
                            now,
                            "lost",
                            format!("incoming escrow could not be claimed: {error}"),
                        )
                    })
                })
                .await;
            }
        }
        Step::Again
    }

    /// Rejecting: give the incoming escrow back to its payer.
    async fn reject_incoming(&self, p: &Payment) -> Step {
        let Some(plugin) = self.ledger(&p.incoming.ledger) else {
            return Step::Retry;
        };
        let reason = p.reject_code.map(|code| {
            let message = p.reject_message.as_deref().unwrap_or(code.name());
            let text = format!("{} {message}", code.as_str());
            text.chars()
                .take(plugins::plugin::MAX_REJECT_REASON_LEN / 4)
                .collect::<String>()
        });
        let detail = match plugin.reject(p.incoming.transfer, reason).await {
            Ok(_) => "incoming escrow rejected".to_owned(),
            Err(PluginError::AlreadyFinal { status, .. }) => {
                format!("incoming escrow already {}", status.as_str())
            }
            Err(PluginError::Expired { .. }) => "incoming escrow expired; the ledger refunds it".to_owned(),
            Err(PluginError::UnknownTransfer { .. }) => "incoming escrow not found".to_owned(),
            Err(error) => {
                self.count_error(&p.incoming.ledger, &error);
                if self.now() < p.incoming.expires_at {
                    tracing::warn!(payment = %p.id, %error, "rejecting the incoming escrow failed; retrying");
                    return Step::Retry;
                }
                format!("incoming escrow expired while its ledger was unreachable ({error})")
            }
        };
        self.transition(p.id, |p, now| {
            (p.state == PaymentState::Rejecting).then(|| {
                p.state = PaymentState::Rejected;
                trail(now, "incoming_rejected", detail)
            })
        })
        .await;
        Step::Again
    }
}
