//! The node's TOML configuration file (`node.toml`).
//!
//! Owns: the file format, its defaults and its validation. Never: opens sockets or starts
//! anything; it only describes what to start. Every field's unit and default is in its doc.

use serde::Deserialize;
use std::path::Path;
use std::time::Duration;
use thiserror::Error;
use tickchain_aggregator::drivers::poll::SourceSpec;
use tickchain_aggregator::gpsd_json::LatencyBounds;
use tickchain_aggregator::{AggregatorConfig, Ppm, Span};

/// The whole `node.toml`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NodeConfig {
    /// The time sources to poll (`[sources]`).
    #[serde(default)]
    pub sources: SourcesConfig,
    /// How samples are selected and combined (`[selection]`).
    #[serde(default)]
    pub selection: SelectionConfig,
    /// Identity, network and storage of a running node (`[node]`); required by `timenode run`.
    #[serde(default)]
    pub node: Option<NodeSection>,
    /// Where the running node takes its clock reading from (`[clock]`).
    #[serde(default)]
    pub clock: ClockSection,
    /// The Timestamp API every running node serves (`[api]`; see `tickchain_api::ApiConfig`
    /// for each key; default: listen on 127.0.0.1:7300).
    #[serde(default)]
    pub api: tickchain_api::ApiConfig,
    /// The request pool (`[pool]`).
    #[serde(default)]
    pub pool: PoolSection,
    /// Anchoring ticks to EVM chains (`[anchor]`; default: off).
    #[serde(default)]
    pub anchor: Option<AnchorSection>,
    /// Tunables of the consensus core (`[consensus]`; default: the core's own defaults).
    #[serde(default)]
    pub consensus: ConsensusSection,
    /// The NTP server (`[ntp]`; default: off).
    #[serde(default)]
    pub ntp: crate::ntp::NtpSection,
    /// The Roughtime server (`[roughtime]`; default: off).
    #[serde(default)]
    pub roughtime: crate::roughtime::RoughtimeSection,
    /// The RFC 3161 Time-Stamp Authority on the API (`[tsa]`; default: off).
    #[serde(default)]
    pub tsa: crate::tsa::TsaSection,
}

/// `[consensus]`: the few consensus-core tunables a node's operator may set. Meant for tests
/// and for operators who know why; every other tunable keeps `tickchain_consensus::Config`'s
/// default.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConsensusSection {
    /// The view window: proposals, votes and certificates for views more than this many beyond
    /// the node's own are dropped, and a node that far behind catches up through its peers'
    /// latest finalization instead (`specs/consensus.md` §10); a node whose final tip is this
    /// many seconds old probes for it at start (views, in 10..=1000000; default 1000, about 17
    /// minutes of a live ring). Smaller only makes the finalization path start sooner (tests
    /// use 20 to exercise it in a minute); larger makes a lagging node hold more rounds.
    #[serde(default = "default_max_views_ahead")]
    pub max_views_ahead: u64,
    /// The batch window: a batch whose second lies further back than this is no longer queued
    /// for a tick, and this node re-seals the digests of a batch of its own that outlived it
    /// without being in a final tick into a fresh batch (`specs/consensus.md` §5, Batches;
    /// `specs/pool.md` §6) (seconds, in 10..=86400; default 3600). Nodes of one ring should
    /// agree on it. Tests use 10 to strand batches in seconds rather than an hour.
    #[serde(default = "default_batch_max_age_secs")]
    pub batch_max_age_secs: u64,
}

/// The accepted range of `[consensus] batch-max-age-secs` (seconds): more than a few re-offer
/// periods, at most a day.
pub const BATCH_MAX_AGE_RANGE: std::ops::RangeInclusive<u64> = 10..=86_400;

fn default_batch_max_age_secs() -> u64 {
    (tickchain_consensus::config::Config::default()
        .batch_max_age
        .0
        / 1_000_000_000) as u64
}

