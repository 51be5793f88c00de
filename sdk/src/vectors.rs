//! The normative test vectors in `specs/vectors/`, generated deterministically from public seeds.
//!
//! Owns: the list of vector cases and their expected outcomes. Never: decides outcomes by
//! running the verifier — every expectation is written down here by hand, so a verifier change
//! that alters an outcome fails the tests instead of silently regenerating the vectors.

use crate::anchor::{Anchor, EvmAddress, keccak256};
use crate::anchor_proof::{AnchorProof, EvmTxHash};
use crate::attest;
use crate::evidence::{Evidence, Rule, Statement};
use crate::merkle::{self, MerkleTree};
use crate::testkit::{TestNetwork, seeded};
use crate::votes::{ClockReading, VoteKind, nullify_signing_bytes, vote_signing_bytes};
use crate::{Digest, Hash, Height, NodeId, Proof, Salt, Second, UtcNanos, View};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The genesis second used by every vector network.
pub const VECTOR_GENESIS_SECOND: Second = Second(1_764_000_000);

/// One labelled case in `specs/vectors/index.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Case name; the proof file is `proofs/<name>.tcproof`.
    pub name: String,
    /// What the case shows.
    pub description: String,
    /// Genesis file to verify against, relative to the vectors directory.
    pub genesis: String,
    /// Proof file, relative to the vectors directory.
    pub proof: String,
    /// `ok`, a `VerifyError` code, or `format_error` for input that must not parse.
    pub expect: String,
    /// For `format_error`: the field the error must name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What `tickchain verify` must report instead of `expect`, when its clock check
    /// (`specs/proof.md` §5) fails a proof the offline verifier accepts; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cli_expect: Option<String>,
}

