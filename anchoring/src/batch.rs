//! The pure rules of batching: when a namespace's open batch closes ([`BatchRule`]), how a
//! closed batch links to the one before it ([`SequenceChain`], the chain's sequence
//! attestation), and the life of a batch from sealing to finality ([`BatchState`]), which
//! recovery after a crash follows. No IO, no clock: times are milliseconds handed in.

use ledger_node::state::{AccountId, batch_hash};

/// When an open batch closes: after `max_items` items or `max_wait_ms` after its first item,
/// whichever comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchRule {
    /// Items at which a batch closes at once.
    pub max_items: usize,
    /// Milliseconds after its first item at which a batch closes however small.
    pub max_wait_ms: u64,
}

impl BatchRule {
    /// Whether a batch of `open` items whose first arrived at `opened_ms` closes at `now_ms`.
    pub fn closes(&self, open: usize, opened_ms: u64, now_ms: u64) -> bool {
        open > 0 && (open >= self.max_items || now_ms >= self.deadline(opened_ms))
    }

    /// When a batch whose first item arrived at `opened_ms` closes at the latest.
    pub fn deadline(&self, opened_ms: u64) -> u64 {
        opened_ms.saturating_add(self.max_wait_ms)
    }

    /// How many of `open` items go into the next batch (the rest stay open, in order).
    pub fn take(&self, open: usize) -> usize {
        open.min(self.max_items)
    }
}

/// The last batch of one (signer, namespace): its number and hash. Batch 0 is "none yet", with
/// the all-zero hash that batch 1 names as its previous.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SequenceChain {
    /// The last batch's number (0: none yet).
    pub sequence: u64,
    /// Its batch hash.
    pub hash: [u8; 32],
}

/// A closed batch's place in its namespace's chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// Its number, from 1.
    pub sequence: u64,
    /// The previous batch's hash (zero for batch 1).
    pub previous: [u8; 32],
    /// Its own hash, which the next batch names.
    pub hash: [u8; 32],
}

impl SequenceChain {
    /// The link of the next batch (root `root` over `items` items), without advancing.
    pub fn next(&self, signer: &AccountId, namespace: &str, root: &[u8; 32], items: u64) -> Link {
        let sequence = self.sequence + 1;
        Link {
            sequence,
            previous: self.hash,
            hash: batch_hash(signer, namespace, sequence, &self.hash, root, items),
        }
    }

    /// Advances to `link`, which must be [`SequenceChain::next`]'s answer.
    pub fn advance(&mut self, link: &Link) {
        debug_assert_eq!(link.sequence, self.sequence + 1);
        self.sequence = link.sequence;
        self.hash = link.hash;
    }
}

/// Where a sealed batch stands. Before sealing, its items are "open" (they have no batch yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchState {
    /// Closed, numbered, its anchor transaction signed and stored; not known to the chain yet.
    Sealed,
    /// A validator accepted the transaction into its mempool.
    Submitted,
    /// The transaction is in a final block and the block's proof is stored: certificates exist.
    Final,
}

/// What happened to a batch's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A validator took it (or already had it).
    Accepted,
    /// It is in a final block, succeeded, and its proof is at hand.
    Final,
    /// It was refused or failed: the chain recorded nothing of it, so the same batch (same
    /// number, previous and root) is signed again with a fresh nonce and sent again.
    Failed(String),
}

/// What to do after an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Record the new state.
    Become(BatchState),
    /// Sign the same batch again with the next nonce (state back to sealed), then resend.
    Resign,
}

/// A transition that must not happen: a final batch never changes, so no item gets two
/// certificates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("batch is {state:?}; {outcome:?} cannot change it")]
pub struct InvalidTransition {
    /// The batch's state.
    pub state: BatchState,
    /// What was reported.
    pub outcome: Outcome,
}

