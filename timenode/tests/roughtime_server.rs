//! The node's Roughtime server (draft-19 / RFC 10049 over UDP) from a client's side. A one-node
//! network whose only time source is a chronyd serving time 5 s ahead, so a correct answer is
//! the node's measured time and not the host clock:
//! - a response verifies under the node's genesis key (our client's checks, draft §5.4), for
//!   version 1 and for the draft; its MIDP is the host clock + 5 s and MIDP ± RADI covers it;
//!   it names the latest final tick inside SREP;
//! - requests sent together share one signature (a Merkle batch) and each proves its own leaf;
//! - over TCP, pipelined requests get framed answers in order; garbage, a client trickling
//!   bytes past the packet deadline, and a fifth connection from one address are closed;
//! - requests the draft says to ignore get nothing: too short, TYPE 1, another server's SRV;
//!   no response is larger than its request;
//! - the stock client `roughenough_client` 2.2 validates the answer with the node's key and
//!   fails with another key;
//! - `tickchain roughtime` chains its queries: one node twice is consistent; the node 5 s ahead
//!   followed by an honest node is malfeasance, with a report whose every answer re-verifies and
//!   whose nonces chain; a wrong key gets no answer; the stock `roughenough_server` 2.2 alone
//!   and chained with the honest node validates and is consistent.
//!
//! Needs Debian `chrony` and root (chronyd drops privileges), and `roughenough_client` and
//! `roughenough_server` 2.2 on the PATH or in `~/.cargo/bin` (`scripts/install-deps` installs
//! them from crates.io).

#[path = "../../aggregator/tests/support/mod.rs"]
mod support;

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::{ChronyKind, Chronyd, TempDir, free_udp_port};
use tickchain_sdk::roughtime::response::{ResponseError, verify};
use tickchain_sdk::roughtime::wire::{Message, unframe};
use tickchain_sdk::roughtime::{VERSION_1, VERSION_DRAFT, chain, request, tags};
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

/// An installed binary, from the PATH or cargo's bin directory (`package` names what
/// `scripts/install-deps` installs).
fn installed(name: &str, package: &str) -> PathBuf {
    let cargo_bin =
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin").join(name));
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .chain(cargo_bin)
        .find(|p| p.exists());
    found.unwrap_or_else(|| {
        panic!(
            "fixture missing: {name} (run scripts/install-deps, which runs \
             `cargo install --locked {package}`)"
        )
    })
}

fn roughenough_client() -> PathBuf {
    installed("roughenough_client", "roughenough-client@2.2.0")
}

/// A one-node network whose only source is the chronyd at `upstream`, serving Roughtime.
struct RoughNode {
    _process: Killed,
    root: TempDir,
    server: SocketAddr,
    tcp: SocketAddr,
    key: [u8; 32],
}

impl RoughNode {
    fn start(label: &str, upstream: SocketAddr) -> RoughNode {
        let root = TempDir::new(label);
        let rt_port = free_udp_port();
        let peer_port = free_udp_port();
        let tcp_port = |_| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };
        let (api_port, rt_tcp_port) = (tcp_port(0), tcp_port(1));
        let (genesis, _) = localnet::create(
            &root.0,
            label,
            &[format!("127.0.0.1:{peer_port}")],
            |_| {
                format!(
                    "[clock]\npoll-interval-ms = 250\n[selection]\nmin-agreeing = 1\n\
                     [[sources.ntp]]\nlabel = \"upstream\"\naddress = \"{upstream}\"\ntimeout-ms = 200\n\
                     [api]\nlisten = \"127.0.0.1:{api_port}\"\n\
                     [roughtime]\nlisten = \"127.0.0.1:{rt_port}\"\nmin-interval-ms = 0\n\
                     tcp-listen = \"127.0.0.1:{rt_tcp_port}\"\ntcp-idle-ms = 1000\n"
                )
            },
        )
        .unwrap();
        let log = std::fs::File::create(root.0.join("node.log")).unwrap();
        let process = Killed(
            Command::new(env!("CARGO_BIN_EXE_timenode"))
                .args(["run", "--config"])
                .arg(localnet::node_dir(&root.0, 0).join("node.toml"))
                .env("RUST_LOG", "info")
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap(),
        );
        RoughNode {
            _process: process,
            server: SocketAddr::from(([127, 0, 0, 1], rt_port)),
            tcp: SocketAddr::from(([127, 0, 0, 1], rt_tcp_port)),
            key: genesis.nodes[0].public_key.0,
            root,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.root.0.join("node.log")).unwrap_or_default()
    }

    /// `HOST:PORT,KEYHEX` for `tickchain roughtime`.
    fn arg(&self) -> String {
        let hex: String = self.key.iter().map(|b| format!("{b:02x}")).collect();
        format!("{},{hex}", self.server)
    }
}