/// Every vector file: path relative to `specs/vectors/` → contents.
pub fn files() -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let net4 = TestNetwork::new("vectors-4", 4, 1, VECTOR_GENESIS_SECOND);
    let net7 = TestNetwork::new("vectors-7", 7, 2, VECTOR_GENESIS_SECOND);
    let other = TestNetwork::new("vectors-other", 4, 1, VECTOR_GENESIS_SECOND);
    out.insert("genesis-4.json".into(), json_file(&net4.genesis.to_json()));
    out.insert("genesis-7.json".into(), json_file(&net7.genesis.to_json()));
    out.insert(
        "genesis-other.json".into(),
        json_file(&other.genesis.to_json()),
    );

    let mut cases = Vec::new();
    let mut add = |out: &mut BTreeMap<String, Vec<u8>>,
                   name: &str,
                   genesis: &str,
                   expect: &str,
                   description: &str,
                   proof_text: String| {
        let path = format!("proofs/{name}.tcproof");
        out.insert(path.clone(), json_file(&proof_text));
        cases.push(Case {
            name: name.into(),
            description: description.into(),
            genesis: genesis.into(),
            proof: path,
            expect: expect.into(),
            field: None,
            cli_expect: None,
        });
    };

    let base = net4.sample_proof(5, 3, 3, 3);
    let ok = |p: &Proof| p.to_json();
    add(
        &mut out,
        "valid-3of4",
        "genesis-4.json",
        "ok",
        "leaf 3 of a 5-digest batch, 3 batches in the tick, signed by nodes 0,1,2 of 4",
        ok(&base),
    );
    add(
        &mut out,
        "valid-4of4",
        "genesis-4.json",
        "ok",
        "the only digest of its batch, the only batch of its tick, all 4 signers",
        ok(&net4.sample_proof(1, 0, 1, 4)),
    );
    add(
        &mut out,
        "valid-odd-tree",
        "genesis-4.json",
        "ok",
        "last leaf of a 7-digest batch (promoted node on the path)",
        ok(&net4.sample_proof(7, 6, 5, 3)),
    );
    add(
        &mut out,
        "valid-5of7",
        "genesis-7.json",
        "ok",
        "a 7-node ring (f = 2) with the minimum quorum of 5",
        ok(&net7.sample_proof(9, 4, 2, 5)),
    );

    let mut p = base.clone();
    p.salt.0[0] ^= 1;
    add(
        &mut out,
        "wrong-salt",
        "genesis-4.json",
        "batch_inclusion",
        "one bit of the salt flipped",
        ok(&p),
    );
    let mut p = base.clone();
    p.digest.0[31] ^= 0x80;
    add(
        &mut out,
        "wrong-digest",
        "genesis-4.json",
        "batch_inclusion",
        "one bit of the digest flipped",
        ok(&p),
    );
    let mut p = base.clone();
    p.batch_path.siblings[1].0[7] ^= 4;
    add(
        &mut out,
        "tampered-path",
        "genesis-4.json",
        "batch_inclusion",
        "one bit of a batch path sibling flipped",
        ok(&p),
    );
    let mut p = base.clone();
    p.batch_path.siblings.pop();
    add(
        &mut out,
        "truncated-path",
        "genesis-4.json",
        "malformed_path",
        "batch path missing its last sibling",
        ok(&p),
    );
    let mut p = base.clone();
    p.batch_path.index = 5;
    add(
        &mut out,
        "index-out-of-range",
        "genesis-4.json",
        "malformed_path",
        "batch path index equal to the tree size",
        ok(&p),
    );
    let mut p = base.clone();
    p.batch.signature.0[10] ^= 1;
    add(
        &mut out,
        "bad-batch-signature",
        "genesis-4.json",
        "bad_batch_signature",
        "one bit of the node's batch signature flipped",
        ok(&p),
    );
    let mut p = base.clone();
    p.tick_path.siblings[0].0[0] ^= 1;
    add(
        &mut out,
        "batch-not-in-tick",
        "genesis-4.json",
        "tick_inclusion",
        "one bit of a tick path sibling flipped",
        ok(&p),
    );
    let mut p = base.clone();
    p.certificate.tick_hash.0[5] ^= 1;
    add(
        &mut out,
        "wrong-tick-hash",
        "genesis-4.json",
        "wrong_tick_hash",
        "certificate names a different tick hash",
        ok(&p),
    );
    let mut p = base.clone();
    p.tick.second.0 += 1;
    add(
        &mut out,
        "tampered-tick-second",
        "genesis-4.json",
        "wrong_tick_hash",
        "tick second moved by one after signing",
        ok(&p),
    );
    let mut p = base.clone();
    p.certificate.votes.truncate(2);
    add(
        &mut out,
        "too-few-signatures",
        "genesis-4.json",
        "too_few_signatures",
        "only 2 of the 3 required votes",
        ok(&p),
    );
    let mut p = base.clone();
    p.certificate.votes[2].signer = NodeId(9);
    add(
        &mut out,
        "unknown-signer",
        "genesis-4.json",
        "unknown_signer",
        "a vote from signer 9 in a 4-node ring",
        ok(&p),
    );
    let mut p = base.clone();
    p.certificate.votes[2] = p.certificate.votes[1].clone();
    add(
        &mut out,
        "duplicate-signer",
        "genesis-4.json",
        "duplicate_signer",
        "signer 1 counted twice to reach the quorum",
        ok(&p),
    );
    let mut p = base.clone();
    p.certificate.votes[1].signature.0[40] ^= 1;
    add(
        &mut out,
        "bad-signature",
        "genesis-4.json",
        "bad_signature",
        "one bit of signer 1's signature flipped",
        ok(&p),
    );
    let mut p = base.clone();
    p.certificate.votes[0].reading.latest.0 += 1_000_000;
    add(
        &mut out,
        "forged-reading",
        "genesis-4.json",
        "bad_signature",
        "signer 0's clock reading changed after signing",
        ok(&p),
    );
    add(
        &mut out,
        "wrong-genesis",
        "genesis-other.json",
        "wrong_genesis",
        "a valid proof checked against another network's genesis",
        ok(&base),
    );
    let mut p = base.clone();
    p.version = 2;
    add(
        &mut out,
        "unsupported-version",
        "genesis-4.json",
        "unsupported_version",
        "proof version 2",
        ok(&p),
    );
    {
        // A certificate honestly signed, but with every clock 3 s after the tick's second.
        let mut p = base.clone();
        let late: Vec<(NodeId, ClockReading)> = (0..3)
            .map(|i| (NodeId(i), TestNetwork::reading(p.tick.second, 3_000, 2)))
            .collect();
        p.certificate = net4.certify(&p.tick, &late);
        add(
            &mut out,
            "late-certificate",
            "genesis-4.json",
            "tick_outside_window",
            "all signers saw the proposal 3 s after its second",
            ok(&p),
        );
    }

    {
        // The tick got no certificate of its own; two descendants later one did.
        let mut p = base.clone();
        let d1 = net4.child(&p.tick, View(13), Second(p.tick.second.0 + 1));
        let d2 = net4.child(&d1, View(14), Second(p.tick.second.0 + 2));
        let readings: Vec<(NodeId, ClockReading)> = (0..3)
            .map(|i| (NodeId(i), TestNetwork::reading(d2.second, 6, 2)))
            .collect();
        p.certificate = net4.certify(&d2, &readings);
        p.descendants = vec![d1, d2];
        add(
            &mut out,
            "valid-via-descendant",
            "genesis-4.json",
            "ok",
            "the tick is final through a certified descendant two heights up",
            ok(&p),
        );
        let mut bad = p.clone();
        bad.descendants[0].prev_hash.0[0] ^= 1;
        bad.descendants[1].prev_hash = bad.descendants[0].hash(&net4.hash());
        bad.certificate = net4.certify(&bad.descendants[1], &readings);
        add(
            &mut out,
            "broken-chain",
            "genesis-4.json",
            "broken_chain",
            "the first descendant does not link to the tick (its certificate is genuine)",
            ok(&bad),
        );
    }

    // Inputs that must not parse; the error must name the field.
    let base_json = base.to_json();
    let mut format_case = |out: &mut BTreeMap<String, Vec<u8>>,
                           name: &str,
                           field: &str,
                           description: &str,
                           text: String| {
        let path = format!("proofs/{name}.tcproof");
        out.insert(path.clone(), text.into_bytes());
        cases.push(Case {
            name: name.into(),
            description: description.into(),
            genesis: "genesis-4.json".into(),
            proof: path,
            expect: "format_error".into(),
            field: Some(field.into()),
            cli_expect: None,
        });
    };
    format_case(
        &mut out,
        "malformed-non-hex-digest",
        "digest",
        "digest with a non-hex character",
        base_json.replacen(
            &format!("\"{}\"", base.digest),
            &format!("\"{}g\"", &base.digest.to_hex()[1..]),
            1,
        ),
    );
    format_case(
        &mut out,
        "malformed-short-salt",
        "salt",
        "salt of 15 bytes",
        base_json.replacen(
            &format!("\"{}\"", base.salt),
            &format!("\"{}\"", &base.salt.to_hex()[2..]),
            1,
        ),
    );
    format_case(
        &mut out,
        "malformed-truncated-json",
        "tick.prev_hash",
        "the JSON cut in half",
        base_json[..base_json.len() / 2].to_string(),
    );
    format_case(
        &mut out,
        "malformed-unknown-field",
        "extra",
        "an unknown top-level field",
        base_json.replacen('{', "{\n  \"extra\": 1,", 1),
    );

    let compact = base.to_compact().expect("valid proofs are compactable");
    out.insert("proofs/valid-3of4.tcproof.bin".into(), compact);
    cases.push(Case {
        name: "valid-3of4-compact".into(),
        description: "valid-3of4 in the compact binary form".into(),
        genesis: "genesis-4.json".into(),
        proof: "proofs/valid-3of4.tcproof.bin".into(),
        expect: "ok".into(),
        field: None,
        cli_expect: None,
    });

    // Anchored proofs (`specs/proof.md` §4.14): cases added after the original set, so the
    // earlier files and index entries stay as they were.
    let anchored = anchored_proof(&net4, &base);
    let mut tampered = anchored.clone();
    tampered.anchors[1].path.siblings[0].0[3] ^= 0x10;
    for (name, expect, description, proof) in [
        (
            "valid-anchored",
            "ok",
            "valid-3of4 anchored on chain 31337 (ticks 1..=16) and chain 137 (ticks 9..=12)",
            &anchored,
        ),
        (
            "tampered-anchor-path",
            "anchor_path",
            "valid-anchored with one bit of the chain 137 anchor path's first sibling flipped",
            &tampered,
        ),
    ] {
        let path = format!("proofs/{name}.tcproof");
        out.insert(path.clone(), json_file(&proof.to_json()));
        cases.push(Case {
            name: name.into(),
            description: description.into(),
            genesis: "genesis-4.json".into(),
            proof: path,
            expect: expect.into(),
            field: None,
            cli_expect: None,
        });
    }
    let compact = anchored
        .to_compact()
        .expect("anchored proofs are compactable");
    out.insert("proofs/valid-anchored.tcproof.bin".into(), compact);
    cases.push(Case {
        name: "valid-anchored-compact".into(),
        description: "valid-anchored in the compact binary form (trailing anchors section)".into(),
        genesis: "genesis-4.json".into(),
        proof: "proofs/valid-anchored.tcproof.bin".into(),
        expect: "ok".into(),
        field: None,
        cli_expect: None,
    });

    // Issue 13 and the codes no vector showed yet: cases added after the anchored ones, so the
    // earlier files and index entries stay as they were.
    for (name, expect, cli_expect, description, proof) in issue_13_cases(&net4, &base) {
        let path = format!("proofs/{name}.tcproof");
        out.insert(path.clone(), json_file(&proof.to_json()));
        cases.push(Case {
            name: name.into(),
            description: description.into(),
            genesis: "genesis-4.json".into(),
            proof: path,
            expect: expect.into(),
            field: None,
            cli_expect: cli_expect.map(Into::into),
        });
    }

    // Gateways (genesis version 3): cases added after issue 13's, so the earlier files and
    // index entries, all under version 2 genesis files, stay as they were.
    let gw = TestNetwork::new("vectors-4", 4, 1, VECTOR_GENESIS_SECOND).with_gateways(
        "vectors-4",
        2,
        None,
    );
    out.insert(
        "genesis-gateways.json".into(),
        json_file(&gw.genesis.to_json()),
    );
    let compact_gw;
    {
        let cases_gw = gateway_cases(&gw);
        compact_gw = cases_gw[0]
            .4
            .to_compact()
            .expect("gateway proofs are compactable");
        for (name, expect, _, description, proof) in cases_gw {
            let path = format!("proofs/{name}.tcproof");
            out.insert(path.clone(), json_file(&proof.to_json()));
            cases.push(Case {
                name: name.into(),
                description: description.into(),
                genesis: "genesis-gateways.json".into(),
                proof: path,
                expect: expect.into(),
                field: None,
                cli_expect: None,
            });
        }
    }
    out.insert("proofs/valid-gateway.tcproof.bin".into(), compact_gw);
    cases.push(Case {
        name: "valid-gateway-compact".into(),
        description: "valid-gateway in the compact binary form (unchanged layout)".into(),
        genesis: "genesis-gateways.json".into(),
        proof: "proofs/valid-gateway.tcproof.bin".into(),
        expect: "ok".into(),
        field: None,
        cli_expect: None,
    });
    cases.push(Case {
        name: "valid-3of4-under-gateway-genesis".into(),
        description: "valid-3of4 (made under genesis-4.json, version 2) against the version 3 \
                      genesis of the same ring: another network"
            .into(),
        genesis: "genesis-gateways.json".into(),
        proof: "proofs/valid-3of4.tcproof".into(),
        expect: "wrong_genesis".into(),
        field: None,
        cli_expect: None,
    });

    out.insert(
        "index.json".into(),
        json_file(&serde_json::to_string_pretty(&cases).expect("cases serialize")),
    );
    out.insert("encoding.json".into(), json_file(&encoding_vectors()));
    out.insert("evidence.json".into(), json_file(&evidence_vectors()));
    out.extend(crate::devicelog::vectors::files(&net4, &other));
    out
}

