//! Cross-origin requests from browser apps (CORS, the Fetch standard): preflights answered,
//! allowed origins echoed, the headers a client needs exposed.
//!
//! Owns: which origin may call and what a preflight answers. Never: authentication (CORS only
//! tells browsers what they may read; every request is still limited like any other).

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Methods the API answers cross-origin.
const ALLOW_METHODS: &str = "GET, POST";
/// Request headers a cross-origin request may set.
const ALLOW_HEADERS: &str = "content-type";
/// Response headers a cross-origin page may read besides the CORS-safelisted ones.
const EXPOSE_HEADERS: &str = "retry-after";
/// How long a browser may cache a preflight answer, in seconds.
const MAX_AGE_SECS: &str = "600";

/// Whether `origin` may call, under the configured `cors-origins`.
fn allowed(origins: &[String], origin: &[u8]) -> bool {
    origins
        .iter()
        .any(|o| o == "*" || o.as_bytes().eq_ignore_ascii_case(origin))
}

/// The middleware: answers preflights (`204`, or `403 origin_not_allowed`), and adds
/// `Access-Control-Allow-Origin` to answers for allowed origins.
pub async fn cors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let origins = &state.config.cors_origins;
    let Some(origin) = req.headers().get(header::ORIGIN).cloned() else {
        return next.run(req).await; // not a cross-origin browser request
    };
    let ok = allowed(origins, origin.as_bytes());
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        if !ok {
            return ApiError::OriginNotAllowed(String::from_utf8_lossy(origin.as_bytes()).into())
                .into_response();
        }
        let mut response = StatusCode::NO_CONTENT.into_response();
        let h = response.headers_mut();
        allow_origin(h, origins, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOW_HEADERS),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(MAX_AGE_SECS),
        );
        return response;
    }
    let mut response = next.run(req).await;
    if !origins.iter().any(|o| o == "*") && !origins.is_empty() {
        // The answer depends on the origin: shared caches must key on it.
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("origin"));
    }
    if ok {
        let h = response.headers_mut();
        allow_origin(h, origins, origin);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
    response
}

fn allow_origin(h: &mut HeaderMap, origins: &[String], origin: HeaderValue) {
    if origins.iter().any(|o| o == "*") {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    } else {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_match_exactly_or_by_star() {
        let list = vec!["https://app.example".to_string()];
        assert!(allowed(&list, b"https://app.example"));
        assert!(allowed(&list, b"HTTPS://APP.EXAMPLE"));
        assert!(!allowed(&list, b"https://app.example.evil"));
        assert!(!allowed(&list, b"http://app.example"));
        assert!(!allowed(&[], b"https://app.example"), "default: none");
        assert!(allowed(&["*".to_string()], b"https://anything.example"));
    }
}
