//! The on-disk layout of a local network: `genesis.json` and `node-<i>/node.key` (mode 0600).

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use tickchain_sdk::{Genesis, keys, signing};
use tickchain_timenode::localnet;

/// A prepared network directory.
pub struct Prepared {
    /// The network's genesis.
    pub genesis: Genesis,
    /// Where it is stored.
    pub genesis_path: PathBuf,
    /// True when an existing genesis was reused.
    pub reused: bool,
    /// Each node's Timestamp API base URL.
    pub apis: Vec<String>,
    /// Each node's NTP server address.
    pub ntps: Vec<String>,
}

/// The `[ntp]` section of node `i`: an NTP server on 127.0.0.1:(ntp_port + i), and its address.
fn ntp_section(i: usize, ntp_port: u16) -> anyhow::Result<(String, String)> {
    let port = ntp_port
        .checked_add(i as u16)
        .context("--ntp-port + nodes exceeds 65535")?;
    Ok((
        format!(
            "\n# The node's time for stock NTP clients, on loopback only.\n\
             [ntp]\n\
             listen = \"127.0.0.1:{port}\"\n"
        ),
        format!("127.0.0.1:{port}"),
    ))
}

/// The `[api]` section of node `i`: the API on 127.0.0.1:(api_port + i), no per-client rate
/// limit (one user on loopback).
fn api_section(i: usize, api_port: u16) -> anyhow::Result<(String, String)> {
    let port = api_port
        .checked_add(i as u16)
        .context("--api-port + nodes exceeds 65535")?;
    Ok((
        format!(
            "\n# The Timestamp API of this node, on loopback only.\n\
             [api]\n\
             listen = \"127.0.0.1:{port}\"\n\
             rate-per-second = 0\n\
             digests-per-second = 0\n"
        ),
        format!("http://127.0.0.1:{port}"),
    ))
}

/// Loads the genesis in `dir`, or creates keys and a genesis for `nodes` nodes.
pub fn prepare(
    dir: &Path,
    nodes: u16,
    base_port: u16,
    api_port: u16,
    ntp_port: u16,
) -> anyhow::Result<Prepared> {
    let genesis_path = dir.join("genesis.json");
    if genesis_path.exists() {
        let text = std::fs::read_to_string(&genesis_path)?;
        let genesis = Genesis::from_json(&text)?;
        let mut apis = Vec::new();
        let mut ntps = Vec::new();
        for i in 0..genesis.n() {
            let key = keys::read_secret(&key_path(dir, i))?;
            if signing::public_key(&key) != genesis.nodes[i].public_key {
                bail!(
                    "{} does not match genesis node {i}",
                    key_path(dir, i).display()
                );
            }
            // A directory from before the API existed: give each node its own API port.
            let config = localnet::node_dir(dir, i).join("node.toml");
            let mut text = std::fs::read_to_string(&config)
                .with_context(|| format!("reading {}", config.display()))?;
            let (section, url) = api_section(i, api_port)?;
            if !text.contains("\n[api]") {
                text.push_str(&section);
                std::fs::write(&config, &text)?;
                apis.push(url);
            } else {
                apis.push(api_url_in(&text).unwrap_or(url));
            }
            // A directory from before the NTP server: give each node its own NTP port.
            let (section, addr) = ntp_section(i, ntp_port)?;
            if !text.contains("\n[ntp]") {
                text.push_str(&section);
                std::fs::write(&config, &text)?;
                ntps.push(addr);
            } else {
                ntps.push(ntp_addr_in(&text).unwrap_or_else(|| "off".into()));
            }
        }
        return Ok(Prepared {
            genesis,
            genesis_path,
            reused: true,
            apis,
            ntps,
        });
    }
    if nodes < 4 {
        bail!("--nodes must be at least 4 (n = 3f + 1 with f >= 1), got {nodes}");
    }
    let addresses = (0..nodes)
        .map(|i| {
            base_port
                .checked_add(i)
                .map(|port| format!("127.0.0.1:{port}"))
                .context("--base-port + nodes exceeds 65535")
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let sections = (0..nodes as usize)
        .map(|i| api_section(i, api_port))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let ntp_sections = (0..nodes as usize)
        .map(|i| ntp_section(i, ntp_port))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (genesis, _) = localnet::create(dir, "tickchain-local", &addresses, |i| {
        format!(
            "# Local test network node {i}, written by `testnet`.\n\
             [clock]\n\
             # The system clock, trusted to within 20 ms on the operator's word: local testnets only.\n\
             declared-system-error-ms = 20\n{}{}",
            sections[i].0, ntp_sections[i].0
        )
    })?;
    Ok(Prepared {
        genesis,
        genesis_path,
        reused: false,
        apis: sections.into_iter().map(|(_, url)| url).collect(),
        ntps: ntp_sections.into_iter().map(|(_, addr)| addr).collect(),
    })
}

/// The address of a node.toml's `[ntp] listen` line, if it has one.
fn ntp_addr_in(config: &str) -> Option<String> {
    let table: toml::Table = config.parse().ok()?;
    Some(table.get("ntp")?.get("listen")?.as_str()?.to_owned())
}

/// The API URL of a node.toml's `[api] listen` line, if it has one.
fn api_url_in(config: &str) -> Option<String> {
    let table: toml::Table = config.parse().ok()?;
    let listen = table.get("api")?.get("listen")?.as_str()?;
    Some(format!("http://{listen}"))
}

fn key_path(dir: &Path, i: usize) -> PathBuf {
    localnet::node_dir(dir, i).join("node.key")
}
