//! The genesis document: the fixed membership and parameters of one tickchain network.
//!
//! Owns: validation of a genesis file and its hash (`specs/encoding.md` §3.1), including each
//! node's attestation binding (§3.5). Never: key generation or file I/O beyond parsing (see
//! `keys`).

use crate::anchor::EvmAddress;
use crate::attest::AttestationBinding;
use crate::encoding::{Writer, tag};
use crate::{Hash, NodeId, PublicKey, Second};
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

/// The genesis format version this crate writes: every node carries an attestation binding.
pub const GENESIS_VERSION: u8 = 2;
/// The first genesis format, still read: no attestation bindings, so the ring cannot anchor.
pub const GENESIS_VERSION_NO_ATTESTATION: u8 = 1;
/// Most nodes a ring may have (certificates carry a signer bitmap of at most this many bits).
pub const MAX_NODES: usize = 1024;
/// Longest chain id, node name or address, in bytes.
pub const MAX_TEXT_LEN: usize = 255;

/// One member of the ring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisNode {
    /// Operator-chosen name, unique in the ring (1 to 255 bytes).
    pub name: String,
    /// The node's Ed25519 identity key: signs votes and batches, pins its TLS identity.
    pub public_key: PublicKey,
    /// The node's peer (QUIC) address, `host:port`.
    pub address: String,
    /// The node's secp256k1 attestation address, cross-signed with `public_key` (§3.5).
    /// Required from genesis version 2 on; absent in version 1 files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<AttestationBinding>,
}

impl GenesisNode {
    /// A member without an attestation binding (set `attestation` before `Genesis::new`).
    pub fn new(
        name: impl Into<String>,
        public_key: PublicKey,
        address: impl Into<String>,
    ) -> GenesisNode {
        GenesisNode {
            name: name.into(),
            public_key,
            address: address.into(),
            attestation: None,
        }
    }
}

/// The network's genesis: chain id, first second, ordered members, fault bound and quorum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// Format version: [`GENESIS_VERSION`], or [`GENESIS_VERSION_NO_ATTESTATION`] for files
    /// written before attestation keys.
    pub version: u8,
    /// Human-readable network name (1 to 255 bytes), e.g. `tickchain-local`.
    pub chain_id: String,
    /// The network starts ticking after this POSIX second.
    pub genesis_second: Second,
    /// Byzantine nodes tolerated; requires `nodes.len() >= 3f + 1`.
    pub f: u16,
    /// Signatures a certificate needs; must equal `nodes.len() - f`.
    pub quorum: u16,
    /// How early, in milliseconds, an honest voter's clock may place a tick before its second
    /// (`earliest >= second - max_early_ms`); the verifier checks it on the certificate window.
    pub max_early_ms: u32,
    /// How late, in milliseconds, after its second a tick may still be signed
    /// (`latest <= second + max_late_ms`).
    pub max_late_ms: u32,
    /// The ring, in order: a node's [`NodeId`] is its position here.
    pub nodes: Vec<GenesisNode>,
    /// BLAKE3 of the canonical encoding of every field above; checked on load.
    pub hash: Hash,
}

