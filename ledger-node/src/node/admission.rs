//! Admission of submitted transactions (service logic the HTTP API calls): the client's and
//! the signer's rates, signatures, the chain id, admission against the committed state
//! ([`crate::state::admission`]), then the hand-over to consensus, with a waiter registered
//! (see [`super::waiters`]) for clients that wait for the final status.

use std::net::IpAddr;

use crate::api::types::TxStatus;
use crate::node::driver::now_ms;
use crate::node::http::ApiError;
use crate::node::waiters::{Waiter, forget_abandoned_waiters, settle_waiters};
use crate::node::{DriverInput, Shared};
use crate::state::{Admission, BlockContext, FailReason, Refusal, Transaction, TxId};

/// What admission answers for one transaction: its status now (committed already, or
/// pending) and, when asked, a receiver for the final status; or why it was refused.
pub type Admitted = Result<(TxStatus, Option<Waiter>), ApiError>;

/// What admission made of a transaction that passed the signature and chain checks.
enum Verdict {
    /// To the mempool.
    Admit,
    /// Cannot succeed from the committed state.
    Refused(Refusal),
    /// Its signer is over its rate.
    Limited(u64),
}

fn node_time(ctx: &Shared) -> u64 {
    u64::try_from(ctx.clock.now().unix_millis()).unwrap_or(0)
}

/// Checks transactions and hands the good ones to consensus, in order. Each result is the
/// status now (committed already, or pending) and, when asked, a receiver for the final status.
///
/// In this order, cheapest first: the client's rate (one token a transaction; none left for
/// any of them refuses the whole request with 429), signatures (one batch), the chain id,
/// admission against the stored state ([`crate::state::admission`]) with the signer's rate
/// (a token only for a transaction found admissible, so no one can spend another account's
/// tokens with transactions it cannot sign or that would be refused anyway), then one lookup
/// of those already committed, which answer their status whatever admission said (submitting
/// is idempotent). Admission reads the state before that lookup, so a transaction whose nonce
/// it saw used is found there, but for an instant after each store: see
/// `refused_or_in_flight`.
///
/// Waiters are registered before the lookup: a transaction already on its way (submitted
/// earlier, perhaps elsewhere) that the writer stores between the lookup and the registration
/// would otherwise leave its waiter to the timeout.
pub async fn admit(
    ctx: &Shared,
    client: Option<IpAddr>,
    txs: Vec<Vec<u8>>,
    wait: bool,
) -> Result<Vec<Admitted>, ApiError> {
    let now = node_time(ctx);
    let asked = u32::try_from(txs.len()).unwrap_or(u32::MAX);
    let (allowed, client_retry) = match client {
        Some(ip) => {
            let taken = lock_limits(ctx).clients.take(&ip, asked, now);
            (taken.granted as usize, taken.retry_after_s)
        }
        None => (txs.len(), None),
    };
    let client_limited = |retry_after_s: u64| ApiError::RateLimited {
        what: "this client".into(),
        retry_after_s,
    };
    if allowed == 0 && !txs.is_empty() {
        ctx.metrics
            .refused
            .with_label_values(&["rate_limited"])
            .inc_by(txs.len() as u64);
        return Err(client_limited(client_retry.unwrap_or(1)));
    }
    let refs: Vec<&[u8]> = txs[..allowed].iter().map(Vec::as_slice).collect();
    let mut checked: Vec<Result<Transaction, ApiError>> = ctx
        .sigs
        .check(&refs)
        .into_iter()
        .map(|c| refuse_early(ctx, c))
        .collect();
    for _ in allowed..txs.len() {
        ctx.metrics.refused.with_label_values(&["rate_limited"]).inc();
        checked.push(Err(client_limited(client_retry.unwrap_or(1))));
    }
    let takes_txs = ctx.identity.is_some();
    let waiters: Vec<Option<Waiter>> = {
        let mut registry = ctx.waiters.lock().unwrap_or_else(|p| p.into_inner());
        checked
            .iter()
            .map(|tx| match tx {
                Ok(tx) if wait && takes_txs => {
                    let (tx_w, rx_w) = tokio::sync::oneshot::channel();
                    registry.entry(tx.id).or_default().push(tx_w);
                    Some(rx_w)
                }
                _ => None,
            })
            .collect()
    };
    let verdicts = if takes_txs {
        judge(ctx, &checked, now).await.map_err(|e| e.to_string())
    } else {
        Ok(Vec::new())
    };
    let ids: Vec<[u8; 32]> = checked.iter().flatten().map(|tx| tx.id).collect();
    let committed = ctx.reader.tx_statuses(&ids).await.map_err(|e| e.to_string());
    if let Ok(found) = &committed {
        settle_waiters(ctx, found);
    }
    let (mut verdicts, judged) = match verdicts {
        Ok(v) => (v.into_iter(), Ok(())),
        Err(e) => (Vec::new().into_iter(), Err(e)),
    };
    let mut admitted = Vec::with_capacity(txs.len());
    let mut abandoned = Vec::new();
    for ((bytes, tx), mut waiter) in txs.into_iter().zip(checked).zip(waiters) {
        let tx = match tx {
            Ok(tx) => tx,
            Err(e) => {
                admitted.push(Err(e));
                continue;
            }
        };
        let verdict = verdicts.next();
        admitted.push(match (&committed, &judged) {
            (Err(e), _) | (_, Err(e)) => Err(ApiError::Internal(e.clone())),
            (Ok(found), Ok(())) => match (found.get(&tx.id), verdict) {
                (Some(s), _) => Ok((s.clone(), None)),
                (None, _) if !takes_txs => Err(ApiError::Unavailable(
                    "a full node does not take transactions; submit to a validator".into(),
                )),
                (None, Some(Verdict::Admit)) => hand_to_consensus(ctx, &tx, bytes, waiter.take()),
                (None, Some(Verdict::Refused(r))) => refused_or_in_flight(ctx, &tx, r, &mut waiter),
                (None, Some(Verdict::Limited(retry_after_s))) => {
                    ctx.metrics.refused.with_label_values(&["rate_limited"]).inc();
                    Err(ApiError::RateLimited {
                        what: format!("account {}", tx.body.signer),
                        retry_after_s,
                    })
                }
                (None, None) => Err(ApiError::Internal("no admission verdict".into())),
            },
        });
        if waiter.is_some() {
            abandoned.push(tx.id);
        }
    }
    // Waiters not handed out (refused, or the lookup failed) are dropped here; their senders
    // go too.
    forget_abandoned_waiters(ctx, abandoned);
    Ok(admitted)
}

