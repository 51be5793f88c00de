//! The on-disk layout of a local network: `genesis.json`, `node-<i>/node.key` and
//! `gateway-<j>/gateway.key` (mode 0600).

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
    /// Each node's Roughtime server address ("off" for a reused directory without one).
    pub roughtimes: Vec<String>,
    /// Each gateway's Timestamp API base URL.
    pub gateway_apis: Vec<String>,
    /// Each node's RFC 3161 endpoint ("off" for a node without a `[tsa]` section).
    pub tsas: Vec<String>,
    /// The network's TSA root certificate (for `openssl ts -verify -CAfile`), if it has one.
    pub tsa_root: Option<PathBuf>,
}

/// The `[api]` and `[clock]` sections of gateway `j`: its API on 127.0.0.1:(port + j).
fn gateway_sections(j: usize, port: u16) -> anyhow::Result<(String, String)> {
    let port = port
        .checked_add(j as u16)
        .context("--gateway-api-port + gateways exceeds 65535")?;
    Ok((
        format!(
            "# Local test network gateway {j}, written by `testnet`.\n\
             [clock]\n\
             # The system clock, trusted to within 20 ms on the operator's word: local testnets only.\n\
             declared-system-error-ms = 20\n\n\
             # The Timestamp API of this gateway, on loopback only.\n\
             [api]\n\
             listen = \"127.0.0.1:{port}\"\n\
             rate-per-second = 0\n\
             digests-per-second = 0\n"
        ),
        format!("http://127.0.0.1:{port}"),
    ))
}

/// The `[roughtime]` section of node `i`: a Roughtime server on 127.0.0.1:(port + i), UDP and
/// TCP, and its address.
fn roughtime_section(i: usize, port: u16) -> anyhow::Result<(String, String)> {
    let port = port
        .checked_add(i as u16)
        .context("--roughtime-port + nodes exceeds 65535")?;
    Ok((
        format!(
            "\n# The node's time for stock Roughtime clients, on loopback only.\n\
             [roughtime]\n\
             listen = \"127.0.0.1:{port}\"\n\
             tcp-listen = \"127.0.0.1:{port}\"\n"
        ),
        format!("127.0.0.1:{port}"),
    ))
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

/// The ports of a local network: peers, node APIs, NTP and gateway APIs.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    /// Node i's peer port is base + i.
    pub base: u16,
    /// Node i's API port is api + i.
    pub api: u16,
    /// Node i's NTP port is ntp + i.
    pub ntp: u16,
    /// Gateway j's API port is gateway_api + j.
    pub gateway_api: u16,
    /// Node i's Roughtime port is roughtime + i.
    pub roughtime: u16,
}

/// Loads the genesis in `dir`, or creates keys and a genesis for `nodes` nodes and `gateways`
/// gateways (a version 3 genesis when there are any).
pub fn prepare(dir: &Path, nodes: u16, gateways: u16, ports: Ports) -> anyhow::Result<Prepared> {
    let Ports {
        base: base_port,
        api: api_port,
        ntp: ntp_port,
        gateway_api,
        roughtime: roughtime_port,
    } = ports;
    let genesis_path = dir.join("genesis.json");
    if genesis_path.exists() {
        let text = std::fs::read_to_string(&genesis_path)?;
        let genesis = Genesis::from_json(&text)?;
        let mut apis = Vec::new();
        let mut ntps = Vec::new();
        let mut roughtimes = Vec::new();
        let mut tsas = Vec::new();
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
                ntps.push(listen_in(&text, "ntp").unwrap_or_else(|| "off".into()));
            }
            // And before the Roughtime server.
            let (section, addr) = roughtime_section(i, roughtime_port)?;
            if !text.contains("\n[roughtime]") {
                text.push_str(&section);
                std::fs::write(&config, &text)?;
                roughtimes.push(addr);
            } else {
                roughtimes.push(listen_in(&text, "roughtime").unwrap_or_else(|| "off".into()));
            }
            // A TSA needs a root in genesis: a directory from before it keeps the TSA off.
            let has_tsa = text
                .parse::<toml::Table>()
                .ok()
                .is_some_and(|t| t.contains_key("tsa"));
            tsas.push(if has_tsa {
                format!("{}/v1/tsa", apis[i])
            } else {
                "off".into()
            });
        }
        let mut gateway_apis = Vec::new();
        for (j, g) in genesis.gateways.iter().enumerate() {
            let gdir = localnet::gateway_dir(dir, j);
            let key = keys::read_secret(&gdir.join("gateway.key"))?;
            if signing::public_key(&key) != g.public_key {
                bail!("{} does not match genesis gateway {j}", gdir.display());
            }
            let config = gdir.join("gateway.toml");
            let text = std::fs::read_to_string(&config)
                .with_context(|| format!("reading {}", config.display()))?;
            let (_, url) = gateway_sections(j, gateway_api)?;
            gateway_apis.push(api_url_in(&text).unwrap_or(url));
        }
        let root_cert =
            localnet::tsa_root_dir(dir).join(tickchain_timenode::tsa::pki::ROOT_CERT_FILE);
        return Ok(Prepared {
            tsa_root: (genesis.tsa_root.is_some() && root_cert.exists()).then_some(root_cert),
            genesis,
            genesis_path,
            reused: true,
            apis,
            ntps,
            roughtimes,
            gateway_apis,
            tsas,
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
    let roughtime_sections = (0..nodes as usize)
        .map(|i| roughtime_section(i, roughtime_port))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let gateway_sections = (0..gateways as usize)
        .map(|j| gateway_sections(j, gateway_api))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (genesis, _, _) = localnet::create_network(
        dir,
        "tickchain-local",
        &addresses,
        gateways as usize,
        true,
        |i| {
            format!(
                "# Local test network node {i}, written by `testnet`.\n\
                 [clock]\n\
                 # The system clock, trusted to within 20 ms on the operator's word: local testnets only.\n\
                 declared-system-error-ms = 20\n{}{}{}",
                sections[i].0, ntp_sections[i].0, roughtime_sections[i].0
            )
        },
        |j| gateway_sections[j].0.clone(),
    )?;
    Ok(Prepared {
        genesis,
        genesis_path,
        reused: false,
        tsas: sections
            .iter()
            .map(|(_, url)| format!("{url}/v1/tsa"))
            .collect(),
        tsa_root: Some(
            localnet::tsa_root_dir(dir).join(tickchain_timenode::tsa::pki::ROOT_CERT_FILE),
        ),
        apis: sections.into_iter().map(|(_, url)| url).collect(),
        ntps: ntp_sections.into_iter().map(|(_, addr)| addr).collect(),
        roughtimes: roughtime_sections
            .into_iter()
            .map(|(_, addr)| addr)
            .collect(),
        gateway_apis: gateway_sections.into_iter().map(|(_, url)| url).collect(),
    })
}

/// The address of a node.toml's `[SECTION] listen` line, if it has one.
fn listen_in(config: &str, section: &str) -> Option<String> {
    let table: toml::Table = config.parse().ok()?;
    Some(table.get(section)?.get("listen")?.as_str()?.to_owned())
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
