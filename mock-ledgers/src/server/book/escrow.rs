//! The escrow lifecycle: prepare (funds move from the payer's balance to its `held`), fulfil
//! with the preimage (from `held` to the payee), reject or expire (back to the payer). The
//! state machine itself is [`htlc::Escrow`]; this applies its transitions to the accounts.

use std::collections::HashMap;

use htlc::{Clock, Escrow, EscrowError, EscrowStatus, Fulfillment, Timestamp, Transition};

use super::{Book, Outcome, Stage, negated, overflow, signed};
use plugins::error::PluginError;
use plugins::plugin::{EventKind, MAX_MEMO_LEN, PrepareTransfer, Transfer, TransferId};

/// A clock stopped at one instant: every step of a batch sees the same "now".
struct At(Timestamp);

impl Clock for At {
    fn now(&self) -> Timestamp {
        self.0
    }
}

impl Book {
    /// Finds a transfer by id: live, changed in this batch, or stored (`stored` is what the
    /// writer prefetched from the database for this batch).
    fn find(
        &self,
        id: &TransferId,
        stage: &Stage,
        stored: &HashMap<TransferId, Transfer>,
    ) -> Option<Transfer> {
        self.live
            .get(id)
            .or_else(|| stage.transfers.get(id))
            .or_else(|| stored.get(id))
            .cloned()
    }

    /// Locks funds in a new escrow, or returns the existing one with the same id and terms.
    pub fn prepare(
        &mut self,
        caller: &str,
        req: PrepareTransfer,
        now: Timestamp,
        stage: &mut Stage,
        stored: &HashMap<TransferId, Transfer>,
    ) -> Result<Outcome, PluginError> {
        if let Some(existing) = self.find(&req.id, stage, stored) {
            let same = existing.from == req.from
                && existing.to == req.to
                && existing.amount == req.amount
                && existing.condition == req.condition
                && existing.expires_at == req.expires_at
                && existing.memo == req.memo;
            if same && self.visible_to(caller, &existing) {
                return Ok(Outcome::Transfer {
                    transfer: existing,
                    created: false,
                });
            }
            return Err(PluginError::Duplicate {
                reason: format!("transfer {} already exists with different terms", req.id),
            });
        }
        Self::check_amount(req.amount)?;
        if req.memo.len() > MAX_MEMO_LEN {
            return Err(PluginError::Malformed {
                reason: format!("memo longer than {MAX_MEMO_LEN} bytes"),
            });
        }
        let payer = self.owned(caller, &req.from)?;
        let payee = self.existing(&req.to)?;
        if req.expires_at <= now {
            return Err(PluginError::Expired {
                expires_at: req.expires_at,
            });
        }
        let latest = now
            .checked_add_millis(i64::try_from(self.max_hold_ms).unwrap_or(i64::MAX))
            .unwrap_or(Timestamp::MAX);
        if req.expires_at > latest {
            return Err(PluginError::ExpiryTooFar {
                expires_at: req.expires_at,
                latest,
                max_hold_ms: self.max_hold_ms,
            });
        }
        let pull = self.check_movement(payer, payee, req.amount, now)?;
        // Every new figure first, so an overflow refuses before anything moves.
        let payer_balance = payer
            .balance
            .checked_add(signed(pull, &req.from)?)
            .and_then(|b| b.checked_sub(signed(req.amount, &req.from).ok()?))
            .ok_or_else(|| overflow(&req.from))?;
        let payer_held = payer
            .held
            .checked_add(req.amount)
            .ok_or_else(|| overflow(&req.from))?;
        let payee_incoming = payee
            .incoming
            .checked_add(req.amount)
            .ok_or_else(|| overflow(&req.to))?;

        let reference = req.id.to_string();
        self.pull_shortfall(&req.from, pull, &reference, now, stage)?;
        if let Some(p) = self.accounts.get_mut(&req.from) {
            p.balance = payer_balance;
            p.held = payer_held;
            self.rules.record_outgoing(p, req.amount, now);
        }
        if let Some(p) = self.accounts.get_mut(&req.to) {
            p.incoming = payee_incoming;
        }
        stage.touched.insert(req.from.clone());
        stage.touched.insert(req.to.clone());
        let transfer = Transfer {
            id: req.id,
            from: req.from,
            to: req.to,
            amount: req.amount,
            condition: req.condition,
            expires_at: req.expires_at,
            memo: req.memo,
            status: EscrowStatus::Prepared,
            fulfillment: None,
            prepared_at: now,
            finalized_at: None,
            reject_reason: None,
        };
        self.live.insert(transfer.id, transfer.clone());
        self.by_expiry.insert((transfer.expires_at, transfer.id));
        self.push_event(EventKind::Prepared, &transfer, now, stage);
        Ok(Outcome::Transfer {
            transfer,
            created: true,
        })
    }

