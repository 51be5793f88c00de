//! `TickOracle` on real anvil chains (31337 standing in for Ethereum, 137 for Polygon): what it
//! accepts, what it rejects, and that its EIP-712 digest is the sdk's byte for byte.
//!
//! Needs `scripts/install-npm` (anvil) and the committed artifact (`scripts/compile-contracts`).
//! A missing anvil fails these tests; it never skips them.

use alloy::primitives::{Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolStruct, eip712_domain};
use tickchain_anchor::anvil::{DEV_KEY_0, ETHEREUM_CHAIN_ID, POLYGON_CHAIN_ID};
use tickchain_anchor::bindings::TickOracle::TickOracleErrors;
use tickchain_anchor::{Anvil, AttestationKey, OracleClient, OracleError, connect};
use tickchain_sdk::anchor::{Anchor, EvmAddress, EvmSignature, Rotate, keccak256, pack_signatures};
use tickchain_sdk::{Hash, Height, Second};

/// An independent EIP-712 implementation (alloy's) of the same types, to cross-check the sdk.
mod independent {
    alloy::sol! {
        struct Anchor { uint64 fromHeight; uint64 toHeight; uint64 second; bytes32 root; }
        struct Rotate { uint64 newEpoch; address[] signers; uint8 threshold; }
    }
}

/// `n` attestation keys derived from `label`, sorted by address.
fn keys(label: &str, n: usize) -> Vec<AttestationKey> {
    let mut keys: Vec<AttestationKey> = (0..n)
        .map(|i| {
            AttestationKey::from_secret(&keccak256(format!("{label}/{i}").as_bytes())).unwrap()
        })
        .collect();
    keys.sort_by_key(AttestationKey::address);
    keys
}

fn addresses(keys: &[AttestationKey]) -> Vec<EvmAddress> {
    keys.iter().map(AttestationKey::address).collect()
}

/// A chain with a fresh `TickOracle` whose signers are `ring`.
struct Deployed {
    client: OracleClient,
    // Dropped last: kills anvil by pid.
    _anvil: Anvil,
}

async fn deploy(chain_id: u64, ring: &[AttestationKey], threshold: u8) -> Deployed {
    let anvil = Anvil::spawn(chain_id).unwrap_or_else(|e| panic!("{e}"));
    let provider = connect(
        &anvil.endpoint(),
        PrivateKeySigner::from_bytes(&B256::from(DEV_KEY_0)).unwrap(),
    )
    .unwrap();
    let (client, _) = OracleClient::deploy(provider, &addresses(ring), threshold)
        .await
        .unwrap();
    Deployed {
        client,
        _anvil: anvil,
    }
}

fn anchor(from: u64, to: u64, second: u64) -> Anchor {
    let hashes: Vec<Hash> = (from..=to)
        .map(|h| Hash(keccak256(&h.to_be_bytes())))
        .collect();
    Anchor::over_ticks(Height(from), Height(to), Second(second), &hashes).unwrap()
}

fn sign(signers: &[AttestationKey], digest: &tickchain_sdk::anchor::Eip712Hash) -> Vec<u8> {
    let signed: Vec<(EvmAddress, EvmSignature)> =
        signers.iter().map(|k| k.attest(digest)).collect();
    pack_signatures(&signed).unwrap()
}

fn rejection(result: Result<impl std::fmt::Debug, OracleError>) -> TickOracleErrors {
    match result {
        Err(OracleError::Rejected(e)) => e,
        other => panic!("expected a TickOracle custom error, found {other:?}"),
    }
}

const SECOND: u64 = 1_767_225_600;

