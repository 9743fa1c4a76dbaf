//! The running receiver: follows its ledger account's events, claims the escrows it accepts,
//! rejects the others, and records each outcome with the event cursor, so a restart resumes
//! where it stopped. Claiming twice after a crash is harmless: the ledger answers a repeated
//! fulfil with the same preimage as it did the first time. An escrow claimed just before a crash
//! that lost the record of it may have expired by the restart, so that it is refused now; the
//! ledger then answers the refusal with the claim, and the record says it was received.

use std::sync::Arc;
use std::time::Duration;

use htlc::{Address, Clock, EscrowStatus, Prepare, Timestamp};
use plugins::{AccountId, EventCursor, EventKind, LedgerEvent, LedgerPlugin, PluginError, TransferId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Offer, ReceiverSeed, SpspResponse, accept};
use crate::LedgerId;
use crate::payment_data::PaymentData;
use crate::store::{Store, StoreError, Write};

/// A payment the receiver was offered, and what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReceivedPayment {
    /// The escrow on the receiver's ledger.
    pub transfer: TransferId,
    /// End-to-end id, if the data carried one.
    pub uetr: Option<Uuid>,
    /// Minor units offered.
    #[schema(example = 200000)]
    pub amount: u64,
    /// The payer's reference.
    #[schema(example = "invoice 2026-11")]
    pub reference: String,
    /// `fulfilled`, `rejected`, or `failed` (accepted, but claiming it at the ledger failed).
    #[schema(example = "fulfilled")]
    pub outcome: String,
    /// ILP code of a rejection.
    #[schema(example = "F04")]
    pub reject_code: Option<String>,
    /// Why it was rejected (or why the claim failed).
    pub reject_message: Option<String>,
    /// When it was decided.
    pub at: Timestamp,
}

/// A receiving bank's account on one ledger.
pub struct Receiver {
    plugin: Arc<dyn LedgerPlugin>,
    ledger: LedgerId,
    account: AccountId,
    address: Address,
    seed: ReceiverSeed,
    store: Store,
    clock: Arc<dyn Clock>,
    /// Bumped after every commit of decided payments, so callers can await an outcome.
    decided: tokio::sync::watch::Sender<u64>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("ledger", &self.ledger)
            .field("account", &self.account)
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// A receiver for `account` on the ledger behind `plugin`; its address is the ledger's ILP
    /// prefix plus the account.
    pub fn new(
        plugin: Arc<dyn LedgerPlugin>,
        account: AccountId,
        seed: ReceiverSeed,
        store: Store,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Self>, htlc::AddressError> {
        let info = plugin.info().clone();
        let address = info.ilp_prefix.with_suffix(account.as_str())?;
        Ok(Arc::new(Receiver {
            ledger: LedgerId::new(info.ledger_id),
            plugin,
            account,
            address,
            seed,
            store,
            clock,
            decided: tokio::sync::watch::Sender::new(0),
        }))
    }

    /// The receiver's ILP address.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// A new connection for a payer (the SPSP response).
    pub fn setup(&self) -> SpspResponse {
        SpspResponse {
            asset_info: Some(self.plugin.info().asset.clone()),
            ..self.seed.setup(&self.address)
        }
    }

    /// Payments received with this end-to-end id.
    pub async fn received(&self, uetr: Uuid) -> Result<Vec<ReceivedPayment>, StoreError> {
        self.store.received_by_uetr(uetr).await
    }

    /// Payments received with this end-to-end id, waiting up to `timeout` for the first one
    /// to be decided and recorded. The payer can hear of its fulfilment before the receiver has
    /// written its record (the connector may learn the preimage first), so a caller that has
    /// just been paid awaits the record here instead of polling. Empty if none came in time.
    pub async fn wait_received(
        &self,
        uetr: Uuid,
        timeout: Duration,
    ) -> Result<Vec<ReceivedPayment>, StoreError> {
        let mut decided = self.decided.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            decided.mark_unchanged();
            let found = self.received(uetr).await?;
            if !found.is_empty() {
                return Ok(found);
            }
            match tokio::time::timeout_at(deadline, decided.changed()).await {
                Ok(Ok(())) => continue,
                // Timed out, or the receiver is gone.
                Ok(Err(_)) | Err(_) => return Ok(Vec::new()),
            }
        }
    }

