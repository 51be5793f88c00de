//! `tickchain verify-evidence` as an auditor runs it on what a node serves at
//! `GET /v1/evidence`: every evidence vector is accepted or refused as labelled, with exit 0,
//! 1 or 2, and valid evidence names the member, the rule, the view and both statements.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tickchain_sdk::vectors::EvidenceCase;

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/vectors")
}

fn tickchain(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickchain"))
        .args(args)
        .output()
        .expect("run tickchain")
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tc-cli-evidence-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes each vector's evidence to its own file, as a user saves one element of the API's list.
fn cases_on_disk(dir: &Path) -> Vec<(EvidenceCase, PathBuf)> {
    let cases: Vec<EvidenceCase> =
        serde_json::from_slice(&std::fs::read(vectors().join("evidence.json")).unwrap()).unwrap();
    cases
        .into_iter()
        .map(|c| {
            let path = dir.join(format!("{}.json", c.name));
            std::fs::write(&path, c.evidence.to_json()).unwrap();
            (c, path)
        })
        .collect()
}

#[test]
fn verify_evidence_accepts_every_valid_vector_and_refuses_every_invalid_one_with_its_code() {
    let dir = temp_dir("vectors");
    for (case, path) in cases_on_disk(&dir) {
        let genesis = vectors().join(&case.genesis);
        let out = tickchain(&[
            "verify-evidence",
            path.to_str().unwrap(),
            "--genesis",
            genesis.to_str().unwrap(),
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if case.expect == "ok" {
            assert_eq!(out.status.code(), Some(0), "{}: {stderr}", case.name);
            assert!(
                stdout.ends_with("valid evidence\n"),
                "{}: {stdout}",
                case.name
            );
            assert!(
                stdout.contains(&format!("rule    {}\n", case.evidence.rule)),
                "{}: {stdout}",
                case.name
            );
            assert!(
                stdout.contains(&format!("member  {} (node-", case.evidence.member)),
                "{stdout}"
            );
            assert!(stdout.contains("view    5\n"), "{stdout}");
            assert_eq!(stdout.matches(" signature ").count(), 2, "{stdout}");
        } else {
            assert_eq!(out.status.code(), Some(1), "{}: {stdout}", case.name);
            assert!(
                stderr.starts_with(&format!("FAILED {}: ", case.expect)),
                "{}: {stderr}",
                case.name
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn verify_evidence_json_names_member_rule_view_and_both_statements() {
    let dir = temp_dir("json");
    let (case, path) = cases_on_disk(&dir)
        .into_iter()
        .find(|(c, _)| c.name == "valid-finalize-and-nullify")
        .unwrap();
    let genesis = vectors().join(&case.genesis);
    let out = tickchain(&[
        "verify-evidence",
        path.to_str().unwrap(),
        "--genesis",
        genesis.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["member"], 0);
    assert_eq!(v["name"], "node-0");
    assert_eq!(v["rule"], "finalize_and_nullify");
    assert_eq!(v["view"], 5);
    assert_eq!(v["first"]["kind"], "finalize");
    assert_eq!(v["second"]["kind"], "nullify");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unreadable_or_malformed_evidence_is_bad_input_with_exit_2() {
    let dir = temp_dir("bad");
    let genesis = vectors().join("genesis-4.json");
    let junk = dir.join("junk.json");
    std::fs::write(&junk, "{\"genesis\": \"00\"}").unwrap();
    let missing = dir.join("missing.json");
    for (file, needle) in [
        (&junk, "evidence JSON at genesis"),
        (&missing, "cannot read"),
    ] {
        let out = tickchain(&[
            "verify-evidence",
            file.to_str().unwrap(),
            "--genesis",
            genesis.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
