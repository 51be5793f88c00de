//! The API under clients that abuse it on purpose, each from 127.0.0.2 while a well-behaved
//! client on 127.0.0.1 is served: half-sent heads (slowloris), trickled bodies, digest floods,
//! held waits and streams, spoofed `X-Forwarded-For`, invented methods for the metric labels,
//! cross-origin calls, and connections held open across shutdown. Every limit shows in
//! `tickchain_api_limited_total`.

mod support;

use std::io::Write;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};
use support::raw::{addr_of, closed_by_server, connect_from, exchange};
use support::{Server, digests_body, get, post};
use tickchain_api::ApiConfig;

const ATTACKER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const GOOD: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);

/// The value of `tickchain_api_limited_total{kind}` on `s`.
fn limited(s: &Server, kind: &str) -> u64 {
    let text = get(&format!("{}/metrics", s.url)).body;
    support::raw::labelled(&text, "tickchain_api_limited_total", kind)
}

fn unlimited() -> ApiConfig {
    ApiConfig {
        rate_per_second: 0,
        digests_per_second: 0,
        ..ApiConfig::default()
    }
}

#[test]
fn a_slowloris_client_is_capped_per_client_and_its_heads_time_out() {
    let s = Server::start(ApiConfig {
        max_connections_per_client: 8,
        header_timeout_ms: 700,
        ..unlimited()
    });
    let to = addr_of(&s.url);
    // 60 connections that each send half a request head and then nothing.
    let mut held = Vec::new();
    for _ in 0..60 {
        let mut c = connect_from(ATTACKER, to).expect("connect");
        let _ = c.write_all(b"POST /v1/timestamps HTTP/1.1\r\nhost: x\r\ncontent-le");
        held.push(c);
    }
    // The well-behaved client is served meanwhile.
    for _ in 0..5 {
        assert_eq!(get(&format!("{}/v1/network", s.url)).status, 200);
    }
    // Every attacker connection is closed: at accept beyond the cap, by the head timeout
    // for the 8 admitted.
    for c in &mut held {
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        assert!(
            closed_by_server(c),
            "a half-sent head must not hold a connection"
        );
    }
    assert!(limited(&s, "connections_per_client") >= 52);
    assert!(limited(&s, "header_timeout") >= 8);
    // Once they are gone the same client may connect again.
    let r = exchange(ATTACKER, to, "GET", "/healthz", &[], b"").expect("exchange");
    assert_eq!(r.status, 200);
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_head_timeout() {
    let s = Server::start(ApiConfig {
        header_timeout_ms: 500,
        ..unlimited()
    });
    let mut c = connect_from(ATTACKER, addr_of(&s.url)).unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let start = Instant::now();
    let mut answer = Vec::new();
    let closed = std::io::Read::read_to_end(&mut c, &mut answer).is_ok();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "answered first: {answer}"
    );
    assert!(closed, "then closed by the server when idle");
    assert!(
        start.elapsed() >= Duration::from_millis(400),
        "kept alive until the timeout, not closed right after the answer"
    );
}

#[test]
fn a_client_that_stops_reading_is_cut_off_after_the_write_timeout() {
    let s = Server::start(ApiConfig {
        write_timeout_ms: 500,
        ..unlimited()
    });
    for _ in 0..1_000 {
        s.node.finalize_tick();
    }
    // 40 pipelined pages of 1,000 ticks (about 10 MB; loopback's send buffers hold a few)
    // to a client with a tiny receive window that never reads: the server's writes stall.
    let mut c = support::raw::connect_with(ATTACKER, addr_of(&s.url), Some(2048)).unwrap();
    let page = b"GET /v1/ticks?limit=1000 HTTP/1.1\r\nhost: x\r\n\r\n";
    c.write_all(&page.repeat(40)).unwrap();
    let start = Instant::now();
    while limited(&s, "write_timeout") == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the stalled connection was not cut off"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        open(&s, "connections"),
        1,
        "only the metrics reader's own connection"
    );
    drop(c);
}