/// The smallest `[consensus] max-views-ahead` accepted (views): a few seconds of ordinary lag
/// behind the ring must stay inside the window.
pub const MIN_MAX_VIEWS_AHEAD: u64 = 10;
/// The largest `[consensus] max-views-ahead` accepted (views, about 11.5 days of a live ring).
pub const MAX_MAX_VIEWS_AHEAD: u64 = 1_000_000;

fn default_max_views_ahead() -> u64 {
    tickchain_consensus::config::Config::default().max_views_ahead
}

impl Default for ConsensusSection {
    fn default() -> Self {
        ConsensusSection {
            max_views_ahead: default_max_views_ahead(),
            batch_max_age_secs: default_batch_max_age_secs(),
        }
    }
}

impl ConsensusSection {
    /// The core's tunables: its defaults with this section's values.
    pub fn core_config(&self) -> tickchain_consensus::config::Config {
        tickchain_consensus::config::Config {
            max_views_ahead: self.max_views_ahead,
            batch_max_age: tickchain_sdk::Nanos::from_secs(self.batch_max_age_secs as i64),
            ..tickchain_consensus::config::Config::default()
        }
    }
}

/// `[anchor]`: anchoring ticks to EVM chains (`specs/encoding.md` §6).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AnchorSection {
    /// The node's secp256k1 attestation key (written by `timenode keygen` as `attest.key`,
    /// mode 0600); genesis must bind its address to this node (required).
    pub attest_key_file: std::path::PathBuf,
    /// A funded EVM account that pays for this node's anchor transactions: a file holding its
    /// private key as hex, mode 0600 (required when `chains` is not empty; keep it apart from
    /// the attestation key). A node with no chains still co-signs its peers' anchors, but
    /// only a chain's first range or one right after a confirmed anchor it stored
    /// (`specs/encoding.md` §6.6).
    #[serde(default)]
    pub gas_key_file: Option<std::path::PathBuf>,
    /// Most ticks one anchor this node co-signs for a peer may span (ticks, at least 1 and at
    /// least every configured chain's `cadence`; default 10,000). Longer requests are refused
    /// before anything is read.
    #[serde(default = "default_max_cosign_range")]
    pub max_cosign_range: u64,
    /// The chains (`[[anchor.chains]]`), each with `name`, `rpc-url`, `contract`, `cadence` and
    /// the optional keys of `tickchain_anchor::ChainConfig`.
    #[serde(default)]
    pub chains: Vec<tickchain_anchor::ChainConfig>,
}

fn default_max_cosign_range() -> u64 {
    tickchain_anchor::cosign::DEFAULT_MAX_RANGE
}

impl AnchorSection {
    /// The co-signing rule these settings give; fails if `max-cosign-range` is 0 or below a
    /// configured chain's cadence (peers with the same settings would refuse this node's own
    /// anchors).
    pub fn cosign_rule(&self) -> Result<tickchain_anchor::CosignRule, String> {
        let max = self.max_cosign_range;
        if max == 0 {
            return Err("anchor.max-cosign-range: expected at least 1 tick, found 0".into());
        }
        if let Some(c) = self.chains.iter().find(|c| c.cadence > max) {
            return Err(format!(
                "anchor.max-cosign-range: expected at least chain {:?}'s cadence {}, found {max}",
                c.name, c.cadence
            ));
        }
        Ok(tickchain_anchor::CosignRule { max_range: max })
    }

    /// Reads the gas account's key, refusing a file others can read.
    pub fn gas_signer(&self) -> Result<alloy::signers::local::PrivateKeySigner, String> {
        let path = self
            .gas_key_file
            .as_ref()
            .ok_or("anchor.gas-key-file is required to send anchors (anchor.chains is set)")?;
        let shown = path.display();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)
                .map_err(|e| format!("anchor.gas-key-file {shown}: {e}"))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(format!(
                    "anchor.gas-key-file {shown} has mode {:o}; expected 0600 (chmod 600 it)",
                    mode & 0o777
                ));
            }
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("anchor.gas-key-file {shown}: {e}"))?;
        text.trim().parse().map_err(|_| {
            format!("anchor.gas-key-file {shown}: expected a hex secp256k1 private key")
        })
    }
}

