//! Submitting, fetching proofs and reading ticks, metrics and health through real HTTP.

mod support;

use support::{Server, digests_body, get, post};
use tickchain_api::ApiConfig;
use tickchain_api::wire::{ProofBody, ReceiptsBody, TickSummary, TicksBody};

#[test]
fn a_submitted_digest_is_pending_then_ready_with_a_proof_that_verifies() {
    let s = Server::start(ApiConfig::default());
    let (digests, body) = digests_body(3, "reads");
    let r = post(
        &format!("{}/v1/timestamps", s.url),
        "application/json",
        &body,
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let receipts: ReceiptsBody = serde_json::from_str(&r.body).unwrap();
    let got: Vec<String> = receipts
        .receipts
        .iter()
        .map(|r| r.digest.to_hex())
        .collect();
    assert_eq!(got, digests);

    let url = format!("{}/v1/proofs/{}", s.url, digests[1]);
    let r = get(&url);
    assert_eq!(r.status, 202, "{}", r.body);
    assert!(matches!(
        serde_json::from_str(&r.body).unwrap(),
        ProofBody::Pending { .. }
    ));

    s.node.finalize_tick();
    let r = get(&url);
    assert_eq!(r.status, 200, "{}", r.body);
    let ProofBody::Ready { proof } = serde_json::from_str(&r.body).unwrap() else {
        panic!("not ready: {}", r.body)
    };
    let verified = tickchain_sdk::verify(&proof, s.node.genesis()).expect("proof verifies");
    assert_eq!(verified.digest.to_hex(), digests[1]);
}

#[test]
fn an_unknown_digest_is_404() {
    let s = Server::start(ApiConfig::default());
    let r = get(&format!("{}/v1/proofs/{}", s.url, "00".repeat(32)));
    assert_eq!((r.status, r.code().as_str()), (404, "not_found"));
}

#[test]
fn ticks_are_readable_latest_by_height_and_in_pages() {
    let s = Server::start(ApiConfig::default());
    let r = get(&format!("{}/v1/ticks/latest", s.url));
    assert_eq!((r.status, r.code().as_str()), (404, "not_found"));
    for _ in 0..5 {
        s.node.finalize_tick();
    }
    let latest: TickSummary =
        serde_json::from_str(&get(&format!("{}/v1/ticks/latest", s.url)).body).unwrap();
    assert_eq!(latest.height.0, 5);
    let third: TickSummary =
        serde_json::from_str(&get(&format!("{}/v1/ticks/3", s.url)).body).unwrap();
    assert_eq!(third.height.0, 3);
    assert_eq!(get(&format!("{}/v1/ticks/9", s.url)).status, 404);
    let page: TicksBody =
        serde_json::from_str(&get(&format!("{}/v1/ticks?from=2&limit=2", s.url)).body).unwrap();
    let heights: Vec<u64> = page.ticks.iter().map(|t| t.height.0).collect();
    assert_eq!(heights, [2, 3]);
}

#[test]
fn metrics_report_node_gauges_and_request_counts_and_healthz_is_ok() {
    let s = Server::start(ApiConfig::default());
    s.node.finalize_tick();
    assert_eq!(get(&format!("{}/healthz", s.url)).body, "ok");
    get(&format!("{}/v1/ticks/1", s.url));
    let r = get(&format!("{}/metrics", s.url));
    assert_eq!(r.status, 200);
    assert!(
        r.content_type
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    for line in [
        "tickchain_ticks_final_total 1",
        "tickchain_tick_lag_seconds 0.007",
        "tickchain_skipped_seconds_total 0",
        "tickchain_pool_depth 0",
        "tickchain_source_offset_seconds{source=\"ntp-loopback\"} 0.00012",
        "tickchain_source_radius_seconds{source=\"ntp-loopback\"} 0.0009",
        "tickchain_api_requests_total{route=\"/v1/ticks/{height}\",method=\"GET\",status=\"200\"} 1",
        "tickchain_api_request_duration_seconds_count{route=\"/v1/ticks/{height}\"} 1",
    ] {
        assert!(r.body.contains(line), "missing {line:?} in\n{}", r.body);
    }
}

#[test]
fn network_lists_the_genesis_nodes() {
    let s = Server::start(ApiConfig::default());
    let r = get(&format!("{}/v1/network", s.url));
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["genesis_hash"], s.node.genesis().hash.to_hex());
    assert_eq!(v["nodes"].as_array().unwrap().len(), 4);
}

#[test]
fn ten_thousand_digests_fit_the_default_limits_and_one_more_does_not() {
    let s = Server::start(ApiConfig::default());
    let url = format!("{}/v1/timestamps", s.url);
    let (_, body) = digests_body(10_000, "max");
    let r = post(&url, "application/json", &body);
    assert_eq!(r.status, 202, "{}", &r.body[..r.body.len().min(300)]);
    let receipts: ReceiptsBody = serde_json::from_str(&r.body).unwrap();
    assert_eq!(receipts.receipts.len(), 10_000);
    let (_, body) = digests_body(10_001, "max");
    let r = post(&url, "application/json", &body);
    assert_eq!((r.status, r.code().as_str()), (400, "too_many_digests"));
}

#[test]
fn evidence_is_listed_newest_first_within_the_limit_and_verifies_offline() {
    let s = Server::start(ApiConfig::default());
    let empty = get(&format!("{}/v1/evidence", s.url));
    assert_eq!(empty.status, 200, "{}", empty.body);
    assert_eq!(empty.json()["evidence"], serde_json::json!([]));
    s.node.record_evidence(5);
    let newest = s.node.record_evidence(9);
    let r = get(&format!("{}/v1/evidence?limit=1", s.url));
    assert_eq!(r.status, 200, "{}", r.body);
    let body: tickchain_api::EvidenceBody = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body.evidence, vec![newest]);
    let v = body.evidence[0].verify(s.node.genesis()).expect("verifies");
    assert_eq!(v.rule.code(), "conflicting_notarize");
    for bad in ["limit=0", "limit=1001", "limit=x", "from=1"] {
        let r = get(&format!("{}/v1/evidence?{bad}", s.url));
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    let metrics = get(&format!("{}/metrics", s.url)).body;
    assert!(
        metrics.contains("tickchain_misbehaviour_evidence_total 2\n"),
        "{metrics}"
    );
    assert!(metrics.contains("tickchain_peer_rejected_total{kind=\"old_view\"} 4\n"));
}