#[test]
fn a_trickled_body_gets_408_body_timeout() {
    let s = Server::start(ApiConfig {
        body_timeout_ms: 400,
        ..unlimited()
    });
    let mut c = connect_from(ATTACKER, addr_of(&s.url)).unwrap();
    c.write_all(
        b"POST /v1/timestamps HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\
          content-type: application/json\r\ncontent-length: 100\r\n\r\n{\"digests\"",
    )
    .unwrap();
    let r = support::raw::read_reply(&mut c).expect("an answer");
    assert_eq!(
        (r.status, r.code().as_str()),
        (408, "body_timeout"),
        "{}",
        r.body
    );
    assert_eq!(limited(&s, "body_timeout"), 1);
}

#[test]
fn digests_are_limited_per_client_not_only_requests() {
    let s = Server::start(ApiConfig {
        digests_per_second: 1_000,
        digests_burst: 10_000,
        rate_per_second: 0,
        ..ApiConfig::default()
    });
    let to = addr_of(&s.url);
    let json = [("content-type", "application/json")];
    let (_, first) = digests_body(10_000, "flood-1");
    let (_, second) = digests_body(10_000, "flood-2");
    let r = exchange(ATTACKER, to, "POST", "/v1/timestamps", &json, &first).unwrap();
    assert_eq!(r.status, 202, "{}", r.body);
    let r = exchange(ATTACKER, to, "POST", "/v1/timestamps", &json, &second).unwrap();
    assert_eq!(
        (r.status, r.code().as_str()),
        (429, "rate_limited"),
        "{}",
        r.body
    );
    let retry: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!(
        (9..=11).contains(&retry),
        "10,000 digests at 1,000/s: {retry}"
    );
    assert!(r.body.contains("digests per second"), "{}", r.body);
    assert_eq!(limited(&s, "digests"), 1);
    // Nothing of the refused request was stored.
    assert_eq!(s.node.pending_count(), 10_000);
    // Another client has its own share.
    let (_, good) = digests_body(10_000, "good");
    let r = post(
        &format!("{}/v1/timestamps", s.url),
        "application/json",
        &good,
    );
    assert_eq!(r.status, 202, "{}", r.body);
}

#[test]
fn forwarded_for_names_the_client_only_behind_a_trusted_proxy() {
    let s = Server::start(ApiConfig {
        rate_per_second: 1,
        rate_burst: 2,
        trusted_proxies: vec![tickchain_api::ip_net::IpNet::host(GOOD.into())],
        ..ApiConfig::default()
    });
    let to = addr_of(&s.url);
    let via = |from, xff: &str| {
        exchange(
            from,
            to,
            "GET",
            "/v1/network",
            &[("x-forwarded-for", xff)],
            b"",
        )
        .unwrap()
        .status
    };
    // Behind the proxy (127.0.0.1), each forwarded client has its own bucket.
    assert_eq!([via(GOOD, "10.0.0.1"), via(GOOD, "10.0.0.1")], [200, 200]);
    assert_eq!(via(GOOD, "10.0.0.1"), 429);
    assert_eq!(
        via(GOOD, "10.0.0.2"),
        200,
        "another client behind the proxy"
    );
    // A client cannot name itself: only the right-most untrusted hop counts.
    assert_eq!(via(GOOD, "10.0.0.9, 10.0.0.1"), 429);
    // An untrusted peer's header is ignored: rotating it does not refill its bucket.
    let statuses: Vec<u16> = (0..3)
        .map(|i| via(ATTACKER, &format!("10.1.0.{i}")))
        .collect();
    assert_eq!(statuses, [200, 200, 429]);
    assert!(limited(&s, "requests") >= 3);
}

#[test]
fn health_and_metrics_are_rate_limited_too() {
    let s = Server::start(ApiConfig {
        rate_per_second: 1,
        rate_burst: 3,
        ..ApiConfig::default()
    });
    let to = addr_of(&s.url);
    let statuses: Vec<u16> = (0..5)
        .map(|_| {
            exchange(ATTACKER, to, "GET", "/healthz", &[], b"")
                .unwrap()
                .status
        })
        .collect();
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    let r = exchange(ATTACKER, to, "GET", "/metrics", &[], b"").unwrap();
    assert_eq!(r.status, 429);
}

