//! Per-second device logs end to end (`specs/devicelog.md`), against a real ring of four
//! `timenode` processes, with the real `tickchain` CLI:
//! - a simulated device numbers its records and appends one every 100 ms for 60 s to a file
//!   that `tickchain log --follow` follows; the logger is SIGKILLed once in the middle and
//!   restarted: every number is in the verified log exactly once and in order, and every record
//!   is proven by a stamp;
//! - `tickchain verify-log` rejects the log after a record is removed, altered, reordered or
//!   inserted, naming the first bad record;
//! - records sent as UDP datagrams to 127.0.0.1 are logged and verify.

mod ringkit;

use ringkit::{setup, start_all, tickchain_bin, wait_until};
use std::io::Write;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use tickchain_sdk::devicelog::{Entry, FILE_MAGIC, scan};

fn cli(args: &[&str]) -> Output {
    Command::new(tickchain_bin()).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Creates a device key with the CLI; returns its public key hex.
fn device_key(path: &Path) -> String {
    let out = cli(&["device-key", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// `tickchain verify-log --json`: (exit code, parsed JSON or the output).
fn verify_log(
    log: &Path,
    genesis: &Path,
    device: &str,
) -> (i32, Result<serde_json::Value, String>) {
    let out = cli(&[
        "verify-log",
        log.to_str().unwrap(),
        "--genesis",
        genesis.to_str().unwrap(),
        "--device",
        device,
        "--json",
    ]);
    let code = out.status.code().unwrap_or(-1);
    let parsed = serde_json::from_slice(&out.stdout).map_err(|_| text(&out));
    (code, parsed)
}

fn payloads(report: &serde_json::Value) -> Vec<String> {
    report["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["payload"]["text"].as_str().unwrap().to_owned())
        .collect()
}

fn start_logger(args: &[&str], log_out: &Path) -> Child {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_out)
        .unwrap();
    Command::new(tickchain_bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap()
}

/// Rewrites a log with its entries changed by `edit` (frames re-encoded, checks valid).
fn edited(log: &[u8], edit: impl FnOnce(&mut Vec<Entry>)) -> Vec<u8> {
    let s = scan(log).unwrap();
    let mut entries: Vec<Entry> = s
        .frames
        .iter()
        .map(|f| Entry::decode(f.kind, f.body).unwrap())
        .collect();
    edit(&mut entries);
    let mut out = FILE_MAGIC.to_vec();
    for e in &entries {
        out.extend(e.to_frame());
    }
    out
}

/// Index in `entries` of the record with `seq`.
fn record_at(entries: &[Entry], seq: u64) -> usize {
    entries
        .iter()
        .position(|e| matches!(e, Entry::Record(r) if r.seq == seq))
        .unwrap()
}

/// A running 4-node ring under a temp directory named by `label`, with a device key made by
/// the CLI: (directory, nodes, genesis file, key file, the device's public key).
fn ring_and_device(label: &str) -> (PathBuf, Vec<ringkit::Node>, PathBuf, PathBuf, String) {
    let root = std::env::temp_dir().join(format!("tc-devicelog-{label}-{}", std::process::id()));
    let (_genesis, mut nodes) = setup(&root, 4);
    start_all(&mut nodes, 2, Duration::from_secs(20));
    let key = root.join("device.key");
    let device = device_key(&key);
    (root.clone(), nodes, root.join("genesis.json"), key, device)
}

#[test]
fn a_followed_device_stream_survives_a_logger_kill_and_every_tamper_is_named() {
    let (root, mut nodes, genesis, key, device) = ring_and_device("follow");
    let input = root.join("sensor.txt");
    let log = root.join("sensor.tclog");
    let logger_out = root.join("logger.out");
    let args = [
        "log",
        "--key",
        key.to_str().unwrap(),
        "--out",
        log.to_str().unwrap(),
        "--api",
        &nodes[1].api,
        "--genesis",
        genesis.to_str().unwrap(),
        "--follow",
        input.to_str().unwrap(),
        "--idle-exit",
        "4",
    ];
    let mut logger = start_logger(&args, &logger_out);

    // The device: record n is the line "n", one every 100 ms for 60 s; every 7th line is
    // written in two parts, so the logger sees lines that are not yet whole.
    const RECORDS: u64 = 600;
    let device_input = input.clone();
    let device_thread = std::thread::spawn(move || {
        let mut f = std::fs::File::create(&device_input).unwrap();
        let start = Instant::now();
        for n in 0..RECORDS {
            let due = start + Duration::from_millis(100 * n);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            if n % 7 == 3 {
                f.write_all(n.to_string().as_bytes()).unwrap();
                std::thread::sleep(Duration::from_millis(3));
                f.write_all(b"\n").unwrap();
            } else {
                writeln!(f, "{n}").unwrap();
            }
        }
    });

    // Killed once in the middle (SIGKILL, by pid), restarted on the same log.
    std::thread::sleep(Duration::from_millis(31_370));
    assert!(
        logger.try_wait().unwrap().is_none(),
        "the logger still runs"
    );
    logger.kill().unwrap();
    logger.wait().unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let mut logger = start_logger(&args, &logger_out);
    device_thread.join().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = logger.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = logger.kill();
            let _ = logger.wait();
            panic!(
                "the logger did not stop after its idle time: {}",
                std::fs::read_to_string(&logger_out).unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let logged = std::fs::read_to_string(&logger_out).unwrap();
    assert!(status.success(), "logger failed: {logged}");
    assert_eq!(
        logged.matches("logging device").count(),
        2,
        "started twice: {logged}"
    );

    // Every number exactly once, in order, each signed, chained and stamped.
    let (code, report) = verify_log(&log, &genesis, &device);
    let report = report.unwrap_or_else(|e| panic!("verify-log failed ({code}): {e}"));
    assert_eq!(code, 0);
    let expected: Vec<String> = (0..RECORDS).map(|n| n.to_string()).collect();
    assert_eq!(payloads(&report), expected, "each number once, in order");
    assert_eq!(
        report["stamped_through"],
        RECORDS - 1,
        "every record stamped"
    );
    let stamps = report["stamps"].as_array().unwrap();
    assert!(
        stamps.len() >= 50,
        "about one stamp per second of input, found {}",
        stamps.len()
    );
    for r in report["records"].as_array().unwrap() {
        let proven = &r["proven"];
        assert!(!proven.is_null(), "record {} is proven in time", r["seq"]);
        let device_time = r["device_time"].as_i64().unwrap();
        let latest = proven["latest"].as_i64().unwrap();
        assert!(
            latest > device_time,
            "record {} proven by {latest}, after it was made at {device_time}",
            r["seq"]
        );
        assert!(
            latest - device_time < 10_000_000_000,
            "record {} proven within 10 s of being made (was {} ms)",
            r["seq"],
            (latest - device_time) / 1_000_000
        );
    }

    // Tampering, each named at the first bad record.
    let bytes = std::fs::read(&log).unwrap();
    let bad = root.join("tampered.tclog");
    let check = |what: &str, file: Vec<u8>, code: &str, naming: &str| {
        std::fs::write(&bad, file).unwrap();
        let out = cli(&[
            "verify-log",
            bad.to_str().unwrap(),
            "--genesis",
            genesis.to_str().unwrap(),
            "--device",
            &device,
        ]);
        let said = text(&out);
        assert_eq!(out.status.code(), Some(1), "{what}: {said}");
        assert!(said.contains(code), "{what}: expected {code}: {said}");
        assert!(said.contains(naming), "{what}: expected {naming:?}: {said}");
    };
    check(
        "removed",
        edited(&bytes, |e| {
            e.remove(record_at(e, 250));
        }),
        "sequence",
        "has seq 251 where seq 250 was expected",
    );
    check(
        "altered",
        edited(&bytes, |e| {
            let i = record_at(e, 250);
            if let Entry::Record(r) = &mut e[i] {
                r.payload = b"2500".to_vec();
            }
        }),
        "signature",
        "record seq 250",
    );
    check(
        "reordered",
        edited(&bytes, |e| {
            let (a, b) = (record_at(e, 250), record_at(e, 251));
            e.swap(a, b);
        }),
        "sequence",
        "has seq 251 where seq 250 was expected",
    );
    check(
        "inserted",
        edited(&bytes, |e| {
            let copy = e[record_at(e, 100)].clone();
            let at = record_at(e, 250);
            e.insert(at, copy);
        }),
        "sequence",
        "has seq 100 where seq 250 was expected",
    );

    for n in &mut nodes {
        n.sigterm();
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn udp_records_on_loopback_are_logged_stamped_and_verify() {
    let (root, mut nodes, genesis, key, device) = ring_and_device("udp");
    let log = root.join("udp.tclog");
    let port = ringkit::free_udp_ports(1)[0].to_string();
    let args = [
        "log",
        "--key",
        key.to_str().unwrap(),
        "--out",
        log.to_str().unwrap(),
        "--api",
        &nodes[0].api,
        "--udp",
        &port,
        "--idle-exit",
        "3",
    ];
    let logger_out = root.join("logger.out");
    let mut logger = start_logger(&args, &logger_out);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = format!("127.0.0.1:{port}");
    // The logger binds once it has opened the log; resend the first datagram until it does.
    wait_until("the logger to bind", Duration::from_secs(10), || {
        std::fs::read_to_string(&logger_out).is_ok_and(|s| s.contains("logging device"))
    });
    std::thread::sleep(Duration::from_millis(200));
    for n in 0..30 {
        sock.send_to(format!("frame {n}").as_bytes(), &to).unwrap();
        std::thread::sleep(Duration::from_millis(50));
    }
    let deadline = Instant::now() + Duration::from_secs(40);
    while logger.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "logger did not stop when idle");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (code, report) = verify_log(&log, &genesis, &device);
    let report = report.unwrap_or_else(|e| panic!("verify-log failed ({code}): {e}"));
    let expected: Vec<String> = (0..30).map(|n| format!("frame {n}")).collect();
    assert_eq!(payloads(&report), expected);
    assert_eq!(report["stamped_through"], 29);
    for n in &mut nodes {
        n.sigterm();
    }
    let _ = std::fs::remove_dir_all(&root);
}
