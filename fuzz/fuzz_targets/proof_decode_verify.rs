//! Fuzz target: proof decoding (both forms) and verification never panic, and whatever decodes
//! re-encodes to something that decodes to the same proof.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use tickchain_sdk::testkit::TestNetwork;
use tickchain_sdk::vectors::VECTOR_GENESIS_SECOND;
use tickchain_sdk::{Network, Proof};

static NET: LazyLock<Network> = LazyLock::new(|| {
    Network::new(TestNetwork::new("vectors-4", 4, 1, VECTOR_GENESIS_SECOND).genesis)
});

fuzz_target!(|data: &[u8]| {
    if let Ok(proof) = Proof::from_bytes(data) {
        let _ = NET.verify(&proof);
        if let Ok(compact) = proof.to_compact() {
            let again = Proof::from_compact(&compact).expect("own compact form decodes");
            assert_eq!(again.to_compact().unwrap(), compact);
        }
        let json = proof.to_json();
        assert_eq!(Proof::from_json(&json).expect("own JSON decodes"), proof);
    }
});
