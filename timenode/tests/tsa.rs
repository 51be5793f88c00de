//! The RFC 3161 Time-Stamp Authority (`POST /v1/tsa`, issue 16) in real processes, checked by
//! stock verifiers:
//! - a ring of four nodes whose genesis pins a TSA root: `openssl ts -query` requests posted to
//!   a node come back as tokens `openssl ts -verify` accepts against the root (by query file
//!   and by data) and refuses for another document; PyPI `rfc3161-client` (strict DER, chain
//!   to the root, nonce) accepts them too; `tickchain verify` checks the tickchain proof inside
//!   the token file against genesis and the document, and refuses a tampered one; genTime is
//!   the proof's tick second and accuracy covers its certified window;
//! - bad requests get a `rejection` with the right `PKIFailureInfo` (badDataFormat, badAlg,
//!   unacceptedPolicy) in an HTTP 200 reply, never a 5xx; a wrong media type is 415 and an
//!   oversized body 413 with JSON bodies; `/metrics` counts the TSA's requests;
//! - a one-node network whose only source is a chronyd 5 s ahead issues genTime 5 s ahead of
//!   this host: the token states the node's measured time, not the host clock.
//!
//! Needs `openssl` (Debian), Debian `chrony` and root (chronyd drops privileges), and
//! `rfc3161-client` in `.venv-tests/` (`scripts/install-deps`).

#[path = "../../aggregator/tests/support/mod.rs"]
mod support;

mod ringkit;

use ringkit::{Node, setup_network, start_all, tickchain_bin, wait_until};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::{ChronyKind, Chronyd};
use tickchain_sdk::rfc3161::read::{Reply, read};
use tickchain_sdk::rfc3161::{self, POLICY};
use tickchain_sdk::{Network, Proof};
use tickchain_timenode::localnet;
use tickchain_timenode::tsa::pki::ROOT_CERT_FILE;

/// POSTs `body` with `content_type` to `url` (`http://HOST:PORT/PATH`): status, headers, body.
fn post(url: &str, content_type: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
    request("POST", url, content_type, body)
}

fn request(method: &str, url: &str, content_type: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = unchunk(&body);
    }
    (status, head, body)
}

