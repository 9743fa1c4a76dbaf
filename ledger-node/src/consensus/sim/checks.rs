//! What the simulator watches and checks: votes of honest validators, agreement of committed
//! sequences, exactly-once transactions.

use std::collections::HashSet;

use rand::rngs::StdRng;

use super::{Behaviour, Simulation};
use crate::consensus::core::Core;
use crate::consensus::messages::Message;
use crate::ids::{BlockHash, View};

impl Simulation {
    pub(super) fn log_outgoing(&mut self, node: usize, msg: &Message) {
        match msg {
            Message::Proposal(p) => {
                self.proposals_by_view
                    .entry(p.block.view())
                    .or_insert(p.block.hash());
            }
            Message::Vote(v) if self.nodes[node].behaviour == Behaviour::Honest => {
                let prev = self.votes.entry((v.signer, v.view)).or_insert(v.block_hash);
                if *prev != v.block_hash {
                    self.vote_violations.push(format!(
                        "validator {} voted for {:?} and {:?} in view {}",
                        v.signer, prev, v.block_hash, v.view
                    ));
                }
            }
            _ => {}
        }
    }

    /// Honest validators that signed two different votes in one view (must stay empty).
    pub fn vote_violations(&self) -> &[String] {
        &self.vote_violations
    }

    /// Committed block hashes of a node.
    pub fn committed_hashes(&self, node: usize) -> Vec<BlockHash> {
        self.nodes[node]
            .committed
            .iter()
            .map(|c| c.block.hash())
            .collect()
    }

    /// Checks that the given nodes committed consistent sequences (each a prefix of the longest),
    /// contiguous in height, each transaction at most once, and that no honest validator signed
    /// two votes in a view.
    pub fn check_safety(&self, nodes: &[usize]) -> Result<(), String> {
        if let Some(v) = self.vote_violations.first() {
            return Err(v.clone());
        }
        let seqs: Vec<Vec<BlockHash>> = nodes.iter().map(|&i| self.committed_hashes(i)).collect();
        let longest = seqs.iter().max_by_key(|s| s.len()).cloned().unwrap_or_default();
        for (k, s) in seqs.iter().enumerate() {
            if !crate::consensus::core::consistent(s, &longest) {
                return Err(format!("node {} committed a conflicting block", nodes[k]));
            }
        }
        for &i in nodes {
            let mut seen = HashSet::new();
            for (h, c) in self.nodes[i].committed.iter().enumerate() {
                if c.block.height() != h as u64 + 1 {
                    return Err(format!("node {i} skipped a height at {h}"));
                }
                if c.qc.block_hash != c.block.hash() {
                    return Err(format!("node {i} committed a block with a foreign QC"));
                }
                for id in c.block.tx_ids() {
                    if !seen.insert(*id) {
                        return Err(format!("node {i} committed a transaction twice"));
                    }
                }
            }
        }
        Ok(())
    }

    /// Transactions committed by `node`.
    pub fn committed_tx_count(&self, node: usize) -> usize {
        self.nodes[node]
            .committed
            .iter()
            .map(|c| c.block.payload().len())
            .sum()
    }

    /// Highest view any running node reached.
    pub fn max_view(&self) -> View {
        self.nodes
            .iter()
            .filter_map(|n| n.core.as_ref().map(Core::current_view))
            .max()
            .unwrap_or(0)
    }

    /// Random number from the simulation's RNG (for generated workloads).
    pub fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }
}