    /// The event cursor the receiver follows from: the saved one after a restart; for a new
    /// receiver, the ledger's head now, saved at once. Call it before handing out setup
    /// answers, so that no escrow made after a payer's setup falls before the cursor;
    /// [`Receiver::run`] calls it too and then gets the saved cursor.
    pub async fn starting_cursor(&self) -> Result<EventCursor, StoreError> {
        let cursor_key = self.cursor_key();
        if let Some(saved) = self.store.cursors().await?.get(&cursor_key).copied() {
            return Ok(saved);
        }
        // A new receiver acts on escrows from now on, not on the ledger's history.
        let head = loop {
            match self.plugin.head().await {
                Ok(head) => break head,
                Err(error) => {
                    tracing::warn!(%error, "receiver: reading the ledger's head failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };
        self.store.commit(vec![Write::Cursor(cursor_key, head)]).await?;
        Ok(head)
    }

    fn cursor_key(&self) -> LedgerId {
        LedgerId::new(format!("receiver:{}:{}", self.ledger, self.account))
    }

    /// Follows the ledger until the task is dropped.
    pub async fn run(self: Arc<Self>) -> Result<(), StoreError> {
        let cursor_key = self.cursor_key();
        let mut cursor = self.starting_cursor().await?;
        tracing::info!(address = %self.address, cursor = cursor.0, "receiver following its ledger");
        // A page with no offer changes nothing but the cursor; its events are harmless to see
        // again after a restart, so such cursor moves are saved at most once a second.
        let mut cursor_saved_at = std::time::Instant::now();
        loop {
            let page = match self.plugin.events(cursor, 500, Duration::from_secs(10)).await {
                Ok(page) => page,
                Err(error) => {
                    tracing::warn!(%error, "receiver: reading events failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            };
            let offers: Vec<&LedgerEvent> = page
                .events
                .iter()
                .filter(|e| {
                    e.cursor > cursor && e.kind == EventKind::Prepared && e.transfer.to == self.account
                })
                .collect();
            let outcomes = futures::future::join_all(offers.into_iter().map(|e| self.handle(e))).await;
            let next = page
                .events
                .last()
                .map(|e| e.cursor)
                .unwrap_or(cursor)
                .max(page.next);
            let mut writes: Vec<Write> = outcomes.into_iter().map(Write::Received).collect();
            let cursor_due = cursor_saved_at.elapsed() >= Duration::from_secs(1);
            if next > cursor && (!writes.is_empty() || cursor_due) {
                let decided_some = !writes.is_empty();
                writes.push(Write::Cursor(cursor_key.clone(), next));
                self.store.commit(writes).await?;
                cursor_saved_at = std::time::Instant::now();
                if decided_some {
                    self.decided.send_modify(|n| *n += 1);
                }
            }
            cursor = next;
        }
    }

    /// Decides on one offered escrow and acts at the ledger.
    async fn handle(&self, event: &LedgerEvent) -> ReceivedPayment {
        let t = &event.transfer;
        let now = self.clock.now();
        let offer = Offer {
            amount: t.amount,
            condition: &t.condition,
            expires_at: t.expires_at,
            memo: &t.memo,
        };
        let mut record = ReceivedPayment {
            transfer: t.id,
            uetr: None,
            amount: t.amount,
            reference: String::new(),
            outcome: String::new(),
            reject_code: None,
            reject_message: None,
            at: now,
        };
        match accept(&self.address, &self.seed, offer, now) {
            Ok(accepted) => {
                record.uetr = Some(accepted.data.uetr);
                record.reference = accepted.data.reference.clone();
                match self.plugin.fulfill(t.id, accepted.fulfillment).await {
                    Ok(_)
                    | Err(PluginError::AlreadyFinal {
                        status: EscrowStatus::Fulfilled,
                        ..
                    }) => {
                        tracing::info!(uetr = %accepted.data.uetr, amount = t.amount, "payment received");
                        record.outcome = "fulfilled".into();
                    }
                    Err(error) => {
                        tracing::warn!(transfer = %t.id, %error, "could not claim an accepted escrow");
                        record.outcome = "failed".into();
                        record.reject_message = Some(error.to_string());
                    }
                }
            }
            Err(rejection) => {
                tracing::info!(transfer = %t.id, code = %rejection.code, message = %rejection.message, "payment refused");
                let reason = format!("{} {}", rejection.code.as_str(), rejection.message);
                match self.plugin.reject(t.id, Some(reason)).await {
                    Ok(_) => {}
                    // Claimed before a restart, which lost the record of it.
                    Err(PluginError::AlreadyFinal {
                        status: EscrowStatus::Fulfilled,
                        ..
                    }) => {
                        let packet = Prepare::decode(&t.memo).ok();
                        if let Some(data) = packet.and_then(|p| PaymentData::decode(p.data()).ok()) {
                            record.uetr = Some(data.uetr);
                            record.reference = data.reference;
                        }
                        record.outcome = "fulfilled".into();
                        return record;
                    }
                    Err(error) => {
                        tracing::warn!(transfer = %t.id, %error, "could not reject an escrow; it will expire")
                    }
                }
                record.outcome = "rejected".into();
                record.reject_code = Some(rejection.code.as_str().to_owned());
                record.reject_message = Some(rejection.message);
            }
        }
        record
    }
}