/// Why a genesis document is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    /// The JSON did not parse; `path` names the field.
    #[error("genesis JSON at {path}: {message}")]
    Json {
        /// Field path (`nodes[2].public_key`), or `.` for the document.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// A field holds a value outside its allowed range.
    #[error("genesis field {field}: {reason}")]
    Invalid {
        /// The field.
        field: String,
        /// Expected and found.
        reason: String,
    },
    /// The stored hash is not the hash of the contents.
    #[error("genesis hash mismatch: file says {stated}, contents hash to {computed}")]
    HashMismatch {
        /// The `hash` field.
        stated: Hash,
        /// The hash of the contents.
        computed: Hash,
    },
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> GenesisError {
    GenesisError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

impl Genesis {
    /// Builds a genesis (version [`GENESIS_VERSION`], so every node needs its attestation
    /// binding) with the standard quorum `n - f` and its hash filled in, then validates.
    pub fn new(
        chain_id: impl Into<String>,
        genesis_second: Second,
        f: u16,
        nodes: Vec<GenesisNode>,
    ) -> Result<Genesis, GenesisError> {
        let n = u16::try_from(nodes.len()).map_err(|_| invalid("nodes", "too many nodes"))?;
        let mut g = Genesis {
            version: GENESIS_VERSION,
            chain_id: chain_id.into(),
            genesis_second,
            f,
            quorum: n.saturating_sub(f),
            max_early_ms: 500,
            max_late_ms: 1000,
            nodes,
            hash: Hash([0; 32]),
        };
        g.hash = g.compute_hash();
        g.validate()?;
        Ok(g)
    }

    /// Parses and validates a genesis JSON document.
    pub fn from_json(text: &str) -> Result<Genesis, GenesisError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let g: Genesis = serde_path_to_error::deserialize(de).map_err(|e| GenesisError::Json {
            path: e.path().to_string(),
            message: e.inner().to_string(),
        })?;
        g.validate()?;
        Ok(g)
    }

    /// Pretty JSON, as written to `genesis.json`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("genesis serializes")
    }

    /// Number of nodes in the ring.
    pub fn n(&self) -> usize {
        self.nodes.len()
    }

    /// The node with this id, if any.
    pub fn node(&self, id: NodeId) -> Option<&GenesisNode> {
        self.nodes.get(id.index())
    }

    /// The canonical bytes whose BLAKE3 is the genesis hash (spec §3.1).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_tag(tag::GENESIS);
        w.u8(self.version)
            .str(&self.chain_id)
            .u64(self.genesis_second.0)
            .u16(self.f)
            .u16(self.quorum)
            .u32(self.max_early_ms)
            .u32(self.max_late_ms)
            .u16(self.nodes.len() as u16);
        for node in &self.nodes {
            w.str(&node.name)
                .bytes(&node.public_key.0)
                .str(&node.address);
            // Version 1 has no binding; validation makes version 2 have one on every node.
            if let Some(binding) = &node.attestation {
                w.bytes(&binding.canonical_bytes());
            }
        }
        w.finish()
    }

    /// True if every node has an attestation binding, so the ring can co-sign anchors.
    pub fn can_anchor(&self) -> bool {
        self.nodes.iter().all(|n| n.attestation.is_some())
    }

    /// Each node's attestation address in ring order, or `None` for a version 1 genesis.
    pub fn attestation_addresses(&self) -> Option<Vec<EvmAddress>> {
        self.nodes
            .iter()
            .map(|n| n.attestation.as_ref().map(|b| b.address))
            .collect()
    }

    /// BLAKE3 of the canonical bytes.
    pub fn compute_hash(&self) -> Hash {
        Hash(*blake3::hash(&self.canonical_bytes()).as_bytes())
    }

    /// Checks every rule of spec §3.1, including that `hash` matches the contents.
    pub fn validate(&self) -> Result<(), GenesisError> {
        if self.version != GENESIS_VERSION && self.version != GENESIS_VERSION_NO_ATTESTATION {
            return Err(invalid(
                "version",
                format!(
                    "expected {GENESIS_VERSION_NO_ATTESTATION} or {GENESIS_VERSION}, got {}",
                    self.version
                ),
            ));
        }
        check_text("chain_id", &self.chain_id)?;
        let n = self.nodes.len();
        if n == 0 || n > MAX_NODES {
            return Err(invalid(
                "nodes",
                format!("expected 1 to {MAX_NODES} nodes, got {n}"),
            ));
        }
        let f = self.f as usize;
        if n < 3 * f + 1 {
            return Err(invalid(
                "f",
                format!(
                    "{n} nodes tolerate at most f = {}, got f = {f}",
                    (n - 1) / 3
                ),
            ));
        }
        if self.quorum as usize != n - f {
            return Err(invalid(
                "quorum",
                format!("expected n - f = {}, got {}", n - f, self.quorum),
            ));
        }
        for (i, node) in self.nodes.iter().enumerate() {
            check_text(&format!("nodes[{i}].name"), &node.name)?;
            check_text(&format!("nodes[{i}].address"), &node.address)?;
            let key = VerifyingKey::from_bytes(&node.public_key.0).map_err(|_| {
                invalid(
                    format!("nodes[{i}].public_key"),
                    "not a valid Ed25519 point",
                )
            })?;
            if key.is_weak() {
                return Err(invalid(
                    format!("nodes[{i}].public_key"),
                    "weak (small-order) Ed25519 key",
                ));
            }
            for (j, other) in self.nodes[..i].iter().enumerate() {
                if other.public_key == node.public_key {
                    return Err(invalid(
                        format!("nodes[{i}].public_key"),
                        format!("same key as nodes[{j}]"),
                    ));
                }
                if let (Some(a), Some(b)) = (&other.attestation, &node.attestation)
                    && a.address == b.address
                {
                    return Err(invalid(
                        format!("nodes[{i}].attestation.address"),
                        format!("same attestation address as nodes[{j}]"),
                    ));
                }
                if other.name == node.name {
                    return Err(invalid(
                        format!("nodes[{i}].name"),
                        format!("same name as nodes[{j}]: {:?}", node.name),
                    ));
                }
            }
            self.check_attestation(i, node)?;
        }
        let computed = self.compute_hash();
        if computed != self.hash {
            return Err(GenesisError::HashMismatch {
                stated: self.hash,
                computed,
            });
        }
        Ok(())
    }
}

impl Genesis {
    fn check_attestation(&self, i: usize, node: &GenesisNode) -> Result<(), GenesisError> {
        match (&node.attestation, self.version) {
            (None, GENESIS_VERSION_NO_ATTESTATION) => Ok(()),
            (Some(_), GENESIS_VERSION_NO_ATTESTATION) => Err(invalid(
                format!("nodes[{i}].attestation"),
                format!("expected none in a version {GENESIS_VERSION_NO_ATTESTATION} genesis"),
            )),
            (None, _) => Err(invalid(
                format!("nodes[{i}].attestation"),
                format!(
                    "expected an attestation binding in a version {GENESIS_VERSION} genesis, \
                     found none"
                ),
            )),
            (Some(binding), _) => binding
                .verify(&node.public_key)
                .map_err(|e| invalid(format!("nodes[{i}].attestation"), e.to_string())),
        }
    }
}

fn check_text(field: &str, value: &str) -> Result<(), GenesisError> {
    if value.is_empty() || value.len() > MAX_TEXT_LEN {
        return Err(invalid(
            field,
            format!("expected 1 to {MAX_TEXT_LEN} bytes, got {}", value.len()),
        ));
    }
    Ok(())
}
