//! The Byzantine behaviours a simulated node can have on its outgoing traffic.

use std::sync::Arc;

use super::{Behaviour, Simulation};
use crate::consensus::messages::{Message, Proposal};
use crate::ids::BlockHash;
use crate::types::{Block, BlockHeader, Vote, vote_signing_bytes};

impl Simulation {
    pub(super) fn others(&self, node: usize) -> Vec<usize> {
        (0..self.nodes.len()).filter(|&j| j != node).collect()
    }

    pub(super) fn broadcast(&mut self, node: usize, msg: Message, at: u64) {
        let behaviour = self.nodes[node].behaviour;
        let others = self.others(node);
        match (&msg, behaviour) {
            (_, Behaviour::Silent) => {}
            (Message::Proposal(p), Behaviour::Equivocate) => {
                let (a, b) = others.split_at(others.len() / 2);
                let twin = Message::Proposal(self.conflicting_proposal(p));
                self.send_to(node, a, msg.clone(), at);
                self.send_to(node, b, twin, at);
            }
            (Message::Vote(v), Behaviour::DoubleVote) => {
                let (a, b) = others.split_at(others.len() / 2);
                let other = self.conflicting_vote(node, v);
                self.send_to(node, a, msg.clone(), at);
                self.send_to(node, b, Message::Vote(other), at);
            }
            _ => self.send_to(node, &others, msg, at),
        }
    }

    pub(super) fn conflicting_proposal(&self, p: &Proposal) -> Proposal {
        let h = p.block.header();
        let mut payload = p.block.payload().to_vec();
        payload.push(format!("equivocation-{}-{}", h.view, self.seq).into_bytes());
        let header = BlockHeader {
            payload_root: [0; 32],
            ..h.clone()
        };
        Proposal {
            block: Arc::new(Block::new(header, payload)),
            tc: p.tc.clone(),
        }
    }

    pub(super) fn conflicting_vote(&self, node: usize, v: &Vote) -> Vote {
        let other = match self.proposals_by_view.get(&v.view) {
            Some(h) if *h != v.block_hash => *h,
            _ => BlockHash(crate::crypto::sha256(&[b"fake", &v.block_hash.0])),
        };
        Vote {
            block_hash: other,
            signature: self.nodes[node]
                .key
                .sign(&vote_signing_bytes(v.epoch, v.view, &other)),
            ..v.clone()
        }
    }
}
