//! Property tests for the Merkle tree: every leaf of a random tree verifies, and any single-bit
//! change to the leaf, a sibling, the root, or the position fails.

use proptest::prelude::*;
use tickchain_sdk::merkle::{self, MerkleTree};
use tickchain_sdk::{Digest, Hash, Salt};

fn tree_of(n: usize, seed: u64) -> (Vec<(Salt, Digest)>, MerkleTree) {
    let items: Vec<(Salt, Digest)> = (0..n)
        .map(|i| {
            let b = blake3::hash(&[seed.to_be_bytes(), (i as u64).to_be_bytes()].concat());
            let salt = Salt(b.as_bytes()[..16].try_into().unwrap());
            (salt, Digest(*b.as_bytes()))
        })
        .collect();
    let leaves = items
        .iter()
        .map(|(s, d)| merkle::digest_leaf(s, d))
        .collect();
    (items, MerkleTree::from_leaf_hashes(leaves))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_leaf_of_a_random_tree_verifies(n in 1usize..300, seed: u64) {
        let (items, tree) = tree_of(n, seed);
        for (i, (salt, digest)) in items.iter().enumerate() {
            let path = tree.path(i as u32).unwrap();
            prop_assert!(path.verifies(merkle::digest_leaf(salt, digest), &tree.root()));
        }
    }

    #[test]
    fn any_single_bit_change_fails(n in 1usize..300, seed: u64, pick: prop::sample::Index, bit in 0usize..256) {
        let (items, tree) = tree_of(n, seed);
        let i = pick.index(n);
        let (salt, digest) = items[i];
        let path = tree.path(i as u32).unwrap();
        let root = tree.root();
        let leaf = merkle::digest_leaf(&salt, &digest);
        prop_assert!(path.verifies(leaf, &root));

        let flip = |h: Hash, bit: usize| { let mut h = h; h.0[bit / 8] ^= 1 << (bit % 8); h };
        let mut d = digest;
        d.0[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(!path.verifies(merkle::digest_leaf(&salt, &d), &root));
        let mut s = salt;
        s.0[(bit / 8) % 16] ^= 1 << (bit % 8);
        prop_assert!(!path.verifies(merkle::digest_leaf(&s, &digest), &root));
        prop_assert!(!path.verifies(leaf, &flip(root, bit)));
        for k in 0..path.siblings.len() {
            let mut p = path.clone();
            p.siblings[k] = flip(p.siblings[k], bit);
            prop_assert!(!p.verifies(leaf, &root), "sibling {} bit {}", k, bit);
        }
        // Moving the claimed position (any other index of the same tree) fails too.
        for other in [i.wrapping_sub(1), i + 1, i ^ 1] {
            if other < n && other != i {
                let mut p = path.clone();
                p.index = other as u32;
                prop_assert!(!p.verifies(leaf, &root), "index {} claimed as {}", i, other);
            }
        }
    }

    #[test]
    fn a_leaf_hash_is_never_accepted_as_an_inner_node(n in 2usize..64, seed: u64) {
        // Second-preimage resistance: the pair (left, right) under a node is not a leaf.
        let (_, tree) = tree_of(n, seed);
        let p0 = tree.path(0).unwrap();
        let p1 = tree.path(1).unwrap();
        let l0 = p1.siblings[0];
        let l1 = p0.siblings[0];
        let fake_leaf = merkle::leaf_hash(&[l0.0, l1.0].concat());
        let mut shorter = p0.clone();
        shorter.siblings.remove(0);
        prop_assert!(!shorter.verifies(fake_leaf, &tree.root()));
    }
}
