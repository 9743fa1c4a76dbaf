//! The engine's batch work: closing due batches, sealing one (tree, link, signed anchor,
//! stored before it is sent), and recording what the submitter reports on it, signing it again
//! when its transaction failed.

use ledger_node::merkle::leaf_hash;
use ledger_node::state::{Op, TxBody};
use plumbing::StoreError;

use super::{Engine, Outgoing, unix_ms};
use crate::batch::{BatchState, Outcome, Step};
use crate::store::write;
use crate::store::{BatchRow, OpenItem, int};
use crate::tree::{BatchTree, encode_path};

impl Engine {
    pub(super) async fn seal_due(&mut self) -> Result<(), StoreError> {
        let now = self.now();
        let due: Vec<String> = self
            .spaces
            .iter()
            .filter(|(_, s)| self.rule.closes(s.open.len(), s.opened_ms, now))
            .map(|(ns, _)| ns.clone())
            .collect();
        for ns in due {
            while self
                .spaces
                .get(&ns)
                .is_some_and(|s| self.rule.closes(s.open.len(), s.opened_ms, now))
            {
                self.seal(&ns, now).await?;
            }
        }
        Ok(())
    }

    fn sign(&self, nonce: u64, b: &BatchRow) -> Vec<u8> {
        TxBody {
            chain_id: self.chain_id,
            signer: self.account,
            nonce,
            op: Op::Anchor {
                namespace: b.namespace.clone(),
                root: b.root,
                items: b.items,
                sequence: b.link.sequence,
                previous: b.link.previous,
            },
        }
        .sign(&self.key)
    }

    async fn seal(&mut self, ns: &str, now: u64) -> Result<(), StoreError> {
        let Some(space) = self.spaces.get(ns) else {
            return Ok(());
        };
        let take = self.rule.take(space.open.len());
        let items: Vec<OpenItem> = space.open.iter().take(take).cloned().collect();
        let digests: Vec<[u8; 32]> = items.iter().map(|i| i.digest).collect();
        let tree = BatchTree::new(&digests);
        let count = digests.len() as u64;
        let link = space.chain.next(&self.account, ns, &tree.root(), count);
        let mut row = BatchRow {
            namespace: ns.to_owned(),
            link,
            root: tree.root(),
            items: count,
            state: BatchState::Sealed,
            tx: Vec::new(),
            tx_id: [0; 32],
            nonce: self.next_nonce,
            sealed_ms: unix_ms(),
            height: None,
            proof: None,
        };
        row.tx = self.sign(row.nonce, &row);
        row.tx_id = leaf_hash(&row.tx);
        let places: Vec<(u64, u64, Vec<u8>)> = items
            .iter()
            .enumerate()
            .map(|(leaf, item)| {
                let path = tree.path(leaf).unwrap_or_default();
                (item.id, leaf as u64, encode_path(&path))
            })
            .collect();
        write::seal(&mut self.conn, &row, &places).await?;
        self.next_nonce += 1;
        if let Some(space) = self.spaces.get_mut(ns) {
            space.chain.advance(&link);
            space.open.drain(..take);
            space.opened_ms = now;
        }
        tracing::debug!(
            namespace = ns,
            sequence = link.sequence,
            items = count,
            "batch sealed"
        );
        let _ = self.outgoing.send(Outgoing::from(&row));
        self.unfinished.insert((ns.to_owned(), link.sequence), row);
        Ok(())
    }

    pub(super) async fn report(
        &mut self,
        namespace: String,
        sequence: u64,
        tx_id: [u8; 32],
        outcome: Outcome,
        proof: Option<(u64, String)>,
    ) -> Result<(), StoreError> {
        let key = (namespace, sequence);
        let Some(row) = self.unfinished.get(&key) else {
            return Ok(());
        };
        if row.tx_id != tx_id {
            return Ok(());
        }
        let step = match row.state.on(outcome.clone()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("{e}");
                return Ok(());
            }
        };
        let (ns, seq) = (&key.0, key.1);
        match step {
            Step::Become(BatchState::Final) => {
                let Some((height, proof)) = proof else {
                    return Ok(());
                };
                let now = unix_ms();
                write::finalize(&mut self.conn, ns, seq, height, now, &proof).await?;
                let accepted: Vec<i64> =
                    sqlx::query_scalar("SELECT accepted_ms FROM items WHERE namespace = ? AND sequence = ?")
                        .bind(ns)
                        .bind(int(seq)?)
                        .fetch_all(&mut self.conn)
                        .await?;
                for a in accepted {
                    let waited = now.saturating_sub(u64::try_from(a).unwrap_or(now));
                    self.metrics.time_to_certificate.observe(waited as f64 / 1000.0);
                }
                self.metrics.batches_anchored.inc();
                self.unfinished.remove(&key);
                self.finality.notify_waiters();
                tracing::debug!(namespace = ns, sequence = seq, height, "batch final");
            }
            Step::Become(state) => {
                if state != row.state {
                    write::set_state(&mut self.conn, ns, seq, state).await?;
                }
                if let Some(r) = self.unfinished.get_mut(&key) {
                    r.state = state;
                }
            }
            Step::Resign => {
                let mut next = row.clone();
                tracing::warn!(
                    namespace = ns,
                    sequence = seq,
                    "anchor transaction failed ({outcome:?}); signing it again"
                );
                next.nonce = self.next_nonce;
                next.tx = self.sign(next.nonce, &next);
                next.tx_id = leaf_hash(&next.tx);
                next.state = BatchState::Sealed;
                write::resign(&mut self.conn, ns, seq, &next.tx, &next.tx_id, next.nonce).await?;
                self.next_nonce += 1;
                let _ = self.outgoing.send(Outgoing::from(&next));
                self.unfinished.insert(key, next);
            }
        }
        Ok(())
    }
}
