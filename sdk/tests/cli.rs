//! The `tickchain` CLI as an auditor runs it: every vector verifies or fails as labelled with
//! the right exit code, documents are checked against proofs, and bad input gets a clear
//! message and exit code 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tickchain_sdk::vectors::Case;

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/vectors")
}

fn tickchain(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickchain"))
        .args(args)
        .output()
        .expect("run tickchain")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tc-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn cli_verifies_every_valid_vector_and_rejects_every_invalid_one_with_its_label() {
    let cases: Vec<Case> =
        serde_json::from_slice(&std::fs::read(vectors().join("index.json")).unwrap()).unwrap();
    for case in cases {
        let proof = vectors().join(&case.proof);
        let genesis = vectors().join(&case.genesis);
        let out = tickchain(&[
            "verify",
            proof.to_str().unwrap(),
            "--genesis",
            genesis.to_str().unwrap(),
        ]);
        let (stdout, stderr) = text(&out);
        match case.cli_expect.as_deref().unwrap_or(&case.expect) {
            "ok" => {
                assert_eq!(out.status.code(), Some(0), "{}: {stderr}", case.name);
                assert!(stdout.starts_with("OK  digest "), "{}: {stdout}", case.name);
            }
            "format_error" => {
                assert_eq!(out.status.code(), Some(2), "{}: {stderr}", case.name);
                let field = case.field.unwrap();
                assert!(
                    stderr.contains(&format!(" at {field}:")),
                    "{}: {stderr}",
                    case.name
                );
            }
            code => {
                assert_eq!(out.status.code(), Some(1), "{}: {stderr}", case.name);
                assert!(
                    stderr.starts_with(&format!("FAILED {code}: ")),
                    "{}: expected {code}, got {stderr}",
                    case.name
                );
            }
        }
    }
}

/// `specs/proof.md` §5: a tick labelled in 2262 verifies offline but fails the CLI's clock
/// check, unless `--no-clock-check` is given; a tick within a day of the clock passes it.
#[test]
fn verify_refuses_a_far_future_second_unless_the_clock_check_is_off() {
    let proof = vectors().join("proofs/far-future-second.tcproof");
    let genesis = vectors().join("genesis-4.json");
    let (p, g) = (proof.to_str().unwrap(), genesis.to_str().unwrap());
    let checked = tickchain(&["verify", p, "--genesis", g]);
    assert_eq!(checked.status.code(), Some(1), "{:?}", text(&checked));
    assert!(
        text(&checked).1.starts_with("FAILED future_second: "),
        "{:?}",
        text(&checked)
    );
    let unchecked = tickchain(&["verify", p, "--genesis", g, "--no-clock-check"]);
    assert_eq!(unchecked.status.code(), Some(0), "{:?}", text(&unchecked));

    // A tick at the current second passes the clock check.
    let dir = temp_dir("now");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let net =
        tickchain_sdk::testkit::TestNetwork::new("cli-now", 4, 1, tickchain_sdk::Second(now - 100));
    let proof_path = dir.join("now.tcproof");
    std::fs::write(&proof_path, net.sample_proof(2, 0, 1, 3).to_json()).unwrap();
    let genesis_path = dir.join("genesis.json");
    std::fs::write(&genesis_path, net.genesis.to_json()).unwrap();
    let out = tickchain(&[
        "verify",
        proof_path.to_str().unwrap(),
        "--genesis",
        genesis_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn verify_with_file_accepts_the_document_and_rejects_a_one_byte_change() {
    // Build a proof for a real document's SHA-256 with the deterministic test network.
    use sha2::Digest as _;
    let dir = temp_dir("doc");
    let doc = dir.join("contract.txt");
    std::fs::write(&doc, b"the quick brown fox\n").unwrap();
    let digest = tickchain_sdk::Digest(sha2::Sha256::digest(b"the quick brown fox\n").into());
    let net = tickchain_sdk::testkit::TestNetwork::new(
        "cli-doc",
        4,
        1,
        tickchain_sdk::Second(1_764_000_000),
    );
    let mut proof = net.sample_proof(3, 1, 2, 3);
    let sealed = net.batch(
        proof.batch.node,
        proof.batch.second,
        &[
            tickchain_sdk::Digest([1; 32]),
            digest,
            tickchain_sdk::Digest([2; 32]),
        ],
    );
    let (tick, tree) = net.tick(
        proof.tick.height,
        proof.tick.view,
        proof.tick.second,
        proof.tick.prev_hash,
        &[&sealed.batch],
    );
    let cert = net.certify(
        &tick,
        &proof
            .certificate
            .votes
            .iter()
            .map(|v| (v.signer, v.reading))
            .collect::<Vec<_>>(),
    );
    proof = sealed.proof(net.hash(), 1, tick, tree.path(0).unwrap(), cert);
    let proof_path = dir.join("contract.txt.tcproof");
    std::fs::write(&proof_path, proof.to_json()).unwrap();
    let genesis_path = dir.join("genesis.json");
    std::fs::write(&genesis_path, net.genesis.to_json()).unwrap();

    let p = proof_path.to_str().unwrap();
    let g = genesis_path.to_str().unwrap();
    let ok = tickchain(&["verify", p, "--genesis", g, "--file", doc.to_str().unwrap()]);
    assert_eq!(ok.status.code(), Some(0), "{:?}", text(&ok));
    assert!(text(&ok).0.contains("matches the digest"));

    std::fs::write(&doc, b"the quick brown fox!\n").unwrap();
    let bad = tickchain(&["verify", p, "--genesis", g, "--file", doc.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad).1.starts_with("FAILED document_mismatch: "),
        "{:?}",
        text(&bad)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn digest_prints_the_sha256_of_the_file() {
    let dir = temp_dir("digest");
    let f = dir.join("abc.txt");
    std::fs::write(&f, b"abc").unwrap();
    let out = tickchain(&["digest", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    // FIPS 180-2 test vector for "abc".
    assert!(
        text(&out)
            .0
            .starts_with("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  ")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn convert_round_trips_between_json_and_compact_and_both_verify() {
    let dir = temp_dir("convert");
    let src = vectors().join("proofs/valid-3of4.tcproof");
    let genesis = vectors().join("genesis-4.json");
    let bin = dir.join("p.tcproof.bin");
    let json = dir.join("p.tcproof");
    let out = tickchain(&[
        "convert",
        src.to_str().unwrap(),
        "--to",
        "bin",
        "--out",
        bin.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let out = tickchain(&[
        "convert",
        bin.to_str().unwrap(),
        "--to",
        "json",
        "--out",
        json.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert_eq!(std::fs::read(&json).unwrap(), std::fs::read(&src).unwrap());
    for p in [&bin, &json] {
        let out = tickchain(&[
            "verify",
            p.to_str().unwrap(),
            "--genesis",
            genesis.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn inspect_summarises_without_claiming_verification() {
    let src = vectors().join("proofs/valid-3of4.tcproof");
    let out = tickchain(&["inspect", src.to_str().unwrap()]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.contains("NOT verified"));
    assert!(stdout.contains("height 10 view 12"));
    assert!(stdout.contains("signer   2"));
}

#[test]
fn bad_input_gets_a_specific_message_and_exit_code_2() {
    let dir = temp_dir("bad");
    let genesis = vectors().join("genesis-4.json");
    let g = genesis.to_str().unwrap();

    let missing = tickchain(&["verify", "/nonexistent/x.tcproof", "--genesis", g]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing)
            .1
            .contains("cannot read /nonexistent/x.tcproof")
    );

    let huge = dir.join("huge.tcproof");
    std::fs::write(&huge, vec![b' '; 200 * 1024]).unwrap();
    let out = tickchain(&["verify", huge.to_str().unwrap(), "--genesis", g]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out)
            .1
            .contains("proof is 204800 bytes, the limit is 131072"),
        "{:?}",
        text(&out)
    );

    let binary = dir.join("garbage.bin");
    std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x80]).unwrap();
    let out = tickchain(&["verify", binary.to_str().unwrap(), "--genesis", g]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).1.contains("neither compact binary"),
        "{:?}",
        text(&out)
    );

    let truncated = dir.join("t.tcproof.bin");
    let full = std::fs::read(vectors().join("proofs/valid-3of4.tcproof.bin")).unwrap();
    std::fs::write(&truncated, &full[..full.len() - 10]).unwrap();
    let out = tickchain(&["verify", truncated.to_str().unwrap(), "--genesis", g]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out)
            .1
            .contains("truncated at certificate.votes.signature"),
        "{:?}",
        text(&out)
    );

    // A genesis whose stated hash does not match its contents.
    let bad_genesis = dir.join("genesis.json");
    let tampered = std::fs::read_to_string(&genesis)
        .unwrap()
        .replace("node-1", "node-x");
    std::fs::write(&bad_genesis, tampered).unwrap();
    let proof = vectors().join("proofs/valid-3of4.tcproof");
    let out = tickchain(&[
        "verify",
        proof.to_str().unwrap(),
        "--genesis",
        bad_genesis.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).1.contains("genesis hash mismatch"),
        "{:?}",
        text(&out)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
