//! Deterministic networks for tests, test vectors, fuzz seeds and benchmarks.
//!
//! Owns: building genesis, batches, ticks, certificates and proofs from public seeds. Never:
//! production keys: every key here is derived from a published seed and is therefore public.

use crate::attest::{AttestationBinding, AttestationSigner};
use crate::certificate::{CertVote, FinalityCertificate};
use crate::merkle::{self, MerkleTree};
use crate::proof::{PROOF_VERSION, Proof};
use crate::signing::{public_key, sign};
use crate::votes::{ClockReading, VoteKind, vote_signing_bytes};
use crate::{
    Batch, Digest, Genesis, GenesisNode, Hash, Height, NodeId, Salt, Second, Tick, UtcNanos, View,
};
use ed25519_dalek::SigningKey;

/// A ring of `n` nodes whose keys derive from a seed string.
#[derive(Debug, Clone)]
pub struct TestNetwork {
    /// The genesis (valid, hash filled in).
    pub genesis: Genesis,
    /// Signing key of node `i` at index `i`.
    pub keys: Vec<SigningKey>,
    /// secp256k1 attestation key of node `i` at index `i` (bound to `keys[i]` in genesis).
    pub attestation_keys: Vec<AttestationSigner>,
    /// Signing key of gateway `i` (batch signer `n + i`); empty unless built by
    /// [`TestNetwork::with_gateways`].
    pub gateway_keys: Vec<SigningKey>,
}

/// 32 deterministic bytes for `label`.
pub fn seeded(label: &str) -> [u8; 32] {
    *blake3::hash(label.as_bytes()).as_bytes()
}

impl TestNetwork {
    /// A ring of `n` nodes tolerating `f`, with keys derived from `seed`.
    pub fn new(seed: &str, n: usize, f: u16, genesis_second: Second) -> TestNetwork {
        let keys: Vec<SigningKey> = (0..n)
            .map(|i| SigningKey::from_bytes(&seeded(&format!("{seed}/node-key/{i}"))))
            .collect();
        let attestation_keys: Vec<AttestationSigner> = (0..n)
            .map(|i| {
                AttestationSigner::from_secret(&seeded(&format!("{seed}/attest-key/{i}")))
                    .expect("a BLAKE3 output is below the secp256k1 order")
            })
            .collect();
        let nodes = keys
            .iter()
            .zip(&attestation_keys)
            .enumerate()
            .map(|(i, (k, a))| GenesisNode {
                attestation: Some(AttestationBinding::create(k, a)),
                ..GenesisNode::new(
                    format!("node-{i}"),
                    public_key(k),
                    format!("127.0.0.1:{}", 7100 + i),
                )
            })
            .collect();
        let genesis = Genesis::new(format!("{seed}-net"), genesis_second, f, nodes)
            .expect("test genesis is valid");
        TestNetwork {
            genesis,
            keys,
            attestation_keys,
            gateway_keys: Vec::new(),
        }
    }

    /// The same ring in genesis version 3 with `gateways` gateways (`gateway-i`, keys from
    /// `seed`) and `tsa_root` as its TSA root: another network, with another genesis hash.
    pub fn with_gateways(mut self, seed: &str, gateways: usize, tsa_root: Option<&[u8]>) -> Self {
        self.gateway_keys = (0..gateways)
            .map(|i| SigningKey::from_bytes(&seeded(&format!("{seed}/gateway-key/{i}"))))
            .collect();
        let listed = self
            .gateway_keys
            .iter()
            .enumerate()
            .map(|(i, k)| crate::GenesisGateway {
                name: format!("gateway-{i}"),
                public_key: public_key(k),
            })
            .collect();
        self.genesis = self
            .genesis
            .with_extensions(listed, tsa_root)
            .expect("test genesis with gateways is valid");
        self
    }

    /// The signing key of batch signer `id`: node `id`, or gateway `id - n`.
    pub fn batch_key(&self, id: NodeId) -> &SigningKey {
        match id.index().checked_sub(self.keys.len()) {
            None => &self.keys[id.index()],
            Some(i) => &self.gateway_keys[i],
        }
    }

    /// The genesis hash.
    pub fn hash(&self) -> Hash {
        self.genesis.hash
    }

    /// Seals and signs a batch of `digests` with deterministic salts.
    pub fn batch(&self, node: NodeId, second: Second, digests: &[Digest]) -> SealedBatch {
        let salts: Vec<Salt> = (0..digests.len())
            .map(|i| {
                let b = seeded(&format!("salt/{}/{}/{i}", node.0, second.0));
                Salt(b[..16].try_into().expect("16 bytes"))
            })
            .collect();
        let leaves = digests
            .iter()
            .zip(&salts)
            .map(|(d, s)| merkle::digest_leaf(s, d))
            .collect();
        let tree = MerkleTree::from_leaf_hashes(leaves);
        let mut batch = Batch {
            node,
            second,
            root: tree.root(),
            count: tree.len(),
            signature: crate::Signature([0; 64]),
        };
        batch.signature = sign(self.batch_key(node), &batch.signing_bytes(&self.hash()));
        SealedBatch {
            batch,
            digests: digests.to_vec(),
            salts,
            tree,
        }
    }

    /// A tick over `batches` (their leaf order is the slice order).
    pub fn tick(
        &self,
        height: Height,
        view: View,
        second: Second,
        prev_hash: Hash,
        batches: &[&Batch],
    ) -> (Tick, MerkleTree) {
        let tree = crate::batch::tick_tree(batches.iter().copied(), &self.hash());
        let n = self.genesis.n() as u64;
        let tick = Tick {
            height,
            view,
            second,
            prev_hash,
            batch_root: tree.root(),
            batch_count: tree.len(),
            proposer: NodeId((view.0 % n) as u16),
        };
        (tick, tree)
    }

