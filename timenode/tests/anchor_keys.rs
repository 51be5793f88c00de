//! Attestation keys as a local network gets them: `localnet::create` writes each node's
//! `attest.key` (mode 0600) and binds it to the node's identity in genesis, and a `TickOracle`
//! deployed for the genesis addresses accepts an anchor signed with the keys read from disk.
//!
//! Needs `scripts/install-npm` (anvil); a missing anvil fails the test, it never skips it.

use alloy::primitives::B256;
use alloy::signers::local::PrivateKeySigner;
use tickchain_anchor::anvil::{DEV_KEY_0, POLYGON_CHAIN_ID};
use tickchain_anchor::{Anvil, AttestationKey, OracleClient, connect};
use tickchain_sdk::anchor::{Anchor, pack_signatures};
use tickchain_sdk::attest::binding_message;
use tickchain_sdk::{Genesis, Hash, Height, Second};
use tickchain_timenode::localnet;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tc-anchor-keys-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[tokio::test]
async fn a_local_network_can_anchor_with_the_keys_it_wrote() {
    let dir = temp_dir("localnet");
    let addresses: Vec<String> = (0..4).map(|i| format!("127.0.0.1:{}", 7300 + i)).collect();
    let (genesis, _) =
        localnet::create(&dir, "anchor-keys", &addresses, |_| String::new()).unwrap();

    // The file on disk is a version 2 genesis whose bindings verify (from_json checks them).
    let text = std::fs::read_to_string(dir.join("genesis.json")).unwrap();
    let loaded = Genesis::from_json(&text).unwrap();
    assert_eq!(loaded, genesis);
    assert!(loaded.can_anchor());

    let mut keys = Vec::new();
    for (i, node) in loaded.nodes.iter().enumerate() {
        let path = localnet::node_dir(&dir, i).join("attest.key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", path.display());
        }
        let key = AttestationKey::read(&path).unwrap();
        let binding = node.attestation.as_ref().unwrap();
        assert_eq!(binding.address, key.address());
        assert_eq!(
            binding_message(&node.public_key, &binding.address).len(),
            1 + "tickchain/attest/v1".len() + 32 + 20
        );
        keys.push(key);
    }

    let anvil = Anvil::spawn(POLYGON_CHAIN_ID).unwrap_or_else(|e| panic!("{e}"));
    let provider = connect(
        &anvil.endpoint(),
        PrivateKeySigner::from_bytes(&B256::from(DEV_KEY_0)).unwrap(),
    )
    .unwrap();
    let (oracle, _) = OracleClient::deploy(
        provider,
        &loaded.attestation_addresses().unwrap(),
        loaded.quorum as u8,
    )
    .await
    .unwrap();
    let anchor = Anchor::over_ticks(Height(1), Height(2), Second(9), &[Hash([1; 32]); 2]).unwrap();
    let digest = anchor.digest(&oracle.domain());
    let signed: Vec<_> = keys[1..].iter().map(|k| k.attest(&digest)).collect();
    oracle
        .anchor(&anchor, &pack_signatures(&signed).unwrap())
        .await
        .unwrap();
    assert_eq!(oracle.root_at(Height(2)).await.unwrap(), Some(anchor.root));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn attestation_keys_on_disk_round_trip_and_refuse_to_be_overwritten() {
    let dir = temp_dir("file");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("attest.key");
    let key = AttestationKey::generate().unwrap();
    key.write(&path).unwrap();
    assert_eq!(
        AttestationKey::read(&path).unwrap().address(),
        key.address()
    );
    assert!(key.write(&path).is_err(), "never overwrites a key");
    // Debug output names the address, never the secret.
    let secret = std::fs::read_to_string(&path).unwrap();
    assert!(!format!("{key:?}").contains(secret.trim()));
    std::fs::remove_dir_all(&dir).unwrap();
}
