//! Genesis binds each node's secp256k1 attestation address to its Ed25519 identity
//! (`specs/encoding.md` §3.1, §3.5): both cross-signatures are checked on load, the genesis hash
//! covers them, and version 1 files written before attestation keys still load.

use tickchain_sdk::anchor::keccak256;
use tickchain_sdk::attest::{AttestationBinding, AttestationSigner, recover_signer};
use tickchain_sdk::testkit::TestNetwork;
use tickchain_sdk::{Genesis, GenesisError, GenesisNode, Second};

fn net() -> TestNetwork {
    TestNetwork::new("attest-test", 4, 1, Second(1_764_000_000))
}

/// Applies `edit`, re-hashes (so only the rule under test is broken), and returns the error.
fn rejected(edit: impl FnOnce(&mut Genesis)) -> GenesisError {
    let mut g = net().genesis;
    edit(&mut g);
    g.hash = g.compute_hash();
    Genesis::from_json(&g.to_json()).expect_err("must be rejected")
}

fn field_and_reason(e: &GenesisError) -> (String, String) {
    match e {
        GenesisError::Invalid { field, reason } => (field.clone(), reason.clone()),
        other => panic!("expected an Invalid error, got {other}"),
    }
}

#[test]
fn a_new_genesis_has_version_2_and_a_verified_binding_per_node() {
    let net = net();
    let g = Genesis::from_json(&net.genesis.to_json()).unwrap();
    assert_eq!(g.version, 2);
    assert!(g.can_anchor());
    let addresses = g.attestation_addresses().unwrap();
    let expected: Vec<_> = net.attestation_keys.iter().map(|k| k.address()).collect();
    assert_eq!(addresses, expected);
    assert!(g.to_json().contains("\"ed25519_signature\""));
}

#[test]
fn the_genesis_hash_covers_every_byte_of_the_binding() {
    let g = net().genesis;
    let stated = g.hash;
    let mut changed = g.clone();
    // A binding for node 1 made with another (valid) attestation key: still a valid binding,
    // so only the hash can catch the swap.
    let other = AttestationSigner::from_secret(&keccak256(b"another key")).unwrap();
    let net = net();
    changed.nodes[1].attestation = Some(AttestationBinding::create(&net.keys[1], &other));
    let err = Genesis::from_json(&changed.to_json()).unwrap_err();
    assert!(
        matches!(err, GenesisError::HashMismatch { stated: s, .. } if s == stated),
        "{err}"
    );
}

#[test]
fn an_ed25519_signature_over_another_address_is_rejected() {
    let e = rejected(|g| {
        let b = g.nodes[2].attestation.as_mut().unwrap();
        b.ed25519_signature.0[0] ^= 1;
    });
    let (field, reason) = field_and_reason(&e);
    assert_eq!(field, "nodes[2].attestation");
    assert!(reason.contains("ed25519_signature"), "{reason}");
}

#[test]
fn an_evm_signature_by_another_key_is_rejected() {
    let e = rejected(|g| {
        // Node 3 claims node 0's attestation signature: it recovers to node 0's address.
        let theirs = g.nodes[0].attestation.clone().unwrap().evm_signature;
        g.nodes[3].attestation.as_mut().unwrap().evm_signature = theirs;
    });
    let (field, reason) = field_and_reason(&e);
    assert_eq!(field, "nodes[3].attestation");
    assert!(reason.contains("expected signer"), "{reason}");
}

#[test]
fn a_copied_binding_is_rejected_because_the_identity_did_not_sign_it() {
    // Node 1 takes node 0's whole binding (node 0 moves to a new key, so the address stays
    // unique): the address was signed by node 0's identity, not node 1's.
    let net = net();
    let fresh = AttestationSigner::from_secret(&keccak256(b"node 0's new key")).unwrap();
    let e = rejected(|g| {
        g.nodes[1].attestation = g.nodes[0].attestation.clone();
        g.nodes[0].attestation = Some(AttestationBinding::create(&net.keys[0], &fresh));
    });
    let (field, reason) = field_and_reason(&e);
    assert_eq!(field, "nodes[1].attestation");
    assert!(reason.contains("did not sign"), "{reason}");
}

#[test]
fn two_nodes_may_not_share_an_attestation_address() {
    // Node 1 honestly binds node 0's attestation key too (it holds both): distinct keys only.
    let net = net();
    let e = rejected(|g| {
        g.nodes[1].attestation = Some(AttestationBinding::create(
            &net.keys[1],
            &net.attestation_keys[0],
        ))
    });
    assert_eq!(field_and_reason(&e).0, "nodes[1].attestation.address");
}

#[test]
fn version_2_requires_a_binding_on_every_node() {
    let e = rejected(|g| g.nodes[2].attestation = None);
    let (field, reason) = field_and_reason(&e);
    assert_eq!(field, "nodes[2].attestation");
    assert!(reason.contains("found none"), "{reason}");
}

#[test]
fn genesis_new_refuses_nodes_without_bindings() {
    let net = net();
    let nodes: Vec<GenesisNode> = net
        .genesis
        .nodes
        .iter()
        .map(|n| GenesisNode::new(n.name.clone(), n.public_key, n.address.clone()))
        .collect();
    let e = Genesis::new("x", Second(1), 1, nodes).unwrap_err();
    assert_eq!(field_and_reason(&e).0, "nodes[0].attestation");
}

#[test]
fn a_version_1_file_still_loads_and_cannot_anchor() {
    // The 4-node vector genesis as committed before attestation keys existed.
    let text = include_str!("data/genesis-v1.json");
    let g = Genesis::from_json(text).unwrap();
    assert_eq!(g.version, 1);
    assert!(!g.can_anchor());
    assert_eq!(g.attestation_addresses(), None);
    // Its hash (checked by from_json) is over the version 1 bytes: no binding bytes at all.
    let v1_len: usize = 1
        + 20
        + 1
        + 2
        + 13
        + 8
        + 2
        + 2
        + 4
        + 4
        + 2
        + g.nodes
            .iter()
            .map(|n| 2 + n.name.len() + 32 + 2 + n.address.len())
            .sum::<usize>();
    assert_eq!(g.canonical_bytes().len(), v1_len);
}

#[test]
fn a_version_1_file_may_not_carry_bindings() {
    let e = rejected(|g| {
        g.version = 1;
    });
    let (field, reason) = field_and_reason(&e);
    assert_eq!(field, "nodes[0].attestation");
    assert!(reason.contains("expected none"), "{reason}");
}

#[test]
fn the_binding_signature_recovers_the_stated_address() {
    let g = net().genesis;
    for node in &g.nodes {
        let b = node.attestation.as_ref().unwrap();
        let msg = tickchain_sdk::attest::binding_message(&node.public_key, &b.address);
        assert_eq!(
            recover_signer(&keccak256(&msg), &b.evm_signature).unwrap(),
            b.address
        );
    }
}