    /// The tick after `parent` (no batches), proposed in `view` for `second`.
    pub fn child(&self, parent: &Tick, view: View, second: Second) -> Tick {
        let (mut tick, _) = self.tick(
            Height(parent.height.0 + 1),
            view,
            second,
            parent.hash(&self.hash()),
            &[],
        );
        tick.prev_hash = parent.hash(&self.hash());
        tick
    }

    /// A finality certificate on `tick` signed by `signers`, each with its clock reading.
    pub fn certify(&self, tick: &Tick, signers: &[(NodeId, ClockReading)]) -> FinalityCertificate {
        let tick_hash = tick.hash(&self.hash());
        let votes = signers
            .iter()
            .map(|&(signer, reading)| {
                let msg = vote_signing_bytes(
                    VoteKind::Finalize,
                    &self.hash(),
                    tick.view,
                    &tick_hash,
                    &reading,
                );
                CertVote {
                    signer,
                    reading,
                    signature: sign(&self.keys[signer.index()], &msg),
                }
            })
            .collect();
        FinalityCertificate {
            view: tick.view,
            tick_hash,
            votes,
        }
    }

    /// A reading that an honest node with error `±radius_ms` would take `delay_ms` after
    /// `second` began.
    pub fn reading(second: Second, delay_ms: i64, radius_ms: i64) -> ClockReading {
        let t = second.start().0 + delay_ms * 1_000_000;
        ClockReading {
            earliest: UtcNanos(t - radius_ms * 1_000_000),
            latest: UtcNanos(t + radius_ms * 1_000_000),
        }
    }

    /// A valid proof of `digest` alone in node 0's batch for `second - 1`, in the tick of
    /// `second` at `height`, certified by the first three nodes.
    pub fn proof_of(&self, digest: Digest, second: Second, height: Height) -> Proof {
        let ours = self.batch(NodeId(0), Second(second.0 - 1), &[digest]);
        let (tick, tree) = self.tick(
            height,
            View(height.0 + 2),
            second,
            Hash(seeded(&format!("prev/{}", height.0))),
            &[&ours.batch],
        );
        let readings: Vec<(NodeId, ClockReading)> = (0..3)
            .map(|i| (NodeId(i), Self::reading(second, 5 + i64::from(i), 2)))
            .collect();
        let certificate = self.certify(&tick, &readings);
        ours.proof(
            self.hash(),
            0,
            tick,
            tree.path(0).expect("batch 0"),
            certificate,
        )
    }

    /// A complete, valid proof for leaf `leaf` of a batch of `batch_size` digests from node 0,
    /// in a tick with `batches_in_tick` batches, certified by the first `signers` nodes.
    pub fn sample_proof(
        &self,
        batch_size: u32,
        leaf: u32,
        batches_in_tick: u16,
        signers: usize,
    ) -> Proof {
        self.sample_proof_from(NodeId(0), batch_size, leaf, batches_in_tick, signers)
    }

    /// [`TestNetwork::sample_proof`] for a digest in a batch signed by `signer` (a node, or a
    /// gateway `n + i`).
    pub fn sample_proof_from(
        &self,
        signer: NodeId,
        batch_size: u32,
        leaf: u32,
        batches_in_tick: u16,
        signers: usize,
    ) -> Proof {
        let second = Second(self.genesis.genesis_second.0 + 10);
        let digests: Vec<Digest> = (0..batch_size)
            .map(|i| Digest(seeded(&format!("digest/{i}"))))
            .collect();
        let ours = self.batch(signer, Second(second.0 - 1), &digests);
        let others: Vec<SealedBatch> = (1..batches_in_tick)
            .map(|i| {
                let node = NodeId(i % self.genesis.n() as u16);
                self.batch(
                    node,
                    Second(second.0 - 1),
                    &[Digest(seeded(&format!("other/{i}")))],
                )
            })
            .collect();
        let mut all: Vec<&Batch> = vec![&ours.batch];
        all.extend(others.iter().map(|b| &b.batch));
        let (tick, tick_tree) = self.tick(Height(10), View(12), second, Hash(seeded("prev")), &all);
        let readings: Vec<(NodeId, ClockReading)> = (0..signers)
            .map(|i| (NodeId(i as u16), Self::reading(second, 5 + i as i64, 2)))
            .collect();
        let certificate = self.certify(&tick, &readings);
        ours.proof(
            self.hash(),
            leaf,
            tick,
            tick_tree.path(0).expect("batch 0"),
            certificate,
        )
    }
}

/// A signed batch with everything needed to issue proofs for its digests.
#[derive(Debug, Clone)]
pub struct SealedBatch {
    /// The signed batch.
    pub batch: Batch,
    /// Its digests, in leaf order.
    pub digests: Vec<Digest>,
    /// Their salts.
    pub salts: Vec<Salt>,
    /// The tree over the salted leaves.
    pub tree: MerkleTree,
}

impl SealedBatch {
    /// The proof for leaf `leaf`, given the tick it landed in, its path there and the certificate.
    pub fn proof(
        &self,
        genesis_hash: Hash,
        leaf: u32,
        tick: Tick,
        tick_path: merkle::MerklePath,
        certificate: FinalityCertificate,
    ) -> Proof {
        Proof {
            version: PROOF_VERSION,
            genesis_hash,
            digest: self.digests[leaf as usize],
            salt: self.salts[leaf as usize],
            batch_path: self.tree.path(leaf).expect("leaf in range"),
            batch: self.batch.clone(),
            tick_path,
            tick,
            descendants: Vec::new(),
            certificate,
            anchors: Vec::new(),
        }
    }
}