/// `tickchain_api_open{kind}` on `s`.
fn open(s: &Server, kind: &str) -> u64 {
    let text = get(&format!("{}/metrics", s.url)).body;
    support::raw::labelled(&text, "tickchain_api_open", kind)
}

/// Polls until `open(s, kind)` is `n` (10 s at most).
fn until_open(s: &Server, kind: &str, n: u64) {
    let start = Instant::now();
    while open(s, kind) != n {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{kind} never reached {n}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn waits_and_streams_are_capped_per_client() {
    let s = Server::start(ApiConfig {
        max_waiters_per_client: 2,
        max_streams_per_client: 1,
        wait_timeout_ms: 30_000,
        ..unlimited()
    });
    let to = addr_of(&s.url);
    // Two waits held by the attacker (no tick is finalized, so they wait).
    let mut held = Vec::new();
    for i in 0..2 {
        let (_, body) = digests_body(1, &format!("wait-{i}"));
        let mut c = connect_from(ATTACKER, to).unwrap();
        let head = format!(
            "POST /v1/timestamps?wait=true HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\
             content-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        c.write_all(head.as_bytes()).unwrap();
        c.write_all(&body).unwrap();
        held.push(c);
    }
    until_open(&s, "waiters", 2);
    let (_, body) = digests_body(1, "wait-3");
    let json = [("content-type", "application/json")];
    let r = exchange(
        ATTACKER,
        to,
        "POST",
        "/v1/timestamps?wait=true",
        &json,
        &body,
    )
    .unwrap();
    assert_eq!(
        (r.status, r.code().as_str()),
        (429, "rate_limited"),
        "{}",
        r.body
    );
    assert!(r.header("retry-after").is_some());
    // The well-behaved client may still wait, and gets its proof at the next tick.
    let (_, body) = digests_body(1, "good-wait");
    let url = format!("{}/v1/timestamps?wait=true", s.url);
    let good = std::thread::spawn(move || post(&url, "application/json", &body).status);
    until_open(&s, "waiters", 3);
    s.node.finalize_tick();
    assert_eq!(good.join().unwrap(), 200);
    for c in &mut held {
        let r = support::raw::read_reply(c).expect("the attacker's waits end too");
        assert_eq!(r.status, 200);
    }

    // One stream per client.
    let mut stream = connect_from(ATTACKER, to).unwrap();
    stream
        .write_all(b"GET /v1/ticks/stream HTTP/1.1\r\nhost: x\r\n\r\n")
        .unwrap();
    until_open(&s, "streams", 1);
    let r = exchange(ATTACKER, to, "GET", "/v1/ticks/stream", &[], b"").unwrap();
    assert_eq!(
        (r.status, r.code().as_str()),
        (429, "rate_limited"),
        "{}",
        r.body
    );
    assert!(limited(&s, "waiters") >= 1 && limited(&s, "streams") >= 1);
    drop(stream);
    until_open(&s, "streams", 0);
}

#[test]
fn a_wait_larger_than_max_wait_digests_is_answered_at_once() {
    let s = Server::start(ApiConfig {
        max_wait_digests: 10,
        ..unlimited()
    });
    let url = format!("{}/v1/timestamps?wait=true", s.url);
    let (_, body) = digests_body(11, "big-wait");
    let r = post(&url, "application/json", &body);
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.json()["receipts"].as_array().unwrap().len(), 11);
    assert_eq!(open(&s, "waiters"), 0, "its place was given back");
    // Up to the cap it waits.
    let (_, body) = digests_body(10, "small-wait");
    let waiting = std::thread::spawn(move || post(&url, "application/json", &body).status);
    until_open(&s, "waiters", 1);
    s.node.finalize_tick();
    assert_eq!(waiting.join().unwrap(), 200);
}

#[test]
fn a_stream_ends_at_its_lifetime_with_an_end_event() {
    let s = Server::start(ApiConfig {
        stream_lifetime_secs: 1,
        ..unlimited()
    });
    let r = exchange(
        ATTACKER,
        addr_of(&s.url),
        "GET",
        "/v1/ticks/stream",
        &[],
        b"",
    )
    .expect("the stream ends by itself");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("event: end"), "{}", r.body);
    assert_eq!(limited(&s, "stream_lifetime"), 1);
}

#[test]
fn invented_methods_and_paths_fold_into_one_label() {
    let s = Server::start(unlimited());
    let to = addr_of(&s.url);
    for i in 0..40 {
        let r = exchange(
            ATTACKER,
            to,
            &format!("XMETHOD{i}"),
            &format!("/x/{i}"),
            &[],
            b"",
        )
        .unwrap();
        assert!(r.status == 404 || r.status == 405, "{}", r.status);
        let r = exchange(ATTACKER, to, &format!("XMETHOD{i}"), "/v1/time", &[], b"").unwrap();
        assert_eq!(r.status, 405);
    }
    let text = get(&format!("{}/metrics", s.url)).body;
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("tickchain_api_requests_total{"))
        .collect();
    assert!(
        !text.contains("XMETHOD") && !text.contains("/x/"),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("method=\"other\"")),
        "{lines:?}"
    );
    assert!(lines.len() <= 4, "a bounded label set: {lines:?}");
}

