//! Test support: the in-memory node (`node`) served by the real API router on 127.0.0.1, and a
//! blocking HTTP client (ureq) that never turns statuses into errors.
//!
//! Shared by `api/tests/*` and, through `#[path]`, by `sdk/tests/cli_client.rs`; not every test
//! binary uses every helper.
#![allow(dead_code)]

pub mod node;
pub mod raw;

use std::sync::Arc;
use std::time::Duration;
use tickchain_api::ApiConfig;
use tokio::runtime::Runtime;

pub use node::TestNode;

/// A running API server over a [`TestNode`], on its own runtime; stopped on drop.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The node behind it.
    pub node: Arc<TestNode>,
    runtime: Option<Runtime>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    stopped: std::sync::mpsc::Receiver<()>,
}

impl Server {
    /// Serves a fresh node under `config` (its `listen` is ignored: port 0 on loopback).
    pub fn start(config: ApiConfig) -> Server {
        Server::start_with(Arc::new(TestNode::new()), config, None)
    }

    /// Like [`Server::start`], also finalizing a tick every `every`.
    pub fn start_ticking(config: ApiConfig, every: Duration) -> Server {
        Server::start_with(Arc::new(TestNode::new()), config, Some(every))
    }

    /// Serves `node`, optionally finalizing a tick every `tick_every`.
    pub fn start_with(
        node: Arc<TestNode>,
        config: ApiConfig,
        tick_every: Option<Duration>,
    ) -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", std_listener.local_addr().expect("addr"));
        let handle = node.clone();
        let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
        let (done, stopped) = std::sync::mpsc::channel();
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
            let signal = async move {
                let _ = signal.await;
            };
            tickchain_api::serve(listener, handle, config, signal)
                .await
                .expect("serve");
            let _ = done.send(());
        });
        if let Some(every) = tick_every {
            let node = node.clone();
            runtime.spawn(async move {
                let mut interval = tokio::time::interval(every);
                interval.tick().await;
                loop {
                    interval.tick().await;
                    node.finalize_tick();
                }
            });
        }
        Server {
            url,
            node,
            runtime: Some(runtime),
            shutdown: Some(shutdown),
            stopped,
        }
    }

    /// Signals graceful shutdown; whether `serve` returned within `within`.
    pub fn stop(&mut self, within: Duration) -> bool {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.stopped.recv_timeout(within).is_ok()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// A client that returns every status as a response.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// A response's status, `Retry-After` (if any) and body text.
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The `Retry-After` header.
    pub retry_after: Option<String>,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The body.
    pub body: String,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The error code of a JSON error body.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

fn reply(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut r = r.expect("HTTP exchange");
    let header = |name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap_or_default().to_owned())
    };
    let (retry_after, content_type) = (header("retry-after"), header("content-type"));
    Reply {
        status: r.status().as_u16(),
        retry_after,
        content_type,
        body: r.body_mut().read_to_string().unwrap_or_default(),
    }
}

/// `GET url`.
pub fn get(url: &str) -> Reply {
    reply(agent().get(url).call())
}

/// `POST url` with a body and content type.
pub fn post(url: &str, content_type: &str, body: &[u8]) -> Reply {
    reply(
        agent()
            .post(url)
            .header("content-type", content_type)
            .send(body),
    )
}

/// `method url` with no body.
pub fn request(method: &str, url: &str) -> Reply {
    let req = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .body(())
        .expect("request");
    reply(agent().run(req))
}

/// A JSON body of `n` distinct digests.
pub fn digests_body(n: usize, tag: &str) -> (Vec<String>, Vec<u8>) {
    let digests: Vec<String> = (0..n)
        .map(|i| {
            tickchain_sdk::Digest(tickchain_sdk::testkit::seeded(&format!("{tag}/{i}"))).to_hex()
        })
        .collect();
    let body = serde_json::to_vec(&serde_json::json!({ "digests": digests })).expect("json");
    (digests, body)
}
