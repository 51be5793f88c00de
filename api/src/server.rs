//! The HTTP server: its own accept loop, so connections are capped in total and per client,
//! every request head must arrive within `header-timeout-ms` (which also ends idle keep-alive
//! connections), and shutdown finishes within `shutdown-grace-ms` however many clients hold
//! connections open.
//!
//! Owns: accepting, the per-connection HTTP/1 settings and the shutdown sequence. Never: request
//! handling (the router does), or reading a request body (handlers bound that themselves).

use crate::client::ClientKey;
use crate::config::ApiConfig;
use crate::config::ConfigError;
use crate::handle::NodeHandle;
use crate::refusals::Limited;
use crate::router::{ShuttingDown, router};
use crate::slots::{Full, Slot};
use crate::state::AppState;
use crate::write_deadline::WriteDeadline;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::{Extension, Router};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{debug, warn};

/// Largest request head (request line and headers), in bytes; larger get `431`.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Serves the API for `handle` under `config` on `listener` until `shutdown` completes. Then it
/// stops accepting, ends every tick stream, lets in-flight requests finish (a `?wait=true`
/// request within its wait timeout), and closes whatever is still open after
/// `shutdown-grace-ms`. Refuses to start (`InvalidInput`) on a config out of range.
pub async fn serve(
    listener: TcpListener,
    handle: Arc<dyn NodeHandle>,
    config: ApiConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    config.validate().map_err(invalid)?;
    let state = AppState::new(handle, config);
    let (stop_tx, stop) = watch::channel(false);
    let app = router(state.clone()).layer(Extension(ShuttingDown(stop.clone())));
    // The dashboard's history: one sample a second while the server runs.
    tokio::spawn(crate::history::run(
        state.history.clone(),
        state.handle.clone(),
        state.digests_accepted.clone(),
        stop.clone(),
    ));
    let config = state.config.clone();
    let connections = state.connections.clone();
    let mut tasks = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept() => {
                let (tcp, remote) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        debug!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let ip = remote.ip().to_canonical();
                // A trusted proxy carries many clients: it counts only against the total.
                let key = (!state.proxies.contains(ip)).then(|| ClientKey::of(ip));
                let slot = match connections.try_take(key) {
                    Ok(slot) => slot,
                    Err(full) => {
                        state.refusals.count(match full {
                            Full::Total => Limited::ConnectionsTotal,
                            Full::Client => Limited::ConnectionsPerClient,
                            Full::Network => Limited::ConnectionsPerNetwork,
                        });
                        drop(tcp); // closed at once: no bytes read, nothing allocated
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                tasks.spawn(connection(tcp, remote, app.clone(), state.clone(), stop.clone(), slot));
            }
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let deadline = tokio::time::Instant::now() + config.shutdown_grace();
    loop {
        match tokio::time::timeout_at(deadline, tasks.join_next()).await {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => {
                warn!(
                    open = tasks.len(),
                    "connections still open after the shutdown grace; closing them"
                );
                for _ in 0..tasks.len() {
                    state.refusals.count(Limited::ShutdownAborted);
                }
                tasks.abort_all();
                while tasks.join_next().await.is_some() {}
                break;
            }
        }
    }
    Ok(())
}

fn invalid(e: ConfigError) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, e)
}

/// Serves one connection until the client closes it, a head times out, or shutdown.
async fn connection(
    tcp: TcpStream,
    remote: SocketAddr,
    app: Router,
    state: AppState,
    mut stop: watch::Receiver<bool>,
    _slot: Slot,
) {
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(remote));
        let mut app = app.clone();
        async move { tower_service::Service::call(&mut app, req.map(Body::new)).await }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(state.config.header_timeout())
        .max_header_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    let (io, stalled) = WriteDeadline::new(tcp, state.config.write_timeout());
    let mut conn = pin!(builder.serve_connection(TokioIo::new(io), service));
    let result = tokio::select! {
        r = conn.as_mut() => r,
        _ = stopped(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if stalled.load(std::sync::atomic::Ordering::Relaxed) {
        state.refusals.count(Limited::WriteTimeout);
    }
    if let Err(e) = result {
        if e.is_timeout() && !stalled.load(std::sync::atomic::Ordering::Relaxed) {
            state.refusals.count(Limited::HeaderTimeout);
        }
        debug!(client = %remote, error = %e, "connection ended");
    }
}

/// Completes once the server starts shutting down; never without a receiver (a handler served
/// outside [`crate::serve`]).
pub(crate) async fn stopped_or_never(stop: Option<&mut watch::Receiver<bool>>) {
    match stop {
        Some(stop) => stopped(stop).await,
        None => std::future::pending().await,
    }
}

/// Completes once the server starts shutting down (never, if the sender is gone without it).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    loop {
        let down = *stop.borrow_and_update();
        if down {
            return;
        }
        if stop.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
