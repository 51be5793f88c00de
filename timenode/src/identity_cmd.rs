//! `timenode keygen` and `timenode genesis`: an operator's node identity and a network's genesis.
//!
//! Owns: the key directory layout (`node.key`, mode 0600; `node.pub`, hex; `attest.key`, the
//! secp256k1 attestation key, mode 0600; `attestation.json`, its public binding to the node's
//! identity) and parsing the `--node NAME,KEY,ADDRESS[,ATTESTATION]` arguments. Never: prints
//! or logs a secret key.

use crate::tsa::pki;
use std::path::{Path, PathBuf};
use tickchain_anchor::AttestationKey;
use tickchain_sdk::anchor::EvmAddress;
use tickchain_sdk::attest::AttestationBinding;
use tickchain_sdk::{Genesis, GenesisNode, PublicKey, Second, keys, signing};

/// The attestation key file `keygen` writes next to `node.key`.
pub use tickchain_anchor::signer::ATTEST_KEY_FILE;
/// The public binding file `keygen` writes and `genesis` reads next to `node.pub`.
pub const ATTESTATION_FILE: &str = "attestation.json";

/// Why an identity command failed.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Key file error.
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    /// A TSA key or certificate error.
    #[error(transparent)]
    Tsa(#[from] crate::tsa::pki::PkiError),
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
        "--node {arg:?}: expected NAME,KEY,HOST:PORT[,ATTESTATION] where KEY is 64 hex characters or a node.pub file and ATTESTATION an attestation.json file (default: the one next to node.pub); {reason}"
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
    /// The secp256k1 attestation key file (mode 0600).
    pub attest_key_file: PathBuf,
    /// The binding of the attestation key to the identity (public; `genesis` reads it).
    pub attestation_file: PathBuf,
    /// The attestation key's EVM address.
    pub attestation_address: EvmAddress,
    /// The RFC 3161 TSA key file (P-256, PKCS#8 PEM, mode 0600).
    pub tsa_key_file: PathBuf,
    /// Its public point (hex), which `genesis --tsa-root` certifies.
    pub tsa_pub_file: PathBuf,
}

/// Generates a node identity in `dir` (`node.key`, `node.pub`, `attest.key`,
/// `attestation.json`); refuses to overwrite a key.
pub fn keygen(dir: &Path) -> Result<Generated, IdentityError> {
    std::fs::create_dir_all(dir).map_err(|source| IdentityError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let key_file = dir.join("node.key");
    let pub_file = dir.join("node.pub");
    let attest_key_file = dir.join(ATTEST_KEY_FILE);
    let attestation_file = dir.join(ATTESTATION_FILE);
    let tsa_key_file = dir.join(pki::KEY_FILE);
    let tsa_pub_file = dir.join(pki::PUB_FILE);
    // Refuse before writing anything, so a half-written identity never replaces a whole one.
    for existing in [&key_file, &attest_key_file, &tsa_key_file] {
        if existing.exists() {
            return Err(IdentityError::Io {
                path: existing.display().to_string(),
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "refusing to overwrite a secret key",
                ),
            });
        }
    }
    let key = keys::generate()?;
    let attest = AttestationKey::generate()?;
    keys::write_secret(&key_file, &key)?;
    attest.write(&attest_key_file)?;
    let public_key = signing::public_key(&key);
    let write = |path: &Path, text: String| {
        std::fs::write(path, text).map_err(|source| IdentityError::Io {
            path: path.display().to_string(),
            source,
        })
    };
    write(&pub_file, format!("{public_key}\n"))?;
    let binding = attest.bind(&key);
    write(&attestation_file, binding_json(&binding) + "\n")?;
    let tsa = pki::TsaKey::generate()?;
    tsa.write(&tsa_key_file)?;
    write(&tsa_pub_file, hex::encode(tsa.public_point()) + "\n")?;
    Ok(Generated {
        tsa_key_file,
        tsa_pub_file,
        key_file,
        pub_file,
        public_key,
        attest_key_file,
        attestation_file,
        attestation_address: binding.address,
    })
}

fn binding_json(binding: &AttestationBinding) -> String {
    serde_json::to_string_pretty(binding).expect("a binding serializes")
}

