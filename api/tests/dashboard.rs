//! The dashboard's routes: the page and its assets under a strict Content-Security-Policy,
//! `GET /v1/history` filling one sample a second (bounded) and counting accepted digests,
//! `GET /v1/anchors` empty for a node that does not anchor (a ring that anchors is checked in
//! `timenode/tests/anchor_ring.rs`), and `GET /v1/genesis` answering `404` for a node that does
//! not publish one. The page itself runs in headless Chromium in
//! `timenode/tests/dashboard.rs`.

mod support;

use std::time::{Duration, Instant};
use support::{Server, agent, get};
use tickchain_api::ApiConfig;

#[test]
fn the_page_and_its_assets_carry_a_strict_csp() {
    let s = Server::start(ApiConfig::default());
    for (path, kind) in [
        ("/", "text/html"),
        ("/dashboard/app.js", "text/javascript"),
        ("/dashboard/app.css", "text/css"),
    ] {
        let r = agent().get(&format!("{}{path}", s.url)).call().unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let header = |n: &str| r.headers().get(n).unwrap().to_str().unwrap().to_owned();
        assert!(header("content-type").starts_with(kind), "{path}");
        let csp = header("content-security-policy");
        assert!(csp.contains("script-src 'self'") && csp.contains("default-src 'none'"));
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert_eq!(header("x-content-type-options"), "nosniff");
    }
    let page = get(&format!("{}/", s.url)).body;
    assert!(page.contains("/dashboard/app.js") && !page.contains("<script>"));
    assert!(!page.contains("style="), "no inline style");
}

#[test]
fn history_fills_one_sample_a_second() {
    let s = Server::start(ApiConfig::default());
    s.node.finalize_tick();
    let deadline = Instant::now() + Duration::from_secs(10);
    let samples = loop {
        let h = get(&format!("{}/v1/history", s.url)).json();
        assert_eq!(h["interval_ms"], 1000);
        let n = h["samples"].as_array().unwrap().len();
        if n >= 2 {
            break h["samples"].clone();
        }
        assert!(Instant::now() < deadline, "fewer than 2 samples after 10 s");
        std::thread::sleep(Duration::from_millis(200));
    };
    let last = &samples.as_array().unwrap()[samples.as_array().unwrap().len() - 1];
    assert!(last["height"].as_u64().unwrap() >= 1);
    assert!(last["width_ns"].as_i64().unwrap() >= 0);
    assert!(last["sources"].is_array());
    let at = |i: usize| samples[i]["at_ns"].as_i64().unwrap();
    assert!(at(1) > at(0), "samples are oldest first");
}

#[test]
fn history_counts_the_digests_the_api_accepted() {
    let s = Server::start(ApiConfig::default());
    let r = agent()
        .post(&format!("{}/v1/timestamps", s.url))
        .header("content-type", "application/octet-stream")
        .send(&[7u8; 96][..])
        .unwrap();
    assert_eq!(r.status(), 202);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let h = get(&format!("{}/v1/history", s.url)).json();
        let last = h["samples"].as_array().unwrap().last().cloned();
        if last.is_some_and(|l| l["digests_total"].as_u64() == Some(3)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no sample counts the 3 digests: {h}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_node_that_does_not_anchor_lists_no_anchors() {
    let s = Server::start(ApiConfig::default());
    let r = get(&format!("{}/v1/anchors", s.url));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["anchors"], serde_json::json!([]));
}

#[test]
fn a_node_without_a_published_genesis_answers_404() {
    let s = Server::start(ApiConfig::default());
    let r = get(&format!("{}/v1/genesis", s.url));
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "not_found");
}
