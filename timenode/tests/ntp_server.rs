//! The node's NTP server (RFC 5905 server mode) against stock clients and real chronyd
//! upstreams. A one-node network whose only time source is a chronyd serving time 200 ms ahead
//! (so the answers are the node's measured time, not the host clock):
//! - a real `chronyd -x` configured with only our server selects it and reads +200 ± 1 ms;
//! - PyPI `ntplib` reads +200 ms, a stratum one above the upstream's, and a root dispersion
//!   that covers the error;
//! - one abusive client gets its burst, one RATE kiss-o'-death, then silence, while others
//!   are still answered; no reply is larger than its request, and non-client packets get none;
//! - once the node's source is gone (the node unsynchronised), it answers nothing and chronyd
//!   stops using it.
//!
//! Needs Debian `chrony` and root (chronyd drops privileges), and `ntplib` in `.venv-tests/`
//! (`scripts/install-deps`).

#[path = "../../aggregator/tests/support/mod.rs"]
mod support;

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::{ChronyKind, Chronyd, TempDir, chrony_ids, free_udp_port};
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

fn ntp_seconds(b: &[u8]) -> f64 {
    let secs = u32::from_be_bytes(b[0..4].try_into().unwrap()) as f64;
    let frac = u32::from_be_bytes(b[4..8].try_into().unwrap()) as f64 / 4_294_967_296.0;
    secs + frac - 2_208_988_800.0
}

/// One request from `sock`; the reply and the client's offset (s), or `None` without a reply.
fn query(sock: &UdpSocket, server: SocketAddr) -> Option<(Vec<u8>, f64)> {
    let mut req = [0u8; 48];
    req[0] = 4 << 3 | 3;
    let t1 = unix_now();
    let secs = (t1 + 2_208_988_800.0) as u64;
    let frac = (((t1 + 2_208_988_800.0) - secs as f64) * 4_294_967_296.0) as u64;
    req[40..48].copy_from_slice(&((secs << 32) | frac).to_be_bytes());
    sock.send_to(&req, server).unwrap();
    let mut buf = [0u8; 512];
    let n = sock.recv(&mut buf).ok()?;
    let t4 = unix_now();
    let (t2, t3) = (ntp_seconds(&buf[32..40]), ntp_seconds(&buf[40..48]));
    Some((buf[..n].to_vec(), ((t2 - t1) + (t3 - t4)) / 2.0))
}

fn python() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv-tests/bin/python");
    assert!(
        p.exists(),
        "fixture missing: {} (run scripts/install-deps, which installs ntplib)",
        p.display()
    );
    p
}

/// ntplib's reading of `server`: (offset s, stratum, root dispersion s).
fn ntplib(server: SocketAddr) -> (f64, u64, f64) {
    let script = format!(
        "import json, ntplib\n\
         r = ntplib.NTPClient().request('{}', version=4, port={}, timeout=3)\n\
         print(json.dumps([r.offset, r.stratum, r.root_dispersion]))\n",
        server.ip(),
        server.port()
    );
    let out = Command::new(python())
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ntplib failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        v[0].as_f64().unwrap(),
        v[1].as_u64().unwrap(),
        v[2].as_f64().unwrap(),
    )
}

/// A chronyd that only reads time from `server` and never touches the host clock.
struct ChronyClient {
    _process: Killed,
    dir: TempDir,
}

