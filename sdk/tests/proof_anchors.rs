//! Anchored proofs (`specs/proof.md` §2–4.14): both forms round-trip, proofs without anchors
//! are byte for byte what they were, the caps hold, and every way an anchor can be wrong fails
//! with `anchor_path`.

use std::path::{Path, PathBuf};
use tickchain_sdk::anchor::{Anchor, EvmAddress};
use tickchain_sdk::anchor_proof::{AnchorProof, EvmTxHash, MAX_ANCHORS};
use tickchain_sdk::testkit::{TestNetwork, seeded};
use tickchain_sdk::vectors::VECTOR_GENESIS_SECOND;
use tickchain_sdk::{Hash, Height, Network, Proof, ProofFormatError, Second};

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/vectors")
}

fn net() -> TestNetwork {
    TestNetwork::new("vectors-4", 4, 1, VECTOR_GENESIS_SECOND)
}

/// The tick's anchor over `from..=to` on `chain_id`, other heights' hashes seeded.
fn anchor_of(net: &TestNetwork, p: &Proof, chain_id: u64, from: u64, to: u64) -> AnchorProof {
    let own = p.tick.hash(&net.hash());
    let hashes: Vec<Hash> = (from..=to)
        .map(|h| {
            if h == p.tick.height.0 {
                own
            } else {
                Hash(seeded(&format!("t/{chain_id}/{h}")))
            }
        })
        .collect();
    let anchor = Anchor::over_ticks(Height(from), Height(to), Second(to), &hashes).unwrap();
    AnchorProof::for_tick(
        chain_id,
        EvmAddress([chain_id as u8; 20]),
        anchor,
        EvmTxHash([0xee; 32]),
        77,
        &hashes,
        p.tick.height,
    )
    .unwrap()
}

fn anchored() -> (TestNetwork, Proof, Proof) {
    let net = net();
    let base = net.sample_proof(5, 3, 3, 3);
    let mut p = base.clone();
    p.anchors = vec![
        anchor_of(&net, &base, 31337, 10, 10),
        anchor_of(&net, &base, 137, 3, 40),
    ];
    (net, base, p)
}

