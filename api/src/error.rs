//! API errors and their JSON form `{"error": {"code", "message"}}`.
//!
//! Owns: the error codes clients match on, and which HTTP status each maps to. Never: logging
//! policy beyond server-side failures.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A failed request, as a client sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The body is not the expected JSON shape (`400 bad_json`).
    #[error("{0}")]
    BadJson(String),
    /// A digest contains a character that is not hex (`400 bad_hex`).
    #[error("{0}")]
    BadHex(String),
    /// A digest is not 64 hex characters (`400 wrong_length`).
    #[error("{0}")]
    WrongLength(String),
    /// The request carries no digests (`400 no_digests`).
    #[error("the request carries no digests; send 1 or more")]
    NoDigests,
    /// More digests than allowed (`400 too_many_digests`).
    #[error("{found} digests in one request, at most {max}")]
    TooManyDigests {
        /// Digests sent.
        found: usize,
        /// The cap.
        max: usize,
    },
    /// A query or path parameter is malformed (`400 bad_parameter`).
    #[error("{0}")]
    BadParameter(String),
    /// Body over `max-body-bytes` (`413 body_too_large`).
    #[error("request body is over the {max}-byte limit")]
    BodyTooLarge {
        /// The cap in bytes.
        max: usize,
    },
    /// The body is neither `application/json` nor `application/octet-stream` (`415
    /// unsupported_media_type`).
    #[error("expected content-type application/json or application/octet-stream, got {0}")]
    UnsupportedMediaType(String),
    /// Nothing here (`404 not_found`).
    #[error("{0}")]
    NotFound(String),
    /// The route exists but not with this method (`405 method_not_allowed`).
    #[error("method {0} is not allowed on this route")]
    MethodNotAllowed(String),
    /// The client exceeded its rate (`429 rate_limited`, with `Retry-After`).
    #[error("too many requests; retry after {} s", retry_after.as_secs().max(1))]
    RateLimited {
        /// How long until a request would be admitted.
        retry_after: Duration,
    },
    /// The node is busy or not ready (`503 unavailable`, with `Retry-After` when known).
    #[error("{message}")]
    Unavailable {
        /// What is busy.
        message: String,
        /// Suggested delay.
        retry_after: Option<Duration>,
    },
    /// Too many `?wait=true` requests at once (`503 too_many_waiters`).
    #[error("{0} requests are already waiting for proofs; retry without wait=true or later")]
    TooManyWaiters(usize),
    /// A client over one of its own shares: digests per second, waiting requests or open
    /// streams (`429 rate_limited`, with `Retry-After`).
    #[error("{what}; retry after {} s", retry_after.as_secs().max(1))]
    ClientQuota {
        /// Which share, and how far over it.
        what: String,
        /// How long until the request would be admitted (an estimate for held resources).
        retry_after: Duration,
    },
    /// Too many tick streams open at once (`503 too_many_streams`).
    #[error("{0} tick streams are already open; retry later or poll GET /v1/ticks")]
    TooManyStreams(usize),
    /// The request body did not arrive in time (`408 body_timeout`).
    #[error("the request body did not arrive within {0} ms")]
    BodyTimeout(u64),
    /// A cross-origin request from an origin not in `cors-origins` (`403 origin_not_allowed`).
    #[error("origin {0} may not call this API (the node's cors-origins does not list it)")]
    OriginNotAllowed(String),
    /// The node failed (`500 internal`). The detail goes to the node's log, not the client.
    #[error("the node failed to answer; its log has the cause")]
    Internal(String),
}

/// The JSON error envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The error inside [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `bad_hex`.
    pub code: String,
    /// Human-readable explanation: what was expected and what arrived.
    pub message: String,
}