/// `tickchain roughtime ARGS...` in `dir`: exit code and stdout.
fn tickchain_roughtime(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_timenode")).with_file_name("tickchain");
    assert!(
        bin.exists(),
        "expected the tickchain CLI at {} (cargo build -p tickchain-sdk --bin tickchain)",
        bin.display()
    );
    let out = Command::new(bin)
        .current_dir(dir)
        .arg("roughtime")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn the_nodes_roughtime_answers_verify_carry_its_measured_time_and_interoperate() {
    let honest = Chronyd::start(ChronyKind::Honest);
    let shifted = Chronyd::start(ChronyKind::AheadBy {
        honest_port: honest.addr.port(),
        millis: 5_000,
    });
    let ahead = RoughNode::start("roughtime-ahead", shifted.addr);
    let on_time = RoughNode::start("roughtime-honest", honest.addr);
    let (server, key) = (ahead.server, ahead.key);
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
            ahead.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(v.version, VERSION_1);
    let now = unix_now();
    // The node's measured time is 5 s ahead of this host: MIDP shows it, and MIDP ± RADI
    // covers the node's time (within this test's own second of slack for the round trip).
    let lead = v.midp as f64 - now;
    assert!(
        (4.0..=6.0).contains(&lead),
        "MIDP {} is {lead:+.2} s from the host clock; expected +5 s",
        v.midp
    );
    assert!(
        v.radi >= 1 && (v.midp as f64 - f64::from(v.radi) - 1.0) <= now + 5.0,
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

    // TCP: two requests pipelined on one connection get two framed answers, in order, that
    // verify; bytes that are not a request packet close the connection.
    {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(ahead.tcp).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let reqs: Vec<Vec<u8>> = (0..2)
            .map(|i| {
                let mut r = Vec::new();
                request::build(
                    &mut r,
                    &[VERSION_1, VERSION_DRAFT],
                    &nonce(3_000 + i),
                    Some(&key),
                );
                r
            })
            .collect();
        stream
            .write_all(&[reqs[0].clone(), reqs[1].clone()].concat())
            .unwrap();
        for r in &reqs {
            let mut header = [0u8; 12];
            stream.read_exact(&mut header).unwrap();
            let len = u32::from_le_bytes(header[8..12].try_into().unwrap()) as usize;
            let mut resp = header.to_vec();
            resp.resize(12 + len, 0);
            stream.read_exact(&mut resp[12..]).unwrap();
            let v = verify(&resp, r, &key).expect("a TCP answer verifies, in request order");
            assert_eq!(v.version, VERSION_1);
        }
        stream.write_all(&[0x55; 1024]).unwrap();
        let mut rest = Vec::new();
        let n = stream.read_to_end(&mut rest).unwrap_or(0);
        assert_eq!(n, 0, "garbage gets no answer and the connection is closed");

        // A client trickling a request a byte at a time is cut off at the packet deadline
        // (tcp-idle-ms = 1000 here), however steadily it trickles.
        let mut slow = std::net::TcpStream::connect(ahead.tcp).unwrap();
        let began = Instant::now();
        let mut closed = false;
        for b in reqs[0].iter().take(40) {
            std::thread::sleep(Duration::from_millis(100));
            if slow.write_all(&[*b]).is_err() {
                closed = true;
                break;
            }
        }
        slow.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut one = [0u8; 1];
        closed |= match slow.read(&mut one) {
            Ok(0) => true,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
            Ok(_) => false,
        };
        assert!(
            closed && began.elapsed() < Duration::from_secs(6),
            "slowloris not cut off"
        );

        // One address holds at most 4 connections: a fifth is closed at once.
        let held: Vec<std::net::TcpStream> = (0..4)
            .map(|_| std::net::TcpStream::connect(ahead.tcp).unwrap())
            .collect();
        std::thread::sleep(Duration::from_millis(200));
        let mut fifth = std::net::TcpStream::connect(ahead.tcp).unwrap();
        fifth
            .set_read_timeout(Some(Duration::from_millis(900)))
            .unwrap();
        let t = Instant::now();
        assert!(
            matches!(fifth.read(&mut one), Ok(0)) && t.elapsed() < Duration::from_millis(800),
            "a fifth connection from one address is closed at once"
        );
        drop(held);
    }

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
            .args(["127.0.0.1", &server.port().to_string(), "-k", k])
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

    // Our chaining client: one server twice is consistent.
    let dir = TempDir::new("roughtime-client");
    let wait_answer = |node: &RoughNode| {
        let deadline = Instant::now() + Duration::from_secs(40);
        let mut r = Vec::new();
        request::build(&mut r, &[VERSION_1], &nonce(u64::MAX), None);
        while ask(&sock, node.server, &r).is_none() {
            assert!(Instant::now() < deadline, "no answer; log:\n{}", node.log());
        }
    };
    wait_answer(&on_time);
    let (code, out) = tickchain_roughtime(&dir.0, &[&ahead.arg()]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("consistent: 2 signed answers from 1 servers"),
        "{out}"
    );
    // The node 5 s ahead, then an honest one: the first answer's earliest time is after the
    // second's latest (5 s apart, more than the two radii of 1 s). The report holds every signed answer, and anyone can re-check it.
    let (code, out) = tickchain_roughtime(&dir.0, &[&ahead.arg(), &on_time.arg()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("malfeasance: answer 1 "), "{out}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.0.join("roughtime-malfeasance.json")).unwrap(),
    )
    .unwrap();
    let entries = report["responses"].as_array().unwrap();
    assert_eq!(entries.len(), 4, "2 rounds over 2 servers");
    let b64 = |v: &serde_json::Value| chain::from_base64(v.as_str().unwrap()).unwrap();
    let mut previous: Option<Vec<u8>> = None;
    for e in entries {
        let (rand, key, req, resp) = (
            b64(&e["rand"]),
            b64(&e["publicKey"]),
            b64(&e["request"]),
            b64(&e["response"]),
        );
        let key: [u8; 32] = key.try_into().unwrap();
        verify(&resp, &req, &key).expect("each reported answer is validly signed");
        let rand: [u8; 32] = rand.try_into().unwrap();
        let expected = match &previous {
            None => rand,
            Some(p) => chain::next_nonce(p, &rand),
        };
        let m = Message::parse(unframe(&req).unwrap()).unwrap();
        assert_eq!(
            m.get(tags::NONC).unwrap(),
            &expected[..],
            "the nonces chain"
        );
        previous = Some(resp);
    }
    // A node named from its genesis file.
    let genesis = ahead.root.0.join("genesis.json");
    let (code, out) = tickchain_roughtime(
        &dir.0,
        &[
            &format!("{},node-0", ahead.server),
            "--genesis",
            genesis.to_str().unwrap(),
            "--rounds",
            "1",
        ],
    );
    assert_eq!(code, Some(0), "{out}");
    // A wrong key is never a pass: the client names the key it expects (SRV), and the node
    // ignores a request for a key it does not hold.
    let wrong = format!("{},{}", on_time.server, "cd".repeat(32));
    let (code, out) =
        tickchain_roughtime(&dir.0, &[&wrong, "--rounds", "1", "--timeout-ms", "300"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("no answer") && out.contains("no server answered"),
        "{out}"
    );
    // Our client against the stock roughenough_server 2.2, alone and chained with our honest
    // node: every answer validates and the chain is consistent.
    let stock = StockServer::start(&dir.0);
    let (code, out) = tickchain_roughtime(&dir.0, &[&stock.arg()]);
    assert_eq!(code, Some(0), "{out}\n{}", stock.log());
    assert!(
        out.contains("version 0x1"),
        "roughenough answers version 1: {out}"
    );
    let (code, out) = tickchain_roughtime(&dir.0, &[&stock.arg(), &on_time.arg()]);
    assert_eq!(code, Some(0), "{out}");
}

/// The stock `roughenough_server` 2.2 on a free loopback port, with a fixed seed; its long-term
/// key is read from its log.
struct StockServer {
    _process: Killed,
    log: PathBuf,
    port: u16,
    key: String,
}

impl StockServer {
    fn start(dir: &std::path::Path) -> StockServer {
        let bin = installed("roughenough_server", "roughenough-server@2.2.0");
        let seed = dir.join("stock.seed");
        std::fs::write(&seed, format!("seed://{}", "11".repeat(32))).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&seed, std::fs::Permissions::from_mode(0o600)).unwrap();
        let port = free_udp_port();
        let log = dir.join("stock.log");
        let process = Killed(
            Command::new(bin)
                .args([
                    "-i",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "-j",
                    "1",
                    "--seed-file",
                ])
                .arg(&seed)
                .env("NO_COLOR", "1")
                .stdout(std::fs::File::create(&log).unwrap())
                .stderr(std::fs::File::create(dir.join("stock.err")).unwrap())
                .spawn()
                .unwrap(),
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        let key = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default()
                + &std::fs::read_to_string(dir.join("stock.err")).unwrap_or_default();
            if let Some(k) = text
                .split("Long term public key: PUBK(")
                .nth(1)
                .and_then(|rest| rest.get(..64))
            {
                break k.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "roughenough_server printed no key: {text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        StockServer {
            _process: process,
            log,
            port,
            key,
        }
    }

    fn arg(&self) -> String {
        format!("127.0.0.1:{},{}", self.port, self.key)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}