impl ChronyClient {
    fn start(server: SocketAddr) -> ChronyClient {
        let dir = TempDir::new("chrony-client");
        // chronyd opens its command socket only in a directory of its own user and group.
        let (uid, gid) = chrony_ids();
        std::os::unix::fs::chown(&dir.0, Some(uid), Some(gid)).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o770)).unwrap();
        let conf = dir.0.join("client.conf");
        std::fs::write(
            &conf,
            format!(
                "server {} port {} iburst minpoll -2 maxpoll -2\nport 0\ncmdport 0\n\
                 bindcmdaddress {}/chronyd.sock\npidfile {}/chronyd.pid\n",
                server.ip(),
                server.port(),
                dir.0.display(),
                dir.0.display()
            ),
        )
        .unwrap();
        let child = Command::new("/usr/sbin/chronyd")
            .args(["-x", "-d", "-f"])
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        ChronyClient {
            _process: Killed(child),
            dir,
        }
    }

    /// How far chronyd finds the host clock behind the time it synchronised to (s): its
    /// `chronyc -c tracking` "system time" (chronyd `-x` keeps that correction to itself).
    fn system_time(&self) -> Option<f64> {
        let out = Command::new("chronyc")
            .args(["-c", "-h"])
            .arg(self.dir.0.join("chronyd.sock"))
            .arg("tracking")
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines().next()?.split(',').nth(4)?.parse().ok()
    }

    /// What `chronyc sources`, `tracking` and `ntpdata` say, for a failure message.
    fn report(&self) -> String {
        ["sources", "tracking", "ntpdata"]
            .iter()
            .map(|c| {
                let out = Command::new("chronyc")
                    .arg("-h")
                    .arg(self.dir.0.join("chronyd.sock"))
                    .arg(c)
                    .output()
                    .map(|o| {
                        format!(
                            "{}{}",
                            String::from_utf8_lossy(&o.stdout),
                            String::from_utf8_lossy(&o.stderr)
                        )
                    })
                    .unwrap_or_else(|e| e.to_string());
                format!("chronyc {c}:\n{out}")
            })
            .collect()
    }

    /// Our server's line in `chronyc -c sources`: (state, offset s), if chronyc answers.
    fn source(&self) -> Option<(String, f64)> {
        let out = Command::new("chronyc")
            .args(["-c", "-h"])
            .arg(self.dir.0.join("chronyd.sock"))
            .arg("sources")
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let f: Vec<&str> = text.lines().next()?.split(',').collect();
        Some((f.get(1)?.to_string(), f.get(8)?.parse().ok()?))
    }
}