/// `[pool]`: how the running node accepts, batches and keeps digests.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PoolSection {
    /// How long before its second ends a batch is sealed and offered to the ring, so it reaches
    /// the next second's leader in time (milliseconds, 1–900; default 50, for a ring on one
    /// site). It must cover sealing under load plus the one-way delay to the farthest peer
    /// plus the nodes' clock disagreement: raise it on a ring spread over a WAN (e.g. 150 for
    /// 100 ms between sites). A batch that arrives after the leader proposed waits for the next
    /// tick (one second more to its proof); digests accepted after the seal join the next
    /// second's batch. The time from an acknowledgement to its proof is at most about one
    /// second plus this lead plus the ring's lag.
    #[serde(default = "default_seal_lead_ms")]
    pub seal_lead_ms: u64,
    /// Most digests accepted and not yet in a final tick; beyond it submissions are refused
    /// with `503 unavailable` (count; default 10,000,000).
    #[serde(default = "default_max_pending")]
    pub max_pending_digests: u64,
    /// Most submissions queued for the next group commit; beyond it submissions are refused
    /// with `503 unavailable` (count, ≥ 1; default 4096).
    #[serde(default = "default_pool_queue")]
    pub queue: usize,
    /// How long proofs stay retrievable after their batch's second (seconds; default: unset,
    /// forever). Only batches already in a final tick are deleted.
    #[serde(default)]
    pub retention_secs: Option<u64>,
    /// Free space kept in reserve on the filesystem that holds `[node] data-dir` (bytes;
    /// default 268,435,456 = 256 MiB; 0 disables the check). While less is available to the
    /// node, submissions are refused with `503 unavailable` and `Retry-After`; the node keeps
    /// ticking and serving proofs, and accepts again once space returns (`specs/pool.md` §1).
    /// A node whose storage failed for lack of space waits for this much before it reopens.
    #[serde(default = "default_min_free_bytes")]
    pub min_free_bytes: u64,
    /// How long a digest, submitted again, keeps the location it was first given (seconds;
    /// default 10). The writer holds the digests of this window in memory (about 100 bytes
    /// each); a digest submitted again later is stamped again, and its proof is the earliest
    /// (`specs/pool.md` §1).
    #[serde(default = "default_dedup_window_secs")]
    pub dedup_window_secs: u64,
}

fn default_seal_lead_ms() -> u64 {
    50
}
fn default_max_pending() -> u64 {
    10_000_000
}
fn default_pool_queue() -> usize {
    4096
}
fn default_dedup_window_secs() -> u64 {
    10
}
fn default_min_free_bytes() -> u64 {
    256 * 1024 * 1024
}

impl Default for PoolSection {
    fn default() -> Self {
        PoolSection {
            seal_lead_ms: default_seal_lead_ms(),
            max_pending_digests: default_max_pending(),
            queue: default_pool_queue(),
            retention_secs: None,
            min_free_bytes: default_min_free_bytes(),
            dedup_window_secs: default_dedup_window_secs(),
        }
    }
}

/// `[node]`: what `timenode run` needs to join its ring.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NodeSection {
    /// The node's Ed25519 secret key file, as written by `timenode keygen` (required; mode 0600).
    pub key_file: std::path::PathBuf,
    /// The network's genesis file (required). The node finds its own id by its key.
    pub genesis_file: std::path::PathBuf,
    /// Directory for the node's sled database (required; created if missing).
    pub data_dir: std::path::PathBuf,
    /// UDP address for peer QUIC (default: the node's address in genesis; for `timenode
    /// gateway`, which only dials, any address and port of the members' address family).
    #[serde(default)]
    pub listen: Option<std::net::SocketAddr>,
}

