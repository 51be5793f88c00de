//! A ring on one machine: node keys, a genesis and one `node.toml` per node in a directory,
//! and optionally gateways with their keys in the genesis (version 3).
//!
//! Owns: the layout `ROOT/genesis.json`, `ROOT/node-i/{node.key, attest.key, node.toml, data/}`
//! and `ROOT/gateway-j/{gateway.key, gateway.toml, data/}` used by the testnet launcher, the
//! multi-process tests and the benchmarks. Never: starts anything.

use std::path::{Path, PathBuf};
use tickchain_sdk::{Genesis, GenesisGateway, GenesisNode, Second, keys, signing};

/// Why a local network could not be written.
#[derive(Debug, thiserror::Error)]
pub enum LocalNetError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// Key generation or writing failed.
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    /// The genesis is invalid (for example fewer than 4 nodes for f = 1).
    #[error(transparent)]
    Genesis(#[from] tickchain_sdk::GenesisError),
}

/// The directory of node `i` under `root`.
pub fn node_dir(root: &Path, i: usize) -> PathBuf {
    root.join(format!("node-{i}"))
}

/// The directory of gateway `j` under `root`.
pub fn gateway_dir(root: &Path, j: usize) -> PathBuf {
    root.join(format!("gateway-{j}"))
}

/// Writes fresh keys (mode 0600), a genesis for `addresses` tolerating `(n - 1) / 3` faults and
/// starting now, and node `i`'s `node.toml` with absolute paths followed by `extra(i)` (its
/// `[clock]` and source sections). Returns the genesis and each node's config path.
pub fn create(
    root: &Path,
    chain_id: &str,
    addresses: &[String],
    extra: impl Fn(usize) -> String,
) -> Result<(Genesis, Vec<PathBuf>), LocalNetError> {
    let (genesis, nodes, _) =
        create_with_gateways(root, chain_id, addresses, 0, extra, |_| String::new())?;
    Ok((genesis, nodes))
}

/// As [`create`], with `gateways` gateways listed in a version 3 genesis (none: version 2, as
/// [`create`] writes): gateway `j`'s key in `ROOT/gateway-j/gateway.key` and its
/// `gateway.toml` followed by `gateway_extra(j)`. Returns the genesis, the nodes' and the
/// gateways' config paths.
pub fn create_with_gateways(
    root: &Path,
    chain_id: &str,
    addresses: &[String],
    gateways: usize,
    extra: impl Fn(usize) -> String,
    gateway_extra: impl Fn(usize) -> String,
) -> Result<(Genesis, Vec<PathBuf>, Vec<PathBuf>), LocalNetError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| LocalNetError::Io { path, source }
    };
    let root = std::path::absolute(root).map_err(io(root))?;
    let mut members = Vec::with_capacity(addresses.len());
    for (i, address) in addresses.iter().enumerate() {
        let dir = node_dir(&root, i);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let key = keys::generate()?;
        keys::write_secret(&dir.join("node.key"), &key)?;
        let attest = tickchain_anchor::AttestationKey::generate()?;
        attest.write(&dir.join(crate::identity_cmd::ATTEST_KEY_FILE))?;
        members.push(GenesisNode {
            attestation: Some(attest.bind(&key)),
            ..GenesisNode::new(format!("node-{i}"), signing::public_key(&key), address)
        });
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let f = (addresses.len().max(1) - 1) / 3;
    let mut genesis = Genesis::new(chain_id, Second(now), f as u16, members)?;
    let mut listed = Vec::with_capacity(gateways);
    for j in 0..gateways {
        let dir = gateway_dir(&root, j);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let key = keys::generate()?;
        keys::write_secret(&dir.join("gateway.key"), &key)?;
        listed.push(GenesisGateway {
            name: format!("gateway-{j}"),
            public_key: signing::public_key(&key),
        });
    }
    if gateways > 0 {
        genesis = genesis.with_extensions(listed, None)?;
    }
    let genesis_path = root.join("genesis.json");
    std::fs::write(&genesis_path, genesis.to_json() + "\n").map_err(io(&genesis_path))?;
    let mut configs = Vec::with_capacity(addresses.len());
    for i in 0..addresses.len() {
        let dir = node_dir(&root, i);
        let text = format!(
            "[node]\nkey-file = {:?}\ngenesis-file = {:?}\ndata-dir = {:?}\n\n{}",
            dir.join("node.key"),
            genesis_path,
            dir.join("data"),
            extra(i),
        );
        let path = dir.join("node.toml");
        std::fs::write(&path, text).map_err(io(&path))?;
        configs.push(path);
    }
    let mut gateway_configs = Vec::with_capacity(gateways);
    for j in 0..gateways {
        let dir = gateway_dir(&root, j);
        let text = format!(
            "[node]\nkey-file = {:?}\ngenesis-file = {:?}\ndata-dir = {:?}\n\n{}",
            dir.join("gateway.key"),
            genesis_path,
            dir.join("data"),
            gateway_extra(j),
        );
        let path = dir.join("gateway.toml");
        std::fs::write(&path, text).map_err(io(&path))?;
        gateway_configs.push(path);
    }
    Ok((genesis, configs, gateway_configs))
}
