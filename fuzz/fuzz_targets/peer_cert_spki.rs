//! Fuzz target: extracting the Ed25519 key from a peer's certificate DER never panics, and any
//! key it returns comes from a well-formed 44-byte Ed25519 SubjectPublicKeyInfo.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickchain_consensus::peer::spki;

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = spki::ed25519_key(data) {
        let mut spki_der = spki::ED25519_SPKI_PREFIX.to_vec();
        spki_der.extend_from_slice(&key);
        assert!(data.windows(44).any(|w| w == spki_der.as_slice()));
    }
});
