//! Reading a request body under a size cap and a deadline.
//!
//! Owns: the only place the API buffers a body. Never: parses it (`decode` does).

use crate::error::ApiError;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use futures_util::StreamExt;
use std::time::Duration;

/// Most bytes reserved for a body before they arrive.
const PREALLOCATE: usize = 64 * 1024;

/// The whole body: at most `max` bytes (`413 body_too_large`, refused from `Content-Length`
/// before reading when it says so), arriving within `timeout` (`408 body_timeout`).
pub async fn read_body(
    headers: &HeaderMap,
    body: Body,
    max: usize,
    timeout: Duration,
) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(ApiError::BodyTooLarge { max });
    }
    let read = async {
        let mut stream = body.into_data_stream();
        // Reserve no more than a first chunk's worth on the client's word.
        let mut buf = Vec::with_capacity(declared.map_or(0, |n| n as usize).min(PREALLOCATE));
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| ApiError::BadJson(format!("reading the body: {e}")))?;
            if buf.len() + chunk.len() > max {
                return Err(ApiError::BodyTooLarge { max });
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(buf))
    };
    tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| ApiError::BodyTimeout(timeout.as_millis() as u64))?
}