#[test]
fn cross_origin_calls_are_answered_only_for_configured_origins() {
    let app = "https://app.example";
    let s = Server::start(ApiConfig {
        cors_origins: vec![app.into()],
        ..unlimited()
    });
    let to = addr_of(&s.url);
    let preflight = |origin: &str| {
        exchange(
            GOOD,
            to,
            "OPTIONS",
            "/v1/timestamps",
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ],
            b"",
        )
        .unwrap()
    };
    let ok = preflight(app);
    assert_eq!(ok.status, 204);
    assert_eq!(ok.header("access-control-allow-origin"), Some(app));
    assert!(
        ok.header("access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );
    assert!(
        ok.header("access-control-allow-headers")
            .unwrap()
            .contains("content-type")
    );
    let other = preflight("https://evil.example");
    assert_eq!(
        (other.status, other.code().as_str()),
        (403, "origin_not_allowed")
    );
    // The actual POST carries the origin back and exposes Retry-After.
    let (_, body) = digests_body(1, "cors");
    let r = exchange(
        GOOD,
        to,
        "POST",
        "/v1/timestamps",
        &[("content-type", "application/json"), ("origin", app)],
        &body,
    )
    .unwrap();
    assert_eq!(r.status, 202);
    assert_eq!(r.header("access-control-allow-origin"), Some(app));
    assert!(
        r.header("access-control-expose-headers")
            .unwrap()
            .contains("retry-after")
    );
    // Default: no origin is allowed, so no CORS header is sent.
    let plain = Server::start(unlimited());
    let r = exchange(
        GOOD,
        addr_of(&plain.url),
        "GET",
        "/v1/network",
        &[("origin", app)],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), None);
}

#[test]
fn shutdown_finishes_within_its_grace_while_clients_hold_connections() {
    let mut s = Server::start(ApiConfig {
        header_timeout_ms: 60_000,
        shutdown_grace_ms: 500,
        ..unlimited()
    });
    let to = addr_of(&s.url);
    let mut held = Vec::new();
    for _ in 0..5 {
        let mut c = connect_from(ATTACKER, to).unwrap();
        c.write_all(b"GET /v1/time HTTP/1.1\r\nhost: x\r\nx-slow: ")
            .unwrap();
        held.push(c);
    }
    let mut c = connect_from(ATTACKER, to).unwrap();
    c.write_all(b"POST /v1/timestamps HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{")
        .unwrap();
    held.push(c);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        s.stop(Duration::from_secs(5)),
        "serve returned within the grace though clients held connections"
    );
    for c in &mut held {
        assert!(closed_by_server(c));
    }
}
