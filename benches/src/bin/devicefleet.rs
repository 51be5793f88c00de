//! `devicefleet`: one process logging many devices at one record per second each into one
//! device log (`specs/devicelog.md`), stamped through an in-process 4-node ring on loopback.
//!
//! Usage: `cargo run --release -p tickchain-benches --bin devicefleet [DEVICES] [SECONDS]`
//! (defaults 10000 and 60). Reports the logger's CPU (its own thread, from
//! `/proc/thread-self/schedstat`) and the log's bytes, per device per day, the per-second work's
//! spread, how the bytes split between records and stamps, and how long an auditor's
//! `verify_log` of one device takes on the fleet's file.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tickchain_benches::LocalRing;
use tickchain_sdk::client::Client;
use tickchain_sdk::devicelog::{DeviceLog, Entry, Kind, StampEvent, Stamper, scan, verify_log};
use tickchain_sdk::testkit::seeded;
use tickchain_sdk::{Genesis, Network, Second, UtcNanos};

fn arg(i: usize, default: u64) -> u64 {
    std::env::args()
        .nth(i)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// CPU time of the calling thread, in seconds.
fn thread_cpu() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e9)
}

fn now() -> (Second, UtcNanos) {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    (Second(d.as_secs()), UtcNanos(d.as_nanos() as i64))
}

fn main() {
    let devices = arg(1, 10_000) as usize;
    let seconds = arg(2, 60);
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    println!(
        "devicefleet: {devices} devices x 1 record/s for {seconds} s, one logger thread, \
         4 in-process nodes on 127.0.0.1, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let ring = rt.block_on(async { LocalRing::start("devicefleet", 4, "") });
    let api = ring.apis[0].clone();
    let genesis_path = ring.root.join("genesis.json");
    let genesis = Genesis::from_json(&std::fs::read_to_string(&genesis_path).unwrap()).unwrap();
    let dir = ring.root.join("fleet");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fleet.tclog");

    let logger = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(3)); // the ring's first ticks
        let mut log = DeviceLog::open(&path).unwrap();
        let keys: Vec<_> = (0..devices)
            .map(|i| ed25519_dalek::SigningKey::from_bytes(&seeded(&format!("fleet/{i}"))))
            .collect();
        let chains: Vec<u32> = keys
            .iter()
            .map(|k| log.chain_for(k.clone()).unwrap())
            .collect();
        let mut stamper = Stamper::new(Client::new(&api), Some(Network::new(genesis.clone())));
        let cpu0 = thread_cpu();
        let mut work = Vec::new();
        let mut stamped = 0u64;
        let start = Instant::now();
        for s in 0..seconds {
            let due = start + Duration::from_secs(s);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            let t = Instant::now();
            let (second, utc) = now();
            for (i, c) in chains.iter().enumerate() {
                let payload = format!(
                    "device {i} reading {s} value {}",
                    (i as u64 * 31 + s) % 1000
                );
                log.append(*c, payload.as_bytes(), utc, 0).unwrap();
            }
            for e in stamper.step(&mut log, second).unwrap() {
                match e {
                    StampEvent::Stamped { .. } => stamped += 1,
                    StampEvent::Dropped { reason, .. } => eprintln!("dropped: {reason}"),
                    StampEvent::NodeError(e) => eprintln!("node error: {e}"),
                    StampEvent::Submitted { .. } => {}
                }
            }
            work.push(t.elapsed());
        }
        stamper
            .drain(
                &mut log,
                Duration::from_secs(10),
                || now().0,
                |e| {
                    if let StampEvent::Stamped { .. } = e {
                        stamped += 1;
                    }
                },
            )
            .unwrap();
        let cpu = thread_cpu() - cpu0;
        (cpu, work, stamped, path, keys[0].verifying_key().to_bytes())
    });
    let (cpu, mut work, stamped, path, first) = logger.join().unwrap();

    let bytes = std::fs::read(&path).unwrap();
    let scanned = scan(&bytes).unwrap();
    let (mut record_bytes, mut stamp_bytes, mut chain_bytes) = (0usize, 0usize, 0usize);
    let mut proof_bytes = 0usize;
    for f in &scanned.frames {
        let framed = f.body.len() + 13;
        match f.kind {
            Kind::Record => record_bytes += framed,
            Kind::Chain => chain_bytes += framed,
            Kind::Stamp => {
                stamp_bytes += framed;
                if let Ok(Entry::Stamp(s)) = Entry::decode(f.kind, f.body) {
                    proof_bytes += s.proof.len();
                }
            }
        }
    }
    work.sort();
    let pct = |p: f64| work[((work.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e3;
    let device_seconds = (devices as u64 * seconds) as f64;
    let per_day = |x: f64| x / device_seconds * 86_400.0;
    println!(
        "records {}  stamps {stamped}  log {:.1} MB (records {:.1} MB, stamps {:.1} MB of which \
         proofs {:.2} MB, chain headers {:.2} MB)",
        devices as u64 * seconds,
        bytes.len() as f64 / 1e6,
        record_bytes as f64 / 1e6,
        stamp_bytes as f64 / 1e6,
        proof_bytes as f64 / 1e6,
        chain_bytes as f64 / 1e6
    );
    println!(
        "per second of input: work p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms (sign, chain, write, \
         fdatasync, submit one root, fetch one proof)",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    println!(
        "logger CPU {cpu:.2} s = {:.1} % of one core; per device per day: {:.2} CPU-s, {:.2} MB \
         ({:.2} MB records, {:.2} MB stamps)",
        cpu / seconds as f64 * 100.0,
        per_day(cpu),
        per_day(bytes.len() as f64) / 1e6,
        per_day(record_bytes as f64) / 1e6,
        per_day(stamp_bytes as f64) / 1e6
    );
    let network = Network::new(
        Genesis::from_json(&std::fs::read_to_string(ring.root.join("genesis.json")).unwrap())
            .unwrap(),
    );
    let t = Instant::now();
    let report = verify_log(&bytes, &tickchain_sdk::PublicKey(first), &network).unwrap();
    println!(
        "verify_log of device 0 on the fleet file: {} records, stamped through {:?}, {:.2} s",
        report.records.len(),
        report.stamped_through(),
        t.elapsed().as_secs_f64()
    );
    rt.block_on(ring.stop());
}
