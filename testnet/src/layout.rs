//! The on-disk layout of a local network: `genesis.json` and `node-<i>/node.key` (mode 0600).

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use tickchain_sdk::{Genesis, GenesisNode, Second, keys, signing};

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
    let f = (nodes - 1) / 3;
    let mut members = Vec::with_capacity(nodes as usize);
    for i in 0..nodes as usize {
        let path = key_path(dir, i);
        std::fs::create_dir_all(path.parent().expect("node dir"))?;
        let key = keys::generate()?;
        keys::write_secret(&path, &key)?;
        let port = base_port
            .checked_add(i as u16)
            .context("--base-port + nodes exceeds 65535")?;
        members.push(GenesisNode {
            name: format!("node-{i}"),
            public_key: signing::public_key(&key),
            address: format!("127.0.0.1:{port}"),
        });
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("system clock before 1970")?
        .as_secs();
    let genesis = Genesis::new("tickchain-local", Second(now), f, members)?;
    std::fs::write(&genesis_path, genesis.to_json() + "\n")?;
    for i in 0..nodes as usize {
        write_node_config(dir, i)?;
    }
    Ok(Prepared {
        genesis,
        genesis_path,
        reused: false,
    })
}

/// The embedded defaults of a local node: its key, the shared genesis, its own data directory,
/// and the declared system clock (no internet is needed; see the README).
fn write_node_config(dir: &Path, i: usize) -> anyhow::Result<()> {
    let node_dir = dir.join(format!("node-{i}"));
    let abs = |p: PathBuf| std::path::absolute(&p).unwrap_or(p);
    let text = format!(
        "# Local test network node {i}, written by `testnet`.\n\
         [node]\n\
         key-file = {:?}\n\
         genesis-file = {:?}\n\
         data-dir = {:?}\n\n\
         [clock]\n\
         # The system clock, trusted to within 20 ms on the operator's word: local testnets only.\n\
         declared-system-error-ms = 20\n",
        abs(node_dir.join("node.key")),
        abs(dir.join("genesis.json")),
        abs(node_dir.join("data")),
    );
    std::fs::write(node_dir.join("node.toml"), text)?;
    Ok(())
}

fn key_path(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("node-{i}")).join("node.key")
}
