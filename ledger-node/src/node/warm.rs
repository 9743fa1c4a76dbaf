//! Checks gossiped transactions' signatures on a thread of their own, in batches that grow
//! with the load.
//!
//! Every validator verifies every transaction once; the verdicts go to the shared
//! [`SigCache`], where executing a block finds them. Checked on the network tasks, each
//! gossip frame was its own batch (a handful of transactions), and Ed25519 batch verification
//! costs about half as much per signature in batches of hundreds (Pippenger) as in batches of
//! a few. Here one thread takes every frame that is waiting and checks them together: under
//! light load a frame is checked as soon as it arrives, under heavy load the backlog itself
//! makes the batches large. A proposal whose transactions are not checked yet is still
//! correct: its own check does the rest (see `peers::warm_signatures`).

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use crate::state::SigCache;

/// Most transactions checked in one batch (the backlog beyond waits for the next).
const MAX_BATCH: usize = 2_048;

/// The sending side of the checking thread.
#[derive(Debug)]
pub struct Warmer {
    queue: Sender<Vec<Vec<u8>>>,
    thread: std::thread::JoinHandle<()>,
}

impl Warmer {
    /// Starts the checking thread.
    pub fn start(sigs: Arc<SigCache>) -> std::io::Result<Self> {
        let (queue, rx) = channel();
        let thread = std::thread::Builder::new()
            .name("sig-warmer".into())
            .spawn(move || run(&rx, &sigs))?;
        Ok(Self { queue, thread })
    }

    /// Queues transactions (encodings) for checking.
    pub fn warm(&self, txs: Vec<Vec<u8>>) {
        if !txs.is_empty() {
            // The thread only ends once the sender is dropped, so this cannot fail.
            let _ = self.queue.send(txs);
        }
    }

    /// Checks what is queued, then stops the thread. (Dropping the warmer stops it too,
    /// without waiting.)
    pub fn finish(self) {
        drop(self.queue);
        let _ = self.thread.join();
    }
}

fn run(rx: &Receiver<Vec<Vec<u8>>>, sigs: &SigCache) {
    while let Ok(mut batch) = rx.recv() {
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(more) => batch.extend(more),
                Err(_) => break,
            }
        }
        let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
        sigs.check(&refs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::leaf_hash;
    use crate::state::{Op, TxBody, account_of};
    use ed25519_dalek::SigningKey;

    #[test]
    fn queued_signatures_are_checked_and_only_good_ones_remembered() {
        let sigs = Arc::new(SigCache::new(100));
        let warmer = Warmer::start(sigs.clone()).unwrap();
        let key = SigningKey::from_bytes(&[3; 32]);
        let txs: Vec<Vec<u8>> = (1..=5)
            .map(|nonce| {
                TxBody {
                    chain_id: [1; 32],
                    signer: account_of(&key),
                    nonce,
                    op: Op::Anchor {
                        namespace: "n".into(),
                        root: [0; 32],
                        items: 1,
                    },
                }
                .sign(&key)
            })
            .collect();
        let mut forged = txs[0].clone();
        let last = forged.len() - 1;
        forged[last] ^= 1;
        warmer.warm(txs[..2].to_vec());
        warmer.warm(txs[2..].iter().cloned().chain([forged.clone()]).collect());
        warmer.finish();
        for tx in &txs {
            assert!(sigs.knows(&leaf_hash(tx)), "a good signature is remembered");
        }
        assert!(!sigs.knows(&leaf_hash(&forged)), "a forged one is not");
    }
}