impl BatchState {
    /// The step `outcome` calls for.
    pub fn on(self, outcome: Outcome) -> Result<Step, InvalidTransition> {
        match (self, &outcome) {
            (BatchState::Final, _) => Err(InvalidTransition { state: self, outcome }),
            (BatchState::Sealed, Outcome::Accepted) => Ok(Step::Become(BatchState::Submitted)),
            // A second acceptance (a resend after a restart) changes nothing.
            (BatchState::Submitted, Outcome::Accepted) => Ok(Step::Become(BatchState::Submitted)),
            (_, Outcome::Final) => Ok(Step::Become(BatchState::Final)),
            (_, Outcome::Failed(_)) => Ok(Step::Resign),
        }
    }

    /// Whether a batch in this state is (re)sent to the chain on start: every batch not final
    /// is, with its stored bytes; the chain answers a transaction it already has with its
    /// status, so a resend never anchors twice.
    pub fn resend_on_start(self) -> bool {
        self != BatchState::Final
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchState::Sealed => "sealed",
            BatchState::Submitted => "submitted",
            BatchState::Final => "final",
        }
    }

    /// From the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sealed" => Some(BatchState::Sealed),
            "submitted" => Some(BatchState::Submitted),
            "final" => Some(BatchState::Final),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_closes_on_count_or_time_whichever_first() {
        let rule = BatchRule {
            max_items: 3,
            max_wait_ms: 100,
        };
        assert!(!rule.closes(0, 0, 1_000), "nothing open, nothing to close");
        assert!(!rule.closes(2, 1_000, 1_099));
        assert!(rule.closes(2, 1_000, 1_100), "the window ends");
        assert!(rule.closes(3, 1_000, 1_000), "full at once");
        assert_eq!(rule.deadline(1_000), 1_100);
        assert_eq!(rule.take(7), 3);
        assert_eq!(rule.take(2), 2);
        assert_eq!(rule.deadline(u64::MAX), u64::MAX);
    }

    #[test]
    fn the_sequence_chain_links_each_batch_to_the_one_before() {
        let signer = AccountId([9; 32]);
        let mut chain = SequenceChain::default();
        let first = chain.next(&signer, "isp", &[1; 32], 4);
        assert_eq!(first.sequence, 1);
        assert_eq!(first.previous, [0; 32]);
        assert_eq!(first.hash, batch_hash(&signer, "isp", 1, &[0; 32], &[1; 32], 4));
        chain.advance(&first);
        let second = chain.next(&signer, "isp", &[2; 32], 1);
        assert_eq!((second.sequence, second.previous), (2, first.hash));
        // The hash binds every field: another namespace, root, count or signer differs.
        assert_ne!(chain.next(&signer, "isp2", &[2; 32], 1).hash, second.hash);
        assert_ne!(chain.next(&signer, "isp", &[3; 32], 1).hash, second.hash);
        assert_ne!(chain.next(&signer, "isp", &[2; 32], 2).hash, second.hash);
        assert_ne!(
            chain.next(&AccountId([8; 32]), "isp", &[2; 32], 1).hash,
            second.hash
        );
    }

    #[test]
    fn a_batch_moves_forward_once_and_a_final_one_never_changes() {
        use BatchState::*;
        assert_eq!(Sealed.on(Outcome::Accepted), Ok(Step::Become(Submitted)));
        assert_eq!(Submitted.on(Outcome::Accepted), Ok(Step::Become(Submitted)));
        assert_eq!(Sealed.on(Outcome::Final), Ok(Step::Become(Final)));
        assert_eq!(Submitted.on(Outcome::Final), Ok(Step::Become(Final)));
        assert_eq!(Submitted.on(Outcome::Failed("x".into())), Ok(Step::Resign));
        assert_eq!(Sealed.on(Outcome::Failed("x".into())), Ok(Step::Resign));
        for o in [Outcome::Accepted, Outcome::Final, Outcome::Failed("late".into())] {
            assert!(Final.on(o).is_err(), "a final batch is never re-anchored");
        }
        assert!(Sealed.resend_on_start() && Submitted.resend_on_start());
        assert!(!Final.resend_on_start());
        for s in [Sealed, Submitted, Final] {
            assert_eq!(BatchState::parse(s.as_str()), Some(s));
        }
        assert_eq!(BatchState::parse("open"), None);
    }
}
