//! Properties of the codec: every message round-trips, and decoding arbitrary or damaged bytes
//! returns an error instead of panicking.

use std::sync::Arc;

use ledger_node::consensus::messages::{Message, Proposal};
use ledger_node::consensus::wire::{decode_message, encode_message};
use ledger_node::crypto::{KeyPair, Signature};
use ledger_node::ids::BlockHash;
use ledger_node::types::{Block, BlockHeader, QuorumCert, SignerBitmap, Timeout, TimeoutCert, Vote};
use proptest::prelude::*;

fn sigs() -> Vec<Signature> {
    let k = KeyPair::for_test(3, 0);
    (0..4u8).map(|i| k.sign(&[i])).collect()
}

fn bitmap(n: usize, bits: u64) -> SignerBitmap {
    let mut b = SignerBitmap::new(n);
    for i in 0..n.min(64) {
        if bits & (1 << i) != 0 {
            b.set(u16::try_from(i).unwrap());
        }
    }
    b
}

fn qc(view: u64, hash: [u8; 32], bits: u64, sig: Option<Signature>) -> QuorumCert {
    QuorumCert {
        epoch: 7,
        view,
        block_hash: BlockHash(hash),
        signers: bitmap(10, bits),
        signature: sig,
    }
}

fn arb_message() -> impl Strategy<Value = Message> {
    let s = sigs();
    let pick = move |i: usize| s[i % 4];
    (
        0u8..8,
        any::<u64>(),
        any::<[u8; 32]>(),
        any::<u64>(),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 1..40), 0..6),
        any::<usize>(),
        any::<bool>(),
    )
        .prop_map(move |(tag, view, hash, bits, txs, si, flag)| {
            let sig = pick(si);
            let q = qc(view / 2, hash, bits, flag.then_some(sig));
            let tc = TimeoutCert {
                epoch: 7,
                view,
                signers: bitmap(4, bits),
                signature: sig,
            };
            match tag {
                0 => Message::Proposal(Proposal {
                    block: Arc::new(Block::new(
                        BlockHeader {
                            epoch: 7,
                            view,
                            height: view / 3,
                            timestamp_ms: bits,
                            parent_hash: BlockHash(hash),
                            payload_root: [0; 32],
                            state_root: hash,
                            proposer: u16::try_from(si % 10).unwrap(),
                            qc: q,
                        },
                        txs,
                    )),
                    tc: flag.then_some(tc),
                }),
                1 => Message::Vote(Vote {
                    epoch: 7,
                    view,
                    block_hash: BlockHash(hash),
                    signer: u16::try_from(si % 1000).unwrap(),
                    signature: sig,
                }),
                2 => Message::Timeout(Timeout {
                    epoch: 7,
                    view,
                    high_qc: q,
                    signer: 3,
                    signature: sig,
                }),
                3 => Message::TimeoutCert(tc),
                4 => Message::SyncInfo {
                    high_qc: q,
                    high_tc: flag.then_some(tc),
                },
                5 => Message::Transactions(txs),
                6 => Message::BlockRequest {
                    hash: BlockHash(hash),
                    max_blocks: (bits % 70) as u16,
                },
                _ => {
                    let b = Arc::new(Block::new(
                        BlockHeader {
                            epoch: 7,
                            view,
                            height: 1,
                            timestamp_ms: 0,
                            parent_hash: BlockHash(hash),
                            payload_root: [0; 32],
                            state_root: [0; 32],
                            proposer: 0,
                            qc: q,
                        },
                        txs,
                    ));
                    Message::BlockResponse(vec![b.clone(), b])
                }
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_message_round_trips(m in arb_message()) {
        let bytes = encode_message(&m);
        let back = decode_message(&bytes).unwrap();
        prop_assert_eq!(&back, &m);
        // Canonical: re-encoding gives the same bytes.
        prop_assert_eq!(encode_message(&back), bytes);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = decode_message(&bytes);
    }

    #[test]
    fn decoding_damaged_messages_never_panics(
        m in arb_message(),
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let bytes = encode_message(&m);
        let truncated = &bytes[..cut.index(bytes.len())];
        prop_assert!(decode_message(truncated).is_err());
        let mut damaged = bytes.clone();
        for (at, x) in flips {
            let i = at.index(damaged.len());
            damaged[i] ^= x;
        }
        let _ = decode_message(&damaged);
        let mut longer = bytes;
        longer.push(0);
        prop_assert!(decode_message(&longer).is_err());
    }
}

#[test]
fn huge_length_prefixes_are_refused_without_allocating() {
    // A transaction batch claiming 4 billion entries in six bytes.
    let bytes = [6u8, 0xff, 0xff, 0xff, 0xff, 0];
    assert!(decode_message(&bytes).is_err());
    let bytes = [6u8, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff];
    assert!(decode_message(&bytes).is_err());
}
