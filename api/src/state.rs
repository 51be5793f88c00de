//! What every handler shares: the node handle, the config and the API's own bookkeeping.
//!
//! Owns: construction of the shared state from a handle and a config. Never: request logic.

use crate::config::ApiConfig;
use crate::handle::NodeHandle;
use crate::metrics::RequestMetrics;
use crate::rate_limit::RateLimiter;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Shared state of one API server.
#[derive(Clone)]
pub struct AppState {
    /// The node.
    pub handle: Arc<dyn NodeHandle>,
    /// Limits and timeouts.
    pub config: Arc<ApiConfig>,
    /// Permits for `?wait=true` requests (`max-waiters`).
    pub waiters: Arc<Semaphore>,
    /// Per-client token buckets.
    pub limiter: Arc<RateLimiter>,
    /// Request counters for `/metrics`.
    pub requests: Arc<RequestMetrics>,
}

impl AppState {
    /// State for serving `handle` under `config`.
    pub fn new(handle: Arc<dyn NodeHandle>, config: ApiConfig) -> AppState {
        AppState {
            handle,
            waiters: Arc::new(Semaphore::new(config.max_waiters)),
            limiter: Arc::new(RateLimiter::new(config.rate_per_second, config.rate_burst)),
            requests: Arc::new(RequestMetrics::default()),
            config: Arc::new(config),
        }
    }
}
