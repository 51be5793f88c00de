//! Fuzz target: the `POST /v1/timestamps` body decoders (JSON and binary, chosen by the first
//! byte) must never panic, must reject with a client error (4xx) only, and must return 1 to
//! `max_digests` digests when they accept.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickchain_api::StampBody;

const MAX_DIGESTS: usize = 64;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let kind = if selector & 1 == 0 {
        StampBody::Json
    } else {
        StampBody::Binary
    };
    match kind.decode(body, MAX_DIGESTS) {
        Ok(digests) => {
            assert!(!digests.is_empty() && digests.len() <= MAX_DIGESTS);
            if kind == StampBody::Binary {
                assert_eq!(digests.len() * 32, body.len());
            }
        }
        Err(e) => assert!(e.status().is_client_error(), "{e:?}"),
    }
});
