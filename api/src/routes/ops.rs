//! Operational routes: `/metrics`, `/healthz`, `/openapi.json`, and the JSON 404/405 fallbacks.
//!
//! Owns: the answers that are not part of the Timestamp API proper. Never: node logic.

use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, Uri, header};
use axum::response::IntoResponse;

/// Prometheus text exposition of the node's and the API's metrics.
#[utoipa::path(
    get,
    path = "/metrics",
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain"))
)]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let snapshot = state.handle.metrics().await;
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.requests.render(&snapshot) + &crate::metrics::render_limited(&state),
    )
}

/// Liveness: `200 ok` while the server answers.
#[utoipa::path(
    get,
    path = "/healthz",
    responses((status = 200, description = "`ok`", content_type = "text/plain"))
)]
pub async fn healthz() -> &'static str {
    "ok"
}

/// This API's OpenAPI 3.1 document, generated from the handlers.
#[utoipa::path(
    get,
    path = "/openapi.json",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json"))
)]
pub async fn openapi(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(crate::openapi::document_for(&state.config))
}

/// Unknown route: `404 not_found`.
pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no route {}", uri.path()))
}

/// Known route, wrong method: `405 method_not_allowed`.
pub async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}
