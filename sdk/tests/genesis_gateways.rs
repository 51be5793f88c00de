//! Genesis version 3 (`specs/encoding.md` §3.1): gateways and a TSA root are accepted only in
//! version 3, with keys and names distinct from every node's, and a version 2 file keeps
//! loading with the hash it always had.

use tickchain_sdk::testkit::TestNetwork;
use tickchain_sdk::{Genesis, GenesisError, NodeId, Second};

fn ring() -> TestNetwork {
    TestNetwork::new("genesis-gw", 4, 1, Second(1_764_000_000))
}

fn with_gateways() -> Genesis {
    ring()
        .with_gateways("genesis-gw", 2, Some(&[0x30, 0x00]))
        .genesis
}

/// Applies `edit` to a version 3 genesis, re-hashes, and returns the error on load.
fn rejected(edit: impl FnOnce(&mut Genesis)) -> GenesisError {
    let mut g = with_gateways();
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
fn a_version_3_genesis_round_trips_and_names_its_gateways_by_signer_id() {
    let g = with_gateways();
    assert_eq!(g.version, 3);
    assert_eq!(Genesis::from_json(&g.to_json()).unwrap(), g);
    assert_eq!(g.batch_signers(), 6);
    assert_eq!(g.gateway_id(1), Some(NodeId(5)));
    assert_eq!(g.gateway_id(2), None);
    assert_eq!(g.gateway(NodeId(4)).unwrap().name, "gateway-0");
    assert!(g.gateway(NodeId(3)).is_none(), "node 3 is a node");
    assert!(g.gateway(NodeId(6)).is_none());
    assert_eq!(g.batch_signer(NodeId(5)).unwrap().1, "gateway-1");
    assert_eq!(g.tsa_root_der(), Some(vec![0x30, 0x00]));
}

#[test]
fn gateways_change_the_network_and_leave_the_version_2_hash_alone() {
    let v2 = ring().genesis;
    assert_eq!(v2.version, 2);
    assert!(
        !v2.to_json().contains("gateways"),
        "version 2 files keep their shape"
    );
    let v3 = with_gateways();
    assert_ne!(v2.hash, v3.hash, "another network");
    let bare = ring().genesis.with_extensions(Vec::new(), None);
    let e = bare.expect_err("version 3 without gateways or a TSA root");
    assert!(
        e.to_string().contains("without either write version 2"),
        "{e}"
    );
}

#[test]
fn gateways_or_a_tsa_root_in_a_version_2_genesis_are_rejected() {
    let e = rejected(|g| g.version = 2);
    assert_eq!(field_of(&e), "gateways");
    let e = rejected(|g| {
        g.version = 2;
        g.gateways.clear();
    });
    assert_eq!(field_of(&e), "tsa_root");
}

#[test]
fn a_gateway_key_or_name_shared_with_a_node_or_gateway_is_rejected() {
    let e = rejected(|g| g.gateways[0].public_key = g.nodes[2].public_key);
    assert_eq!(field_of(&e), "gateways[0].public_key");
    assert!(e.to_string().contains("same key as nodes[2]"), "{e}");
    let e = rejected(|g| g.gateways[1].public_key = g.gateways[0].public_key);
    assert!(e.to_string().contains("same key as gateways[0]"), "{e}");
    let e = rejected(|g| g.gateways[1].name = "node-3".into());
    assert_eq!(field_of(&e), "gateways[1].name");
    let e = rejected(|g| g.gateways[1].name = "gateway-0".into());
    assert!(e.to_string().contains("same name as gateways[0]"), "{e}");
    let e = rejected(|g| g.gateways[0].name.clear());
    assert_eq!(field_of(&e), "gateways[0].name");
}

#[test]
fn a_weak_gateway_key_is_rejected() {
    // The identity point: small order, so a signature under it proves nothing.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let e = rejected(|g| g.gateways[0].public_key = tickchain_sdk::PublicKey(identity));
    assert_eq!(field_of(&e), "gateways[0].public_key");
    assert!(e.to_string().contains("weak"), "{e}");
}

#[test]
fn a_tsa_root_that_is_not_lower_case_hex_of_a_der_sequence_is_rejected() {
    for bad in ["3000G0", "300", "3A00", "0400", ""] {
        let e = rejected(|g| g.tsa_root = Some(bad.into()));
        assert_eq!(field_of(&e), "tsa_root", "{bad:?}: {e}");
    }
    let long = format!("30{}", "00".repeat(4096));
    let e = rejected(|g| g.tsa_root = Some(long));
    assert!(e.to_string().contains("4097 bytes"), "{e}");
}

#[test]
fn too_many_gateways_are_rejected() {
    let e = rejected(|g| {
        let first = g.gateways[0].clone();
        g.gateways = (0..=tickchain_sdk::MAX_GATEWAYS)
            .map(|i| tickchain_sdk::GenesisGateway {
                name: format!("gw-{i}"),
                ..first.clone()
            })
            .collect();
    });
    assert_eq!(field_of(&e), "gateways");
}