/// `[clock]`: the running node's clock.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ClockSection {
    /// Trust this machine's system clock to within this many milliseconds and use nothing else
    /// (default: unset, so the node uses `[sources]`). For local test networks only: the
    /// bound is the operator's word, not a measurement, and it is what signed votes will claim.
    #[serde(default)]
    pub declared_system_error_ms: Option<u64>,
    /// Pause between two rounds of polling every source while running (milliseconds;
    /// default 2000).
    #[serde(default = "default_run_poll_ms")]
    pub poll_interval_ms: u64,
}

/// `[sources]`: every time source the node polls.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SourcesConfig {
    /// Polls of every source per `timenode sources` run (count, 1–8; default 4).
    #[serde(default = "default_polls")]
    pub polls: u8,
    /// Pause between two polls of one NTP or kernel source (milliseconds; default 500); gpsd
    /// reports arrive at the receiver's own pace.
    #[serde(default = "default_poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// Whether to read the kernel clock's own error bound with `adjtimex` (default false).
    #[serde(default)]
    pub kernel: bool,
    /// NTP servers (`[[sources.ntp]]`).
    #[serde(default)]
    pub ntp: Vec<NtpSourceConfig>,
    /// GNSS receivers behind gpsd (`[[sources.gnss]]`).
    #[serde(default)]
    pub gnss: Vec<GnssSourceConfig>,
}

/// `[[sources.ntp]]`: one NTP server.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NtpSourceConfig {
    /// Operator label shown in reports (default: the address).
    #[serde(default)]
    pub label: Option<String>,
    /// `host:port` of the server (required; port 123 for public servers).
    pub address: String,
    /// How long to wait for one reply (milliseconds; default 1000).
    #[serde(default = "default_ntp_timeout_ms")]
    pub timeout_ms: u64,
}

/// `[[sources.gnss]]`: one GNSS receiver read through gpsd's JSON protocol.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GnssSourceConfig {
    /// Operator label shown in reports (default: the gpsd address).
    #[serde(default)]
    pub label: Option<String>,
    /// `host:port` of gpsd (default `127.0.0.1:2947`).
    #[serde(default = "default_gpsd")]
    pub gpsd: String,
    /// Earliest the receiver's time message reaches the host after the second it names
    /// (milliseconds; default 0).
    #[serde(default)]
    pub latency_min_ms: u64,
    /// Latest it can arrive (milliseconds; default 500, a safe bound for NMEA-only receivers;
    /// measure yours and narrow it).
    #[serde(default = "default_latency_max_ms")]
    pub latency_max_ms: u64,
    /// How long to wait for one TOFF/PPS report (milliseconds; default 3000).
    #[serde(default = "default_gnss_timeout_ms")]
    pub timeout_ms: u64,
}

/// `[selection]`: the clock model's parameters (see `specs/time.md`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SelectionConfig {
    /// Fewest sources that must share one point (count ≥ 1; default 3).
    #[serde(default = "default_min_agreeing")]
    pub min_agreeing: usize,
    /// Frequency tolerance Φ of every clock involved (parts per million; default 15, RFC 5905).
    #[serde(default = "default_phi_ppm")]
    pub frequency_tolerance_ppm: u32,
    /// Sources with a larger radius are unfit (milliseconds; default 1500, RFC 5905 MAXDIST).
    #[serde(default = "default_max_radius_ms")]
    pub max_radius_ms: u64,
    /// Most usable sources assumed wrong (count; default: unset, any minority, RFC 5905's strict
    /// majority). Smaller narrows the interval, which then holds true UTC only while no more
    /// than this many sources are wrong; 0 = every source must agree (`specs/time.md` §5).
    #[serde(default)]
    pub max_falsetickers: Option<usize>,
}

fn default_run_poll_ms() -> u64 {
    2_000
}
fn default_polls() -> u8 {
    4
}
fn default_poll_interval_ms() -> u64 {
    500
}
fn default_ntp_timeout_ms() -> u64 {
    1_000
}
fn default_gpsd() -> String {
    "127.0.0.1:2947".into()
}
fn default_latency_max_ms() -> u64 {
    500
}
fn default_gnss_timeout_ms() -> u64 {
    3_000
}
fn default_min_agreeing() -> usize {
    3
}
fn default_phi_ppm() -> u32 {
    15
}
fn default_max_radius_ms() -> u64 {
    1_500
}

