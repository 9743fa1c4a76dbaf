//! Following one ledger's event log. Each page of events becomes one journal commit holding
//! every state change it causes plus the new cursor, so a page is processed exactly once: after
//! a crash the connector resumes after the last committed page. Drivers for the payments that
//! need action start only after that commit.

use std::sync::Arc;

use htlc::{ErrorCode, EscrowStatus, Timestamp};
use plugins::{EventCursor, EventKind, LedgerEvent, Transfer};
use uuid::Uuid;

use super::{Connector, trail};
use crate::LedgerId;
use crate::layers::validate::EscrowTerms;
use crate::payment::{
    IncomingLeg, OutgoingLeg, Payment, PaymentState, TrailEntry, outgoing_transfer_id, payment_id,
};
use crate::store::Write;
use crate::switch::{self, Decision, Incoming, SwitchTables};

/// A page of one ledger's events as it is processed: the ledger and the switching tables it is
/// read against, and what it asks for once it is committed.
struct EventPage<'a> {
    ledger: &'a LedgerId,
    tables: SwitchTables,
    writes: Vec<Write>,
    drive: Vec<Uuid>,
}

pub(super) async fn follow(connector: Arc<Connector>, ledger: LedgerId, mut cursor: EventCursor) {
    let Some(plugin) = connector.ledger(&ledger).cloned() else {
        return;
    };
    let mut delay = connector.options.retry_delay;
    tracing::info!(%ledger, cursor = cursor.0, "following ledger events");
    loop {
        #[cfg(debug_assertions)]
        connector.crash.gate().await;
        let page = match plugin
            .events(cursor, connector.options.page_size, connector.options.event_wait)
            .await
        {
            Ok(page) => {
                delay = connector.options.retry_delay;
                page
            }
            Err(error) => {
                connector
                    .metrics
                    .ledger_errors
                    .with_label_values(&[ledger.as_str(), error.code()])
                    .inc();
                tracing::warn!(%ledger, %error, "reading events failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(connector.options.max_retry_delay);
                continue;
            }
        };
        let events: Vec<LedgerEvent> = page.events.into_iter().filter(|e| e.cursor > cursor).collect();
        let next = events.last().map(|e| e.cursor).unwrap_or(cursor).max(page.next);
        if next == cursor {
            continue;
        }
        let mut work = EventPage {
            ledger: &ledger,
            tables: connector.tables(),
            writes: Vec::new(),
            drive: Vec::new(),
        };
        for event in &events {
            connector.on_event(&mut work, event);
        }
        work.writes.push(Write::Cursor(ledger.clone(), next));
        if !connector.commit(work.writes).await {
            return;
        }
        cursor = next;
        for id in work.drive {
            connector.spawn_driver(id);
        }
    }
}

impl Connector {
    fn on_event(&self, work: &mut EventPage<'_>, event: &LedgerEvent) {
        let transfer = &event.transfer;
        let Some(ours) = work.tables.ledgers.get(work.ledger).map(|l| &l.account) else {
            return;
        };
        if &transfer.to == ours {
            let id = payment_id(work.ledger, transfer.id);
            match event.kind {
                EventKind::Prepared => self.on_incoming(work, event),
                EventKind::Fulfilled => {
                    self.stage(id, &mut work.writes, |p, now| {
                        (p.state == PaymentState::Fulfilling).then(|| {
                            p.state = PaymentState::Fulfilled;
                            trail(
                                now,
                                "incoming_fulfilled",
                                "incoming escrow fulfilled at its ledger",
                            )
                        })
                    });
                }
                EventKind::Rejected | EventKind::Expired => {
                    let how = if event.kind == EventKind::Expired {
                        "refunded after expiry"
                    } else {
                        "rejected"
                    };
                    self.stage(id, &mut work.writes, |p, now| match p.state {
                        PaymentState::Rejecting => {
                            p.state = PaymentState::Rejected;
                            Some(trail(now, "incoming_rejected", format!("incoming escrow {how}")))
                        }
                        // Still waiting on the next hop: the ladder should have prevented this.
                        PaymentState::Forwarding | PaymentState::Forwarded | PaymentState::Fulfilling => {
                            tracing::error!(payment = %p.id, "incoming escrow {how} before the payment finished");
                            Some(trail(now, "incoming_lapsed", format!("incoming escrow {how} early")))
                        }
                        _ => None,
                    });
                }
            }
        } else if &transfer.from == ours {
            let Some(id) = self.lock_inflight().by_outgoing(&transfer.id) else {
                return;
            };
            self.on_outgoing(id, event, work);
        }
    }

    fn on_outgoing(&self, id: Uuid, event: &LedgerEvent, work: &mut EventPage<'_>) {
        let staged = self.stage(id, &mut work.writes, |p, now| {
            outgoing_status(p, event.kind.status(), &event.transfer, SeenIn::Feed, now)
        });
        if let Some(p) = staged
            && matches!(p.state, PaymentState::Fulfilling | PaymentState::Rejecting)
        {
            work.drive.push(p.id);
        }
    }

    fn on_incoming(&self, work: &mut EventPage<'_>, event: &LedgerEvent) {
        let (tables, ledger) = (&work.tables, work.ledger);
        let transfer = &event.transfer;
        let id = payment_id(ledger, transfer.id);
        if self.lock_inflight().contains(&id) {
            return;
        }
        let now = self.now();
        if transfer.expires_at <= now {
            // Already refundable: nobody can claim it any more, and its ledger refunds it.
            tracing::debug!(transfer = %transfer.id, "ignoring an escrow that arrived expired");
            return;
        }
        let in_flight = self.lock_inflight().exposure(ledger, &transfer.from);
        let Decision { packet, outcome } = switch::decide(
            tables,
            Incoming {
                ledger,
                from: &transfer.from,
                escrow: EscrowTerms {
                    amount: transfer.amount,
                    condition: &transfer.condition,
                    expires_at: transfer.expires_at,
                    memo: &transfer.memo,
                },
            },
            in_flight,
            now,
        );
        let uetr = packet.as_ref().and_then(|p| p.data.as_ref()).map(|d| d.uetr);
        let mut payment = Payment {
            id,
            uetr,
            state: PaymentState::Forwarding,
            condition: transfer.condition,
            destination: packet
                .as_ref()
                .map(|p| p.prepare.destination().to_string())
                .unwrap_or_default(),
            incoming: IncomingLeg {
                ledger: ledger.clone(),
                transfer: transfer.id,
                from: transfer.from.clone(),
                amount: transfer.amount,
                expires_at: packet.as_ref().map_or(transfer.expires_at, |p| p.expires_at),
            },
            outgoing: None,
            fee: 0,
            outgoing_memo: None,
            fulfillment: None,
            reject_code: None,
            reject_message: None,
            created_at: now,
            updated_at: now,
        };
        let entry = match outcome {
            Ok(forward) => {
                let asset = tables.ledgers.get(ledger).map(|l| l.info.asset.clone());
                let out_asset = tables.ledgers.get(&forward.ledger).map(|l| l.info.asset.clone());
                let detail = format!(
                    "{} from {} on {ledger}; forwarding {} to {} on {} (fee {})",
                    asset
                        .as_ref()
                        .map_or(transfer.amount.to_string(), |a| a.display(transfer.amount)),
                    transfer.from,
                    out_asset
                        .as_ref()
                        .map_or(forward.amount().to_string(), |a| a.display(forward.amount())),
                    forward.to,
                    forward.ledger,
                    asset
                        .as_ref()
                        .map_or(forward.fee.to_string(), |a| a.display(forward.fee)),
                );
                tracing::info!(payment = %id, uetr = ?uetr, %detail, "incoming escrow accepted");
                payment.fee = forward.fee;
                payment.outgoing_memo = Some(forward.prepare.encode());
                payment.outgoing = Some(OutgoingLeg {
                    transfer: outgoing_transfer_id(ledger, transfer.id),
                    amount: forward.amount(),
                    expires_at: forward.expires_at(),
                    ledger: forward.ledger,
                    from: forward.from,
                    to: forward.to,
                });
                trail(now, "incoming_seen", detail)
            }
            Err(rejection) => {
                tracing::info!(payment = %id, uetr = ?uetr, code = %rejection.code, message = %rejection.message, "incoming escrow refused");
                payment.state = PaymentState::Rejecting;
                payment.reject_code = Some(rejection.code);
                payment.reject_message = Some(rejection.message.clone());
                trail(
                    now,
                    "incoming_refused",
                    format!(
                        "{} from {}: {} {}",
                        transfer.amount, transfer.from, rejection.code, rejection.message
                    ),
                )
            }
        };
        {
            let mut inflight = self.lock_inflight();
            inflight.insert(payment.clone());
            self.metrics.set_in_flight(inflight.len());
        }
        work.writes.push(Write::Payment(Box::new(payment)));
        work.writes.push(Write::Trail { payment: id, entry });
        work.drive.push(id);
    }
}

/// Where the connector read an outgoing escrow's status; the payment's trail says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SeenIn {
    /// The ledger's event feed, as it happened.
    Feed,
    /// The ledger's answer when asked, after the connector lost track of the escrow.
    Lookup,
}

