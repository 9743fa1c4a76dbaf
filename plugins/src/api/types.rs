//! Request and response bodies of the REST plugin API beyond the [`crate::plugin`] types
//! (which are used on the wire as they are).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use htlc::{Fulfillment, Timestamp};

use crate::plugin::{AccountId, EventCursor};

/// Body of `POST /v1/transfers/{id}/fulfill`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FulfillRequest {
    /// The 32-byte preimage, hex.
    pub fulfillment: Fulfillment,
}

/// Body of `POST /v1/transfers/{id}/reject`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RejectRequest {
    /// Why, for the payer's records.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Body of `POST /v1/payments`: an immediate, unconditional transfer (wallet payments, an
/// intermediary distributing CBDC to wallets, a wallet redeeming to its bank).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PaymentRequest {
    /// Paying account (owned by the caller).
    pub from: AccountId,
    /// Receiving account.
    pub to: AccountId,
    /// Minor units.
    pub amount: u64,
    /// Free text for both statements.
    #[serde(default)]
    pub reference: Option<String>,
}

/// A booked payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Payment {
    /// The ledger's id for it (statement entries refer to it).
    pub id: Uuid,
    /// Payer.
    pub from: AccountId,
    /// Payee.
    pub to: AccountId,
    /// Minor units.
    pub amount: u64,
    /// When it was booked.
    pub booked_at: Timestamp,
}

/// Body of `POST /v1/issuances` (central bank only): new money for an intermediary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IssuanceRequest {
    /// The intermediary credited.
    pub to: AccountId,
    /// Minor units.
    pub amount: u64,
}

/// Body of `POST /v1/redemptions` (an intermediary): money returned to the central bank and
/// taken out of circulation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RedemptionRequest {
    /// The intermediary debited (owned by the caller).
    pub from: AccountId,
    /// Minor units.
    pub amount: u64,
}

/// The result of an issuance or redemption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SupplyChange {
    /// Id of the booking.
    pub id: Uuid,
    /// The intermediary.
    pub account: AccountId,
    /// Positive for issuance, negative for redemption.
    pub amount: i64,
    /// Money in circulation afterwards.
    pub total_supply: i64,
}

/// `GET /v1/supply`: the invariant a CBDC ledger keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Supply {
    /// Issued minus redeemed (on a bank ledger: the opening balances).
    pub total_supply: i64,
    /// Sum of all accounts' available balances.
    pub balances: i64,
    /// Sum of all funds locked in escrows.
    pub escrowed: i64,
    /// The cap `total_supply` may not exceed (`ledger.max_supply`); issuance beyond it is
    /// refused with `supply_cap_exceeded`.
    #[serde(default)]
    pub max_supply: u64,
}

/// Result of a name check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NameMatch {
    /// The name given is the holder's name (ignoring case, spacing and punctuation).
    Match,
    /// Close: one of the names contains the other.
    CloseMatch,
    /// Different.
    NoMatch,
}

/// `GET /v1/accounts/{id}/receivable`: how much more an account can receive now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Receivable {
    /// The account.
    pub account: AccountId,
    /// Minor units it can still receive (wallet tier or holding limit, less its balance and
    /// pending incoming escrows); absent when no limit applies.
    pub receivable: Option<u64>,
}

/// `GET /v1/accounts/{id}`: account lookup and name check (confirmation of payee).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountLookup {
    /// The account.
    pub account: AccountId,
    /// What it is.
    pub kind: AccountKind,
    /// The holder's name: shown only to the account's owner.
    pub holder_name: Option<String>,
    /// Present when a `name` was asked about.
    pub name_match: Option<NameMatch>,
}

/// Query of `GET /v1/accounts/{id}`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    /// A holder name to check against the account.
    pub name: Option<String>,
}

/// Query of `GET /v1/accounts/{id}/statement`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// Start of the period (inclusive), RFC 3339.
    #[param(format = DateTime)]
    pub from: String,
    /// End of the period (exclusive), RFC 3339.
    #[param(format = DateTime)]
    pub to: String,
}

