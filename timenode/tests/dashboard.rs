//! The dashboard (issue 17) end to end in headless Chromium, driven by `playwright-core`
//! (`dashboard/test/e2e.mjs`), against a real ring of four `timenode run` processes: the page
//! loads under its strict CSP, the tick counter advances by at least 5 within 20 s, the lag and
//! clock charts have data, a SIGKILLed member's row turns down within 15 s, stamping a file in
//! the page yields a downloadable proof that `tickchain verify --file` accepts, a valid vector
//! verifies in the page and a tampered one fails with its code, the page fits a phone, and the
//! page says so when its node dies. Screenshots go to `target/test-artifacts/dashboard/`.
//!
//! Needs Debian `chromium` and `dashboard/node_modules` (`scripts/test` installs both).

mod ringkit;

use ringkit::{setup, start_all, tickchain_bin};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[test]
fn the_dashboard_shows_the_ring_live_and_stamps_and_verifies_in_the_page() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let script = repo.join("dashboard/test/e2e.mjs");
    assert!(
        repo.join("dashboard/node_modules/playwright-core").exists(),
        "fixture missing: dashboard/node_modules (run: cd dashboard && npm ci --ignore-scripts)"
    );
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "fixture missing: /usr/bin/chromium (apt-get install chromium; scripts/install-deps does)"
    );
    let root = std::env::temp_dir().join(format!("tc-dashboard-{}", std::process::id()));
    let (_, mut nodes) = setup(&root, 4);
    start_all(&mut nodes, 2, Duration::from_secs(30));
    let artifacts = repo.join("target/test-artifacts/dashboard");
    let out = Command::new("node")
        .arg(&script)
        .env("DASH_URL", &nodes[0].api)
        .env("DASH_GENESIS", root.join("genesis.json"))
        .env("DASH_KILL_PID", nodes[3].pid().unwrap().to_string())
        .env("DASH_KILL_NAME", "node-3")
        .env("DASH_SELF_PID", nodes[0].pid().unwrap().to_string())
        .env("DASH_CLI", tickchain_bin())
        .env("DASH_VECTORS", repo.join("specs/vectors"))
        .env("DASH_ARTIFACTS", &artifacts)
        .output()
        .expect("run node");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{report}");
    for n in &mut nodes {
        n.sigterm();
    }
    assert!(
        out.status.success(),
        "the browser test failed (screenshots in {}):\n{report}",
        artifacts.display()
    );
    for shot in [
        "dashboard.png",
        "member-down.png",
        "verify.png",
        "phone.png",
        "node-down.png",
    ] {
        assert!(artifacts.join(shot).exists(), "no screenshot {shot}");
    }
    let _ = std::fs::remove_dir_all(&root);
}
