//! Binary Merkle tree over a block's transactions, so the header commits to the payload with a
//! root from which a light client can check one transaction's inclusion with a short path.
//!
//! Leaves are `SHA-256(0x00 || tx)` and inner nodes `SHA-256(0x01 || left || right)` (distinct
//! prefixes, so a leaf can never pose as an inner node). A level with an odd count carries its
//! last node up unchanged. The root of no transactions is 32 zero bytes.

use crate::crypto::sha256;

/// Hash of one transaction as a leaf.
pub fn leaf_hash(tx: &[u8]) -> [u8; 32] {
    sha256(&[&[0u8], tx])
}

fn node_hash(l: &[u8; 32], r: &[u8; 32]) -> [u8; 32] {
    sha256(&[&[1u8], l, r])
}

/// The level above `level`: pairs hashed together, an odd last node carried up unchanged.
fn parent_level(level: &[[u8; 32]]) -> Vec<[u8; 32]> {
    level
        .chunks(2)
        .map(|c| if let [l, r] = c { node_hash(l, r) } else { c[0] })
        .collect()
}

/// Root over `txs`.
pub fn root<T: AsRef<[u8]>>(txs: &[T]) -> [u8; 32] {
    let leaves: Vec<[u8; 32]> = txs.iter().map(|t| leaf_hash(t.as_ref())).collect();
    root_of_leaves(&leaves)
}

/// Root over already hashed leaves.
pub fn root_of_leaves(leaves: &[[u8; 32]]) -> [u8; 32] {
    let mut level = leaves.to_vec();
    if level.is_empty() {
        return [0; 32];
    }
    while level.len() > 1 {
        level = parent_level(&level);
    }
    level[0]
}

/// One step of an inclusion path: the sibling and whether it sits on the left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathStep {
    /// The sibling node.
    pub sibling: [u8; 32],
    /// True when the sibling is the left child.
    pub sibling_on_left: bool,
}

/// Inclusion path of transaction `index` among `txs`, or `None` when out of range.
pub fn path<T: AsRef<[u8]>>(txs: &[T], index: usize) -> Option<Vec<PathStep>> {
    if index >= txs.len() {
        return None;
    }
    let mut level: Vec<[u8; 32]> = txs.iter().map(|t| leaf_hash(t.as_ref())).collect();
    let mut i = index;
    let mut steps = Vec::new();
    while level.len() > 1 {
        let sib = i ^ 1;
        if sib < level.len() {
            steps.push(PathStep {
                sibling: level[sib],
                sibling_on_left: sib < i,
            });
        }
        level = parent_level(&level);
        i /= 2;
    }
    Some(steps)
}

/// Whether `tx` with `steps` leads to `root`.
pub fn verify_path(root: &[u8; 32], tx: &[u8], steps: &[PathStep]) -> bool {
    let mut acc = leaf_hash(tx);
    for s in steps {
        acc = if s.sibling_on_left {
            node_hash(&s.sibling, &acc)
        } else {
            node_hash(&acc, &s.sibling)
        };
    }
    &acc == root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_leaf_proves_inclusion() {
        for n in 1..12usize {
            let txs: Vec<Vec<u8>> = (0..n).map(|i| vec![u8::try_from(i).unwrap(); i + 1]).collect();
            let r = root(&txs);
            for (i, tx) in txs.iter().enumerate() {
                let p = path(&txs, i).unwrap();
                assert!(verify_path(&r, tx, &p));
                assert!(!verify_path(&r, b"other", &p));
            }
        }
        assert_eq!(root::<Vec<u8>>(&[]), [0; 32]);
    }
}
