//! The engine: the one task that writes. It acknowledges digests in groups (every request that
//! arrived while the previous group was committing shares one SQLite transaction), closes each
//! namespace's batch by the [`BatchRule`], seals it (number, previous hash, root, the signed
//! anchor transaction, every item's path: one transaction, written before anything is sent),
//! hands it to the submitter ([`crate::submit`]) and records what the submitter reports.
//!
//! On start it resumes from the database: open items wait in their namespace's batch again,
//! batches not yet final are resent with their stored bytes, and the nonce counter continues
//! after the highest stored or used on the chain.
//!
//! Sealing and recording outcomes are in [`batches`].

mod batches;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use ledger_node::state::{AccountId, account_of};
use plumbing::StoreError;
use sqlx::sqlite::SqliteConnection;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::Instant;

use crate::batch::{BatchRule, Outcome, SequenceChain};
use crate::metrics::Metrics;
use crate::store::write::{self, NewItem};
use crate::store::{BatchRow, OpenItem, Recovered};

/// Most digests acknowledged in one group commit.
const MAX_GROUP: usize = 20_000;

/// Wall-clock Unix milliseconds (what items and batches are stamped with).
pub fn unix_ms() -> u64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// What the engine is asked to do.
#[derive(Debug)]
pub enum Command {
    /// Acknowledge digests once durable; the answer is their item ids, in order.
    Accept {
        /// The namespace.
        namespace: String,
        /// The digests.
        digests: Vec<[u8; 32]>,
        /// Where the ids go.
        reply: oneshot::Sender<Result<Vec<u64>, StoreError>>,
    },
    /// The submitter's report on one batch's transaction.
    Report {
        /// Namespace.
        namespace: String,
        /// Batch number.
        sequence: u64,
        /// The transaction reported on (a report on a replaced signature is ignored).
        tx_id: [u8; 32],
        /// What happened.
        outcome: Outcome,
        /// For [`Outcome::Final`]: the block's height and the proof (JSON).
        proof: Option<(u64, String)>,
    },
}

/// A sealed batch's transaction for the submitter.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Namespace.
    pub namespace: String,
    /// Batch number.
    pub sequence: u64,
    /// The signed transaction.
    pub tx: Vec<u8>,
    /// Its id.
    pub tx_id: [u8; 32],
    /// Its nonce (the submitter sends in nonce order).
    pub nonce: u64,
}

impl From<&BatchRow> for Outgoing {
    fn from(b: &BatchRow) -> Self {
        Outgoing {
            namespace: b.namespace.clone(),
            sequence: b.link.sequence,
            tx: b.tx.clone(),
            tx_id: b.tx_id,
            nonce: b.nonce,
        }
    }
}

#[derive(Debug, Default)]
struct Space {
    chain: SequenceChain,
    open: VecDeque<OpenItem>,
    /// Engine time (ms) of the open batch's first item.
    opened_ms: u64,
}