/// Writes `binding` as an `attestation.json` file (what `keygen` writes).
pub fn write_binding(path: &Path, binding: &AttestationBinding) -> Result<(), IdentityError> {
    std::fs::write(path, binding_json(binding) + "\n").map_err(|source| IdentityError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Parses `NAME,KEY,HOST:PORT[,ATTESTATION]`; KEY is hex or the path of a `node.pub` file,
/// ATTESTATION the path of the node's `attestation.json` (default: the one next to `node.pub`).
/// The binding is checked against the key here, so a mix-up names the node.
pub fn parse_node_arg(arg: &str) -> Result<GenesisNode, IdentityError> {
    let bad = |reason: String| IdentityError::NodeArg {
        arg: arg.to_string(),
        reason,
    };
    let parts: Vec<&str> = arg.splitn(4, ',').collect();
    let (name, key, address, attestation) = match parts[..] {
        [name, key, address] => (name, key, address, None),
        [name, key, address, attestation] => (name, key, address, Some(attestation)),
        _ => return Err(bad(format!("found {} comma-separated parts", parts.len()))),
    };
    let key_is_hex = is_hex_key(key);
    let public_key = public_key_arg(key).map_err(bad)?;
    if address.parse::<std::net::SocketAddr>().is_err() {
        return Err(bad(format!(
            "address {address:?} is not HOST:PORT with an IP host"
        )));
    }
    let binding_path = match attestation {
        Some(path) => PathBuf::from(path),
        None if !key_is_hex => Path::new(key)
            .parent()
            .unwrap_or(Path::new("."))
            .join(ATTESTATION_FILE),
        None => {
            return Err(bad(
                "a hex KEY needs the node's attestation.json as a fourth part".to_string(),
            ));
        }
    };
    let text = std::fs::read_to_string(&binding_path).map_err(|e| {
        bad(format!(
            "cannot read attestation file {}: {e}",
            binding_path.display()
        ))
    })?;
    let binding: AttestationBinding = serde_json::from_str(&text)
        .map_err(|e| bad(format!("attestation file {}: {e}", binding_path.display())))?;
    binding
        .verify(&public_key)
        .map_err(|e| bad(format!("attestation file {}: {e}", binding_path.display())))?;
    Ok(GenesisNode {
        attestation: Some(binding),
        ..GenesisNode::new(name, public_key, address)
    })
}

fn is_hex_key(key: &str) -> bool {
    key.len() == 64 && key.chars().all(|c| c.is_ascii_hexdigit())
}

/// A public key given as 64 hex characters or as the path of a `node.pub` file.
fn public_key_arg(key: &str) -> Result<PublicKey, String> {
    let text = if is_hex_key(key) {
        key.to_string()
    } else {
        std::fs::read_to_string(key)
            .map_err(|e| format!("cannot read key file {key}: {e}"))?
            .trim()
            .to_string()
    };
    PublicKey::from_hex(&text).map_err(|e| format!("key: {e}"))
}

/// Parses `NAME,KEY` for a gateway; KEY is hex or the path of a `node.pub` file (what
/// `keygen` writes; a gateway uses only its Ed25519 key).
pub fn parse_gateway_arg(arg: &str) -> Result<tickchain_sdk::GenesisGateway, IdentityError> {
    let bad = |reason: String| IdentityError::NodeArg {
        arg: arg.to_string(),
        reason,
    };
    let Some((name, key)) = arg.split_once(',') else {
        return Err(bad("expected NAME,KEY".into()));
    };
    let public_key = public_key_arg(key).map_err(bad)?;
    Ok(tickchain_sdk::GenesisGateway {
        name: name.to_string(),
        public_key,
    })
}

/// `timenode tsa-root`: a network's RFC 3161 root key (`DIR/tsa-root.key`, mode 0600; keep
/// it offline) and self-signed certificate (`DIR/tsa-root.pem`). Refuses to overwrite.
pub fn tsa_root(dir: &Path, chain_id: &str, now: u64) -> Result<(PathBuf, PathBuf), IdentityError> {
    std::fs::create_dir_all(dir).map_err(|source| IdentityError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let key_file = dir.join(pki::ROOT_KEY_FILE);
    let cert_file = dir.join(pki::ROOT_CERT_FILE);
    refuse_existing(&[&key_file, &cert_file])?;
    let (key, cert) = pki::new_root(chain_id, now)?;
    key.write(&key_file)?;
    pki::write_public(
        &cert_file,
        &tickchain_sdk::rfc3161::der::pem("CERTIFICATE", &cert),
    )?;
    Ok((key_file, cert_file))
}

/// Fails naming the first of `paths` that exists, so nothing is written over or half-written.
fn refuse_existing(paths: &[&Path]) -> Result<(), IdentityError> {
    match paths.iter().find(|p| p.exists()) {
        Some(p) => Err(IdentityError::Io {
            path: p.display().to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "refusing to overwrite an existing file",
            ),
        }),
        None => Ok(()),
    }
}

/// The TSA certificate file `genesis --tsa-root` writes for member `name` in `out_dir`.
pub fn tsa_certificate_path(out_dir: &Path, name: &str) -> PathBuf {
    out_dir.join(format!("tsa-{name}.pem"))
}

/// `timenode tsa-cert`: issues (or renews) one member's TSA certificate from the root in
/// `root_dir` for the public point in `pub_file` (a `tsa.pub`), written to `out`.
pub fn tsa_cert(
    root_dir: &Path,
    name: &str,
    pub_file: &Path,
    out: &Path,
    now: u64,
) -> Result<(), IdentityError> {
    refuse_existing(&[out])?;
    let root = TsaRoot::read(root_dir)?;
    let text = std::fs::read_to_string(pub_file).map_err(|source| IdentityError::Io {
        path: pub_file.display().to_string(),
        source,
    })?;
    let point = pki::parse_public_point(&text).map_err(|reason| {
        IdentityError::Tsa(pki::PkiError::Format {
            path: pub_file.display().to_string(),
            reason,
        })
    })?;
    let cert = pki::issue(&root.key, &root.certificate, name, &point, now)?;
    pki::write_public(out, &tickchain_sdk::rfc3161::der::pem("CERTIFICATE", &cert))?;
    Ok(())
}

/// The TSA root `genesis --tsa-root DIR` reads: its key and certificate.
pub struct TsaRoot {
    key: pki::TsaKey,
    certificate: tickchain_sdk::rfc3161::signer::SignerCertificate,
}

impl TsaRoot {
    /// Reads `DIR/tsa-root.key` and `DIR/tsa-root.pem`.
    pub fn read(dir: &Path) -> Result<TsaRoot, IdentityError> {
        Ok(TsaRoot {
            key: pki::TsaKey::read(&dir.join(pki::ROOT_KEY_FILE))?,
            certificate: pki::read_certificate(&dir.join(pki::ROOT_CERT_FILE))?,
        })
    }
}

/// For each `--node` argument whose KEY is a `node.pub` file with a `tsa.pub` beside it, issues
/// that member's TSA certificate from `root`, to be written as `DIR/tsa-NAME.pem`, `DIR` being
/// the genesis file's directory; refuses when any of those files exists. Nothing is written:
/// [`write_tsa_certificates`] does, once the genesis is.
pub fn issue_tsa_certificates(
    root: &TsaRoot,
    node_args: &[String],
    now: u64,
    out_dir: &Path,
) -> Result<Vec<(PathBuf, Vec<u8>)>, IdentityError> {
    let mut written = Vec::new();
    for arg in node_args {
        let mut parts = arg.splitn(3, ',');
        let (Some(name), Some(key)) = (parts.next(), parts.next()) else {
            continue; // parse_node_arg has refused it already
        };
        if is_hex_key(key) {
            continue;
        }
        let pub_path = Path::new(key)
            .parent()
            .unwrap_or(Path::new("."))
            .join(pki::PUB_FILE);
        let Ok(text) = std::fs::read_to_string(&pub_path) else {
            continue;
        };
        let point = pki::parse_public_point(&text).map_err(|reason| IdentityError::NodeArg {
            arg: arg.clone(),
            reason: format!("{}: {reason}", pub_path.display()),
        })?;
        let cert = pki::issue(&root.key, &root.certificate, name, &point, now)?;
        written.push((tsa_certificate_path(out_dir, name), cert));
    }
    let paths: Vec<&Path> = written.iter().map(|(p, _)| p.as_path()).collect();
    refuse_existing(&paths)?;
    Ok(written)
}

/// Writes the certificates [`issue_tsa_certificates`] made; returns their paths.
pub fn write_tsa_certificates(
    certificates: Vec<(PathBuf, Vec<u8>)>,
) -> Result<Vec<PathBuf>, IdentityError> {
    for (path, cert) in &certificates {
        pki::write_public(path, &tickchain_sdk::rfc3161::der::pem("CERTIFICATE", cert))?;
    }
    Ok(certificates.into_iter().map(|(p, _)| p).collect())
}

/// Builds and validates a genesis (version 3 when `gateways` is not empty or a TSA root is
/// given), and writes it to `out` (refusing to overwrite).
pub fn genesis(
    chain_id: &str,
    f: u16,
    genesis_second: Second,
    nodes: Vec<GenesisNode>,
    gateways: Vec<tickchain_sdk::GenesisGateway>,
    tsa_root: Option<&TsaRoot>,
    out: &Path,
) -> Result<Genesis, IdentityError> {
    let mut g = Genesis::new(chain_id, genesis_second, f, nodes)?;
    if !gateways.is_empty() || tsa_root.is_some() {
        g = g.with_extensions(gateways, tsa_root.map(|r| r.certificate.der()))?;
    }
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
