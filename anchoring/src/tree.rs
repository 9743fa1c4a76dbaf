//! The Merkle tree of one batch, built once so that every item's path comes out of it without
//! rehashing (`ledger_node::merkle::path` recomputes the tree per item, which is quadratic over
//! a batch of thousands). The rules are `ledger_node::merkle`'s, so the root is what the chain
//! anchors and every path verifies with `ledger_node::merkle::verify_path`: leaf =
//! SHA-256(0x00 || digest), inner node = SHA-256(0x01 || left || right), an odd node is carried
//! up unchanged. Pure: no IO.

use ledger_node::merkle::{PathStep, leaf_hash, root_of_leaves};

/// Bytes of one stored path step: a flag (1 = sibling on the left) and the sibling.
pub const STEP_BYTES: usize = 33;

/// Every level of a batch's tree, leaves first.
#[derive(Debug, Clone)]
pub struct BatchTree {
    levels: Vec<Vec<[u8; 32]>>,
}

/// An inner node: the root of exactly two leaves is `SHA-256(0x01 || left || right)`, so the
/// chain's own function makes it and the two cannot drift apart.
fn node(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    root_of_leaves(&[*left, *right])
}

impl BatchTree {
    /// The tree over `digests`, in their order.
    pub fn new(digests: &[[u8; 32]]) -> Self {
        let mut levels = vec![digests.iter().map(|d| leaf_hash(d)).collect::<Vec<_>>()];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let below = levels.last().map(Vec::as_slice).unwrap_or_default();
            let up = below
                .chunks(2)
                .map(|c| match c {
                    [l, r] => node(l, r),
                    [single] => *single,
                    _ => unreachable!("chunks of two"),
                })
                .collect();
            levels.push(up);
        }
        BatchTree { levels }
    }

    /// How many items.
    pub fn len(&self) -> usize {
        self.levels.first().map_or(0, Vec::len)
    }

    /// True for a tree of no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The root (32 zero bytes for no items, as `ledger_node::merkle` says).
    pub fn root(&self) -> [u8; 32] {
        self.levels
            .last()
            .and_then(|l| l.first().copied())
            .unwrap_or([0; 32])
    }

    /// Item `index`'s path to the root, or `None` out of range.
    pub fn path(&self, index: usize) -> Option<Vec<PathStep>> {
        if index >= self.len() {
            return None;
        }
        let mut i = index;
        let mut steps = Vec::new();
        for level in &self.levels[..self.levels.len() - 1] {
            let sibling = i ^ 1;
            if let Some(s) = level.get(sibling) {
                steps.push(PathStep {
                    sibling: *s,
                    sibling_on_left: sibling < i,
                });
            }
            i /= 2;
        }
        Some(steps)
    }
}

/// A path in its stored form: [`STEP_BYTES`] per step.
pub fn encode_path(path: &[PathStep]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len() * STEP_BYTES);
    for s in path {
        out.push(u8::from(s.sibling_on_left));
        out.extend_from_slice(&s.sibling);
    }
    out
}

/// A stored path, or `None` if the bytes are not a whole number of well-formed steps.
pub fn decode_path(bytes: &[u8]) -> Option<Vec<PathStep>> {
    if !bytes.len().is_multiple_of(STEP_BYTES) {
        return None;
    }
    bytes
        .chunks(STEP_BYTES)
        .map(|c| {
            let sibling_on_left = match c[0] {
                0 => false,
                1 => true,
                _ => return None,
            };
            let sibling = <[u8; 32]>::try_from(&c[1..]).ok()?;
            Some(PathStep {
                sibling,
                sibling_on_left,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger_node::merkle::{path, root, verify_path};

    fn digests(n: usize) -> Vec<[u8; 32]> {
        (0..n)
            .map(|i| ledger_node::crypto::sha256(&[&i.to_be_bytes()]))
            .collect()
    }

    #[test]
    fn root_and_paths_are_the_chains() {
        for n in 0..40 {
            let d = digests(n);
            let tree = BatchTree::new(&d);
            assert_eq!(tree.root(), root(&d), "root of {n}");
            assert_eq!(tree.len(), n);
            for (i, item) in d.iter().enumerate() {
                let p = tree.path(i).unwrap();
                assert_eq!(p, path(&d, i).unwrap(), "path {i} of {n}");
                assert!(verify_path(&tree.root(), item, &p));
                assert!(!verify_path(&tree.root(), &[7; 32], &p));
            }
            assert!(tree.path(n).is_none());
        }
    }

    #[test]
    fn stored_paths_round_trip_and_bad_bytes_are_refused() {
        let d = digests(13);
        let tree = BatchTree::new(&d);
        for i in 0..d.len() {
            let p = tree.path(i).unwrap();
            assert_eq!(decode_path(&encode_path(&p)).unwrap(), p);
        }
        assert!(decode_path(&[0; 32]).is_none());
        let mut bad = encode_path(&tree.path(0).unwrap());
        bad[0] = 2;
        assert!(decode_path(&bad).is_none());
        assert_eq!(decode_path(&[]).unwrap(), vec![]);
    }
}