fn unchunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&b[..line]).unwrap().trim(), 16).unwrap();
        b = &b[line + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

fn openssl(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("fixture missing: openssl (Debian package openssl)");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Posts the query file `query` in `dir` to `url` and writes the reply to `reply`.
fn ask(dir: &Path, url: &str, query: &str, reply: &str) -> Vec<u8> {
    let q = std::fs::read(dir.join(query)).unwrap();
    let (status, head, body) = post(url, "application/timestamp-query", &q);
    assert_eq!(status, 200, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/timestamp-reply"),
        "{head}"
    );
    std::fs::write(dir.join(reply), &body).unwrap();
    body
}

fn python() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv-tests/bin/python");
    assert!(
        p.exists(),
        "fixture missing: {} (run scripts/install-deps, which installs rfc3161-client)",
        p.display()
    );
    p
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn tokens_from_the_ring_verify_with_openssl_rfc3161_client_and_tickchain() {
    let root = std::env::temp_dir().join(format!("tc-tsa-{}", std::process::id()));
    let (genesis, mut nodes, _) = setup_network(&root, 4, 0, true);
    assert_eq!(genesis.version, 3);
    assert!(genesis.tsa_root.is_some());
    start_all(&mut nodes, 2, Duration::from_secs(30));
    let ca = localnet::tsa_root_dir(&root).join(ROOT_CERT_FILE);
    let ca = ca.to_str().unwrap();
    let url = |i: usize| format!("{}/v1/tsa", nodes[i].api);
    let network = Network::new(genesis.clone());
    std::fs::write(root.join("doc.txt"), b"an RFC 3161 document\n").unwrap();
    std::fs::write(root.join("other.txt"), b"another document\n").unwrap();

    // openssl builds the request (SHA-256, nonce, certReq); the reply verifies against the
    // root by query and by data, and not for another document.
    let (ok, out) = openssl(
        &root,
        &[
            "ts", "-query", "-data", "doc.txt", "-sha256", "-cert", "-out", "q.tsq",
        ],
    );
    assert!(ok, "{out}");
    let reply = ask(&root, &url(0), "q.tsq", "r.tsr");
    for check in [
        &[
            "ts",
            "-verify",
            "-in",
            "r.tsr",
            "-queryfile",
            "q.tsq",
            "-CAfile",
            ca,
        ][..],
        &[
            "ts", "-verify", "-in", "r.tsr", "-data", "doc.txt", "-CAfile", ca,
        ][..],
    ] {
        let (ok, out) = openssl(&root, check);
        assert!(ok && out.contains("Verification: OK"), "{check:?}: {out}");
    }
    let (ok, out) = openssl(
        &root,
        &[
            "ts",
            "-verify",
            "-in",
            "r.tsr",
            "-data",
            "other.txt",
            "-CAfile",
            ca,
        ],
    );
    assert!(!ok && out.contains("FAILED"), "another document: {out}");
    let (_, text) = openssl(&root, &["ts", "-reply", "-in", "r.tsr", "-text"]);
    assert!(text.contains("Status: Granted."), "{text}");
    assert!(text.contains(&format!("Policy OID: {POLICY}")), "{text}");
    assert!(text.contains("Ordering: no"), "{text}");
    assert!(
        text.contains("DirName:/O=tickchain/CN=tickchain TSA node-0"),
        "{text}"
    );

    // The token states what the proof inside proves: the digest, genTime = the tick's second,
    // and genTime ± accuracy covers the certified window.
    let (info, proof, verified) = rfc3161::verify_token(&network, &reply).unwrap();
    assert_eq!(info.gen_time, proof.tick.second.0);
    let accuracy = rfc3161::accuracy_for(info.gen_time, verified.earliest.0, verified.latest.0);
    assert_eq!(
        info.accuracy_micros,
        Some(accuracy.micros),
        "the token states the window's accuracy"
    );
    let start_ns = info.gen_time as i64 * 1_000_000_000;
    let acc_ns = accuracy.micros as i64 * 1000;
    assert!(start_ns - acc_ns <= verified.earliest.0 && verified.latest.0 <= start_ns + acc_ns);
    // openssl reads the same accuracy: "Accuracy: 0x0 seconds, 0x16 millis, 0x01F8 micros".
    let shown = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Accuracy: "))
        .unwrap_or_else(|| panic!("no accuracy in {text}"));
    let micros: u64 = shown
        .split(", ")
        .map(|part| {
            let (value, unit) = part.split_once(' ').unwrap();
            let v = u64::from_str_radix(value.trim_start_matches("0x"), 16).unwrap_or(0);
            v * match unit {
                "seconds" => 1_000_000,
                "millis" => 1000,
                _ => 1,
            }
        })
        .sum();
    assert_eq!(micros, accuracy.micros, "openssl shows {shown}");

    // tickchain verify reads the token file: the proof inside, against genesis and document.
    let cli = tickchain_bin();
    let verify = |file: &str, doc: &str| {
        Command::new(&cli)
            .current_dir(&root)
            .args(["verify", file, "--genesis", "genesis.json", "--file", doc])
            .output()
            .unwrap()
    };
    let out = verify("r.tsr", "doc.txt");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("RFC 3161 token serial"), "{stdout}");
    assert!(!verify("r.tsr", "other.txt").status.success());
    // A proof inside tampered with: one byte of a vote signature (the last 64 bytes of the
    // compact proof belong to the certificate).
    let at = reply
        .windows(info.proof.as_ref().unwrap().len())
        .position(|w| w == info.proof.as_deref().unwrap())
        .unwrap();
    let mut tampered = reply.clone();
    tampered[at + info.proof.as_ref().unwrap().len() - 10] ^= 1;
    std::fs::write(root.join("tampered.tsr"), &tampered).unwrap();
    let out = verify("tampered.tsr", "doc.txt");
    assert!(!out.status.success(), "a tampered proof inside verified");
    let (ok, _) = openssl(
        &root,
        &[
            "ts",
            "-verify",
            "-in",
            "tampered.tsr",
            "-queryfile",
            "q.tsq",
            "-CAfile",
            ca,
        ],
    );
    assert!(!ok, "openssl accepted a token whose signed TSTInfo changed");
    // The node serves the same proof for the digest at GET /v1/proofs: the TSA stamped it.
    let proof_elsewhere: Proof = match tickchain_sdk::client::Client::new(&nodes[0].api)
        .proof(&info.digest)
        .unwrap()
    {
        tickchain_sdk::client::ProofLookup::Ready(p) => *p,
        _ => panic!("node 0 has no proof for the digest it time-stamped"),
    };
    assert_eq!(proof_elsewhere, proof);

    // rfc3161-client builds its own request, and verifies the reply to the root.
    let out = Command::new(python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tsa_client.py"))
        .args([&url(1), ca])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], 0, "{v}");
    assert_eq!(v["verified"], true, "{v}");
    assert_eq!(v["other_refused"], true, "{v}");
    assert!(
        (v["gen_time"].as_f64().unwrap() - unix_now()).abs() < 10.0,
        "{v}"
    );

    // Bad requests: a PKIStatus rejection naming the failure, HTTP 200, never a 5xx.
    let rejection = |body: &[u8]| {
        let (status, head, reply) = post(&url(3), "application/timestamp-query", body);
        assert_eq!(status, 200, "{head}");
        std::fs::write(root.join("bad.tsr"), &reply).unwrap();
        let Reply::Refused { status, text } = read(&reply).unwrap() else {
            panic!("granted a bad request")
        };
        assert_eq!(status, 2);
        let (_, shown) = openssl(&root, &["ts", "-reply", "-in", "bad.tsr", "-text"]);
        (text, shown)
    };
    let (text, shown) = rejection(b"\x30\x03\x02\x01");
    assert!(
        shown.contains("Failure info: the data submitted has the wrong format"),
        "{text}: {shown}"
    );
    let (ok, out) = openssl(
        &root,
        &[
            "ts", "-query", "-data", "doc.txt", "-sha1", "-out", "sha1.tsq",
        ],
    );
    assert!(ok, "{out}");
    let (text, shown) = rejection(&std::fs::read(root.join("sha1.tsq")).unwrap());
    assert!(
        shown.contains("Failure info: unrecognized or unsupported algorithm identifier"),
        "{text}: {shown}"
    );
    let (ok, out) = openssl(
        &root,
        &[
            "ts",
            "-query",
            "-data",
            "doc.txt",
            "-sha256",
            "-tspolicy",
            "1.2.3.4",
            "-out",
            "p.tsq",
        ],
    );
    assert!(ok, "{out}");
    let (text, shown) = rejection(&std::fs::read(root.join("p.tsq")).unwrap());
    assert!(
        shown.contains("Failure info: the requested TSA policy is not supported"),
        "{text}: {shown}"
    );
    let (status, _, body) = post(&url(3), "application/json", b"{}");
    assert_eq!(status, 415);
    assert!(String::from_utf8_lossy(&body).contains("unsupported_media_type"));
    let (status, _, body) = post(&url(3), "application/timestamp-query", &[0x30; 5000]);
    assert_eq!(status, 413);
    assert!(String::from_utf8_lossy(&body).contains("body_too_large"));

    // Counted per protocol.
    let (_, _, metrics) = request(
        "GET",
        &format!("{}/metrics", nodes[3].api),
        "text/plain",
        b"",
    );
    let metrics = String::from_utf8(metrics).unwrap();
    let count = |event: &str| {
        metrics
            .lines()
            .find(|l| {
                l.starts_with(&format!(
                    "tickchain_facade_events_total{{protocol=\"tsa\",event=\"{event}\"}}"
                ))
            })
            .and_then(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no tsa {event} counter in:\n{metrics}"))
    };
    assert_eq!(count("dropped"), 3, "three rejections on node 3");
    assert_eq!(count("requests"), 3);
    for n in &mut nodes {
        n.sigterm();
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn gen_time_is_the_nodes_measured_time_not_the_host_clock() {
    let honest = Chronyd::start(ChronyKind::Honest);
    let shifted = Chronyd::start(ChronyKind::AheadBy {
        honest_port: honest.addr.port(),
        millis: 5_000,
    });
    let root = std::env::temp_dir().join(format!("tc-tsa-ahead-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let peer = ringkit::free_udp_ports(1)[0];
    let api = ringkit::free_tcp_ports(1)[0];
    let (genesis, _, _) = localnet::create_network(
        &root,
        "tsa-ahead",
        &[format!("127.0.0.1:{peer}")],
        0,
        true,
        |_| {
            format!(
                "[clock]\npoll-interval-ms = 250\n[selection]\nmin-agreeing = 1\n\
                 [[sources.ntp]]\nlabel = \"upstream\"\naddress = \"{}\"\ntimeout-ms = 200\n\
                 [api]\nlisten = \"127.0.0.1:{api}\"\n{}",
                shifted.addr,
                ringkit::UNLIMITED_API
            )
        },
        |_| String::new(),
    )
    .unwrap();
    let mut node = Node::new(localnet::node_dir(&root, 0), None);
    node.api = format!("http://127.0.0.1:{api}");
    node.start();
    wait_until("a final tick", Duration::from_secs(40), || node.top() >= 1);
    let (ok, out) = openssl(&root, &["version"]);
    assert!(ok, "{out}");
    let query =
        rfc3161::request::TsaRequest::encode(&tickchain_sdk::Digest([7; 32]), Some(42), true);
    let (status, head, reply) = post(
        &format!("{}/v1/tsa", node.api),
        "application/timestamp-query",
        &query,
    );
    let now = unix_now();
    assert_eq!(status, 200, "{head}");
    let (info, _, _) = rfc3161::verify_token(&Network::new(genesis), &reply).unwrap();
    let lead = info.gen_time as f64 - now;
    assert!(
        (3.0..=6.5).contains(&lead),
        "genTime {} is {lead:+.2} s from the host clock; expected about +5 s (whole seconds, \
         taken when the tick was final)",
        info.gen_time
    );
    node.sigterm();
    let _ = std::fs::remove_dir_all(&root);
}
