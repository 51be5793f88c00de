//! `GET /v1/time` and `GET /v1/network`: what the node says about UTC and about its network.
//!
//! Owns: nonce parsing. Never: signs anything itself (the handle signs with the node key).

use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::wire::{NetworkStatus, Nonce};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::Deserialize;
use tickchain_sdk::time_response::SignedTime;

/// Query of `GET /v1/time`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TimeQuery {
    /// Client nonce, up to 64 bytes as hex, echoed inside the signed statement (empty if absent).
    pub nonce: Option<String>,
}

/// The node's current `[earliest, latest]`, sync state, sources and newest tick, signed.
#[utoipa::path(
    get,
    path = "/v1/time",
    params(TimeQuery),
    responses(
        (status = 200, description = "The signed statement; verify with the node's genesis key", body = crate::schemas::SignedTimeSchema),
        (status = 400, description = "bad_parameter: nonce not hex or too long", body = ErrorBody),
    )
)]
pub async fn time(
    State(state): State<AppState>,
    query: Result<Query<TimeQuery>, QueryRejection>,
) -> Result<Json<SignedTime>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadParameter(e.body_text()))?;
    let nonce = Nonce::from_hex(q.nonce.as_deref().unwrap_or_default())
        .map_err(|e| ApiError::BadParameter(e.to_string()))?;
    Ok(Json(state.handle.time(nonce).await?))
}

/// The network's genesis, members and this node's status.
#[utoipa::path(
    get,
    path = "/v1/network",
    responses((status = 200, body = NetworkStatus))
)]
pub async fn network(State(state): State<AppState>) -> Result<Json<NetworkStatus>, ApiError> {
    Ok(Json(state.handle.network().await?))
}
