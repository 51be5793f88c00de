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
}

/// Loads the genesis in `dir`, or creates keys and a genesis for `nodes` nodes.
pub fn prepare(dir: &Path, nodes: u16, base_port: u16) -> anyhow::Result<Prepared> {
    let genesis_path = dir.join("genesis.json");
    if genesis_path.exists() {
        let text = std::fs::read_to_string(&genesis_path)?;
        let genesis = Genesis::from_json(&text)?;
        for i in 0..genesis.n() {
            let key = keys::read_secret(&key_path(dir, i))?;
            if signing::public_key(&key) != genesis.nodes[i].public_key {
                bail!(
                    "{} does not match genesis node {i}",
                    key_path(dir, i).display()
                );
            }
        }
        return Ok(Prepared {
            genesis,
            genesis_path,
            reused: true,
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
    let (genesis, _) = localnet::create(dir, "tickchain-local", &addresses, |i| {
        format!(
            "# Local test network node {i}, written by `testnet`.\n\
             [clock]\n\
             # The system clock, trusted to within 20 ms on the operator's word: local testnets only.\n\
             declared-system-error-ms = 20\n"
        )
    })?;
    Ok(Prepared {
        genesis,
        genesis_path,
        reused: false,
    })
}

fn key_path(dir: &Path, i: usize) -> PathBuf {
    localnet::node_dir(dir, i).join("node.key")
}