fn lock_limits(ctx: &Shared) -> std::sync::MutexGuard<'_, crate::node::limits::RateLimits> {
    ctx.limits.lock().unwrap_or_else(|p| p.into_inner())
}

/// Admission's verdict on each transaction that passed the early checks, in order, each
/// judged after the earlier admitted ones of the request (a batch may create an asset and
/// issue it, or fund an account and spend from it).
async fn judge(
    ctx: &Shared,
    checked: &[Result<Transaction, ApiError>],
    now: u64,
) -> Result<Vec<Verdict>, ApiError> {
    let txs: Vec<&Transaction> = checked.iter().flatten().collect();
    if txs.is_empty() {
        return Ok(Vec::new());
    }
    let state = ctx.reader.admission_state(&txs).await?;
    let mut admission = Admission::new(
        &state,
        BlockContext {
            chain_id: ctx.chain_id,
            height: 0,
            timestamp_ms: now,
            params: ctx.genesis.params,
        },
    );
    Ok(txs
        .into_iter()
        .map(|tx| match admission.judge(tx) {
            Err(r) => Verdict::Refused(r),
            Ok(admissible) => {
                let taken = lock_limits(ctx).accounts.take(&tx.body.signer, 1, now);
                match taken.retry_after_s {
                    None => {
                        admission.accept(admissible);
                        Verdict::Admit
                    }
                    Some(s) => Verdict::Limited(s),
                }
            }
        })
        .collect())
}

/// A refusal, unless it is a used nonce of a transaction this node accepted and has not yet
/// seen stored. The writer commits a block's state to SQLite a moment before it indexes the
/// block's transactions in memory, and the status lookup can fall in between: the used nonce
/// may be the transaction's own. It is answered `pending` instead (its waiter stays
/// registered; if another transaction took the nonce, its block says `nonce_reused`).
fn refused_or_in_flight(ctx: &Shared, tx: &Transaction, r: Refusal, waiter: &mut Option<Waiter>) -> Admitted {
    let in_flight = matches!(r, Refusal::Rule(FailReason::NonceReused { .. }))
        && ctx
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(&tx.id);
    if in_flight {
        return Ok((TxStatus::pending(TxId(tx.id)), waiter.take()));
    }
    ctx.metrics.refused.with_label_values(&[r.code()]).inc();
    Err(ApiError::NotAdmitted(r))
}

/// The refusals decided before the mempool: undecodable, bad signature, another chain.
fn refuse_early(ctx: &Shared, checked: Result<Transaction, FailReason>) -> Result<Transaction, ApiError> {
    let refused = |r: FailReason| {
        ctx.metrics.refused.with_label_values(&[r.code().as_str()]).inc();
        ApiError::Refused { reason: r }
    };
    match checked {
        Err(FailReason::Malformed) => {
            ctx.metrics.refused.with_label_values(&["malformed"]).inc();
            Err(ApiError::Malformed("not a transaction".into()))
        }
        Err(r) => Err(refused(r)),
        Ok(tx) if tx.body.chain_id != ctx.chain_id => Err(refused(FailReason::WrongChain)),
        Ok(tx) => Ok(tx),
    }
}

/// Queues a checked, not yet committed transaction for consensus; its waiter (if any) is
/// already registered, so the final status cannot slip past it.
fn hand_to_consensus(ctx: &Shared, tx: &Transaction, bytes: Vec<u8>, waiter: Option<Waiter>) -> Admitted {
    ctx.pending
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(tx.id, now_ms());
    if ctx.inbox.try_send(DriverInput::Submit(bytes)).is_err() {
        ctx.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&tx.id);
        // Our waiter goes with this refusal; its sender goes too, so none is kept forever.
        drop(waiter);
        forget_abandoned_waiters(ctx, [tx.id]);
        return Err(ApiError::Unavailable("the node is overloaded; retry".into()));
    }
    ctx.metrics.submitted.inc();
    Ok((TxStatus::pending(TxId(tx.id)), waiter))
}