    fn restore(t: &Transfer) -> Result<Escrow, PluginError> {
        Escrow::restore(t.amount, t.condition, t.expires_at, t.status, t.fulfillment).map_err(|e| {
            PluginError::Unavailable {
                reason: format!("stored transfer {} is inconsistent: {e}", t.id),
            }
        })
    }

    /// Releases an escrow to its payee.
    pub fn fulfill(
        &mut self,
        caller: &str,
        id: TransferId,
        fulfillment: Fulfillment,
        now: Timestamp,
        stage: &mut Stage,
        stored: &HashMap<TransferId, Transfer>,
    ) -> Result<Outcome, PluginError> {
        let transfer = self.payee_side(caller, id, stage, stored)?;
        let mut escrow = Self::restore(&transfer)?;
        match escrow.fulfill(&fulfillment, &At(now)) {
            Ok(Transition::Moved(_)) => {
                let amount = transfer.amount;
                let (from, to) = (&transfer.from, &transfer.to);
                let payer_held = self
                    .existing(from)?
                    .held
                    .checked_sub(amount)
                    .ok_or_else(|| overflow(from))?;
                let (debit, credit) = (negated(amount, from)?, signed(amount, to)?);
                let payee_balance = self.balance_after(to, credit)?;
                if let Some(p) = self.accounts.get_mut(from) {
                    p.held = payer_held;
                }
                if let Some(p) = self.accounts.get_mut(to) {
                    p.incoming = p.incoming.saturating_sub(amount);
                    p.balance = payee_balance;
                }
                // The booked balance moves now: payer down, payee up.
                let reference = id.to_string();
                for (account, delta, other) in [(from, debit, to), (to, credit, from)] {
                    if let Some(a) = self.accounts.get(account) {
                        stage.book(a, delta, "transfer", reference.clone(), Some(other.clone()), now);
                    }
                }
                self.sweep_excess(&transfer.to, &reference, now, stage);
                let done = self.finish(transfer, EscrowStatus::Fulfilled, Some(fulfillment), now);
                self.push_event(EventKind::Fulfilled, &done, now, stage);
                Ok(Outcome::Transfer {
                    transfer: done,
                    created: false,
                })
            }
            Ok(Transition::AlreadyDone(_)) => Ok(Outcome::Transfer {
                transfer,
                created: false,
            }),
            Err(e) => Err(self.escrow_refusal(e, transfer, now, stage)),
        }
    }

    /// Declines an escrow before expiry; a repeat answers with the rejected transfer.
    pub fn reject(
        &mut self,
        caller: &str,
        id: TransferId,
        reason: Option<String>,
        now: Timestamp,
        stage: &mut Stage,
        stored: &HashMap<TransferId, Transfer>,
    ) -> Result<Outcome, PluginError> {
        let mut transfer = self.payee_side(caller, id, stage, stored)?;
        if transfer.status == EscrowStatus::Rejected {
            return Ok(Outcome::Transfer {
                transfer,
                created: false,
            });
        }
        let mut escrow = Self::restore(&transfer)?;
        match escrow.reject(&At(now)) {
            Ok(_) => {
                transfer.reject_reason = reason;
                let done = self.refund(transfer, EscrowStatus::Rejected, now, stage)?;
                Ok(Outcome::Transfer {
                    transfer: done,
                    created: false,
                })
            }
            Err(e) => Err(self.escrow_refusal(e, transfer, now, stage)),
        }
    }

