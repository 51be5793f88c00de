//! The router: every route, the JSON fallbacks, and the middleware (rate limit, request
//! metrics, body limit), plus `serve`.
//!
//! Owns: which handler answers which path, and the order of middleware. Never: handler logic.

use crate::config::ApiConfig;
use crate::error::ApiError;
use crate::handle::NodeHandle;
use crate::routes::{evidence, node, ops, proofs, stamp, ticks};
use crate::state::AppState;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every API route with its OpenAPI operation; the one list both the router and the document
/// are built from.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::ApiDoc::openapi())
        .routes(routes!(stamp::stamp))
        .routes(routes!(proofs::proof))
        .routes(routes!(ticks::latest))
        .routes(routes!(ticks::stream))
        .routes(routes!(ticks::by_height))
        .routes(routes!(ticks::page))
        .routes(routes!(node::time))
        .routes(routes!(node::network))
        .routes(routes!(evidence::list))
        .routes(routes!(ops::metrics))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::openapi))
}

/// The complete API for `handle` under `config`. Serve it with [`serve`] (which supplies the
/// client address the rate limiter needs).
pub fn router(handle: Arc<dyn NodeHandle>, config: ApiConfig) -> Router {
    let state = AppState::new(handle, config);
    let (routes, _) = api_routes().split_for_parts();
    routes
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit))
        .layer(middleware::from_fn_with_state(state.clone(), record))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .with_state(state)
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting, ends every
/// tick stream and returns once in-flight requests finish (a `?wait=true` request within its
/// wait timeout).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let router = router.layer(Extension(ShuttingDown(rx)));
    let signal = async move {
        shutdown.await;
        let _ = tx.send(true);
    };
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal)
    .await
}

/// Set by [`serve`]: becomes `true` when the server starts shutting down, so long-lived
/// responses (tick streams) can end.
#[derive(Debug, Clone)]
pub struct ShuttingDown(pub tokio::sync::watch::Receiver<bool>);

/// Paths a monitoring system polls; never rate limited.
const UNLIMITED: [&str; 2] = ["/healthz", "/metrics"];

async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(ip) = client
        && !UNLIMITED.contains(&req.uri().path())
        && let Err(retry_after) = state.limiter.check(ip, Instant::now())
    {
        return ApiError::RateLimited { retry_after }.into_response();
    }
    next.run(req).await
}

async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_owned();
    let method = req.method().to_string();
    let start = Instant::now();
    let response = next.run(req).await;
    state
        .requests
        .record(&route, &method, response.status().as_u16(), start.elapsed());
    response
}
