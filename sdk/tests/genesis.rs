//! A genesis file is accepted only when every rule of `specs/encoding.md` §3.1 holds, and a bad
//! one is rejected with an error naming the field.

use tickchain_sdk::testkit::TestNetwork;
use tickchain_sdk::{Genesis, GenesisError, Second};

fn valid() -> Genesis {
    TestNetwork::new("genesis-test", 4, 1, Second(1_764_000_000)).genesis
}

/// Applies `edit`, re-hashes (so only the rule under test is broken), and returns the error.
fn rejected(edit: impl FnOnce(&mut Genesis)) -> GenesisError {
    let mut g = valid();
    edit(&mut g);
    g.hash = g.compute_hash();
    Genesis::from_json(&g.to_json()).expect_err("must be rejected")
}

fn field_of(e: &GenesisError) -> String {
    match e {
        GenesisError::Invalid { field, .. } => field.clone(),
        other => panic!("expected an Invalid error, got {other}"),
    }
}

#[test]
fn a_valid_genesis_round_trips_through_json() {
    let g = valid();
    assert_eq!(Genesis::from_json(&g.to_json()).unwrap(), g);
}

#[test]
fn f_beyond_n_minus_one_over_three_is_rejected() {
    let e = rejected(|g| {
        g.f = 2;
        g.quorum = 2;
    });
    assert_eq!(field_of(&e), "f");
    assert!(
        e.to_string()
            .contains("4 nodes tolerate at most f = 1, got f = 2"),
        "{e}"
    );
}

#[test]
fn quorum_other_than_n_minus_f_is_rejected() {
    let e = rejected(|g| g.quorum = 2);
    assert_eq!(field_of(&e), "quorum");
    assert!(e.to_string().contains("expected n - f = 3, got 2"), "{e}");
}

#[test]
fn duplicate_keys_and_names_are_rejected() {
    let e = rejected(|g| g.nodes[3].public_key = g.nodes[1].public_key);
    assert_eq!(field_of(&e), "nodes[3].public_key");
    let e = rejected(|g| g.nodes[2].name = g.nodes[0].name.clone());
    assert_eq!(field_of(&e), "nodes[2].name");
}

#[test]
fn weak_and_invalid_keys_are_rejected() {
    // The identity point (small order) is a valid encoding but a weak key.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let e = rejected(|g| g.nodes[0].public_key.0 = identity);
    assert!(e.to_string().contains("weak"), "{e}");
    // y = 2 does not decode to a curve point.
    let mut bad = [0u8; 32];
    bad[0] = 2;
    let e = rejected(|g| g.nodes[0].public_key.0 = bad);
    assert!(e.to_string().contains("not a valid Ed25519 point"), "{e}");
}

#[test]
fn empty_or_overlong_text_fields_are_rejected() {
    let e = rejected(|g| g.chain_id.clear());
    assert_eq!(field_of(&e), "chain_id");
    let e = rejected(|g| g.nodes[1].address = "x".repeat(256));
    assert_eq!(field_of(&e), "nodes[1].address");
}

#[test]
fn a_stale_hash_is_rejected_with_both_values() {
    let mut g = valid();
    g.nodes[0].address = "127.0.0.1:9999".into();
    let e = Genesis::from_json(&g.to_json()).unwrap_err();
    assert!(matches!(e, GenesisError::HashMismatch { .. }), "{e}");
}

#[test]
fn malformed_json_names_the_field() {
    let text = valid().to_json().replacen("\"f\": 1", "\"f\": \"one\"", 1);
    let e = Genesis::from_json(&text).unwrap_err();
    assert!(
        matches!(&e, GenesisError::Json { path, .. } if path == "f"),
        "{e}"
    );
}
