//! The handlers, one file per resource.
//!
//! Owns: request → handle call → response. Never: shared state construction or middleware.

pub mod evidence;
pub mod node;
pub mod ops;
pub mod proofs;
pub mod stamp;
pub mod ticks;

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