/// One new vector: name, library outcome, CLI outcome when it differs, description, proof.
type NewCase = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    Proof,
);

/// The cases of issue 13 (seconds that wrap, precede genesis or lie far ahead) and the codes no
/// vector had shown: `view_mismatch`, `batch_after_tick`, `unknown_batch_node`, and a notarize
/// vote in a certificate (`bad_signature`). Each certificate is signed by the genesis keys, as a
/// quorum of colluding or fooled nodes would sign it.
fn issue_13_cases(net: &TestNetwork, base: &Proof) -> Vec<NewCase> {
    let g = net.hash();
    let readings = |second: Second| -> Vec<(NodeId, ClockReading)> {
        (0..3u16)
            .map(|i| (NodeId(i), TestNetwork::reading(second, 5 + i64::from(i), 2)))
            .collect()
    };
    // The tick relabelled with `second`, certified by readings taken in `clock_second`.
    let relabelled = |second: Second, clock_second: Second| {
        let mut p = base.clone();
        p.tick.second = second;
        p.certificate = net.certify(&p.tick, &readings(clock_second));
        p
    };
    let real = base.tick.second;
    let mut out: Vec<NewCase> = vec![
        (
            "wrapped-second",
            "invalid_second",
            None,
            "tick second 2^55 after the real one, certified by readings in the real second: a \
             wrapping start() puts it exactly there",
            relabelled(Second(real.0 + (1 << 55)), real),
        ),
        (
            "second-at-genesis",
            "invalid_second",
            None,
            "tick labelled with the genesis second itself, certified by readings in that second",
            relabelled(VECTOR_GENESIS_SECOND, VECTOR_GENESIS_SECOND),
        ),
        (
            "far-future-second",
            "ok",
            Some("future_second"),
            "tick labelled with the last valid second (2262-04-11T23:47:16Z), certified by \
             readings in it: valid offline, refused by the CLI's clock check",
            relabelled(Second::MAX, Second::MAX),
        ),
        (
            "batch-after-tick",
            "batch_after_tick",
            None,
            "tick labelled one second before its batch was sealed, certified in that second",
            relabelled(
                Second(base.batch.second.0 - 1),
                Second(base.batch.second.0 - 1),
            ),
        ),
    ];

    // A certificate genuinely signed for view 13 over the hash of the view-12 tick.
    let mut p = base.clone();
    p.certificate.view = View(13);
    for vote in &mut p.certificate.votes {
        let msg = vote_signing_bytes(
            VoteKind::Finalize,
            &g,
            View(13),
            &p.certificate.tick_hash,
            &vote.reading,
        );
        vote.signature = crate::signing::sign(&net.keys[vote.signer.index()], &msg);
    }
    out.push((
        "view-mismatch",
        "view_mismatch",
        None,
        "certificate signed for view 13 over the hash of a view-12 tick",
        p,
    ));

    let mut p = base.clone();
    p.batch.node = NodeId(9);
    out.push((
        "unknown-batch-node",
        "unknown_batch_node",
        None,
        "batch attributed to node 9 in a 4-node ring",
        p,
    ));

    let mut p = base.clone();
    let vote = &mut p.certificate.votes[1];
    let msg = vote_signing_bytes(
        VoteKind::Notarize,
        &g,
        p.certificate.view,
        &p.certificate.tick_hash,
        &vote.reading,
    );
    vote.signature = crate::signing::sign(&net.keys[vote.signer.index()], &msg);
    out.push((
        "notarize-vote-in-certificate",
        "bad_signature",
        None,
        "signer 1's vote is its genuine notarize vote, not a finalize vote",
        p,
    ));
    out
}