fn wait_for<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn stock_clients_read_the_nodes_measured_time_and_an_abuser_is_kissed() {
    let honest = Chronyd::start(ChronyKind::Honest);
    let mut shifted = Chronyd::start(ChronyKind::AheadBy {
        honest_port: honest.addr.port(),
        millis: 200,
    });
    let root = TempDir::new("ntp-node");
    let ntp_port = free_udp_port();
    let server = SocketAddr::from(([127, 0, 0, 1], ntp_port));
    let peer_port = free_udp_port();
    let api_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let upstream = shifted.addr;
    localnet::create(
        &root.0,
        "ntp-test",
        &[format!("127.0.0.1:{peer_port}")],
        |_| {
            format!(
                "[clock]\npoll-interval-ms = 250\n[selection]\nmin-agreeing = 1\n\
                 [[sources.ntp]]\nlabel = \"ahead-200ms\"\naddress = \"{upstream}\"\ntimeout-ms = 200\n\
                 [api]\nlisten = \"127.0.0.1:{api_port}\"\n\
                 [ntp]\nlisten = \"127.0.0.1:{ntp_port}\"\nmin-interval-ms = 100\nburst = 16\n"
            )
        },
    )
    .unwrap();
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

    // The node answers once its clock has synchronised, with its measured time: +200 ms.
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let (reply, offset) = loop {
        if let Some(r) = query(&sock, server) {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "no NTP answer within 30 s; the node's log:\n{}",
            std::fs::read_to_string(root.0.join("node.log")).unwrap_or_default()
        );
    };
    assert_eq!(reply.len(), 48);
    assert_eq!(reply[0] & 0x07, 4, "server mode");
    assert_eq!(reply[0] >> 6, 0, "no leap second, synchronised");
    assert_eq!(&reply[12..16], b"TICK");
    assert!(
        (offset - 0.2).abs() < 0.005,
        "raw client reads {offset} s, expected +0.200"
    );

    // ntplib: the same time, one stratum below the upstream, and a root dispersion that is
    // the node's own interval (as its signed time statement gives it) seen from the estimate.
    let api = tickchain_sdk::client::Client::new(&format!("http://127.0.0.1:{api_port}"));
    let width = || {
        let s = api
            .time(&tickchain_sdk::time_response::Nonce(vec![7; 16]))
            .unwrap()
            .statement;
        (s.latest.0 - s.earliest.0) as f64 / 1e9
    };
    let (up_offset, up_stratum, _) = ntplib(upstream);
    let before = width();
    let (ours, stratum, dispersion) = ntplib(server);
    let after = width();
    assert!(
        (up_offset - 0.2).abs() < 0.005,
        "upstream reads {up_offset}"
    );
    assert!(
        (ours - 0.2).abs() < 0.005,
        "ntplib reads {ours} s from the node"
    );
    assert_eq!(stratum, up_stratum + 1, "one stratum above the best source");
    assert!(
        dispersion >= before.min(after) / 2.0 - 0.000_02 && dispersion <= before.max(after) + 0.001,
        "root dispersion {dispersion} s is not the node's interval seen from its estimate \
         (interval width {before} s then {after} s)"
    );
    assert!(
        (ours - up_offset).abs() <= dispersion + 0.002,
        "the upstream's time {up_offset} lies within the stated bound {ours} ± {dispersion}"
    );

    // A real chronyd with only this server selects it and reads +200 ± 1 ms.
    let client = ChronyClient::start(server);
    let deadline = Instant::now() + Duration::from_secs(40);
    let chrony_offset = loop {
        if client.source().is_some_and(|(state, _)| state == "*")
            && let Some(offset) = client.system_time()
            && offset.abs() > 0.1
        {
            break offset;
        }
        assert!(
            Instant::now() < deadline,
            "chronyd did not select the node within 40 s: {}",
            client.report()
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(
        (chrony_offset - 0.2).abs() <= 0.001,
        "chronyd reads {chrony_offset} s, expected +0.200 ± 0.001 (now: raw client {:?}, ntplib {:?}, upstream {:?}): {}",
        query(&sock, server).map(|q| q.1),
        ntplib(server),
        ntplib(upstream),
        client.report()
    );

    // One abusive client (127.0.0.2) gets its burst, one RATE kiss, then nothing.
    let abuser = UdpSocket::bind("127.0.0.2:0").unwrap();
    abuser
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut request = [0u8; 48];
    request[0] = 4 << 3 | 3;
    request[40..48].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]);
    for _ in 0..40 {
        abuser.send_to(&request, server).unwrap();
    }
    let (mut answers, mut kisses) = (0, 0);
    let mut buf = [0u8; 512];
    while let Ok(n) = abuser.recv(&mut buf) {
        assert_eq!(n, 48, "never more bytes than the request");
        assert_eq!(&buf[24..32], &request[40..48], "origin echoes the request");
        if buf[1] == 0 && &buf[12..16] == b"RATE" {
            assert_eq!(buf[0] >> 6, 3, "a kiss has leap indicator 3");
            assert_ne!(
                &buf[40..48],
                &[0u8; 8],
                "a kiss has a transmit timestamp (ntpd)"
            );
            kisses += 1;
        } else {
            answers += 1;
        }
    }
    assert_eq!((answers, kisses), (16, 1), "burst, one kiss, then silence");
    assert!(
        query(&sock, server).is_some(),
        "other clients are still answered"
    );

    // Short datagrams and server-mode packets get nothing; a long request gets 48 bytes.
    abuser
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let other = UdpSocket::bind("127.0.0.3:0").unwrap();
    other
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    other.send_to(&request[..47], server).unwrap();
    let mut server_mode = request;
    server_mode[0] = 4 << 3 | 4;
    other.send_to(&server_mode, server).unwrap();
    assert!(
        other.recv(&mut buf).is_err(),
        "no reply to a short or server-mode packet"
    );
    let long = [request.to_vec(), vec![0u8; 200]].concat();
    other.send_to(&long, server).unwrap();
    assert_eq!(other.recv(&mut buf).unwrap(), 48);

    // The node loses its only source: it goes unsynchronised, answers nothing, and chronyd
    // stops selecting it.
    let _ = shifted.process.child.kill();
    let _ = shifted.process.child.wait();
    wait_for(
        "the node to stop answering",
        Duration::from_secs(30),
        || query(&sock, server).is_none().then_some(()),
    );
    wait_for("chronyd to drop the node", Duration::from_secs(30), || {
        client.source().filter(|(state, _)| state != "*")
    });
}