/// The engine's state; [`Engine::run`] drives it.
pub struct Engine {
    conn: SqliteConnection,
    rule: BatchRule,
    key: SigningKey,
    account: AccountId,
    chain_id: [u8; 32],
    next_nonce: u64,
    next_item: u64,
    spaces: HashMap<String, Space>,
    unfinished: HashMap<(String, u64), BatchRow>,
    outgoing: mpsc::UnboundedSender<Outgoing>,
    metrics: Metrics,
    finality: Arc<Notify>,
    epoch: Instant,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine resuming from `recovered`; `chain_nonce` is the account's last nonce on the
    /// chain. Every unfinished batch is queued on `outgoing` at once.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        conn: SqliteConnection,
        rule: BatchRule,
        key: SigningKey,
        chain_id: [u8; 32],
        chain_nonce: u64,
        recovered: Recovered,
        outgoing: mpsc::UnboundedSender<Outgoing>,
        metrics: Metrics,
        finality: Arc<Notify>,
    ) -> Self {
        let mut spaces: HashMap<String, Space> = HashMap::new();
        for (ns, chain) in recovered.chains {
            spaces.entry(ns).or_default().chain = chain;
        }
        for (ns, items) in recovered.open {
            spaces.entry(ns).or_default().open = items.into();
        }
        let mut unfinished = HashMap::new();
        for b in recovered.unfinished {
            let _ = outgoing.send(Outgoing::from(&b));
            unfinished.insert((b.namespace.clone(), b.link.sequence), b);
        }
        Engine {
            conn,
            rule,
            account: account_of(&key),
            key,
            chain_id,
            next_nonce: recovered.last_nonce.max(chain_nonce) + 1,
            next_item: recovered.last_item + 1,
            spaces,
            unfinished,
            outgoing,
            metrics,
            finality,
            epoch: Instant::now(),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Runs until every command sender is gone; a storage failure while sealing or recording
    /// stops it (a restart resumes from what was committed).
    pub async fn run(mut self, mut commands: mpsc::Receiver<Command>) -> Result<(), StoreError> {
        // Open items recovered from the last run start a fresh window now.
        let now = self.now();
        for s in self.spaces.values_mut() {
            s.opened_ms = now;
        }
        loop {
            let deadline = self
                .spaces
                .values()
                .filter(|s| !s.open.is_empty())
                .map(|s| self.rule.deadline(s.opened_ms))
                .min();
            let first = match deadline {
                Some(d) => {
                    let at = self.epoch + Duration::from_millis(d);
                    tokio::select! {
                        c = commands.recv() => match c {
                            Some(c) => Some(c),
                            None => return Ok(()),
                        },
                        () = tokio::time::sleep_until(at) => None,
                    }
                }
                None => match commands.recv().await {
                    Some(c) => Some(c),
                    None => return Ok(()),
                },
            };
            if let Some(first) = first {
                let mut group = vec![first];
                let mut digests = 0;
                while digests < MAX_GROUP {
                    match commands.try_recv() {
                        Ok(c) => {
                            if let Command::Accept { digests: d, .. } = &c {
                                digests += d.len();
                            }
                            group.push(c);
                        }
                        Err(_) => break,
                    }
                }
                self.handle(group).await?;
            }
            self.seal_due().await?;
        }
    }

    async fn handle(&mut self, group: Vec<Command>) -> Result<(), StoreError> {
        let mut accepts = Vec::new();
        let mut reports = Vec::new();
        for c in group {
            match c {
                Command::Accept { .. } => accepts.push(c),
                Command::Report { .. } => reports.push(c),
            }
        }
        self.accept(accepts).await;
        for r in reports {
            if let Command::Report {
                namespace,
                sequence,
                tx_id,
                outcome,
                proof,
            } = r
            {
                self.report(namespace, sequence, tx_id, outcome, proof).await?;
            }
        }
        Ok(())
    }

    async fn accept(&mut self, accepts: Vec<Command>) {
        if accepts.is_empty() {
            return;
        }
        let accepted_ms = unix_ms();
        let mut rows = Vec::new();
        let mut answers = Vec::new();
        let mut id = self.next_item;
        for c in &accepts {
            if let Command::Accept {
                namespace, digests, ..
            } = c
            {
                let ids: Vec<u64> = (id..id + digests.len() as u64).collect();
                for (i, d) in ids.iter().zip(digests) {
                    rows.push(NewItem {
                        id: *i,
                        namespace,
                        digest: *d,
                        accepted_ms,
                    });
                }
                id += digests.len() as u64;
                answers.push(ids);
            }
        }
        let result = write::accept(&mut self.conn, &rows).await;
        drop(rows);
        let now = self.now();
        for (c, ids) in accepts.into_iter().zip(answers) {
            let Command::Accept {
                namespace,
                digests,
                reply,
            } = c
            else {
                continue;
            };
            if let Err(e) = &result {
                let _ = reply.send(Err(e.clone()));
                continue;
            }
            self.metrics.items_accepted.inc_by(digests.len() as u64);
            let space = self.spaces.entry(namespace).or_default();
            if space.open.is_empty() {
                space.opened_ms = now;
            }
            for (i, d) in ids.iter().zip(&digests) {
                space.open.push_back(OpenItem {
                    id: *i,
                    digest: *d,
                    accepted_ms,
                });
            }
            let _ = reply.send(Ok(ids));
        }
        if result.is_ok() {
            self.next_item = id;
        } else if let Err(e) = result {
            tracing::error!("acknowledging digests failed: {e}");
        }
    }
}