#[tokio::test]
async fn three_of_four_anchors_on_both_chains_and_the_views_return_it() {
    let ring = keys("ring", 4);
    for chain_id in [ETHEREUM_CHAIN_ID, POLYGON_CHAIN_ID] {
        let chain = deploy(chain_id, &ring, 3).await;
        let a = anchor(1, 60, SECOND + 59);
        let digest = a.digest(&chain.client.domain());

        let sigs = sign(&ring[1..], &digest);
        let done = chain.client.anchor(&a, &sigs).await.unwrap();

        assert!(done.gas_used > 21_000, "gas {}", done.gas_used);
        assert_eq!(chain.client.latest_height().await.unwrap(), Height(60));
        assert_eq!(
            chain.client.latest_second().await.unwrap(),
            Second(SECOND + 59)
        );
        assert_eq!(
            chain.client.root_at(Height(60)).await.unwrap(),
            Some(a.root)
        );
        assert_eq!(chain.client.root_at(Height(59)).await.unwrap(), None);
    }
}

#[tokio::test]
async fn the_contract_and_an_independent_eip712_implementation_agree_with_the_sdk_digest() {
    let ring = keys("ring", 4);
    let chain = deploy(POLYGON_CHAIN_ID, &ring, 3).await;
    let domain = chain.client.domain();
    let a = anchor(7, 9, SECOND);
    let r = Rotate {
        new_epoch: 1,
        signers: addresses(&keys("next", 3)),
        threshold: 2,
    };
    let alloy_domain = eip712_domain! {
        name: "TickOracle",
        version: "1",
        chain_id: domain.chain_id,
        verifying_contract: Address::from(domain.contract.0),
    };

    let by_contract = chain.client.contract_anchor_digest(&a).await.unwrap();
    let by_alloy_anchor = independent::Anchor {
        fromHeight: 7,
        toHeight: 9,
        second: SECOND,
        root: B256::from(a.root.0),
    }
    .eip712_signing_hash(&alloy_domain);
    let by_alloy_rotate = independent::Rotate {
        newEpoch: 1,
        signers: r.signers.iter().map(|s| Address::from(s.0)).collect(),
        threshold: 2,
    }
    .eip712_signing_hash(&alloy_domain);

    assert_eq!(by_contract, a.digest(&domain));
    assert_eq!(by_alloy_anchor.0, a.digest(&domain).0);
    assert_eq!(by_alloy_rotate.0, r.digest(&domain).0);
    assert_eq!(alloy_domain.separator().0, domain.separator().0);
}

#[tokio::test]
async fn two_of_four_signatures_are_rejected() {
    let ring = keys("ring", 4);
    let chain = deploy(ETHEREUM_CHAIN_ID, &ring, 3).await;
    let a = anchor(1, 60, SECOND);

    let sigs = sign(&ring[..2], &a.digest(&chain.client.domain()));
    let err = rejection(chain.client.anchor(&a, &sigs).await);

    assert!(
        matches!(&err, TickOracleErrors::TooFewSignatures(e) if e.expected == U256::from(3) && e.found == U256::from(2)),
        "{err:?}"
    );
    assert_eq!(chain.client.latest_height().await.unwrap(), Height(0));
}