/// Proofs under a genesis with gateways (`specs/proof.md` §4.5, genesis version 3): a batch a
/// gateway signed, the same batch naming a signer that does not exist, one naming the other
/// gateway, and a certificate vote signed by a gateway key (gateways never vote).
fn gateway_cases(net: &TestNetwork) -> Vec<NewCase> {
    let n = net.genesis.n() as u16;
    let g = net.hash();
    let base = net.sample_proof_from(NodeId(n + 1), 4, 2, 3, 3);
    let mut out = vec![(
        "valid-gateway",
        "ok",
        None,
        "leaf 2 of a 4-digest batch signed by gateway-1 (batch signer 5 = n + 1), 3 batches in \
         the tick, signed by nodes 0,1,2 of 4",
        base.clone(),
    )];
    let mut p = base.clone();
    p.batch.node = NodeId(n + 2);
    out.push((
        "gateway-beyond-genesis",
        "unknown_batch_node",
        None,
        "valid-gateway attributed to signer 6: past the 4 nodes and 2 gateways",
        p,
    ));
    let mut p = base.clone();
    p.batch.node = NodeId(n);
    out.push((
        "gateway-other-key",
        "bad_batch_signature",
        None,
        "valid-gateway attributed to gateway-0 (signer 4): gateway-1 signed it",
        p,
    ));
    let mut p = base.clone();
    let vote = &mut p.certificate.votes[2];
    vote.signer = NodeId(n);
    let msg = vote_signing_bytes(
        VoteKind::Finalize,
        &g,
        p.certificate.view,
        &p.certificate.tick_hash,
        &vote.reading,
    );
    vote.signature = crate::signing::sign(&net.gateway_keys[0], &msg);
    p.certificate.votes.sort_by_key(|v| v.signer);
    out.push((
        "gateway-signed-vote",
        "unknown_signer",
        None,
        "a finalize vote signed by gateway-0's key as signer 4: gateways sign batches, never votes",
        p,
    ));
    out
}

