//! The one-command local network as a newcomer runs it: from a fresh directory, 4 node processes
//! finalize ticks within 10 s; a node that dies is reported, the others keep ticking; the
//! launcher stops every node it started.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn free_base_port() -> u16 {
    // Four consecutive free UDP ports: probe a few candidates.
    for _ in 0..50 {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let base = s.local_addr().unwrap().port();
        drop(s);
        if base < 65000
            && (0..4).all(|i| std::net::UdpSocket::bind(("127.0.0.1", base + i)).is_ok())
        {
            return base;
        }
    }
    panic!("no four consecutive free UDP ports on 127.0.0.1");
}

fn free_api_port() -> u16 {
    for _ in 0..50 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = l.local_addr().unwrap().port();
        drop(l);
        if base < 65000
            && (0..4).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok())
        {
            return base;
        }
    }
    panic!("no four consecutive free TCP ports on 127.0.0.1");
}

fn node_pids(line: &str) -> Vec<i32> {
    line.split_whitespace()
        .filter_map(|w| {
            w.trim_end_matches(',')
                .split_once('=')
                .and_then(|(_, p)| p.parse().ok())
        })
        .collect()
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

#[test]
fn a_fresh_network_ticks_within_10_s_reports_a_dead_node_and_stops_every_node() {
    let dir = std::env::temp_dir().join(format!("tc-testnet-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let base = free_base_port().to_string();
    let api_port = free_api_port().to_string();
    // Four free UDP ports that are not the peers' four.
    let peers = base.parse::<u16>().unwrap();
    let ntp_port = loop {
        let p = free_base_port();
        if p.abs_diff(peers) >= 4 {
            break p.to_string();
        }
    };
    let ntp = ntp_port.parse::<u16>().unwrap();
    let roughtime_port = loop {
        let p = free_base_port();
        if p.abs_diff(peers) >= 4 && p.abs_diff(ntp) >= 4 {
            break p.to_string();
        }
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_testnet"))
        .args([
            "--dir",
            dir.to_str().unwrap(),
            "--base-port",
            &base,
            "--api-port",
            &api_port,
            "--ntp-port",
            &ntp_port,
            "--roughtime-port",
            &roughtime_port,
            "--seconds",
            "20",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let launched = Instant::now();
    let (tx, rx) = mpsc::channel::<String>();
    let streams: Vec<Box<dyn std::io::Read + Send>> = vec![
        Box::new(child.stdout.take().unwrap()),
        Box::new(child.stderr.take().unwrap()),
    ];
    for stream in streams {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    drop(tx);
    let mut pids = Vec::new();
    let mut apis: Vec<String> = Vec::new();
    let mut ntps: Vec<String> = Vec::new();
    let mut roughtimes: Vec<String> = Vec::new();
    let mut tsas: Vec<String> = Vec::new();
    let mut dashboards: Vec<String> = Vec::new();
    let mut stamped = false;
    let mut first_tick = None;
    let mut killed = false;
    let mut reported = false;
    let mut heights_after_kill = Vec::new();
    let mut lines = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(30)) {
        lines.push(line.clone());
        if line.trim_start().starts_with("pids") {
            pids = node_pids(&line);
        }
        if let Some(list) = line.trim_start().strip_prefix("apis") {
            apis = list.split(',').map(|u| u.trim().to_string()).collect();
        }
        // `ntp udp://A, udp://B, …`; `roughtime udp://A, … (and TCP on the same ports)`.
        let addresses = |list: &str| -> Vec<String> {
            let list = list.split(" (").next().unwrap_or_default();
            list.split(',')
                .map(|u| u.trim().trim_start_matches("udp://").to_string())
                .collect()
        };
        if let Some(list) = line.trim_start().strip_prefix("ntp ") {
            ntps = addresses(list);
        }
        if let Some(list) = line.trim_start().strip_prefix("roughtime ") {
            roughtimes = addresses(list);
        }
        if let Some(list) = line.trim_start().strip_prefix("tsa ") {
            tsas = list.split(',').map(|u| u.trim().to_string()).collect();
        }
        if let Some(list) = line.trim_start().strip_prefix("dashboard ") {
            dashboards = list.split(',').map(|u| u.trim().to_string()).collect();
        }
        if !line.starts_with("height") {
            if killed && line.contains("node-3 exited unexpectedly") {
                reported = true;
            }
            continue;
        }
        if first_tick.is_none() {
            first_tick = Some(launched.elapsed());
        }
        if !stamped {
            // The printed API works: a digest stamped through node 0 comes back with a proof
            // that verifies against the network's genesis file.
            assert_eq!(apis.len(), 4, "the launcher prints 4 API URLs: {lines:#?}");
            let genesis = tickchain_sdk::Genesis::from_json(
                &std::fs::read_to_string(dir.join("genesis.json")).unwrap(),
            )
            .unwrap();
            let client =
                tickchain_sdk::client::Client::with_timeout(&apis[0], Duration::from_secs(15));
            let digest = tickchain_sdk::Digest([0x5a; 32]);
            match client.stamp(&[digest], true).unwrap() {
                tickchain_sdk::client::StampOutcome::Proofs(p) => {
                    tickchain_sdk::verify(&p[0], &genesis).unwrap();
                }
                other => panic!("expected a proof, got {other:?}"),
            }
            // The printed NTP servers answer a client request on loopback.
            assert_eq!(
                ntps.len(),
                4,
                "the launcher prints 4 NTP addresses: {lines:#?}"
            );
            let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
            let mut request = [0u8; 48];
            request[0] = 4 << 3 | 3;
            sock.send_to(&request, &ntps[0]).unwrap();
            let mut reply = [0u8; 100];
            let n = sock.recv(&mut reply).expect("an NTP reply from node 0");
            assert_eq!(
                (n, reply[0] & 7, reply[1]),
                (48, 4, 2),
                "a stratum-2 server reply"
            );
            // The printed Roughtime servers answer under their genesis keys.
            assert_eq!(roughtimes.len(), 4, "4 Roughtime addresses: {lines:#?}");
            use tickchain_sdk::roughtime::{VERSIONS, request, response};
            let mut req = Vec::new();
            request::build(&mut req, &VERSIONS, &[0x42; 32], None);
            sock.send_to(&req, &roughtimes[1]).unwrap();
            let mut resp = [0u8; 2048];
            let n = sock.recv(&mut resp).expect("a Roughtime reply from node 1");
            response::verify(&resp[..n], &req, &genesis.nodes[1].public_key.0)
                .expect("node 1's answer verifies under its genesis key");
            // The printed TSA grants a token whose proof verifies against genesis, and the
            // printed dashboard is served.
            assert_eq!(tsas.len(), 4, "4 TSA URLs: {lines:#?}");
            let query = tickchain_sdk::rfc3161::request::TsaRequest::encode(
                &tickchain_sdk::Digest([0x6b; 32]),
                Some(7),
                true,
            );
            let reply = post_der(&tsas[2], &query);
            tickchain_sdk::rfc3161::verify_token(
                &tickchain_sdk::Network::new(genesis.clone()),
                &reply,
            )
            .expect("node 2's token carries a proof that verifies");
            assert_eq!(dashboards.len(), 4, "4 dashboard URLs: {lines:#?}");
            let page = tickchain_sdk::client::Client::new(dashboards[0].trim_end_matches('/'))
                .get_text("/")
                .unwrap();
            assert!(page.contains("/dashboard/app.js"), "{page}");
            stamped = true;
        }
        if !killed {
            // Kill node 3 without warning; the other three are a quorum.
            assert_eq!(pids.len(), 4, "the launcher prints 4 pids: {lines:#?}");
            Command::new("kill")
                .args(["-KILL", &pids[3].to_string()])
                .status()
                .unwrap();
            killed = true;
            continue;
        }
        let h: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        heights_after_kill.push(h);
    }
    let status = child.wait().unwrap();
    let first = first_tick.unwrap_or_else(|| panic!("no tick; output: {lines:#?}"));
    assert!(
        first <= Duration::from_secs(10),
        "first final tick after {first:?}"
    );
    assert!(reported, "the dead node is reported: {lines:#?}");
    let first_h = heights_after_kill.first().copied().unwrap_or(0);
    let last_h = heights_after_kill.last().copied().unwrap_or(0);
    assert!(
        last_h >= first_h + 5,
        "3 of 4 nodes keep ticking: {heights_after_kill:?}"
    );
    assert_eq!(
        status.code(),
        Some(1),
        "a crashed node makes the launcher exit 1"
    );
    for pid in &pids {
        assert!(
            !alive(*pid),
            "node pid {pid} still running after the launcher stopped"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// POSTs a DER time-stamp query to `url` (`http://HOST:PORT/PATH`) and returns the reply body.
fn post_der(url: &str, body: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let (host, path) = url
        .strip_prefix("http://")
        .unwrap()
        .split_once('/')
        .unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/timestamp-query\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    assert!(
        raw.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&raw)
    );
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    raw[split + 4..].to_vec()
}
