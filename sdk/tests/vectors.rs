//! The normative vectors in `specs/vectors/` are exactly what the code generates, and each one
//! verifies (or fails) exactly as its label says.

use std::path::{Path, PathBuf};
use tickchain_sdk::vectors::{Case, VECTOR_GENESIS_SECOND, files};
use tickchain_sdk::verify::{FUTURE_MARGIN_S, check_not_future};
use tickchain_sdk::{Genesis, Network, Proof};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/vectors")
}

fn cases() -> Vec<Case> {
    serde_json::from_slice(&std::fs::read(dir().join("index.json")).unwrap()).unwrap()
}

fn network(case: &Case) -> Network {
    let text = std::fs::read_to_string(dir().join(&case.genesis)).unwrap();
    Network::new(Genesis::from_json(&text).unwrap())
}

#[test]
fn committed_vectors_match_the_generator_byte_for_byte() {
    for (name, expected) in files() {
        let found = std::fs::read(dir().join(&name)).unwrap_or_else(|e| {
            panic!("specs/vectors/{name}: {e}; run `cargo run -p tickchain-sdk --bin gen-vectors`")
        });
        assert!(
            found == expected,
            "specs/vectors/{name} differs from the generator; if the change is deliberate, \
             run `cargo run -p tickchain-sdk --bin gen-vectors` and commit both"
        );
    }
}

#[test]
fn every_vector_verifies_or_fails_as_labelled() {
    let cases = cases();
    assert!(cases.len() >= 20, "expected the full vector set");
    for case in &cases {
        let bytes = std::fs::read(dir().join(&case.proof)).unwrap();
        let parsed = Proof::from_bytes(&bytes);
        if case.expect == "format_error" {
            let err = parsed.expect_err(&case.name).to_string();
            let field = case.field.as_deref().unwrap();
            assert!(
                err.contains(&format!(" at {field}:")),
                "{}: error must name field {field}: {err}",
                case.name
            );
            continue;
        }
        let proof = parsed.unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let outcome = match network(case).verify(&proof) {
            Ok(_) => "ok".to_string(),
            Err(e) => e.code().to_string(),
        };
        assert_eq!(outcome, case.expect, "{}: {}", case.name, case.description);
        // What a verifier with a clock adds to an accepted proof (`specs/proof.md` §5), at the
        // vectors' own time.
        let now = tickchain_sdk::Second(VECTOR_GENESIS_SECOND.0 + 3_600).start();
        let clocked = match check_not_future(&proof, now, FUTURE_MARGIN_S) {
            Err(e) if outcome == "ok" => e.code().to_string(),
            _ => outcome,
        };
        let cli_expect = case.cli_expect.as_deref().unwrap_or(&case.expect);
        assert_eq!(clocked, cli_expect, "{}: {}", case.name, case.description);
    }
}

/// Issue 13 and the codes the first vector set did not show each have a labelled vector.
#[test]
fn the_second_and_every_structural_code_have_a_vector() {
    let cases = cases();
    for (name, expect) in [
        ("wrapped-second", "invalid_second"),
        ("second-at-genesis", "invalid_second"),
        ("far-future-second", "ok"),
        ("batch-after-tick", "batch_after_tick"),
        ("view-mismatch", "view_mismatch"),
        ("unknown-batch-node", "unknown_batch_node"),
        ("notarize-vote-in-certificate", "bad_signature"),
    ] {
        let case = cases
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no vector {name}"));
        assert_eq!(case.expect, expect, "{name}");
    }
    let far = cases.iter().find(|c| c.name == "far-future-second");
    assert_eq!(
        far.and_then(|c| c.cli_expect.as_deref()),
        Some("future_second")
    );
}

#[test]
fn valid_vectors_survive_json_and_compact_round_trips() {
    for case in cases().iter().filter(|c| c.expect == "ok") {
        let proof = Proof::from_bytes(&std::fs::read(dir().join(&case.proof)).unwrap()).unwrap();
        let compact = proof.to_compact().unwrap();
        assert_eq!(
            Proof::from_compact(&compact).unwrap(),
            proof,
            "{}",
            case.name
        );
        assert_eq!(
            Proof::from_json(&proof.to_json()).unwrap(),
            proof,
            "{}",
            case.name
        );
    }
}

