//! The API's limits and timeouts, as read from the node's config file (`[api]` section).
//!
//! Owns: every tunable of the HTTP surface, its unit and its default. Never: node or consensus
//! settings.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Duration;

/// Settings of the HTTP Timestamp API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ApiConfig {
    /// Address to listen on. Default `127.0.0.1:7300`.
    pub listen: SocketAddr,
    /// Largest accepted request body, in bytes. Default 1,048,576 (1 MiB), enough for
    /// `max-digests` digests of 64 hex characters.
    pub max_body_bytes: usize,
    /// Most digests in one `POST /v1/timestamps`, 1 or more. Default 10,000.
    pub max_digests: usize,
    /// How long a `?wait=true` request waits for its proofs before answering `504` with its
    /// receipts, in milliseconds. Default 10,000.
    pub wait_timeout_ms: u64,
    /// Most `?wait=true` requests waiting at once; more get `503 too_many_waiters`. Default 1,024.
    pub max_waiters: usize,
    /// Sustained requests per second allowed per client IP address (token bucket refill);
    /// 0 disables rate limiting. Default 50.
    pub rate_per_second: u32,
    /// Burst size per client IP address (bucket capacity), in requests. Default 100.
    pub rate_burst: u32,
    /// Most ticks returned by one `GET /v1/ticks`, 1 or more. Default 1,000.
    pub max_tick_page: u32,
    /// Sustained digests per second a client may submit (token bucket refill); 0 disables.
    /// Default 20,000.
    pub digests_per_second: u32,
    /// Digest burst per client (raised to `max-digests` if below it, so a full request can
    /// always pass). Default 50,000.
    pub digests_burst: u32,
    /// Most digests in one `?wait=true` request (its answer holds every proof, ~2.3 KB each).
    /// Default 1,000.
    pub max_wait_digests: usize,
    /// Most `?wait=true` requests one client may have waiting at once. Default 16.
    pub max_waiters_per_client: usize,
    /// Most open TCP connections in total; more are closed at accept. Default 1,024.
    pub max_connections: usize,
    /// Most open TCP connections from one client (a trusted proxy is exempt). Default 32.
    pub max_connections_per_client: usize,
    /// Largest share, in percent, of `max-connections`, `max-waiters` and `max-streams` that
    /// one network of clients (an IPv4 /24, an IPv6 /48) may hold, so many addresses of one
    /// subscriber cannot take every place. Default 25.
    pub network_share_percent: usize,
    /// Longest wait for a complete request head, in milliseconds, counted from when the
    /// connection is ready for a request, so it also closes idle keep-alive connections.
    /// Default 10,000.
    pub header_timeout_ms: u64,
    /// Longest wait for a complete request body, in milliseconds (`408 body_timeout`).
    /// Default 10,000.
    pub body_timeout_ms: u64,
    /// Longest a connection may go without the client taking any of our bytes while we have
    /// some to send, in milliseconds; then it is closed (a stalled tick stream or answer).
    /// Default 15,000.
    pub write_timeout_ms: u64,
    /// Most `GET /v1/ticks/stream` streams open at once. Default 256.
    pub max_streams: usize,
    /// Most tick streams one client may hold open. Default 4.
    pub max_streams_per_client: usize,
    /// A tick stream ends after this many seconds; the client reconnects and fills any gap
    /// from `GET /v1/ticks?from=` (event ids are heights). Default 3,600.
    pub stream_lifetime_secs: u64,
    /// After shutdown begins, connections still open after this many milliseconds are closed.
    /// Default 12,000 (more than `wait-timeout-ms`, so waits end with an answer).
    pub shutdown_grace_ms: u64,
    /// TCP peers whose `X-Forwarded-For` names the client (a TLS proxy in front), as
    /// addresses or `ADDRESS/PREFIX` networks. Default none: the TCP peer is the client.
    pub trusted_proxies: Vec<crate::ip_net::IpNet>,
    /// Origins a browser app may call this API from (CORS), e.g. `https://app.example`, or
    /// `*` for any. Default none.
    pub cors_origins: Vec<String>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 7300)),
            max_body_bytes: 1 << 20,
            max_digests: 10_000,
            wait_timeout_ms: 10_000,
            max_waiters: 1_024,
            rate_per_second: 50,
            rate_burst: 100,
            max_tick_page: 1_000,
            digests_per_second: 20_000,
            digests_burst: 50_000,
            max_wait_digests: 1_000,
            max_waiters_per_client: 16,
            max_connections: 1_024,
            max_connections_per_client: 32,
            network_share_percent: 25,
            header_timeout_ms: 10_000,
            body_timeout_ms: 10_000,
            write_timeout_ms: 15_000,
            max_streams: 256,
            max_streams_per_client: 4,
            stream_lifetime_secs: 3_600,
            shutdown_grace_ms: 12_000,
            trusted_proxies: Vec::new(),
            cors_origins: Vec::new(),
        }
    }
}

