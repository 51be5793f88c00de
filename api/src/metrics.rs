//! `GET /metrics`: the node's snapshot and the API's own request counters, as Prometheus text.
//!
//! Owns: metric names, the request counters and latency histograms, the text exposition format
//! (version 0.0.4). Never: collecting node state (the handle's `metrics()` does).

use crate::wire::MetricsSnapshot;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the request latency histogram buckets, in seconds.
const LATENCY_BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0, 30.0];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
}

/// Request counts by route, method and status, and latency by route.
#[derive(Debug, Default)]
pub struct RequestMetrics {
    inner: Mutex<Inner>,
}

impl RequestMetrics {
    /// Records one finished request. `route` is the matched route template (`/v1/ticks/{height}`)
    /// or `other`, and `method` one of a fixed list or `other`, so clients cannot blow up the
    /// label set.
    pub fn record(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *inner
            .requests
            .entry((route.to_owned(), method.to_owned(), status))
            .or_default() += 1;
        let h = inner.latency.entry(route.to_owned()).or_default();
        let secs = elapsed.as_secs_f64();
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// The Prometheus text for the node snapshot and these counters.
    pub fn render(&self, node: &MetricsSnapshot) -> String {
        let mut out = String::new();
        gauge(
            &mut out,
            "tickchain_ticks_final_total",
            "counter",
            "Final ticks stored since start.",
            node.ticks_final as f64,
        );
        gauge(
            &mut out,
            "tickchain_latest_height",
            "gauge",
            "Height of the newest final tick.",
            node.latest_height as f64,
        );
        gauge(
            &mut out,
            "tickchain_tick_lag_seconds",
            "gauge",
            "Lag of the newest final tick after its second began.",
            node.last_lag_ns as f64 / 1e9,
        );
        gauge(
            &mut out,
            "tickchain_skipped_seconds_total",
            "counter",
            "Seconds without a tick since genesis.",
            node.skipped_seconds as f64,
        );
        gauge(
            &mut out,
            "tickchain_pool_depth",
            "gauge",
            "Digests accepted and not yet final.",
            node.pool_depth as f64,
        );
        gauge(
            &mut out,
            "tickchain_pool_low_disk_refusals_total",
            "counter",
            "Submissions refused because free disk space was below the reserve.",
            node.pool_low_disk_refusals as f64,
        );
        gauge(
            &mut out,
            "tickchain_view",
            "gauge",
            "The consensus view the node is in.",
            node.view as f64,
        );
        gauge(
            &mut out,
            "tickchain_misbehaviour_evidence_total",
            "counter",
            "Evidence of misbehaviour held: pairs of conflicting statements one member signed.",
            node.evidence as f64,
        );
        header(
            &mut out,
            "tickchain_peer_rejected_total",
            "counter",
            "Peer messages dropped, by reason.",
        );
        for (kind, n) in &node.peer_rejections {
            let _ = writeln!(
                out,
                "tickchain_peer_rejected_total{{kind=\"{}\"}} {n}",
                escape(kind)
            );
        }
        header(
            &mut out,
            "tickchain_facade_events_total",
            "counter",
            "Stock-protocol server events (requests, responses, dropped, batches, batched_requests) by protocol.",
        );
        for (key, n) in &node.facades {
            let (protocol, event) = key.split_once('.').unwrap_or((key.as_str(), "total"));
            let _ = writeln!(
                out,
                "tickchain_facade_events_total{{protocol=\"{}\",event=\"{}\"}} {n}",
                escape(protocol),
                escape(event)
            );
        }
        header(
            &mut out,
            "tickchain_source_offset_seconds",
            "gauge",
            "Offset of each time source from the local clock.",
        );
        for s in &node.sources {
            let _ = writeln!(
                out,
                "tickchain_source_offset_seconds{{source=\"{}\"}} {}",
                escape(&s.name),
                s.offset_ns as f64 / 1e9
            );
        }
        header(
            &mut out,
            "tickchain_source_radius_seconds",
            "gauge",
            "Hard error bound of each time source.",
        );
        for s in &node.sources {
            let _ = writeln!(
                out,
                "tickchain_source_radius_seconds{{source=\"{}\"}} {}",
                escape(&s.name),
                s.radius_ns as f64 / 1e9
            );
        }
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        header(
            &mut out,
            "tickchain_api_requests_total",
            "counter",
            "API requests by route, method and status.",
        );
        for ((route, method, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "tickchain_api_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        header(
            &mut out,
            "tickchain_api_request_duration_seconds",
            "histogram",
            "API request latency to response headers.",
        );
        for (route, h) in &inner.latency {
            let route = escape(route);
            for (bound, n) in LATENCY_BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "tickchain_api_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "tickchain_api_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "tickchain_api_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "tickchain_api_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        out
    }
}

/// The Prometheus text for what the API holds open now and what it refused or cut off, one
/// line per kind (fixed sets).
pub fn render_limited(state: &crate::state::AppState) -> String {
    let mut out = String::new();
    header(
        &mut out,
        "tickchain_api_open",
        "gauge",
        "Connections, waiting requests and tick streams open now.",
    );
    for (kind, slots) in [
        ("connections", &state.connections),
        ("waiters", &state.waiters),
        ("streams", &state.streams),
    ] {
        let _ = writeln!(
            out,
            "tickchain_api_open{{kind=\"{kind}\"}} {}",
            slots.taken()
        );
    }
    let refusals = &state.refusals;
    header(
        &mut out,
        "tickchain_api_limited_total",
        "counter",
        "Connections and requests the API refused or cut off to protect itself, by kind.",
    );
    for (kind, n) in refusals.snapshot() {
        let _ = writeln!(
            out,
            "tickchain_api_limited_total{{kind=\"{}\"}} {n}",
            kind.label()
        );
    }
    out
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn gauge(out: &mut String, name: &str, kind: &str, help: &str, value: f64) {
    header(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_method_and_status() {
        let m = RequestMetrics::default();
        m.record("/v1/time", "GET", 200, Duration::from_millis(2));
        m.record("/v1/time", "GET", 200, Duration::from_millis(2));
        let text = m.render(&MetricsSnapshot::default());
        assert!(text.contains(
            "tickchain_api_requests_total{route=\"/v1/time\",method=\"GET\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "tickchain_api_request_duration_seconds_bucket{route=\"/v1/time\",le=\"0.005\"} 2"
        ));
    }

    #[test]
    fn evidence_and_peer_rejections_are_counters_with_a_kind_label() {
        let node = MetricsSnapshot {
            evidence: 3,
            peer_rejections: [("wrapped_second".to_string(), 2), ("old_view".into(), 5)]
                .into_iter()
                .collect(),
            ..MetricsSnapshot::default()
        };
        let text = RequestMetrics::default().render(&node);
        assert!(text.contains("# TYPE tickchain_misbehaviour_evidence_total counter\n"));
        assert!(text.contains("tickchain_misbehaviour_evidence_total 3\n"));
        assert!(text.contains("# TYPE tickchain_peer_rejected_total counter\n"));
        assert!(text.contains("tickchain_peer_rejected_total{kind=\"wrapped_second\"} 2\n"));
        assert!(text.contains("tickchain_peer_rejected_total{kind=\"old_view\"} 5\n"));
    }

    #[test]
    fn facade_counters_carry_protocol_and_event_labels() {
        let node = MetricsSnapshot {
            facades: [("roughtime.responses".to_string(), 64)]
                .into_iter()
                .collect(),
            ..MetricsSnapshot::default()
        };
        let text = RequestMetrics::default().render(&node);
        assert!(text.contains("# TYPE tickchain_facade_events_total counter\n"));
        assert!(text.contains(
            "tickchain_facade_events_total{protocol=\"roughtime\",event=\"responses\"} 64\n"
        ));
    }
}