#[test]
fn every_single_bit_flip_of_a_compact_proof_is_rejected() {
    let case = cases()
        .into_iter()
        .find(|c| c.name == "valid-3of4")
        .unwrap();
    let net = network(&case);
    let proof = Proof::from_bytes(&std::fs::read(dir().join(&case.proof)).unwrap()).unwrap();
    let compact = proof.to_compact().unwrap();
    assert!(net.verify(&Proof::from_compact(&compact).unwrap()).is_ok());
    for bit in 0..compact.len() * 8 {
        let mut bad = compact.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        if let Ok(p) = Proof::from_bytes(&bad) {
            assert!(net.verify(&p).is_err(), "flipping bit {bit} still verifies");
        }
    }
}

#[test]
fn encoding_vectors_match_the_encoders() {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir().join("encoding.json")).unwrap()).unwrap();
    let g = Genesis::from_json(&std::fs::read_to_string(dir().join("genesis-4.json")).unwrap())
        .unwrap();
    assert_eq!(
        v["genesis"]["canonical_bytes"],
        hex::encode(g.canonical_bytes())
    );
    assert_eq!(v["genesis"]["hash"], g.hash.to_hex());
    let tick: tickchain_sdk::Tick = serde_json::from_value(v["tick"]["value"].clone()).unwrap();
    assert_eq!(
        v["tick"]["canonical_bytes"],
        hex::encode(tick.canonical_bytes(&g.hash))
    );
    assert_eq!(v["tick"]["hash"], tick.hash(&g.hash).to_hex());
    let batch: tickchain_sdk::Batch = serde_json::from_value(v["batch"]["value"].clone()).unwrap();
    assert_eq!(
        v["batch"]["signing_bytes"],
        hex::encode(batch.signing_bytes(&g.hash))
    );
    assert!(Network::new(g.clone()).verify_batch(&batch).is_ok());
    let salt = tickchain_sdk::Salt::from_hex(v["digest_leaf"]["salt"].as_str().unwrap()).unwrap();
    let digest =
        tickchain_sdk::Digest::from_hex(v["digest_leaf"]["digest"].as_str().unwrap()).unwrap();
    assert_eq!(
        v["digest_leaf"]["leaf_hash"],
        tickchain_sdk::merkle::digest_leaf(&salt, &digest).to_hex()
    );
}

/// Genesis version 3: a gateway's batch verifies and names the gateway; every proof made under
/// the version 2 genesis files still verifies as labelled (checked above), and is another
/// network's proof under the version 3 genesis of the same ring.
#[test]
fn a_gateway_signed_batch_verifies_and_names_its_gateway() {
    let cases = cases();
    let case = cases.iter().find(|c| c.name == "valid-gateway").unwrap();
    let proof = Proof::from_bytes(&std::fs::read(dir().join(&case.proof)).unwrap()).unwrap();
    let v = network(case).verify(&proof).unwrap();
    assert_eq!(v.batch_node, tickchain_sdk::NodeId(5));
    assert_eq!(v.batch_gateway.as_deref(), Some("gateway-1"));
    for (name, expect) in [
        ("gateway-beyond-genesis", "unknown_batch_node"),
        ("gateway-other-key", "bad_batch_signature"),
        ("gateway-signed-vote", "unknown_signer"),
        ("valid-3of4-under-gateway-genesis", "wrong_genesis"),
        ("valid-gateway-compact", "ok"),
    ] {
        let c = cases.iter().find(|c| c.name == name).unwrap();
        assert_eq!(c.expect, expect, "{name}");
        assert_eq!(c.genesis, "genesis-gateways.json", "{name}");
    }
    let old: Vec<&Case> = cases
        .iter()
        .filter(|c| c.genesis != "genesis-gateways.json")
        .collect();
    assert!(old.len() >= 35, "the version 2 cases stay");
    for c in old {
        let text = std::fs::read_to_string(dir().join(&c.genesis)).unwrap();
        assert_eq!(Genesis::from_json(&text).unwrap().version, 2, "{}", c.name);
    }
}
