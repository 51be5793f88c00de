//! The handlers, one file per resource.
//!
//! Owns: request → handle call → response. Never: shared state construction or middleware.

pub mod dashboard;
pub mod evidence;
pub mod node;
pub mod ops;
pub mod proofs;
pub mod stamp;
pub mod ticks;
pub mod tsa;

/// A page size: `requested`, or `max` when absent; `400 bad_parameter` outside 1 to `max`.
pub(crate) fn page_limit(requested: Option<u32>, max: u32) -> Result<u32, crate::error::ApiError> {
    let limit = requested.unwrap_or(max);
    if limit == 0 || limit > max {
        return Err(crate::error::ApiError::BadParameter(format!(
            "limit must be 1 to {max}, got {limit}"
        )));
    }
    Ok(limit)
}

/// A place for a request that waits for proofs (`?wait=true`, a time-stamp token), or the
/// refusal: `503 too_many_waiters` when the server is full, else `429` naming the client's or
/// its network's share. Taken before the body is read.
pub(crate) fn take_waiter(
    state: &crate::state::AppState,
    client: &crate::client::ClientAddr,
) -> Result<crate::slots::Slot, crate::error::ApiError> {
    let config = &state.config;
    state.waiters.try_take(Some(client.key)).map_err(|full| {
        state.refusals.count(crate::refusals::Limited::Waiters);
        slot_refused(
            full,
            crate::error::ApiError::TooManyWaiters(config.max_waiters),
            format!(
                "this client already has {} requests waiting for proofs",
                config.max_waiters_per_client
            ),
            "waiting requests",
            config.wait_timeout(),
        )
    })
}

/// The answer to a request refused a place (a wait, a stream): `total` when the server is
/// full, else `429 rate_limited` naming the client's or its network's share.
pub(crate) fn slot_refused(
    full: crate::slots::Full,
    total: crate::error::ApiError,
    client_share: String,
    what: &str,
    retry_after: std::time::Duration,
) -> crate::error::ApiError {
    use crate::slots::Full;
    let what = match full {
        Full::Total => return total,
        Full::Client => client_share,
        Full::Network => format!("this client's network already holds its share of {what}"),
    };
    crate::error::ApiError::ClientQuota { what, retry_after }
}
