//! `timenode status --api URL`: a human summary of a running node, read from its API.
//!
//! Owns: which endpoints `status` reads (`/v1/network`, `/v1/time` with a fresh random nonce,
//! `/metrics`) and printing them like `chronyc tracking`. Never: speaks HTTP itself (the SDK's
//! client does) or checks a signed time answer itself (`SignedTime::verify_answer` does), talks
//! to the ring, or reads the node's files.

use serde::Serialize;
use std::time::Duration;
use tickchain_api::wire::{NetworkStatus, SignedTime};
use tickchain_sdk::client::{Client, ClientError};
use tickchain_sdk::time_response::Nonce;

/// Everything `status` shows, also its `--json` form.
#[derive(Debug, Serialize)]
pub struct Status {
    /// The node's view of the network.
    pub network: NetworkStatus,
    /// Its signed time answer.
    pub time: SignedTime,
    /// Whether the time answer's signature verified with the node's genesis key and echoed
    /// our nonce.
    pub time_signature_ok: bool,
    /// The consensus view it is in.
    pub view: Option<u64>,
    /// Digests accepted and not yet final.
    pub pool_depth: Option<u64>,
    /// Lag of its newest final tick, seconds.
    pub tick_lag_seconds: Option<f64>,
    /// What its API refused or cut off since it started, by kind (only kinds with a count),
    /// with the pool's low-disk refusals as `low_disk`.
    pub refused: std::collections::BTreeMap<String, u64>,
}

/// Why the status could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// The API did not answer, or answered with an error.
    #[error("{url}: {reason}")]
    Http {
        /// The URL asked.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// No OS randomness for the nonce.
    #[error("expected OS randomness for the nonce, got {0}")]
    Nonce(String),
}

impl From<ClientError> for StatusError {
    fn from(e: ClientError) -> Self {
        let (url, reason) = match e {
            ClientError::Transport { url, message } => (url, message),
            ClientError::Unexpected {
                url,
                status: 200,
                message,
            } => (url, format!("unexpected answer: {message}")),
            ClientError::Unexpected {
                url,
                status,
                message,
            } => (url, format!("HTTP {status}: {message}")),
            ClientError::Api {
                url,
                status,
                code,
                message,
            } => (url, format!("HTTP {status}: {code}: {message}")),
        };
        StatusError::Http { url, reason }
    }
}

/// The value of an unlabelled Prometheus sample `name`.
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Reads the status of the node whose API is at `api`, through the SDK client; the time answer
/// must echo a fresh random nonce.
pub fn fetch(api: &str) -> Result<Status, StatusError> {
    let client = Client::with_timeout(api, Duration::from_secs(5));
    let network: NetworkStatus = client.get_json("/v1/network")?;
    let nonce = Nonce::random().map_err(|e| StatusError::Nonce(e.to_string()))?;
    let time = client.time(&nonce)?;
    let time_signature_ok = network
        .nodes
        .iter()
        .find(|n| n.id == network.this_node)
        .is_some_and(|n| time.verify_answer(&n.public_key, &network.genesis_hash, &nonce));
    let metrics = client.get_text("/metrics").unwrap_or_default();
    Ok(Status {
        view: metric(&metrics, "tickchain_view").map(|v| v as u64),
        pool_depth: metric(&metrics, "tickchain_pool_depth").map(|v| v as u64),
        tick_lag_seconds: metric(&metrics, "tickchain_tick_lag_seconds"),
        refused: refusals(&metrics),
        network,
        time,
        time_signature_ok,
    })
}

/// The non-zero `tickchain_api_limited_total{kind="K"}` counts, and the pool's low-disk
/// refusals as `low_disk`.
fn refusals(metrics: &str) -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    for line in metrics.lines() {
        let Some(rest) = line.strip_prefix("tickchain_api_limited_total{kind=\"") else {
            continue;
        };
        if let Some((kind, value)) = rest.split_once("\"} ")
            && let Ok(n) = value.trim().parse::<u64>()
            && n > 0
        {
            out.insert(kind.to_owned(), n);
        }
    }
    if let Some(n) = metric(metrics, "tickchain_pool_low_disk_refusals_total").filter(|n| *n > 0.0)
    {
        out.insert("low_disk".to_owned(), n as u64);
    }
    out
}

