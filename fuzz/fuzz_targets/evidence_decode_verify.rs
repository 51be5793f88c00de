//! Fuzz target: evidence JSON decoding and verification never panic, and whatever decodes
//! re-encodes to JSON that decodes to the same evidence with the same verdict.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use tickchain_sdk::testkit::TestNetwork;
use tickchain_sdk::vectors::VECTOR_GENESIS_SECOND;
use tickchain_sdk::{Evidence, Genesis};

static GENESIS: LazyLock<Genesis> =
    LazyLock::new(|| TestNetwork::new("vectors-4", 4, 1, VECTOR_GENESIS_SECOND).genesis);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(evidence) = Evidence::from_json(text) {
        let verdict = evidence.verify(&GENESIS);
        let again = Evidence::from_json(&evidence.to_json()).expect("own JSON decodes");
        assert_eq!(again, evidence);
        assert_eq!(again.verify(&GENESIS), verdict);
    }
});
