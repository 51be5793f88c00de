//! End-to-end: the `timenode sources` command a user would run, against real chronyd servers.
//! Needs Debian `chrony` (`apt-get install -y chrony`) and root.

#[path = "../../aggregator/tests/support/mod.rs"]
mod support;

use std::process::Command;
use support::{ChronyKind, Chronyd, TempDir};

fn run_sources(servers: &[(&str, &Chronyd)], extra: &str) -> (i32, serde_json::Value, String) {
    let dir = TempDir::new("timenode-sources");
    let mut toml = format!("[sources]\npolls = 3\npoll-interval-ms = 100\n{extra}\n");
    for (label, c) in servers {
        toml.push_str(&format!(
            "[[sources.ntp]]\nlabel = \"{label}\"\naddress = \"{}\"\ntimeout-ms = 500\n",
            c.addr
        ));
    }
    let path = dir.0.join("node.toml");
    std::fs::write(&path, toml).unwrap();
    let json = Command::new(env!("CARGO_BIN_EXE_timenode"))
        .args(["sources", "--config"])
        .arg(&path)
        .arg("--json")
        .output()
        .expect("run timenode");
    let table = Command::new(env!("CARGO_BIN_EXE_timenode"))
        .args(["sources", "--config"])
        .arg(&path)
        .output()
        .expect("run timenode");
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap_or_else(|e| {
        panic!(
            "expected JSON, got {e}: {}",
            String::from_utf8_lossy(&json.stdout)
        )
    });
    assert_eq!(json.status.code(), table.status.code());
    (
        json.status.code().unwrap_or(-1),
        value,
        String::from_utf8_lossy(&table.stdout).into_owned(),
    )
}

#[test]
fn sources_command_names_the_half_second_liar_a_falseticker_and_exits_zero() {
    let a = Chronyd::start(ChronyKind::Honest);
    let b = Chronyd::start(ChronyKind::Honest);
    let c = Chronyd::start(ChronyKind::Honest);
    let liar = Chronyd::start(ChronyKind::LiarAhead {
        honest_port: a.addr.port(),
    });
    let (code, json, table) = run_sources(&[("a", &a), ("b", &b), ("c", &c), ("liar", &liar)], "");

    assert_eq!(code, 0, "{table}");
    assert_eq!(json["state"], "synchronised");
    let verdicts: Vec<_> = json["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["label"].as_str().unwrap().to_string(),
                s["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("a", "truechimer"),
            ("b", "truechimer"),
            ("c", "truechimer"),
            ("liar", "falseticker")
        ]
        .map(|(l, v)| (l.to_string(), v.to_string()))
    );
    assert!(
        table.contains("falseticker") && table.contains("Synchronised: UTC in ["),
        "{table}"
    );
}

#[test]
fn sources_command_exits_non_zero_when_only_unsynchronised_servers_answer() {
    let a = Chronyd::start(ChronyKind::Unsynchronised);
    let b = Chronyd::start(ChronyKind::Unsynchronised);
    let c = Chronyd::start(ChronyKind::Unsynchronised);
    let (code, json, table) = run_sources(&[("a", &a), ("b", &b), ("c", &c)], "");

    assert_eq!(code, 1, "{table}");
    assert_eq!(json["state"], "unsynchronised");
    assert!(
        json["sources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["verdict"] == "unsynchronised"),
        "{json}"
    );
    assert!(table.contains("Unsynchronised:"), "{table}");
}

#[test]
fn sources_command_rejects_an_unknown_config_key_with_exit_two() {
    let dir = TempDir::new("timenode-badcfg");
    let path = dir.0.join("node.toml");
    std::fs::write(&path, "[sources]\npolls = 2\nbogus-key = 1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_timenode"))
        .args(["sources", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bogus-key"));
}