impl Default for SourcesConfig {
    fn default() -> Self {
        SourcesConfig {
            polls: default_polls(),
            poll_interval_ms: default_poll_interval_ms(),
            kernel: false,
            ntp: Vec::new(),
            gnss: Vec::new(),
        }
    }
}

impl Default for ClockSection {
    fn default() -> Self {
        ClockSection {
            declared_system_error_ms: None,
            poll_interval_ms: default_run_poll_ms(),
        }
    }
}

impl Default for SelectionConfig {
    fn default() -> Self {
        SelectionConfig {
            min_agreeing: default_min_agreeing(),
            frequency_tolerance_ppm: default_phi_ppm(),
            max_radius_ms: default_max_radius_ms(),
            max_falsetickers: None,
        }
    }
}

/// Why a configuration file cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("expected a readable config file at {path}, got {source}")]
    Read {
        /// The path given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("expected a valid node.toml at {path}: {source}")]
    Parse {
        /// The path given.
        path: String,
        /// The decoder's complaint, with line and column.
        source: toml::de::Error,
    },
    /// A value is out of range.
    #[error("expected {field} {expected}, got {found}")]
    Invalid {
        /// The offending key.
        field: &'static str,
        /// The allowed range.
        expected: &'static str,
        /// The value found.
        found: String,
    },
}

impl NodeConfig {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text).map_err(|e| match e {
            ConfigError::Parse { source, .. } => ConfigError::Parse {
                path: path.display().to_string(),
                source,
            },
            other => other,
        })
    }

    /// Parses and validates config text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let config: NodeConfig = toml::from_str(text).map_err(|source| ConfigError::Parse {
            path: "<text>".into(),
            source,
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let s = &self.sources;
        if !(1..=8).contains(&s.polls) {
            return Err(ConfigError::Invalid {
                field: "sources.polls",
                expected: "in 1..=8",
                found: s.polls.to_string(),
            });
        }
        if self.selection.min_agreeing == 0 {
            return Err(ConfigError::Invalid {
                field: "selection.min-agreeing",
                expected: "at least 1",
                found: "0".into(),
            });
        }
        if let Some(ms) = self.clock.declared_system_error_ms
            && !(1..=60_000).contains(&ms)
        {
            return Err(ConfigError::Invalid {
                field: "clock.declared-system-error-ms",
                expected: "in 1..=60000",
                found: ms.to_string(),
            });
        }
        if !(1..=900).contains(&self.pool.seal_lead_ms) {
            return Err(ConfigError::Invalid {
                field: "pool.seal-lead-ms",
                expected: "in 1..=900",
                found: self.pool.seal_lead_ms.to_string(),
            });
        }
        if self.pool.queue == 0 {
            return Err(ConfigError::Invalid {
                field: "pool.queue",
                expected: "at least 1",
                found: "0".into(),
            });
        }
        if let Some(keep) = self.pool.retention_secs
            && keep <= self.pool.dedup_window_secs.saturating_add(60)
        {
            // A duplicate inside the window is answered with its first location: that batch
            // must still exist.
            return Err(ConfigError::Invalid {
                field: "pool.retention-secs",
                expected: "more than dedup-window-secs + 60 (leave it unset to keep proofs forever)",
                found: keep.to_string(),
            });
        }
        if !(MIN_MAX_VIEWS_AHEAD..=MAX_MAX_VIEWS_AHEAD).contains(&self.consensus.max_views_ahead) {
            return Err(ConfigError::Invalid {
                field: "consensus.max-views-ahead",
                expected: "in 10..=1000000 views",
                found: self.consensus.max_views_ahead.to_string(),
            });
        }
        if !BATCH_MAX_AGE_RANGE.contains(&self.consensus.batch_max_age_secs) {
            return Err(ConfigError::Invalid {
                field: "consensus.batch-max-age-secs",
                expected: "in 10..=86400 seconds",
                found: self.consensus.batch_max_age_secs.to_string(),
            });
        }
        self.api.validate().map_err(|e| ConfigError::Invalid {
            field: e.field,
            expected: e.expected,
            found: e.found,
        })?;
        for g in &s.gnss {
            if g.latency_min_ms > g.latency_max_ms {
                return Err(ConfigError::Invalid {
                    field: "sources.gnss.latency-min-ms",
                    expected: "<= latency-max-ms",
                    found: format!("{} > {}", g.latency_min_ms, g.latency_max_ms),
                });
            }
        }
        Ok(())
    }

    /// A fresh aggregator with this config's parameters and falseticker bound.
    pub fn new_aggregator(&self) -> tickchain_aggregator::Aggregator {
        tickchain_aggregator::Aggregator::new(self.aggregator())
            .with_max_falsetickers(self.selection.max_falsetickers.into())
    }

    /// Every configured source with its label, in report order: NTP servers, GNSS receivers,
    /// then the kernel clock.
    pub fn source_specs(&self) -> Vec<(String, SourceSpec)> {
        let ntp = self.sources.ntp.iter().map(|s| {
            let spec = SourceSpec::Ntp {
                address: s.address.clone(),
                timeout: s.timeout(),
            };
            (s.label(), spec)
        });
        let gnss = self.sources.gnss.iter().map(|s| {
            let spec = SourceSpec::Gnss {
                address: s.gpsd.clone(),
                timeout: s.timeout(),
                latency: s.latency(),
            };
            (s.label(), spec)
        });
        let kernel = self
            .sources
            .kernel
            .then(|| ("kernel".to_string(), SourceSpec::Kernel));
        ntp.chain(gnss).chain(kernel).collect()
    }

    /// The aggregator parameters this config asks for.
    pub fn aggregator(&self) -> AggregatorConfig {
        AggregatorConfig {
            phi: Ppm(self.selection.frequency_tolerance_ppm),
            min_agreeing: self.selection.min_agreeing,
            max_radius: Span::from_millis(self.selection.max_radius_ms),
        }
    }
}

