//! The OpenAPI 3.1 document of the node's API, generated from the handlers and the JSON types
//! and served at `GET /openapi.json`. `docs/openapi/chain-api.json` is this document;
//! `tests/openapi.rs` fails if it is stale (regenerate with
//! `UPDATE_OPENAPI=1 cargo test -p ledger-node --test openapi`).

use actix_web::HttpResponse;
use utoipa::OpenApi;

use super::{Problem, accounts, blocks, dids, escrows, events, ops, transactions};
use crate::api::types::{TxState, TxStatus};
use crate::proof::InclusionProof;

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "CypherLink committee chain node API",
        version = "1.0.0",
        description = "Submit Ed25519-signed transactions to the committee chain and read what it \
                       committed: transaction status, balances, escrows, blocks with their BLS quorum \
                       certificates, the committee, an event feed with a resume cursor, and inclusion \
                       proofs that a light client checks offline. Errors are application/problem+json."
    ),
    paths(transactions::submit, transactions::submit_batch, transactions::tx_status, transactions::tx_proof,
          accounts::account, accounts::account_txs, accounts::asset, escrows::escrow, escrows::escrows,
          escrows::anchor, blocks::block, blocks::committee, events::events, ops::status, ops::metrics,
          ops::healthz, dids::resolve, document),
    components(schemas(Problem, transactions::BatchItem, TxStatus, TxState, InclusionProof, crate::proof::Step,
                       crate::proof::CommitmentJson, crate::proof::ItemProof)),
    tags(
        (name = "transactions", description = "Submitting and tracking transactions"),
        (name = "accounts", description = "Balances, assets, account history"),
        (name = "escrows", description = "Hash-time-locked escrows"),
        (name = "events", description = "The event feed"),
        (name = "blocks", description = "Blocks, certificates, the committee"),
        (name = "proofs", description = "Anchors and inclusion proofs"),
        (name = "dids", description = "DID resolution (W3C DID Resolution HTTP binding): did:cypher from the chain, did:key locally"),
        (name = "ops", description = "Status, health, metrics and this document"),
    )
)]
pub struct ChainApi;

/// The document as pretty JSON with a trailing newline.
pub fn openapi_json() -> String {
    let mut s = ChainApi::openapi().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "ops",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json")))]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(openapi_json())
}
