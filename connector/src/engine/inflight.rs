//! The payments not yet final, in memory: a cache of the journal for fast lookups (by id and by
//! outgoing transfer), the in-flight total per counterparty for the exposure limit, and which
//! payments have a driver task. Final payments leave it, so its size is the number in flight.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))] // money and limits: every sum is checked

use std::collections::{HashMap, HashSet};

use plugins::{AccountId, TransferId};
use uuid::Uuid;

use crate::LedgerId;
use crate::payment::Payment;

/// See the module doc.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    payments: HashMap<Uuid, Payment>,
    by_outgoing: HashMap<TransferId, Uuid>,
    exposure: HashMap<(LedgerId, AccountId), u64>,
    driving: HashSet<Uuid>,
}

impl InFlight {
    pub(crate) fn len(&self) -> usize {
        self.payments.len()
    }

    pub(crate) fn get(&self, id: &Uuid) -> Option<&Payment> {
        self.payments.get(id)
    }

    pub(crate) fn contains(&self, id: &Uuid) -> bool {
        self.payments.contains_key(id)
    }

    pub(crate) fn by_outgoing(&self, transfer: &TransferId) -> Option<Uuid> {
        self.by_outgoing.get(transfer).copied()
    }

    /// What `account` on `ledger` has in flight through the connector.
    pub(crate) fn exposure(&self, ledger: &LedgerId, account: &AccountId) -> u64 {
        self.exposure
            .get(&(ledger.clone(), account.clone()))
            .copied()
            .unwrap_or(0)
    }

    /// Adds a payment (new, or reloaded at recovery). Final payments are not kept.
    pub(crate) fn insert(&mut self, payment: Payment) {
        if payment.state.is_final() {
            return;
        }
        if let Some(out) = &payment.outgoing {
            self.by_outgoing.insert(out.transfer, payment.id);
        }
        let key = (payment.incoming.ledger.clone(), payment.incoming.from.clone());
        // Saturating errs towards refusing: a total that cannot grow is over every limit.
        let total = self.exposure.entry(key).or_default();
        *total = total.saturating_add(payment.in_flight_amount());
        self.payments.insert(payment.id, payment);
    }

    /// Replaces a payment with its next version; a final one leaves.
    pub(crate) fn replace(&mut self, next: Payment) {
        if let Some(previous) = self.payments.remove(&next.id) {
            let key = (previous.incoming.ledger.clone(), previous.incoming.from.clone());
            if let Some(total) = self.exposure.get_mut(&key) {
                *total = total.saturating_sub(previous.in_flight_amount());
                if *total == 0 {
                    self.exposure.remove(&key);
                }
            }
            if let Some(out) = &previous.outgoing {
                self.by_outgoing.remove(&out.transfer);
            }
        }
        self.insert(next);
    }

    /// Marks the payment as having a driver; false if it already has one.
    pub(crate) fn claim_driver(&mut self, id: Uuid) -> bool {
        self.driving.insert(id)
    }

    pub(crate) fn release_driver(&mut self, id: &Uuid) {
        self.driving.remove(id);
    }
}
