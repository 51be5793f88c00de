//! `GET /v1/ticks/...`: final ticks by height, in pages, the newest, and as a live stream.
//!
//! Owns: paging limits and the server-sent-event framing. Never: reads storage directly.

use crate::error::{ApiError, ErrorBody};
use crate::router::ShuttingDown;
use crate::state::AppState;
use crate::wire::{TickSummary, TicksBody};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::{Extension, Json};
use futures_util::Stream;
use serde::Deserialize;
use std::convert::Infallible;
use tickchain_sdk::Height;
use tokio::sync::broadcast::error::RecvError;

/// The newest final tick.
#[utoipa::path(
    get,
    path = "/v1/ticks/latest",
    responses(
        (status = 200, body = TickSummary),
        (status = 404, description = "not_found: no tick is final yet", body = ErrorBody),
    )
)]
pub async fn latest(State(state): State<AppState>) -> Result<Json<TickSummary>, ApiError> {
    state
        .handle
        .latest_tick()
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("no tick is final yet".into()))
}

/// The final tick at a height.
#[utoipa::path(
    get,
    path = "/v1/ticks/{height}",
    params(("height" = u64, Path, description = "Tick height (first tick: 1)")),
    responses(
        (status = 200, body = TickSummary),
        (status = 400, description = "bad_parameter", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
    )
)]
pub async fn by_height(
    State(state): State<AppState>,
    height: Result<Path<u64>, PathRejection>,
) -> Result<Json<TickSummary>, ApiError> {
    let Path(height) = height.map_err(|e| {
        ApiError::BadParameter(format!("height must be a non-negative integer: {e}"))
    })?;
    state
        .handle
        .tick(Height(height))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no final tick at height {height}")))
}

/// Query of `GET /v1/ticks`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// First height (default 1).
    pub from: Option<u64>,
    /// Most ticks to return (default and cap: the node's `max-tick-page`).
    pub limit: Option<u32>,
}

/// A page of final ticks, ascending from `from`.
#[utoipa::path(
    get,
    path = "/v1/ticks",
    params(PageQuery),
    responses(
        (status = 200, body = TicksBody),
        (status = 400, description = "bad_parameter", body = ErrorBody),
    )
)]
pub async fn page(
    State(state): State<AppState>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<TicksBody>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadParameter(e.body_text()))?;
    let max = state.config.max_tick_page;
    let limit = q.limit.unwrap_or(max);
    if limit == 0 || limit > max {
        return Err(ApiError::BadParameter(format!(
            "limit must be 1 to {max}, got {limit}"
        )));
    }
    let ticks = state
        .handle
        .ticks(Height(q.from.unwrap_or(1)), limit)
        .await?;
    Ok(Json(TicksBody { ticks }))
}

/// Server-sent events: one `tick` event (JSON [`TickSummary`], id = height) per finalized
/// tick; a `lagged` event when this client fell behind and missed some. The stream ends when
/// the node stops publishing ticks or the server shuts down.
#[utoipa::path(
    get,
    path = "/v1/ticks/stream",
    responses((status = 200, description = "text/event-stream of `tick` events", content_type = "text/event-stream"))
)]
pub async fn stream(
    State(state): State<AppState>,
    shutting_down: Option<Extension<ShuttingDown>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = state.handle.subscribe_ticks();
    let stop = shutting_down.map(|Extension(ShuttingDown(w))| w);
    let events = futures_util::stream::unfold((rx, stop), |(mut rx, mut stop)| async move {
        let received = match &mut stop {
            Some(stop) => tokio::select! {
                r = rx.recv() => r,
                _ = stop.wait_for(|down| *down) => return None,
            },
            None => rx.recv().await,
        };
        let event = match received {
            Ok(tick) => Event::default()
                .event("tick")
                .id(tick.height.to_string())
                .json_data(&tick)
                .unwrap_or_else(|_| Event::default().event("error")),
            Err(RecvError::Lagged(n)) => Event::default().event("lagged").data(n.to_string()),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(event), (rx, stop)))
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}