/// A setting outside its range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("api.{field} must be {expected}, got {found}")]
pub struct ConfigError {
    /// The kebab-case field name.
    pub field: &'static str,
    /// The allowed range.
    pub expected: &'static str,
    /// The configured value.
    pub found: String,
}

impl ApiConfig {
    /// Checks every range stated in the field docs.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let check = |ok: bool, field, expected, found: String| {
            if ok {
                Ok(())
            } else {
                Err(ConfigError {
                    field,
                    expected,
                    found,
                })
            }
        };
        check(
            self.max_digests >= 1,
            "max-digests",
            "at least 1",
            self.max_digests.to_string(),
        )?;
        check(
            self.max_body_bytes >= 1024,
            "max-body-bytes",
            "at least 1024",
            self.max_body_bytes.to_string(),
        )?;
        check(
            self.max_tick_page >= 1,
            "max-tick-page",
            "at least 1",
            self.max_tick_page.to_string(),
        )?;
        check(
            self.rate_per_second == 0 || self.rate_burst >= 1,
            "rate-burst",
            "at least 1 when rate-per-second is set",
            self.rate_burst.to_string(),
        )?;
        for (field, value) in [
            ("max-connections", self.max_connections),
            (
                "max-connections-per-client",
                self.max_connections_per_client,
            ),
            ("max-waiters-per-client", self.max_waiters_per_client),
            ("max-wait-digests", self.max_wait_digests),
            ("max-streams-per-client", self.max_streams_per_client),
        ] {
            check(value >= 1, field, "at least 1", value.to_string())?;
        }
        check(
            (1..=100).contains(&self.network_share_percent),
            "network-share-percent",
            "1 to 100",
            self.network_share_percent.to_string(),
        )?;
        for (field, value) in [
            ("header-timeout-ms", self.header_timeout_ms),
            ("body-timeout-ms", self.body_timeout_ms),
            ("write-timeout-ms", self.write_timeout_ms),
            ("stream-lifetime-secs", self.stream_lifetime_secs),
        ] {
            check(value >= 1, field, "at least 1", value.to_string())?;
        }
        for origin in &self.cors_origins {
            check(
                origin == "*"
                    || ((origin.starts_with("http://") || origin.starts_with("https://"))
                        && !origin.ends_with('/')
                        && origin.is_ascii()
                        && !origin.contains(char::is_whitespace)),
                "cors-origins",
                "`*` or origins like https://app.example (scheme and host, no path)",
                origin.clone(),
            )?;
        }
        Ok(())
    }

    /// The digest burst in force: `digests-burst`, at least `max-digests`.
    pub fn digests_burst(&self) -> u32 {
        self.digests_burst
            .max(u32::try_from(self.max_digests).unwrap_or(u32::MAX))
    }

    /// The request-head timeout (also the idle keep-alive timeout).
    pub fn header_timeout(&self) -> Duration {
        Duration::from_millis(self.header_timeout_ms)
    }

    /// The request-body timeout.
    pub fn body_timeout(&self) -> Duration {
        Duration::from_millis(self.body_timeout_ms)
    }

    /// How long a write may stall.
    pub fn write_timeout(&self) -> Duration {
        Duration::from_millis(self.write_timeout_ms)
    }

    /// How long a tick stream may stay open.
    pub fn stream_lifetime(&self) -> Duration {
        Duration::from_secs(self.stream_lifetime_secs)
    }

    /// How long shutdown waits for open connections.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }

    /// The `?wait=true` timeout.
    pub fn wait_timeout(&self) -> Duration {
        Duration::from_millis(self.wait_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_case_fields_parse_and_unknown_fields_are_rejected() {
        let c: ApiConfig = serde_json::from_str(r#"{"max-digests": 5, "wait-timeout-ms": 20}"#)
            .expect("known fields");
        assert_eq!(c.max_digests, 5);
        assert_eq!(c.wait_timeout(), Duration::from_millis(20));
        assert_eq!(c.max_body_bytes, ApiConfig::default().max_body_bytes);
        assert!(serde_json::from_str::<ApiConfig>(r#"{"max_digests": 5}"#).is_err());
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let c: ApiConfig =
            serde_json::from_str(r#"{"trusted-proxies": ["10.0.0.0/8", "127.0.0.1"]}"#)
                .expect("networks and addresses");
        assert_eq!(c.trusted_proxies.len(), 2);
        assert!(c.trusted_proxies[0].contains("10.9.8.7".parse().unwrap()));
        let bad = serde_json::from_str::<ApiConfig>(r#"{"trusted-proxies": ["10.0.0.0/40"]}"#);
        assert!(bad.unwrap_err().to_string().contains("10.0.0.0/40"));
    }

    #[test]
    fn the_defaults_are_valid_and_out_of_range_values_are_named() {
        assert_eq!(ApiConfig::default().validate(), Ok(()));
        let bad = ApiConfig {
            max_digests: 0,
            ..ApiConfig::default()
        };
        let e = bad.validate().unwrap_err();
        assert_eq!(e.to_string(), "api.max-digests must be at least 1, got 0");
    }
}
