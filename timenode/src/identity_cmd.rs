//! `timenode keygen` and `timenode genesis`: an operator's node identity and a network's genesis.
//!
//! Owns: the key directory layout (`node.key`, mode 0600; `node.pub`, hex) and parsing the
//! `--node NAME,KEY,ADDRESS` arguments. Never: prints a secret key.

use std::path::{Path, PathBuf};
use tickchain_sdk::{Genesis, GenesisNode, PublicKey, Second, keys, signing};

/// Why an identity command failed.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Key file error.
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    /// I/O error on a named path.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// A `--node` argument is malformed.
    #[error(
        "--node {arg:?}: expected NAME,KEY,HOST:PORT where KEY is 64 hex characters or a node.pub file; {reason}"
    )]
    NodeArg {
        /// The argument.
        arg: String,
        /// What was wrong.
        reason: String,
    },
    /// The genesis is invalid.
    #[error(transparent)]
    Genesis(#[from] tickchain_sdk::GenesisError),
}

/// The result of `keygen`.
#[derive(Debug)]
pub struct Generated {
    /// The secret key file (mode 0600).
    pub key_file: PathBuf,
    /// The public key file.
    pub pub_file: PathBuf,
    /// The public key.
    pub public_key: PublicKey,
}

/// Generates a node identity in `dir` (`node.key`, `node.pub`); refuses to overwrite a key.
pub fn keygen(dir: &Path) -> Result<Generated, IdentityError> {
    std::fs::create_dir_all(dir).map_err(|source| IdentityError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let key_file = dir.join("node.key");
    let pub_file = dir.join("node.pub");
    let key = keys::generate()?;
    keys::write_secret(&key_file, &key)?;
    let public_key = signing::public_key(&key);
    std::fs::write(&pub_file, format!("{public_key}\n")).map_err(|source| IdentityError::Io {
        path: pub_file.display().to_string(),
        source,
    })?;
    Ok(Generated {
        key_file,
        pub_file,
        public_key,
    })
}

/// Parses `NAME,KEY,HOST:PORT`; KEY is hex or the path of a `node.pub` file.
pub fn parse_node_arg(arg: &str) -> Result<GenesisNode, IdentityError> {
    let bad = |reason: String| IdentityError::NodeArg {
        arg: arg.to_string(),
        reason,
    };
    let parts: Vec<&str> = arg.splitn(3, ',').collect();
    let [name, key, address] = parts[..] else {
        return Err(bad(format!("found {} comma-separated parts", parts.len())));
    };
    let key_text = if key.len() == 64 && key.chars().all(|c| c.is_ascii_hexdigit()) {
        key.to_string()
    } else {
        std::fs::read_to_string(key)
            .map_err(|e| bad(format!("cannot read key file {key}: {e}")))?
            .trim()
            .to_string()
    };
    let public_key = PublicKey::from_hex(&key_text).map_err(|e| bad(format!("key: {e}")))?;
    if address.parse::<std::net::SocketAddr>().is_err() {
        return Err(bad(format!(
            "address {address:?} is not HOST:PORT with an IP host"
        )));
    }
    Ok(GenesisNode {
        name: name.to_string(),
        public_key,
        address: address.to_string(),
    })
}

/// Builds and validates a genesis, and writes it to `out` (refusing to overwrite).
pub fn genesis(
    chain_id: &str,
    f: u16,
    genesis_second: Second,
    nodes: Vec<GenesisNode>,
    out: &Path,
) -> Result<Genesis, IdentityError> {
    let g = Genesis::new(chain_id, genesis_second, f, nodes)?;
    let io = |source| IdentityError::Io {
        path: out.display().to_string(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .map_err(io)?;
    std::io::Write::write_all(&mut file, (g.to_json() + "\n").as_bytes()).map_err(io)?;
    Ok(g)
}
