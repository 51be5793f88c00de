//! `POST /v1/timestamps?wait=true`: proofs once final, or `504` with the receipts on timeout,
//! and a cap on concurrent waiters.

mod support;

use std::time::{Duration, Instant};
use support::{Server, digests_body, post};
use tickchain_api::ApiConfig;
use tickchain_api::wire::{ProofsBody, Receipt};

#[test]
fn waiting_returns_200_with_proofs_that_verify_once_the_tick_is_final() {
    let s = Server::start_ticking(ApiConfig::default(), Duration::from_millis(200));
    let (digests, body) = digests_body(4, "wait-ok");
    let r = post(
        &format!("{}/v1/timestamps?wait=true", s.url),
        "application/json",
        &body,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let proofs: ProofsBody = serde_json::from_str(&r.body).unwrap();
    let got: Vec<String> = proofs.proofs.iter().map(|p| p.digest.to_hex()).collect();
    assert_eq!(got, digests);
    for p in &proofs.proofs {
        tickchain_sdk::verify(p, s.node.genesis()).expect("proof verifies");
    }
}

#[test]
fn waiting_past_the_timeout_returns_504_with_the_receipts() {
    let s = Server::start(ApiConfig {
        wait_timeout_ms: 300,
        ..ApiConfig::default()
    });
    let (digests, body) = digests_body(2, "wait-timeout");
    let start = Instant::now();
    let r = post(
        &format!("{}/v1/timestamps?wait=true", s.url),
        "application/json",
        &body,
    );
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        (r.status, r.code().as_str()),
        (504, "wait_timeout"),
        "{}",
        r.body
    );
    let receipts: Vec<Receipt> = serde_json::from_value(r.json()["receipts"].clone()).unwrap();
    let got: Vec<String> = receipts.iter().map(|r| r.digest.to_hex()).collect();
    assert_eq!(got, digests);
}

#[test]
fn waiters_beyond_the_cap_get_503_too_many_waiters() {
    let s = Server::start(ApiConfig {
        wait_timeout_ms: 1_500,
        max_waiters: 1,
        ..ApiConfig::default()
    });
    let url = format!("{}/v1/timestamps?wait=true", s.url);
    let first = {
        let url = url.clone();
        std::thread::spawn(move || post(&url, "application/json", &digests_body(1, "w1").1))
    };
    std::thread::sleep(Duration::from_millis(300));
    let r = post(&url, "application/json", &digests_body(1, "w2").1);
    assert_eq!(
        (r.status, r.code().as_str()),
        (503, "too_many_waiters"),
        "{}",
        r.body
    );
    assert!(r.retry_after.is_some());
    assert_eq!(first.join().unwrap().status, 504);
}