/// Moves a payment waiting on its outgoing escrow by the escrow's `status` (`transfer` as the
/// ledger shows it); `None` when that changes nothing: the payment no longer waits, the status
/// is not news, or the preimage does not match.
pub(super) fn outgoing_status(
    p: &mut Payment,
    status: EscrowStatus,
    transfer: &Transfer,
    seen: SeenIn,
    now: Timestamp,
) -> Option<TrailEntry> {
    if !matches!(p.state, PaymentState::Forwarding | PaymentState::Forwarded) {
        return None;
    }
    match status {
        EscrowStatus::Prepared => (p.state == PaymentState::Forwarding).then(|| {
            p.state = PaymentState::Forwarded;
            p.outgoing_memo = None;
            trail(now, "outgoing_prepared", "outgoing escrow prepared")
        }),
        EscrowStatus::Fulfilled => {
            let fulfillment = transfer.fulfillment.filter(|f| p.condition.is_fulfilled_by(f))?;
            p.state = PaymentState::Fulfilling;
            p.fulfillment = Some(fulfillment);
            p.outgoing_memo = None;
            Some(trail(
                now,
                "outgoing_fulfilled",
                "next hop fulfilled; preimage learned",
            ))
        }
        EscrowStatus::Rejected | EscrowStatus::Expired => {
            let expired = status == EscrowStatus::Expired;
            let (code, message) = if expired {
                (
                    ErrorCode::R00_TRANSFER_TIMED_OUT,
                    "the next hop did not fulfil before expiry".to_owned(),
                )
            } else {
                // Relay the next hop's own ILP code when it stated one.
                next_hop_reason(transfer.reject_reason.as_deref())
            };
            p.state = PaymentState::Rejecting;
            p.reject_code = Some(code);
            p.reject_message = Some(message);
            Some(match (seen, expired) {
                (SeenIn::Feed, false) => {
                    trail(now, "outgoing_rejected", "next hop rejected the outgoing escrow")
                }
                (SeenIn::Feed, true) => trail(
                    now,
                    "outgoing_expired",
                    "outgoing escrow expired and was refunded",
                ),
                (SeenIn::Lookup, _) => trail(
                    now,
                    "outgoing_final",
                    format!("outgoing escrow {}", status.as_str()),
                ),
            })
        }
    }
}

