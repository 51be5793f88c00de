//! A client over its token bucket gets `429 rate_limited` with `Retry-After`.

mod support;

use support::{Server, get};
use tickchain_api::ApiConfig;

#[test]
fn requests_beyond_the_burst_get_429_with_retry_after() {
    let s = Server::start(ApiConfig {
        rate_per_second: 1,
        rate_burst: 3,
        ..ApiConfig::default()
    });
    let url = format!("{}/v1/network", s.url);
    for _ in 0..3 {
        assert_eq!(get(&url).status, 200);
    }
    let r = get(&url);
    assert_eq!(
        (r.status, r.code().as_str()),
        (429, "rate_limited"),
        "{}",
        r.body
    );
    let retry: u64 = r
        .retry_after
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=2).contains(&retry), "{retry}");
}
