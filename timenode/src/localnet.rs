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
    /// The TSA root or a TSA certificate could not be made.
    #[error(transparent)]
    Tsa(#[from] crate::tsa::pki::PkiError),
}

/// The directory of the network's RFC 3161 root under `root` (`tsa-root.key`, `tsa-root.pem`).
pub fn tsa_root_dir(root: &Path) -> PathBuf {
    root.join("tsa-root")
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
    create_network(
        root,
        chain_id,
        addresses,
        gateways,
        false,
        extra,
        gateway_extra,
    )
}

/// As [`create_with_gateways`]; with `tsa`, also an RFC 3161 root in `ROOT/tsa-root/` (its
/// certificate in a version 3 genesis), and for each node a TSA key (`node-i/tsa.key`) and the
/// certificate the root issued for it (`node-i/tsa.pem`), configured in a `[tsa]` section
/// after `extra(i)`.
pub fn create_network(
    root: &Path,
    chain_id: &str,
    addresses: &[String],
    gateways: usize,
    tsa: bool,
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
    let tsa_root = if tsa {
        let dir = tsa_root_dir(&root);
        let (key, _) = crate::identity_cmd::tsa_root(&dir, chain_id, now).map_err(|e| match e {
            crate::identity_cmd::IdentityError::Tsa(e) => LocalNetError::Tsa(e),
            other => LocalNetError::Io {
                path: dir.display().to_string(),
                source: std::io::Error::other(other.to_string()),
            },
        })?;
        let key = crate::tsa::pki::TsaKey::read(&key)?;
        let cert = crate::tsa::pki::read_certificate(&dir.join(crate::tsa::pki::ROOT_CERT_FILE))?;
        Some((key, cert))
    } else {
        None
    };
    if gateways > 0 || tsa_root.is_some() {
        genesis = genesis.with_extensions(listed, tsa_root.as_ref().map(|(_, c)| c.der()))?;
    }
    let genesis_path = root.join("genesis.json");
    std::fs::write(&genesis_path, genesis.to_json() + "\n").map_err(io(&genesis_path))?;
    let mut configs = Vec::with_capacity(addresses.len());
    for i in 0..addresses.len() {
        let dir = node_dir(&root, i);
        let mut text = format!(
            "[node]\nkey-file = {:?}\ngenesis-file = {:?}\ndata-dir = {:?}\n\n{}",
            dir.join("node.key"),
            genesis_path,
            dir.join("data"),
            extra(i),
        );
        if let Some((root_key, root_cert)) = &tsa_root {
            use crate::tsa::pki;
            let key = pki::TsaKey::generate()?;
            let key_file = dir.join(pki::KEY_FILE);
            key.write(&key_file)?;
            let cert = pki::issue(
                root_key,
                root_cert,
                &format!("node-{i}"),
                key.public_point(),
                now,
            )?;
            let cert_file = dir.join("tsa.pem");
            pki::write_public(
                &cert_file,
                &tickchain_sdk::rfc3161::der::pem("CERTIFICATE", &cert),
            )?;
            text.push_str(&format!(
                "\n# RFC 3161 time-stamps on the API (POST /v1/tsa): this node's P-256 key and the\n\
                 # certificate the network's root ({}) issued for it.\n\
                 [tsa]\nkey-file = {key_file:?}\ncertificate-file = {cert_file:?}\n",
                tsa_root_dir(&root).join(pki::ROOT_CERT_FILE).display()
            ));
        }
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