impl ApiError {
    /// The stable code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadJson(_) => "bad_json",
            ApiError::BadHex(_) => "bad_hex",
            ApiError::WrongLength(_) => "wrong_length",
            ApiError::NoDigests => "no_digests",
            ApiError::TooManyDigests { .. } => "too_many_digests",
            ApiError::BadParameter(_) => "bad_parameter",
            ApiError::BodyTooLarge { .. } => "body_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable { .. } => "unavailable",
            ApiError::TooManyWaiters(_) => "too_many_waiters",
            ApiError::ClientQuota { .. } => "rate_limited",
            ApiError::TooManyStreams(_) => "too_many_streams",
            ApiError::BodyTimeout(_) => "body_timeout",
            ApiError::OriginNotAllowed(_) => "origin_not_allowed",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadJson(_)
            | ApiError::BadHex(_)
            | ApiError::WrongLength(_)
            | ApiError::NoDigests
            | ApiError::TooManyDigests { .. }
            | ApiError::BadParameter(_) => StatusCode::BAD_REQUEST,
            ApiError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RateLimited { .. } | ApiError::ClientQuota { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::Unavailable { .. }
            | ApiError::TooManyWaiters(_)
            | ApiError::TooManyStreams(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::OriginNotAllowed(_) => StatusCode::FORBIDDEN,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The JSON envelope.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code().into(),
                message: self.to_string(),
            },
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::RateLimited { retry_after } => Some(*retry_after),
            ApiError::Unavailable { retry_after, .. } => *retry_after,
            ApiError::ClientQuota { retry_after, .. } => Some(*retry_after),
            ApiError::TooManyWaiters(_) | ApiError::TooManyStreams(_) => {
                Some(Duration::from_secs(1))
            }
            _ => None,
        }
    }
}

/// Log lines that requests provoke: at most one per 10 s.
static LOG_LIMIT: LogLimit = LogLimit::new(10);

/// Allows one event per `secs` seconds, process-wide, without a lock.
struct LogLimit {
    secs: u64,
    last: std::sync::atomic::AtomicU64,
}

impl LogLimit {
    const fn new(secs: u64) -> LogLimit {
        LogLimit {
            secs,
            last: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn allow(&self) -> bool {
        use std::sync::atomic::Ordering;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let last = self.last.load(Ordering::Relaxed);
        now >= last.saturating_add(self.secs)
            && self
                .last
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// `Retry-After` in whole seconds, rounded up, at least 1.
pub fn retry_after_header(d: Duration) -> HeaderValue {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    HeaderValue::from(secs.max(1))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Clients can cause these at will: at most one line per interval (the counters in
        // `/metrics` have every one).
        match &self {
            ApiError::Internal(detail) if LOG_LIMIT.allow() => {
                tracing::error!(detail, "request failed")
            }
            e if e.status().is_server_error() && LOG_LIMIT.allow() => {
                tracing::warn!(code = e.code(), error = %e, "request refused")
            }
            _ => {}
        }
        let mut response = (self.status(), Json(self.body())).into_response();
        if let Some(d) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after_header(d));
        }
        response
    }
}

impl From<crate::handle::HandleError> for ApiError {
    fn from(e: crate::handle::HandleError) -> Self {
        match e {
            crate::handle::HandleError::Unavailable(m) => ApiError::Unavailable {
                message: m,
                retry_after: Some(Duration::from_secs(1)),
            },
            crate::handle::HandleError::Storage(m) => ApiError::Internal(format!("storage: {m}")),
        }
    }
}

impl From<crate::handle::SubmitError> for ApiError {
    fn from(e: crate::handle::SubmitError) -> Self {
        use crate::handle::SubmitError;
        match e {
            SubmitError::Overloaded { retry_after } => ApiError::Unavailable {
                message: e.to_string(),
                retry_after: Some(retry_after),
            },
            SubmitError::LowDisk { retry_after, .. } => ApiError::Unavailable {
                message: e.to_string(),
                retry_after: Some(retry_after),
            },
            SubmitError::Unsynchronised => ApiError::Unavailable {
                message: e.to_string(),
                retry_after: Some(Duration::from_secs(1)),
            },
            SubmitError::Storage(m) => ApiError::Internal(format!("storage: {m}")),
        }
    }
}
