//! The evidence vectors in `specs/vectors/evidence.json` check (or fail) exactly as labelled,
//! and every rule and every verification code has a vector (`specs/evidence.md` §4).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use tickchain_sdk::evidence::Rule;
use tickchain_sdk::vectors::EvidenceCase;
use tickchain_sdk::{Evidence, Genesis};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/vectors")
}

fn cases() -> Vec<EvidenceCase> {
    serde_json::from_slice(&std::fs::read(dir().join("evidence.json")).unwrap()).unwrap()
}

fn genesis(case: &EvidenceCase) -> Genesis {
    Genesis::from_json(&std::fs::read_to_string(dir().join(&case.genesis)).unwrap()).unwrap()
}

#[test]
fn every_evidence_vector_verifies_or_fails_as_labelled() {
    for case in cases() {
        let outcome = match case.evidence.verify(&genesis(&case)) {
            Ok(v) => {
                assert_eq!(v.member, case.evidence.member, "{}", case.name);
                assert_eq!(v.rule, case.evidence.rule, "{}", case.name);
                "ok".to_string()
            }
            Err(e) => e.code().to_string(),
        };
        assert_eq!(outcome, case.expect, "{}: {}", case.name, case.description);
    }
}

#[test]
fn every_rule_and_every_verification_code_has_a_vector() {
    let cases = cases();
    let valid: BTreeSet<Rule> = cases
        .iter()
        .filter(|c| c.expect == "ok")
        .map(|c| c.evidence.rule)
        .collect();
    assert_eq!(valid, Rule::ALL.into_iter().collect());
    let codes: BTreeSet<&str> = cases.iter().map(|c| c.expect.as_str()).collect();
    for code in [
        "same_statement",
        "different_views",
        "bad_signature",
        "not_leader",
        "no_conflict",
        "wrong_kinds",
        "unknown_member",
        "wrong_genesis",
    ] {
        assert!(codes.contains(code), "no vector for {code}");
    }
}

#[test]
fn each_vector_survives_the_json_form_it_is_served_in() {
    for case in cases() {
        let text = case.evidence.to_json();
        assert_eq!(
            Evidence::from_json(&text).unwrap(),
            case.evidence,
            "{}",
            case.name
        );
    }
}

#[test]
fn every_single_bit_flip_of_a_valid_signature_is_rejected() {
    let case = cases()
        .into_iter()
        .find(|c| c.name == "valid-conflicting-proposals")
        .unwrap();
    let g = genesis(&case);
    for which in 0..2 {
        for bit in 0..512 {
            let mut e = case.evidence.clone();
            let s = if which == 0 {
                &mut e.first
            } else {
                &mut e.second
            };
            if let tickchain_sdk::Statement::Notarize { signature, .. } = s {
                signature.0[bit / 8] ^= 1 << (bit % 8);
            }
            assert!(e.verify(&g).is_err(), "statement {which} bit {bit}");
        }
    }
}