/// `proof` with two anchors of its tick: chain 31337 over heights 1..=16 and chain 137 over
/// 9..=12. The other heights' tick hashes are seeded stand-ins (the vector checks paths, not a
/// chain of ticks); contract, transaction and block are seeded too.
fn anchored_proof(net: &TestNetwork, proof: &Proof) -> Proof {
    let mut p = proof.clone();
    let own = p.tick.hash(&net.hash());
    let hash_at = |h: u64| {
        if h == p.tick.height.0 {
            own
        } else {
            Hash(seeded(&format!("anchor-tick/{h}")))
        }
    };
    let second_at = |h: u64| Second(p.tick.second.0 + h - p.tick.height.0);
    for (chain_id, from, to, block_number) in
        [(31337u64, 1u64, 16u64, 12u64), (137, 9, 12, 4_000_321)]
    {
        let hashes: Vec<Hash> = (from..=to).map(hash_at).collect();
        let anchor = Anchor::over_ticks(Height(from), Height(to), second_at(to), &hashes)
            .expect("one hash per height");
        let contract: [u8; 20] = seeded(&format!("anchor-contract/{chain_id}"))[..20]
            .try_into()
            .expect("20 bytes");
        p.anchors.push(
            AnchorProof::for_tick(
                chain_id,
                EvmAddress(contract),
                anchor,
                EvmTxHash(seeded(&format!("anchor-tx/{chain_id}"))),
                block_number,
                &hashes,
                p.tick.height,
            )
            .expect("the tick is in the range"),
        );
    }
    p
}

