//! The paying bank's side (scenario steps 1-4 and the wait for 13): fetch the receiver's
//! address and secret, get a quote from the connector, build the packet whose condition only
//! the receiver can fulfil, escrow the quoted amount on the sender's ledger, and wait until the
//! escrow is fulfilled (paid) or rejected/expired (refunded).

use std::sync::Arc;
use std::time::Duration;

use htlc::{Address, Clock, EscrowStatus, FulfillmentKey, Prepare};
use plugins::{AccountId, LedgerPlugin, PluginError, PrepareTransfer, Transfer, TransferId};
use uuid::Uuid;

use crate::LedgerId;
use crate::api::client::{ClientError, ConnectorClient};
use crate::payment_data::PaymentData;
use crate::quote::{Quote, QuoteRequest};
use crate::receiver::SpspResponse;

/// What happened so far, for progress output.
#[derive(Debug, Clone)]
pub enum Progress {
    /// The receiver answered setup.
    Setup(SpspResponse),
    /// The connector quoted.
    Quoted(Box<Quote>),
    /// The escrow is on the sender's ledger.
    Escrowed {
        /// Its id.
        transfer: TransferId,
        /// The payment's end-to-end id.
        uetr: Uuid,
    },
}

/// A completed payment.
#[derive(Debug, Clone)]
pub struct Receipt {
    /// End-to-end id.
    pub uetr: Uuid,
    /// The quote it was made under.
    pub quote: Quote,
    /// The sender's escrow, fulfilled.
    pub transfer: Transfer,
}

/// Why a payment did not complete. Whatever was escrowed has been (or will be, at expiry)
/// refunded.
#[derive(Debug, thiserror::Error)]
pub enum PayError {
    /// The receiver's setup endpoint failed.
    #[error("receiver setup: {0}")]
    Setup(String),
    /// The connector refused to quote.
    #[error("quote refused: {0}")]
    Quote(String),
    /// The connector's API could not be reached (nothing was escrowed).
    #[error("connector unreachable at {url}: {reason}")]
    ConnectorUnreachable {
        /// The API address.
        url: String,
        /// The transport error.
        reason: String,
    },
    /// The sender's ledger refused the escrow.
    #[error("escrow refused by the sender's ledger: {0}")]
    Ledger(#[from] PluginError),
    /// The payment was rejected along the way; the escrow was refunded.
    #[error("payment rejected ({code}): {message}")]
    Rejected {
        /// ILP code, if the connector reported one.
        code: String,
        /// Why.
        message: String,
        /// End-to-end id.
        uetr: Uuid,
    },
    /// Nobody fulfilled before expiry; the escrow was refunded.
    #[error("payment expired unfulfilled; the escrow was refunded")]
    Expired {
        /// End-to-end id.
        uetr: Uuid,
    },
    /// The fulfillment the ledger reported does not match (should be impossible).
    #[error("the ledger reported a fulfillment that does not match the condition")]
    BadFulfillment,
}

/// Refuses a setup URL that is not `https://`: its answer is a shared secret.
pub fn require_https(url: &str) -> Result<(), String> {
    if url.starts_with("https://") {
        Ok(())
    } else {
        Err(format!(
            "{url}: a setup URL must be https:// (its answer is the payment's shared secret)"
        ))
    }
}

/// A bank account that pays through a connector.
pub struct Payer {
    ledger: Arc<dyn LedgerPlugin>,
    ledger_id: LedgerId,
    account: AccountId,
    connector: ConnectorClient,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Payer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payer")
            .field("ledger", &self.ledger_id)
            .field("account", &self.account)
            .field("connector", &self.connector.base())
            .finish()
    }
}

impl Payer {
    /// `account` on the ledger behind `ledger`, quoting at the connector API `connector_url`.
    pub fn new(
        ledger: Arc<dyn LedgerPlugin>,
        ledger_id: LedgerId,
        account: AccountId,
        connector_url: impl Into<String>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Payer {
            ledger,
            ledger_id,
            account,
            connector: ConnectorClient::with_timeout(connector_url, Duration::from_secs(10)),
            clock,
        }
    }

    /// Trusts (and authenticates to) the connector and receivers as `tls` says, instead of
    /// with the system's roots and no client certificate.
    pub fn with_tls(mut self, tls: &tls::ClientTls) -> Result<Self, tls::TlsError> {
        self.connector = self.connector.with_tls(tls)?;
        Ok(self)
    }

    /// Asks a receiver's setup endpoint (e.g. `https://bank-b/.well-known/pay`) for an address
    /// and shared secret; only over HTTPS, since the answer is the secret.
    pub async fn setup(&self, url: &str) -> Result<SpspResponse, PayError> {
        self.connector
            .setup(url)
            .await
            .map_err(|e| PayError::Setup(e.to_string()))
    }

