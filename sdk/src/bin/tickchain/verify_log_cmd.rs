//! `tickchain verify-log`: checks one device's chain in a log offline, against the device's
//! public key (from the auditor) and the network's genesis (`specs/devicelog.md` §5).

use crate::Failure;
use crate::text::{read_genesis, rfc3339, second};
use std::path::Path;
use tickchain_sdk::devicelog::{FrameError, LogError, LogReport, verify_log_from};
use tickchain_sdk::{Network, PublicKey};

/// Verifies `log` for `device`; prints a summary, every record with `records`, or JSON.
pub fn run(
    log: &Path,
    genesis: &Path,
    device: &str,
    records: bool,
    json: bool,
) -> Result<(), Failure> {
    let device = PublicKey::from_hex(device.trim()).map_err(|e| {
        Failure::BadInput(format!(
            "--device: expected the device's 64-hex-character public key: {e}"
        ))
    })?;
    if tickchain_sdk::signing::parse_key(&device).is_none() {
        return Err(Failure::BadInput(format!(
            "--device {device} is not a valid Ed25519 public key"
        )));
    }
    let network = Network::new(read_genesis(genesis)?);
    let file = std::fs::File::open(log)
        .map_err(|e| Failure::BadInput(format!("cannot read {}: {e}", log.display())))?;
    let len = file
        .metadata()
        .map_err(|e| Failure::BadInput(format!("cannot read {}: {e}", log.display())))?
        .len();
    let input = std::io::BufReader::new(file);
    let report = verify_log_from(input, len, &device, &network).map_err(|e| match e {
        LogError::Frame(FrameError::Magic) => Failure::BadInput(format!("{}: {e}", log.display())),
        e => Failure::Invalid(format!("{} ({}): {e}", log.display(), e.code())),
    })?;
    if json {
        println!("{}", to_json(&report));
        return Ok(());
    }
    summary(&report);
    if records {
        for r in &report.records {
            let proven = r.proven_by.map_or_else(
                || "not yet stamped".to_owned(),
                |i| {
                    let t = &report.stamps[i].timestamp;
                    format!("by {} (tick {})", rfc3339(t.latest), t.height)
                },
            );
            println!(
                "{:>8}  {}  {}",
                r.seq,
                proven,
                String::from_utf8_lossy(&r.payload)
            );
        }
    }
    Ok(())
}

fn summary(report: &LogReport) {
    let n = report.records.len();
    println!(
        "OK  device {} log {}: {n} record(s), each signed by the device and in order",
        report.device, report.log_id
    );
    match report.stamped_through() {
        Some(top) => {
            let last = report
                .stamps
                .iter()
                .max_by_key(|s| s.seq)
                .expect("stamped_through found one");
            println!(
                "    records 0..={top} are unaltered and complete as stamped; each existed no \
                 later than its first stamp ({} stamps, the last in tick {} for {})",
                report.stamps.len(),
                last.timestamp.height,
                second(last.timestamp.second.0)
            );
            let after = n as u64 - top - 1;
            if after > 0 {
                println!(
                    "    {after} record(s) after seq {top} are signed and in order but not yet \
                     proven in time"
                );
            }
        }
        None => println!("    no stamp yet: no record is proven in time"),
    }
    if let Some(at) = report.torn_at {
        println!("    bytes from {at} on are a torn last write and are not part of the log");
    }
}

fn to_json(report: &LogReport) -> String {
    let records: Vec<serde_json::Value> = report
        .records
        .iter()
        .map(|r| {
            let payload = match std::str::from_utf8(&r.payload) {
                Ok(text) => serde_json::json!({ "text": text }),
                Err(_) => serde_json::json!({ "hex": hex::encode(&r.payload) }),
            };
            let proven = r.proven_by.map(|i| {
                let t = &report.stamps[i].timestamp;
                serde_json::json!({
                    "stamp": i,
                    "latest": t.latest,
                    "second": t.second,
                    "height": t.height,
                })
            });
            serde_json::json!({
                "seq": r.seq,
                "offset": r.offset,
                "hash": r.hash,
                "device_time": r.device_time,
                "payload": payload,
                "proven": proven,
            })
        })
        .collect();
    serde_json::json!({
        "ok": true,
        "device": report.device,
        "log_id": report.log_id,
        "stamped_through": report.stamped_through(),
        "stamps": report.stamps,
        "records": records,
        "torn_at": report.torn_at,
    })
    .to_string()
}
