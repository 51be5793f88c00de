//! What every handler shares: the node handle, the config and the API's own bookkeeping.
//!
//! Owns: construction of the shared state from a handle and a config. Never: request logic.

use crate::client::TrustedProxies;
use crate::config::ApiConfig;
use crate::handle::NodeHandle;
use crate::metrics::RequestMetrics;
use crate::rate_limit::RateLimiter;
use crate::refusals::Refusals;
use crate::slots::Slots;
use std::sync::Arc;

/// Shared state of one API server.
#[derive(Clone)]
pub struct AppState {
    /// The node.
    pub handle: Arc<dyn NodeHandle>,
    /// Limits and timeouts.
    pub config: Arc<ApiConfig>,
    /// Places for `?wait=true` requests (`max-waiters`, `max-waiters-per-client`).
    pub waiters: Arc<Slots>,
    /// Places for tick streams (`max-streams`, `max-streams-per-client`).
    pub streams: Arc<Slots>,
    /// Places for TCP connections (`max-connections`, `max-connections-per-client`).
    pub connections: Arc<Slots>,
    /// Per-client request buckets.
    pub limiter: Arc<RateLimiter>,
    /// Per-client request buckets for `/healthz` and `/metrics`, apart from the API's, so a
    /// health check behind a busy client still answers.
    pub ops_limiter: Arc<RateLimiter>,
    /// Per-client digest buckets.
    pub digests: Arc<RateLimiter>,
    /// Whose `X-Forwarded-For` is believed.
    pub proxies: Arc<TrustedProxies>,
    /// Request counters for `/metrics`.
    pub requests: Arc<RequestMetrics>,
    /// What the API refused to protect itself, for `/metrics`.
    pub refusals: Arc<Refusals>,
    /// The last five minutes, one sample a second (`GET /v1/history`).
    pub history: Arc<crate::history::History>,
    /// Digests this API accepted (durable) since start, for the dashboard's intake rate.
    pub digests_accepted: Arc<std::sync::atomic::AtomicU64>,
}

impl AppState {
    /// Counts `n` digests accepted (durable).
    pub fn count_accepted(&self, n: usize) {
        self.digests_accepted
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
    }

    /// State for serving `handle` under `config`.
    pub fn new(handle: Arc<dyn NodeHandle>, config: ApiConfig) -> AppState {
        AppState {
            handle,
            waiters: Slots::new(
                config.max_waiters,
                config.max_waiters_per_client,
                config.network_share_percent,
            ),
            streams: Slots::new(
                config.max_streams,
                config.max_streams_per_client,
                config.network_share_percent,
            ),
            connections: Slots::new(
                config.max_connections,
                config.max_connections_per_client,
                config.network_share_percent,
            ),
            limiter: Arc::new(RateLimiter::new(config.rate_per_second, config.rate_burst)),
            digests: Arc::new(RateLimiter::new(
                config.digests_per_second,
                config.digests_burst(),
            )),
            ops_limiter: Arc::new(RateLimiter::new(config.rate_per_second, config.rate_burst)),
            proxies: Arc::new(TrustedProxies::new(&config.trusted_proxies)),
            requests: Arc::new(RequestMetrics::default()),
            refusals: Arc::new(Refusals::default()),
            history: Arc::default(),
            digests_accepted: Arc::default(),
            config: Arc::new(config),
        }
    }
}
