//! `/v1/blocks` and `/v1/committee`: committed blocks with their certificates, and the
//! committee a light client checks them against.

use actix_web::{HttpResponse, web};

use super::problem::{Internal, Malformed, NotFound};
use super::{ApiError, Ctx};
use crate::api::types::{BlockView, CommitteeView, MemberView};
use crate::codec::encode_to_vec;
use crate::state::TxId;

/// A committed block by height, with the certificate that makes it final.
#[utoipa::path(get, path = "/v1/blocks/{height}", tag = "blocks",
    params(("height" = u64, Path, description = "Height (1 = first block after genesis)")),
    responses((status = 200, description = "The block and its certificate", body = BlockView),
        Malformed, NotFound, Internal))]
pub async fn block(ctx: Ctx, height: web::Path<u64>) -> Result<HttpResponse, ApiError> {
    let s = ctx
        .reader
        .block(*height)
        .await?
        .ok_or_else(|| ApiError::NotFound("block".into()))?;
    let h = s.block.header();
    Ok(HttpResponse::Ok().json(BlockView {
        height: h.height,
        hash: s.block.hash().0,
        view: h.view,
        timestamp_ms: h.timestamp_ms,
        proposer: h.proposer,
        parent_hash: h.parent_hash.0,
        payload_root: h.payload_root,
        state_root: h.state_root,
        tx_ids: s.block.tx_ids().iter().copied().map(TxId).collect(),
        qc_signers: s.qc.signers.iter().collect(),
        block: encode_to_vec(s.block.as_ref()),
        qc: encode_to_vec(&s.qc),
    }))
}

/// The committee: members, keys, epoch, and the genesis a light client needs.
#[utoipa::path(get, path = "/v1/committee", tag = "blocks",
    responses((status = 200, description = "The committee and the genesis", body = CommitteeView)))]
pub async fn committee(ctx: Ctx) -> HttpResponse {
    let c = &ctx.committee;
    HttpResponse::Ok().json(CommitteeView {
        epoch: c.epoch(),
        chain_id: ctx.chain_id,
        quorum: c.quorum(),
        members: c
            .members()
            .iter()
            .enumerate()
            .map(|(i, m)| MemberView {
                index: u16::try_from(i).expect("a committee has at most MAX_COMMITTEE members"),
                public_key: m.public_key.to_bytes().to_vec(),
                operator: m.operator.clone(),
            })
            .collect(),
        genesis: encode_to_vec(&ctx.genesis),
    })
}
