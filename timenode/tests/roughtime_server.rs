//! The node's Roughtime server (draft-19 / RFC 10049 over UDP) from a client's side. A one-node
//! network whose only time source is a chronyd serving time 3 s ahead, so a correct answer is
//! the node's measured time and not the host clock:
//! - a response verifies under the node's genesis key (our client's checks, draft §5.4), for
//!   version 1 and for the draft; its MIDP is the host clock + 3 s and MIDP ± RADI covers it;
//!   it names the latest final tick inside SREP;
//! - requests sent together share one signature (a Merkle batch) and each proves its own leaf;
//! - requests the draft says to ignore get nothing: too short, TYPE 1, another server's SRV;
//!   no response is larger than its request;
//! - the stock client `roughenough_client` 2.2 validates the answer with the node's key and
//!   fails with another key.
//!
//! Needs Debian `chrony` and root (chronyd drops privileges) and `roughenough_client` on the
//! PATH or in `~/.cargo/bin` (`scripts/install-deps` installs it from crates.io).

#[path = "../../aggregator/tests/support/mod.rs"]
mod support;

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::{ChronyKind, Chronyd, TempDir, free_udp_port};
use tickchain_aggregator::roughtime::response::{ResponseError, verify};
use tickchain_aggregator::roughtime::wire::{Message, unframe};
use tickchain_aggregator::roughtime::{VERSION_1, VERSION_DRAFT, request, tags};
use tickchain_timenode::localnet;

/// A child process killed by pid on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Sends `packet` and returns the reply, or `None` after the socket's timeout.
fn ask(sock: &UdpSocket, server: SocketAddr, packet: &[u8]) -> Option<Vec<u8>> {
    sock.send_to(packet, server).unwrap();
    let mut buf = [0u8; 2048];
    let n = sock.recv(&mut buf).ok()?;
    Some(buf[..n].to_vec())
}

fn nonce(k: u64) -> [u8; 32] {
    *blake3::hash(&k.to_be_bytes()).as_bytes()
}

/// `roughenough_client`, from the PATH or cargo's bin directory.
fn roughenough_client() -> PathBuf {
    let cargo_bin =
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/roughenough_client"));
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("roughenough_client"))
        .chain(cargo_bin)
        .find(|p| p.exists());
    found.unwrap_or_else(|| {
        panic!(
            "fixture missing: roughenough_client (run scripts/install-deps, which runs \
             `cargo install --locked roughenough-client@2.2.0`)"
        )
    })
}