impl NtpSourceConfig {
    /// The label, or the address when none is set.
    pub fn label(&self) -> String {
        self.label.clone().unwrap_or_else(|| self.address.clone())
    }
    /// The reply timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

impl GnssSourceConfig {
    /// The label, or the gpsd address when none is set.
    pub fn label(&self) -> String {
        self.label
            .clone()
            .unwrap_or_else(|| format!("gpsd@{}", self.gpsd))
    }
    /// The report timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
    /// The in-band time latency bounds.
    pub fn latency(&self) -> LatencyBounds {
        LatencyBounds {
            min: Span::from_millis(self.latency_min_ms),
            max: Span::from_millis(self.latency_max_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retention_period_inside_the_duplicate_window_is_refused() {
        let base = include_str!("../examples/node.toml");
        let with = |keep: u64| {
            NodeConfig::parse(&base.replace(
                "# retention-secs = 31536000",
                &format!("retention-secs = {keep}"),
            ))
        };
        let err = with(70).unwrap_err().to_string();
        assert!(err.contains("pool.retention-secs"), "{err}");
        assert!(with(71).is_ok());
    }

    #[test]
    fn example_config_parses() {
        let text = include_str!("../examples/node.toml");
        let c = NodeConfig::parse(text).unwrap();
        assert_eq!(c.selection.min_agreeing, 3);
        assert!(!c.sources.ntp.is_empty());
        let node = c.node.expect("the example shows [node]");
        assert_eq!(node.data_dir, std::path::PathBuf::from("node-0/data"));
        assert_eq!(c.clock.poll_interval_ms, 2000);
        assert_eq!(c.clock.declared_system_error_ms, None);
    }

    /// Every `pub` field of the config structs (snake_case in the source), as kebab-case keys.
    fn keys_in(source: &str, structs: &[&str]) -> Vec<String> {
        let mut keys = Vec::new();
        for name in structs {
            let start = source
                .find(&format!("pub struct {name} {{"))
                .unwrap_or_else(|| panic!("struct {name} not found"));
            let body = &source[start..];
            let body = &body[..body.find("\n}").expect("struct ends")];
            for line in body.lines().skip(1) {
                if let Some(rest) = line.trim().strip_prefix("pub ")
                    && let Some((field, _)) = rest.split_once(':')
                {
                    keys.push(field.replace('_', "-"));
                }
            }
        }
        keys
    }

    #[test]
    fn the_reference_names_every_key() {
        let reference = include_str!("../examples/node.toml");
        // Keys shown commented out count too: strip the comment marker before a key.
        let shown: String = reference
            .lines()
            .map(|l| l.trim_start().trim_start_matches("# "))
            .collect::<Vec<_>>()
            .join("\n");
        let sections = [
            "NodeSection",
            "ClockSection",
            "PoolSection",
            "SourcesConfig",
            "NtpSourceConfig",
            "GnssSourceConfig",
            "SelectionConfig",
            "ConsensusSection",
        ];
        let mut keys = keys_in(include_str!("config.rs"), &sections);
        keys.extend(keys_in(
            include_str!("../../api/src/config.rs"),
            &["ApiConfig"],
        ));
        keys.extend(keys_in(include_str!("ntp/mod.rs"), &["NtpSection"]));
        keys.extend(keys_in(
            include_str!("roughtime/mod.rs"),
            &["RoughtimeSection"],
        ));
        assert!(keys.len() > 25, "found only {keys:?}");
        for key in keys
            .iter()
            .filter(|k| !matches!(k.as_str(), "ntp" | "gnss"))
        {
            assert!(
                shown.lines().any(|l| l.starts_with(&format!("{key} ="))),
                "key `{key}` is not documented in timenode/examples/node.toml"
            );
        }
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let err = NodeConfig::parse("[sources]\npoll = 3\n").unwrap_err();
        assert!(err.to_string().contains("poll"), "{err}");
    }

    #[test]
    fn empty_file_takes_every_default() {
        let c = NodeConfig::parse("").unwrap();
        assert_eq!(c.sources.polls, 4);
        assert_eq!(c.aggregator(), AggregatorConfig::default());
        assert_eq!(
            c.consensus.core_config(),
            tickchain_consensus::config::Config::default()
        );
    }

    #[test]
    fn the_batch_window_defaults_to_an_hour_reaches_the_core_and_is_checked_against_its_range() {
        let c = NodeConfig::parse("").unwrap();
        assert_eq!(
            c.consensus.core_config().batch_max_age,
            tickchain_sdk::Nanos::from_secs(3600)
        );
        let c = NodeConfig::parse("[consensus]\nbatch-max-age-secs = 10\n").unwrap();
        assert_eq!(
            c.consensus.core_config().batch_max_age,
            tickchain_sdk::Nanos::from_secs(10)
        );
        for bad in [9, 86_401] {
            let err = NodeConfig::parse(&format!("[consensus]\nbatch-max-age-secs = {bad}\n"))
                .unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("expected consensus.batch-max-age-secs in 10..=86400 seconds, got {bad}")
            );
        }
    }

    #[test]
    fn the_view_window_reaches_the_core_and_is_checked_against_its_range() {
        let c = NodeConfig::parse("[consensus]\nmax-views-ahead = 20\n").unwrap();
        assert_eq!(c.consensus.core_config().max_views_ahead, 20);
        for bad in [0, MIN_MAX_VIEWS_AHEAD - 1, MAX_MAX_VIEWS_AHEAD + 1] {
            let err =
                NodeConfig::parse(&format!("[consensus]\nmax-views-ahead = {bad}\n")).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("expected consensus.max-views-ahead in 10..=1000000 views, got {bad}")
            );
        }
        let err = NodeConfig::parse("[consensus]\nleader-wait-ms = 5\n").unwrap_err();
        assert!(err.to_string().contains("leader-wait-ms"), "{err}");
    }
}
