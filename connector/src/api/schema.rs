//! Schema-only types for the OpenAPI document: how values whose types know nothing of OpenAPI
//! (the journal's [`crate::payment::Payment`], [`crate::quote::Quote`], `htlc` values) look on
//! the wire. They are never constructed; `tests/openapi.rs` serializes the real types and checks
//! that their fields are exactly the ones documented here, so the two cannot drift apart.

#![allow(dead_code)]

use utoipa::ToSchema;

/// An asset and its scale: amounts are integers of 10^-scale units.
#[derive(ToSchema)]
#[schema(as = Asset)]
pub struct AssetDoc {
    /// Asset code.
    #[schema(example = "DE")]
    code: String,
    /// Decimal places of the minor unit.
    #[schema(example = 2)]
    scale: u8,
}

/// Where a payment stands. `fulfilled`, `rejected` and `lost` are final.
#[derive(ToSchema)]
#[schema(as = PaymentState, rename_all = "snake_case")]
pub enum PaymentStateDoc {
    /// Incoming escrow seen and accepted; outgoing escrow being prepared.
    Forwarding,
    /// Outgoing escrow prepared; waiting for the next hop.
    Forwarded,
    /// Preimage learned from the outgoing leg; claiming the incoming leg.
    Fulfilling,
    /// Both legs fulfilled.
    Fulfilled,
    /// Refused or failed downstream; rejecting the incoming leg.
    Rejecting,
    /// Incoming leg rejected or refunded.
    Rejected,
    /// The outgoing leg was paid but the incoming leg expired first (an alert).
    Lost,
}

/// The leg that arrived: an escrow for the connector's account.
#[derive(ToSchema)]
#[schema(as = IncomingLeg)]
pub struct IncomingLegDoc {
    /// The connector's name of the ledger.
    #[schema(example = "digital-euro")]
    ledger: String,
    /// The payer's transfer id.
    #[schema(example = "9f0e7c4e-6a8e-4d6b-9a59-4f1d2b6c8e01")]
    transfer: String,
    /// The payer.
    #[schema(example = "bank-a")]
    from: String,
    /// Minor units of the incoming ledger's asset.
    #[schema(example = 100100)]
    amount: u64,
    /// The deadline to claim it (earlier of escrow and packet expiry).
    #[schema(format = DateTime)]
    expires_at: String,
}

/// The escrow the connector made on the next ledger.
#[derive(ToSchema)]
#[schema(as = OutgoingLeg)]
pub struct OutgoingLegDoc {
    /// The connector's name of the ledger.
    #[schema(example = "e-cny")]
    ledger: String,
    /// Derived from the incoming transfer id (a retry after a crash is the same transfer).
    #[schema(example = "0b7d7a49-3c55-5d56-9a3b-8f1b2e6f1d22")]
    transfer: String,
    /// The connector's account.
    #[schema(example = "clearing-bank")]
    from: String,
    /// The next hop.
    #[schema(example = "bank-b")]
    to: String,
    /// Minor units of the outgoing ledger's asset.
    #[schema(example = 200000)]
    amount: u64,
    /// Its expiry (earlier than the incoming leg's by the timeout ladder's margin).
    #[schema(format = DateTime)]
    expires_at: String,
}

/// One payment through the connector, as its journal records it.
#[derive(ToSchema)]
#[schema(as = Payment)]
pub struct PaymentDoc {
    /// The connector's payment id (derived from the incoming transfer).
    #[schema(example = "5b1f8f0e-0c1a-5b9e-8f7d-3c2a1b0e9d8c")]
    id: String,
    /// The end-to-end id (UETR) from the packet data, if the sender gave one.
    #[schema(example = "1c9a5f3e-2b7d-4e8a-9f61-0d3c5b7a9e21")]
    uetr: Option<String>,
    /// Where it stands.
    state: PaymentStateDoc,
    /// The hash lock both legs share, hex.
    #[schema(example = "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925")]
    condition: String,
    /// The packet's destination ILP address.
    #[schema(example = "test.ecny.bank-b.nB3xS1c0dYhRk2oUaWp4Zg")]
    destination: String,
    /// What arrived.
    incoming: IncomingLegDoc,
    /// What the connector sent on, if it decided to forward.
    outgoing: Option<OutgoingLegDoc>,
    /// The connector's fee, incoming minor units (earned only if fulfilled).
    #[schema(example = 100)]
    fee: u64,
    /// The ILP error code it was refused with (`F02`, `R00`, ...).
    #[schema(example = "R00")]
    reject_code: Option<String>,
    /// Why.
    reject_message: Option<String>,
    /// When the incoming escrow was first seen.
    #[schema(format = DateTime)]
    created_at: String,
    /// Last change.
    #[schema(format = DateTime)]
    updated_at: String,
}

