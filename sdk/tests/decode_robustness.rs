//! Decoding and verification of hostile bytes never panic: the fuzz target's body, run on stable
//! over random inputs and over mutations of every vector.

use proptest::prelude::*;
use std::path::Path;
use std::sync::LazyLock;
use tickchain_sdk::testkit::TestNetwork;
use tickchain_sdk::vectors::VECTOR_GENESIS_SECOND;
use tickchain_sdk::{Network, Proof};

static NET: LazyLock<Network> = LazyLock::new(|| {
    Network::new(TestNetwork::new("vectors-4", 4, 1, VECTOR_GENESIS_SECOND).genesis)
});

static SEEDS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/vectors/proofs");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    seeds.sort();
    seeds
});

/// The fuzz target's body (fuzz/fuzz_targets/proof_decode_verify.rs).
fn exercise(data: &[u8]) {
    if let Ok(proof) = Proof::from_bytes(data) {
        let _ = NET.verify(&proof);
        if let Ok(compact) = proof.to_compact() {
            let again = Proof::from_compact(&compact).expect("own compact form decodes");
            assert_eq!(again.to_compact().unwrap(), compact);
        }
        assert_eq!(Proof::from_json(&proof.to_json()).unwrap(), proof);
    }
}

#[test]
fn every_vector_file_as_is_passes_the_fuzz_body() {
    // Regression: a JSON proof with a malformed path used to encode to a compact form that
    // could not be decoded (found by cargo fuzz on the vector corpus).
    for seed in SEEDS.iter() {
        exercise(seed);
    }
}

#[test]
fn proofs_with_malformed_paths_are_not_written_compactly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/vectors/proofs");
    for name in ["index-out-of-range.tcproof", "truncated-path.tcproof"] {
        let proof = Proof::from_bytes(&std::fs::read(dir.join(name)).unwrap()).unwrap();
        let err = proof.to_compact().unwrap_err().to_string();
        assert!(
            err.starts_with("cannot encode compactly: batch_path: "),
            "{name}: {err}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..2048)) {
        exercise(&data);
    }

    #[test]
    fn compact_magic_followed_by_random_bytes_never_panics(tail in prop::collection::vec(any::<u8>(), 0..1500)) {
        let mut data = b"TCPF\x01".to_vec();
        data.extend(tail);
        exercise(&data);
    }

    #[test]
    fn mutated_vectors_never_panic(pick: prop::sample::Index, edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut: Option<prop::sample::Index>) {
        let mut data = SEEDS[pick.index(SEEDS.len())].clone();
        for (at, byte) in edits {
            let i = at.index(data.len());
            data[i] = byte;
        }
        if let Some(c) = cut {
            data.truncate(c.index(data.len() + 1));
        }
        exercise(&data);
    }
}