#[test]
fn the_nodes_roughtime_answers_verify_carry_its_measured_time_and_interoperate() {
    let honest = Chronyd::start(ChronyKind::Honest);
    let _shifted = Chronyd::start(ChronyKind::AheadBy {
        honest_port: honest.addr.port(),
        millis: 3_000,
    });
    let upstream = _shifted.addr;
    let root = TempDir::new("roughtime-node");
    let rt_port = free_udp_port();
    let server = SocketAddr::from(([127, 0, 0, 1], rt_port));
    let peer_port = free_udp_port();
    let api_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (genesis, _) = localnet::create(
        &root.0,
        "roughtime-test",
        &[format!("127.0.0.1:{peer_port}")],
        |_| {
            format!(
                "[clock]\npoll-interval-ms = 250\n[selection]\nmin-agreeing = 1\n\
                 [[sources.ntp]]\nlabel = \"ahead-3s\"\naddress = \"{upstream}\"\ntimeout-ms = 200\n\
                 [api]\nlisten = \"127.0.0.1:{api_port}\"\n\
                 [roughtime]\nlisten = \"127.0.0.1:{rt_port}\"\nmin-interval-ms = 0\n"
            )
        },
    )
    .unwrap();
    let key = genesis.nodes[0].public_key.0;
    let log = std::fs::File::create(root.0.join("node.log")).unwrap();
    let _node = Killed(
        Command::new(env!("CARGO_BIN_EXE_timenode"))
            .args(["run", "--config"])
            .arg(localnet::node_dir(&root.0, 0).join("node.toml"))
            .env("RUST_LOG", "info")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();

    // Once synchronised (and a tick is final), version 1 answers verify under the genesis key.
    let mut req = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut k = 0;
    let v = loop {
        k += 1;
        request::build(&mut req, &[VERSION_1, VERSION_DRAFT], &nonce(k), Some(&key));
        if let Some(resp) = ask(&sock, server, &req) {
            assert!(resp.len() <= req.len(), "never larger than the request");
            let v = verify(&resp, &req, &key).unwrap();
            if v.tick.is_some() {
                break v;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no Roughtime answer naming a tick within 40 s; the node's log:\n{}",
            std::fs::read_to_string(root.0.join("node.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(v.version, VERSION_1);
    let now = unix_now();
    // The node's measured time is 3 s ahead of this host: MIDP shows it, and MIDP ± RADI
    // covers the node's time (within this test's own second of slack for the round trip).
    let ahead = v.midp as f64 - now;
    assert!(
        (2.0..=4.0).contains(&ahead),
        "MIDP {} is {ahead:+.2} s from the host clock; expected +3 s",
        v.midp
    );
    assert!(
        v.radi >= 1 && (v.midp as f64 - f64::from(v.radi) - 1.0) <= now + 3.0,
        "RADI {} too small",
        v.radi
    );
    assert!(
        v.radi <= 2,
        "a declared ±20 ms interval gives RADI 1 or 2, got {}",
        v.radi
    );
    assert!(v.mint <= v.midp && v.midp <= v.maxt && v.maxt - v.mint < 86_400);
    let tick = v.tick.unwrap();
    assert!(tick.height >= 1 && tick.second <= v.midp + 1);

    // The draft, and another key.
    request::build(&mut req, &[VERSION_DRAFT], &nonce(1_000), None);
    let resp = ask(&sock, server, &req).expect("a draft answer");
    assert_eq!(verify(&resp, &req, &key).unwrap().version, VERSION_DRAFT);
    assert_eq!(
        verify(&resp, &req, &[7; 32]),
        Err(ResponseError::Delegation)
    );

    // Requests sent together share one signature; each proves its own leaf.
    let mut batched = false;
    for round in 0..5u64 {
        let reqs: Vec<Vec<u8>> = (0..40)
            .map(|i| {
                let mut r = Vec::new();
                request::build(&mut r, &[VERSION_1], &nonce(10_000 + round * 100 + i), None);
                r
            })
            .collect();
        for r in &reqs {
            sock.send_to(r, server).unwrap();
        }
        let mut by_nonce = std::collections::HashMap::new();
        let mut buf = [0u8; 2048];
        while let Ok(n) = sock.recv(&mut buf) {
            let m = Message::parse(unframe(&buf[..n]).unwrap()).unwrap();
            by_nonce.insert(m.get(tags::NONC).unwrap().to_vec(), buf[..n].to_vec());
        }
        let mut signatures = std::collections::HashSet::new();
        for r in &reqs {
            let m = Message::parse(unframe(r).unwrap()).unwrap();
            let resp = by_nonce
                .get(m.get(tags::NONC).unwrap())
                .expect("every request of the burst is answered");
            verify(resp, r, &key).unwrap();
            let rm = Message::parse(unframe(resp).unwrap()).unwrap();
            signatures.insert(rm.get(tags::SIG).unwrap().to_vec());
        }
        if signatures.len() < reqs.len() {
            batched = true;
            break;
        }
    }
    assert!(
        batched,
        "40 requests sent together never shared a signature"
    );

    // Ignored: too short, TYPE 1, another server's SRV (no reply at all).
    request::build(&mut req, &[VERSION_1], &nonce(2_000), None);
    assert!(
        ask(&sock, server, &req[..1000]).is_none(),
        "short request answered"
    );
    request::build(&mut req, &[VERSION_1], &nonce(2_001), Some(&[9; 32]));
    assert!(
        ask(&sock, server, &req).is_none(),
        "another server's SRV answered"
    );

    // The stock client: validates with the node's key, fails with another.
    let client = roughenough_client();
    let hex_key: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let run = |k: &str| {
        Command::new(&client)
            .args(["127.0.0.1", &rt_port.to_string(), "-k", k])
            .output()
            .unwrap()
    };
    let ok = run(&hex_key);
    assert!(
        ok.status.success(),
        "roughenough_client refused our answer: {}{}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );
    let other: String = "ab".repeat(32);
    let bad = run(&other);
    assert!(
        !bad.status.success(),
        "roughenough_client accepted our answer under another key: {}",
        String::from_utf8_lossy(&bad.stdout)
    );
}