    /// Refunds every live escrow whose expiry is at or before `now`; returns how many.
    pub fn expire_due(&mut self, now: Timestamp, stage: &mut Stage) -> usize {
        let due: Vec<TransferId> = self
            .by_expiry
            .iter()
            .take_while(|(t, _)| *t <= now)
            .map(|(_, id)| *id)
            .collect();
        let mut refunded = 0usize;
        for id in &due {
            if let Some(t) = self.live.get(id).cloned() {
                match self.refund(t, EscrowStatus::Expired, now, stage) {
                    Ok(_) => refunded = refunded.saturating_add(1),
                    Err(e) => tracing::error!(transfer = %id, error = %e, "expired escrow not refunded"),
                }
            }
        }
        refunded
    }

    /// Maps a refused escrow step to the API error; a step refused because the escrow expired
    /// refunds it on the spot (the sweeper would do so moments later anyway).
    fn escrow_refusal(
        &mut self,
        e: EscrowError,
        transfer: Transfer,
        now: Timestamp,
        stage: &mut Stage,
    ) -> PluginError {
        match e {
            EscrowError::WrongFulfillment { .. } => PluginError::WrongCondition { id: transfer.id },
            EscrowError::Expired { expires_at, .. } => {
                let id = transfer.id;
                if transfer.status == EscrowStatus::Prepared
                    && let Err(e) = self.refund(transfer, EscrowStatus::Expired, now, stage)
                {
                    tracing::error!(transfer = %id, error = %e, "expired escrow not refunded");
                }
                PluginError::Expired { expires_at }
            }
            EscrowError::AlreadyFinal { status } => {
                if status == EscrowStatus::Expired {
                    PluginError::Expired {
                        expires_at: transfer.expires_at,
                    }
                } else {
                    PluginError::AlreadyFinal {
                        id: transfer.id,
                        status,
                    }
                }
            }
            EscrowError::NotYetExpired { .. } => PluginError::Unavailable {
                reason: "refund attempted before expiry".into(),
            },
        }
    }

    fn payee_side(
        &self,
        caller: &str,
        id: TransferId,
        stage: &Stage,
        stored: &HashMap<TransferId, Transfer>,
    ) -> Result<Transfer, PluginError> {
        let transfer = self
            .find(&id, stage, stored)
            .filter(|t| self.visible_to(caller, t))
            .ok_or(PluginError::UnknownTransfer { id })?;
        let payee_owner = self.accounts.get(&transfer.to).map(|a| a.terms.owner.as_str());
        if payee_owner != Some(caller) {
            return Err(PluginError::Forbidden {
                reason: format!("only the payee's operator may fulfil or reject transfer {id}"),
            });
        }
        Ok(transfer)
    }

    fn finish(
        &mut self,
        mut t: Transfer,
        status: EscrowStatus,
        fulfillment: Option<Fulfillment>,
        now: Timestamp,
    ) -> Transfer {
        self.live.remove(&t.id);
        self.by_expiry.remove(&(t.expires_at, t.id));
        t.status = status;
        t.fulfillment = fulfillment;
        t.finalized_at = Some(now);
        t
    }

    fn refund(
        &mut self,
        transfer: Transfer,
        status: EscrowStatus,
        now: Timestamp,
        stage: &mut Stage,
    ) -> Result<Transfer, PluginError> {
        let amount = transfer.amount;
        let from = &transfer.from;
        let payer_held = self
            .existing(from)?
            .held
            .checked_sub(amount)
            .ok_or_else(|| overflow(from))?;
        let payer_balance = self.balance_after(from, signed(amount, from)?)?;
        if let Some(p) = self.accounts.get_mut(from) {
            p.held = payer_held;
            p.balance = payer_balance;
            self.rules.release_outgoing(p, amount, transfer.prepared_at, now);
        }
        if let Some(p) = self.accounts.get_mut(&transfer.to) {
            p.incoming = p.incoming.saturating_sub(amount);
        }
        stage.touched.insert(transfer.from.clone());
        stage.touched.insert(transfer.to.clone());
        // A linked wallet refunded above its limit sweeps the excess back to its bank.
        self.sweep_excess(&transfer.from, &transfer.id.to_string(), now, stage);
        let kind = if status == EscrowStatus::Expired {
            EventKind::Expired
        } else {
            EventKind::Rejected
        };
        let done = self.finish(transfer, status, None, now);
        self.push_event(kind, &done, now, stage);
        Ok(done)
    }
}
