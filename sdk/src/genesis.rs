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

/// The genesis format version with gateways and a TSA root (`specs/encoding.md` §3.1): what
/// [`Genesis::with_extensions`] writes. Every node carries an attestation binding, as in 2.
pub const GENESIS_VERSION_GATEWAYS: u8 = 3;
/// The genesis format version [`Genesis::new`] writes: every node carries an attestation
/// binding; no gateways, no TSA root. Still written for networks without either, so their
/// genesis hash, and every proof made under it, stays what it was.
pub const GENESIS_VERSION: u8 = 2;
/// The first genesis format, still read: no attestation bindings, so the ring cannot anchor.
pub const GENESIS_VERSION_NO_ATTESTATION: u8 = 1;
/// Most nodes a ring may have (certificates carry a signer bitmap of at most this many bits).
pub const MAX_NODES: usize = 1024;
/// Longest chain id, node name or address, in bytes.
pub const MAX_TEXT_LEN: usize = 255;
/// Most gateways a genesis may list: each may add one batch root per second to every tick.
pub const MAX_GATEWAYS: usize = 256;
/// Longest TSA root certificate (DER), in bytes.
pub const MAX_TSA_ROOT_LEN: usize = 4096;

/// A gateway: a non-voting intake process the network authorises to sign batches
/// (`specs/encoding.md` §3.1, version 3). Its batches carry the signer id `n + i`, where `i` is
/// its position in [`Genesis::gateways`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisGateway {
    /// Operator-chosen name, unique among nodes and gateways (1 to 255 bytes).
    pub name: String,
    /// The gateway's Ed25519 key: signs its batches, pins its TLS identity towards the ring.
    pub public_key: PublicKey,
}

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
    /// Gateways authorised to sign batches (version 3 only); gateway `i` signs as `n + i`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gateways: Vec<GenesisGateway>,
    /// The network's RFC 3161 TSA root certificate, DER as lower-case hex (version 3 only): the
    /// offline root that certifies each node's time-stamping key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsa_root: Option<String>,
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
            gateways: Vec::new(),
            tsa_root: None,
            hash: Hash([0; 32]),
        };
        g.hash = g.compute_hash();
        g.validate()?;
        Ok(g)
    }

    /// The same network in genesis version 3, with these gateways and TSA root (DER), its hash
    /// recomputed, then validated. The result is a different network (another genesis hash).
    pub fn with_extensions(
        mut self,
        gateways: Vec<GenesisGateway>,
        tsa_root: Option<&[u8]>,
    ) -> Result<Genesis, GenesisError> {
        self.version = GENESIS_VERSION_GATEWAYS;
        self.gateways = gateways;
        self.tsa_root = tsa_root.map(hex::encode);
        self.hash = self.compute_hash();
        self.validate()?;
        Ok(self)
    }

    /// The batch signer id of gateway `i` (`n + i`), if there is such a gateway.
    pub fn gateway_id(&self, i: usize) -> Option<NodeId> {
        (i < self.gateways.len()).then(|| NodeId((self.nodes.len() + i) as u16))
    }

    /// The gateway that signs batches as `id`, if `id` is one (`n <= id < n + gateways`).
    pub fn gateway(&self, id: NodeId) -> Option<&GenesisGateway> {
        id.index()
            .checked_sub(self.nodes.len())
            .and_then(|i| self.gateways.get(i))
    }

    /// Number of batch signers: the nodes, then the gateways.
    pub fn batch_signers(&self) -> usize {
        self.nodes.len() + self.gateways.len()
    }

    /// The Ed25519 key and name of batch signer `id`: a node's below `n`, a gateway's above.
    pub fn batch_signer(&self, id: NodeId) -> Option<(&PublicKey, &str)> {
        match self.node(id) {
            Some(n) => Some((&n.public_key, n.name.as_str())),
            None => self.gateway(id).map(|g| (&g.public_key, g.name.as_str())),
        }
    }

    /// The TSA root certificate's DER bytes, if the genesis has one.
    pub fn tsa_root_der(&self) -> Option<Vec<u8>> {
        self.tsa_root.as_deref().and_then(|h| hex::decode(h).ok())
    }

    /// Parses and validates a genesis JSON document.
    pub fn from_json(text: &str) -> Result<Genesis, GenesisError> {
        // One genesis per file: text after it is an error, not ignored.
        let g: Genesis = crate::json_doc::parse(text).map_err(|e| GenesisError::Json {
            path: e.path,
            message: e.message,
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
        if self.version >= GENESIS_VERSION_GATEWAYS {
            // Validation bounds both counts (256 gateways, 4096 bytes); saturating keeps an
            // unvalidated document's hash defined (it fails validation anyway).
            w.u16(u16::try_from(self.gateways.len()).unwrap_or(u16::MAX));
            for g in &self.gateways {
                w.str(&g.name).bytes(&g.public_key.0);
            }
            match &self.tsa_root {
                Some(hex_der) => {
                    let der = hex::decode(hex_der).unwrap_or_default();
                    w.u8(1)
                        .u16(u16::try_from(der.len()).unwrap_or(u16::MAX))
                        .bytes(&der)
                }
                None => w.u8(0),
            };
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
        if !(GENESIS_VERSION_NO_ATTESTATION..=GENESIS_VERSION_GATEWAYS).contains(&self.version) {
            return Err(invalid(
                "version",
                format!(
                    "expected {GENESIS_VERSION_NO_ATTESTATION} to {GENESIS_VERSION_GATEWAYS}, \
                     got {}",
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
            check_key(&format!("nodes[{i}].public_key"), &node.public_key)?;
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
        self.check_extensions()?;
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
    /// The version 3 fields: present only from version 3; gateways bounded, with valid,
    /// strong keys and names distinct from every node's and each other's; the TSA root a
    /// bounded DER SEQUENCE.
    fn check_extensions(&self) -> Result<(), GenesisError> {
        if self.version < GENESIS_VERSION_GATEWAYS {
            if !self.gateways.is_empty() {
                return Err(invalid(
                    "gateways",
                    format!("expected none before genesis version {GENESIS_VERSION_GATEWAYS}"),
                ));
            }
            if self.tsa_root.is_some() {
                return Err(invalid(
                    "tsa_root",
                    format!("expected none before genesis version {GENESIS_VERSION_GATEWAYS}"),
                ));
            }
            return Ok(());
        }
        if self.gateways.is_empty() && self.tsa_root.is_none() {
            // One genesis per network: one without either field is written as version 2.
            return Err(invalid(
                "version",
                format!(
                    "a version {GENESIS_VERSION_GATEWAYS} genesis has gateways or a TSA root; \
                     without either write version {GENESIS_VERSION}"
                ),
            ));
        }
        if self.gateways.len() > MAX_GATEWAYS {
            return Err(invalid(
                "gateways",
                format!(
                    "expected at most {MAX_GATEWAYS}, got {}",
                    self.gateways.len()
                ),
            ));
        }
        for (i, g) in self.gateways.iter().enumerate() {
            let field = |f: &str| format!("gateways[{i}].{f}");
            check_text(&field("name"), &g.name)?;
            check_key(&field("public_key"), &g.public_key)?;
            let nodes = self.nodes.iter().map(|n| ("nodes", &n.name, &n.public_key));
            let earlier = self.gateways[..i]
                .iter()
                .map(|o| ("gateways", &o.name, &o.public_key));
            for (j, (list, name, key)) in nodes.chain(earlier).enumerate() {
                let j = if list == "nodes" {
                    j
                } else {
                    j - self.nodes.len()
                };
                if *key == g.public_key {
                    return Err(invalid(
                        field("public_key"),
                        format!("same key as {list}[{j}]"),
                    ));
                }
                if *name == g.name {
                    return Err(invalid(
                        field("name"),
                        format!("same name as {list}[{j}]: {:?}", g.name),
                    ));
                }
            }
        }
        if let Some(root) = &self.tsa_root {
            let der = hex::decode(root)
                .ok()
                .filter(|d| *root == hex::encode(d))
                .ok_or_else(|| invalid("tsa_root", "expected lower-case hex of DER bytes"))?;
            if der.is_empty() || der.len() > MAX_TSA_ROOT_LEN || der[0] != 0x30 {
                return Err(invalid(
                    "tsa_root",
                    format!(
                        "expected a DER certificate (a SEQUENCE) of 1 to {MAX_TSA_ROOT_LEN} \
                         bytes, got {} bytes",
                        der.len()
                    ),
                ));
            }
        }
        Ok(())
    }

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

fn check_key(field: &str, key: &PublicKey) -> Result<(), GenesisError> {
    let key = VerifyingKey::from_bytes(&key.0)
        .map_err(|_| invalid(field, "not a valid Ed25519 point"))?;
    if key.is_weak() {
        return Err(invalid(field, "weak (small-order) Ed25519 key"));
    }
    Ok(())
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
