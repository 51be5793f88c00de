//! The router: every route, the JSON fallbacks, and the middleware (client identity and
//! request rate, CORS, request metrics, body limit).
//!
//! Owns: which handler answers which path, and the order of middleware. Never: handler logic.

use crate::error::ApiError;
use crate::refusals::Limited;
use crate::routes::{dashboard, evidence, node, ops, proofs, stamp, ticks, tsa};
use crate::state::AppState;
use axum::Router;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
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
        .routes(routes!(tsa::tsa))
        .routes(routes!(ticks::latest))
        .routes(routes!(ticks::stream))
        .routes(routes!(ticks::by_height))
        .routes(routes!(ticks::page))
        .routes(routes!(node::time))
        .routes(routes!(node::network))
        .routes(routes!(evidence::list))
        .routes(routes!(dashboard::history))
        .routes(routes!(dashboard::genesis))
        .routes(routes!(dashboard::anchors))
        .routes(routes!(ops::metrics))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::openapi))
}

/// The complete API for `handle` under `config`. Serve it with [`crate::serve`]: every
/// request must carry its TCP peer address (per-client limits count against it), and a request
/// without one is refused with `500 internal` rather than served unlimited.
pub fn router(state: AppState) -> Router {
    let (routes, _) = api_routes().split_for_parts();
    routes
        // The dashboard's static files: not API operations, so not in the OpenAPI document.
        .route("/", axum::routing::get(dashboard::index))
        .route("/dashboard/app.js", axum::routing::get(dashboard::script))
        .route("/dashboard/app.css", axum::routing::get(dashboard::style))
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            identify_and_limit,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::cors::cors,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), record))
        .with_state(state)
}

/// Set by [`crate::serve`]: becomes `true` when the server starts shutting down, so long-lived
/// responses (tick streams) can end.
#[derive(Debug, Clone)]
pub struct ShuttingDown(pub tokio::sync::watch::Receiver<bool>);

/// Resolves the client (TCP peer, or the client behind a trusted proxy), attaches it as a
/// [`ClientAddr`] extension, and applies the client's request rate.
async fn identify_and_limit(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(peer) = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    else {
        return ApiError::Internal(
            "request without a client address: serve the router with tickchain_api::serve".into(),
        )
        .into_response();
    };
    let client = state.proxies.resolve(
        peer,
        req.headers()
            .get_all("x-forwarded-for")
            .iter()
            .map(|v| v.as_bytes()),
    );
    let limiter = if OPS.contains(&req.uri().path()) {
        &state.ops_limiter
    } else {
        &state.limiter
    };
    if let Err(retry_after) = limiter.check(client.key, Instant::now()) {
        state.refusals.count(Limited::Requests);
        return ApiError::RateLimited { retry_after }.into_response();
    }
    req.extensions_mut().insert(client);
    next.run(req).await
}

/// Paths monitoring polls: limited per client like the rest, in a bucket of their own.
const OPS: [&str; 2] = ["/healthz", "/metrics"];

/// Methods counted by name in `tickchain_api_requests_total`; any other folds into `other`.
const METHODS: [Method; 7] = [
    Method::GET,
    Method::POST,
    Method::HEAD,
    Method::OPTIONS,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
];

async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("other", |m| m.as_str())
        .to_owned();
    let method = METHODS
        .iter()
        .find(|m| *m == req.method())
        .map_or("other", |m| m.as_str());
    let start = Instant::now();
    let response = next.run(req).await;
    state
        .requests
        .record(&route, method, response.status().as_u16(), start.elapsed());
    response
}