fn json_file(text: &str) -> Vec<u8> {
    let mut v = text.as_bytes().to_vec();
    v.push(b'\n');
    v
}

/// Byte-exact vectors for every canonical encoding (`specs/encoding.md`).
fn encoding_vectors() -> String {
    let net = TestNetwork::new("vectors-4", 4, 1, VECTOR_GENESIS_SECOND);
    let g = net.hash();
    let reading = ClockReading {
        earliest: UtcNanos(1_764_000_010_003_000_000),
        latest: UtcNanos(1_764_000_010_007_000_000),
    };
    let sealed = net.batch(
        NodeId(1),
        Second(1_764_000_009),
        &[Digest(seeded("d0")), Digest(seeded("d1"))],
    );
    let (tick, _) = net.tick(
        Height(10),
        View(12),
        Second(1_764_000_010),
        Hash(seeded("prev")),
        &[&sealed.batch],
    );
    let tick_hash = tick.hash(&g);
    let roots: Vec<serde_json::Value> = (0u32..=8)
        .map(|n| {
            let leaves: Vec<Hash> = (0..n)
                .map(|i| merkle::leaf_hash(&i.to_be_bytes()))
                .collect();
            serde_json::json!({
                "leaves": n,
                "leaf_content": "u32 big-endian 0..leaves",
                "root": MerkleTree::from_leaf_hashes(leaves).root(),
            })
        })
        .collect();
    let salt = Salt([7; 16]);
    let digest = Digest([9; 32]);
    let node0 = &net.genesis.nodes[0];
    let binding = node0
        .attestation
        .as_ref()
        .expect("vector networks bind attestation keys");
    let binding_message = attest::binding_message(&node0.public_key, &binding.address);
    let v3 = TestNetwork::new("vectors-4", 4, 1, VECTOR_GENESIS_SECOND)
        .with_gateways("vectors-4", 2, Some(&[0x30, 0x03, 0x02, 0x01, 0x01]))
        .genesis;
    let v = serde_json::json!({
        "genesis": {
            "file": "genesis-4.json",
            "canonical_bytes": hex::encode(net.genesis.canonical_bytes()),
            "hash": g,
        },
        "genesis_v3": {
            "description": "genesis version 3 (specs/encoding.md §3.1): the ring of \
                            genesis-4.json with 2 gateways and a TSA root; the root here is a \
                            5-byte DER SEQUENCE standing in for a certificate, to show the layout",
            "json": serde_json::from_str::<serde_json::Value>(&v3.to_json()).expect("json"),
            "canonical_bytes": hex::encode(v3.canonical_bytes()),
            "hash": v3.hash,
        },
        "attestation_binding": {
            "node": 0,
            "public_key": node0.public_key,
            "address": binding.address,
            "message": hex::encode(&binding_message),
            "message_keccak256": hex::encode(keccak256(&binding_message)),
            "ed25519_signature": binding.ed25519_signature,
            "evm_signature": binding.evm_signature,
            "canonical_bytes": hex::encode(binding.canonical_bytes()),
        },
        "digest_leaf": {
            "salt": salt,
            "digest": digest,
            "leaf_hash": merkle::digest_leaf(&salt, &digest),
        },
        "merkle_roots": roots,
        "batch": {
            "value": sealed.batch,
            "signing_bytes": hex::encode(sealed.batch.signing_bytes(&g)),
            "leaf_hash": sealed.batch.leaf_hash(&g),
        },
        "tick": {
            "value": tick,
            "canonical_bytes": hex::encode(tick.canonical_bytes(&g)),
            "hash": tick_hash,
        },
        "finalize_vote": {
            "view": 12,
            "tick_hash": tick_hash,
            "reading": reading,
            "signing_bytes": hex::encode(vote_signing_bytes(VoteKind::Finalize, &g, View(12), &tick_hash, &reading)),
        },
        "notarize_vote": {
            "signing_bytes": hex::encode(vote_signing_bytes(VoteKind::Notarize, &g, View(12), &tick_hash, &reading)),
        },
        "nullify_vote": {
            "view": 12,
            "signing_bytes": hex::encode(nullify_signing_bytes(&g, View(12))),
        },
    });
    serde_json::to_string_pretty(&v).expect("json")
}

