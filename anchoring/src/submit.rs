//! The submitter: sends sealed batches' transactions to the chain and reports back to the
//! engine. One round at a time: every transaction not yet final goes, in nonce order, in one
//! ordered batch request that waits for their blocks, so a namespace's anchors reach the chain in
//! sequence order (the chain refuses any other: `anchor_out_of_sequence`). Batches sealed during
//! a round go in the next. Once a transaction is final its block's inclusion proof is fetched
//! (retrying while the node has none yet) and handed to the engine with it.
//!
//! Refusals that are a rule's verdict make the engine sign the batch again; a node that cannot
//! take the request now (unreachable, rate limited, unavailable) is asked again after a pause.

use std::time::Duration;

use ledger_node::api::{ChainClient, ProblemCode, TxState};
use ledger_node::state::TxId;
use ledger_node::state::types::hex_of;
use tokio::sync::mpsc;

use crate::batch::Outcome;
use crate::engine::{Command, Outgoing};

/// How long one round waits for its blocks.
const ROUND_WAIT: Duration = Duration::from_secs(10);
/// Transactions per request (the node's batch limit).
const MAX_PER_REQUEST: usize = 1000;
/// The pause before asking a node again that could not answer.
const RETRY_PAUSE: Duration = Duration::from_millis(200);
/// How long a committed transaction's proof is waited for before the round moves on (it is
/// asked for again in the next round).
const PROOF_PATIENCE: Duration = Duration::from_secs(10);

/// Runs until the engine is gone.
pub async fn run(
    client: ChainClient,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    engine: mpsc::Sender<Command>,
) {
    let mut pending: Vec<Outgoing> = Vec::new();
    loop {
        if pending.is_empty() {
            match rx.recv().await {
                Some(o) => pending.push(o),
                None => return,
            }
        }
        while let Ok(o) = rx.try_recv() {
            // A batch signed again replaces its old transaction.
            pending.retain(|p| !(p.namespace == o.namespace && p.sequence == o.sequence));
            pending.push(o);
        }
        pending.sort_by_key(|o| o.nonce);
        let round: Vec<Outgoing> = pending.iter().take(MAX_PER_REQUEST).cloned().collect();
        let txs: Vec<Vec<u8>> = round.iter().map(|o| o.tx.clone()).collect();
        let answers = match client.submit_batch(&txs, Some(ROUND_WAIT)).await {
            Ok(a) if a.len() == round.len() => a,
            Ok(a) => {
                tracing::warn!(
                    sent = round.len(),
                    answered = a.len(),
                    "the node answered a partial batch"
                );
                tokio::time::sleep(RETRY_PAUSE).await;
                continue;
            }
            Err(e) => {
                tracing::warn!("submitting {} anchors: {e}", round.len());
                tokio::time::sleep(RETRY_PAUSE).await;
                continue;
            }
        };
        let mut done = Vec::new();
        let mut finals = Vec::new();
        for (o, answer) in round.iter().zip(answers) {
            let outcome = match answer {
                Ok(s) => match s.status {
                    TxState::Pending => Some(Outcome::Accepted),
                    TxState::Final => {
                        finals.push((o.clone(), s.height.unwrap_or(0)));
                        None
                    }
                    TxState::Failed => Some(Outcome::Failed(format!(
                        "{}: {}",
                        s.reason.map(|r| r.to_string()).unwrap_or_default(),
                        s.detail.unwrap_or_default()
                    ))),
                },
                Err((ProblemCode::Rule(code), detail)) => Some(Outcome::Failed(format!("{code}: {detail}"))),
                Err((code @ (ProblemCode::UnknownSigner | ProblemCode::Malformed), detail)) => {
                    Some(Outcome::Failed(format!("{}: {detail}", code.as_str())))
                }
                Err((code, detail)) => {
                    tracing::warn!("the node did not take an anchor now: {} {detail}", code.as_str());
                    None
                }
            };
            if let Some(outcome) = outcome {
                if matches!(outcome, Outcome::Failed(_)) {
                    done.push(o.tx_id);
                }
                report(&engine, o, outcome, None).await;
            }
        }
        let proofs = futures::future::join_all(finals.iter().map(|(o, _)| fetch_proof(&client, o))).await;
        for ((o, height), proof) in finals.into_iter().zip(proofs) {
            if let Some(proof) = proof {
                done.push(o.tx_id);
                report(&engine, &o, Outcome::Final, Some((height, proof))).await;
            }
        }
        pending.retain(|p| !done.contains(&p.tx_id));
        if engine.is_closed() {
            return;
        }
    }
}

async fn report(
    engine: &mpsc::Sender<Command>,
    o: &Outgoing,
    outcome: Outcome,
    proof: Option<(u64, String)>,
) {
    let _ = engine
        .send(Command::Report {
            namespace: o.namespace.clone(),
            sequence: o.sequence,
            tx_id: o.tx_id,
            outcome,
            proof,
        })
        .await;
}

/// The inclusion proof of a committed transaction, as JSON; `None` if the node has none within
/// [`PROOF_PATIENCE`] (it may prove only final blocks, a moment after committing).
async fn fetch_proof(client: &ChainClient, o: &Outgoing) -> Option<String> {
    let deadline = tokio::time::Instant::now() + PROOF_PATIENCE;
    let mut pause = Duration::from_millis(10);
    loop {
        match client.proof(&TxId(o.tx_id)).await {
            Ok(Some(p)) if p.tx == hex_of(&o.tx) => match serde_json::to_string(&p) {
                Ok(json) => return Some(json),
                Err(e) => tracing::error!("encoding a proof: {e}"),
            },
            Ok(Some(_)) => tracing::error!(
                namespace = o.namespace,
                sequence = o.sequence,
                "the node's proof is for another transaction"
            ),
            Ok(None) => {}
            Err(e) => tracing::debug!("proof of {}: {e}", hex_of(&o.tx_id)),
        }
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(
                namespace = o.namespace,
                sequence = o.sequence,
                "no proof yet; asking again next round"
            );
            return None;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}
