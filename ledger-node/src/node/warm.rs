//! Checks gossiped transactions' signatures on a thread of their own, in batches that grow
//! with the load, then hands the messages on to the consensus thread.
//!
//! Every validator verifies every transaction once; the verdicts go to the shared
//! [`SigCache`], where executing a block finds them. Checked on the network tasks, each
//! gossip frame was its own batch (a handful of transactions), and Ed25519 batch verification
//! costs about half as much per signature in batches of hundreds (Pippenger) as in batches of
//! a few. Here one thread takes every frame that is waiting and checks them together: under
//! light load a frame is checked as soon as it arrives, under heavy load the backlog itself
//! makes the batches large. The frames reach the consensus thread only after their check, so
//! a leader never proposes a transaction whose signature it has yet to check (that check
//! would sit on the view's critical path).

use std::sync::Arc;

use tokio::sync::mpsc;

use super::DriverInput;
use crate::consensus::messages::{VerifiedBody, VerifiedMessage};
use crate::state::SigCache;

/// Most transactions checked in one batch (the backlog beyond waits for the next). Past about
/// 190 signatures the batch equation already uses Pippenger's method; larger batches save
/// little more and hold the first frame of a batch back longer (2,048 measured no better).
const MAX_BATCH: usize = 256;

/// Frames waiting for the thread; a full queue holds the network reader back.
const QUEUE_FRAMES: usize = 4_096;

/// The sending side of the checking thread.
#[derive(Debug)]
pub struct Warmer {
    queue: mpsc::Sender<VerifiedMessage>,
    thread: std::thread::JoinHandle<()>,
}

/// The consensus thread is gone (the node is stopping).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

impl Warmer {
    /// Starts the checking thread, which passes every frame on to `driver` once checked.
    pub fn start(sigs: Arc<SigCache>, driver: mpsc::Sender<DriverInput>) -> std::io::Result<Self> {
        let (queue, rx) = mpsc::channel(QUEUE_FRAMES);
        let thread = std::thread::Builder::new()
            .name("sig-warmer".into())
            .spawn(move || run(rx, &sigs, &driver))?;
        Ok(Self { queue, thread })
    }

    /// Queues a frame of gossiped transactions (waits while the queue is full).
    pub async fn forward(&self, m: VerifiedMessage) -> Result<(), Stopped> {
        self.queue.send(m).await.map_err(|_| Stopped)
    }

    /// Checks and passes on what is queued, then stops the thread. (Dropping the warmer stops
    /// it too, without waiting.)
    pub fn finish(self) {
        drop(self.queue);
        let _ = self.thread.join();
    }
}

fn transactions(m: &VerifiedMessage) -> &[Vec<u8>] {
    match m.body() {
        VerifiedBody::Transactions(t) => t,
        _ => &[],
    }
}

fn run(mut rx: mpsc::Receiver<VerifiedMessage>, sigs: &SigCache, driver: &mpsc::Sender<DriverInput>) {
    while let Some(first) = rx.blocking_recv() {
        let mut count = transactions(&first).len();
        let mut batch = vec![first];
        while count < MAX_BATCH {
            match rx.try_recv() {
                Ok(m) => {
                    count += transactions(&m).len();
                    batch.push(m);
                }
                Err(_) => break,
            }
        }
        let refs: Vec<&[u8]> = batch
            .iter()
            .flat_map(|m| transactions(m).iter().map(Vec::as_slice))
            .collect();
        sigs.check(&refs);
        for m in batch {
            if driver.blocking_send(DriverInput::Message(m)).is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::messages::{Message, UnverifiedMessage};
    use crate::consensus::wire::encode_message;
    use crate::genesis::Genesis;
    use crate::merkle::leaf_hash;
    use crate::state::{Op, TxBody, account_of};
    use ed25519_dalek::SigningKey;

    fn gossip(from: u16, txs: Vec<Vec<u8>>) -> VerifiedMessage {
        let committee = Genesis::for_test_keys(&[[1; 32], [2; 32], [3; 32], [4; 32]])
            .and_then(|g| g.committee())
            .unwrap();
        let bytes = encode_message(&Message::Transactions(txs));
        UnverifiedMessage::decode(from, &bytes)
            .and_then(|m| m.verify(&committee))
            .unwrap()
    }

    #[test]
    fn frames_reach_the_driver_in_order_after_their_check() {
        let sigs = Arc::new(SigCache::new(100));
        let (driver, mut inbox) = mpsc::channel(16);
        let warmer = Warmer::start(sigs.clone(), driver).unwrap();
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
                        sequence: nonce,
                        previous: [0; 32],
                    },
                }
                .sign(&key)
            })
            .collect();
        let mut forged = txs[0].clone();
        let last = forged.len() - 1;
        forged[last] ^= 1;
        let frames = [
            txs[..2].to_vec(),
            txs[2..].iter().cloned().chain([forged.clone()]).collect(),
        ];
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        for (i, f) in (0u16..).zip(&frames) {
            rt.block_on(warmer.forward(gossip(i, f.clone()))).unwrap();
        }
        warmer.finish();
        for tx in &txs {
            assert!(sigs.knows(&leaf_hash(tx)), "a good signature is remembered");
        }
        assert!(!sigs.knows(&leaf_hash(&forged)), "a forged one is not");
        // Every frame is passed on, forged transaction included (executing it records the
        // failure), in arrival order.
        for (i, f) in (0u16..).zip(&frames) {
            match inbox.try_recv() {
                Ok(DriverInput::Message(m)) => {
                    assert_eq!(m.from(), i);
                    assert_eq!(transactions(&m), f.as_slice());
                }
                other => panic!("frame {i}: {other:?}"),
            }
        }
        assert!(inbox.try_recv().is_err());
    }
}