/// Credit or debit, as in ISO 20022 (`CdtDbtInd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum CreditDebit {
    /// Money in.
    #[serde(rename = "CRDT")]
    Credit,
    /// Money out.
    #[serde(rename = "DBIT")]
    Debit,
}

/// One booked entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatementEntry {
    /// Ledger-wide booking sequence number.
    pub seq: i64,
    /// Booking time.
    pub booked_at: Timestamp,
    /// Minor units, positive.
    pub amount: u64,
    /// Direction.
    pub credit_debit: CreditDebit,
    /// Booked balance after this entry.
    pub balance_after: i64,
    /// `opening`, `transfer`, `payment`, `issuance`, `redemption`, `sweep` or `top-up`.
    pub kind: String,
    /// The transfer, payment or booking id.
    pub reference: String,
    /// The other account, if any.
    pub counterparty: Option<AccountId>,
}

/// `GET /v1/accounts/{id}/statement`: like a camt.053 statement. The booked balance is the
/// available balance plus funds held in outgoing transfers: a hold books nothing until it is
/// fulfilled, so `opening + credits - debits = closing` always holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Statement {
    /// The account.
    pub account: AccountId,
    /// Period start (inclusive).
    pub from: Timestamp,
    /// Period end (exclusive).
    pub to: Timestamp,
    /// Booked balance at `from`.
    pub opening_balance: i64,
    /// Entries in booking order.
    pub entries: Vec<StatementEntry>,
    /// Booked balance at `to`.
    pub closing_balance: i64,
}

/// Query of `GET /v1/events` (long poll).
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Resume after this cursor (default 0: from the start).
    pub after: Option<u64>,
    /// At most this many events (default and maximum 500).
    pub limit: Option<u32>,
    /// Wait up to this long for the first event, in milliseconds (default 0).
    pub wait_ms: Option<u64>,
}

/// Query of `GET /v1/events/stream` (server-sent events).
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Resume after this cursor; the `Last-Event-ID` header wins if both are sent.
    pub after: Option<u64>,
}

/// Body of `POST /v1/webhooks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookRequest {
    /// Where events are POSTed: an absolute URL of at most 2048 bytes, without credentials,
    /// whose scheme and host the ledger's webhook policy allows (by default `https` only and no
    /// loopback, link-local, private or other internal address; refused with 422
    /// `webhook_url_forbidden`).
    pub url: String,
    /// Deliver events after this cursor; default: only events from now on.
    #[serde(default)]
    pub after: Option<EventCursor>,
}

/// A webhook registration and its delivery state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Webhook {
    /// The key it belongs to (deliveries are signed with it).
    pub key_id: String,
    /// Target URL, as the ledger parsed it (scheme and host in lowercase, an empty path as `/`).
    pub url: String,
    /// Every event up to this cursor has been acknowledged.
    pub delivered_through: EventCursor,
    /// Failed attempts at the next event.
    pub attempts: u32,
    /// When the next attempt is due (after a failure).
    pub next_attempt_at: Option<Timestamp>,
    /// What went wrong last.
    pub last_error: Option<String>,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// The ledger id.
    pub ledger_id: String,
}

/// What an account is for; decides which rules apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AccountKind {
    /// A plain bank account (bank ledger), possibly with an overdraft.
    Customer,
    /// An interbank account (clearing bank, banks' settlement accounts): no retail limits.
    Wholesale,
    /// A commercial bank distributing CBDC: wholesale, and it may receive issuance and redeem.
    Intermediary,
    /// The central bank: the issuer of a CBDC. It issues and redeems but does not pay.
    CentralBank,
    /// A retail CBDC wallet, subject to the ledger's retail limits.
    Wallet,
}

impl AccountKind {
    /// Kebab-case name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Customer => "customer",
            AccountKind::Wholesale => "wholesale",
            AccountKind::Intermediary => "intermediary",
            AccountKind::CentralBank => "central-bank",
            AccountKind::Wallet => "wallet",
        }
    }
}
