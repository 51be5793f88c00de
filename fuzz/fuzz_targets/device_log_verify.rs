//! Fuzz target: a device log's bytes (`specs/devicelog.md`) never panic the scanner, the entry
//! decoder or `verify_log`; every frame that decodes re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use tickchain_sdk::devicelog::{Entry, read_all, scan, vectors::device_key, verify_log};
use tickchain_sdk::signing::public_key;
use tickchain_sdk::testkit::TestNetwork;
use tickchain_sdk::vectors::VECTOR_GENESIS_SECOND;
use tickchain_sdk::{Network, PublicKey};

static NETWORK: LazyLock<Network> = LazyLock::new(|| {
    Network::new(TestNetwork::new("vectors-4", 4, 1, VECTOR_GENESIS_SECOND).genesis)
});
static DEVICE: LazyLock<PublicKey> = LazyLock::new(|| public_key(&device_key("a")));

fuzz_target!(|data: &[u8]| {
    // The streaming reader and the in-memory scan agree.
    match (scan(data), read_all(data)) {
        (Ok(s), Ok((frames, torn))) => {
            assert_eq!(s.torn_at, torn);
            assert_eq!(s.frames.len(), frames.len());
            for (a, b) in s.frames.iter().zip(&frames) {
                assert_eq!((a.offset, a.kind, a.body), (b.offset, b.kind, &b.body[..]));
            }
        }
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => panic!("scan {a:?} but the reader {b:?}"),
    }
    if let Ok(s) = scan(data) {
        for f in &s.frames {
            if let Ok(entry) = Entry::decode(f.kind, f.body) {
                let frame = entry.to_frame();
                assert_eq!(&frame[5..frame.len() - 8], f.body, "decode then encode is exact");
            }
        }
    }
    let _ = verify_log(data, &DEVICE, &NETWORK);
});
