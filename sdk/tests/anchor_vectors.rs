//! `specs/vectors/anchor.json` is exactly what the sdk computes (§6), and each of its signatures
//! recovers to its listed signer with an independent secp256k1 implementation (k256).
//!
//! After a deliberate change: `TICKCHAIN_WRITE_ANCHOR_VECTORS=1 cargo test -p tickchain-sdk
//! --test anchor_vectors`, then review and commit the file.

use k256::ecdsa::{RecoveryId, Signature, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use tickchain_sdk::anchor::{
    ANCHOR_TYPE, Anchor, AnchorDomain, DOMAIN_TYPE, Eip712Hash, EvmAddress, ROTATE_TYPE, Rotate,
    anchor_root, keccak256, type_hash,
};
use tickchain_sdk::{Hash, Height, Second};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct File {
    description: String,
    type_hashes: TypeHashes,
    domains: Vec<DomainCase>,
    roots: Vec<RootCase>,
    anchors: Vec<SignedCase<Anchor>>,
    rotations: Vec<SignedCase<Rotate>>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TypeHashes {
    #[serde(rename = "EIP712Domain")]
    domain: Eip712Hash,
    #[serde(rename = "Anchor")]
    anchor: Eip712Hash,
    #[serde(rename = "Rotate")]
    rotate: Eip712Hash,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct DomainCase {
    name: String,
    domain: AnchorDomain,
    separator: Eip712Hash,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RootCase {
    tick_hashes: Vec<Hash>,
    root: Hash,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SignedCase<T> {
    domain: String,
    message: T,
    struct_hash: Eip712Hash,
    digest: Eip712Hash,
    signatures: Vec<SignatureCase>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SignatureCase {
    /// The test key's secret scalar (never a real key).
    secret: String,
    signer: EvmAddress,
    /// `r || s || v`, v 27 or 28, RFC 6979 deterministic, low s.
    signature: String,
}

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../specs/vectors/anchor.json")
}

fn secret(i: u32) -> [u8; 32] {
    keccak256(format!("tickchain anchor vector key {i}").as_bytes())
}

fn signing_key(secret_hex: &str) -> SigningKey {
    let bytes = hex::decode(secret_hex.trim_start_matches("0x")).unwrap();
    SigningKey::from_slice(&bytes).unwrap()
}

fn address_of(key: &VerifyingKey) -> EvmAddress {
    let point = key.to_encoded_point(false);
    EvmAddress::from_public_key(point.as_bytes()[1..].try_into().unwrap())
}

fn sign(key: &SigningKey, digest: &Eip712Hash) -> String {
    let (sig, recid) = key.sign_prehash_recoverable(&digest.0).unwrap();
    format!(
        "0x{}{:02x}",
        hex::encode(sig.to_bytes()),
        27 + recid.to_byte()
    )
}

fn signature_case(i: u32, digest: &Eip712Hash) -> SignatureCase {
    let secret = secret(i);
    let key = SigningKey::from_slice(&secret).unwrap();
    SignatureCase {
        secret: format!("0x{}", hex::encode(secret)),
        signer: address_of(key.verifying_key()),
        signature: sign(&key, digest),
    }
}

/// The vector file as the sdk computes it from fixed inputs.
fn generate() -> File {
    let contract = EvmAddress::from_hex("0x5FbDB2315678afecb367f032d93F642f64180aa3").unwrap();
    let domains: Vec<DomainCase> = [("ethereum", 1), ("polygon", 137), ("anvil", 31337)]
        .into_iter()
        .map(|(name, chain_id)| {
            let domain = AnchorDomain { chain_id, contract };
            DomainCase {
                name: name.to_string(),
                domain,
                separator: domain.separator(),
            }
        })
        .collect();
    let tick_hash = |h: u64| Hash(*blake3::hash(&h.to_be_bytes()).as_bytes());
    let roots = [1u64, 2, 3, 5, 60]
        .into_iter()
        .map(|n| {
            let tick_hashes: Vec<Hash> = (1..=n).map(tick_hash).collect();
            RootCase {
                root: anchor_root(&tick_hashes),
                tick_hashes,
            }
        })
        .collect();
    let signed = |d: &DomainCase, struct_hash: Eip712Hash, keys: std::ops::Range<u32>| {
        let digest = d.domain.typed_digest(&struct_hash);
        (
            digest,
            keys.map(|i| signature_case(i, &digest)).collect::<Vec<_>>(),
        )
    };
    let mut anchors = Vec::new();
    for d in &domains {
        let hashes: Vec<Hash> = (1..=60).map(tick_hash).collect();
        let message =
            Anchor::over_ticks(Height(1), Height(60), Second(1_767_225_659), &hashes).unwrap();
        let (digest, signatures) = signed(d, message.struct_hash(), 0..3);
        anchors.push(SignedCase {
            domain: d.name.clone(),
            struct_hash: message.struct_hash(),
            digest,
            signatures,
            message,
        });
    }
    let new_set: Vec<EvmAddress> = {
        let mut s: Vec<EvmAddress> = (10..17)
            .map(|i| address_of(SigningKey::from_slice(&secret(i)).unwrap().verifying_key()))
            .collect();
        s.sort();
        s
    };
    let message = Rotate {
        new_epoch: 1,
        signers: new_set,
        threshold: 5,
    };
    let (digest, signatures) = signed(&domains[1], message.struct_hash(), 0..3);
    let rotations = vec![SignedCase {
        domain: domains[1].name.clone(),
        struct_hash: message.struct_hash(),
        digest,
        signatures,
        message,
    }];
    File {
        description: "EIP-712 anchors and rotations for TickOracle (specs/encoding.md §6). \
                      Signing keys are test keys derived as keccak256(\"tickchain anchor vector \
                      key N\"); never use them for anything else."
            .to_string(),
        type_hashes: TypeHashes {
            domain: type_hash(DOMAIN_TYPE),
            anchor: type_hash(ANCHOR_TYPE),
            rotate: type_hash(ROTATE_TYPE),
        },
        domains,
        roots,
        anchors,
        rotations,
    }
}

fn load() -> File {
    let text = std::fs::read_to_string(path()).unwrap_or_else(|e| {
        panic!("specs/vectors/anchor.json: {e}; run with TICKCHAIN_WRITE_ANCHOR_VECTORS=1")
    });
    serde_json::from_str(&text).unwrap()
}

#[test]
fn committed_anchor_vectors_match_the_sdk() {
    let generated = generate();
    if std::env::var_os("TICKCHAIN_WRITE_ANCHOR_VECTORS").is_some() {
        let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
        std::fs::write(path(), text).unwrap();
    }
    assert!(
        load() == generated,
        "specs/vectors/anchor.json differs from the sdk; if deliberate, regenerate with \
         TICKCHAIN_WRITE_ANCHOR_VECTORS=1 cargo test -p tickchain-sdk --test anchor_vectors"
    );
}

#[test]
fn every_vector_recomputes_from_its_own_inputs_and_every_signature_recovers_its_signer() {
    let file = load();
    assert_eq!(file.type_hashes.domain, type_hash(DOMAIN_TYPE));
    assert_eq!(file.type_hashes.anchor, type_hash(ANCHOR_TYPE));
    assert_eq!(file.type_hashes.rotate, type_hash(ROTATE_TYPE));
    for d in &file.domains {
        assert_eq!(d.domain.separator(), d.separator, "domain {}", d.name);
    }
    for r in &file.roots {
        assert_eq!(
            anchor_root(&r.tick_hashes),
            r.root,
            "{} ticks",
            r.tick_hashes.len()
        );
    }
    let domain = |name: &str| file.domains.iter().find(|d| d.name == name).unwrap().domain;
    let cases = file
        .anchors
        .iter()
        .map(|c| {
            (
                &c.domain,
                c.message.struct_hash(),
                c.message.digest(&domain(&c.domain)),
                c,
            )
        })
        .map(|(d, s, g, c)| (d, s, g, c.struct_hash, c.digest, &c.signatures))
        .chain(file.rotations.iter().map(|c| {
            let (s, g) = (
                c.message.struct_hash(),
                c.message.digest(&domain(&c.domain)),
            );
            (&c.domain, s, g, c.struct_hash, c.digest, &c.signatures)
        }));
    for (name, struct_hash, digest, want_struct, want_digest, signatures) in cases {
        assert_eq!(struct_hash, want_struct, "struct hash on {name}");
        assert_eq!(digest, want_digest, "digest on {name}");
        for s in signatures {
            let key = signing_key(&s.secret);
            assert_eq!(address_of(key.verifying_key()), s.signer);
            assert_eq!(
                sign(&key, &digest),
                s.signature,
                "RFC 6979 signature by {}",
                s.signer
            );
            let bytes = hex::decode(&s.signature[2..]).unwrap();
            let sig = Signature::from_slice(&bytes[..64]).unwrap();
            assert!(sig.normalize_s().is_none(), "low s");
            let recid = RecoveryId::from_byte(bytes[64] - 27).unwrap();
            let recovered = VerifyingKey::recover_from_prehash(&digest.0, &sig, recid).unwrap();
            assert_eq!(address_of(&recovered), s.signer);
        }
    }
}