    /// A quote for delivering `destination_amount` (minor units) to `destination`.
    pub async fn quote(&self, destination: &Address, destination_amount: u64) -> Result<Quote, PayError> {
        let request = QuoteRequest {
            source_ledger: self.ledger_id.clone(),
            source_account: Some(self.account.clone()),
            destination: destination.clone(),
            destination_amount: Some(destination_amount),
            source_amount: None,
        };
        self.connector.quote(&request).await.map_err(|e| match e {
            ClientError::Unreachable { reason, .. } => PayError::ConnectorUnreachable {
                url: self.connector.base().to_owned(),
                reason,
            },
            refused => PayError::Quote(refused.to_string()),
        })
    }

    /// Pays `destination_amount` (minor units of the destination asset) to the receiver that
    /// answered `spsp`, reporting progress, and waits for the outcome.
    pub async fn pay(
        &self,
        spsp: &SpspResponse,
        destination_amount: u64,
        reference: &str,
        mut progress: impl FnMut(&Progress),
    ) -> Result<Receipt, PayError> {
        let quote = self.quote(&spsp.destination_account, destination_amount).await?;
        progress(&Progress::Quoted(Box::new(quote.clone())));

        let data = PaymentData::new(quote.destination_amount, reference)
            .map_err(|e| PayError::Setup(e.to_string()))?;
        let uetr = data.uetr;
        let secret = spsp
            .secret()
            .map_err(|e| PayError::Setup(format!("shared secret: {e}")))?;
        let fulfillment = FulfillmentKey::from_shared_secret(&secret).fulfillment(&data.encode());
        let condition = fulfillment.condition();
        let window = i64::try_from(quote.expiry_window_ms).unwrap_or(i64::MAX);
        let expires_at = self
            .clock
            .now()
            .checked_add_millis(window)
            .unwrap_or(htlc::Timestamp::MAX);
        let packet = Prepare::new(
            spsp.destination_account.clone(),
            quote.source_amount,
            expires_at,
            condition,
            data.encode(),
        )
        .map_err(|e| PayError::Setup(e.to_string()))?;

        let id = TransferId::random();
        self.ledger
            .prepare(PrepareTransfer {
                id,
                from: self.account.clone(),
                to: quote.pay_to.clone(),
                amount: quote.source_amount,
                condition,
                expires_at,
                memo: packet.encode(),
            })
            .await?;
        tracing::info!(%uetr, transfer = %id, amount = quote.source_amount, "escrow prepared");
        progress(&Progress::Escrowed { transfer: id, uetr });

        let transfer = self.wait_final(id).await?;
        match transfer.status {
            EscrowStatus::Fulfilled => {
                if transfer.fulfillment != Some(fulfillment) {
                    return Err(PayError::BadFulfillment);
                }
                Ok(Receipt {
                    uetr,
                    quote,
                    transfer,
                })
            }
            EscrowStatus::Expired => Err(PayError::Expired { uetr }),
            _ => {
                // The connector states the ILP code on the rejected escrow; older ledgers may
                // drop it, so fall back to asking the connector.
                let (code, message) = match transfer.reject_reason.as_deref().and_then(split_reason) {
                    Some(found) => found,
                    None => self.rejection_reason(uetr).await,
                };
                Err(PayError::Rejected { code, message, uetr })
            }
        }
    }

    /// Waits until the escrow is final, asking its ledger with a growing interval.
    async fn wait_final(&self, id: TransferId) -> Result<Transfer, PayError> {
        let mut delay = Duration::from_millis(5);
        loop {
            match self.ledger.transfer(id).await {
                Ok(t) if t.status.is_final() => return Ok(t),
                Ok(_) => {}
                Err(e) if e.is_retryable() => {}
                Err(e) => return Err(e.into()),
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_millis(250));
        }
    }

    /// The connector's record of why the payment was rejected.
    async fn rejection_reason(&self, uetr: Uuid) -> (String, String) {
        self.connector
            .payments_by_uetr(uetr)
            .await
            .ok()
            .and_then(|ps| ps.into_iter().next())
            .map(|p| {
                (
                    p.reject_code.map(|c| c.as_str().to_owned()).unwrap_or_default(),
                    p.reject_message.unwrap_or_default(),
                )
            })
            .unwrap_or_else(|| (String::new(), "refused before reaching the connector".into()))
    }
}

/// `"F05 message"` as (`"F05"`, `"message"`).
fn split_reason(text: &str) -> Option<(String, String)> {
    let code = htlc::ErrorCode::parse(text.get(..3)?).ok()?;
    Some((code.as_str().to_owned(), text[3..].trim().to_owned()))
}
