//! The compact proof for a digest in a one-million-leaf batch with a 3-of-4 certificate is at
//! most 1.2 KB (1,200 bytes).

use tickchain_sdk::Second;
use tickchain_sdk::testkit::TestNetwork;

#[test]
fn compact_proof_for_a_million_leaf_batch_with_3_of_4_is_at_most_1200_bytes() {
    let net = TestNetwork::new("size", 4, 1, Second(1_764_000_000));
    // Leaf 0 has the longest path (20 siblings); the tick holds one batch from each node.
    let proof = net.sample_proof(1_000_000, 0, 4, 3);
    assert_eq!(proof.batch_path.siblings.len(), 20);
    tickchain_sdk::verify(&proof, &net.genesis).expect("the sample proof is valid");
    let compact = proof.to_compact().unwrap();
    let json = proof.to_json();
    println!(
        "1,000,000-leaf batch, 4 batches per tick, 3-of-4 certificate: compact {} bytes, JSON {} bytes",
        compact.len(),
        json.len()
    );
    assert!(
        compact.len() <= 1200,
        "compact proof is {} bytes",
        compact.len()
    );
}