fn code(net: &TestNetwork, p: &Proof) -> &'static str {
    match Network::new(net.genesis.clone()).verify(p) {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

#[test]
fn anchored_proofs_round_trip_in_json_and_compact_and_verify() {
    let (net, _, p) = anchored();
    assert_eq!(Proof::from_json(&p.to_json()).unwrap(), p);
    assert!(p.to_json().contains("\"tx_hash\": \"0xeeee"));
    let compact = p.to_compact().unwrap();
    assert_eq!(Proof::from_compact(&compact).unwrap(), p);
    assert_eq!(Proof::from_bytes(&compact).unwrap(), p);
    let verified = Network::new(net.genesis.clone()).verify(&p).unwrap();
    let checked: Vec<(u64, u64, u64, Hash)> = verified
        .anchors
        .iter()
        .map(|a| (a.chain_id, a.anchor.from.0, a.anchor.to.0, a.anchor.root))
        .collect();
    assert_eq!(
        checked,
        vec![
            (31337, 10, 10, p.anchors[0].anchor.root),
            (137, 3, 40, p.anchors[1].anchor.root)
        ]
    );
}

#[test]
fn the_anchors_section_is_appended_so_old_compact_proofs_still_decode_unchanged() {
    let (_, base, p) = anchored();
    let old = std::fs::read(vectors().join("proofs/valid-3of4.tcproof.bin")).unwrap();
    assert_eq!(base.to_compact().unwrap(), old);
    let decoded = Proof::from_compact(&old).unwrap();
    assert!(decoded.anchors.is_empty());
    assert_eq!(decoded.to_compact().unwrap(), old);
    assert!(!decoded.to_json().contains("anchors"));
    let upgraded = p.to_compact().unwrap();
    assert!(upgraded.starts_with(&old));
    assert_eq!(upgraded[old.len()], 2, "count byte after the certificate");
}

#[test]
fn every_way_an_anchor_can_be_wrong_is_anchor_path() {
    let (net, _, p) = anchored();
    assert_eq!(code(&net, &p), "ok");
    let mut cases: Vec<(&str, Proof)> = Vec::new();
    let mut q = p.clone();
    q.anchors[1].path.siblings[2].0[0] ^= 1;
    cases.push(("flipped sibling", q));
    let mut q = p.clone();
    q.anchors[1].anchor.root.0[31] ^= 1;
    cases.push(("other root", q));
    let mut q = p.clone();
    q.anchors[1].path.index += 1;
    cases.push(("index of the next tick", q));
    let mut q = p.clone();
    q.anchors[1].anchor.to = Height(41);
    cases.push(("size not the range's", q));
    let mut q = p.clone();
    q.anchors[0].anchor.from = Height(11);
    q.anchors[0].anchor.to = Height(11);
    cases.push(("tick outside the range", q));
    let mut q = p.clone();
    q.anchors[1].path.siblings.pop();
    cases.push(("truncated path", q));
    let mut q = p.clone();
    let other = anchor_of(&net, &q, 5, 3, 40);
    q.anchors[1].path = other.path;
    cases.push(("path of another tree", q));
    for (what, q) in cases {
        assert_eq!(code(&net, &q), "anchor_path", "{what}");
    }
    let mut q = p.clone();
    q.anchors[1].path.siblings[0].0[0] ^= 1;
    let err = Network::new(net.genesis.clone()).verify(&q).unwrap_err();
    assert!(
        err.to_string().starts_with("anchors[1] (chain 137): "),
        "{err}"
    );
}

#[test]
fn a_ring_failure_is_reported_before_any_anchor() {
    let (net, _, mut p) = anchored();
    p.anchors[0].path.index = 9;
    p.certificate.votes.truncate(2);
    assert_eq!(code(&net, &p), "too_few_signatures");
}

#[test]
fn at_most_eight_anchors_in_either_form() {
    let (_, base, p) = anchored();
    let mut many = base.clone();
    many.anchors = vec![p.anchors[0].clone(); MAX_ANCHORS];
    assert_eq!(Proof::from_json(&many.to_json()).unwrap(), many);
    assert_eq!(
        Proof::from_compact(&many.to_compact().unwrap()).unwrap(),
        many
    );
    many.anchors.push(p.anchors[1].clone());
    match Proof::from_json(&many.to_json()) {
        Err(ProofFormatError::Json { path, message }) => {
            assert_eq!(path, "anchors");
            assert!(message.contains("at most 8 anchors, found 9"), "{message}");
        }
        other => panic!("expected a JSON error at anchors, got {other:?}"),
    }
    assert!(matches!(
        many.to_compact(),
        Err(ProofFormatError::NotCompactable(_))
    ));
    let mut bytes = base.to_compact().unwrap();
    let old_len = bytes.len();
    for count in [0u8, 9] {
        bytes.truncate(old_len);
        bytes.push(count);
        let err = Proof::from_compact(&bytes).unwrap_err().to_string();
        assert!(err.contains("anchors.count"), "count {count}: {err}");
    }
}

#[test]
fn misplaced_paths_cannot_be_written_compactly_and_truncated_sections_do_not_decode() {
    let (_, _, p) = anchored();
    let mut q = p.clone();
    q.anchors[1].path.index += 1;
    let err = q.to_compact().unwrap_err().to_string();
    assert!(err.contains("anchors[1].path"), "{err}");
    let compact = p.to_compact().unwrap();
    for cut in [1, 32, 100] {
        assert!(
            Proof::from_compact(&compact[..compact.len() - cut]).is_err(),
            "cut {cut}"
        );
    }
    let mut longer = compact.clone();
    longer.push(0);
    assert!(Proof::from_compact(&longer).is_err());
}

#[test]
fn a_compact_range_that_does_not_contain_the_tick_does_not_decode() {
    let (_, base, p) = anchored();
    let mut bytes = p.to_compact().unwrap();
    // First anchor: count u8 | chain_id u64 | contract 20 | from u64 | to u64 ...
    let from_at = base.to_compact().unwrap().len() + 1 + 8 + 20;
    bytes[from_at..from_at + 8].copy_from_slice(&11u64.to_be_bytes());
    bytes[from_at + 8..from_at + 16].copy_from_slice(&12u64.to_be_bytes());
    let err = Proof::from_compact(&bytes).unwrap_err().to_string();
    assert!(err.contains("anchors.anchor"), "{err}");
    assert!(
        err.contains("tick height 10 is not in the range 11..=12"),
        "{err}"
    );
}

#[test]
fn bit_flips_in_compact_anchor_roots_and_paths_are_rejected_offline() {
    let (net, base, p) = anchored();
    let network = Network::new(net.genesis.clone());
    let compact = p.to_compact().unwrap();
    let start = base.to_compact().unwrap().len();
    // Per anchor: chain_id 8 | contract 20 | from 8 | to 8 | second 8 | root 32 | tx 32 |
    // block 8 | siblings. Flip the root and the siblings. Chain id, contract, second, tx and
    // block are claims only `--rpc` checks; so, in part, are from and to: an inclusion path
    // can fold the same way in a tree of a neighbouring size (leaf 7 of 38 or of 39), and it is
    // the chain, storing the root under `to`, that binds them.
    let mut at = start + 1;
    let mut checked = 0;
    for a in &p.anchors {
        let mut ranges = vec![(at + 52, at + 84)];
        let siblings_at = at + 8 + 20 + 24 + 32 + 32 + 8;
        ranges.push((siblings_at, siblings_at + 32 * a.path.siblings.len()));
        for (lo, hi) in ranges {
            for bit in lo * 8..hi * 8 {
                let mut bad = compact.clone();
                bad[bit / 8] ^= 1 << (bit % 8);
                if let Ok(q) = Proof::from_compact(&bad) {
                    assert!(network.verify(&q).is_err(), "bit {bit} still verifies");
                }
                checked += 1;
            }
        }
        at = siblings_at + 32 * a.path.siblings.len();
    }
    assert_eq!(at, compact.len());
    assert!(checked > 2000, "{checked}");
}