#[tokio::test]
async fn a_duplicate_signer_is_rejected() {
    let ring = keys("ring", 4);
    let chain = deploy(ETHEREUM_CHAIN_ID, &ring, 3).await;
    let a = anchor(1, 60, SECOND);
    let digest = a.digest(&chain.client.domain());

    // Three signatures, but only two signers: pack_signatures refuses this, so pack by hand.
    let mut sigs = Vec::new();
    for k in [&ring[0], &ring[0], &ring[1]] {
        sigs.extend_from_slice(&k.sign(&digest).0);
    }
    let err = rejection(chain.client.anchor(&a, &sigs).await);

    assert!(
        matches!(&err, TickOracleErrors::SignersNotAscending(e) if e.index == U256::from(1)),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_signature_for_polygon_is_rejected_on_ethereum() {
    let ring = keys("ring", 4);
    let ethereum = deploy(ETHEREUM_CHAIN_ID, &ring, 3).await;
    let polygon = deploy(POLYGON_CHAIN_ID, &ring, 3).await;
    // Same deployer and nonce: the same address on both chains, so only the chain id differs.
    assert_eq!(
        ethereum.client.domain().contract,
        polygon.client.domain().contract
    );
    let a = anchor(1, 10, SECOND);

    let for_polygon = sign(&ring[..3], &a.digest(&polygon.client.domain()));
    let err = rejection(ethereum.client.anchor(&a, &for_polygon).await);

    assert!(
        matches!(&err, TickOracleErrors::SignerNotRegistered(e) if e.index == U256::ZERO),
        "{err:?}"
    );
    polygon.client.anchor(&a, &for_polygon).await.unwrap();
}

#[tokio::test]
async fn heights_and_seconds_must_increase() {
    let ring = keys("ring", 4);
    let chain = deploy(ETHEREUM_CHAIN_ID, &ring, 3).await;
    let domain = chain.client.domain();
    let submit = |a: Anchor| {
        let sigs = sign(&ring[..3], &a.digest(&domain));
        let client = chain.client.clone();
        async move { client.anchor(&a, &sigs).await }
    };
    submit(anchor(1, 60, SECOND + 59)).await.unwrap();

    let overlap = rejection(submit(anchor(60, 120, SECOND + 119)).await);
    let replay = rejection(submit(anchor(1, 60, SECOND + 59)).await);
    let same_second = rejection(submit(anchor(61, 120, SECOND + 59)).await);
    let mut reversed = anchor(130, 130, SECOND + 200);
    reversed.from = Height(131);
    let reversed = rejection(submit(reversed).await);

    assert!(
        matches!(overlap, TickOracleErrors::HeightNotIncreasing(_)),
        "{overlap:?}"
    );
    assert!(
        matches!(replay, TickOracleErrors::HeightNotIncreasing(_)),
        "{replay:?}"
    );
    assert!(
        matches!(same_second, TickOracleErrors::SecondNotIncreasing(_)),
        "{same_second:?}"
    );
    assert!(
        matches!(reversed, TickOracleErrors::RangeInvalid(_)),
        "{reversed:?}"
    );
    submit(anchor(61, 120, SECOND + 119)).await.unwrap();
    assert_eq!(chain.client.latest_height().await.unwrap(), Height(120));
}

#[tokio::test]
async fn rotation_retires_the_old_set_and_admits_the_new_one() {
    let old = keys("ring", 4);
    let new = keys("next", 7);
    let chain = deploy(ETHEREUM_CHAIN_ID, &old, 3).await;
    let domain = chain.client.domain();
    let rotate = Rotate {
        new_epoch: 1,
        signers: addresses(&new),
        threshold: 5,
    };

    let too_few = rejection(
        chain
            .client
            .rotate(&rotate, &sign(&old[..2], &rotate.digest(&domain)))
            .await,
    );
    chain
        .client
        .rotate(&rotate, &sign(&old[1..], &rotate.digest(&domain)))
        .await
        .unwrap();
    let a = anchor(1, 60, SECOND);
    // Enough signatures for the new threshold, but four are from the retired set.
    let old_and_one_new: Vec<AttestationKey> = old.iter().chain(&new[..1]).cloned().collect();
    let by_old = rejection(
        chain
            .client
            .anchor(&a, &sign(&old_and_one_new, &a.digest(&domain)))
            .await,
    );
    let four_of_seven = rejection(
        chain
            .client
            .anchor(&a, &sign(&new[..4], &a.digest(&domain)))
            .await,
    );
    chain
        .client
        .anchor(&a, &sign(&new[2..], &a.digest(&domain)))
        .await
        .unwrap();

    assert!(
        matches!(too_few, TickOracleErrors::TooFewSignatures(_)),
        "{too_few:?}"
    );
    assert!(
        matches!(by_old, TickOracleErrors::SignerNotRegistered(_)),
        "{by_old:?}"
    );
    assert!(
        matches!(four_of_seven, TickOracleErrors::TooFewSignatures(_)),
        "{four_of_seven:?}"
    );
    assert_eq!(chain.client.epoch().await.unwrap(), 1);
    assert_eq!(chain.client.latest_height().await.unwrap(), Height(60));
}

#[tokio::test]
async fn a_high_s_signature_is_rejected_although_ecrecover_accepts_it() {
    let ring = keys("ring", 4);
    let chain = deploy(ETHEREUM_CHAIN_ID, &ring, 3).await;
    let a = anchor(1, 60, SECOND);
    let digest = a.digest(&chain.client.domain());
    let mut signed: Vec<(EvmAddress, EvmSignature)> =
        ring[..3].iter().map(|k| k.attest(&digest)).collect();
    let mut sigs = pack_signatures(&signed).unwrap();

    // (r, n - s, v ^ 1) recovers the same signer: the classic malleated twin.
    let n = U256::from_str_radix(
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
        16,
    )
    .unwrap();
    let low_s = U256::from_be_slice(&sigs[65 + 32..65 + 64]);
    sigs[65 + 32..65 + 64].copy_from_slice(&(n - low_s).to_be_bytes::<32>());
    sigs[65 + 64] ^= 27 ^ 28;
    let err = rejection(chain.client.anchor(&a, &sigs).await);

    assert!(
        matches!(&err, TickOracleErrors::SignatureMalleable(e) if e.index == U256::from(1)),
        "{err:?}"
    );
    signed.truncate(3);
    chain
        .client
        .anchor(&a, &pack_signatures(&signed).unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn deployment_rejects_address_zero_and_a_minority_threshold() {
    let anvil = Anvil::spawn(ETHEREUM_CHAIN_ID).unwrap_or_else(|e| panic!("{e}"));
    let provider = connect(
        &anvil.endpoint(),
        PrivateKeySigner::from_bytes(&B256::from(DEV_KEY_0)).unwrap(),
    )
    .unwrap();
    let mut with_zero = addresses(&keys("ring", 3));
    with_zero.push(EvmAddress([0; 20]));

    let zero = OracleClient::deploy(provider.clone(), &with_zero, 3).await;
    let minority = OracleClient::deploy(provider, &addresses(&keys("ring", 4)), 2).await;

    assert!(matches!(
        rejection(zero.map(|_| ())),
        TickOracleErrors::SignerSetInvalid(_)
    ));
    assert!(matches!(
        rejection(minority.map(|_| ())),
        TickOracleErrors::SignerSetInvalid(_)
    ));
}

#[tokio::test]
async fn the_committed_anvil_vector_is_accepted_by_the_deployed_contract() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../specs/vectors/anchor.json");
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let case = file["anchors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["domain"] == "anvil")
        .unwrap();
    let a: Anchor = serde_json::from_value(case["message"].clone()).unwrap();
    let signed: Vec<(EvmAddress, EvmSignature)> = case["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let signer = serde_json::from_value(s["signer"].clone()).unwrap();
            let bytes = alloy::hex::decode(s["signature"].as_str().unwrap()).unwrap();
            (signer, EvmSignature(bytes.try_into().unwrap()))
        })
        .collect();
    // The vector's signers form the set; the vector's contract address is anvil's first
    // deployment from dev account #0.
    let anvil = Anvil::spawn(ETHEREUM_CHAIN_ID).unwrap_or_else(|e| panic!("{e}"));
    let provider = connect(
        &anvil.endpoint(),
        PrivateKeySigner::from_bytes(&B256::from(DEV_KEY_0)).unwrap(),
    )
    .unwrap();
    let set: Vec<EvmAddress> = signed.iter().map(|(a, _)| *a).collect();
    let (client, _) = OracleClient::deploy(provider, &set, 2).await.unwrap();
    let vector_contract: EvmAddress = serde_json::from_value(
        file["domains"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == "anvil")
            .unwrap()["domain"]["contract"]
            .clone(),
    )
    .unwrap();

    let digest = client.contract_anchor_digest(&a).await.unwrap();
    client
        .anchor(&a, &pack_signatures(&signed).unwrap())
        .await
        .unwrap();

    assert_eq!(client.domain().contract, vector_contract);
    assert_eq!(digest.to_string(), case["digest"].as_str().unwrap());
    assert_eq!(client.root_at(a.to).await.unwrap(), Some(a.root));
}
