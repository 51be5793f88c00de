//! Every client error has its own status and code, through real HTTP on 127.0.0.1.

mod support;

use support::{Server, digests_body, get, post, request};
use tickchain_api::ApiConfig;

const JSON: &str = "application/json";
const BINARY: &str = "application/octet-stream";

fn server() -> Server {
    Server::start(ApiConfig {
        max_digests: 10,
        max_body_bytes: 4096,
        ..ApiConfig::default()
    })
}

fn stamp_url(s: &Server) -> String {
    format!("{}/v1/timestamps", s.url)
}

#[test]
fn a_digest_with_a_non_hex_character_is_400_bad_hex() {
    let s = server();
    let body = format!(r#"{{"digests": ["{}"]}}"#, "zz".repeat(32));
    let r = post(&stamp_url(&s), JSON, body.as_bytes());
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "bad_hex"),
        "{}",
        r.body
    );
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("digests[0]")
    );
}

#[test]
fn a_digest_of_the_wrong_length_is_400_wrong_length() {
    let s = server();
    let r = post(&stamp_url(&s), JSON, br#"{"digests": ["abcd"]}"#);
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "wrong_length"),
        "{}",
        r.body
    );
}

#[test]
fn more_digests_than_the_limit_is_400_too_many_digests() {
    let s = server();
    let (_, body) = digests_body(11, "too-many");
    let r = post(&stamp_url(&s), JSON, &body);
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "too_many_digests"),
        "{}",
        r.body
    );
}

#[test]
fn no_digests_is_400_no_digests() {
    let s = server();
    let r = post(&stamp_url(&s), JSON, br#"{"digests": []}"#);
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "no_digests"),
        "{}",
        r.body
    );
}

#[test]
fn malformed_json_or_unknown_fields_are_400_bad_json() {
    let s = server();
    for body in [&b"{"[..], br#"{"digest": []}"#, br#"[1, 2]"#, b""] {
        let r = post(&stamp_url(&s), JSON, body);
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, "bad_json"),
            "{}",
            r.body
        );
    }
}

#[test]
fn a_body_over_the_limit_is_413_body_too_large() {
    let s = server();
    let body = vec![b' '; 5000];
    let r = post(&stamp_url(&s), JSON, &body);
    assert_eq!(
        (r.status, r.code().as_str()),
        (413, "body_too_large"),
        "{}",
        r.body
    );
}

#[test]
fn a_body_that_is_not_json_is_415_unsupported_media_type() {
    let s = server();
    let (_, body) = digests_body(1, "ct");
    let r = post(&stamp_url(&s), "text/plain", &body);
    assert_eq!(
        (r.status, r.code().as_str()),
        (415, "unsupported_media_type"),
        "{}",
        r.body
    );
}

#[test]
fn a_binary_body_is_digests_back_to_back_and_malformed_ones_get_their_own_codes() {
    let s = server();
    let body: Vec<u8> = (0u8..96).collect();
    let r = post(&stamp_url(&s), BINARY, &body);
    assert_eq!(r.status, 202, "{}", r.body);
    let receipts = r.json()["receipts"].as_array().unwrap().clone();
    assert_eq!(receipts.len(), 3);
    assert_eq!(
        receipts[1]["digest"].as_str().unwrap(),
        tickchain_sdk::Digest(body[32..64].try_into().unwrap()).to_hex()
    );
    for (body, status, code) in [
        (&body[..95], 400, "wrong_length"),
        (&[][..], 400, "no_digests"),
        (&[7u8; 32 * 11][..], 400, "too_many_digests"),
    ] {
        let r = post(&stamp_url(&s), BINARY, body);
        assert_eq!((r.status, r.code().as_str()), (status, code), "{}", r.body);
    }
}

#[test]
fn an_unknown_route_is_404_not_found() {
    let s = server();
    let r = get(&format!("{}/v2/nothing", s.url));
    assert_eq!(
        (r.status, r.code().as_str()),
        (404, "not_found"),
        "{}",
        r.body
    );
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
}

#[test]
fn a_wrong_method_is_405_method_not_allowed() {
    let s = server();
    let r = request("GET", &stamp_url(&s));
    assert_eq!(
        (r.status, r.code().as_str()),
        (405, "method_not_allowed"),
        "{}",
        r.body
    );
    let r = request("DELETE", &format!("{}/v1/ticks/latest", s.url));
    assert_eq!(
        (r.status, r.code().as_str()),
        (405, "method_not_allowed"),
        "{}",
        r.body
    );
}

#[test]
fn malformed_parameters_are_400_bad_parameter() {
    let s = server();
    for path in [
        "/v1/ticks/abc",
        "/v1/ticks?limit=0",
        "/v1/ticks?from=-1",
        "/v1/time?nonce=xyz",
        "/v1/timestamps?wait=maybe",
    ] {
        let url = format!("{}{path}", s.url);
        let r = if path.starts_with("/v1/timestamps") {
            post(&url, JSON, &digests_body(1, "p").1)
        } else {
            get(&url)
        };
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, "bad_parameter"),
            "{path}: {}",
            r.body
        );
    }
}

#[test]
fn a_malformed_digest_in_the_path_is_400() {
    let s = server();
    let r = get(&format!("{}/v1/proofs/xyz", s.url));
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "bad_hex"),
        "{}",
        r.body
    );
    let r = get(&format!("{}/v1/proofs/abcd", s.url));
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "wrong_length"),
        "{}",
        r.body
    );
}

#[test]
fn a_full_pool_is_503_unavailable_with_retry_after_and_a_storage_failure_is_an_opaque_500() {
    let s = server();
    let (digests, body) = digests_body(1, "refused");
    s.node
        .refuse_submissions(Some(tickchain_api::SubmitError::Overloaded {
            retry_after: std::time::Duration::from_millis(1_500),
        }));
    let r = post(&stamp_url(&s), JSON, &body);
    assert_eq!(
        (r.status, r.code().as_str()),
        (503, "unavailable"),
        "{}",
        r.body
    );
    assert_eq!(r.retry_after.as_deref(), Some("2"));
    s.node
        .refuse_submissions(Some(tickchain_api::SubmitError::Storage(
            "disk /dev/sda1 full".into(),
        )));
    let r = post(&stamp_url(&s), JSON, &body);
    assert_eq!(
        (r.status, r.code().as_str()),
        (500, "internal"),
        "{}",
        r.body
    );
    assert!(
        !r.body.contains("sda1"),
        "storage details stay in the node log"
    );
    let r = get(&format!("{}/v1/proofs/{}", s.url, digests[0]));
    assert_eq!(r.status, 404, "a refused digest is not stored");
}
