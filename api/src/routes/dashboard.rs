//! The dashboard every node serves at `/` (issue 17): its static page, script and stylesheet,
//! embedded in the binary (built from `dashboard/` with esbuild; `scripts/check-dashboard`
//! checks the committed bundle against its sources), and the two routes it reads besides the
//! rest of the API: `GET /v1/history` and `GET /v1/genesis`.
//!
//! Owns: the page's Content-Security-Policy (no inline script or style, nothing but this
//! origin). Never: any data of its own; the page reads the node's API like any client.

use crate::error::{ApiError, ErrorBody};
use crate::history::{HISTORY_SAMPLES, HistoryBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The page's policy: scripts, styles and connections from this origin only; no inline
/// script or style element, no plugins, no framing, no form posts elsewhere.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self' data: blob:; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

const INDEX: &[u8] = include_bytes!("../../assets/dashboard/index.html");
const SCRIPT: &[u8] = include_bytes!("../../assets/dashboard/app.js");
const STYLE: &[u8] = include_bytes!("../../assets/dashboard/app.css");

fn asset(content_type: &'static str, body: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// `GET /`: the dashboard page.
pub async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX)
}

/// `GET /dashboard/app.js`: its script (one bundle, no other origin).
pub async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

/// `GET /dashboard/app.css`: its stylesheet.
pub async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

/// The node's last five minutes, one sample a second: its interval's width, each source's
/// and peer's offset and radius, sync state, newest height and its lag, pool depth and view.
#[utoipa::path(
    get,
    path = "/v1/history",
    responses(
        (status = 200, description = "Up to 300 samples, oldest first (none in the node's first second)", body = HistoryBody),
    )
)]
pub async fn history(State(state): State<AppState>) -> Json<HistoryBody> {
    let samples = state.history.snapshot();
    debug_assert!(samples.len() <= HISTORY_SAMPLES);
    Json(HistoryBody {
        interval_ms: 1000,
        samples,
    })
}

/// The newest anchor this node has recorded on each chain, and when the next is due.
#[utoipa::path(
    get,
    path = "/v1/anchors",
    responses(
        (status = 200, description = "One entry per chain with a recorded anchor (none when the node does not anchor)", body = crate::wire::AnchorsBody),
        (status = 500, description = "internal: the node's storage failed", body = ErrorBody),
    )
)]
pub async fn anchors(
    State(state): State<AppState>,
) -> Result<Json<crate::wire::AnchorsBody>, ApiError> {
    Ok(Json(crate::wire::AnchorsBody {
        anchors: state.handle.anchors().await?,
    }))
}

/// The genesis this node runs under, as its `genesis.json` holds it (so a page can verify
/// proofs offline against it; an auditor should hold its own copy and compare the hash).
#[utoipa::path(
    get,
    path = "/v1/genesis",
    responses(
        (status = 200, description = "The genesis document (`specs/encoding.md` §3.1)", body = Object),
        (status = 404, description = "not_found: this node does not publish its genesis", body = ErrorBody),
    )
)]
pub async fn genesis(State(state): State<AppState>) -> Result<Response, ApiError> {
    let genesis = state
        .handle
        .genesis()
        .ok_or_else(|| ApiError::NotFound("this node does not publish its genesis".into()))?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        genesis.to_json(),
    )
        .into_response())
}