/// The ILP code and message a next hop gave when it rejected (`"F05 condition ..."`), or
/// F99 when it gave none that parses.
pub(super) fn next_hop_reason(reason: Option<&str>) -> (ErrorCode, String) {
    let parsed = reason.and_then(|text| {
        let code = ErrorCode::parse(text.get(..3)?).ok()?;
        let class_letter = matches!(code.as_bytes()[0], b'F' | b'T' | b'R');
        let digits = code.as_bytes()[1..].iter().all(u8::is_ascii_digit);
        (class_letter && digits).then(|| (code, text[3..].trim().to_owned()))
    });
    match parsed {
        Some((code, message)) if !message.is_empty() => (code, format!("next hop: {message}")),
        Some((code, _)) => (code, format!("next hop: {}", code.name())),
        None => (
            ErrorCode::F99_APPLICATION_ERROR,
            match reason {
                Some(text) => format!("rejected by the next hop: {text}"),
                None => "rejected by the next hop".into(),
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_hop_codes_are_relayed() {
        assert_eq!(
            next_hop_reason(Some("F05 condition does not match")),
            (
                ErrorCode::F05_WRONG_CONDITION,
                "next hop: condition does not match".into()
            )
        );
        assert_eq!(
            next_hop_reason(Some("T04")).0,
            ErrorCode::T04_INSUFFICIENT_LIQUIDITY
        );
        assert_eq!(
            next_hop_reason(Some("no thanks")).0,
            ErrorCode::F99_APPLICATION_ERROR
        );
        assert_eq!(next_hop_reason(None).0, ErrorCode::F99_APPLICATION_ERROR);
        assert_eq!(next_hop_reason(Some("é")).0, ErrorCode::F99_APPLICATION_ERROR);
    }
}
