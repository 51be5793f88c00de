//! `GET /v1/ticks/...`: final ticks by height, in pages, the newest, and as a live stream.
//!
//! Owns: paging limits and the server-sent-event framing. Never: reads storage directly.

use crate::client::ClientAddr;
use crate::error::{ApiError, ErrorBody};
use crate::refusals::Limited;
use crate::router::ShuttingDown;
use crate::slots::Slot;
use crate::state::AppState;
use crate::wire::{TickSummary, TicksBody};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::{Extension, Json};
use futures_util::Stream;
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;
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

/// Largest height a client may name (the documented `int64` bound; no chain gets near it).
pub const MAX_HEIGHT: u64 = i64::MAX as u64;

/// Query of `GET /v1/ticks`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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
    let limit = super::page_limit(q.limit, state.config.max_tick_page)?;
    let from = q.from.unwrap_or(1);
    if from > MAX_HEIGHT {
        return Err(ApiError::BadParameter(format!(
            "from must be at most {MAX_HEIGHT}, got {from}"
        )));
    }
    let ticks = state.handle.ticks(Height(from), limit).await?;
    Ok(Json(TicksBody { ticks }))
}

/// Server-sent events: one `tick` event (JSON [`TickSummary`], id = height) per finalized
/// tick; a `lagged` event when this client fell behind and missed some. The stream ends when
/// the node stops publishing ticks, the server shuts down, or after `stream-lifetime-secs`
/// (with an `end` event; reconnect and fill any gap from `GET /v1/ticks?from=`).
#[utoipa::path(
    get,
    path = "/v1/ticks/stream",
    responses(
        (status = 200, description = "text/event-stream of `tick` events", content_type = "text/event-stream"),
        (status = 429, description = "rate_limited: this client holds max-streams-per-client streams", body = ErrorBody),
        (status = 503, description = "too_many_streams: the node holds max-streams streams", body = ErrorBody),
    )
)]
pub async fn stream(
    State(state): State<AppState>,
    Extension(client): Extension<ClientAddr>,
    shutting_down: Option<Extension<ShuttingDown>>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let config = &state.config;
    let slot = state.streams.try_take(Some(client.key)).map_err(|full| {
        state.refusals.count(Limited::Streams);
        super::slot_refused(
            full,
            ApiError::TooManyStreams(config.max_streams),
            format!(
                "this client already holds {} tick streams",
                config.max_streams_per_client
            ),
            "tick streams",
            Duration::from_secs(10),
        )
    })?;
    let rx = state.handle.subscribe_ticks();
    let stop = shutting_down.map(|Extension(ShuttingDown(w))| w);
    let end_at = tokio::time::Instant::now() + config.stream_lifetime();
    let refusals = state.refusals.clone();
    let open = Open {
        rx,
        stop,
        end_at,
        ended: false,
        _slot: slot,
    };
    let events = futures_util::stream::unfold(open, move |mut open| {
        let refusals = refusals.clone();
        async move {
            if open.ended {
                return None;
            }
            let stopped = crate::server::stopped_or_never(open.stop.as_mut());
            let received = tokio::select! {
                r = open.rx.recv() => r,
                _ = stopped => return None,
                _ = tokio::time::sleep_until(open.end_at) => {
                    refusals.count(Limited::StreamLifetime);
                    open.ended = true;
                    let end = Event::default().event("end").data("stream-lifetime-secs reached");
                    return Some((Ok(end), open));
                }
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
            Some((Ok(event), open))
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// One open stream's state; its slot is given back when the stream is dropped.
struct Open {
    rx: tokio::sync::broadcast::Receiver<TickSummary>,
    stop: Option<tokio::sync::watch::Receiver<bool>>,
    end_at: tokio::time::Instant,
    ended: bool,
    _slot: Slot,
}