/// One labelled case in `specs/vectors/evidence.json` (`specs/evidence.md` §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceCase {
    /// Case name.
    pub name: String,
    /// What the case shows.
    pub description: String,
    /// Genesis file to verify against, relative to the vectors directory.
    pub genesis: String,
    /// `ok`, or an `EvidenceError` code.
    pub expect: String,
    /// The evidence, in its JSON form.
    pub evidence: Evidence,
}

/// Evidence cases: every rule once, and one case per way evidence can fail, all on the
/// 4-node vector network (view 5 is led by node 1).
fn evidence_vectors() -> String {
    let net = TestNetwork::new("vectors-4", 4, 1, VECTOR_GENESIS_SECOND);
    let g = net.hash();
    let reading = |ms: i64| ClockReading {
        earliest: UtcNanos(1_764_000_010_000_000_000 + ms * 1_000_000),
        latest: UtcNanos(1_764_000_010_040_000_000 + ms * 1_000_000),
    };
    let tick = |label: &str| Hash(seeded(&format!("evidence-tick/{label}")));
    let tick_vote = |kind: VoteKind, key: usize, view: u64, t: Hash, r: ClockReading| {
        let signature = crate::signing::sign(
            &net.keys[key],
            &vote_signing_bytes(kind, &g, View(view), &t, &r),
        );
        match kind {
            VoteKind::Notarize => Statement::Notarize {
                view: View(view),
                tick_hash: t,
                reading: r,
                signature,
            },
            VoteKind::Finalize => Statement::Finalize {
                view: View(view),
                tick_hash: t,
                reading: r,
                signature,
            },
        }
    };
    let nullify = |key: usize, view: u64| Statement::Nullify {
        view: View(view),
        signature: crate::signing::sign(&net.keys[key], &nullify_signing_bytes(&g, View(view))),
    };
    let (n, f) = (VoteKind::Notarize, VoteKind::Finalize);
    let evidence = |member: u16, rule: Rule, first: Statement, second: Statement| Evidence {
        genesis: g,
        member: NodeId(member),
        rule,
        first,
        second,
    };
    let proposals = evidence(
        1,
        Rule::ConflictingProposals,
        tick_vote(n, 1, 5, tick("a"), reading(0)),
        tick_vote(n, 1, 5, tick("b"), reading(0)),
    );
    let mut cases: Vec<(&str, &str, &str, &str, Evidence)> = vec![
        (
            "valid-conflicting-proposals",
            "genesis-4.json",
            "ok",
            "node 1 leads view 5 and signed proposals of two different ticks",
            proposals.clone(),
        ),
        (
            "valid-conflicting-notarize",
            "genesis-4.json",
            "ok",
            "node 2 notarized two different ticks in view 5",
            evidence(
                2,
                Rule::ConflictingNotarize,
                tick_vote(n, 2, 5, tick("a"), reading(3)),
                tick_vote(n, 2, 5, tick("b"), reading(9)),
            ),
        ),
        (
            "valid-conflicting-finalize",
            "genesis-4.json",
            "ok",
            "node 3 finalized two different ticks in view 5",
            evidence(
                3,
                Rule::ConflictingFinalize,
                tick_vote(f, 3, 5, tick("a"), reading(4)),
                tick_vote(f, 3, 5, tick("b"), reading(4)),
            ),
        ),
        (
            "valid-finalize-and-nullify",
            "genesis-4.json",
            "ok",
            "node 0 finalized a tick in view 5 and nullified view 5",
            evidence(
                0,
                Rule::FinalizeAndNullify,
                tick_vote(f, 0, 5, tick("a"), reading(2)),
                nullify(0, 5),
            ),
        ),
        (
            "valid-finalize-contradicts-notarize",
            "genesis-4.json",
            "ok",
            "node 2's finalize vote in view 5 carries a reading 900 ms later than its notarize vote \
             on the same tick",
            evidence(
                2,
                Rule::FinalizeContradictsNotarize,
                tick_vote(n, 2, 5, tick("a"), reading(3)),
                tick_vote(f, 2, 5, tick("a"), reading(903)),
            ),
        ),
        (
            "same-statement-twice",
            "genesis-4.json",
            "same_statement",
            "node 1's one proposal signature, given as both statements",
            evidence(
                1,
                Rule::ConflictingProposals,
                proposals.first.clone(),
                proposals.first.clone(),
            ),
        ),
        (
            "different-views",
            "genesis-4.json",
            "different_views",
            "node 2 notarized one tick in view 5 and another in view 9: no rule relates them",
            evidence(
                2,
                Rule::ConflictingNotarize,
                tick_vote(n, 2, 5, tick("a"), reading(3)),
                tick_vote(n, 2, 9, tick("b"), reading(3)),
            ),
        ),
        (
            "wrong-signer",
            "genesis-4.json",
            "bad_signature",
            "node 3's two conflicting notarize votes in view 5, attributed to node 2",
            evidence(
                2,
                Rule::ConflictingNotarize,
                tick_vote(n, 3, 5, tick("a"), reading(3)),
                tick_vote(n, 3, 5, tick("b"), reading(3)),
            ),
        ),
        (
            "not-the-leader",
            "genesis-4.json",
            "not_leader",
            "node 2's two notarize votes in view 5 named as proposals, but node 1 leads view 5",
            evidence(
                2,
                Rule::ConflictingProposals,
                tick_vote(n, 2, 5, tick("a"), reading(3)),
                tick_vote(n, 2, 5, tick("b"), reading(3)),
            ),
        ),
        (
            "finalize-repeats-notarize",
            "genesis-4.json",
            "no_conflict",
            "node 2's notarize and finalize in view 5 on one tick with one reading: what an \
             honest node signs",
            evidence(
                2,
                Rule::FinalizeContradictsNotarize,
                tick_vote(n, 2, 5, tick("a"), reading(3)),
                tick_vote(f, 2, 5, tick("a"), reading(3)),
            ),
        ),
        (
            "notarize-and-nullify",
            "genesis-4.json",
            "wrong_kinds",
            "node 2 notarized in view 5 and nullified it (allowed: a timeout after a notarize)",
            evidence(
                2,
                Rule::FinalizeAndNullify,
                tick_vote(n, 2, 5, tick("a"), reading(3)),
                nullify(2, 5),
            ),
        ),
        (
            "unknown-member",
            "genesis-4.json",
            "unknown_member",
            "member 4 in a 4-node ring",
            Evidence {
                member: NodeId(4),
                ..proposals.clone()
            },
        ),
        (
            "other-network",
            "genesis-other.json",
            "wrong_genesis",
            "valid evidence from the 4-node vector network, checked against another genesis",
            proposals.clone(),
        ),
    ];
    let mut flipped = proposals.clone();
    if let Statement::Notarize { signature, .. } = &mut flipped.second {
        signature.0[7] ^= 1;
    }
    cases.push((
        "bad-signature",
        "genesis-4.json",
        "bad_signature",
        "node 1's conflicting proposals with one bit of the second signature flipped",
        flipped,
    ));
    let cases: Vec<EvidenceCase> = cases
        .into_iter()
        .map(
            |(name, genesis, expect, description, evidence)| EvidenceCase {
                name: name.into(),
                description: description.into(),
                genesis: genesis.into(),
                expect: expect.into(),
                evidence,
            },
        )
        .collect();
    serde_json::to_string_pretty(&cases).expect("vectors serialize")
}
