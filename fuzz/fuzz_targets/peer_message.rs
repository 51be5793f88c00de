//! Fuzz target: decoding a peer's consensus message never panics, never allocates past the
//! codec's caps, and whatever decodes re-encodes to bytes that decode to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickchain_timenode::consensus::codec;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = codec::decode(data) {
        let again = codec::encode(&msg);
        assert_eq!(codec::decode(&again).expect("own encoding decodes"), msg);
    }
});