/// One entry of a payment's event trail.
#[derive(ToSchema)]
#[schema(as = TrailEntry)]
pub struct TrailEntryDoc {
    /// When.
    #[schema(format = DateTime)]
    at: String,
    /// What happened (`incoming_seen`, `outgoing_prepared`, `outgoing_fulfilled`, ...).
    #[schema(example = "incoming_seen")]
    kind: String,
    /// Details for an operator.
    detail: String,
}

/// A payment with its event trail, oldest entry first.
#[derive(ToSchema)]
#[schema(as = PaymentDetail)]
pub struct PaymentDetailDoc {
    /// The connector's payment id.
    id: String,
    /// The end-to-end id.
    uetr: Option<String>,
    /// Where it stands.
    state: PaymentStateDoc,
    /// The hash lock, hex.
    condition: String,
    /// The packet's destination address.
    destination: String,
    /// What arrived.
    incoming: IncomingLegDoc,
    /// What the connector sent on.
    outgoing: Option<OutgoingLegDoc>,
    /// Fee, incoming minor units.
    fee: u64,
    /// ILP error code.
    reject_code: Option<String>,
    /// Why.
    reject_message: Option<String>,
    /// First seen.
    #[schema(format = DateTime)]
    created_at: String,
    /// Last change.
    #[schema(format = DateTime)]
    updated_at: String,
    /// Every step, oldest first.
    trail: Vec<TrailEntryDoc>,
}

/// A request for a quote. Give exactly one of the two amounts, in minor units, as decimal
/// strings (JSON numbers are accepted too).
#[derive(ToSchema)]
#[schema(as = QuoteRequest)]
pub struct QuoteRequestDoc {
    /// The ledger the sender pays on (the connector's name for it).
    #[schema(example = "digital-euro")]
    source_ledger: String,
    /// The sender's account there (its limits apply).
    #[schema(example = "bank-a")]
    source_account: Option<String>,
    /// The receiver's ILP address, from its setup response.
    #[schema(example = "test.ecny.bank-b.nB3xS1c0dYhRk2oUaWp4Zg")]
    destination: String,
    /// Deliver exactly this much, destination minor units (the source amount rounds up).
    #[schema(example = "200000")]
    destination_amount: Option<String>,
    /// Send exactly this much, source minor units (the destination amount rounds down).
    source_amount: Option<String>,
}

/// The connector's promise: what to escrow, to whom, with which expiry, to deliver what.
/// Amounts are minor units as decimal strings.
#[derive(ToSchema)]
#[schema(as = Quote)]
pub struct QuoteDoc {
    /// Quote id.
    #[schema(example = "2f0d6a3c-7a51-4c0e-b8b4-6e5f9d1a2c3b")]
    id: String,
    /// Where the sender escrows.
    #[schema(example = "digital-euro")]
    source_ledger: String,
    /// The connector's account there: the escrow's payee.
    #[schema(example = "clearing-bank")]
    pay_to: String,
    /// What to escrow, source minor units, fee included.
    #[schema(example = "100100")]
    source_amount: String,
    /// The source asset.
    source_asset: AssetDoc,
    /// Where the payee is paid.
    #[schema(example = "e-cny")]
    destination_ledger: String,
    /// The payee's account there.
    #[schema(example = "bank-b")]
    destination_account: String,
    /// What the payee gets, destination minor units.
    #[schema(example = "200000")]
    destination_amount: String,
    /// The destination asset.
    destination_asset: AssetDoc,
    /// The connector's fee, source minor units.
    #[schema(example = "100")]
    fee: String,
    /// The rate before fees, destination minor units per source minor unit (`n/d`).
    #[schema(example = "2/1")]
    rate: String,
    /// The route prefix that matched.
    #[schema(example = "test.ecny")]
    route: String,
    /// The escrow's minimum lifetime, ms.
    #[schema(example = 9600)]
    expiry_window_ms: u64,
    /// `now + expiry_window_ms` when quoted: the expiry to use when escrowing right away.
    #[schema(format = DateTime)]
    expires_at: String,
    /// The numbers hold until then.
    #[schema(format = DateTime)]
    valid_until: String,
}

/// `GET /healthz` when the connector is working.
#[derive(ToSchema)]
#[schema(as = Health)]
pub struct HealthDoc {
    /// `ok`.
    #[schema(example = "ok")]
    status: String,
    /// Payments not yet final.
    #[schema(example = 0)]
    in_flight: u64,
}
