//! The client and the `tickchain stamp`/`proof`/`time` commands against the real API router
//! over an in-memory node (`api/tests/support`), as a user runs them: stamp a file, verify the
//! written proof offline, and see verification fail once the file changes by one byte.
#![cfg(feature = "cli")]

#[path = "../../api/tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;
use support::Server;
use tickchain_api::ApiConfig;
use tickchain_sdk::client::{Client, ProofLookup, StampOutcome};
use tickchain_sdk::time_response::Nonce;
use tickchain_sdk::{Digest, testkit::seeded};

fn tickchain(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickchain"))
        .args(args)
        .output()
        .expect("run tickchain")
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tc-cli-client-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_genesis(server: &Server, dir: &Path) -> PathBuf {
    let path = dir.join("genesis.json");
    std::fs::write(&path, server.node.genesis().to_json()).unwrap();
    path
}

fn ok(o: &Output) -> String {
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(0), "stdout: {out}\nstderr: {err}");
    out.into_owned()
}

#[test]
fn stamp_wait_writes_a_proof_that_verifies_until_the_file_changes() {
    let server = Server::start_ticking(ApiConfig::default(), Duration::from_millis(200));
    let dir = temp_dir("stamp");
    let genesis = write_genesis(&server, &dir);
    let file = dir.join("contract.pdf");
    std::fs::write(&file, b"the document, byte for byte").unwrap();
    let (file_s, genesis_s) = (file.to_str().unwrap(), genesis.to_str().unwrap());

    let out = ok(&tickchain(&[
        "stamp",
        file_s,
        "--api",
        &server.url,
        "--wait",
    ]));
    assert!(out.contains("contract.pdf.tcproof"), "{out}");
    let proof = dir.join("contract.pdf.tcproof");
    let proof_s = proof.to_str().unwrap();
    // The in-memory node labels its ticks from second 1,800,000,001 (2027-01-15), ahead of a
    // real clock until then: the CLI's clock check (`specs/proof.md` §5) is off here.
    let out = ok(&tickchain(&[
        "verify",
        proof_s,
        "--genesis",
        genesis_s,
        "--file",
        file_s,
        "--no-clock-check",
    ]));
    assert!(out.starts_with("OK  digest "), "{out}");

    let mut bytes = std::fs::read(&file).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&file, bytes).unwrap();
    let o = tickchain(&[
        "verify",
        proof_s,
        "--genesis",
        genesis_s,
        "--file",
        file_s,
        "--no-clock-check",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("document_mismatch"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn stamp_without_wait_prints_the_receipt_and_proof_fetches_it_later() {
    let server = Server::start(ApiConfig::default());
    let dir = temp_dir("later");
    let file = dir.join("notes.txt");
    std::fs::write(&file, b"notes").unwrap();
    let file_s = file.to_str().unwrap();

    let out = ok(&tickchain(&["stamp", file_s, "--api", &server.url]));
    assert!(
        out.contains("accepted") && out.contains("tickchain proof"),
        "{out}"
    );
    assert!(!dir.join("notes.txt.tcproof").exists());

    let out = ok(&tickchain(&["proof", file_s, "--api", &server.url]));
    assert!(out.contains("pending"), "{out}");
    server.node.finalize_tick();
    ok(&tickchain(&["proof", file_s, "--api", &server.url]));
    let genesis = write_genesis(&server, &dir);
    let proof = dir.join("notes.txt.tcproof");
    ok(&tickchain(&[
        "verify",
        proof.to_str().unwrap(),
        "--genesis",
        genesis.to_str().unwrap(),
        "--file",
        file_s,
        "--no-clock-check",
    ]));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn time_checks_the_nonce_and_signature_against_the_genesis() {
    let server = Server::start(ApiConfig::default());
    server.node.finalize_tick();
    let dir = temp_dir("time");
    let genesis = write_genesis(&server, &dir);
    let out = ok(&tickchain(&[
        "time",
        "--api",
        &server.url,
        "--genesis",
        genesis.to_str().unwrap(),
    ]));
    assert!(out.contains("signature and nonce OK"), "{out}");
    assert!(out.contains("latest tick   height 1"), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_client_reads_every_answer_of_the_api() {
    let server = Server::start(ApiConfig {
        wait_timeout_ms: 200,
        ..ApiConfig::default()
    });
    let client = Client::new(&server.url);
    assert_eq!(client.latest_tick().unwrap(), None);
    let d = Digest(seeded("client/1"));
    assert!(matches!(client.proof(&d).unwrap(), ProofLookup::Unknown));
    let StampOutcome::TimedOut(receipts) = client.stamp(&[d], true).unwrap() else {
        panic!("expected a wait timeout")
    };
    assert_eq!(receipts[0].digest, d);
    assert!(matches!(
        client.stamp(&[d], false).unwrap(),
        StampOutcome::Accepted(_)
    ));
    assert!(matches!(client.proof(&d).unwrap(), ProofLookup::Pending(_)));
    let tick = server.node.finalize_tick();
    let ProofLookup::Ready(proof) = client.proof(&d).unwrap() else {
        panic!("expected a proof")
    };
    tickchain_sdk::verify(&proof, server.node.genesis()).unwrap();
    assert_eq!(client.latest_tick().unwrap().unwrap().hash, tick.hash);
    let nonce = Nonce(vec![1, 2, 3]);
    let signed = client.time(&nonce).unwrap();
    assert_eq!(signed.statement.nonce, nonce);
    assert!(signed.verify(&server.node.genesis().nodes[0].public_key));
    let err = Client::new("http://127.0.0.1:1").latest_tick().unwrap_err();
    assert!(err.to_string().starts_with("cannot reach"), "{err}");
}
