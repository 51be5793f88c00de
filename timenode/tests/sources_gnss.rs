//! End-to-end: `timenode sources` with GNSS receivers behind real gpsd instances, one fed a
//! correct NMEA stream and one fed a stream two seconds ahead.
//! Needs Debian `chrony`, `gpsd` and `gpsd-clients` (`apt-get install -y chrony gpsd gpsd-clients`).

#[path = "../../aggregator/tests/support/mod.rs"]
mod support;

use std::process::Command;
use std::time::Duration;
use support::{ChronyKind, Chronyd, Gpsd, TempDir};

#[test]
fn sources_command_names_the_two_second_wrong_gnss_feed_a_falseticker() {
    let ntp = [
        Chronyd::start(ChronyKind::Honest),
        Chronyd::start(ChronyKind::Honest),
        Chronyd::start(ChronyKind::Honest),
    ];
    let good = Gpsd::start(Duration::ZERO, true);
    let wrong = Gpsd::start(Duration::from_secs(2), true);

    let dir = TempDir::new("timenode-gnss");
    let mut toml = String::from("[sources]\npolls = 3\npoll-interval-ms = 200\n");
    for (i, c) in ntp.iter().enumerate() {
        toml.push_str(&format!(
            "[[sources.ntp]]\nlabel = \"ntp{i}\"\naddress = \"{}\"\n",
            c.addr
        ));
    }
    for (label, g) in [("gnss-good", &good), ("gnss-wrong", &wrong)] {
        toml.push_str(&format!(
            "[[sources.gnss]]\nlabel = \"{label}\"\ngpsd = \"{}\"\nlatency-min-ms = 10\nlatency-max-ms = 110\n",
            g.addr
        ));
    }
    let path = dir.0.join("node.toml");
    std::fs::write(&path, toml).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_timenode"))
        .args(["sources", "--json", "--config"])
        .arg(&path)
        .output()
        .expect("run timenode");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "expected JSON, got {e}: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    assert_eq!(out.status.code(), Some(0), "{json:#}");
    let verdict = |label: &str| {
        json["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["label"] == label)
            .map(|s| s["verdict"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(verdict("gnss-wrong"), "falseticker", "{json:#}");
    assert_eq!(verdict("gnss-good"), "truechimer", "{json:#}");
    for i in 0..3 {
        assert_eq!(verdict(&format!("ntp{i}")), "truechimer", "{json:#}");
    }
}