fn utc(nanos: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(nanos)
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The human summary.
pub fn render(s: &Status, api: &str) -> String {
    let n = &s.network;
    let me = n.nodes.iter().find(|x| x.id == n.this_node);
    let t = &s.time.statement;
    let mut out = String::new();
    let mut line = |k: &str, v: String| out.push_str(&format!("{k:<11}{v}\n"));
    line(
        "node",
        format!(
            "{} (node {} of {}) at {api}",
            me.map_or("?", |m| m.name.as_str()),
            n.this_node.0,
            n.nodes.len()
        ),
    );
    line(
        "network",
        format!(
            "{}  genesis {}  f = {}, quorum {}",
            n.chain_id, n.genesis_hash, n.f, n.quorum
        ),
    );
    let width_ms = (t.latest.0 - t.earliest.0) as f64 / 1e6;
    line(
        "clock",
        format!(
            "{}  [{} , {}]  width {width_ms:.3} ms  (signed answer {})",
            if t.synchronized {
                "synchronised"
            } else {
                "UNSYNCHRONISED"
            },
            utc(t.earliest.0),
            utc(t.latest.0),
            if s.time_signature_ok {
                "verified"
            } else {
                "DID NOT VERIFY"
            }
        ),
    );
    if t.sources.is_empty() {
        line("sources", "none with a sample yet".into());
    }
    for (i, src) in t.sources.iter().enumerate() {
        line(
            if i == 0 { "sources" } else { "" },
            format!(
                "{:<28} offset {:>+10.3} ms  radius {:>9.3} ms  {}",
                src.name,
                src.offset.0 as f64 / 1e6,
                src.radius.0 as f64 / 1e6,
                if src.agrees { "agrees" } else { "rejected" }
            ),
        );
    }
    let others: Vec<_> = n.nodes.iter().filter(|x| x.id != n.this_node).collect();
    let up = others.iter().filter(|x| x.connected).count();
    line(
        "peers",
        format!(
            "{up}/{} connected: {}",
            others.len(),
            others
                .iter()
                .map(|x| format!("{} {}", x.name, if x.connected { "up" } else { "DOWN" }))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    line("view", s.view.map_or("unknown".into(), |v| v.to_string()));
    line(
        "last tick",
        match &n.latest_tick {
            None => "none yet".into(),
            Some(tick) => format!(
                "height {}  second {}  {}  batches {}{}",
                tick.height.0,
                utc(tick.second.start().0),
                if tick.certified {
                    "certified"
                } else {
                    "final via a descendant"
                },
                tick.batch_count,
                s.tick_lag_seconds
                    .map_or(String::new(), |l| format!("  lag {:.1} ms", l * 1e3))
            ),
        },
    );
    line(
        "pool",
        s.pool_depth.map_or("unknown".into(), |d| {
            format!("{d} digests waiting for a final tick")
        }),
    );
    line(
        "refused",
        if s.refused.is_empty() {
            "nothing since start".into()
        } else {
            s.refused
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlabelled_samples_are_read_and_labelled_ones_are_not_confused() {
        let text = "# HELP tickchain_view x\ntickchain_view 42\ntickchain_view_total{a=\"b\"} 7\n";
        assert_eq!(metric(text, "tickchain_view"), Some(42.0));
        assert_eq!(metric(text, "tickchain_pool_depth"), None);
    }

    #[test]
    fn refusals_are_the_nonzero_kinds_and_low_disk() {
        let text = "tickchain_api_limited_total{kind=\"digests\"} 47
\
                    tickchain_api_limited_total{kind=\"streams\"} 0
\
                    tickchain_pool_low_disk_refusals_total 3
";
        let r = refusals(text);
        assert_eq!(
            r.into_iter().collect::<Vec<_>>(),
            [("digests".to_string(), 47), ("low_disk".to_string(), 3)]
        );
    }
}
