//! Fuzz target: the `POST /v1/timestamps` body decoder must never panic, must reject with a
//! client error (4xx) only, and must return 1 to `max_digests` digests when it accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickchain_api::decode_stamp_body;

const MAX_DIGESTS: usize = 64;

fuzz_target!(|data: &[u8]| {
    match decode_stamp_body(data, MAX_DIGESTS) {
        Ok(digests) => assert!(!digests.is_empty() && digests.len() <= MAX_DIGESTS),
        Err(e) => assert!(e.status().is_client_error(), "{e:?}"),
    }
});
